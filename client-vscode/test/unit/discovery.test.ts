import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  Candidate,
  bundleTargetProblem,
  cliArgv,
  findOnPath,
  isInside,
  missingServerMessage,
  resolveServer,
  serverCandidates,
  settingArgv,
  splitArgv,
} from '../../src/discovery';

const ok = () => Promise.resolve({ ok: true });

describe('server discovery order', () => {
  it('tries the setting, then the Python interpreter, then PATH', () => {
    const c = serverCandidates({
      settingCommand: ['/opt/td/bin/taskdroid', 'lsp', '--log-level', 'DEBUG'],
      pythonPath: '/venv/bin/python',
      pathTaskdroid: '/usr/local/bin/taskdroid',
    });
    assert.deepEqual(
      c.map((x) => [x.source, x.command, x.args]),
      [
        ['setting', '/opt/td/bin/taskdroid', ['lsp', '--log-level', 'DEBUG']],
        ['python', '/venv/bin/python', ['-P', '-m', 'taskdroid', 'lsp']],
        ['path', '/usr/local/bin/taskdroid', ['lsp']],
      ],
    );
  });

  it('never adds --stdio (no transport: the server speaks stdio by default)', () => {
    for (const c of serverCandidates({ pythonPath: '/p/python', pathTaskdroid: '/b/taskdroid', settingCommand: undefined })) {
      assert.ok(!c.args.includes('--stdio'));
    }
  });

  it('the setting wins when it works', async () => {
    const r = await resolveServer({ settingCommand: ['td', 'lsp'], pythonPath: '/p', pathTaskdroid: '/b/taskdroid' }, ok);
    assert.equal(r.chosen?.source, 'setting');
  });

  it('falls through to the interpreter, then PATH, when a probe fails', async () => {
    const probe = (c: Candidate) => Promise.resolve(c.source === 'path' ? { ok: true } : { ok: false, reason: `${c.source} broken` });
    const r = await resolveServer({ settingCommand: ['td', 'lsp'], pythonPath: '/p', pathTaskdroid: '/b/taskdroid' }, probe);
    assert.equal(r.chosen?.source, 'path');
    assert.deepEqual(
      r.failures.map((f) => [f.source, f.reason]),
      [
        ['setting', 'setting broken'],
        ['python', 'python broken'],
      ],
    );
  });

  it('an unset setting and no Python extension go straight to PATH', async () => {
    const seen: string[] = [];
    const r = await resolveServer(
      { settingCommand: [], pythonMissingReason: 'the Python extension (ms-python.python) is not installed', pathTaskdroid: '/b/taskdroid' },
      (c) => {
        seen.push(c.source);
        return ok();
      },
    );
    assert.deepEqual(seen, ['path']);
    assert.equal(r.chosen?.command, '/b/taskdroid');
  });

  it('a probe that throws counts as a failure, not a crash', async () => {
    const r = await resolveServer({ settingCommand: undefined, pythonPath: '/p' }, () => Promise.reject(new Error('boom')));
    assert.equal(r.chosen, undefined);
    assert.ok(r.failures.some((f) => f.reason === 'boom'));
  });

  it('when nothing works, one message says what is missing, in order', async () => {
    const r = await resolveServer(
      { settingCommand: undefined, pythonPath: '/venv/bin/python' },
      () => Promise.resolve({ ok: false, reason: 'taskdroid is not installed in it' }),
    );
    assert.equal(r.chosen, undefined);
    assert.deepEqual(
      r.failures.map((f) => f.source),
      ['setting', 'python', 'path', 'bundled'],
    );
    const msg = missingServerMessage(r);
    assert.match(msg, /taskdroid\.server\.command/);
    // never an install command that cannot work: taskdroid is not on PyPI
    assert.doesNotMatch(msg, /pip(x)? install taskdroid/);
    assert.match(msg, /pipx install \.\/taskdroid/);
    assert.match(msg, /not on PyPI/);
    assert.match(msg, /bundled server: this build of the extension carries no server/);
    assert.match(msg, /\/venv\/bin\/python: taskdroid is not installed in it/);
    assert.match(msg, /no taskdroid on PATH/);
    assert.ok(msg.indexOf('setting') < msg.indexOf('/venv/bin/python'));
  });
});

describe('the bundled server (platform builds)', () => {
  const tool = '/ext/bundled/tool/taskdroid_bundled.py';

  it('comes last, once per interpreter, with -P and the tool script', () => {
    const c = serverCandidates({
      settingCommand: undefined,
      pythonPath: '/venv/bin/python',
      pathTaskdroid: '/usr/local/bin/taskdroid',
      bundled: { tool, interpreters: ['/venv/bin/python', '/usr/bin/python3', '/venv/bin/python'] },
    });
    assert.deepEqual(
      c.map((x) => [x.source, x.command, x.args]),
      [
        ['python', '/venv/bin/python', ['-P', '-m', 'taskdroid', 'lsp']],
        ['path', '/usr/local/bin/taskdroid', ['lsp']],
        ['bundled', '/venv/bin/python', ['-P', tool, 'lsp']],
        ['bundled', '/usr/bin/python3', ['-P', tool, 'lsp']],
      ],
    );
  });

  it('is used when nothing is configured or installed', async () => {
    const seen: string[] = [];
    const r = await resolveServer(
      {
        settingCommand: undefined,
        pythonMissingReason: 'the Python extension (ms-python.python) is not installed',
        bundled: { tool, interpreters: ['/usr/bin/python3'] },
      },
      (c) => {
        seen.push(c.source);
        return ok();
      },
    );
    assert.deepEqual(seen, ['bundled']);
    assert.equal(r.chosen?.source, 'bundled');
    assert.deepEqual(r.chosen.args, ['-P', tool, 'lsp']);
  });

  it('an installed taskdroid overrides it', async () => {
    const r = await resolveServer(
      { settingCommand: undefined, pathTaskdroid: '/b/taskdroid', bundled: { tool, interpreters: ['/usr/bin/python3'] } },
      ok,
    );
    assert.equal(r.chosen?.source, 'path');
  });

  it('tries the next interpreter when one cannot load it', async () => {
    const r = await resolveServer(
      { settingCommand: undefined, bundled: { tool, interpreters: ['/usr/bin/python3.10', '/usr/bin/python3'] } },
      (c) => Promise.resolve(c.command === '/usr/bin/python3' ? { ok: true } : { ok: false, reason: 'too old' }),
    );
    assert.equal(r.chosen?.command, '/usr/bin/python3');
    assert.ok(r.failures.some((f) => f.source === 'bundled' && f.reason === 'too old'));
  });

  it('says so when there is no interpreter for it', async () => {
    const r = await resolveServer({ settingCommand: undefined, bundled: { tool, interpreters: [] } }, ok);
    assert.equal(r.chosen, undefined);
    assert.match(missingServerMessage(r), /bundled server: no Python 3\.11 or newer/);
  });
});

describe('the server.command setting', () => {
  it('takes an argv list or a shell-like string, ignores empty values', () => {
    assert.deepEqual(settingArgv(['a', 'b c']), ['a', 'b c']);
    assert.deepEqual(settingArgv('"/My Tools/taskdroid" lsp'), ['/My Tools/taskdroid', 'lsp']);
    assert.equal(settingArgv([]), undefined);
    assert.equal(settingArgv(''), undefined);
    assert.equal(settingArgv(null), undefined);
    assert.equal(settingArgv([1, 2]), undefined);
    assert.equal(settingArgv(['']), undefined);
  });

  it('splits like a shell, without running one', () => {
    assert.deepEqual(splitArgv(`a 'b c' "d \\"e\\"" f\\ g $(rm) ;`), ['a', 'b c', 'd "e"', 'f g', '$(rm)', ';']);
    assert.deepEqual(splitArgv('  '), []);
    assert.deepEqual(splitArgv(`''`), ['']);
  });
});

describe('helpers', () => {
  it('finds a program on PATH, then in the extra folders', () => {
    const exists = new Set(['/home/u/.local/bin/taskdroid', '/usr/bin/taskdroid']);
    const isExe = (f: string) => exists.has(f);
    assert.equal(findOnPath('taskdroid', '/bin:/usr/bin', isExe, { platform: 'linux' }), '/usr/bin/taskdroid');
    assert.equal(findOnPath('taskdroid', '/bin', isExe, { platform: 'linux', extraDirs: ['/home/u/.local/bin'] }), '/home/u/.local/bin/taskdroid');
    assert.equal(findOnPath('taskdroid', undefined, isExe, { platform: 'linux' }), undefined);
  });

  it('ignores relative PATH entries (they would depend on the current directory)', () => {
    const seen: string[] = [];
    const isExe = (f: string) => {
      seen.push(f);
      return f === 'bin/taskdroid' || f === '/usr/bin/taskdroid';
    };
    assert.equal(findOnPath('taskdroid', 'bin:.:/usr/bin', isExe, { platform: 'linux' }), '/usr/bin/taskdroid');
    assert.deepEqual(seen, ['/usr/bin/taskdroid']);
  });

  it('knows an interpreter inside the workspace', () => {
    assert.ok(isInside('/ws/.venv/bin/python', ['/other', '/ws']));
    assert.ok(!isInside('/ws2/.venv/bin/python', ['/ws']));
    assert.ok(!isInside('/usr/bin/python3', ['/ws']));
  });

  it('knows which platform a bundle runs on', () => {
    assert.equal(bundleTargetProblem('linux-x64', 'linux', 'x64'), undefined);
    assert.equal(bundleTargetProblem('alpine-x64', 'linux', 'x64'), undefined);
    assert.equal(bundleTargetProblem('darwin-arm64', 'darwin', 'arm64'), undefined);
    assert.equal(bundleTargetProblem('win32-x64', 'win32', 'x64'), undefined);
    assert.match(bundleTargetProblem('linux-x64', 'linux', 'arm64') ?? '', /built for linux-x64, this is linux-arm64/);
    assert.match(bundleTargetProblem('linux-x64', 'darwin', 'x64') ?? '', /built for linux-x64/);
    assert.match(bundleTargetProblem(undefined, 'linux', 'x64') ?? '', /no target/);
  });

  it('derives other subcommands from the server command', () => {
    const py: Candidate = { source: 'python', command: '/p', args: ['-P', '-m', 'taskdroid', 'lsp'], origin: '' };
    assert.deepEqual(cliArgv(py, ['graph', '--format', 'mermaid']), { command: '/p', args: ['-P', '-m', 'taskdroid', 'graph', '--format', 'mermaid'] });
    const custom: Candidate = { source: 'setting', command: '/td', args: ['lsp', '--log-level', 'DEBUG'], origin: '' };
    assert.deepEqual(cliArgv(custom, ['graph']), { command: '/td', args: ['graph'] });
    assert.equal(cliArgv({ source: 'setting', command: '/wrapper', args: [], origin: '' }, ['graph']), undefined);
  });
});
