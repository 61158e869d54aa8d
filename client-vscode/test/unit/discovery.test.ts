import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  Candidate,
  cliArgv,
  findOnPath,
  installCommand,
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
      ['setting', 'python', 'path'],
    );
    const msg = missingServerMessage(r);
    assert.match(msg, /taskdroid\.server\.command/);
    assert.match(msg, /pipx install taskdroid/);
    assert.match(msg, /\/venv\/bin\/python: taskdroid is not installed in it/);
    assert.match(msg, /no taskdroid on PATH/);
    assert.ok(msg.indexOf('setting') < msg.indexOf('/venv/bin/python'));
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

  it('copies an install command for the selected interpreter, else pipx', () => {
    assert.equal(installCommand('/venv/bin/python'), '/venv/bin/python -P -m pip install taskdroid');
    assert.equal(installCommand('/My venv/python'), `'/My venv/python' -P -m pip install taskdroid`);
    assert.equal(installCommand(), 'pipx install taskdroid');
  });

  it('derives other subcommands from the server command', () => {
    const py: Candidate = { source: 'python', command: '/p', args: ['-P', '-m', 'taskdroid', 'lsp'], origin: '' };
    assert.deepEqual(cliArgv(py, ['graph', '--format', 'mermaid']), { command: '/p', args: ['-P', '-m', 'taskdroid', 'graph', '--format', 'mermaid'] });
    const custom: Candidate = { source: 'setting', command: '/td', args: ['lsp', '--log-level', 'DEBUG'], origin: '' };
    assert.deepEqual(cliArgv(custom, ['graph']), { command: '/td', args: ['graph'] });
    assert.equal(cliArgv({ source: 'setting', command: '/wrapper', args: [], origin: '' }, ['graph']), undefined);
  });
});
