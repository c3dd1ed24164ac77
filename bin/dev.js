#!/usr/bin/env -S node --import tsx
// Runs the TypeScript sources directly (no build step), for development.
import {execute} from '@oclif/core'

await execute({development: true, dir: import.meta.url})
// As bin/run.js: abandoned requests do not keep the process alive once the output is written.
process.stdout.write('', () => process.stderr.write('', () => process.exit()))
