#!/usr/bin/env node
import {execute} from '@oclif/core'

await execute({dir: import.meta.url})
// The command is over: a request still open to a server that never answered (abandoned when
// --timeout ended the command) must not keep the process alive until its own deadline.
process.exit()
