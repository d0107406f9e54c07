// run_wasi.js - runs a WASI program (tools/gen_layouts.sh's wasm32 layout
// probe) under node:wasi: no arguments, no environment, no files. Used
// only to generate layouts; never at frametap run time.
const { WASI } = require('node:wasi');
const fs = require('fs');
const wasi = new WASI({ version: 'preview1', args: [], env: {}, returnOnExit: true });
(async () => {
    const module = await WebAssembly.compile(fs.readFileSync(process.argv[2]));
    const instance = await WebAssembly.instantiate(module, wasi.getImportObject());
    process.exitCode = wasi.start(instance);
})();
