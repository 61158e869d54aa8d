/**
 * Droid runs the status bar and "Cancel Run" know about (pure: no `vscode`).
 *
 * A run becomes known two ways, in either order: the answer `{runId}` of `taskdroid.runTask`
 * (from our commands, or from a code lens / code action through the command middleware), and the
 * `$/progress` the server reports for it (docs/language.md §7: begin / report with the latest line / end).
 * The two are matched by run ID (in the token, title or message), else by task ID, else first in,
 * first out. A run with no progress yet is "queued" (the server limits parallel runs); so is one
 * whose latest progress message says it waits.
 */

export type RunState = 'queued' | 'running';

export interface Run {
  /** our key: the run ID, else the progress token */
  key: string;
  runId?: string;
  token?: string;
  uri?: string;
  taskId?: string;
  droid?: string;
  title: string;
  message?: string;
  state: RunState;
  cancellable: boolean;
  started: number;
}

export interface RunLaunch {
  uri?: string;
  taskId?: string;
  droid?: string;
}

const QUEUED_RE = /\b(queued|waiting|pending)\b/i;
const NOT_A_RUN_RE = /\bindex(ing)?\b/i;
const RUN_RE = /\b(run|runs|running|droid)\b/i;

export class RunTracker {
  private readonly runs = new Map<string, Run>();
  private readonly byToken = new Map<string, string>();
  private readonly listeners = new Set<() => void>();
  private seq = 0;

  constructor(private readonly now: () => number = Date.now) {}

  onDidChange(listener: () => void): { dispose(): void } {
    this.listeners.add(listener);
    return { dispose: () => this.listeners.delete(listener) };
  }

  private changed(): void {
    for (const l of [...this.listeners]) {
      l();
    }
  }

  /** The server accepted a `taskdroid.runTask` and answered `{runId}`. */
  launched(runId: string, launch: RunLaunch = {}): Run {
    const existing = this.runs.get(runId) ?? this.findUnlaunchedProgress(runId, launch);
    if (existing) {
      if (existing.key !== runId) {
        this.runs.delete(existing.key);
        existing.key = runId;
        this.runs.set(runId, existing);
        if (existing.token !== undefined) {
          this.byToken.set(existing.token, runId);
        }
      }
      existing.runId = runId;
      existing.uri ??= launch.uri;
      existing.taskId ??= launch.taskId;
      existing.droid ??= launch.droid;
      this.changed();
      return existing;
    }
    const run: Run = {
      key: runId,
      runId,
      uri: launch.uri,
      taskId: launch.taskId,
      droid: launch.droid,
      title: launch.taskId ? `task ${launch.taskId}` : `run ${runId}`,
      state: 'queued',
      cancellable: true,
      started: this.now() + this.seq++ / 1000,
    };
    this.runs.set(runId, run);
    this.changed();
    return run;
  }

  /** Is a progress with this title one of a droid run? (Indexing is not.) */
  static looksLikeRun(title: string, message?: string): boolean {
    if (NOT_A_RUN_RE.test(title)) {
      return false;
    }
    return RUN_RE.test(title) || (message !== undefined && RUN_RE.test(message));
  }

  /**
   * `$/progress` begin. Returns the run it belongs to, or undefined when it is some other
   * progress (indexing).
   */
  progressBegin(token: string, title: string, message?: string, cancellable = false): Run | undefined {
    const text = `${token} ${title} ${message ?? ''}`;
    let run = this.unassociated().find((r) => r.runId !== undefined && text.includes(r.runId));
    run ??= this.unassociated().find((r) => r.taskId !== undefined && containsId(`${title} ${message ?? ''}`, r.taskId));
    const runLike = RunTracker.looksLikeRun(title, message);
    if (run === undefined && runLike) {
      run = this.unassociated().sort((a, b) => a.started - b.started)[0];
    }
    if (run === undefined) {
      if (!runLike) {
        return undefined;
      }
      run = {
        key: `progress:${token}`,
        title,
        state: 'running',
        cancellable,
        started: this.now() + this.seq++ / 1000,
      };
      this.runs.set(run.key, run);
    }
    run.token = token;
    run.title = title || run.title;
    run.message = message;
    run.cancellable = cancellable;
    run.state = message !== undefined && QUEUED_RE.test(message) ? 'queued' : 'running';
    this.byToken.set(token, run.key);
    this.changed();
    return run;
  }

  progressReport(token: string, message?: string): Run | undefined {
    const run = this.forToken(token);
    if (run === undefined) {
      return undefined;
    }
    if (message !== undefined) {
      run.message = message;
      run.state = QUEUED_RE.test(message) ? 'queued' : 'running';
    } else {
      run.state = 'running';
    }
    this.changed();
    return run;
  }

  progressEnd(token: string): Run | undefined {
    const run = this.forToken(token);
    this.byToken.delete(token);
    if (run !== undefined) {
      this.runs.delete(run.key);
      this.changed();
    }
    return run;
  }

  /** The run was cancelled (or the server refused it): forget it. */
  remove(key: string): void {
    const run = this.runs.get(key);
    if (run === undefined) {
      return;
    }
    this.runs.delete(key);
    if (run.token !== undefined) {
      this.byToken.delete(run.token);
    }
    this.changed();
  }

  /** The server stopped: no run survives it. */
  clear(): void {
    if (this.runs.size === 0) {
      return;
    }
    this.runs.clear();
    this.byToken.clear();
    this.changed();
  }

  forToken(token: string): Run | undefined {
    const key = this.byToken.get(token);
    return key === undefined ? undefined : this.runs.get(key);
  }

  get(key: string): Run | undefined {
    return this.runs.get(key);
  }

  list(): Run[] {
    return [...this.runs.values()].sort((a, b) => a.started - b.started);
  }

  summary(): { running: number; queued: number } {
    let running = 0;
    let queued = 0;
    for (const r of this.runs.values()) {
      if (r.state === 'running') {
        running++;
      } else {
        queued++;
      }
    }
    return { running, queued };
  }

  private unassociated(): Run[] {
    return [...this.runs.values()].filter((r) => r.token === undefined);
  }

  /** A run-like progress that began before its `runTask` answer arrived. */
  private findUnlaunchedProgress(runId: string, launch: RunLaunch): Run | undefined {
    const candidates = [...this.runs.values()].filter((r) => r.runId === undefined && r.token !== undefined);
    return (
      candidates.find((r) => `${r.token} ${r.title} ${r.message ?? ''}`.includes(runId)) ??
      candidates.find((r) => launch.taskId !== undefined && containsId(`${r.title} ${r.message ?? ''}`, launch.taskId))
    );
  }
}

/** `id` appears in `text` as a whole token (so task `1.1` is not found in `1.10`). */
export function containsId(text: string, id: string): boolean {
  const escaped = id.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  return new RegExp(`(^|[^\\w.])${escaped}(?!\\w|\\.\\d)`).test(text);
}

/** The status bar text for a summary (codicons). */
export function statusText(summary: { running: number; queued: number }, serverState: 'starting' | 'running' | 'stopped' | 'failed'): string {
  if (summary.running > 0 || summary.queued > 0) {
    const parts: string[] = [];
    if (summary.running > 0) {
      parts.push(`${summary.running} running`);
    }
    if (summary.queued > 0) {
      parts.push(`${summary.queued} queued`);
    }
    return `$(sync~spin) taskdroid: ${parts.join(', ')}`;
  }
  switch (serverState) {
    case 'starting':
      return '$(loading~spin) taskdroid';
    case 'failed':
      return '$(error) taskdroid';
    case 'stopped':
      return '$(circle-slash) taskdroid';
    default:
      return '$(checklist) taskdroid';
  }
}

/** The answer of `taskdroid.runTask`: `{runId}` (a string or a number), else undefined. */
export function runIdOf(result: unknown): string | undefined {
  if (result !== null && typeof result === 'object') {
    const id = (result as { runId?: unknown }).runId;
    if (typeof id === 'string' && id !== '') {
      return id;
    }
    if (typeof id === 'number') {
      return String(id);
    }
  }
  return undefined;
}
