/**
 * Task statuses and the answer of `taskdroid.nextTasks` (pure: no `vscode`).
 *
 * The extension parses no task line: which task is where comes from the server
 * (`taskdroid.outline`, see outline.ts).
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

/** The statuses of docs/language.md §5, in the order the quick pick shows them. */
export const STATUSES: readonly StatusInfo[] = [
  { status: 'pending', label: 'Pending', marker: '[ ]', icon: 'circle-large-outline', note: false },
  { status: 'in_progress', label: 'In progress', marker: '[~]', icon: 'sync', note: false },
  { status: 'completed', label: 'Completed', marker: '[x]', icon: 'pass', note: false },
  { status: 'blocked', label: 'Blocked', marker: '[!]', icon: 'warning', note: true },
  { status: 'cancelled', label: 'Cancelled', marker: '[cancelled]', icon: 'circle-slash', note: true },
];

/** One ready task as `taskdroid.nextTasks` answers it. */
export interface NextTask {
  uri: string;
  taskId: string | null;
  title: string;
  droid: string | null;
  priority: string | null;
  /** 0-based, when the server sends it (not in docs/language.md §6; used if present) */
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
