// The dependency graph webview: render the mermaid source with the bundled mermaid (no network).
(function () {
  'use strict';
  const vscode = acquireVsCodeApi();
  const source = JSON.parse(document.getElementById('source').textContent || '""');
  const target = document.getElementById('graph');
  const error = document.getElementById('error');
  document.getElementById('refresh').addEventListener('click', () => vscode.postMessage({ type: 'refresh' }));
  document.getElementById('markdown').addEventListener('click', () => vscode.postMessage({ type: 'markdown' }));
  if (document.getElementById('empty')) {
    return;
  }
  try {
    mermaid.initialize({
      startOnLoad: false,
      securityLevel: 'strict',
      theme: document.body.dataset.theme === 'dark' ? 'dark' : 'default',
      flowchart: { useMaxWidth: true, htmlLabels: false },
      maxTextSize: 10000000,
      maxEdges: 200000,
    });
    mermaid
      .render('taskdroid-graph', source)
      .then((result) => {
        target.innerHTML = result.svg;
        document.body.dataset.rendered = 'true';
        // click: fit to the panel's width (the default) or actual size
        target.addEventListener('click', () => {
          const svg = target.querySelector('svg');
          const actual = target.classList.toggle('actual');
          if (svg) {
            const box = svg.viewBox.baseVal;
            svg.setAttribute('width', actual && box ? String(box.width) : '100%');
          }
        });
      })
      .catch((e) => show(e));
  } catch (e) {
    show(e);
  }
  function show(e) {
    error.textContent = 'mermaid could not draw this graph: ' + (e && e.message ? e.message : String(e));
    const pre = document.createElement('pre');
    pre.textContent = source;
    target.replaceChildren(pre);
    document.body.dataset.rendered = 'error';
  }
})();
