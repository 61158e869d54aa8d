#!/usr/bin/env node
/*
 * The client half of VS Code's markdown language server, for bench/bench_lsp.py.
 *
 *     node bench/node/md_client.js            (speaks LSP on stdin/stdout)
 *
 * vscode-markdown-languageserver does not parse markdown itself: it asks its client with custom
 * requests (`markdown/parse` for markdown-it tokens, `markdown/fs/*` for the file system,
 * `markdown/findMarkdownFilesInWorkspace`). In VS Code those are answered by the markdown extension
 * in the extension host, a separate Node process. This script plays that role: it starts the
 * server (`out/node/main.js --stdio`) as a child process and sits between it and the benchmark:
 *
 *   bench_lsp.py  <-- stdio -->  md_client.js (markdown-it, fs)  <-- stdio -->  markdown server
 *
 * Every message from the benchmark is forwarded to the server byte for byte, before this script
 * looks at it (it only reads `textDocument/didOpen|didChange|didClose` to keep its own copy of
 * open documents, as VS Code's editor has). Every message from the server is forwarded byte for
 * byte to the benchmark, except the `markdown/*` requests, which are answered here:
 *
 * - `markdown/parse {uri, text?}`: markdown-it tokens (`md.parse(text, {})`) of `text`, else of
 *   the open document, else of the file on disk, with a one-entry token cache keyed by uri and
 *   document version, like VS Code's MarkdownItEngine (its TokenCache). markdown-it is
 *   configured as VS Code's preview defaults: `html: true, linkify: true, typographer: false,
 *   breaks: false` (VS Code adds front-matter, math and line-number plugins; they are not used).
 * - `markdown/fs/readFile` (an array of bytes, as VS Code's `Array.from(fs.readFile())`),
 *   `markdown/fs/stat` ({isDirectory} or null), `markdown/fs/readDirectory` ([[name, {isDirectory}]]),
 *   `markdown/findMarkdownFilesInWorkspace` (every *.md under the workspace folders, skipping
 *   node_modules and .git, as VS Code's findFiles with its default excludes),
 *   `markdown/fs/watcher/create|delete` (acknowledged; nothing changes on disk during a run).
 *
 * With MD_CLIENT_STATS=FILE it appends one JSON line per parse (ms spent in markdown-it and in
 * JSON.stringify of the tokens, bytes sent) to FILE, so the benchmark can say where the
 * markdown server's time goes.
 */
'use strict';

const cp = require('child_process');
const fs = require('fs');
const path = require('path');
const { fileURLToPath } = require('url');
const MarkdownIt = require('markdown-it');
const { TextDocument } = require('vscode-languageserver-textdocument');

const SERVER_MAIN = require.resolve('vscode-markdown-languageserver/out/node/main.js');
const STATS = process.env.MD_CLIENT_STATS || '';

const md = new MarkdownIt({ html: true, linkify: true, typographer: false, breaks: false });

const NODE_ARGS = (process.env.MD_SERVER_NODE_ARGS || '').split(' ').filter(Boolean); // e.g. --cpu-prof
const server = cp.spawn(process.execPath, [...NODE_ARGS, SERVER_MAIN, '--stdio'], {
    stdio: ['pipe', 'pipe', 'inherit'],
});
server.on('exit', (code) => process.exit(code ?? 0));

/** open documents by uri (TextDocument, incremental updates applied as the server does) */
const docs = new Map();
/** workspace folder paths, from initialize */
let folders = [];
/** one-entry token cache, as VS Code's MarkdownItEngine */
let tokenCache = null; // {uri, version, tokens}

// -- framing -------------------------------------------------------------------------------------

function reader(onMessage) {
    let buf = Buffer.alloc(0);
    return (chunk) => {
        buf = buf.length ? Buffer.concat([buf, chunk]) : chunk;
        for (;;) {
            const sep = buf.indexOf('\r\n\r\n');
            if (sep < 0) return;
            const header = buf.subarray(0, sep).toString('ascii');
            const m = /Content-Length:\s*(\d+)/i.exec(header);
            if (!m) throw new Error('bad header: ' + header);
            const len = Number(m[1]);
            const start = sep + 4;
            if (buf.length < start + len) return;
            const raw = buf.subarray(0, start + len);
            const body = buf.subarray(start, start + len);
            buf = buf.subarray(start + len);
            onMessage(raw, body);
        }
    };
}

function frame(obj) {
    const body = Buffer.from(JSON.stringify(obj), 'utf8');
    return Buffer.concat([Buffer.from(`Content-Length: ${body.length}\r\n\r\n`, 'ascii'), body]);
}

// -- benchmark -> server -------------------------------------------------------------------------

process.stdin.on('data', reader((raw, body) => {
    server.stdin.write(raw); // forward first, look afterwards
    let msg;
    try {
        msg = JSON.parse(body.toString('utf8'));
    } catch {
        return;
    }
    switch (msg.method) {
        case 'initialize': {
            const p = msg.params || {};
            const ws = p.workspaceFolders || (p.rootUri ? [{ uri: p.rootUri }] : []);
            folders = ws.map((f) => fileURLToPath(f.uri));
            break;
        }
        case 'textDocument/didOpen': {
            const t = msg.params.textDocument;
            docs.set(t.uri, TextDocument.create(t.uri, t.languageId, t.version, t.text));
            break;
        }
        case 'textDocument/didChange': {
            const d = docs.get(msg.params.textDocument.uri);
            if (d) {
                docs.set(d.uri, TextDocument.update(d, msg.params.contentChanges, msg.params.textDocument.version));
            }
            break;
        }
        case 'textDocument/didClose':
            docs.delete(msg.params.textDocument.uri);
            break;
        case 'exit':
            setTimeout(() => process.exit(0), 2000).unref();
            break;
    }
}));
process.stdin.on('end', () => server.stdin.end());

// -- server -> benchmark (markdown/* answered here) ----------------------------------------------

server.stdout.on('data', reader((raw, body) => {
    // Only requests from the server can be markdown/*; peek before parsing large bodies.
    const head = body.subarray(0, 200).toString('utf8');
    if (!head.includes('"markdown/')) {
        process.stdout.write(raw);
        return;
    }
    let msg;
    try {
        msg = JSON.parse(body.toString('utf8'));
    } catch {
        process.stdout.write(raw);
        return;
    }
    if (typeof msg.method !== 'string' || !msg.method.startsWith('markdown/') || msg.id === undefined) {
        process.stdout.write(raw);
        return;
    }
    Promise.resolve()
        .then(() => handle(msg.method, msg.params || {}))
        .then(
            (result) => reply(msg.id, result === undefined ? null : result),
            (err) => server.stdin.write(frame({ jsonrpc: '2.0', id: msg.id, error: { code: -32603, message: String(err && err.message || err) } })),
        );
}));

function reply(id, result) {
    if (STATS && result && result.__tokens) {
        const t0 = performance.now();
        const body = Buffer.from(`{"jsonrpc":"2.0","id":${JSON.stringify(id)},"result":${JSON.stringify(result.tokens)}}`, 'utf8');
        const t1 = performance.now();
        server.stdin.write(Buffer.concat([Buffer.from(`Content-Length: ${body.length}\r\n\r\n`, 'ascii'), body]));
        fs.appendFileSync(STATS, JSON.stringify({ uri: result.uri, parse_ms: result.parse_ms, cached: result.cached, stringify_ms: t1 - t0, bytes: body.length, t: Date.now() }) + '\n');
        return;
    }
    if (result && result.__tokens) result = result.tokens;
    server.stdin.write(frame({ jsonrpc: '2.0', id, result }));
}

function uriPath(uri) {
    return fileURLToPath(uri);
}

function tokenize(uri, text, version) {
    if (version !== undefined && version >= 0 && tokenCache && tokenCache.uri === uri && tokenCache.version === version) {
        return { __tokens: true, uri, tokens: tokenCache.tokens, parse_ms: 0, cached: true };
    }
    const t0 = performance.now();
    const tokens = md.parse(text, {});
    const parse_ms = performance.now() - t0;
    if (version !== undefined && version >= 0) tokenCache = { uri, version, tokens };
    return { __tokens: true, uri, tokens, parse_ms, cached: false };
}

const diskVersions = new Map(); // uri -> {mtimeMs, size, version}
let diskVersion = 1_000_000;

async function handle(method, params) {
    switch (method) {
        case 'markdown/parse': {
            if (typeof params.text === 'string') return tokenize(params.uri, params.text, -1);
            const open = docs.get(params.uri);
            if (open) return tokenize(params.uri, open.getText(), open.version);
            // like vscode.workspace.openTextDocument: the file on disk (a new version when it changed)
            const p = uriPath(params.uri);
            const st = await fs.promises.stat(p);
            let dv = diskVersions.get(params.uri);
            if (!dv || dv.mtimeMs !== st.mtimeMs || dv.size !== st.size) {
                dv = { mtimeMs: st.mtimeMs, size: st.size, version: diskVersion++ };
                diskVersions.set(params.uri, dv);
            }
            return tokenize(params.uri, await fs.promises.readFile(p, 'utf8'), dv.version);
        }
        case 'markdown/fs/readFile':
            return Array.from(await fs.promises.readFile(uriPath(params.uri)));
        case 'markdown/fs/stat':
            try {
                const st = await fs.promises.stat(uriPath(params.uri));
                return { isDirectory: st.isDirectory() };
            } catch {
                return null;
            }
        case 'markdown/fs/readDirectory': {
            const entries = await fs.promises.readdir(uriPath(params.uri), { withFileTypes: true });
            return entries.map((e) => [e.name, { isDirectory: e.isDirectory() }]);
        }
        case 'markdown/findMarkdownFilesInWorkspace': {
            const out = [];
            const walk = async (dir) => {
                let entries;
                try {
                    entries = await fs.promises.readdir(dir, { withFileTypes: true });
                } catch {
                    return;
                }
                for (const e of entries) {
                    if (e.name === 'node_modules' || e.name === '.git') continue;
                    const full = path.join(dir, e.name);
                    if (e.isDirectory()) await walk(full);
                    else if (e.name.toLowerCase().endsWith('.md')) out.push(require('url').pathToFileURL(full).toString());
                }
            };
            for (const f of folders) await walk(f);
            return out;
        }
        case 'markdown/fs/watcher/create':
        case 'markdown/fs/watcher/delete':
            return null;
        default:
            throw new Error('unsupported request ' + method);
    }
}
