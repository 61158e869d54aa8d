// End-to-end check of the .vsix in real VS Code (code-server 4.100.3) driven through headless
// Chromium with playwright-core. Started by tests/editors/test_vscode.py, which copies the
// workspace, and asserts on the JSON this writes. Every wait polls for a condition (no fixed
// sleeps as a substitute for one); a failing step is recorded and the next steps still run.
//
// env: WORK (temp dir)  WS (workspace copy)  CODE_SERVER  VSIX  CHROMIUM  SHOTS (screenshot dir)
//      RESULTS (JSON output)  SERVER_COMMAND (JSON argv for taskdroid.server.command)
//      STEPS (JSON: {file, problems: [codes], hover: {at, expect}, quickfix: {at, line, bad},
//             codelens, status: {line, expect}, run: {line, expect, runner}, graph: true,
//             tasksview: {expect}, requirements: {node, description, expect, child, reveal},
//             runready: {section, task, done}, mdvalidate: {control}});
//             `at` is "line:column" (1-based), `line` the start of a task's text (its symbol)
//      TIMEOUT_MS (one wait, default 30000)  LIMIT_S (whole run, default 170)
'use strict';
const { spawn, execFileSync } = require('child_process');
const fs = require('fs');
const http = require('http');
const net = require('net');
const path = require('path');

const E = process.env;
const W = E.WORK;
const WAIT = Number(E.TIMEOUT_MS || 30000);
const LIMIT_S = Number(E.LIMIT_S || 170);
const STEPS = JSON.parse(E.STEPS || '{}');
const { chromium } = require('playwright-core');

const results = { steps: {}, log: [] };
const t0 = Date.now();
const note = (msg) => {
  results.log.push(`${((Date.now() - t0) / 1000).toFixed(1)}s ${msg}`);
  console.log(msg);
};
const record = (step, ok, detail) => {
  results.steps[step] = { ok: !!ok, detail: String(detail || '').replace(/\s+/g, ' ').slice(0, 2000), at: (Date.now() - t0) / 1000 };
  note(`${ok ? 'ok' : 'FAIL'} ${step} ${results.steps[step].detail.slice(0, 300)}`);
};
const pause = (n) => new Promise((r) => setTimeout(r, n));
/** poll `fn` until it returns something truthy, or `limit` ms pass (then its last value) */
async function until(fn, limit = WAIT, every = 200) {
  const end = Date.now() + limit;
  for (;;) {
    const v = await fn().catch(() => undefined);
    if (v || Date.now() > end) {
      return v;
    }
    await pause(every);
  }
}

// code-server writes ~/.config, ~/.local/share, ~/.cache; Chromium's crashpad writes ~/.config; the
// extension host leaves sockets in $TMPDIR: all of it goes into the temp dir
const iso = { XDG_CONFIG_HOME: `${W}/xdg/config`, XDG_DATA_HOME: `${W}/xdg/data`, XDG_CACHE_HOME: `${W}/xdg/cache`, TMPDIR: `${W}/tmp` };
const env = { ...process.env, ...iso };
const udd = `${W}/udd`;
const extDir = `${W}/ext`;
const cfg = `${W}/config.yaml`;
for (const d of [`${udd}/User`, extDir, `${W}/tmp`, `${W}/chrome`, E.SHOTS]) {
  fs.mkdirSync(d, { recursive: true });
}
fs.writeFileSync(cfg, 'auth: none\ncert: false\n');
const settings = {
  'workbench.startupEditor': 'none',
  'security.workspace.trust.enabled': false,
  'telemetry.telemetryLevel': 'off',
  'update.mode': 'none',
  'extensions.autoCheckUpdates': false,
  'extensions.autoUpdate': false,
  'extensions.ignoreRecommendations': true,
  'git.enabled': false,
  'editor.hover.delay': 100,
  'workbench.tips.enabled': false,
  'chat.commandCenter.enabled': false,
  'workbench.welcomePage.walkthroughs.openOnInstall': false,
  'editor.codeLens': true,
  'taskdroid.server.command': JSON.parse(E.SERVER_COMMAND || '[]'),
  ...(STEPS.run ? { 'taskdroid.runner.command': STEPS.run.runner } : {}),
  // VS Code's own markdown validation on: task markers must not show up as undefined references
  ...(STEPS.mdvalidate ? { 'markdown.validate.enabled': true } : {}),
};
if (STEPS.mdvalidate) {
  // a control line the markdown validator does report (a link to a missing file): proves it ran
  fs.appendFileSync(path.join(E.WS, STEPS.file), `\nSee [the guide](./${STEPS.mdvalidate.control}).\n`);
}
// user settings (taskdroid.server.command and runner.* are machine-scoped: user settings only)
fs.writeFileSync(`${udd}/User/settings.json`, JSON.stringify(settings, null, 2));
const csArgs = ['--config', cfg, '--user-data-dir', udd, '--extensions-dir', extDir];

let cs;
let ctx;
let page;
const shot = async (name) => {
  try {
    await page.screenshot({ path: path.join(E.SHOTS, `${name}.png`) });
  } catch {
    // no page yet
  }
};
/** text of the first visible match ('' if none); never waits. Monaco renders spaces as U+00A0 */
const textOf = (sel) =>
  page.evaluate((q) => {
    const el = [...document.querySelectorAll(q)].find((e) => e.getClientRects().length > 0);
    return el ? el.innerText.replace(/\u00a0/g, ' ') : '';
  }, sel);
const allText = (sel) =>
  page.evaluate((q) => [...document.querySelectorAll(q)].filter((e) => e.getClientRects().length > 0).map((e) => e.innerText.replace(/\u00a0/g, ' ').replace(/\s+/g, ' ')), sel);
/** the editor's visible lines, top to bottom */
const viewLines = () =>
  page.evaluate(() =>
    [...document.querySelectorAll('.editor-instance .view-line')]
      .map((l) => ({ t: l.textContent.replace(/\u00a0/g, ' '), top: l.getBoundingClientRect().top }))
      .sort((a, b) => a.top - b.top)
      .map((l) => l.t),
  );
const visible = (sel) => page.evaluate((q) => [...document.querySelectorAll(q)].some((e) => e.getClientRects().length > 0), sel);

async function focusEditor() {
  await page.keyboard.press('Escape');
  await page.keyboard.press('Control+1');
}
/** go to "L:C" (1-based) with Ctrl+G */
async function goto(lc) {
  await focusEditor();
  await page.keyboard.press('Control+G');
  await page.waitForSelector('.quick-input-widget input', { state: 'visible', timeout: 10000 });
  await page.keyboard.type(lc, { delay: 10 });
  await page.keyboard.press('Enter');
  await until(async () => !(await visible('.quick-input-widget input')), 5000, 50);
  // the cursor position is shown in the status bar: wait for it
  const [l, c] = lc.split(':');
  await until(async () => (await textOf('.statusbar-item[id="status.editor.selection"]')).includes(`Ln ${l}, Col ${c}`), 5000, 50);
}
/** put the cursor on a task through Go to Symbol (Ctrl+Shift+O): immune to lines added by edits */
async function gotoSymbol(name) {
  await focusEditor();
  await page.keyboard.press('Control+Shift+O');
  await page.waitForSelector('.quick-input-widget input', { state: 'visible', timeout: 10000 });
  await page.keyboard.type(name, { delay: 10 });
  const row = await until(async () => (await allText('.quick-input-list .monaco-list-row')).find((t) => t.includes(name)), 15000);
  if (!row) {
    await page.keyboard.press('Escape');
    throw new Error(`no symbol "${name}"`);
  }
  await page.keyboard.press('Enter');
  await until(async () => !(await visible('.quick-input-widget input')), 5000, 50);
}
/** run a palette command by its title */
async function palette(title, expectRow = title) {
  await focusEditor();
  await page.keyboard.press('F1');
  await page.waitForSelector('.quick-input-widget input', { state: 'visible', timeout: 10000 });
  await page.keyboard.type(title, { delay: 10 });
  const row = await until(async () => (await allText('.quick-input-list .monaco-list-row')).find((t) => t.includes(expectRow)), 10000);
  if (!row) {
    await page.keyboard.press('Escape');
    throw new Error(`no palette entry "${title}"`);
  }
  await page.keyboard.press('Enter');
  return row;
}
/** pick `label` in an open quick pick */
async function pick(label) {
  await page.waitForSelector('.quick-input-widget input', { state: 'visible', timeout: 10000 });
  await page.keyboard.type(label, { delay: 10 });
  const row = await until(async () => (await allText('.quick-input-list .monaco-list-row')).find((t) => t.includes(label)), 10000);
  if (!row) {
    throw new Error(`no quick pick item "${label}"`);
  }
  await page.keyboard.press('Enter');
  return row;
}
const lineWith = async (fragment) => (await viewLines()).find((l) => l.includes(fragment));

async function step(name, fn) {
  try {
    await fn();
  } catch (e) {
    record(name, false, `error: ${e && e.message ? e.message : e}`);
    await shot(`${name}-error`);
    await page.keyboard.press('Escape').catch(() => {});
  }
}

async function main() {
  // 1. the extension, from the .vsix
  execFileSync(E.CODE_SERVER, [...csArgs, '--install-extension', E.VSIX], { env, timeout: 120000, stdio: 'pipe' });
  const listed = execFileSync(E.CODE_SERVER, [...csArgs, '--list-extensions', '--show-versions'], { env, timeout: 60000 }).toString();
  record('install', /taskdroid\.taskdroid@/.test(listed), listed);

  // 2. code-server in its own process group (killing -pgid takes the extension host and our server)
  const port = await new Promise((r) => {
    const s = net.createServer().listen(0, '127.0.0.1', () => {
      const p = s.address().port;
      s.close(() => r(p));
    });
  });
  const log = fs.openSync(`${W}/code-server.log`, 'a');
  cs = spawn(
    E.CODE_SERVER,
    [...csArgs, '--auth', 'none', '--bind-addr', `127.0.0.1:${port}`, '--disable-telemetry', '--disable-update-check', '--disable-workspace-trust', '--disable-getting-started-override'],
    { detached: true, stdio: ['ignore', log, log], env },
  );
  fs.writeFileSync(`${W}/cs.pgid`, String(cs.pid));
  const up = await until(
    () => new Promise((res, rej) => http.get(`http://127.0.0.1:${port}/healthz`, (r) => { r.resume(); res(true); }).on('error', rej)),
    60000,
  );
  if (!up) {
    throw new Error('code-server did not answer /healthz');
  }
  note('code-server up');

  // 3. Chromium, fresh profile
  ctx = await chromium.launchPersistentContext(`${W}/chrome`, {
    executablePath: E.CHROMIUM,
    headless: true,
    viewport: { width: 1400, height: 900 },
    env,
    args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run', '--disable-dev-shm-usage'],
  });
  page = ctx.pages()[0] || (await ctx.newPage());
  page.setDefaultTimeout(WAIT);
  await page.goto(`http://127.0.0.1:${port}/?folder=${encodeURIComponent(E.WS)}`, { timeout: 60000 });
  await page.waitForSelector('.monaco-workbench', { timeout: 60000 });
  await page.locator('.monaco-workbench').click({ position: { x: 700, y: 400 } }).catch(() => {});
  note('workbench up');

  // 4. open the task file (Quick Open)
  await page.keyboard.press('Control+P');
  await page.waitForSelector('.quick-input-widget input', { state: 'visible' });
  await page.keyboard.type(STEPS.file, { delay: 10 });
  await until(async () => (await allText('.quick-input-list .monaco-list-row')).some((t) => t.includes(path.basename(STEPS.file))), 15000);
  await page.keyboard.press('Enter');
  await page.waitForSelector('.editor-instance .view-lines');
  await until(async () => (await textOf('.tab.active')).includes(path.basename(STEPS.file)), 10000);
  record('open', true, await textOf('.tab.active'));

  // 5. the status bar item: the server started (its icon is not the error one)
  await step('statusbar', async () => {
    const sel = '.statusbar-item[id$="taskdroid.status"]';
    const ok = await until(async () => page.evaluate((q) => {
      const el = document.querySelector(q);
      return el && el.querySelector('.codicon-checklist') ? el.innerText : '';
    }, sel), WAIT);
    await shot('statusbar');
    record('statusbar', !!ok, ok || (await textOf(sel)) || 'no taskdroid status bar item');
  });

  // 6. Problems panel: rows read "message taskdroid(TD001) [Ln 15, Col 3]"; the list is virtual
  //    (only visible rows exist), so each expected code is looked for through the panel's filter
  await step('problems', async () => {
    await page.keyboard.press('Control+Shift+M');
    await page.waitForSelector('.markers-panel', { state: 'visible' });
    const codeRe = /taskdroid\s*\(?\s*([A-Z]{2}\d{3})/g;
    const codesIn = (rows) => [...new Set(rows.flatMap((r) => [...r.matchAll(codeRe)].map((m) => m[1])))];
    let rows = [];
    await until(async () => {
      rows = await allText('.markers-panel .monaco-list-row');
      return codesIn(rows).length > 0;
    });
    const first = codesIn(rows);
    const missing = [];
    const seen = {};
    const filter = page.locator('.panel .viewpane-filter input, .panel .markers-panel-action-filter input').first();
    for (const code of STEPS.problems || []) {
      await filter.fill(code);
      const hit = await until(async () => {
        rows = await allText('.markers-panel .monaco-list-row');
        return rows.find((r) => codesIn([r]).includes(code));
      }, 20000);
      if (hit) {
        seen[code] = hit;
      } else {
        missing.push(code);
      }
      await shot(`problems-${code}`);
    }
    await filter.fill('');
    await shot('problems');
    record('problems', missing.length === 0, `${missing.length ? `missing ${missing.join(' ')}; ` : ''}first rows show ${first.join(' ')} | ${Object.values(seen).join(' | ')}`);
  });

  // 7. hover on a droid reference: its description (retried: the first may come before indexing)
  if (STEPS.hover) await step('hover', async () => {
    let text = '';
    const ok = await until(async () => {
      await goto(STEPS.hover.at);
      await page.keyboard.press('Control+K');
      await page.keyboard.press('Control+I');
      return until(async () => {
        text = await textOf('.monaco-hover');
        return text.includes(STEPS.hover.expect);
      }, 4000);
    });
    await shot('hover');
    record('hover', !!ok, text || '(no hover)');
    await page.keyboard.press('Escape');
  });

  // 8. a "Run" code lens
  if (STEPS.codelens) await step('codelens', async () => {
    await goto('1:1');
    let lenses = [];
    const ok = await until(async () => {
      lenses = await allText('.codelens-decoration');
      return lenses.some((t) => t.includes(STEPS.codelens));
    });
    await shot('codelens');
    record('codelens', !!ok, lenses.length ? lenses.slice(0, 10).join(' | ') : 'no code lens at all');
  });

  // 9. Ctrl+. on the malformed marker applies the preferred fix
  if (STEPS.quickfix) await step('quickfix', async () => {
    const { at, line, bad } = STEPS.quickfix;
    let menu;
    await until(async () => {
      await goto(at);
      await page.keyboard.press('Control+.');
      menu = await until(async () => {
        const rows = await allText('.action-widget .monaco-list-row');
        return rows.length && rows.some((r) => !/no code actions/i.test(r)) ? rows : undefined;
      }, 4000);
      if (!menu) {
        await page.keyboard.press('Escape');
      }
      return menu;
    }, 20000);
    await shot('quickfix-menu');
    if (!menu) {
      record('quickfix', false, 'Ctrl+. showed no code actions');
      return;
    }
    const picked = await textOf('.action-widget .monaco-list-row.focused');
    await page.keyboard.press('Enter'); // the preferred fix is pre-selected; a click is swallowed
    let after = '';
    const ok = await until(async () => {
      after = (await lineWith(line)) || '';
      return after && !after.includes(bad) && /^\s*[-*+]\s+\[( |~|x|!|cancelled)\]/.test(after);
    }, 15000);
    await shot('quickfix-after');
    record('quickfix', !!ok, `menu [${menu.join(' | ')}], applied "${picked}", line now "${after}"`);
  });

  // 10. taskdroid: Set Status → Completed changes the task line
  if (STEPS.status) await step('setstatus', async () => {
    const { line, expect } = STEPS.status;
    await gotoSymbol(line);
    await palette('taskdroid: Set Status');
    await pick('Completed');
    let after = '';
    const ok = await until(async () => {
      after = (await lineWith(line)) || '';
      return after.trimStart().startsWith(expect);
    }, 15000);
    await shot('setstatus');
    const notes = await allText('.notifications-toasts .notification-list-item-message');
    record('setstatus', !!ok, `line now "${after}"${notes.length ? ` | notifications: ${notes.join(' | ')}` : ''}`);
  });

  // 11. Run Task at Cursor with a stand-in droid: the status bar counts the run, the task ends [x]
  if (STEPS.run) {
    await step('run', async () => {
      const { line, expect } = STEPS.run;
      await gotoSymbol(line);
      await palette('taskdroid: Run Task at Cursor');
      const sel = '.statusbar-item[id$="taskdroid.status"]';
      let bar = '';
      const running = await until(async () => {
        bar = await textOf(sel);
        return /running|queued/.test(bar);
      }, 15000, 100);
      await shot('run-progress');
      const toast = await allText('.notifications-toasts .notification-list-item');
      let after = '';
      const done = await until(async () => {
        after = (await lineWith(line)) || '';
        return after.trimStart().startsWith(expect);
      }, 30000);
      const idle = await until(async () => !/running|queued/.test(await textOf(sel)), 10000);
      await shot('run-done');
      record('run', !!running && !!done && !!idle, `status bar "${bar}"; progress ${toast.join(' | ') || '(none seen)'}; line now "${after}"`);
    });
  }

  // 12. the dependency graph webview renders an SVG
  if (STEPS.graph) {
    await step('graph', async () => {
      await palette('taskdroid: Show Dependency Graph');
      let state = '';
      const ok = await until(async () => {
        for (const frame of page.frames()) {
          state = (await frame.evaluate(() => (document.body && document.body.dataset.rendered) || '').catch(() => '')) || state;
          const svg = await frame.evaluate(() => !!document.querySelector('#graph svg')).catch(() => false);
          if (svg) {
            return true;
          }
        }
        return false;
      });
      await shot('graph');
      record('graph', !!ok, ok ? 'rendered an SVG' : `not rendered (state "${state}")`);
    });
  }
}

// -- the Tasks view (docs/language.md §15) ---------------------------------------------------------------------

/** the rows of the Tasks pane (not the explorer's other trees) */
const tasksPaneRows = () =>
  page.locator('.pane').filter({ has: page.locator('.pane-header', { hasText: /^\s*tasks(?![a-z])/i }) }).locator('.monaco-list-row');

/** the focused row of the Tasks pane: its text, icon, index and whether it is a collapsed node */
const focusedTasksRow = () =>
  page.evaluate(() => {
    const pane = [...document.querySelectorAll('.pane')].find((p) => /^\s*tasks\b/i.test((p.querySelector('.pane-header') || {}).innerText || ''));
    const row = pane && pane.querySelector('.monaco-list-row.focused');
    if (!row) {
      return null;
    }
    const icon = row.querySelector('.custom-view-tree-node-item-icon');
    return {
      text: row.innerText.replace(/\u00a0/g, ' ').replace(/\s+/g, ' ').trim(),
      icon: icon ? [...icon.classList].filter((c) => c.startsWith('codicon-')).join(' ') : '',
      index: Number(row.getAttribute('data-index')),
      collapsed: row.getAttribute('aria-expanded') === 'false',
    };
  });

/**
 * Walk the Tasks tree with the keyboard from its first row, expanding every collapsed node (the
 * tree is virtual and the pane small: only the focused neighbourhood is rendered), calling
 * `visit(row)` on each row; stops when `visit` returns true or at the last row.
 */
async function walkTasksTree(visit) {
  await tasksPaneRows().first().click().catch(() => {});
  await page.keyboard.press('Home');
  await pause(100);
  // a key press moves the focus (or expands) a moment later: wait for the change it makes
  const settle = async (before, what) => {
    for (let t = 0; t < 25; t++) {
      await pause(20);
      const now = await focusedTasksRow();
      if (now && (what === 'expand' ? !now.collapsed : now.index !== before.index)) {
        return now;
      }
    }
    return await focusedTasksRow();
  };
  let row = await focusedTasksRow();
  for (let i = 0; row && i < 400; i++) {
    if (await visit(row)) {
      return row;
    }
    if (row.collapsed) {
      await page.keyboard.press('ArrowRight');
      row = await settle(row, 'expand');
      if (!row) {
        return null;
      }
    }
    await page.keyboard.press('ArrowDown');
    const next = await settle(row, 'move');
    if (!next || next.index === row.index) {
      return null; // the last row: ArrowDown no longer moves
    }
    row = next;
  }
  return null;
}

/** every row of the Tasks view, all nodes expanded */
async function tasksViewRows() {
  const rows = new Map();
  await walkTasksTree(async (row) => {
    rows.set(row.index, row);
    return false;
  });
  return rows;
}

async function showTasksView() {
  await palette('taskdroid: Show Tasks View');
  await until(async () => page.evaluate(() => [...document.querySelectorAll('.pane .pane-header')].some((h) => /^\s*tasks\b/i.test(h.innerText))), 10000);
}

/** the row of the Tasks view whose text starts with `label` (visible now), with its icon */
const tasksRow = (label) =>
  page.evaluate((l) => {
    const pane = [...document.querySelectorAll('.pane')].find((p) => /^\s*tasks\b/i.test((p.querySelector('.pane-header') || {}).innerText || ''));
    const row = pane && [...pane.querySelectorAll('.monaco-list-row')].find((r) => r.innerText.replace(/\u00a0/g, ' ').trim().startsWith(l));
    if (!row) {
      return null;
    }
    const icon = row.querySelector('.custom-view-tree-node-item-icon');
    return { text: row.innerText.replace(/\s+/g, ' ').trim(), icon: icon ? [...icon.classList].filter((c) => c.startsWith('codicon-')).join(' ') : '' };
  }, label);

async function tasksViewSteps() {
  // 13. the Tasks view lists the example's tasks with the icon of their status
  if (STEPS.tasksview) {
    await step('tasksview', async () => {
      const { expect } = STEPS.tasksview;
      await showTasksView();
      let rows = new Map();
      const missing = [];
      const ok = await until(async () => {
        rows = await tasksViewRows();
        missing.length = 0;
        for (const [label, icon] of expect) {
          const row = [...rows.values()].find((r) => r.text.startsWith(label));
          if (!row || !row.icon.split(' ').includes(`codicon-${icon}`)) {
            missing.push(`${label} → ${icon} (saw ${row ? row.icon || 'no icon' : 'no row'})`);
          }
        }
        return missing.length === 0;
      }, 30000, 500);
      await page.keyboard.press('Home');
      await shot('tasks-view');
      const bar = await textOf('.statusbar-item[id$="taskdroid.tasks"]');
      const barOk = /✓ \d+\/\d+ · ▶ \d+/.test(bar);
      record('tasksview', !!ok && barOk, `${missing.length ? `missing: ${missing.join('; ')}; ` : ''}status bar "${bar}"; ${rows.size} rows: ${[...rows.values()].slice(0, 40).map((r) => `${r.text} [${r.icon}]`).join(' | ')}`);
    });
  }

  // 13b. a Kiro spec folder's task file starts with its Requirements node: coverage n/m, each
  //      requirement with its state icon, its tasks under it; Enter on one reveals its heading
  if (STEPS.requirements) {
    await step('requirements', async () => {
      const { node, description, expect, child, reveal } = STEPS.requirements;
      await showTasksView();
      let rows = [];
      const missing = [];
      const ok = await until(async () => {
        rows = [...(await tasksViewRows()).values()].sort((a, b) => a.index - b.index);
        missing.length = 0;
        const head = rows.find((r) => r.text.startsWith(node));
        if (!head || !head.text.includes(description)) {
          missing.push(`${node} "${description}" (saw ${head ? head.text : 'no row'})`);
        }
        for (const [label, icon] of expect) {
          const row = rows.find((r) => r.text.startsWith(label));
          if (!row || !row.icon.split(' ').includes(`codicon-${icon}`)) {
            missing.push(`${label} → ${icon} (saw ${row ? row.icon || 'no icon' : 'no row'})`);
          }
        }
        // the requirement's first task is the row right under it
        const at = rows.findIndex((r) => r.text.startsWith(child.under));
        const next = at >= 0 ? rows[at + 1] : undefined;
        if (!next || !next.text.startsWith(child.task)) {
          missing.push(`under ${child.under}: ${child.task} (saw ${next ? next.text : 'nothing'})`);
        }
        return missing.length === 0;
      }, 30000, 500);
      await page.keyboard.press('Home');
      await shot('requirements-view');
      // reveal: focus the requirement's row with the keyboard and open it (Enter runs its command)
      const row = await walkTasksTree(async (r) => r.text.startsWith(reveal.label));
      let where = '';
      let revealed = false;
      if (row) {
        await page.keyboard.press('Enter');
        revealed = !!(await until(async () => {
          where = `${await textOf('.tab.active')} | ${await textOf('.statusbar-item[id="status.editor.selection"]')}`;
          return where.includes(reveal.file) && where.includes(`Ln ${reveal.line},`);
        }, 10000));
        await shot('requirements-reveal');
      }
      const shown = rows.filter((r) => /^(Requirement|Requirements|[0-9.]+ )/.test(r.text)).slice(0, 12);
      record(
        'requirements',
        !!ok && revealed,
        `${missing.length ? `missing: ${missing.join('; ')}; ` : ''}reveal ${reveal.label}: ${row ? where || 'nothing opened' : 'no row'}; rows: ${shown.map((r) => `${r.text} [${r.icon}]`).join(' | ')}`,
      );
    });
  }

  // 14. "Run Ready Tasks" on a section: the queued run starts the stand-in droid, the view follows
  if (STEPS.runready) {
    await step('runready', async () => {
      const { section, task, done } = STEPS.runready;
      await showTasksView();
      // focus the section's row with the keyboard (which scrolls it into view), then click its
      // inline "Run Ready Tasks" action
      const before = await textOf('.statusbar-item[id$="taskdroid.tasks"]');
      const row = await walkTasksTree(async (r) => r.text.startsWith(section));
      if (!row) {
        throw new Error(`no row "${section}" in the Tasks view`);
      }
      const loc = tasksPaneRows().filter({ hasText: section }).first();
      await loc.hover();
      await loc.locator('.action-label.codicon-run-all').click({ timeout: 5000 });
      const doneBefore = Number((/✓ (\d+)\//.exec(before) || [])[1] || 0);
      let spin = '';
      const started = await until(async () => {
        const bar = await textOf('.statusbar-item[id$="taskdroid.tasks"]');
        const r = await tasksRow(task);
        spin = `${bar} | ${r ? `${r.text} [${r.icon}]` : 'row not rendered'}`;
        return /▶ [1-9]/.test(bar) || (r && /loading|sync/.test(r.icon));
      }, 15000, 100);
      await shot('runready-running');
      // the view follows: nothing running any more and more tasks done (status bar and the
      // view's own done/total), and the task's row, when rendered, shows the completed icon
      let after = '';
      const finished = await until(async () => {
        const bar = await textOf('.statusbar-item[id$="taskdroid.tasks"]');
        const r = await tasksRow(task);
        after = `${bar} | ${r ? `${r.text} [${r.icon}]` : 'row not rendered'}`;
        const doneNow = Number((/✓ (\d+)\//.exec(bar) || [])[1] || 0);
        return /▶ 0/.test(bar) && doneNow > doneBefore && (!r || r.icon.includes(`codicon-${done}`));
      }, 40000, 250);
      await shot('runready-done');
      const notes = await allText('.notifications-toasts .notification-list-item-message');
      record('runready', !!started && !!finished, `while running: ${spin}; after: ${after}${notes.length ? ` | notifications: ${notes.join(' | ')}` : ''}`);
    });
  }

  // 15. VS Code's markdown validation is on: the control link is reported, no task marker is
  if (STEPS.mdvalidate) {
    await step('mdvalidate', async () => {
      await page.keyboard.press('Control+Shift+M');
      await page.waitForSelector('.markers-panel', { state: 'visible' });
      const filter = page.locator('.panel .viewpane-filter input, .panel .markers-panel-action-filter input').first();
      await filter.fill(STEPS.mdvalidate.control);
      const control = await until(async () => (await allText('.markers-panel .monaco-list-row')).find((r) => r.includes(STEPS.mdvalidate.control)), 30000);
      await filter.fill('No link definition');
      await pause(1500); // the validator has reported (the control shows): give the filter a moment
      const refs = (await allText('.markers-panel .monaco-list-row')).filter((r) => /No link definition/.test(r));
      await shot('mdvalidate');
      await filter.fill('');
      record('mdvalidate', !!control && refs.length === 0, `control: ${control || '(markdown validation reported nothing: is it on?)'}; marker reports: ${refs.join(' | ') || 'none'}`);
    });
  }

  // 16. a picture of the Tasks view for the README (docs/images/tasks-view.png): the panel
  // closed, the explorer's folder tree folded, so the view has the side bar to itself
  if (STEPS.tasksview) {
    try {
      await palette('View: Close Panel').catch(() => {});
      await page.locator('.pane-header', { hasText: /^\s*ws(?![a-z])/i }).first().click({ timeout: 3000 }).catch(() => {});
      await walkTasksTree(async () => false);
      await page.keyboard.press('Home');
      await pause(800);
      await shot('tasks-view-full');
    } catch (e) {
      console.error(`no Tasks view picture: ${e.message}`);
    }
  }
}

let finishing = false;
async function finish(code) {
  if (finishing) {
    return;
  }
  finishing = true;
  clearTimeout(watchdog);
  results.seconds = (Date.now() - t0) / 1000;
  try {
    fs.writeFileSync(E.RESULTS, JSON.stringify(results, null, 2));
  } catch (e) {
    console.error(`cannot write ${E.RESULTS}: ${e.message}`);
  }
  try {
    if (ctx) {
      await Promise.race([ctx.close(), pause(10000)]);
    }
  } catch {
    // closed
  }
  if (cs) {
    try {
      process.kill(-cs.pid, 'SIGTERM');
    } catch {
      // gone
    }
    // give it a moment to stop the extension host and the server, then make sure
    await until(async () => {
      try {
        process.kill(-cs.pid, 0);
        return false;
      } catch {
        return true;
      }
    }, 3000, 100);
    try {
      process.kill(-cs.pid, 'SIGKILL');
    } catch {
      // gone
    }
    fs.rmSync(`${W}/cs.pgid`, { force: true });
  }
  process.exit(code);
}
const watchdog = setTimeout(() => {
  record('limit', false, `the run exceeded ${LIMIT_S}s`);
  void shot('limit').finally(() => finish(1));
}, LIMIT_S * 1000);

main()
  .then(() => tasksViewSteps())
  .then(() => finish(0))
  .catch(async (e) => {
    console.error(e && e.stack ? e.stack : String(e));
    record('fatal', false, e && e.stack ? e.stack : String(e));
    await shot('fatal');
    await finish(1);
  });
