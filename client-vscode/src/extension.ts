/**
 * taskdroid for VS Code: starts `taskdroid lsp` and wires its features into the editor.
 */
import * as vscode from 'vscode';
import { COMMANDS, registerCommands } from './commands';
import { GraphView } from './graphView';
import { RunTracker, statusText } from './runs';
import { ServerManager } from './server';
import { registerTasksView } from './tasksView';

let manager: ServerManager | undefined;

export async function activate(context: vscode.ExtensionContext): Promise<void> {
  const log = vscode.window.createOutputChannel('taskdroid', { log: true });
  context.subscriptions.push(log);
  const pkg = context.extension.packageJSON as { version?: unknown };
  log.info(`taskdroid ${String(pkg.version)} activating (VS Code ${vscode.version})`);

  const runs = new RunTracker();
  manager = new ServerManager(log, runs, context.extensionPath);
  context.subscriptions.push(manager);
  const graph = new GraphView(context, manager);
  context.subscriptions.push(graph);
  const helpers = registerCommands(context, manager, graph);
  registerTasksView(context, manager, helpers);

  // status bar: server state, and the droid runs (click: cancel one)
  const item = vscode.window.createStatusBarItem('taskdroid.status', vscode.StatusBarAlignment.Left, 50);
  item.name = 'taskdroid';
  context.subscriptions.push(item);
  const update = () => {
    const m = manager;
    if (m === undefined) {
      return;
    }
    const summary = runs.summary();
    item.text = statusText(summary, m.state);
    const busy = summary.running + summary.queued > 0;
    const tip = new vscode.MarkdownString(undefined, true);
    tip.appendMarkdown(`**taskdroid** — language server ${m.state}`);
    if (m.candidate) {
      tip.appendMarkdown(`\n\n\`${[m.candidate.command, ...m.candidate.args].join(' ')}\``);
    }
    for (const r of runs.list()) {
      tip.appendMarkdown(`\n\n$(${r.state === 'running' ? 'sync' : 'clock'}) ${r.title} — ${r.state}${r.message ? `: ${r.message}` : ''}`);
    }
    tip.appendMarkdown(busy ? '\n\nClick to cancel a run.' : '\n\nClick to show the log.');
    item.tooltip = tip;
    item.command = busy ? COMMANDS.cancelActiveRun : COMMANDS.showOutput;
    item.backgroundColor = m.state === 'failed' ? new vscode.ThemeColor('statusBarItem.errorBackground') : undefined;
    item.show();
  };
  context.subscriptions.push(runs.onDidChange(update), manager.onDidChangeState(update));
  update();

  await manager.start();
}

export async function deactivate(): Promise<void> {
  const m = manager;
  manager = undefined;
  await m?.stop();
}
