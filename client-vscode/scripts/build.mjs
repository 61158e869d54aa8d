// Bundle the extension with esbuild (vscode-languageclient >= 10 is exports-only: bundling is the
// supported way) and copy the webview assets: dist/extension.js, dist/media/{graph.js,mermaid.min.js}.
// usage: node scripts/build.mjs [--production] [--watch]
import * as esbuild from 'esbuild';
import { copyFileSync, mkdirSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const production = process.argv.includes('--production');
const watch = process.argv.includes('--watch');
const require = createRequire(import.meta.url);

const media = join(root, 'dist', 'media');
mkdirSync(media, { recursive: true });
copyFileSync(join(root, 'media', 'graph.js'), join(media, 'graph.js'));
copyFileSync(require.resolve('mermaid/dist/mermaid.min.js', { paths: [root] }), join(media, 'mermaid.min.js'));

const options = {
  absWorkingDir: root,
  entryPoints: ['src/extension.ts'],
  bundle: true,
  outfile: 'dist/extension.js',
  external: ['vscode'],
  format: 'cjs',
  platform: 'node',
  target: 'node18',
  mainFields: ['module', 'main'],
  conditions: ['node'],
  minify: production,
  sourcemap: !production,
  sourcesContent: false,
  legalComments: production ? 'none' : 'inline',
  logLevel: 'info',
};

if (watch) {
  const ctx = await esbuild.context(options);
  await ctx.watch();
} else {
  await esbuild.build(options);
}
