// run_pyodide.js PYODIDE_DIR PROGRAM.py [WORKERS]
//
// Runs PROGRAM.py's main() in pyodide (CPython compiled to wasm) inside
// this node process: in the main thread, or with WORKERS > 0 in that many
// worker_threads, one pyodide each (several linear memories in one PID).
// Python's output goes to our stdout; "READY" lines come from the program.
// The program may call js.block_forever() to park in a known spot.
const { Worker, isMainThread, workerData, parentPort } = require('worker_threads');
const path = require('path');
const fs = require('fs');

async function run(dir, prog, index, say) {
  const { loadPyodide } = require(path.join(dir, 'pyodide.js'));
  globalThis.block_forever = () => {
    Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0);
  };
  const py = await loadPyodide({ indexURL: dir + '/', stdout: say, stderr: say });
  py.FS.mkdirTree('/home/pyodide');
  // the program and the other programs beside it (it may import them)
  for (const f of fs.readdirSync(path.dirname(prog)).filter((f) => f.endsWith('.py')))
    py.FS.writeFile('/home/pyodide/' + f, fs.readFileSync(path.join(path.dirname(prog), f), 'utf8'));
  py.globals.set('WORKER', index);
  const mod = path.basename(prog, '.py');
  py.runPython("import sys; sys.path.insert(0, '/home/pyodide'); import " + mod + " as m; m.main()");
}

if (isMainThread) {
  const [dir, prog, workers] = process.argv.slice(2);
  const n = parseInt(workers || '0', 10);
  if (n === 0) {
    run(dir, prog, 0, (s) => process.stdout.write(s + '\n'));
  } else {
    for (let i = 0; i < n; i++) {
      const w = new Worker(__filename, { workerData: { dir, prog, index: i } });
      w.on('message', (s) => process.stdout.write(s + '\n'));
      w.on('error', (e) => { process.stderr.write(String(e) + '\n'); process.exit(1); });
    }
  }
} else {
  const { dir, prog, index } = workerData;
  run(dir, prog, index, (s) => parentPort.postMessage(s));
}
