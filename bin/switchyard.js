#!/usr/bin/env node
// `npx switchyard …`: runs the compiled operator CLI (`npm run build` makes dist/).
// eslint-disable-next-line @typescript-eslint/no-require-imports -- a CommonJS bin shim over the compiled CLI
const { runCli } = require('../dist/cli/switchyard.js');
runCli(process.argv.slice(2)).then((code) => {
  process.exitCode = code;
});
