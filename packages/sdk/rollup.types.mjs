// The SDK's type declarations in one file: the types it uses from internal @fuze/* packages are
// written in (those packages are compiled into the bundle, not installed), while types from its
// registry dependencies (nats.js, @opentelemetry/api) stay imports.
import { dts } from 'rollup-plugin-dts';

export default {
  input: 'dist/types/index.d.ts',
  output: { file: 'dist/index.d.ts', format: 'es' },
  external: (id) => !id.startsWith('@fuze/') && !id.startsWith('.') && !id.startsWith('/'),
  plugins: [dts({ respectExternal: true, tsconfig: 'tsconfig.build.json' })],
};
