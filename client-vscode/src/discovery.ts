/**
 * Finding the server to start (pure: no `vscode`; file system and processes are injected).
 *
 * Order, first that works wins:
 *   1. the `taskdroid.server.command` setting (an argv list, user settings only);
 *   2. the interpreter selected in the Python extension: `python -P -m taskdroid lsp`, when the
 *      Python extension is installed and that interpreter can import taskdroid;
 *   3. `taskdroid` on PATH (then `~/.local/bin`, where pipx puts it): `taskdroid lsp`.
 */
import * as path from 'path';

export type Source = 'setting' | 'python' | 'path';

export interface Candidate {
  source: Source;
  command: string;
  args: string[];
  /** for messages: where it came from */
  origin: string;
}

export interface Probe {
  ok: boolean;
  /** why not, for the log and the notification */
  reason?: string;
}

export interface Failure {
  candidate?: Candidate;
  source: Source;
  reason: string;
}

export interface Resolution {
  chosen?: Candidate;
  /** every source that was tried or had nothing to offer, in order */
  failures: Failure[];
}

export interface DiscoveryInput {
  /** value of `taskdroid.server.command` (user settings) */
  settingCommand: unknown;
  /** the Python extension's interpreter; undefined when there is none */
  pythonPath?: string;
  /** why there is no interpreter (Python extension missing, none selected, inside an untrusted workspace…) */
  pythonMissingReason?: string;
  /** `taskdroid` found on PATH (absolute), if any */
  pathTaskdroid?: string;
}

/**
 * Python's safe_path option (3.11+): neither the current directory (`-m`, `-c`) nor a script's
 * folder goes on `sys.path`, so nothing in a workspace can shadow taskdroid or its dependencies.
 */
export const SAFE_PATH_FLAG = '-P';
export const SERVER_MODULE_ARGS = [SAFE_PATH_FLAG, '-m', 'taskdroid', 'lsp'];
export const INSTALL_PACKAGE = 'taskdroid';

/** Split a command line like a POSIX shell would (quotes, backslashes), without running one. */
export function splitArgv(line: string): string[] {
  const out: string[] = [];
  let cur = '';
  let inWord = false;
  let quote: '"' | "'" | undefined;
  for (let i = 0; i < line.length; i++) {
    const ch = line.charAt(i);
    if (quote === "'") {
      if (ch === "'") {
        quote = undefined;
      } else {
        cur += ch;
      }
      continue;
    }
    if (quote === '"') {
      if (ch === '"') {
        quote = undefined;
      } else if (ch === '\\' && i + 1 < line.length && '"\\$`'.includes(line.charAt(i + 1))) {
        cur += line.charAt(++i);
      } else {
        cur += ch;
      }
      continue;
    }
    if (ch === "'" || ch === '"') {
      quote = ch;
      inWord = true;
    } else if (ch === '\\' && i + 1 < line.length) {
      cur += line.charAt(++i);
      inWord = true;
    } else if (/\s/.test(ch)) {
      if (inWord) {
        out.push(cur);
        cur = '';
        inWord = false;
      }
    } else {
      cur += ch;
      inWord = true;
    }
  }
  if (inWord) {
    out.push(cur);
  }
  return out;
}

/** The argv of the `taskdroid.server.command` setting, or undefined when unset or empty. */
export function settingArgv(value: unknown): string[] | undefined {
  let argv: string[] | undefined;
  if (typeof value === 'string') {
    argv = splitArgv(value);
  } else if (Array.isArray(value) && value.every((v) => typeof v === 'string')) {
    argv = value.filter((v): v is string => typeof v === 'string');
  }
  if (argv === undefined || (argv[0] ?? '').trim() === '') {
    return undefined;
  }
  return argv;
}

/** The candidates, in the order they are tried. */
export function serverCandidates(input: DiscoveryInput): Candidate[] {
  const out: Candidate[] = [];
  const [command, ...args] = settingArgv(input.settingCommand) ?? [];
  if (command !== undefined) {
    out.push({ source: 'setting', command, args, origin: 'the taskdroid.server.command setting' });
  }
  if (input.pythonPath) {
    out.push({
      source: 'python',
      command: input.pythonPath,
      args: [...SERVER_MODULE_ARGS],
      origin: `the Python interpreter ${input.pythonPath}`,
    });
  }
  if (input.pathTaskdroid) {
    out.push({ source: 'path', command: input.pathTaskdroid, args: ['lsp'], origin: `taskdroid on PATH (${input.pathTaskdroid})` });
  }
  return out;
}

/** Try the candidates in order; the first whose probe succeeds is chosen. */
export async function resolveServer(
  input: DiscoveryInput,
  probe: (candidate: Candidate) => Promise<Probe>,
): Promise<Resolution> {
  const failures: Failure[] = [];
  const candidates = serverCandidates(input);
  const sources = new Set(candidates.map((c) => c.source));
  if (!sources.has('setting')) {
    failures.push({ source: 'setting', reason: 'taskdroid.server.command is not set' });
  }
  if (!sources.has('python')) {
    failures.push({ source: 'python', reason: input.pythonMissingReason ?? 'no Python interpreter is selected' });
  }
  for (const candidate of candidates) {
    let result: Probe;
    try {
      result = await probe(candidate);
    } catch (e) {
      result = { ok: false, reason: e instanceof Error ? e.message : String(e) };
    }
    if (result.ok) {
      return { chosen: candidate, failures: sortFailures(failures) };
    }
    failures.push({ candidate, source: candidate.source, reason: result.reason ?? 'does not work' });
  }
  if (!sources.has('path')) {
    failures.push({ source: 'path', reason: 'no taskdroid on PATH' });
  }
  return { failures: sortFailures(failures) };
}

const ORDER: Record<Source, number> = { setting: 0, python: 1, path: 2 };

function sortFailures(failures: Failure[]): Failure[] {
  return [...failures].sort((a, b) => ORDER[a.source] - ORDER[b.source]);
}

/**
 * The command a user runs to install the server (for "Copy Install Command"). `-P`: pasted into
 * VS Code's terminal it runs in the workspace, where `python -m pip` would import a committed `pip/`.
 */
export function installCommand(pythonPath?: string): string {
  if (pythonPath) {
    return `${quoteArg(pythonPath)} ${SAFE_PATH_FLAG} -m pip install ${INSTALL_PACKAGE}`;
  }
  return `pipx install ${INSTALL_PACKAGE}`;
}

/** The one notification shown when no server can be started. */
export function missingServerMessage(resolution: Resolution): string {
  const parts = resolution.failures.map((f) => {
    const what = f.candidate ? f.candidate.origin : LABEL[f.source];
    return `${what}: ${f.reason}`;
  });
  return (
    'taskdroid: cannot start the language server. Install taskdroid (`pipx install taskdroid`, or ' +
    '`pip install taskdroid` into the Python interpreter you selected), or set ' +
    '`taskdroid.server.command` in your user settings. Tried — ' +
    parts.join('; ') +
    '.'
  );
}

const LABEL: Record<Source, string> = {
  setting: 'setting',
  python: 'Python extension',
  path: 'PATH',
};

function quoteArg(arg: string): string {
  return /^[\w@%+=:,./-]+$/.test(arg) ? arg : `'${arg.replace(/'/g, `'\\''`)}'`;
}

/** Look a program up on PATH (and in `extraDirs`), like `which`. `isExecutable` is injected. */
export function findOnPath(
  name: string,
  envPath: string | undefined,
  isExecutable: (file: string) => boolean,
  options: { extraDirs?: string[]; platform?: string; pathExt?: string } = {},
): string | undefined {
  const platform = options.platform ?? process.platform;
  const sep = platform === 'win32' ? ';' : ':';
  const isAbsolute = (d: string) => (platform === 'win32' ? path.win32.isAbsolute(d) : path.posix.isAbsolute(d));
  // a relative PATH entry (`.`, `node_modules/.bin`) would depend on the current directory
  const dirs = [...(envPath ?? '').split(sep), ...(options.extraDirs ?? [])].filter((d) => d !== '' && isAbsolute(d));
  const exts = platform === 'win32' ? (options.pathExt ?? '.EXE;.CMD;.BAT').split(';').concat(['']) : [''];
  const join = (a: string, b: string) => (platform === 'win32' ? path.win32.join(a, b) : path.posix.join(a, b));
  for (const dir of dirs) {
    for (const ext of exts) {
      const file = join(dir, name + ext);
      if (isExecutable(file)) {
        return file;
      }
    }
  }
  return undefined;
}

/**
 * Is `file` inside one of `folders`? (A repository's own virtual environment must not be started
 * in an untrusted workspace.)
 */
export function isInside(file: string, folders: readonly string[]): boolean {
  const norm = (p: string) => path.resolve(p).replace(/[\\/]+$/, '');
  const f = norm(file);
  return folders.some((folder) => {
    const d = norm(folder);
    return f === d || f.startsWith(d + path.sep);
  });
}

/**
 * The argv of another taskdroid subcommand run the same way as the server: the `lsp` argument
 * (and what follows it) is replaced by `subcommand`. Undefined when the server command has no
 * `lsp` argument (a custom wrapper) — then there is no safe way to derive it.
 */
export function cliArgv(server: Candidate, subcommand: string[]): { command: string; args: string[] } | undefined {
  const i = server.args.lastIndexOf('lsp');
  if (i < 0) {
    return undefined;
  }
  return { command: server.command, args: [...server.args.slice(0, i), ...subcommand] };
}
