/**
 * The dependency graph view (pure: no `vscode`): the webview's HTML and the markdown fallback.
 *
 * The graph text is what `taskdroid graph --format mermaid` prints. The webview renders it with the
 * mermaid library shipped inside the extension (no network), under a strict Content Security
 * Policy: only our nonce'd scripts run, and mermaid's labels are rendered with `securityLevel:
 * 'strict'` (task titles are untrusted text).
 */
import { randomBytes } from 'crypto';

export interface GraphPage {
  /** mermaid source */
  mermaid: string;
  /** webview URI of mermaid.min.js */
  mermaidScript: string;
  /** webview URI of graph.js (our small renderer) */
  viewScript: string;
  /** `webview.cspSource` */
  cspSource: string;
  nonce: string;
  /** shown above the graph: the folder it is for */
  heading: string;
  /** `dark` or `default` */
  theme: 'dark' | 'default';
}

export function escapeHtml(text: string): string {
  return text
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/"/g, '&quot;')
    .replace(/'/g, '&#39;');
}

export function graphHtml(page: GraphPage): string {
  const csp = [
    "default-src 'none'",
    `img-src ${page.cspSource} data:`,
    `style-src ${page.cspSource} 'unsafe-inline'`,
    `font-src ${page.cspSource}`,
    `script-src 'nonce-${page.nonce}'`,
  ].join('; ');
  const empty = countNodes(page.mermaid) === 0;
  return `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="UTF-8">
<meta http-equiv="Content-Security-Policy" content="${csp}">
<meta name="viewport" content="width=device-width, initial-scale=1.0">
<title>taskdroid: dependency graph</title>
<style>
  body { font-family: var(--vscode-font-family); color: var(--vscode-foreground); padding: 0 12px; }
  header { display: flex; gap: 8px; align-items: center; position: sticky; top: 0; padding: 8px 0;
           background: var(--vscode-editor-background); }
  header h1 { font-size: 1.1em; font-weight: 600; margin: 0; flex: 1; }
  button { color: var(--vscode-button-foreground); background: var(--vscode-button-background);
           border: none; padding: 4px 10px; cursor: pointer; }
  button:hover { background: var(--vscode-button-hoverBackground); }
  #graph { cursor: zoom-in; }
  #graph.actual { cursor: zoom-out; }
  #graph.actual svg { max-width: none !important; }
  #error { color: var(--vscode-errorForeground); white-space: pre-wrap; }
  pre { white-space: pre-wrap; }
</style>
</head>
<body data-theme="${page.theme}">
<header>
  <h1>Dependency graph — ${escapeHtml(page.heading)}</h1>
  <button id="refresh" title="Run taskdroid graph again">Refresh</button>
  <button id="markdown" title="Open the mermaid source as markdown">Open as Markdown</button>
</header>
${empty ? '<p id="empty">No task has a dependency here yet: nothing to draw.</p>' : ''}
<div id="graph" aria-label="dependency graph" title="Click: fit to the width / actual size"></div>
<div id="error"></div>
<script type="application/json" id="source" nonce="${page.nonce}">${jsonForScript(page.mermaid)}</script>
<script nonce="${page.nonce}" src="${page.mermaidScript}"></script>
<script nonce="${page.nonce}" src="${page.viewScript}"></script>
</body>
</html>`;
}

/** JSON safe inside a `<script>` element (no `</script>`, no `<!--`). */
export function jsonForScript(value: unknown): string {
  return JSON.stringify(value).replace(/</g, '\\u003c').replace(/>/g, '\\u003e').replace(/&/g, '\\u0026');
}

/** Number of nodes in taskdroid's mermaid output (lines like `n0_1["…"]`). */
export function countNodes(mermaid: string): number {
  let n = 0;
  for (const line of mermaid.split('\n')) {
    if (/^\s*[A-Za-z_][\w-]*\[/.test(line) && !/^\s*subgraph\b/.test(line)) {
      n++;
    }
  }
  return n;
}

/** The markdown document "Open as Markdown" shows (a mermaid fence, for a markdown preview). */
export function graphMarkdown(mermaid: string, heading: string): string {
  const fence = mermaid.includes('```') ? '~~~~' : '```';
  return `# Dependency graph — ${heading}\n\n${fence}mermaid\n${mermaid.trimEnd()}\n${fence}\n`;
}

export function makeNonce(): string {
  return randomBytes(18).toString('base64').replace(/[^A-Za-z0-9]/g, 'x');
}
