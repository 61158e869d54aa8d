/**
 * Finding the server to start (pure: no `vscode`; file system and processes are injected).
 *
 * Order, first that works wins — an installed taskdroid you chose overrides the bundled one:
 *   1. the `taskdroid.server.command` setting (an argv list, user settings only);
 *   2. the interpreter selected in the Python extension: `python -P -m taskdroid lsp`, when the
 *      Python extension is installed and that interpreter can import taskdroid;
 *   3. `taskdroid` on PATH (then `~/.local/bin`, where pipx puts it): `taskdroid lsp`;
 *   4. the server bundled in a platform build of the extension (`bundled/libs`, see
 *      scripts/bundle-server.py), run as `python -P bundled/tool/taskdroid_bundled.py lsp` with
 *      the first Python 3.11+ that can load it: the Python extension's interpreter, then
 *      `python3` and `python` on PATH.
 */
import * as path from 'path';

export type Source = 'setting' | 'python' | 'path' | 'bundled';

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
  /** the bundled server, when this build of the extension carries one */
  bundled?: BundledServer;
  /** why there is no bundled server (a build without one, another platform's build…) */
  bundledMissingReason?: string;
}

export interface BundledServer {
  /** absolute path of `bundled/tool/taskdroid_bundled.py` */
  tool: string;
  /** interpreters to run it with, in order (absolute paths); empty when none was found */
  interpreters: string[];
}

/**
 * Python's safe_path option (3.11+): neither the current directory (`-m`, `-c`) nor a script's
 * folder goes on `sys.path`, so nothing in a workspace can shadow taskdroid or its dependencies.
 */
export const SAFE_PATH_FLAG = '-P';
export const SERVER_MODULE_ARGS = [SAFE_PATH_FLAG, '-m', 'taskdroid', 'lsp'];
/** `bundled/tool/taskdroid_bundled.py` inside the extension; `bundled/libs` holds the packages */
export const BUNDLED_TOOL = ['bundled', 'tool', 'taskdroid_bundled.py'];
/** written by scripts/bundle-server.py: `{"target": "linux-x64", "python": [...], ...}` */
export const BUNDLE_MARKER = ['bundled', 'libs', 'taskdroid-bundle.json'];

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
  const tool = input.bundled?.tool ?? '';
  for (const python of new Set(input.bundled?.interpreters ?? [])) {
    out.push({
      source: 'bundled',
      command: python,
      args: [SAFE_PATH_FLAG, tool, 'lsp'],
      origin: `the bundled server (run with ${python})`,
    });
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
  if (!sources.has('bundled')) {
    failures.push({
      source: 'bundled',
      reason: input.bundled
        ? 'no Python 3.11 or newer to run it (neither the Python extension\'s interpreter nor python3 on PATH)'
        : (input.bundledMissingReason ?? 'this build of the extension carries no server'),
    });
  }
  return { failures: sortFailures(failures) };
}

const ORDER: Record<Source, number> = { setting: 0, python: 1, path: 2, bundled: 3 };

function sortFailures(failures: Failure[]): Failure[] {
  return [...failures].sort((a, b) => ORDER[a.source] - ORDER[b.source]);
}

/**
 * Why a bundle built for `target` (a `vsce --target`, e.g. `linux-x64`) cannot run on this
 * platform/arch (Node's `process.platform` / `process.arch`), or undefined when it can.
 */
export function bundleTargetProblem(target: unknown, platform: string, arch: string): string | undefined {
  if (typeof target !== 'string') {
    return 'the bundled server has no target platform';
  }
  const [os, cpu] = target.split('-');
  const osOk = os === platform || (os === 'alpine' && platform === 'linux');
  if (!osOk || cpu !== arch) {
    return `the bundled server is built for ${target}, this is ${platform}-${arch}`;
  }
  return undefined;
}

/** The one notification shown when no server can be started. */
export function missingServerMessage(resolution: Resolution): string {
  const parts = resolution.failures.map((f) => {
    const what = f.candidate ? f.candidate.origin : LABEL[f.source];
    return `${what}: ${f.reason}`;
  });
  return (
    'taskdroid: cannot start the language server. Install Python 3.11 or newer (the platform builds ' +
    'of this extension carry the server and run it with python3), or install taskdroid from a clone ' +
    'of its repository (`pipx install ./taskdroid`; it is not on PyPI yet), or set ' +
    '`taskdroid.server.command` in your user settings. Tried — ' +
    parts.join('; ') +
    '.'
  );
}

const LABEL: Record<Source, string> = {
  setting: 'setting',
  python: 'Python extension',
  path: 'PATH',
  bundled: 'bundled server',
};

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
