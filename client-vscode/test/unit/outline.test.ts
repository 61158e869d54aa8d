import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { describe, it } from 'node:test';
import {
  FileOutline,
  RUNNING_ICON,
  STATUS_ICONS,
  ViewNode,
  buildTree,
  mergeFiles,
  parseOutline,
  runIdsOf,
  runOf,
  sameUri,
  statusBarText,
  taskAtLine,
  totals,
} from '../../src/outline';
import { RunTracker } from '../../src/runs';

// the server's answer to `taskdroid.outline {}` on examples/tasks (tests/core/test_taskview.py
// checks that this file is exactly what the server answers)
const FIXTURE = path.join(__dirname, '..', '..', '..', 'test', 'fixtures', 'outline-examples.json');
const raw: unknown = JSON.parse(fs.readFileSync(FIXTURE, 'utf8'));
const AUTH = 'file:///ws/tasks/tasks-auth-api.md';

function find(nodes: readonly ViewNode[], pred: (n: ViewNode) => boolean): ViewNode | undefined {
  for (const n of nodes) {
    if (pred(n)) {
      return n;
    }
    const hit = find(n.children, pred);
    if (hit) {
      return hit;
    }
  }
  return undefined;
}
const task = (nodes: readonly ViewNode[], id: string) => {
  const n = find(nodes, (x) => x.kind === 'task' && x.taskId === id && x.uri === AUTH);
  assert.ok(n, `task ${id}`);
  return n;
};

describe('the outline answer', () => {
  it('is read from the server fixture', () => {
    const files = parseOutline(raw);
    assert.deepEqual(
      files.map((f) => [f.path, f.done, f.total]),
      [
        ['tasks/tasks-auth-api.md', 4, 11],
        ['tasks/tasks-prd-dashboard.md', 7, 19],
      ],
    );
    const auth = files[0];
    assert.ok(auth);
    assert.deepEqual(
      auth.sections.map((s) => [s.title, s.priority, s.done, s.total]),
      [
        ['1. User Authentication API (BLOCKER)', 'BLOCKER', 2, 4],
        ['2. Sessions and Storage (HIGH)', 'HIGH', 1, 2],
        ['3. Testing (MEDIUM)', 'MEDIUM', 1, 2],
        ['4. Dashboard Integration (MEDIUM)', 'MEDIUM', 0, 1],
        ['5. Documentation (LOW)', 'LOW', 0, 2],
      ],
    );
  });

  it('drops what is malformed instead of throwing', () => {
    assert.deepEqual(parseOutline(null), []);
    assert.deepEqual(parseOutline({ files: 'x' }), []);
    const files = parseOutline({
      files: [
        { uri: 'file:///a.md', sections: [{ title: 'S', tasks: [{ line: 2, status: 'weird', children: 'no' }, { title: 'no line' }] }] },
        { path: 'no uri' },
        7,
      ],
    });
    assert.equal(files.length, 1);
    const t = files[0]?.sections[0]?.tasks;
    assert.equal(t?.length, 1);
    const only = t[0];
    assert.ok(only);
    assert.equal(only.status, 'malformed');
    assert.deepEqual(only.range, { start: { line: 2, character: 0 }, end: { line: 2, character: 0 } });
    assert.deepEqual(only.children, []);
  });
});

describe('the Tasks view tree', () => {
  const files = parseOutline(raw);

  it('is files → sections → tasks, with done/total per file and section', () => {
    const tree = buildTree(files);
    assert.deepEqual(
      tree.map((n) => [n.kind, n.label, n.description]),
      [
        ['file', 'tasks-auth-api.md', '4/11 done · tasks'],
        ['file', 'tasks-prd-dashboard.md', '7/19 done · tasks'],
      ],
    );
    const sections = tree[0]?.children ?? [];
    assert.deepEqual(
      sections.map((s) => [s.kind, s.label, s.description, s.context]),
      [
        ['section', '1. User Authentication API (BLOCKER)', '2/4 · BLOCKER', 'taskdroid.section'],
        ['section', '2. Sessions and Storage (HIGH)', '1/2 · HIGH', 'taskdroid.section'],
        ['section', '3. Testing (MEDIUM)', '1/2 · MEDIUM', 'taskdroid.section'],
        ['section', '4. Dashboard Integration (MEDIUM)', '0/1 · MEDIUM', 'taskdroid.section'],
        ['section', '5. Documentation (LOW)', '0/2 · LOW', 'taskdroid.section'],
      ],
    );
    assert.deepEqual(
      sections[0]?.children.map((t) => t.label),
      ['1.1 Create /api/auth/register endpoint', '1.2 Create /api/auth/login endpoint', '1.3 Implement token refresh logic', '1.4 Add rate limiting'],
    );
    // subtasks nest under their task
    const dash = find(tree, (n) => n.kind === 'task' && n.taskId === '2.0');
    assert.ok(dash);
    assert.deepEqual(dash.children.map((c) => c.taskId), ['2.1', '2.2', '2.3', '2.4']);
    assert.equal(dash.collapsible, true);
  });

  it('gives each status its icon', () => {
    const tree = buildTree(files);
    assert.deepEqual(task(tree, '1.1').icon, STATUS_ICONS.completed);
    assert.deepEqual(task(tree, '1.3').icon, STATUS_ICONS.in_progress);
    assert.deepEqual(task(tree, '1.4').icon, STATUS_ICONS.blocked);
    assert.deepEqual(task(tree, '2.2').icon, STATUS_ICONS.pending);
    assert.deepEqual(task(tree, '5.2').icon, STATUS_ICONS.cancelled);
    assert.equal(STATUS_ICONS.pending.id, 'circle-large-outline');
    assert.equal(STATUS_ICONS.completed.id, 'pass-filled');
    assert.equal(STATUS_ICONS.blocked.id, 'warning');
    assert.equal(STATUS_ICONS.cancelled.id, 'circle-slash');
    assert.equal(STATUS_ICONS.in_progress.id, 'sync');
    assert.equal(STATUS_ICONS.malformed.id, 'question');
    const malformed = buildTree(parseOutline({ files: [{ uri: 'file:///m.md', total: 1, sections: [{ tasks: [{ line: 0, status: 'malformed', marker: '[/]', title: 'x' }] }] }] }));
    assert.deepEqual(find(malformed, (n) => n.kind === 'task')?.icon, STATUS_ICONS.malformed);
  });

  it('gives every node a unique id, also to tasks that reuse an ID (TD003)', () => {
    const dup = buildTree(
      parseOutline({
        files: [
          {
            uri: 'file:///d.md',
            total: 3,
            sections: [{ line: 0, title: 'A', tasks: [1, 2, 3].map((n) => ({ id: '2.2', line: n, status: 'pending', title: `t${n}` })) }],
          },
        ],
      }),
    );
    const ids: string[] = [];
    const walk = (nodes: ViewNode[]) => nodes.forEach((n) => (ids.push(n.id), walk(n.children)));
    walk(dup);
    assert.equal(new Set(ids).size, ids.length);
    assert.equal(ids.filter((i) => i.includes('#2.2')).length, 3);
  });

  it('shows droid and dependency state in the description and tooltip', () => {
    const tree = buildTree(files);
    const ready = task(tree, '2.2');
    assert.equal(ready.description, '$(hubot) backend-engineer · ready');
    assert.match(ready.tooltip, /Dependencies: ready/);
    const blocked = task(tree, '3.2');
    assert.equal(blocked.description, '$(hubot) test-engineer · blocked dependency');
    assert.match(blocked.tooltip, /Dependencies: blocked dependency: 1\.4 is blocked/);
    assert.match(blocked.tooltip, /Droid: test-engineer/);
    // runnable tasks (an ID, not done, not running) get the Run action; done ones do not
    assert.equal(ready.context, 'taskdroid.task.runnable');
    assert.equal(task(tree, '1.1').context, 'taskdroid.task');
    assert.equal(task(tree, '1.1').line, 10);
  });

  it('waiting tasks name what they wait on; unknown droids say so', () => {
    const f: FileOutline[] = parseOutline({
      files: [
        {
          uri: AUTH,
          total: 1,
          sections: [{ tasks: [{ id: '9', line: 0, status: 'pending', droid: 'ghost', droidResolves: false, dependency: { state: 'waiting', on: ['1.2', 'x.md#3'], text: 'waiting on 1.2, x.md#3' } }] }],
        },
      ],
    });
    const n = task(buildTree(f), '9');
    assert.equal(n.description, '$(hubot) ghost (unknown) · waits on 1.2, x.md#3');
    assert.match(n.tooltip, /no droid file of that name/);
  });

  it('a running task shows a spinner and its latest progress line', () => {
    const tracker = new RunTracker(() => 1);
    tracker.launched('r7', { uri: AUTH, taskId: '2.2' });
    tracker.progressBegin('taskdroid-r7', 'Running droid backend-engineer: task 2.2', 'tasks-auth-api.md 2.2 Add a nightly job', true);
    tracker.progressReport('taskdroid-r7', 'editing src/jobs/cleanup.ts');
    const tree = buildTree(files, tracker.list());
    const n = task(tree, '2.2');
    assert.deepEqual(n.icon, RUNNING_ICON);
    assert.equal(RUNNING_ICON.id, 'loading~spin');
    assert.equal(n.running, true);
    assert.ok(n.description.startsWith('▶ editing src/jobs/cleanup.ts'), n.description);
    assert.equal(n.context, 'taskdroid.task.running');
    // the server's runId finds the run too (a run of "Run ready" the tracker knows by token only)
    const other = new RunTracker();
    other.progressBegin('taskdroid-r9', 'Running droid x: task 4.1', 'm', true);
    other.progressReport('taskdroid-r9', 'step 2');
    const withRunId = parseOutline(JSON.parse(JSON.stringify(raw).replace('"runId":null', '"runId":"r9"')));
    const first = withRunId[0]?.sections[0]?.tasks[0];
    assert.ok(first);
    assert.equal(runOf(first, AUTH, other.list())?.message, 'step 2');
  });

  it('the status bar reads ✓ done/total · ▶ running', () => {
    assert.equal(statusBarText(totals(files)), '✓ 11/30 · ▶ 0');
    const tracker = new RunTracker();
    tracker.launched('r1', { uri: AUTH, taskId: '2.2' });
    tracker.progressBegin('taskdroid-r1', 'Running droid d: task 2.2', 'x', true);
    tracker.progressBegin('taskdroid-r2', 'Running droid d: task 9.9', 'elsewhere', true); // not in the outline yet
    assert.equal(statusBarText(totals(files, tracker.list())), '✓ 11/30 · ▶ 2');
  });
});

describe('helpers', () => {
  const files = parseOutline(raw);

  it('finds the innermost task holding a line', () => {
    assert.equal(taskAtLine(files, AUTH, 10)?.id, '1.1');
    assert.equal(taskAtLine(files, AUTH, 12)?.id, '1.1'); // a field line of 1.1
    assert.equal(taskAtLine(files, AUTH, 0), undefined);
    const dash = 'file:///ws/tasks/tasks-prd-dashboard.md';
    assert.equal(taskAtLine(files, dash, 22)?.id, '1.1');
    assert.equal(taskAtLine(files, dash, 21)?.id, '1.0');
    assert.equal(taskAtLine(files, dash, 20), undefined); // the blank line under the heading
    // percent-encoding differences do not matter
    assert.ok(sameUri('file:///ws/a%20b.md', 'file:///ws/a b.md'));
    assert.ok(!sameUri('file:///ws/a.md', 'file:///ws/b.md'));
  });

  it('merges a partial refresh (and drops a file that went away)', () => {
    const auth = files[0];
    assert.ok(auth);
    const fresh = { ...auth, done: 5 };
    const merged = mergeFiles(files, [fresh], [auth.uri]);
    assert.deepEqual(merged.map((f) => [f.path, f.done]), [
      ['tasks/tasks-auth-api.md', 5],
      ['tasks/tasks-prd-dashboard.md', 7],
    ]);
    assert.deepEqual(mergeFiles(files, [], [auth.uri]).map((f) => f.path), ['tasks/tasks-prd-dashboard.md']);
  });

  it('reads the runIds of taskdroid.runReady', () => {
    assert.deepEqual(runIdsOf({ runIds: ['a', 7, '', null] }), ['a', '7']);
    assert.deepEqual(runIdsOf(null), []);
    assert.deepEqual(runIdsOf({ runIds: 'x' }), []);
  });
});
