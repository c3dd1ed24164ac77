#!/usr/bin/env node
// dist/main.js: oclif's execute from the bundled CLI (scripts/bundle.ts, part of `npm run build`).
import {execute} from '../dist/main.js'

await execute({dir: import.meta.url})
