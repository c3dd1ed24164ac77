/**
 * Bundles the compiled CLI for start-up time (see docs/benchmarks.md): after `tsc`, each
 * command entry (dist/commands/<topic>/<name>.js, where package.json `oclif.commands` and the
 * manifest point) and bin/run.js's entry (dist/main.js, oclif's `execute`) are replaced by
 * bundled files that share chunks in dist/chunks/ (@oclif/core, yaml, the project's modules).
 * A command then reads a handful of files instead of hundreds and compiles only what it can
 * run; paths stay as `tsc` laid them out, so oclif.manifest.json and bin/dev.js (which maps
 * dist/commands to src/commands) are unchanged. What the code loads at the point of use
 * (`await import(...)`: execa, inquirer) becomes chunks of its own, read only when used; the
 * Kubernetes client library stays in node_modules (only exec into pods and credential plugins
 * load it). The other files of dist/ stay (tests import some) but the CLI no longer reads them.
 *
 * Part of `npm run build`, between `tsc` and `oclif manifest`:
 *   tsx scripts/bundle.ts [--dist DIR]     (default: the repository's dist/)
 */
import {readdirSync, rmSync, statSync} from 'node:fs'
import {join, relative, resolve} from 'node:path'
import {fileURLToPath} from 'node:url'
import {build, type Plugin} from 'esbuild'

const ROOT = fileURLToPath(new URL('..', import.meta.url))
const distIndex = process.argv.indexOf('--dist')
const DIST = distIndex > 0 ? resolve(process.argv[distIndex + 1]) : join(ROOT, 'dist')

/** Loaded by the code at the point of use and big (~0.6 s): read from node_modules then. */
const EXTERNAL = ['@kubernetes/client-node']
/** oclif reads tsconfig.json with typescript only in development (NODE_ENV=development|test), inside a try. */
const DEVELOPMENT = ['typescript']

/**
 * Parts of @oclif/core that consulk8s's configuration never reaches, left out of the bundle
 * (~10 ms of start-up each): `semver` serves only oclif's check of its own `engines`, which
 * reads oclif's package.json through __dirname and so is skipped in a bundle anyway;
 * `minimatch` matches wildcard plugin names (consulk8s has no plugins). Calling one throws,
 * so an oclif that starts using them fails loudly instead of quietly.
 */
const UNUSED_BY_OCLIF = ['semver', 'minimatch']
/**
 * Parts of @oclif/core needed only on some paths, evaluated when first used instead of when
 * oclif loads: `tinyglobby` scans the commands directory, which happens only without
 * oclif.manifest.json.
 */
const DEFERRED_BY_OCLIF = ['tinyglobby']
const oclifParts: Plugin = {
  name: 'oclif-parts',
  setup(build) {
    const fromOclif = (names: string[], namespace: string) =>
      build.onResolve({filter: new RegExp(`^(${names.join('|')})$`)}, (args) =>
        args.importer.includes('@oclif/core') ? {path: args.path, namespace} : undefined,
      )
    fromOclif(UNUSED_BY_OCLIF, 'unused')
    fromOclif(DEFERRED_BY_OCLIF, 'deferred')
    build.onLoad({filter: /.*/, namespace: 'unused'}, (args) => ({
      contents: [
        `const unused = () => { throw new Error(${JSON.stringify(`${args.path} is left out of the consulk8s bundle (scripts/bundle.ts)`)}) }`,
        `module.exports = new Proxy({}, {get: (target, key) => (key === '__esModule' ? undefined : unused)})`,
      ].join('\n'),
      loader: 'js',
    }))
    // The real module (resolved normally: its importer is this stand-in, not oclif) on first property access.
    build.onLoad({filter: /.*/, namespace: 'deferred'}, (args) => ({
      contents: `let real\nmodule.exports = new Proxy({}, {get: (target, key) => (real ??= require(${JSON.stringify(args.path)}))[key]})\n`,
      loader: 'js',
      resolveDir: ROOT,
    }))
  },
}

function commandFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((entry) => {
    const path = join(dir, entry)
    if (statSync(path).isDirectory()) return commandFiles(path)
    return entry.endsWith('.js') ? [path] : []
  })
}

const entries = [join(DIST, 'main.js'), ...commandFiles(join(DIST, 'commands'))]
rmSync(join(DIST, 'chunks'), {recursive: true, force: true})
await build({
  entryPoints: entries.map((file) => ({in: file, out: relative(DIST, file).replace(/\.js$/, '')})),
  outdir: DIST,
  allowOverwrite: true,
  bundle: true,
  splitting: true,
  format: 'esm',
  platform: 'node',
  target: 'node20',
  chunkNames: 'chunks/[name]-[hash]',
  external: [...EXTERNAL, ...DEVELOPMENT],
  plugins: [oclifParts],
  // oclif and its dependencies are CommonJS and require node's built-in modules.
  banner: {js: `import {createRequire as __consulk8sCreateRequire} from 'node:module'; const require = __consulk8sCreateRequire(import.meta.url);`},
  minifyWhitespace: true,
  legalComments: 'none',
  logLevel: 'warning',
})
// tsc's source maps describe the files replaced.
for (const file of entries) rmSync(`${file}.map`, {force: true})
console.log(`bundled dist/main.js and ${entries.length - 1} commands (shared code in dist/chunks)`)
