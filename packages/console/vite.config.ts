import { defineConfig } from 'vite';

// Served by the admin service under /console/; every asset is in the bundle (no CDN: the console
// works on a machine without internet).
export default defineConfig({
  base: '/console/',
  build: { outDir: 'dist', emptyOutDir: true, target: 'es2022', sourcemap: false },
});
