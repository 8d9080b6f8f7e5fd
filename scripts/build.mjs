#!/usr/bin/env node
// Builds everything: TypeScript to build/ (server, CLI, tests), then the browser page to build/web/ (one ES
// module bundled by esbuild, and index.html). `npm run build`, `npm start` and `npm test` run it.
import { spawnSync } from 'node:child_process';
import { copyFileSync, mkdirSync } from 'node:fs';
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);
const tsc = spawnSync(process.execPath, [require.resolve('typescript/bin/tsc'), '-p', 'tsconfig.json'], { stdio: 'inherit' });
if (tsc.status !== 0) process.exit(tsc.status ?? 1);

const esbuild = await import('esbuild');
mkdirSync('build/web', { recursive: true });
await esbuild.build({
  entryPoints: ['client/web/main.ts'],
  outfile: 'build/web/app.js',
  bundle: true,
  format: 'esm',
  platform: 'browser',
  target: ['chrome110', 'firefox115'],
  sourcemap: true,
  minify: true,
  logLevel: 'warning',
});
copyFileSync('client/web/index.html', 'build/web/index.html');
