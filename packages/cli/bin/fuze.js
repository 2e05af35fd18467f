#!/usr/bin/env node
// The `fuze` command. A committed file, not a build output, so that npm links it at install time
// (before any build) and its execute bit never depends on a build cache.
try {
  await import('../dist/bin.js');
} catch (error) {
  if (error?.code === 'ERR_MODULE_NOT_FOUND' && String(error.message).includes('dist/bin.js')) {
    console.error(
      'fuze: the binary is not built yet. Run `npm run build` in the Fuze repository, then try again.',
    );
    process.exit(1);
  }
  throw error;
}
