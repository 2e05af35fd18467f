// `npm run bench -- <name> [<name>...]`: runs the named benchmarks (all when none is given).
// Each benchmark prints its figures next to a baseline measured in the same run.
const benches: Record<string, () => Promise<{ run(args: string[]): Promise<void> }>> = {
  ingest: () => import('./ingest.js'),
  rules: () => import('./rules.js'),
  timers: () => import('./timers.js'),
  'timer-puts': () => import('./timer-puts.js'),
  tail: () => import('./tail.js'),
  archive: () => import('./archive.js'),
  e2e: () => import('./e2e.js'),
  tracing: () => import('./tracing.js'),
  replacements: () => import('./replacements.js'),
  leases: () => import('./leases.js'),
  'state-store': () => import('./state-store.js'),
  processors: () => import('./processors.js'),
  console: () => import('./console.js'),
};

const [, , ...argv] = process.argv;
const names = argv.filter((a) => !a.startsWith('-'));
const selected = names.length > 0 ? names : Object.keys(benches);
for (const name of selected) {
  const load = benches[name];
  if (!load) {
    console.error(`unknown benchmark "${name}"; available: ${Object.keys(benches).join(', ')}`);
    process.exit(2);
  }
  console.log(`\n=== bench ${name} ===`);
  const bench = await load();
  await bench.run(argv.filter((a) => a.startsWith('-')));
}
process.exit(0);
