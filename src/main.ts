// bin/run.js's entry: oclif's `execute` from the bundle (dist/cli/main.js, scripts/bundle.ts),
// so the commands and oclif share one copy of @oclif/core.
export {execute} from '@oclif/core'
