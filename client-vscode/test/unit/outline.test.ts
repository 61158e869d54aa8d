import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { describe, it } from 'node:test';
import {
  COVERAGE_ICONS,
  FileOutline,
  RUNNING_ICON,
  STATUS_ICONS,
  ViewNode,
  buildTree,
  coverageText,
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

// the server's answer for the spec folders of examples/ (Kiro .kiro/specs/notifications, spec-kit
// specs/001-search), regenerated with the one above
const SPECS: unknown = JSON.parse(fs.readFileSync(path.join(__dirname, '..', '..', '..', 'test', 'fixtures', 'outline-specs.json'), 'utf8'));
const KIRO_TASKS = 'file:///ws/.kiro/specs/notifications/tasks.md';
const KIRO_REQ = 'file:///ws/.kiro/specs/notifications/requirements.md';

describe('requirements in the Tasks view', () => {
  const files = parseOutline(SPECS);

  it('reads the requirements of a spec folder from the outline answer', () => {
    const kiro = files.find((f) => f.uri === KIRO_TASKS);
    assert.ok(kiro);
    const [req] = kiro.requirements;
    assert.ok(req);
    assert.deepEqual([req.uri, req.flavor, req.total, req.covered, req.done], [KIRO_REQ, 'kiro', 2, 2, 0]);
    assert.deepEqual(req.items.map((r) => [r.requirement, r.state, r.tasks.map((t) => t.ref), r.criteria.map((c) => c.requirement)]), [
      ['1', 'covered', ['1.1', '1.2', '2.1', '2.2', '2.3'], ['1.1', '1.2', '1.3']],
      ['2', 'covered', ['3.1', '3.2', '3.3', '3.4'], ['2.1', '2.2', '2.3']],
    ]);
  });

  it('starts the task file with a Requirements node: coverage, then requirements → tasks and criteria', () => {
    const tree = buildTree(files);
    const kiro = tree.find((n) => n.uri === KIRO_TASKS);
    assert.ok(kiro);
    const node = kiro.children[0];
    assert.ok(node);
    assert.deepEqual([node.kind, node.label, node.description, node.uri, node.line, node.context, node.expanded], [
      'requirements',
      'Requirements',
      'coverage 2/2 · requirements.md',
      KIRO_REQ,
      0,
      'taskdroid.requirements',
      false,
    ]);
    // then the sections, as before
    assert.deepEqual(kiro.children.slice(1).map((n) => n.kind), kiro.children.slice(1).map(() => 'section'));
    const [r1] = node.children;
    assert.ok(r1);
    assert.deepEqual([r1.kind, r1.label, r1.description, r1.uri, r1.context, r1.icon], [
      'requirement',
      'Requirement 1: In-app notifications',
      '5 tasks · 3 done',
      KIRO_REQ,
      'taskdroid.requirement',
      COVERAGE_ICONS.covered,
    ]);
    // selecting it reveals its heading in requirements.md (0-based line of the server's answer)
    assert.equal(r1.line, files[0]?.requirements[0]?.items[0]?.line);
    // its tasks (revealed in tasks.md, with their status icon), then its acceptance criteria
    const tasks = r1.children.filter((c) => c.kind === 'task');
    assert.deepEqual(tasks.map((t) => [t.taskId, t.uri, t.context]).slice(0, 2), [
      ['1.1', KIRO_TASKS, 'taskdroid.task.ref'],
      ['1.2', KIRO_TASKS, 'taskdroid.task.ref'],
    ]);
    const t11 = tasks[0];
    const real = find(tree, (n) => n.kind === 'task' && n.taskId === '1.1' && n.context !== 'taskdroid.task.ref');
    assert.ok(t11 && real);
    assert.deepEqual([t11.line, t11.icon, t11.label], [real.line, real.icon, real.label]);
    assert.deepEqual(r1.children.filter((c) => c.kind === 'requirement').map((c) => c.label.slice(0, 8)), ['1.1 WHEN', '1.2 WHEN', '1.3 WHEN']);
    // unique ids across the whole tree (a task referenced by several requirements included)
    const ids: string[] = [];
    const walk = (ns: readonly ViewNode[]) => ns.forEach((n) => (ids.push(n.id), walk(n.children)));
    walk(tree);
    assert.equal(new Set(ids).size, ids.length);
  });

  it('shows a spec-kit spec with its uncovered FRs', () => {
    const tree = buildTree(files);
    const spec = tree.find((n) => n.uri === 'file:///ws/specs/001-search/tasks.md')?.children[0];
    assert.ok(spec);
    assert.deepEqual([spec.label, spec.description], ['Spec', 'coverage 2/5 · spec.md']);
    assert.deepEqual(
      spec.children.map((n) => [n.label.slice(0, 20), n.icon?.id, n.description]),
      [
        ['User Story 1: Search', COVERAGE_ICONS.covered.id, '3 tasks · 0 done'],
        ['User Story 2: Filter', COVERAGE_ICONS.covered.id, '2 tasks · 0 done'],
        ['FR-001 Search MUST m', COVERAGE_ICONS.uncovered.id, '0 tasks · 0 done'],
        ['FR-002 Results MUST ', COVERAGE_ICONS.uncovered.id, '0 tasks · 0 done'],
        ['FR-003 A search MUST', COVERAGE_ICONS.uncovered.id, '0 tasks · 0 done'],
      ],
    );
    assert.equal(spec.children[2]?.collapsible, false);
  });

  it('drops malformed requirement entries and counts like the code lens', () => {
    const [f] = parseOutline({
      files: [{ uri: 'file:///t.md', requirements: [{ uri: 'file:///r.md', items: [{ requirement: '1', line: 3, state: 'odd', tasks: [{ uri: 'file:///t.md', line: 'x' }] }, { line: 2 }] }, 5] }],
    });
    assert.ok(f);
    assert.equal(f.requirements.length, 1);
    const items = f.requirements[0]?.items ?? [];
    assert.deepEqual(items.map((i) => [i.requirement, i.state, i.tasks.length]), [['1', 'uncovered', 0]]);
    // a task file without tasks still shows when it has requirements
    assert.equal(buildTree([f]).length, 1);
    assert.equal(coverageText(1, 1), '1 task · 1 done');
    assert.equal(coverageText(3, 0), '3 tasks · 0 done');
  });
});
