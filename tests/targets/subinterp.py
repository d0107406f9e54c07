"""A thread running code inside a subinterpreter, parked in time.sleep, for
the multi-interpreter dump test. Runs on 3.8-3.15 (the private modules)."""
import threading
import time

try:
    import _interpreters as interpreters  # 3.13+
except ImportError:
    import _xxsubinterpreters as interpreters  # 3.8-3.12

SUB_CODE = "import time\ndef in_sub():\n    time.sleep(3600)\nin_sub()\n"

iid = interpreters.create()
threading.Thread(target=interpreters.run_string, args=(iid, SUB_CODE), daemon=True).start()
time.sleep(0.5)
print("READY", flush=True)
time.sleep(3600)
