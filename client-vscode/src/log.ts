/**
 * The server's stderr in the log channel (pure: no `vscode`).
 *
 * `taskdroid lsp` logs `2025-01-12 15:40:01,123 WARNING taskdroid.lsp: message`; each line goes to
 * the LogOutputChannel at its own level instead of everything as an error (vscode-languageclient
 * 11's default). A traceback's lines follow the level of the record they belong to.
 */
export type Level = 'trace' | 'debug' | 'info' | 'warn' | 'error';

const RECORD_RE = /^\d{4}-\d{2}-\d{2}[ T]\d{2}:\d{2}:\d{2}(?:[,.]\d+)?\s+(DEBUG|INFO|WARNING|WARN|ERROR|CRITICAL)\s+(.*)$/;

const LEVELS: Partial<Record<string, Level>> = {
  DEBUG: 'debug',
  INFO: 'info',
  WARNING: 'warn',
  WARN: 'warn',
  ERROR: 'error',
  CRITICAL: 'error',
};

export class StderrClassifier {
  private last: Level = 'error';

  /** The level of one stderr line, and the text to log (the timestamp dropped). */
  classify(line: string): { level: Level; text: string } {
    const m = RECORD_RE.exec(line);
    if (m) {
      this.last = LEVELS[m[1] ?? ''] ?? 'error';
      return { level: this.last, text: m[2] ?? '' };
    }
    // continuation lines (tracebacks) keep the level of their record; anything else is an error
    return { level: /^\s/.test(line) || line.startsWith('Traceback') ? this.last : 'error', text: line };
  }
}
