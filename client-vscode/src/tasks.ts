/**
 * Task lines (SPEC §2), just enough for "the task at the cursor" (pure: no `vscode`).
 *
 * The server's document symbols are the first source (their selection range is the task ID);
 * this parser is the fallback while the server is still indexing.
 */

export type Status = 'pending' | 'in_progress' | 'completed' | 'blocked' | 'cancelled';

export interface StatusInfo {
  status: Status;
  label: string;
  marker: string;
  icon: string;
  /** does the status take a note (`**Issue**` / `**Status**`)? */
  note: boolean;
}

/** The statuses of SPEC §5, in the order the quick pick shows them. */
export const STATUSES: readonly StatusInfo[] = [
  { status: 'pending', label: 'Pending', marker: '[ ]', icon: 'circle-large-outline', note: false },
  { status: 'in_progress', label: 'In progress', marker: '[~]', icon: 'sync', note: false },
  { status: 'completed', label: 'Completed', marker: '[x]', icon: 'pass', note: false },
  { status: 'blocked', label: 'Blocked', marker: '[!]', icon: 'warning', note: true },
  { status: 'cancelled', label: 'Cancelled', marker: '[cancelled]', icon: 'circle-slash', note: true },
];

/** A task ID: `1`, `1.1`, `2.3.1`, `T001`, `T007.1`, with an optional trailing capital. */
export const TASK_ID_RE = /^(?:\d+(?:\.\d+)*|T\d+(?:\.\d+)*)[A-Z]?$/;

// list item, marker, optional `*`, then an optional ID (maybe in ** or ~~, maybe with a dot)
const TASK_LINE_RE =
  /^(\s*)(?:[-*+]|\d{1,9}[.)])\s+\[([^\]\n]{0,11})\]\*?(?=\s|$)\s*(?:\*\*|~~)?((?:\d+(?:\.\d+)*|T\d+(?:\.\d+)*)[A-Z]?)?/;
const FENCE_RE = /^\s{0,3}(```+|~~~+)/;
const HEADING_RE = /^\s{0,3}#{1,6}(\s|$)/;

export interface TaskLine {
  /** 0-based line of the task item */
  line: number;
  indent: number;
  marker: string;
  taskId?: string;
}

/** The task item on `text` (one line), if it is one. */
export function parseTaskLine(text: string, line = 0): TaskLine | undefined {
  const m = TASK_LINE_RE.exec(text);
  if (!m) {
    return undefined;
  }
  const [whole, lead = '', marker = '', id] = m;
  // a bracket group with an upper-case letter or a digit is no marker (`[P]`, `[US1]`), except `[X]`
  if (marker !== 'X' && /[A-Z0-9]/.test(marker)) {
    return undefined;
  }
  let taskId = id;
  if (taskId !== undefined) {
    const after = text.slice(m.index + whole.length);
    // the ID must end the token: `1.1 Title`, `1.1. Title`, `**1.0 Title**`, `1.1` alone
    if (!/^(?:\.?(?:\s|\*\*|~~|$))/.test(after)) {
      taskId = undefined;
    }
  }
  return { line, indent: lead.replace(/\t/g, '    ').length, marker, taskId };
}

function indentOf(text: string): number {
  return text.length - text.trimStart().length;
}

/**
 * The task that owns line `at` of `lines`: the task item on that line, or the nearest task item
 * above it that encloses it (less indented than the line, not past a heading).
 */
export function taskAt(lines: readonly string[], at: number): TaskLine | undefined {
  const text = lines[at];
  if (text === undefined) {
    return undefined;
  }
  const fenced = fencedLines(lines);
  if (fenced.has(at)) {
    return undefined;
  }
  const own = parseTaskLine(text, at);
  if (own) {
    return own;
  }
  const blank = text.trim() === '';
  const indent = blank ? Number.MAX_SAFE_INTEGER : indentOf(text);
  if (!blank && indent === 0 && !/^\s*[-*+]/.test(text)) {
    return undefined; // a paragraph at the margin belongs to no task
  }
  for (let i = at - 1; i >= 0; i--) {
    const t = lines[i] ?? '';
    if (fenced.has(i)) {
      continue;
    }
    if (HEADING_RE.test(t)) {
      return undefined;
    }
    const task = parseTaskLine(t, i);
    if (task && task.indent < indent) {
      return task;
    }
    if (t.trim() !== '' && indentOf(t) === 0 && !task && !/^\s*[-*+]/.test(t)) {
      return undefined;
    }
  }
  return undefined;
}

/** Lines inside fenced code blocks (fence lines included). */
export function fencedLines(lines: readonly string[]): Set<number> {
  const out = new Set<number>();
  let fence: string | undefined;
  lines.forEach((text, i) => {
    const m = FENCE_RE.exec(text);
    const mark = m?.[1];
    if (fence === undefined) {
      if (mark !== undefined) {
        fence = mark;
        out.add(i);
      }
      return;
    }
    out.add(i);
    if (mark !== undefined && mark[0] === fence[0] && mark.length >= fence.length && text.trim() === mark) {
      fence = undefined;
    }
  });
  return out;
}

/** The 0-based line of the task with `taskId` in `lines`, if any (first occurrence). */
export function findTaskLine(lines: readonly string[], taskId: string): number | undefined {
  const fenced = fencedLines(lines);
  for (const [i, text] of lines.entries()) {
    if (!fenced.has(i) && parseTaskLine(text, i)?.taskId === taskId) {
      return i;
    }
  }
  return undefined;
}

/** One ready task as `taskdroid.nextTasks` answers it. */
export interface NextTask {
  uri: string;
  taskId: string | null;
  title: string;
  droid: string | null;
  priority: string | null;
  /** 0-based, when the server sends it (not in SPEC §6; used if present) */
  line?: number;
}

/** Validate the answer of `taskdroid.nextTasks`; drops malformed entries. */
export function parseNextTasks(value: unknown): NextTask[] {
  if (!Array.isArray(value)) {
    return [];
  }
  const out: NextTask[] = [];
  for (const item of value) {
    if (item === null || typeof item !== 'object') {
      continue;
    }
    const o = item as Record<string, unknown>;
    if (typeof o.uri !== 'string') {
      continue;
    }
    const str = (v: unknown) => (typeof v === 'string' && v !== '' ? v : null);
    let line: number | undefined;
    if (typeof o.line === 'number' && Number.isInteger(o.line) && o.line >= 0) {
      line = o.line;
    } else if (o.range && typeof o.range === 'object') {
      const start = (o.range as { start?: { line?: unknown } }).start;
      if (start && typeof start.line === 'number') {
        line = start.line;
      }
    }
    out.push({
      uri: o.uri,
      taskId: str(o.taskId),
      title: typeof o.title === 'string' ? o.title : '',
      droid: str(o.droid),
      priority: str(o.priority),
      line,
    });
  }
  return out;
}
