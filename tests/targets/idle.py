# Parks the main thread; works on Python 2.7 and 3.x (for the version tests).
import sys
import time
print("READY")
sys.stdout.flush()
time.sleep(3600)
