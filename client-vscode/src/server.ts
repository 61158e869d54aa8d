/**
 * Starting, restarting and stopping `taskdroid lsp`, and the middleware between it and VS Code.
 */
import { execFile } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import * as vscode from 'vscode';
import {
  CloseAction,
  ConfigurationParams,
  ErrorAction,
  ExecuteCommandRequest,
  LanguageClient,
  LanguageClientOptions,
  RevealOutputChannelOn,
  ServerOptions,
  State,
} from 'vscode-languageclient/node';
import {
  BUNDLED_TOOL,
  BUNDLE_MARKER,
  BundledServer,
  Candidate,
  Probe,
  Resolution,
  bundleTargetProblem,
  findOnPath,
  isInside,
  missingServerMessage,
  resolveServer,
} from './discovery';
import { Launch, launchCwd, probeFailure, probeLaunch, serverLaunch, settingCommandProblem } from './launch';
import { StderrClassifier } from './log';
import { ProgressFeature } from './progress';
import { OutlineFeature, RUN_READY } from './outlineFeature';
import { onInterpreterChange, selectedInterpreter } from './python';
import { RunTracker, runIdOf } from './runs';
import { ConfigReader, documentSelector, needsRestart, serverSettings } from './settings';

export const RUN_TASK = 'taskdroid.runTask';
export const CANCEL_RUN = 'taskdroid.cancelRun';
export const SET_STATUS = 'taskdroid.setStatus';
export const NEXT_TASKS = 'taskdroid.nextTasks';
export const CREATE_DROID = 'taskdroid.createDroid';
/** Offered by the server in place of a run when no runner is configured: opens the setting here. */
export const CONFIGURE_RUNNER = 'taskdroid.configureRunner';
/** Lenses and actions withheld in an untrusted workspace (no droid runs there). */
const RUN_COMMANDS: ReadonlySet<string> = new Set([RUN_TASK, RUN_READY, CONFIGURE_RUNNER]);

export type ServerState = 'starting' | 'running' | 'stopped' | 'failed';

const RESTART_DELAY_MS = 500;
const PROBE_TIMEOUT_MS = 20_000;
const MAX_CRASH_RESTARTS = 3;
const CRASH_WINDOW_MS = 3 * 60_000;

export class ServerManager implements vscode.Disposable {
  client: LanguageClient | undefined;
  /** how the running server was started */
  candidate: Candidate | undefined;
  state: ServerState = 'stopped';
  progress: ProgressFeature | undefined;

  private readonly stateEmitter = new vscode.EventEmitter<ServerState>();
  readonly onDidChangeState = this.stateEmitter.event;
  /** `taskdroid/outlineChanged`: the task files whose outline may have changed (undefined: any) */
  private readonly outlineEmitter = new vscode.EventEmitter<string[] | undefined>();
  readonly onOutlineChanged = this.outlineEmitter.event;
  private readonly disposables: { dispose(): unknown }[] = [];
  private restartTimer: NodeJS.Timeout | undefined;
  /** serialises start/stop */
  private queue: Promise<void> = Promise.resolve();
  private lastMissing: string | undefined;

  constructor(
    readonly log: vscode.LogOutputChannel,
    readonly runs: RunTracker,
    /** the extension's own folder: the current directory of every process we start */
    readonly extensionPath: string,
  ) {
    this.disposables.push(
      this.stateEmitter,
      this.outlineEmitter,
      vscode.workspace.onDidChangeConfiguration((e) => {
        if (needsRestart((section) => e.affectsConfiguration(section))) {
          this.log.info('taskdroid settings that need a restart changed');
          this.scheduleRestart('settings changed');
        }
      }),
      vscode.workspace.onDidGrantWorkspaceTrust(() => {
        this.log.info('workspace trusted: droid runs are allowed now');
        this.scheduleRestart('workspace trusted');
      }),
      vscode.workspace.onDidChangeWorkspaceFolders(() => {
        // the server follows folder changes itself (its current directory is never a workspace folder)
      }),
    );
    void onInterpreterChange(() => {
      if (this.candidate === undefined || this.candidate.source !== 'setting') {
        this.log.info('the selected Python interpreter changed');
        this.scheduleRestart('interpreter changed');
      }
    }).then((d) => d && this.disposables.push(d));
  }

  dispose(): void {
    clearTimeout(this.restartTimer);
    for (const d of this.disposables) {
      d.dispose();
    }
  }

  private setState(state: ServerState): void {
    this.state = state;
    this.stateEmitter.fire(state);
  }

  /** Restart after a quiet period (several changes in a row restart once). */
  scheduleRestart(reason: string, delay = RESTART_DELAY_MS): void {
    clearTimeout(this.restartTimer);
    this.restartTimer = setTimeout(() => {
      this.restartTimer = undefined;
      void this.restart(reason);
    }, delay);
  }

  restart(reason: string): Promise<void> {
    return this.enqueue(async () => {
      this.log.info(`restarting the server (${reason})`);
      await this.doStop();
      await this.doStart();
    });
  }

  start(): Promise<void> {
    return this.enqueue(() => this.doStart());
  }

  stop(): Promise<void> {
    clearTimeout(this.restartTimer);
    return this.enqueue(() => this.doStop());
  }

  private enqueue(step: () => Promise<void>): Promise<void> {
    const next = this.queue.then(step, step);
    this.queue = next.catch((e: unknown) => {
      this.log.error(`server start/stop failed: ${e instanceof Error ? e.message : String(e)}`);
    });
    return this.queue;
  }

  private async doStop(): Promise<void> {
    const client = this.client;
    this.client = undefined;
    this.candidate = undefined;
    this.progress = undefined;
    this.runs.clear();
    if (client !== undefined) {
      try {
        if (client.state !== State.Stopped) {
          await client.stop(5000);
        }
      } catch (e) {
        this.log.warn(`stopping the server: ${e instanceof Error ? e.message : String(e)}`);
      }
      try {
        await client.dispose();
      } catch {
        // already gone
      }
    }
    this.setState('stopped');
  }

  private async doStart(): Promise<void> {
    this.setState('starting');
    const resolution = await this.resolve();
    const chosen = resolution.chosen;
    if (chosen === undefined) {
      this.setState('failed');
      this.reportMissing(resolution);
      return;
    }
    this.lastMissing = undefined;
    for (const f of resolution.failures) {
      if (f.candidate !== undefined) {
        this.log.warn(`not using ${f.candidate.origin}: ${f.reason}`);
      }
    }
    this.log.info(`starting ${[chosen.command, ...chosen.args].join(' ')} (from ${chosen.origin})`);
    const client = this.createClient(chosen);
    this.client = client;
    this.candidate = chosen;
    client.onDidChangeState((e) => {
      if (this.client !== client) {
        return;
      }
      if (e.newState === State.Running) {
        this.setState('running');
      } else if (e.newState === State.Stopped) {
        this.runs.clear();
        this.setState(this.state === 'starting' ? 'failed' : 'stopped');
      } else {
        this.setState('starting');
      }
    });
    try {
      await client.start();
      this.setState('running');
    } catch (e) {
      this.setState('failed');
      const message = e instanceof Error ? e.message : String(e);
      this.log.error(`the server did not start: ${message}`);
      void vscode.window
        .showErrorMessage(`taskdroid: the language server did not start (${message}).`, 'Show Output')
        .then((pick) => pick && this.log.show());
    }
  }

  // -- discovery --------------------------------------------------------------------------------

  /** The current directory for the server and its helpers: never inside a workspace folder. */
  launchCwd(): string {
    return launchCwd([this.extensionPath], this.folderPaths());
  }

  private folderPaths(): string[] {
    return (vscode.workspace.workspaceFolders ?? []).filter((f) => f.uri.scheme === 'file').map((f) => f.uri.fsPath);
  }

  private async resolve(): Promise<Resolution> {
    const config = vscode.workspace.getConfiguration('taskdroid');
    // user settings only: a workspace must not choose the program we start
    const settingCommand = config.inspect('server.command')?.globalValue;
    const folder = vscode.workspace.workspaceFolders?.[0]?.uri;
    const interpreter = await selectedInterpreter(folder);
    let pythonPath = interpreter.path;
    let pythonMissingReason = interpreter.reason;
    if (pythonPath && !vscode.workspace.isTrusted && isInside(pythonPath, this.folderPaths())) {
      pythonMissingReason = `the selected interpreter ${pythonPath} is inside this untrusted workspace`;
      pythonPath = undefined;
    }
    const pathTaskdroid = findOnPath('taskdroid', process.env.PATH, isExecutable, {
      extraDirs: [path.join(os.homedir(), '.local', 'bin')],
    });
    const { bundled, bundledMissingReason } = this.bundledServer(pythonPath);
    return resolveServer(
      { settingCommand, pythonPath, pythonMissingReason, pathTaskdroid, bundled, bundledMissingReason },
      (c) => this.probe(c),
    );
  }

  /** The server carried by a platform build (`bundled/libs`), and the interpreters to run it with. */
  private bundledServer(pythonPath: string | undefined): { bundled?: BundledServer; bundledMissingReason?: string } {
    const marker = path.join(this.extensionPath, ...BUNDLE_MARKER);
    let target: unknown;
    try {
      target = (JSON.parse(fs.readFileSync(marker, 'utf8')) as { target?: unknown }).target;
    } catch {
      return { bundledMissingReason: 'this build of the extension carries no server (a platform build does)' };
    }
    const problem = bundleTargetProblem(target, process.platform, process.arch);
    if (problem !== undefined) {
      return { bundledMissingReason: problem };
    }
    const untrusted = !vscode.workspace.isTrusted;
    const interpreters = [
      pythonPath,
      ...['python3', 'python'].map((name) => findOnPath(name, process.env.PATH, isExecutable)),
    ].filter((p): p is string => p !== undefined && !(untrusted && isInside(p, this.folderPaths())));
    return { bundled: { tool: path.join(this.extensionPath, ...BUNDLED_TOOL), interpreters } };
  }

  private async probe(candidate: Candidate): Promise<Probe> {
    const launch = probeLaunch(candidate, this.launchCwd());
    if (launch !== undefined) {
      return run(launch, (stderr) => probeFailure(candidate, stderr));
    }
    const problem = settingCommandProblem(candidate.command);
    if (problem !== undefined) {
      return { ok: false, reason: problem };
    }
    const exe = resolveExecutable(candidate.command);
    return exe ? { ok: true } : { ok: false, reason: `${candidate.command} is not an executable file (nor on PATH)` };
  }

  private reportMissing(resolution: Resolution): void {
    const message = missingServerMessage(resolution);
    this.log.error(message);
    if (this.lastMissing === message) {
      return; // one notification, not one per restart
    }
    this.lastMissing = message;
    void vscode.window.showErrorMessage(message, 'Open Setting', 'How to Install', 'Show Output').then(async (pick) => {
      if (pick === 'Open Setting') {
        await vscode.commands.executeCommand('workbench.action.openSettings', 'taskdroid.server.command');
      } else if (pick === 'How to Install') {
        // the extension's own README (its "The server" section), offline
        await vscode.commands.executeCommand('markdown.showPreview', vscode.Uri.file(path.join(this.extensionPath, 'README.md')));
      } else if (pick === 'Show Output') {
        this.log.show();
      }
    });
  }

  // -- the client -------------------------------------------------------------------------------

  private createClient(candidate: Candidate): LanguageClient {
    const config = vscode.workspace.getConfiguration('taskdroid');
    // never a workspace folder as current directory (see launch.ts); the server gets its folders
    // from `initialize`. No `transport`: stdio is the default, and TransportKind.stdio would
    // append `--stdio`.
    const serverOptions: ServerOptions = serverLaunch(candidate, this.launchCwd(), process.env);
    const stderr = new StderrClassifier();
    const crashes: number[] = [];
    const clientOptions: LanguageClientOptions = {
      documentSelector: documentSelector(config.get('taskFiles'), config.get('droidFiles')),
      outputChannel: this.log,
      traceOutputChannel: this.log,
      revealOutputChannelOn: RevealOutputChannelOn.Never,
      stdioOptions: {
        stdout: () => undefined,
        stderr: (input, channel) => {
          let buffered = '';
          input.setEncoding('utf8');
          input.on('data', (chunk: string) => {
            buffered += chunk;
            let nl: number;
            while ((nl = buffered.indexOf('\n')) >= 0) {
              const line = buffered.slice(0, nl).replace(/\r$/, '');
              buffered = buffered.slice(nl + 1);
              if (line.trim() !== '') {
                const { level, text } = stderr.classify(line);
                channel[level](`[server] ${text}`);
              }
            }
          });
        },
      },
      errorHandler: {
        error: () => ({ action: ErrorAction.Continue }),
        closed: () => {
          // restart after a crash, unless it keeps crashing (then say so once)
          const now = Date.now();
          crashes.push(now);
          while (crashes.length > 0 && (crashes[0] ?? now) < now - CRASH_WINDOW_MS) {
            crashes.shift();
          }
          if (crashes.length <= MAX_CRASH_RESTARTS) {
            this.log.warn(`the taskdroid server stopped unexpectedly; restarting it (${crashes.length}/${MAX_CRASH_RESTARTS})`);
            return { action: CloseAction.Restart, handled: true };
          }
          this.log.error('the taskdroid server keeps stopping; use "taskdroid: Restart Server" after fixing the cause');
          return {
            action: CloseAction.DoNotRestart,
            message: `taskdroid: the language server stopped ${crashes.length} times in ${CRASH_WINDOW_MS / 60_000} minutes. See "taskdroid: Show Output", then run "taskdroid: Restart Server".`,
          };
        },
      },
      middleware: {
        workspace: {
          configuration: (params: ConfigurationParams, token, next) => this.configuration(params, token, next),
        },
        executeCommand: async (command, args, next) => {
          if (command === CONFIGURE_RUNNER) {
            // the setting lives in VS Code: open it rather than asking the server to explain
            await vscode.commands.executeCommand('workbench.action.openSettings', 'taskdroid.runner.command');
            return undefined;
          }
          if ((command === RUN_TASK || command === RUN_READY) && !vscode.workspace.isTrusted) {
            void vscode.window.showWarningMessage(
              'taskdroid: droid runs are disabled in an untrusted workspace (Restricted Mode). Trust the workspace to run droids.',
            );
            return undefined;
          }
          let result: unknown;
          try {
            result = await next(command, args);
          } catch (e) {
            if (e instanceof vscode.CancellationError) {
              throw e;
            }
            // code lenses and code actions run server commands: say why one failed
            void vscode.window.showErrorMessage(`taskdroid: ${command} failed: ${errorText(e)}`);
            return undefined;
          }
          if (command === RUN_TASK) {
            this.trackRun(result, args[0]);
          }
          return result;
        },
        provideCodeLenses: async (document, token, next) => {
          const lenses = await next(document, token);
          if (!lenses || vscode.workspace.isTrusted) {
            return lenses;
          }
          return lenses.filter((l) => !RUN_COMMANDS.has(l.command?.command ?? ''));
        },
        provideCodeActions: async (document, range, context, token, next) => {
          const actions = await next(document, range, context, token);
          if (!actions || vscode.workspace.isTrusted) {
            return actions;
          }
          return actions.filter((a) => {
            const cmd = a instanceof vscode.CodeAction ? a.command?.command : a.command;
            return !RUN_COMMANDS.has(cmd ?? '');
          });
        },
      },
    };
    const client = new LanguageClient('taskdroid', 'taskdroid', serverOptions, clientOptions);
    this.progress = new ProgressFeature(client, this.runs);
    client.registerFeature(this.progress);
    client.registerFeature(new OutlineFeature(client, this.outlineEmitter));
    return client;
  }

  /** Answer `workspace/configuration`: the section `taskdroid` as the server expects it. */
  private async configuration(
    params: ConfigurationParams,
    token: vscode.CancellationToken,
    next: (params: ConfigurationParams, token: vscode.CancellationToken) => unknown,
  ): Promise<unknown[]> {
    const others = params.items.some((i) => i.section !== 'taskdroid');
    const fallback = others ? ((await next(params, token)) as unknown[] | undefined) : undefined;
    return params.items.map((item, i) => {
      if (item.section !== 'taskdroid') {
        return fallback?.[i] ?? null;
      }
      const scope = item.scopeUri ? vscode.Uri.parse(item.scopeUri) : undefined;
      const section = vscode.workspace.getConfiguration('taskdroid', scope);
      const reader: ConfigReader = {
        get: (key) => section.get(key),
        inspect: (key) => section.inspect(key),
      };
      return serverSettings(reader, { trusted: vscode.workspace.isTrusted });
    });
  }

  /** Send `workspace/executeCommand` to the server (one JSON object as the argument). */
  async execute<T = unknown>(command: string, argument: object): Promise<T> {
    const client = this.client;
    if (client === undefined || !client.isRunning()) {
      throw new Error('the taskdroid language server is not running');
    }
    const supported = client.initializeResult?.capabilities.executeCommandProvider?.commands ?? [];
    if (!supported.includes(command)) {
      throw new Error(`this taskdroid server does not offer ${command} yet (update taskdroid)`);
    }
    const result = (await client.sendRequest(ExecuteCommandRequest.type, { command, arguments: [argument] })) as T;
    if (command === RUN_TASK) {
      this.trackRun(result, argument);
    }
    return result;
  }

  /** Does the running server offer this command? */
  offers(command: string): boolean {
    const commands = this.client?.initializeResult?.capabilities.executeCommandProvider?.commands ?? [];
    return commands.includes(command);
  }

  private trackRun(result: unknown, arg: unknown): void {
    const runId = runIdOf(result);
    if (runId === undefined) {
      return;
    }
    const a = arg !== null && typeof arg === 'object' ? (arg as Record<string, unknown>) : {};
    this.runs.launched(runId, {
      uri: typeof a.uri === 'string' ? a.uri : undefined,
      taskId: typeof a.taskId === 'string' ? a.taskId : undefined,
      droid: typeof a.droid === 'string' ? a.droid : undefined,
    });
  }
}

/** The message of an error (a JSON-RPC error's message is what the server said). */
export function errorText(e: unknown): string {
  if (e instanceof Error) {
    return e.message;
  }
  if (e !== null && typeof e === 'object' && typeof (e as { message?: unknown }).message === 'string') {
    return (e as { message: string }).message;
  }
  return String(e);
}

function isExecutable(file: string): boolean {
  try {
    fs.accessSync(file, fs.constants.X_OK);
    return fs.statSync(file).isFile();
  } catch {
    return false;
  }
}

function resolveExecutable(command: string): string | undefined {
  if (command.includes('/') || command.includes('\\')) {
    return path.isAbsolute(command) && isExecutable(command) ? command : undefined;
  }
  return findOnPath(command, process.env.PATH, isExecutable);
}

function run(launch: Launch, explain: (stderr: string) => string): Promise<Probe> {
  const { command, args, options } = launch;
  return new Promise((resolve) => {
    execFile(command, args, { ...options, timeout: PROBE_TIMEOUT_MS, windowsHide: true }, (error, _stdout, stderr) => {
      if (error === null) {
        resolve({ ok: true });
      } else if ((error as NodeJS.ErrnoException).code === 'ENOENT') {
        resolve({ ok: false, reason: `${command} does not exist` });
      } else if (error.killed) {
        resolve({ ok: false, reason: `${command} did not answer within ${PROBE_TIMEOUT_MS / 1000} s` });
      } else {
        resolve({ ok: false, reason: explain(stderr) });
      }
    });
  });
}
