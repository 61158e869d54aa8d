/**
 * "taskdroid: Show Dependency Graph": `taskdroid graph --format mermaid` (run the same way as the
 * server) rendered in a webview with the bundled mermaid, refreshed when task files change.
 */
import { execFile } from 'child_process';
import * as vscode from 'vscode';
import { graphHtml, graphMarkdown, makeNonce } from './graph';
import { graphLaunch } from './launch';
import { ServerManager, errorText } from './server';
import { selectorGlobs } from './settings';

const GRAPH_TIMEOUT_MS = 60_000;
const REFRESH_DELAY_MS = 800;

export class GraphView implements vscode.Disposable {
  private panel: vscode.WebviewPanel | undefined;
  private folder: vscode.WorkspaceFolder | undefined;
  private mermaid = '';
  private watchers: vscode.Disposable[] = [];
  private refreshTimer: NodeJS.Timeout | undefined;
  private readonly disposables: { dispose(): unknown }[] = [];

  constructor(
    private readonly context: vscode.ExtensionContext,
    private readonly manager: ServerManager,
  ) {
    this.disposables.push(
      vscode.workspace.onDidChangeConfiguration((e) => {
        if (e.affectsConfiguration('taskdroid.taskFiles') || e.affectsConfiguration('taskdroid.droidFiles')) {
          this.watch();
        }
      }),
    );
  }

  dispose(): void {
    clearTimeout(this.refreshTimer);
    this.panel?.dispose();
    this.unwatch();
    for (const d of this.disposables) {
      d.dispose();
    }
  }

  async show(): Promise<void> {
    const folder = await this.pickFolder();
    if (folder === undefined) {
      return;
    }
    this.folder = folder;
    this.mermaid = await this.runGraph(folder);
    if (this.panel === undefined) {
      this.panel = vscode.window.createWebviewPanel(
        'taskdroid.graph',
        'taskdroid: Dependency Graph',
        { viewColumn: vscode.ViewColumn.Beside, preserveFocus: false },
        {
          enableScripts: true,
          retainContextWhenHidden: false,
          localResourceRoots: [vscode.Uri.joinPath(this.context.extensionUri, 'dist', 'media')],
        },
      );
      this.panel.iconPath = vscode.Uri.joinPath(this.context.extensionUri, 'media', 'icon.png');
      this.panel.onDidDispose(() => {
        this.panel = undefined;
        this.unwatch();
      });
      this.panel.webview.onDidReceiveMessage((msg: unknown) => {
        const type = msg && typeof msg === 'object' ? (msg as { type?: unknown }).type : undefined;
        if (type === 'refresh') {
          void this.refresh();
        } else if (type === 'markdown') {
          void this.openMarkdown();
        }
      });
      this.watch();
    } else {
      this.panel.reveal(undefined, false);
    }
    this.render();
  }

  private render(): void {
    const panel = this.panel;
    if (panel === undefined || this.folder === undefined) {
      return;
    }
    const media = (file: string) => panel.webview.asWebviewUri(vscode.Uri.joinPath(this.context.extensionUri, 'dist', 'media', file)).toString();
    const kind = vscode.window.activeColorTheme.kind;
    panel.webview.html = graphHtml({
      mermaid: this.mermaid,
      mermaidScript: media('mermaid.min.js'),
      viewScript: media('graph.js'),
      cspSource: panel.webview.cspSource,
      nonce: makeNonce(),
      heading: this.folder.name,
      theme: kind === vscode.ColorThemeKind.Dark || kind === vscode.ColorThemeKind.HighContrast ? 'dark' : 'default',
    });
  }

  private async refresh(): Promise<void> {
    if (this.folder === undefined || this.panel === undefined) {
      return;
    }
    try {
      const next = await this.runGraph(this.folder);
      if (next !== this.mermaid) {
        this.mermaid = next;
        this.render();
      }
    } catch (e) {
      this.manager.log.warn(`dependency graph refresh: ${errorText(e)}`);
    }
  }

  private async openMarkdown(): Promise<void> {
    const doc = await vscode.workspace.openTextDocument({
      language: 'markdown',
      content: graphMarkdown(this.mermaid, this.folder?.name ?? ''),
    });
    await vscode.window.showTextDocument(doc, vscode.ViewColumn.Active);
    await vscode.commands.executeCommand('markdown.showPreviewToSide');
  }

  /** Watch task and droid files (the docs/language.md §1 globs, or the settings) while the panel is open. */
  private watch(): void {
    this.unwatch();
    if (this.panel === undefined) {
      return;
    }
    const config = vscode.workspace.getConfiguration('taskdroid');
    for (const glob of selectorGlobs(config.get('taskFiles'), config.get('droidFiles'))) {
      const w = vscode.workspace.createFileSystemWatcher(glob);
      const kick = () => this.scheduleRefresh();
      w.onDidChange(kick);
      w.onDidCreate(kick);
      w.onDidDelete(kick);
      this.watchers.push(w);
    }
    // unsaved edits count too (the CLI reads the disk, so refresh on save)
    this.watchers.push(vscode.workspace.onDidSaveTextDocument(() => this.scheduleRefresh()));
  }

  private unwatch(): void {
    for (const w of this.watchers) {
      w.dispose();
    }
    this.watchers = [];
  }

  private scheduleRefresh(): void {
    clearTimeout(this.refreshTimer);
    this.refreshTimer = setTimeout(() => void this.refresh(), REFRESH_DELAY_MS);
  }

  private async pickFolder(): Promise<vscode.WorkspaceFolder | undefined> {
    const folders = (vscode.workspace.workspaceFolders ?? []).filter((f) => f.uri.scheme === 'file');
    if (folders.length === 0) {
      void vscode.window.showInformationMessage('taskdroid: open a folder first — the graph is drawn for a workspace folder.');
      return undefined;
    }
    const active = vscode.window.activeTextEditor?.document.uri;
    const own = active ? vscode.workspace.getWorkspaceFolder(active) : undefined;
    if (own !== undefined || folders.length === 1) {
      return own ?? folders[0];
    }
    return vscode.window.showWorkspaceFolderPick({ placeHolder: 'Dependency graph of which folder?' });
  }

  private runGraph(folder: vscode.WorkspaceFolder): Promise<string> {
    const candidate = this.manager.candidate;
    if (candidate === undefined) {
      throw new Error('the language server is not running, so there is no taskdroid to draw the graph with');
    }
    const root = folder.uri.fsPath;
    // the folder is passed as `--root` and path; the current directory is never the workspace
    const argv = graphLaunch(candidate, root, this.manager.launchCwd());
    if (argv === undefined) {
      throw new Error(
        `cannot derive \`taskdroid graph\` from the server command (${[candidate.command, ...candidate.args].join(' ')}): it has no \`lsp\` argument`,
      );
    }
    this.manager.log.info(`graph: ${[argv.command, ...argv.args].join(' ')}`);
    return new Promise((resolve, reject) => {
      execFile(
        argv.command,
        argv.args,
        { ...argv.options, timeout: GRAPH_TIMEOUT_MS, maxBuffer: 64 * 1024 * 1024, windowsHide: true },
        (error, stdout, stderr) => {
          if (error) {
            const why = stderr.trim().split(/\r?\n/).pop() || error.message;
            reject(new Error(`taskdroid graph failed: ${why}`));
          } else {
            resolve(stdout);
          }
        },
      );
    });
  }
}
