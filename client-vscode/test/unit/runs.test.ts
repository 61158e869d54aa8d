import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { RunTracker, containsId, runIdOf, statusText } from '../../src/runs';

describe('run tracker', () => {
  it('a launched run is queued until its progress begins, running until it ends', () => {
    const t = new RunTracker(() => 1000);
    let changes = 0;
    t.onDidChange(() => changes++);
    t.launched('r1', { taskId: '1.3', droid: 'backend' });
    assert.deepEqual(t.summary(), { running: 0, queued: 1 });
    const run = t.progressBegin('tok-a', 'Running backend on task 1.3', undefined, true);
    assert.equal(run?.runId, 'r1');
    assert.deepEqual(t.summary(), { running: 1, queued: 0 });
    t.progressReport('tok-a', 'compiling…');
    assert.equal(t.get('r1')?.message, 'compiling…');
    t.progressEnd('tok-a');
    assert.deepEqual(t.summary(), { running: 0, queued: 0 });
    assert.ok(changes >= 4);
  });

  it('matches progress to runs by run ID, then task ID, then first in first out', () => {
    const t = new RunTracker();
    t.launched('aaa', { taskId: '1.1' });
    t.launched('bbb', { taskId: '2.1' });
    t.launched('ccc', { taskId: '3.1' });
    assert.equal(t.progressBegin('p1', 'taskdroid run', 'run bbb started')?.runId, 'bbb');
    assert.equal(t.progressBegin('p2', 'droid on task 3.1')?.runId, 'ccc');
    assert.equal(t.progressBegin('p3', 'droid run')?.runId, 'aaa');
  });

  it('task IDs match whole: 1.1 is not 1.10', () => {
    assert.ok(containsId('task 1.1: x', '1.1'));
    assert.ok(containsId('task 1.1.', '1.1'));
    assert.ok(!containsId('task 1.10', '1.1'));
    assert.ok(!containsId('task 11.1', '1.1'));
    assert.ok(!containsId('task 1.1.2', '1.1'));
  });

  it('indexing progress is not a run', () => {
    const t = new RunTracker();
    assert.equal(t.progressBegin('i', 'taskdroid: indexing', '10/200 files'), undefined);
    assert.deepEqual(t.summary(), { running: 0, queued: 0 });
  });

  it('a progress that begins before the runTask answer is matched when the answer comes', () => {
    const t = new RunTracker();
    t.progressBegin('tok', 'Running droid on 4.2', undefined, true);
    t.launched('r9', { taskId: '4.2' });
    assert.equal(t.list().length, 1);
    assert.equal(t.forToken('tok')?.runId, 'r9');
    t.progressEnd('tok');
    assert.equal(t.list().length, 0);
  });

  it('a run waiting for a slot reports queued', () => {
    const t = new RunTracker();
    t.progressBegin('tok', 'droid run 1.1', 'queued (2 runs ahead)');
    assert.deepEqual(t.summary(), { running: 0, queued: 1 });
    t.progressReport('tok', 'started');
    assert.deepEqual(t.summary(), { running: 1, queued: 0 });
  });

  it('forgets everything when the server stops', () => {
    const t = new RunTracker();
    t.launched('a');
    t.progressBegin('x', 'run');
    t.clear();
    assert.equal(t.list().length, 0);
  });

  it('reads {runId} answers', () => {
    assert.equal(runIdOf({ runId: 'abc' }), 'abc');
    assert.equal(runIdOf({ runId: 7 }), '7');
    assert.equal(runIdOf({}), undefined);
    assert.equal(runIdOf(null), undefined);
  });

  it('shows running and queued runs in the status bar', () => {
    assert.equal(statusText({ running: 1, queued: 2 }, 'running'), '$(sync~spin) taskdroid: 1 running, 2 queued');
    assert.equal(statusText({ running: 0, queued: 1 }, 'running'), '$(sync~spin) taskdroid: 1 queued');
    assert.equal(statusText({ running: 0, queued: 0 }, 'running'), '$(checklist) taskdroid');
    assert.equal(statusText({ running: 0, queued: 0 }, 'failed'), '$(error) taskdroid');
  });
});
