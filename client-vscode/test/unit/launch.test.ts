import assert from 'node:assert/strict';
import * as path from 'node:path';
import { describe, it } from 'node:test';
import { Candidate, serverCandidates } from '../../src/discovery';
import { graphLaunch, launchCwd, probeFailure, probeLaunch, serverLaunch, settingCommandProblem } from '../../src/launch';

// tests/security/test_launch_isolation.py spawns these launches against a booby-trapped workspace;
// here: their shape.

const candidates = serverCandidates({
  settingCommand: ['/usr/bin/python3', '-m', 'taskdroid', 'lsp'],
  pythonPath: '/venv/bin/python',
  pathTaskdroid: '/home/u/.local/bin/taskdroid',
  bundled: { tool: '/ext/bundled/tool/taskdroid_bundled.py', interpreters: ['/usr/bin/python3'] },
});
const byName = (source: string): Candidate => {
  const c = candidates.find((x) => x.source === source);
  assert.ok(c);
  return c;
};
const EXT = '/home/u/.vscode/extensions/taskdroid.taskdroid-0.1.0';

describe('launching processes outside the workspace', () => {
  it('runs from the extension folder, never from a workspace folder', () => {
    assert.equal(launchCwd([EXT], ['/srv/repo', '/srv/other']), EXT);
    // the home folder opened as a workspace contains the extension: the file-system root instead
    assert.equal(launchCwd([EXT], ['/home/u']), path.parse(EXT).root);
    assert.equal(launchCwd([EXT], [EXT]), path.parse(EXT).root);
  });

  it('starts the interpreter with -P before -m, and the server from the launch folder', () => {
    const launch = serverLaunch(byName('python'), '/ext', { PATH: '/bin' });
    assert.deepEqual(launch.args, ['-P', '-m', 'taskdroid', 'lsp']);
    assert.equal(launch.options.cwd, '/ext');
    const env = launch.options.env ?? {};
    assert.equal(env.PATH, '/bin');
    assert.equal(env.PYTHONUNBUFFERED, '1');
    // -P, not -I: PYTHONPATH and user site-packages (pip install --user) keep working
    assert.ok(!launch.args.includes('-I') && !launch.args.includes('-E') && !launch.args.includes('-s'));
  });

  it('runs every candidate from the launch folder (the setting as written)', () => {
    for (const c of candidates) {
      assert.equal(serverLaunch(c, '/ext', {}).options.cwd, '/ext');
    }
    assert.deepEqual(serverLaunch(byName('setting'), '/ext', {}).args, ['-m', 'taskdroid', 'lsp']);
  });

  it('draws the graph with the folder as --root and path, not as current directory', () => {
    const py = graphLaunch(byName('python'), '/srv/repo', '/ext');
    assert.deepEqual(py, {
      command: '/venv/bin/python',
      args: ['-P', '-m', 'taskdroid', 'graph', '--format', 'mermaid', '--root', '/srv/repo', '/srv/repo'],
      options: { cwd: '/ext' },
    });
    assert.deepEqual(graphLaunch(byName('path'), '/srv/repo', '/ext')?.args, ['graph', '--format', 'mermaid', '--root', '/srv/repo', '/srv/repo']);
    assert.equal(graphLaunch({ source: 'setting', command: '/wrapper', args: [], origin: '' }, '/r', '/ext'), undefined);
  });

  it('probes the interpreter with -P from the launch folder', () => {
    assert.deepEqual(probeLaunch(byName('python'), '/ext'), {
      command: '/venv/bin/python',
      args: ['-P', '-c', 'import taskdroid.cli'],
      options: { cwd: '/ext' },
    });
    assert.deepEqual(probeLaunch(byName('path'), '/ext'), { command: '/home/u/.local/bin/taskdroid', args: ['--version'], options: { cwd: '/ext' } });
    assert.equal(probeLaunch(byName('setting'), '/ext'), undefined);
  });

  it('runs the bundled server with -P, its tool script and the launch folder', () => {
    const b = byName('bundled');
    assert.deepEqual(serverLaunch(b, '/ext', {}).args, ['-P', '/ext/bundled/tool/taskdroid_bundled.py', 'lsp']);
    assert.deepEqual(probeLaunch(b, '/ext'), {
      command: '/usr/bin/python3',
      args: ['-P', '/ext/bundled/tool/taskdroid_bundled.py', '--check-bundle'],
      options: { cwd: '/ext' },
    });
    assert.deepEqual(graphLaunch(b, '/srv/repo', '/ext')?.args, [
      '-P',
      '/ext/bundled/tool/taskdroid_bundled.py',
      'graph',
      '--format',
      'mermaid',
      '--root',
      '/srv/repo',
      '/srv/repo',
    ]);
    assert.match(probeFailure(b, 'Unknown option: -P\nusage: …\n'), /older than Python 3\.11/);
    assert.equal(
      probeFailure(b, 'the bundled server does not run on Python 3.15 (linux): No module named x\n'),
      'the bundled server does not run on Python 3.15 (linux): No module named x',
    );
  });

  it('says why a probe failed: too old for -P, not installed, else the last line', () => {
    const py = byName('python');
    const old = "Unknown option: -P\nusage: /usr/bin/python3.10 [option] ... [-c cmd | -m mod | file | -] [arg] ...\nTry `python -h' for more information.\n";
    assert.match(probeFailure(py, old), /older than Python 3\.11 .*-P.*needs Python 3\.11 or newer/);
    assert.equal(probeFailure(py, "Traceback …\nModuleNotFoundError: No module named 'taskdroid'\n"), 'taskdroid is not installed in it');
    assert.equal(probeFailure(py, 'boom\nImportError: bad\n'), 'ImportError: bad');
    assert.equal(probeFailure(byName('path'), ''), 'failed');
  });

  it('refuses a relative program path in the setting (it would depend on the current directory)', () => {
    assert.match(settingCommandProblem('.venv/bin/taskdroid') ?? '', /relative path/);
    assert.match(settingCommandProblem('bin\\taskdroid') ?? '', /relative path/);
    assert.equal(settingCommandProblem('/opt/td/bin/taskdroid'), undefined);
    assert.equal(settingCommandProblem('taskdroid'), undefined);
  });
});
