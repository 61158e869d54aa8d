/**
 * How every process the extension starts is started (pure: no `vscode`, no spawning).
 *
 * A repository never runs its own code through us: Python puts the current directory (with `-m`
 * and `-c`) first on `sys.path`, so a `taskdroid/` or `yaml.py` committed at a workspace root would
 * be imported instead of the installed package. Therefore every launch
 *   * runs Python with `-P` (safe_path, 3.11+: no current directory or script folder on
 *     `sys.path`; unlike `-I` it keeps `PYTHONPATH` and user site-packages, so `pip install --user`
 *     still works), and
 *   * uses a current directory outside every workspace folder (the extension's own folder), so
 *     neither a user's `-m` command in `taskdroid.server.command` nor a relative `PYTHONPATH` entry
 *     reaches the workspace. The server finds its folders from `initialize`, the graph gets
 *     `--root` and the folder as arguments: neither needs the workspace as current directory.
 *
 * The same functions serve the extension and `scripts/launch-argv.mjs`, which prints them as JSON
 * for tests/security/test_launch_isolation.py (it spawns them against a booby-trapped workspace).
 */
import * as path from 'path';
import { Candidate, SAFE_PATH_FLAG, cliArgv, isInside } from './discovery';

/** The interpreter probe: can the installed taskdroid be imported? */
export const PROBE_SCRIPT = 'import taskdroid.cli';
/** The bundled server's probe (bundled/tool/taskdroid_bundled.py): can this Python load the bundle? */
export const BUNDLE_PROBE_ARG = '--check-bundle';
export const MIN_PYTHON = '3.11';

export interface Launch {
  command: string;
  args: string[];
  options: { cwd: string; env?: Record<string, string | undefined> };
}

/**
 * The current directory for every process we start: the first of `preferred` (the extension's
 * folder) outside every workspace folder, else the file-system root of the first one (a workspace
 * that contains the extension, e.g. the home folder opened as a workspace).
 */
export function launchCwd(preferred: readonly string[], workspaceFolders: readonly string[]): string {
  for (const dir of preferred) {
    if (dir !== '' && !isInside(dir, workspaceFolders)) {
      return path.resolve(dir);
    }
  }
  const first = preferred.find((d) => d !== '') ?? process.cwd();
  return path.parse(path.resolve(first)).root;
}

/** The language server: the candidate's argv, run from `cwd` (never a workspace folder). */
export function serverLaunch(candidate: Candidate, cwd: string, baseEnv: NodeJS.ProcessEnv): Launch {
  return {
    command: candidate.command,
    args: [...candidate.args],
    options: { cwd, env: { ...baseEnv, PYTHONUNBUFFERED: '1', PYTHONIOENCODING: 'utf-8' } },
  };
}

/**
 * `taskdroid graph --format mermaid --root <root> <root>`, run the same way as the server (so the
 * Python candidate keeps `-P`), from `cwd`. Undefined when the server command has no `lsp`.
 */
export function graphLaunch(candidate: Candidate, root: string, cwd: string): Launch | undefined {
  const argv = cliArgv(candidate, ['graph', '--format', 'mermaid', '--root', root, root]);
  return argv && { command: argv.command, args: argv.args, options: { cwd } };
}

/**
 * The check that a candidate works: the Python interpreter must import taskdroid (with `-P`, so an
 * interpreter older than 3.11 fails on the option before running anything); `taskdroid` on PATH
 * must answer `--version`. The setting is not run (only checked to be an executable file).
 */
export function probeLaunch(candidate: Candidate, cwd: string): Launch | undefined {
  switch (candidate.source) {
    case 'python':
      return { command: candidate.command, args: [SAFE_PATH_FLAG, '-c', PROBE_SCRIPT], options: { cwd } };
    case 'path':
      return { command: candidate.command, args: ['--version'], options: { cwd } };
    case 'bundled':
      // the same -P and tool script as the server: imports everything, compiled modules included
      return { command: candidate.command, args: [...candidate.args.slice(0, -1), BUNDLE_PROBE_ARG], options: { cwd } };
    case 'setting':
      return undefined;
  }
}

/** Why a probe failed, from its output. */
export function probeFailure(candidate: Candidate, stderr: string): string {
  if (candidate.source === 'python' || candidate.source === 'bundled') {
    // Python 2.7 to 3.10: "Unknown option: -P" and the usage, before anything runs
    if (/unknown option:?\s*-P\b/i.test(stderr)) {
      return `it is older than Python ${MIN_PYTHON} (it does not know the -P option, which keeps the workspace off sys.path); taskdroid needs Python ${MIN_PYTHON} or newer`;
    }
    if (candidate.source === 'python' && /No module named '?taskdroid/.test(stderr)) {
      return 'taskdroid is not installed in it';
    }
  }
  const lines = stderr.trim().split(/\r?\n/);
  return lines[lines.length - 1] || 'failed';
}

/**
 * A problem with the `taskdroid.server.command` program name, if any: a relative path would be
 * resolved against a current directory, which must not decide what runs.
 */
export function settingCommandProblem(command: string): string | undefined {
  if ((command.includes('/') || command.includes('\\')) && !path.isAbsolute(command)) {
    return `${command} is a relative path; give an absolute path or a program name on PATH`;
  }
  return undefined;
}
