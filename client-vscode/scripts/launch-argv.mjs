// Print, as JSON, exactly how the extension would start each process (src/discovery.ts and
// src/launch.ts, bundled on the fly): the server, the dependency graph and the interpreter probe
// for every server candidate. tests/security/test_launch_isolation.py spawns what this prints
// against a booby-trapped workspace, so the argv and cwd tested are the extension's own.
// usage: node scripts/launch-argv.mjs '{"extensionPath": …, "folders": […], "root": …,
//          "pythonPath": …, "pathTaskdroid": …, "settingCommand": […]}'
import * as esbuild from 'esbuild';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const input = JSON.parse(process.argv[2] ?? '{}');

const out = await esbuild.build({
  absWorkingDir: root,
  stdin: { contents: "export * from './src/discovery';\nexport * from './src/launch';\n", resolveDir: root, loader: 'ts' },
  bundle: true,
  format: 'cjs',
  platform: 'node',
  write: false,
  logLevel: 'silent',
});
const dir = mkdtempSync(join(tmpdir(), 'taskdroid-launch-'));
let mod;
try {
  const file = join(dir, 'launch.cjs');
  writeFileSync(file, out.outputFiles[0].text);
  mod = createRequire(import.meta.url)(file);
} finally {
  rmSync(dir, { recursive: true, force: true });
}

const cwd = mod.launchCwd([input.extensionPath], input.folders ?? []);
const result = { cwd, candidates: [] };
for (const candidate of mod.serverCandidates(input)) {
  result.candidates.push({
    source: candidate.source,
    server: mod.serverLaunch(candidate, cwd, {}),
    graph: mod.graphLaunch(candidate, input.root, cwd) ?? null,
    probe: mod.probeLaunch(candidate, cwd) ?? null,
  });
}
process.stdout.write(JSON.stringify(result, null, 2) + '\n');
