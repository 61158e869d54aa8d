/**
 * The Tasks view's model (pure: no `vscode`): the answer of the server's `taskdroid.outline`
 * (docs/language.md §15) checked and turned into tree nodes, icons, texts and the status bar text.
 *
 * Everything here comes from the server: the extension never parses a task line itself.
 */
import { Run } from './runs';

export type TaskStatus = 'pending' | 'in_progress' | 'completed' | 'blocked' | 'cancelled' | 'malformed';

export interface Dependency {
  state: 'ready' | 'waiting' | 'blocked';
  on: string[];
  text: string;
}

export interface LineRange {
  start: { line: number; character: number };
  end: { line: number; character: number };
}

export interface TaskOutline {
  id: string | null;
  title: string;
  status: TaskStatus;
  marker: string;
  optional: boolean;
  droid: string | null;
  droidResolves: boolean | null;
  dependency: Dependency | null;
  line: number;
  range: LineRange;
  runId: string | null;
  children: TaskOutline[];
}

export interface SectionOutline {
  title: string | null;
  level: number;
  line: number | null;
  priority: string | null;
  done: number;
  total: number;
  tasks: TaskOutline[];
}

/** A task that references a requirement (docs/language.md §13), as the server names it. */
export interface RequirementTask {
  /** how `taskdroid coverage` names it: `2.1`, `tasks-x.md#2.1`, `tasks.md:12` */
  ref: string;
  uri: string;
  id: string | null;
  title: string;
  status: TaskStatus;
  /** 0-based line in its task file */
  line: number;
}

export type CoverageState = 'covered' | 'uncovered' | 'done';

/** A requirement, user story or FR (or a Kiro acceptance criterion) with its coverage. */
export interface RequirementOutline {
  requirement: string;
  kind: string;
  label: string;
  title: string;
  /** 0-based line in the requirements file */
  line: number;
  state: CoverageState;
  done: number;
  tasks: RequirementTask[];
  criteria: RequirementOutline[];
}

/** A requirements file (Kiro `requirements.md`, spec-kit `spec.md`) beside a task file. */
export interface RequirementsOutline {
  uri: string;
  path: string;
  flavor: string;
  /** requirements, stories and FRs (criteria not counted) */
  total: number;
  /** of them, those with a task (done included) */
  covered: number;
  /** of them, those whose tasks are all completed */
  done: number;
  items: RequirementOutline[];
}

export interface FileOutline {
  uri: string;
  path: string;
  done: number;
  total: number;
  sections: SectionOutline[];
  /** the requirements files of its spec folder (listed under the folder's first task file) */
  requirements: RequirementsOutline[];
}

const STATUS_VALUES: readonly TaskStatus[] = ['pending', 'in_progress', 'completed', 'blocked', 'cancelled', 'malformed'];

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => v !== null && typeof v === 'object' && !Array.isArray(v);
const str = (v: unknown): string | null => (typeof v === 'string' ? v : null);
const nat = (v: unknown, fallback = 0): number => (typeof v === 'number' && Number.isInteger(v) && v >= 0 ? v : fallback);

function parseRange(v: unknown, line: number): LineRange {
  const pos = (p: unknown, l: number) => (isObj(p) ? { line: nat(p.line, l), character: nat(p.character) } : { line: l, character: 0 });
  if (!isObj(v)) {
    return { start: { line, character: 0 }, end: { line, character: 0 } };
  }
  return { start: pos(v.start, line), end: pos(v.end, line) };
}

function parseDependency(v: unknown): Dependency | null {
  if (!isObj(v) || (v.state !== 'ready' && v.state !== 'waiting' && v.state !== 'blocked')) {
    return null;
  }
  const on = Array.isArray(v.on) ? v.on.filter((x): x is string => typeof x === 'string') : [];
  return { state: v.state, on, text: str(v.text) ?? v.state };
}

function parseTask(v: unknown): TaskOutline | undefined {
  if (!isObj(v) || typeof v.line !== 'number') {
    return undefined;
  }
  const line = nat(v.line);
  const status = STATUS_VALUES.find((s) => s === v.status) ?? 'malformed';
  const runId = typeof v.runId === 'number' ? String(v.runId) : str(v.runId);
  return {
    id: str(v.id),
    title: str(v.title) ?? '',
    status,
    marker: str(v.marker) ?? '',
    optional: v.optional === true,
    droid: str(v.droid),
    droidResolves: typeof v.droidResolves === 'boolean' ? v.droidResolves : null,
    dependency: parseDependency(v.dependency),
    line,
    range: parseRange(v.range, line),
    runId: runId === '' ? null : runId,
    children: parseTasks(v.children),
  };
}

function parseTasks(v: unknown): TaskOutline[] {
  return Array.isArray(v) ? v.map(parseTask).filter((t): t is TaskOutline => t !== undefined) : [];
}

const COVERAGE_STATES: readonly CoverageState[] = ['covered', 'uncovered', 'done'];

function parseRequirementTasks(v: unknown): RequirementTask[] {
  const out: RequirementTask[] = [];
  for (const t of Array.isArray(v) ? v : []) {
    if (!isObj(t) || typeof t.uri !== 'string' || typeof t.line !== 'number') {
      continue;
    }
    out.push({
      ref: str(t.ref) ?? '',
      uri: t.uri,
      id: str(t.id),
      title: str(t.title) ?? '',
      status: STATUS_VALUES.find((s) => s === t.status) ?? 'malformed',
      line: nat(t.line),
    });
  }
  return out;
}

function parseRequirementItems(v: unknown): RequirementOutline[] {
  const out: RequirementOutline[] = [];
  for (const r of Array.isArray(v) ? v : []) {
    if (!isObj(r) || typeof r.requirement !== 'string' || typeof r.line !== 'number') {
      continue;
    }
    out.push({
      requirement: r.requirement,
      kind: str(r.kind) ?? '',
      label: str(r.label) ?? r.requirement,
      title: str(r.title) ?? '',
      line: nat(r.line),
      state: COVERAGE_STATES.find((s) => s === r.state) ?? 'uncovered',
      done: nat(r.done),
      tasks: parseRequirementTasks(r.tasks),
      criteria: parseRequirementItems(r.criteria),
    });
  }
  return out;
}

function parseRequirements(v: unknown): RequirementsOutline[] {
  const out: RequirementsOutline[] = [];
  for (const f of Array.isArray(v) ? v : []) {
    if (!isObj(f) || typeof f.uri !== 'string') {
      continue;
    }
    out.push({
      uri: f.uri,
      path: str(f.path) ?? f.uri,
      flavor: str(f.flavor) ?? '',
      total: nat(f.total),
      covered: nat(f.covered),
      done: nat(f.done),
      items: parseRequirementItems(f.items),
    });
  }
  return out;
}

/** Check the answer of `taskdroid.outline`; malformed parts are dropped, never thrown on. */
export function parseOutline(value: unknown): FileOutline[] {
  const files = isObj(value) && Array.isArray(value.files) ? value.files : [];
  const out: FileOutline[] = [];
  for (const f of files) {
    if (!isObj(f) || typeof f.uri !== 'string') {
      continue;
    }
    const sections: SectionOutline[] = [];
    for (const s of Array.isArray(f.sections) ? f.sections : []) {
      if (!isObj(s)) {
        continue;
      }
      sections.push({
        title: str(s.title),
        level: nat(s.level),
        line: typeof s.line === 'number' ? nat(s.line) : null,
        priority: str(s.priority),
        done: nat(s.done),
        total: nat(s.total),
        tasks: parseTasks(s.tasks),
      });
    }
    out.push({ uri: f.uri, path: str(f.path) ?? f.uri, done: nat(f.done), total: nat(f.total), sections, requirements: parseRequirements(f.requirements) });
  }
  return out;
}

// -- presentation ----------------------------------------------------------------------------------

export interface Icon {
  /** a codicon id */
  id: string;
  /** a theme color id, if any */
  color?: string;
}

/** The icon of each status (codicons, as the editor's Set Status quick pick shows them). */
export const STATUS_ICONS: Readonly<Record<TaskStatus, Icon>> = {
  pending: { id: 'circle-large-outline' },
  in_progress: { id: 'sync', color: 'charts.blue' },
  completed: { id: 'pass-filled', color: 'testing.iconPassed' },
  blocked: { id: 'warning', color: 'problemsWarningIcon.foreground' },
  cancelled: { id: 'circle-slash', color: 'disabledForeground' },
  malformed: { id: 'question', color: 'problemsErrorIcon.foreground' },
};

/** A running task's icon: a spinner. */
export const RUNNING_ICON: Icon = { id: 'loading~spin' };

const STATUS_LABEL: Readonly<Record<TaskStatus, string>> = {
  pending: 'pending',
  in_progress: 'in progress',
  completed: 'completed',
  blocked: 'blocked',
  cancelled: 'cancelled',
  malformed: 'malformed marker',
};

/** Do two URIs name the same file? (VS Code and the server may percent-encode differently.) */
export function sameUri(a: string | undefined, b: string | undefined): boolean {
  if (a === undefined || b === undefined) {
    return false;
  }
  if (a === b) {
    return true;
  }
  const norm = (u: string) => {
    try {
      return decodeURIComponent(u).replace(/^file:\/\/\/([a-zA-Z]):/, (_m, d: string) => `file:///${d.toLowerCase()}:`);
    } catch {
      return u;
    }
  };
  return norm(a) === norm(b);
}

/** The run holding a task: by the server's `runId`, else by file and task ID. */
export function runOf(task: TaskOutline, uri: string, runs: readonly Run[]): Run | undefined {
  if (task.runId !== null) {
    const id = task.runId;
    const hit = runs.find((r) => r.runId === id || r.key === id || r.token === `taskdroid-${id}`);
    if (hit) {
      return hit;
    }
  }
  if (task.id === null) {
    return undefined;
  }
  return runs.find((r) => r.taskId === task.id && sameUri(r.uri, uri));
}

/** The icon of each coverage state: uncovered is TD051's information, done is a completed task's. */
export const COVERAGE_ICONS: Readonly<Record<CoverageState, Icon>> = {
  uncovered: { id: 'info', color: 'problemsInfoIcon.foreground' },
  covered: { id: 'circle-large-filled', color: 'charts.blue' },
  done: { id: 'pass-filled', color: 'testing.iconPassed' },
};

export type NodeKind = 'file' | 'section' | 'task' | 'requirements' | 'requirement';

export interface ViewNode {
  kind: NodeKind;
  /** stable identity across refreshes (keeps expansion state) */
  id: string;
  uri: string;
  label: string;
  description: string;
  tooltip: string;
  icon: Icon | undefined;
  /**
   * `contextValue` for menus: `taskdroid.file`, `taskdroid.section`, `taskdroid.task[.runnable][.running]`,
   * `taskdroid.requirements` (a requirements file), `taskdroid.requirement`, `taskdroid.task.ref`
   * (a task under a requirement)
   */
  context: string;
  /** 0-based line to reveal (tasks, sections) */
  line?: number;
  range?: LineRange;
  taskId?: string;
  running: boolean;
  collapsible: boolean;
  /** shown expanded at first (files and sections); undefined: by kind */
  expanded?: boolean;
  children: ViewNode[];
}

/** `3/7` with the share done. */
function ratio(done: number, total: number): string {
  return `${done}/${total}`;
}

export function taskNode(task: TaskOutline, uri: string, runs: readonly Run[], parentId: string, seen: Set<string> = new Set()): ViewNode {
  const run = runOf(task, uri, runs);
  const running = run !== undefined || task.runId !== null;
  const parts: string[] = [];
  if (running) {
    parts.push(run?.message ? `▶ ${run.message}` : '▶ running');
  }
  if (task.droid) {
    parts.push(task.droidResolves === false ? `$(hubot) ${task.droid} (unknown)` : `$(hubot) ${task.droid}`);
  }
  if (task.dependency && !running) {
    parts.push(task.dependency.state === 'ready' ? 'ready' : task.dependency.state === 'waiting' ? `waits on ${task.dependency.on.join(', ')}` : 'blocked dependency');
  }
  const tip = [
    `${task.id ? `${task.id} ` : ''}${task.title}`,
    `Status: ${STATUS_LABEL[task.status]} ${task.marker}${task.optional ? ' (optional)' : ''}`,
  ];
  if (task.droid) {
    tip.push(`Droid: ${task.droid}${task.droidResolves === false ? ' — no droid file of that name' : ''}`);
  }
  if (task.dependency) {
    tip.push(`Dependencies: ${task.dependency.text}`);
  }
  if (running) {
    tip.push(`Running${run?.message ? `: ${run.message}` : ''}`);
  }
  const key = task.id ?? `L${task.line + 1}`;
  let context = 'taskdroid.task';
  if (task.id !== null && !running && task.status !== 'completed' && task.status !== 'cancelled') {
    context += '.runnable';
  }
  if (running) {
    context += '.running';
  }
  // a tree item's id must be unique: a task ID used twice (TD003) gets its line too
  let id = `${parentId}#${key}`;
  if (seen.has(id)) {
    id = `${id}@L${task.line + 1}`;
  }
  seen.add(id);
  return {
    kind: 'task',
    id,
    uri,
    label: task.id ? `${task.id} ${task.title}` : task.title || task.marker,
    description: parts.join(' · '),
    tooltip: tip.join('\n'),
    icon: running ? RUNNING_ICON : STATUS_ICONS[task.status],
    context,
    line: task.line,
    range: task.range,
    taskId: task.id ?? undefined,
    running,
    collapsible: task.children.length > 0,
    children: task.children.map((c) => taskNode(c, uri, runs, id, seen)),
  };
}

/** `n tasks · k done`, as the requirement's code lens reads (docs/language.md §13). */
export function coverageText(tasks: number, done: number): string {
  return `${tasks} task${tasks === 1 ? '' : 's'} · ${done} done`;
}

const COVERAGE_LABEL: Readonly<Record<CoverageState, string>> = {
  uncovered: 'uncovered — no task references it',
  covered: 'covered',
  done: 'done — all its tasks are completed',
};

function requirementTaskNode(t: RequirementTask, parentId: string, seen: Set<string>): ViewNode {
  let id = `${parentId}>${t.uri}:${t.line}`;
  if (seen.has(id)) {
    id = `${id}+`;
  }
  seen.add(id);
  return {
    kind: 'task',
    id,
    uri: t.uri,
    label: t.id ? `${t.id} ${t.title}` : t.title || t.ref,
    description: t.ref !== (t.id ?? '') ? t.ref : '',
    tooltip: `${t.id ? `${t.id} ` : ''}${t.title}\nStatus: ${STATUS_LABEL[t.status]}\n${t.ref}`,
    icon: STATUS_ICONS[t.status],
    context: 'taskdroid.task.ref',
    line: t.line,
    taskId: t.id ?? undefined,
    running: false,
    collapsible: false,
    children: [],
  };
}

function requirementNode(r: RequirementOutline, uri: string, parentId: string, seen: Set<string>): ViewNode {
  const id = `${parentId}#${r.requirement}`;
  const criterion = r.kind === 'criterion';
  // Kiro: "Requirement 2: Sign in"; a criterion: "2.1 WHEN …"; a story: "User Story 1: …"; an FR: "FR-001 …"
  const label = criterion || r.kind === 'fr' ? `${r.requirement} ${r.title}` : r.title && r.title !== r.label ? `${r.label}: ${r.title}` : r.label;
  const children = [...r.tasks.map((t) => requirementTaskNode(t, id, seen)), ...r.criteria.map((c) => requirementNode(c, uri, id, seen))];
  const tip = [label, `State: ${COVERAGE_LABEL[r.state]}`, coverageText(r.tasks.length, r.done)];
  if (r.criteria.length) {
    const open = r.criteria.filter((c) => c.state === 'uncovered').map((c) => c.requirement);
    tip.push(`${r.criteria.length} acceptance criteria${open.length ? `, uncovered: ${open.join(', ')}` : ''}`);
  }
  return {
    kind: 'requirement',
    id,
    uri,
    label,
    description: coverageText(r.tasks.length, r.done),
    tooltip: tip.join('\n'),
    icon: COVERAGE_ICONS[r.state],
    context: 'taskdroid.requirement',
    line: r.line,
    running: false,
    collapsible: children.length > 0,
    expanded: false,
    children,
  };
}

/** A requirements file's node: its requirements (→ their tasks and criteria). */
export function requirementsNode(req: RequirementsOutline, parentId: string): ViewNode {
  const id = `${parentId}§req:${req.uri}`;
  const seen = new Set<string>();
  const name = req.path.split('/').pop() ?? req.path;
  const open = req.total - req.covered;
  return {
    kind: 'requirements',
    id,
    uri: req.uri,
    label: req.flavor === 'speckit' ? 'Spec' : 'Requirements',
    description: `coverage ${req.covered}/${req.total}${req.done ? ` · ${req.done} done` : ''} · ${name}`,
    tooltip: `${req.path}\n${req.covered} of ${req.total} requirements covered by a task (${req.done} done), ${open} uncovered`,
    icon: { id: 'checklist' },
    context: 'taskdroid.requirements',
    line: 0,
    running: false,
    collapsible: req.items.length > 0,
    expanded: false,
    children: req.items.map((r) => requirementNode(r, req.uri, id, seen)),
  };
}

/** The tree: task files → sections → tasks (→ subtasks); a spec folder's task file starts with its requirements. */
export function buildTree(files: readonly FileOutline[], runs: readonly Run[] = []): ViewNode[] {
  return files
    .filter((f) => f.total > 0 || f.requirements.length > 0)
    .map((f) => {
      const seen = new Set<string>();
      const sections = f.sections.map((s, i): ViewNode => {
        const sid = `${f.uri}§${s.line ?? 'top'}:${i}`;
        return {
          kind: 'section',
          id: sid,
          uri: f.uri,
          label: s.title ?? '(no heading)',
          description: ratio(s.done, s.total) + (s.priority ? ` · ${s.priority}` : ''),
          tooltip: `${s.title ?? 'Tasks before the first heading'}\n${s.done} of ${s.total} tasks done${s.priority ? `\nPriority: ${s.priority}` : ''}`,
          icon: s.total > 0 && s.done === s.total ? { id: 'pass', color: 'testing.iconPassed' } : { id: 'list-unordered' },
          context: 'taskdroid.section',
          line: s.line ?? undefined,
          running: false,
          collapsible: true,
          children: s.tasks.map((t) => taskNode(t, f.uri, runs, sid, seen)),
        };
      });
      const name = f.path.split('/').pop() ?? f.path;
      const folder = f.path.includes('/') ? f.path.slice(0, f.path.lastIndexOf('/')) : '';
      return {
        kind: 'file' as const,
        id: f.uri,
        uri: f.uri,
        label: name,
        description: `${ratio(f.done, f.total)} done${folder ? ` · ${folder}` : ''}`,
        tooltip: `${f.path}\n${f.done} of ${f.total} tasks done`,
        icon: undefined,
        context: 'taskdroid.file',
        running: false,
        collapsible: true,
        children: [...f.requirements.map((r) => requirementsNode(r, f.uri)), ...sections],
      };
    });
}

/** Every task of the files, subtasks included. */
export function* allTasks(files: readonly FileOutline[]): Generator<{ file: FileOutline; task: TaskOutline }> {
  function* walk(file: FileOutline, tasks: readonly TaskOutline[]): Generator<{ file: FileOutline; task: TaskOutline }> {
    for (const task of tasks) {
      yield { file, task };
      yield* walk(file, task.children);
    }
  }
  for (const f of files) {
    for (const s of f.sections) {
      yield* walk(f, s.tasks);
    }
  }
}

/** Totals over the files: done, total, and the tasks running (a run, or in progress with one). */
export function totals(files: readonly FileOutline[], runs: readonly Run[] = []): { done: number; total: number; running: number } {
  let done = 0;
  let total = 0;
  for (const f of files) {
    done += f.done;
    total += f.total;
  }
  let running = 0;
  for (const { file, task } of allTasks(files)) {
    if (task.runId !== null || runOf(task, file.uri, runs) !== undefined) {
      running++;
    }
  }
  // runs the outline does not show yet (it is refreshed after the run's first status edit)
  const shown = new Set<string>();
  for (const { file, task } of allTasks(files)) {
    const r = runOf(task, file.uri, runs);
    if (r) {
      shown.add(r.key);
    }
  }
  running += runs.filter((r) => r.state === 'running' && !shown.has(r.key)).length;
  return { done, total, running };
}

/** The status bar text of docs/language.md §15: `✓ done/total · ▶ running`. */
export function statusBarText(t: { done: number; total: number; running: number }): string {
  return `✓ ${t.done}/${t.total} · ▶ ${t.running}`;
}

/** The innermost task of `uri` whose block holds `line` (for "the task at the cursor"). */
export function taskAtLine(files: readonly FileOutline[], uri: string, line: number): TaskOutline | undefined {
  const file = files.find((f) => sameUri(f.uri, uri)) ?? (files.length === 1 ? files[0] : undefined);
  if (file === undefined) {
    return undefined;
  }
  let best: TaskOutline | undefined;
  const visit = (tasks: readonly TaskOutline[]) => {
    for (const t of tasks) {
      if (t.range.start.line <= line && line <= t.range.end.line) {
        best = t;
        visit(t.children);
        return;
      }
    }
  };
  for (const s of file.sections) {
    visit(s.tasks);
  }
  return best;
}

/** Replace the outline of some files (a partial refresh) keeping the order by URI. */
export function mergeFiles(current: readonly FileOutline[], fresh: readonly FileOutline[], asked: readonly string[]): FileOutline[] {
  const byUri = new Map(current.map((f) => [f.uri, f]));
  for (const uri of asked) {
    byUri.delete(uri); // gone unless the answer has it
  }
  for (const f of fresh) {
    byUri.set(f.uri, f);
  }
  return [...byUri.values()].sort((a, b) => (a.uri < b.uri ? -1 : a.uri > b.uri ? 1 : 0));
}

/** The `runIds` of a `taskdroid.runReady` answer (strings or numbers). */
export function runIdsOf(result: unknown): string[] {
  if (result === null || typeof result !== 'object') {
    return [];
  }
  const ids = (result as { runIds?: unknown }).runIds;
  if (!Array.isArray(ids)) {
    return [];
  }
  return ids.filter((x): x is string | number => (typeof x === 'string' && x !== '') || typeof x === 'number').map(String);
}
