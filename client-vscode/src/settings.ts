/**
 * Settings: which `taskdroid.*` VS Code settings the server gets, and how (pure: no `vscode`).
 *
 * The server reads the section `taskdroid` through `workspace/configuration` and merges it over
 * the project's `.taskdroid.toml` and the user's `~/.config/taskdroid/config.toml` (docs/language.md §10).
 * Two consequences shape this module:
 *
 * * Only settings the user actually set are sent. VS Code's `getConfiguration()` fills in every
 *   declared default; sending those would silently override the project file.
 * * Client-only settings (`server.command`, `trace.server`) are never sent: the server reports
 *   unknown keys.
 *
 * `runner.*` (they start programs, or decide whether a task's Verify command from the repository
 * runs) and `server.command` are user-only: a value from a workspace or
 * folder settings file is never used, even if VS Code's scope rules were bypassed, and in an
 * untrusted workspace the runner is not sent at all.
 */

/** Settings of docs/language.md §10 the server understands, by their key below `taskdroid.`. */
export const SERVER_SETTING_KEYS = [
  'taskFiles',
  'droidFiles',
  'droidPaths',
  'exclude',
  'priorities',
  'markerAliases',
  'extraTools',
  'diagnostics.disable',
  'diagnostics.severity',
  'runner.command',
  'runner.prompt',
  'runner.timeoutSeconds',
  'runner.maxParallel',
  'runner.logDir',
  'runner.verify',
  'runner.requireChanges',
] as const;

export type ServerSettingKey = (typeof SERVER_SETTING_KEYS)[number];

/** Settings that only user (or machine) settings may set: they decide which program runs. */
export const USER_ONLY_KEYS: ReadonlySet<string> = new Set([
  'server.command',
  'runner.command',
  'runner.prompt',
  'runner.timeoutSeconds',
  'runner.maxParallel',
  'runner.logDir',
  'runner.verify',
  'runner.requireChanges',
]);

/** Client-side settings whose change needs a server restart (new command or document selector). */
export const RESTART_KEYS = ['server.command', 'taskFiles', 'droidFiles'] as const;

/** docs/language.md §1 default globs (also the defaults declared in package.json). */
export const DEFAULT_TASK_FILES = ['**/tasks/**/*.md', '**/tasks-*.md', '**/tasks.md', '**/TASKS.md'];
export const DEFAULT_DROID_FILES = ['**/.factory/droids/*.md', '**/droids/*.md', '**/.claude/agents/*.md'];
export const PROJECT_FILE = '.taskdroid.toml';

/** What VS Code's `WorkspaceConfiguration.inspect()` answers (the parts used here). */
export interface Inspected {
  defaultValue?: unknown;
  globalValue?: unknown;
  workspaceValue?: unknown;
  workspaceFolderValue?: unknown;
}

/** The section `taskdroid` of the configuration, as seen for one resource. */
export interface ConfigReader {
  get(key: string): unknown;
  inspect(key: string): Inspected | undefined;
}

export interface MappingOptions {
  /** `vscode.workspace.isTrusted`; false drops every `runner.*` setting */
  trusted: boolean;
}

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };

/**
 * The settings object the server gets for `workspace/configuration` (section `taskdroid`):
 * nested (`{"diagnostics": {"disable": [...]}}`), only explicitly set values.
 */
export function serverSettings(config: ConfigReader, options: MappingOptions): Record<string, Json> {
  const out: Record<string, Json> = {};
  for (const key of SERVER_SETTING_KEYS) {
    const userOnly = USER_ONLY_KEYS.has(key);
    if (userOnly && !options.trusted) {
      continue;
    }
    const value = explicitValue(config, key, userOnly);
    if (value === undefined || value === null) {
      continue;
    }
    setPath(out, key, toJson(value));
  }
  return out;
}

/**
 * The value of `key` when the user set it somewhere that counts, else undefined.
 * User-only keys count from user (global) settings alone.
 */
export function explicitValue(config: ConfigReader, key: string, userOnly = USER_ONLY_KEYS.has(key)): unknown {
  const info = config.inspect(key);
  if (info === undefined) {
    return undefined;
  }
  if (userOnly) {
    return info.globalValue;
  }
  if (info.workspaceFolderValue !== undefined) {
    return info.workspaceFolderValue;
  }
  if (info.workspaceValue !== undefined) {
    return info.workspaceValue;
  }
  return info.globalValue;
}

function setPath(target: Record<string, Json>, dotted: string, value: Json): void {
  const parts = dotted.split('.');
  const last = parts.pop() ?? dotted;
  let node = target;
  for (const part of parts) {
    const next = node[part];
    if (next === undefined || next === null || typeof next !== 'object' || Array.isArray(next)) {
      const fresh: Record<string, Json> = {};
      node[part] = fresh;
      node = fresh;
    } else {
      node = next;
    }
  }
  node[last] = value;
}

/** A plain JSON copy (VS Code hands out frozen proxies). */
function toJson(value: unknown): Json {
  return JSON.parse(JSON.stringify(value)) as Json;
}

/** A list of strings from a setting value, else `fallback`. */
export function stringList(value: unknown, fallback: readonly string[]): string[] {
  if (!Array.isArray(value)) {
    return [...fallback];
  }
  const items = value.filter((v): v is string => typeof v === 'string' && v.trim() !== '');
  return items;
}

/**
 * Globs for the document selector, from the `taskFiles` and `droidFiles` settings.
 *
 * VS Code matches a document filter's string pattern against the file's absolute path, so a glob
 * relative to the workspace (`plans/*.md`) becomes `**\/plans/*.md`; matching a little more than
 * the server analyses is harmless (it stays silent in other markdown files).
 */
export function selectorGlobs(taskFiles: unknown, droidFiles: unknown): string[] {
  const globs = [
    ...stringList(taskFiles, DEFAULT_TASK_FILES),
    ...stringList(droidFiles, DEFAULT_DROID_FILES),
  ];
  const out: string[] = [];
  for (const raw of globs) {
    let glob = raw.trim().replace(/\\/g, '/');
    if (glob.startsWith('./')) {
      glob = glob.slice(2);
    }
    if (!glob.startsWith('/') && !glob.startsWith('**/') && !/^[A-Za-z]:\//.test(glob)) {
      glob = `**/${glob}`;
    }
    if (!out.includes(glob)) {
      out.push(glob);
    }
  }
  return out;
}

/** A document filter as vscode-languageclient takes it (plain object, no `vscode` import). */
export interface DocumentFilterLike {
  scheme: string;
  language?: string;
  pattern?: string;
}

/** Task and droid files (markdown), plus the project file `.taskdroid.toml` (for CF001). */
export function documentSelector(taskFiles: unknown, droidFiles: unknown): DocumentFilterLike[] {
  const filters: DocumentFilterLike[] = selectorGlobs(taskFiles, droidFiles).map((pattern) => ({
    scheme: 'file',
    language: 'markdown',
    pattern,
  }));
  filters.push({ scheme: 'file', pattern: `**/${PROJECT_FILE}` });
  return filters;
}

/** Did a configuration change touch a key that needs a server restart? */
export function needsRestart(affects: (section: string) => boolean): boolean {
  return RESTART_KEYS.some((key) => affects(`taskdroid.${key}`));
}
