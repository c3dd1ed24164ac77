#!/usr/bin/env node
// dist/main.js: oclif's execute from the bundled CLI (scripts/bundle.ts, part of `npm run build`).
import {execute} from '../dist/main.js'

await execute({dir: import.meta.url})
// The command is over: a request still open to a server that never answered (abandoned when
// --timeout ended the command) must not keep the process alive until its own deadline. Exit
// once stdout and stderr have been handed everything written to them.
process.stdout.write('', () => process.stderr.write('', () => process.exit()))
