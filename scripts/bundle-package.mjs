#!/usr/bin/env node
// Bundles a publishable workspace package (@fuze/sdk, @fuze/cli) into one ES module:
// - the internal @fuze/* packages it uses are compiled in from their TypeScript sources;
// - a registry package named in its `devDependencies` is compiled in too (tree-shaken: the SDK
//   takes a few attribute names from @opentelemetry/semantic-conventions, not its 10 MB);
// - every other package stays an import, and must be one of its `dependencies`, with the same
//   version range as the workspace that imports it.
// An app that installs the tarball then finds every import in the registry: no @fuze/* package
// is ever looked up there.
//
//   node scripts/bundle-package.mjs <entry.ts> <out.js>      (run in the package's folder)
import { readFileSync } from 'node:fs';
import { builtinModules } from 'node:module';
import { dirname, join, relative, resolve } from 'node:path';
import { build } from 'esbuild';

const [entry, outfile] = process.argv.slice(2);
if (!entry || !outfile) {
  console.error('usage: node scripts/bundle-package.mjs <entry.ts> <out.js>');
  process.exit(2);
}
const manifest = JSON.parse(readFileSync('package.json', 'utf8'));
const declared = manifest.dependencies ?? {};
const compiledIn = manifest.devDependencies ?? {};
const builtins = new Set(builtinModules);

/** `@scope/name/sub` -> `@scope/name`; `name/sub` -> `name`. */
function packageName(specifier) {
  const parts = specifier.split('/');
  return specifier.startsWith('@') ? parts.slice(0, 2).join('/') : parts[0];
}

/** The range that the importing workspace package declares for `name`, if it declares one. */
function rangeDeclaredBy(importer, name) {
  for (let dir = dirname(importer); dir !== dirname(dir); dir = dirname(dir)) {
    try {
      const pkg = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8'));
      return { workspace: pkg.name, range: pkg.dependencies?.[name] ?? pkg.devDependencies?.[name] };
    } catch {}
  }
  return { workspace: undefined, range: undefined };
}

// Every bare import but @fuze/* stays an import; where it came from is kept for the report.
const importers = new Map();
const thirdPartyExternal = {
  name: 'third-party-external',
  setup(b) {
    b.onResolve({ filter: /^[^./]/ }, (args) => {
      const spec = args.path;
      if (spec.startsWith('node:') || builtins.has(spec)) return { path: spec, external: true };
      const name = packageName(spec);
      if (name.startsWith('@fuze/') || name in compiledIn) return undefined; // compiled in
      if (!importers.has(name)) importers.set(name, new Set());
      importers.get(name).add(args.importer);
      return { path: spec, external: true };
    });
  },
};

const result = await build({
  entryPoints: [entry],
  outfile,
  bundle: true,
  platform: 'node',
  format: 'esm',
  target: 'node20',
  conditions: ['@fuze/source'],
  sourcemap: true,
  metafile: true,
  logLevel: 'warning',
  plugins: [thirdPartyExternal],
});

// What the bundle still imports after tree-shaking is what an installing app must get from the registry.
const imported = new Set();
for (const out of Object.values(result.metafile.outputs))
  for (const i of out.imports)
    if (i.external && !i.path.startsWith('node:') && !builtins.has(i.path)) imported.add(packageName(i.path));
const problems = [];
for (const name of imported) {
  const from = [...(importers.get(name) ?? [])];
  if (!(name in declared)) {
    problems.push(
      `${name} (imported by ${from.map((f) => relative(process.cwd(), f)).join(', ')}) is not in its dependencies`,
    );
    continue;
  }
  for (const importer of from) {
    const { workspace, range } = rangeDeclaredBy(importer, name);
    if (range && range !== declared[name])
      problems.push(`${name}: ${workspace} declares ${range}, ${manifest.name} declares ${declared[name]}`);
  }
}
if (problems.length > 0) {
  console.error(`${manifest.name}: the bundle's imports do not match its package.json:`);
  for (const p of new Set(problems)) console.error(`  - ${p}`);
  process.exit(1);
}
const unused = Object.keys(declared).filter((d) => !imported.has(d));
if (unused.length > 0)
  console.warn(`${manifest.name}: declared but not imported by the bundle: ${unused.join(', ')}`);
console.log(
  `${manifest.name}: ${relative(process.cwd(), resolve(outfile))} imports ${[...imported].sort().join(', ')}`,
);
