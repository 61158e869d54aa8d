/**
 * The client side of `taskdroid/outlineChanged`: declares the experimental client capability
 * `taskdroidOutline` (the server sends the notification only to clients that do) and forwards
 * each notification's URIs (undefined: everything may have changed) to the Tasks view.
 */
import * as vscode from 'vscode';
import { ClientCapabilities, FeatureState, LanguageClient, NotificationType, StaticFeature } from 'vscode-languageclient/node';

export const OUTLINE = 'taskdroid.outline';
export const RUN_READY = 'taskdroid.runReady';
export const OUTLINE_CHANGED = new NotificationType<{ uris?: unknown }>('taskdroid/outlineChanged');

/** Declares `experimental.taskdroidOutline` and forwards `taskdroid/outlineChanged`. */
export class OutlineFeature implements StaticFeature {
  constructor(
    private readonly client: LanguageClient,
    private readonly changed: vscode.EventEmitter<string[] | undefined>,
  ) {}

  fillClientCapabilities(capabilities: ClientCapabilities): void {
    const experimental = (capabilities.experimental ?? {}) as Record<string, unknown>;
    experimental.taskdroidOutline = true;
    capabilities.experimental = experimental;
  }

  initialize(): void {
    this.client.onNotification(OUTLINE_CHANGED, (params) => {
      const uris = Array.isArray(params.uris) ? params.uris.filter((u): u is string => typeof u === 'string') : undefined;
      this.changed.fire(uris);
    });
  }

  getState(): FeatureState {
    return { kind: 'static' };
  }

  clear(): void {
    // nothing to undo: the client's handlers go with it
  }
}
