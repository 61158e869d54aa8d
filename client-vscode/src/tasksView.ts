/**
 * The **Tasks** view (docs/language.md §15) in the explorer side bar, and the `✓ done/total · ▶ running`
 * status bar item — filled from the server's `taskdroid.outline`, never by parsing task lines here.
 *
 * Freshness: the extension declares the experimental client capability `taskdroidOutline` (see
 * outlineFeature.ts); the server then sends `taskdroid/outlineChanged {uris}` after every analysis
 * that may have changed those files' outline (an edit, a file on disk, a dependency in another
 * file, a droid file). The view asks again for just those files (the whole workspace when many
 * changed), so it follows pushed and pulled diagnostics alike. Run progress (spinner, latest
 * line) comes from the run tracker, which follows the server's `$/progress`.
 *
 * A spec folder's task file starts with its requirements (Kiro `requirements.md`, spec-kit
 * `spec.md`): each requirement with its coverage state and its tasks, from the same answer
 * (`requirements` of docs/language.md §15); selecting one reveals it in the requirements file.
 */
import * as vscode from 'vscode';
import { FileOutline, ViewNode, buildTree, mergeFiles, parseOutline, runIdsOf, statusBarText, totals } from './outline';
import { OUTLINE, RUN_READY } from './outlineFeature';
import type { ServerManager } from './server';

export const VIEW_ID = 'taskdroid.tasks';
/** ask per file up to this many changed files, else the whole workspace at once */
const PER_FILE_LIMIT = 8;
/** coalesce notifications arriving together (several files analysed in one go) */
const COALESCE_MS = 15;

/** The outline of the workspace as the server last answered it. */
export class TasksModel implements vscode.Disposable {
  files: FileOutline[] = [];
  /** why the last request failed (shown in the view's message) */
  error: string | undefined;
  loaded = false;
  private readonly emitter = new vscode.EventEmitter<void>();
  readonly onDidChange = this.emitter.event;
  private readonly disposables: { dispose(): unknown }[] = [];
  private pending: Set<string> | 'all' | undefined;
  private timer: NodeJS.Timeout | undefined;
  private inflight: Promise<void> | undefined;
  private generation = 0;

  constructor(private readonly manager: ServerManager) {
    this.disposables.push(
      this.emitter,
      manager.onDidChangeState((state) => {
        if (state === 'running') {
          this.request('all');
        } else if (state !== 'starting') {
          this.generation++;
          this.files = [];
          this.loaded = false;
          this.emitter.fire();
        }
      }),
      manager.onOutlineChanged((uris) => this.request(uris ?? 'all')),
      manager.runs.onDidChange(() => this.emitter.fire()),
    );
    if (manager.state === 'running') {
      this.request('all');
    }
  }

  dispose(): void {
    clearTimeout(this.timer);
    for (const d of this.disposables) {
      d.dispose();
    }
  }

  /** Ask the server again (coalesced): some files, or everything. */
  request(what: readonly string[] | 'all'): void {
    if (what === 'all' || this.pending === 'all') {
      this.pending = 'all';
    } else {
      this.pending ??= new Set();
      for (const u of what) {
        this.pending.add(u);
      }
    }
    if (this.timer === undefined) {
      this.timer = setTimeout(() => {
        this.timer = undefined;
        void this.flush();
      }, COALESCE_MS);
    }
  }

  /** Fetch now; resolves when the view has the answer. */
  async refresh(): Promise<void> {
    this.pending = 'all';
    clearTimeout(this.timer);
    this.timer = undefined;
    await this.flush();
  }

  private async flush(): Promise<void> {
    while (this.inflight) {
      await this.inflight;
    }
    const what = this.pending;
    this.pending = undefined;
    if (what === undefined) {
      return;
    }
    this.inflight = this.fetch(what).finally(() => {
      this.inflight = undefined;
    });
    await this.inflight;
  }

  private async fetch(what: Set<string> | 'all'): Promise<void> {
    if (!this.manager.offers(OUTLINE)) {
      this.error = this.manager.state === 'running' ? 'this taskdroid server has no taskdroid.outline (update taskdroid)' : undefined;
      this.emitter.fire();
      return;
    }
    const gen = this.generation;
    try {
      if (what === 'all' || what.size > PER_FILE_LIMIT || !this.loaded) {
        const files = parseOutline(await this.manager.execute(OUTLINE, {}));
        if (gen !== this.generation) {
          return;
        }
        this.files = files;
      } else {
        const uris = [...what];
        const answers = await Promise.all(
          uris.map((uri) =>
            this.manager.execute(OUTLINE, { uri }).then(parseOutline, () => [] as FileOutline[]), // gone / not a task file
          ),
        );
        if (gen !== this.generation) {
          return;
        }
        this.files = mergeFiles(this.files, answers.flat(), uris);
      }
      this.loaded = true;
      this.error = undefined;
    } catch (e) {
      this.error = e instanceof Error ? e.message : String(e);
    }
    this.emitter.fire();
  }
}

export class TasksTreeProvider implements vscode.TreeDataProvider<ViewNode>, vscode.Disposable {
  private readonly emitter = new vscode.EventEmitter<ViewNode | undefined>();
  readonly onDidChangeTreeData = this.emitter.event;
  private roots: ViewNode[] = [];
  private readonly parents = new Map<string, ViewNode>();
  private readonly disposables: { dispose(): unknown }[] = [];
  view: vscode.TreeView<ViewNode> | undefined;

  constructor(
    private readonly model: TasksModel,
    private readonly manager: ServerManager,
  ) {
    this.rebuild();
    this.disposables.push(
      this.emitter,
      model.onDidChange(() => {
        this.rebuild();
        this.emitter.fire(undefined);
      }),
    );
  }

  dispose(): void {
    for (const d of this.disposables) {
      d.dispose();
    }
  }

  private rebuild(): void {
    this.roots = buildTree(this.model.files, this.manager.runs.list());
    this.parents.clear();
    const walk = (nodes: ViewNode[]) => {
      for (const n of nodes) {
        for (const c of n.children) {
          this.parents.set(c.id, n);
        }
        walk(n.children);
      }
    };
    walk(this.roots);
    if (this.view) {
      const t = totals(this.model.files, this.manager.runs.list());
      this.view.description = this.model.files.length ? `${t.done}/${t.total} done` : undefined;
      this.view.message = this.model.error
        ? `taskdroid: ${this.model.error}`
        : this.model.loaded && this.roots.length === 0
          ? 'No tasks found in the task files of this workspace.'
          : undefined;
    }
  }

  getChildren(node?: ViewNode): ViewNode[] {
    return node ? node.children : this.roots;
  }

  getParent(node: ViewNode): ViewNode | undefined {
    return this.parents.get(node.id);
  }

  getTreeItem(node: ViewNode): vscode.TreeItem {
    // files and sections open (a task list reads top to bottom); subtasks and requirements folded
    const expanded = node.expanded ?? (node.kind === 'file' || node.kind === 'section');
    const item = new vscode.TreeItem(
      node.label,
      node.collapsible ? (expanded ? vscode.TreeItemCollapsibleState.Expanded : vscode.TreeItemCollapsibleState.Collapsed) : vscode.TreeItemCollapsibleState.None,
    );
    item.id = node.id;
    item.description = node.description;
    item.tooltip = new vscode.MarkdownString(node.tooltip.split('\n').map(escapeMarkdown).join('  \n'), true);
    item.contextValue = node.context;
    const uri = vscode.Uri.parse(node.uri);
    if (node.kind === 'file') {
      item.resourceUri = uri;
      item.iconPath = vscode.ThemeIcon.File;
    } else if (node.icon) {
      item.iconPath = new vscode.ThemeIcon(node.icon.id, node.icon.color ? new vscode.ThemeColor(node.icon.color) : undefined);
    }
    if (node.kind !== 'file') {
      item.command = { command: VIEW_COMMANDS.reveal, title: 'Reveal in Editor', arguments: [node] };
    }
    return item;
  }
}

function escapeMarkdown(text: string): string {
  // keep `$(icon)` references, escape what markdown would read
  return text.replace(/([\\`*_{}[\]<>#+!|])/g, '\\$1');
}

export const VIEW_COMMANDS = {
  refresh: 'taskdroid.tasks.refresh',
  reveal: 'taskdroid.tasks.reveal',
  setStatus: 'taskdroid.tasks.setStatus',
  run: 'taskdroid.tasks.run',
  runReady: 'taskdroid.tasks.runReady',
  focus: 'taskdroid.showTasksView',
} as const;

export interface TasksViewDeps {
  /** set the status of a task (the Set Status quick pick) */
  setStatus(uri: vscode.Uri, taskId: string): Promise<void>;
  /** wrap a command body: errors become an error message (never thrown into VS Code) */
  guard(name: string, fn: (...args: unknown[]) => Promise<unknown>): (...args: unknown[]) => Promise<unknown>;
}

/** Register the view, its commands and the status bar item. */
export function registerTasksView(context: vscode.ExtensionContext, manager: ServerManager, deps: TasksViewDeps): TasksModel {
  const model = new TasksModel(manager);
  const provider = new TasksTreeProvider(model, manager);
  const view = vscode.window.createTreeView(VIEW_ID, { treeDataProvider: provider, showCollapseAll: true });
  provider.view = view;
  context.subscriptions.push(model, provider, view);

  const bar = vscode.window.createStatusBarItem('taskdroid.tasks', vscode.StatusBarAlignment.Left, 49);
  bar.name = 'taskdroid tasks';
  bar.command = VIEW_COMMANDS.focus;
  context.subscriptions.push(bar);
  const updateBar = () => {
    if (!model.loaded || model.files.length === 0) {
      bar.hide();
      return;
    }
    const t = totals(model.files, manager.runs.list());
    bar.text = statusBarText(t);
    bar.tooltip = `taskdroid: ${t.done} of ${t.total} tasks done, ${t.running} running — click to show the Tasks view`;
    bar.show();
  };
  context.subscriptions.push(model.onDidChange(updateBar));
  updateBar();

  const reg = (id: string, fn: (...args: unknown[]) => Promise<unknown>) => context.subscriptions.push(vscode.commands.registerCommand(id, deps.guard(id, fn)));
  const nodeOf = (arg: unknown): ViewNode | undefined => (arg !== null && typeof arg === 'object' && 'kind' in arg ? (arg as ViewNode) : view.selection[0]);

  reg(VIEW_COMMANDS.refresh, () => model.refresh());
  reg(VIEW_COMMANDS.focus, async () => {
    await vscode.commands.executeCommand(`${VIEW_ID}.focus`);
  });
  reg(VIEW_COMMANDS.reveal, async (arg) => {
    const node = nodeOf(arg);
    if (node === undefined) {
      return;
    }
    const doc = await vscode.workspace.openTextDocument(vscode.Uri.parse(node.uri));
    const line = Math.min(node.line ?? 0, Math.max(doc.lineCount - 1, 0));
    const pos = new vscode.Position(line, 0);
    await vscode.window.showTextDocument(doc, { selection: new vscode.Range(pos, pos), preserveFocus: false });
  });
  reg(VIEW_COMMANDS.setStatus, async (arg) => {
    const node = nodeOf(arg);
    if (node?.kind !== 'task') {
      return;
    }
    if (node.taskId === undefined) {
      void vscode.window.showInformationMessage('taskdroid: this task has no ID; give it one (e.g. `- [ ] 1.2 Title`) to set its status from here.');
      return;
    }
    await deps.setStatus(vscode.Uri.parse(node.uri), node.taskId);
  });
  reg(VIEW_COMMANDS.run, async (arg) => {
    const node = nodeOf(arg);
    if (node?.kind !== 'task' || node.taskId === undefined) {
      return;
    }
    if (!trusted()) {
      return;
    }
    await manager.execute('taskdroid.runTask', { uri: node.uri, taskId: node.taskId });
  });
  reg(VIEW_COMMANDS.runReady, async (arg) => {
    const node = nodeOf(arg);
    if (node === undefined || !trusted()) {
      return;
    }
    // the server's queued run (docs/language.md §7): the ready tasks with a droid of the file,
    // or of the section when run from a section (its heading's 0-based line)
    const args: Record<string, unknown> = { uri: node.uri };
    if (node.kind === 'section' && typeof node.line === 'number') {
      args.section = node.line;
    }
    const result = await manager.execute(RUN_READY, args);
    const ids = runIdsOf(result);
    for (const runId of ids) {
      manager.runs.launched(runId, { uri: node.uri });
    }
    if (ids.length === 0) {
      void vscode.window.showInformationMessage('taskdroid: no task here is ready to run (pending, dependencies completed, with a droid).');
    }
  });
  return model;
}

function trusted(): boolean {
  if (vscode.workspace.isTrusted) {
    return true;
  }
  void vscode.window.showWarningMessage('taskdroid: droid runs are disabled in an untrusted workspace (Restricted Mode). Trust the workspace to run droids.');
  return false;
}
