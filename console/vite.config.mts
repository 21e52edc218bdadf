// The operator console: plain TypeScript + DOM, built by `scripts/setup.sh` (`npx vite build console`)
// into dist/console/, which the API serves at /console.
import { defineConfig } from 'vite';

export default defineConfig({
  base: '/console/',
  build: { outDir: '../dist/console', emptyOutDir: true, sourcemap: true },
});
