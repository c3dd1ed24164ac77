// Writes docs/commands.md from oclif.manifest.json (run `npm run build` first).
import {readFileSync, writeFileSync} from 'node:fs'

import {renderCommandDocs, type Manifest} from './command-docs.js'

const manifest = JSON.parse(readFileSync(new URL('../oclif.manifest.json', import.meta.url), 'utf8')) as Manifest
writeFileSync(new URL('../docs/commands.md', import.meta.url), renderCommandDocs(manifest))
console.log('wrote docs/commands.md')
