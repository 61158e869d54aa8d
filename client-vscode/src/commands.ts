/** The palette commands (their ids differ from the server's command ids, which the client registers). */
import * as path from 'path';
import * as vscode from 'vscode';
import { GraphView } from './graphView';
import { Run } from './runs';
import { CANCEL_RUN, CREATE_DROID, NEXT_TASKS, RUN_TASK, SET_STATUS, ServerManager, errorText } from './server';
import { parseOutline, taskAtLine } from './outline';
import { OUTLINE } from './outlineFeature';
import { STATUSES, parseNextTasks } from './tasks';

export const COMMANDS = {
  runTaskAtCursor: 'taskdroid.runTaskAtCursor',
  setTaskStatus: 'taskdroid.setTaskStatus',
  openNextTask: 'taskdroid.openNextTask',
  cancelActiveRun: 'taskdroid.cancelActiveRun',
  showDependencyGraph: 'taskdroid.showDependencyGraph',
  restartServer: 'taskdroid.restartServer',
  showOutput: 'taskdroid.showOutput',
  newDroid: 'taskdroid.newDroid',
} as const;

interface TaskRef {
  uri: vscode.Uri;
  taskId: string;
  line: number;
}

export interface CommandHelpers {
  setStatus(uri: vscode.Uri, taskId: string, status?: string): Promise<void>;
  guard(name: string, fn: (...args: unknown[]) => Promise<unknown>): (...args: unknown[]) => Promise<unknown>;
}

export function registerCommands(context: vscode.ExtensionContext, manager: ServerManager, graph: GraphView): CommandHelpers {
  const log = manager.log;
  const guard =
    (name: string, fn: (...args: unknown[]) => Promise<unknown>) =>
    async (...args: unknown[]) => {
      try {
        return await fn(...args);
      } catch (e) {
        log.error(`${name}: ${errorText(e)}`);
        void vscode.window.showErrorMessage(`taskdroid: ${errorText(e)}`);
        return undefined;
      }
    };
  const reg = (id: string, fn: (...args: unknown[]) => Promise<unknown>) =>
    context.subscriptions.push(vscode.commands.registerCommand(id, guard(id, fn)));

  reg(COMMANDS.runTaskAtCursor, async () => {
    if (!vscode.workspace.isTrusted) {
      void vscode.window.showWarningMessage(
        'taskdroid: droid runs are disabled in an untrusted workspace (Restricted Mode). Trust the workspace to run droids.',
      );
      return;
    }
    const task = await taskAtCursor();
    if (task === undefined) {
      return;
    }
    const result = await manager.execute(RUN_TASK, { uri: task.uri.toString(), taskId: task.taskId });
    log.info(`run of task ${task.taskId} accepted: ${JSON.stringify(result)}`);
  });

  reg(COMMANDS.setTaskStatus, async (arg?: unknown) => {
    const task = await taskAtCursor();
    if (task === undefined) {
      return;
    }
    await setStatus(task.uri, task.taskId, typeof arg === 'string' ? arg : undefined);
  });

  /** The Set Status quick pick (and note) for a task, then `taskdroid.setStatus`. */
  async function setStatus(uri: vscode.Uri, taskId: string, status?: string): Promise<void> {
    const task = { uri, taskId };
    const preset = status !== undefined ? STATUSES.find((s) => s.status === status) : undefined;
    const picked =
      preset ??
      (
        await vscode.window.showQuickPick(
          STATUSES.map((s) => ({ label: `$(${s.icon}) ${s.label}`, description: s.marker, info: s })),
          { title: `taskdroid: set the status of task ${task.taskId}`, placeHolder: 'New status' },
        )
      )?.info;
    if (picked === undefined) {
      return;
    }
    let note: string | undefined;
    if (picked.note) {
      note = await vscode.window.showInputBox({
        title: `taskdroid: task ${task.taskId} — ${picked.label.toLowerCase()}`,
        prompt: picked.status === 'blocked' ? 'What blocks it? (written as **Issue**)' : 'Why? (optional)',
        placeHolder: 'optional note',
      });
      if (note === undefined) {
        return; // Escape
      }
    }
    const argument: Record<string, string> = { uri: task.uri.toString(), taskId: task.taskId, status: picked.status };
    if (note) {
      argument.note = note;
    }
    await manager.execute(SET_STATUS, argument);
  }

  reg(COMMANDS.openNextTask, async () => {
    const active = vscode.window.activeTextEditor?.document.uri;
    const raw = await manager.execute(NEXT_TASKS, {});
    const tasks = parseNextTasks(raw);
    if (tasks.length === 0) {
      void vscode.window.showInformationMessage('taskdroid: no task is ready (pending, with every dependency completed).');
      return;
    }
    const items = tasks.map((t) => {
      const uri = vscode.Uri.parse(t.uri);
      const folder = vscode.workspace.getWorkspaceFolder(uri);
      const rel = folder ? path.relative(folder.uri.fsPath, uri.fsPath) : uri.fsPath;
      const extra = [t.droid ? `$(hubot) ${t.droid}` : undefined, t.priority ?? undefined].filter(Boolean).join('  ');
      return {
        label: `$(circle-large-outline) ${t.taskId ? `${t.taskId} ` : ''}${t.title}`,
        description: extra,
        detail: rel,
        task: t,
        uri,
        picked: active?.toString() === uri.toString(),
      };
    });
    const pick = await vscode.window.showQuickPick(items, {
      title: 'taskdroid: next tasks (ready to start)',
      placeHolder: 'Open a ready task',
      matchOnDescription: true,
      matchOnDetail: true,
    });
    if (pick === undefined) {
      return;
    }
    const doc = await vscode.workspace.openTextDocument(pick.uri);
    const line = pick.task.line ?? 0; // the server sends it
    const pos = new vscode.Position(Math.min(line, doc.lineCount - 1), 0);
    await vscode.window.showTextDocument(doc, { selection: new vscode.Range(pos, pos) });
  });

  reg(COMMANDS.cancelActiveRun, async (arg?: unknown) => {
    const runs = manager.runs.list();
    let run: Run | undefined = typeof arg === 'string' ? manager.runs.get(arg) : undefined;
    if (run === undefined) {
      if (runs.length === 0) {
        void vscode.window.showInformationMessage('taskdroid: no droid run is running or queued.');
        return;
      }
      const pick = await vscode.window.showQuickPick(
        runs.map((r) => ({
          label: `$(${r.state === 'running' ? 'sync~spin' : 'clock'}) ${r.title}`,
          description: [r.state, r.droid].filter(Boolean).join(' · '),
          detail: r.message,
          run: r,
        })),
        { title: 'taskdroid: cancel a droid run', placeHolder: 'Run to cancel' },
      );
      run = pick?.run;
    }
    if (run === undefined) {
      return;
    }
    if (run.runId !== undefined && manager.offers(CANCEL_RUN)) {
      await manager.execute(CANCEL_RUN, { runId: run.runId });
      if (run.token === undefined) {
        manager.runs.remove(run.key);
      }
    } else if (run.token !== undefined && manager.progress?.cancel(run.token)) {
      // the server ends the progress, which removes the run
    } else {
      throw new Error('this run cannot be cancelled from here (the server offers no taskdroid.cancelRun)');
    }
  });

  reg(COMMANDS.showDependencyGraph, async () => graph.show());
  reg(COMMANDS.restartServer, async () => manager.restart('"taskdroid: Restart Server"'));
  reg(COMMANDS.showOutput, () => {
    manager.log.show();
    return Promise.resolve();
  });

  reg(COMMANDS.newDroid, async () => {
    const name = await vscode.window.showInputBox({
      title: 'taskdroid: new droid',
      prompt: 'Droid name (lower case letters, digits, - and _)',
      validateInput: (v) => (/^[a-z0-9][a-z0-9_-]*$/.test(v) ? undefined : 'a name like backend-engineer'),
    });
    if (!name) {
      return;
    }
    const folder = await vscode.window.showQuickPick(
      [
        { label: '.factory/droids', description: 'Factory droid' },
        { label: '.claude/agents', description: 'Claude Code subagent' },
      ],
      { title: `taskdroid: where should ${name} live?` },
    );
    if (folder === undefined) {
      return;
    }
    const result = await manager.execute(CREATE_DROID, { name, folder: folder.label });
    const uri = resultUri(result) ?? defaultDroidUri(folder.label, name);
    if (uri) {
      await vscode.window.showTextDocument(uri);
    }
  });

  async function taskAtCursor(): Promise<TaskRef | undefined> {
    const editor = vscode.window.activeTextEditor;
    if (editor === undefined || editor.document.languageId !== 'markdown') {
      void vscode.window.showInformationMessage('taskdroid: put the cursor on a task in a task file first.');
      return undefined;
    }
    const doc = editor.document;
    const line = editor.selection.active.line;
    // the server's outline of this file (it knows which task holds the line; we parse nothing)
    const files = parseOutline(await manager.execute(OUTLINE, { uri: doc.uri.toString() }));
    const task = taskAtLine(files, doc.uri.toString(), line);
    if (task === undefined) {
      void vscode.window.showInformationMessage('taskdroid: there is no task at the cursor.');
      return undefined;
    }
    if (task.id === null) {
      void vscode.window.showInformationMessage(
        'taskdroid: the task at the cursor has no ID; give it one (e.g. `- [ ] 1.2 Title`), or use the light bulb (Ctrl+.) actions.',
      );
      return undefined;
    }
    return { uri: doc.uri, taskId: task.id, line: task.line };
  }

  return { setStatus, guard };
}

function resultUri(result: unknown): vscode.Uri | undefined {
  if (result && typeof result === 'object') {
    const uri = (result as { uri?: unknown }).uri;
    if (typeof uri === 'string') {
      return vscode.Uri.parse(uri);
    }
  }
  return undefined;
}

function defaultDroidUri(folder: string, name: string): vscode.Uri | undefined {
  const root = vscode.workspace.workspaceFolders?.[0]?.uri;
  return root ? vscode.Uri.joinPath(root, folder, `${name}.md`) : undefined;
}
