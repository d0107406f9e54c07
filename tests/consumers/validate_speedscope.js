// validate_speedscope.js FILE... - validates speedscope files against the
// schema that the speedscope package itself ships. Exit 1 on any error.
'use strict';
const fs = require('fs');
const Ajv = require('ajv');
const schema = JSON.parse(fs.readFileSync(
  require.resolve('speedscope/dist/release/file-format-schema.json'), 'utf8'));
const ajv = new Ajv({ strict: false, allErrors: true });
const validate = ajv.compile(schema);
let failed = 0;
for (const file of process.argv.slice(2)) {
  const data = JSON.parse(fs.readFileSync(file, 'utf8'));
  if (validate(data)) {
    console.log(`${file}: valid`);
  } else {
    failed++;
    console.log(`${file}: INVALID ${JSON.stringify(validate.errors.slice(0, 5))}`);
  }
}
process.exit(failed ? 1 : 0);
