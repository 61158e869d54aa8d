import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { StderrClassifier } from '../../src/log';
import { countNodes, graphHtml, graphMarkdown, jsonForScript, makeNonce } from '../../src/graph';

const MERMAID = `flowchart LR
    subgraph f0["tasks/tasks-auth-api.md"]
        n0_1_1["1.1 Create </script><script>alert(1)</script>"]
        n0_1_2["1.2 Login"]
    end
    n0_1_1 --> n0_1_2
`;

describe('dependency graph page', () => {
  const html = graphHtml({
    mermaid: MERMAID,
    mermaidScript: 'vscode-resource:/m.js',
    viewScript: 'vscode-resource:/g.js',
    cspSource: 'vscode-webview:',
    nonce: 'NONCE123',
    heading: 'ws <b>',
    theme: 'dark',
  });

  it('has a strict CSP: only nonce scripts', () => {
    assert.match(html, /script-src 'nonce-NONCE123'/);
    assert.match(html, /default-src 'none'/);
    assert.ok(!/unsafe-eval/.test(html));
    assert.equal((html.match(/<script /g) ?? []).length, 3);
    assert.equal((html.match(/nonce="NONCE123"/g) ?? []).length, 3);
  });

  it('cannot be broken out of by a task title', () => {
    assert.ok(!html.includes('</script><script>alert(1)'));
    assert.ok(html.includes('ws &lt;b&gt;'));
    const embedded = /<script type="application\/json" id="source" nonce="NONCE123">(.*)<\/script>/.exec(html);
    assert.ok(embedded);
    assert.equal(JSON.parse(embedded[1] ?? ''), MERMAID);
  });

  it('says so when there is nothing to draw', () => {
    assert.equal(countNodes(MERMAID), 2);
    assert.equal(countNodes('flowchart LR\n'), 0);
    const empty = graphHtml({ mermaid: 'flowchart LR\n', mermaidScript: '', viewScript: '', cspSource: '', nonce: 'n', heading: 'h', theme: 'default' });
    assert.match(empty, /nothing to draw/);
  });

  it('opens as markdown with a mermaid fence', () => {
    assert.match(graphMarkdown(MERMAID, 'ws'), /^# Dependency graph — ws\n\n```mermaid\nflowchart LR/);
    assert.match(graphMarkdown('a ``` b', 'ws'), /~~~~mermaid/);
  });

  it('escapes JSON for a script element and makes fresh nonces', () => {
    assert.equal(jsonForScript('</script>&'), '"\\u003c/script\\u003e\\u0026"');
    assert.notEqual(makeNonce(), makeNonce());
    assert.match(makeNonce(), /^[A-Za-z0-9]{24}$/);
  });
});

describe('server stderr in the log channel', () => {
  it('logs each record at its level, tracebacks with their record', () => {
    const c = new StderrClassifier();
    assert.deepEqual(c.classify('2025-01-12 15:40:01,123 WARNING taskdroid.lsp: settings: x'), { level: 'warn', text: 'taskdroid.lsp: settings: x' });
    assert.equal(c.classify('2025-01-12 15:40:01,123 DEBUG pygls: y').level, 'debug');
    assert.equal(c.classify('2025-01-12 15:40:01,123 ERROR taskdroid.lsp: boom').level, 'error');
    assert.equal(c.classify('Traceback (most recent call last):').level, 'error');
    assert.equal(c.classify('2025-01-12 15:40:02,000 INFO x: started').level, 'info');
    assert.equal(c.classify('  File "x.py", line 1').level, 'info');
    assert.equal(c.classify('something odd').level, 'error');
  });
});
