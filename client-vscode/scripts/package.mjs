// Package the extension (vsce 3.9.2, the newest that runs on Node 20).
//
//   node scripts/package.mjs                      → taskdroid.vsix, universal: no server inside
//   node scripts/package.mjs --target linux-x64   → taskdroid-linux-x64.vsix, with the server
//
// A platform build first runs scripts/bundle-server.py, which installs this repository's taskdroid
// and its dependencies (binary wheels for that platform and CPython 3.11–3.14) into bundled/libs;
// the extension then runs them with the user's Python 3.11+ when no other server is configured
// (src/discovery.ts). `PYTHON` names the interpreter that runs pip (default python3).
import { spawnSync } from 'node:child_process';
import { rmSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const args = process.argv.slice(2);
const i = args.indexOf('--target');
const target = i >= 0 ? args[i + 1] : undefined;
if (i >= 0 && !target) {
  console.error('usage: node scripts/package.mjs [--target linux-x64|linux-arm64|darwin-x64|darwin-arm64|win32-x64|…]');
  process.exit(2);
}

function run(command, argv) {
  const r = spawnSync(command, argv, { cwd: root, stdio: 'inherit', shell: false });
  if (r.status !== 0) {
    console.error(`package: ${command} ${argv.join(' ')} failed`);
    process.exit(r.status ?? 1);
  }
}

const libs = join(root, 'bundled', 'libs');
rmSync(libs, { recursive: true, force: true });
if (target) {
  run(process.env.PYTHON ?? 'python3', [join('scripts', 'bundle-server.py'), '--target', target]);
}
const vsce = join(root, 'node_modules', '.bin', process.platform === 'win32' ? 'vsce.cmd' : 'vsce');
const out = target ? `taskdroid-${target}.vsix` : 'taskdroid.vsix';
run(vsce, ['package', '--no-dependencies', ...(target ? ['--target', target] : []), '--out', out]);
