import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { STATUSES, parseNextTasks } from '../../src/tasks';

describe('statuses', () => {
  it('offers the five statuses of docs/language.md §5', () => {
    assert.deepEqual(
      STATUSES.map((s) => s.status),
      ['pending', 'in_progress', 'completed', 'blocked', 'cancelled'],
    );
  });
});

describe('taskdroid.nextTasks answers', () => {
  it('keeps well-formed entries and an optional line', () => {
    const out = parseNextTasks([
      { uri: 'file:///w/tasks.md', taskId: '1.3', title: 'T', droid: 'api', priority: 'HIGH' },
      { uri: 'file:///w/tasks.md', taskId: null, title: 'No id', droid: null, priority: null, line: 7 },
      { uri: 'file:///w/tasks.md', taskId: '2', title: 'Ranged', range: { start: { line: 3, character: 0 } } },
      { taskId: '1' },
      'junk',
    ]);
    assert.equal(out.length, 3);
    assert.deepEqual(out[0], { uri: 'file:///w/tasks.md', taskId: '1.3', title: 'T', droid: 'api', priority: 'HIGH', line: undefined });
    assert.equal(out[1]?.line, 7);
    assert.equal(out[2]?.line, 3);
    assert.deepEqual(parseNextTasks(null), []);
  });
});
