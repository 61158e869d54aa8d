/**
 * Server progress (`window/workDoneProgress/create` + `$/progress`) as VS Code progress.
 *
 * This replaces vscode-languageclient's built-in handling (a silent status bar entry) so that
 * droid runs get a notification with a Cancel button and the run tracker (status bar, "Cancel
 * Run") sees them begin and end. Other progress (indexing) stays in the status bar.
 */
import * as vscode from 'vscode';
import {
  ClientCapabilities,
  FeatureState,
  LanguageClient,
  ProgressToken,
  StaticFeature,
  WorkDoneProgress,
  WorkDoneProgressBegin,
  WorkDoneProgressCancelNotification,
  WorkDoneProgressCreateParams,
  WorkDoneProgressCreateRequest,
  WorkDoneProgressReport,
} from 'vscode-languageclient/node';
import { RunTracker } from './runs';

interface Part {
  token: ProgressToken;
  registration?: vscode.Disposable;
  report?: (value: { message?: string; increment?: number }) => void;
  finish?: () => void;
  done: boolean;
  reported: number;
}

export class ProgressFeature implements StaticFeature {
  private readonly parts = new Map<string, Part>();

  constructor(
    private readonly client: LanguageClient,
    private readonly tracker: RunTracker,
  ) {}

  fillClientCapabilities(capabilities: ClientCapabilities): void {
    capabilities.window = capabilities.window ?? {};
    capabilities.window.workDoneProgress = true;
  }

  initialize(): void {
    // registered after the built-in ProgressFeature's handler, so this one answers
    this.client.onRequest(WorkDoneProgressCreateRequest.type, (params: WorkDoneProgressCreateParams) => {
      this.create(params.token);
    });
  }

  getState(): FeatureState {
    return { kind: 'static' };
  }

  clear(): void {
    for (const part of this.parts.values()) {
      this.finish(part);
    }
    this.parts.clear();
  }

  private create(token: ProgressToken): void {
    const key = String(token);
    const existing = this.parts.get(key);
    if (existing) {
      this.finish(existing);
    }
    const part: Part = { token, done: false, reported: 0 };
    this.parts.set(key, part);
    part.registration = this.client.onProgress(WorkDoneProgress.type, token, (value) => {
      switch (value.kind) {
        case 'begin':
          this.begin(part, value);
          break;
        case 'report':
          this.report(part, value);
          break;
        case 'end':
          this.tracker.progressEnd(key);
          this.finish(part);
          this.parts.delete(key);
          break;
      }
    });
  }

  private begin(part: Part, value: WorkDoneProgressBegin): void {
    const key = String(part.token);
    const run = this.tracker.progressBegin(key, value.title, value.message, value.cancellable === true);
    const location = run ? vscode.ProgressLocation.Notification : vscode.ProgressLocation.Window;
    const title = run && !/^taskdroid\b/i.test(value.title) ? `taskdroid: ${value.title}` : value.title;
    void vscode.window.withProgress(
      { location, title, cancellable: value.cancellable === true },
      (progress, cancel) =>
        new Promise<void>((resolve) => {
          if (part.done) {
            resolve();
            return;
          }
          part.report = (v) => progress.report(v);
          part.finish = resolve;
          cancel.onCancellationRequested(() => {
            void this.client.sendNotification(WorkDoneProgressCancelNotification.type, { token: part.token });
          });
          this.report(part, value);
        }),
    );
  }

  private report(part: Part, value: WorkDoneProgressBegin | WorkDoneProgressReport): void {
    if (value.kind === 'report') {
      this.tracker.progressReport(String(part.token), value.message);
    }
    if (part.report === undefined) {
      return;
    }
    if (typeof value.percentage === 'number') {
      const pct = Math.max(0, Math.min(100, value.percentage));
      const increment = Math.max(0, pct - part.reported);
      part.reported += increment;
      part.report({ message: value.message, increment });
    } else if (value.message !== undefined) {
      part.report({ message: value.message });
    }
  }

  private finish(part: Part): void {
    part.done = true;
    part.registration?.dispose();
    part.registration = undefined;
    part.finish?.();
    part.finish = undefined;
  }

  /** Cancel a progress through the protocol (`window/workDoneProgress/cancel`). */
  cancel(token: string): boolean {
    const part = this.parts.get(token);
    if (part === undefined) {
      return false;
    }
    void this.client.sendNotification(WorkDoneProgressCancelNotification.type, { token: part.token });
    return true;
  }
}
