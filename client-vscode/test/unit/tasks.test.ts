import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { STATUSES, findTaskLine, parseNextTasks, parseTaskLine, taskAt } from '../../src/tasks';

describe('task lines', () => {
  it('reads the marker and the ID in every style', () => {
    const cases: [string, string, string | undefined][] = [
      ['- [x] 1.1 Create /api/auth/register endpoint ✅', 'x', '1.1'],
      ['- [ ] T012 [P] [US1] Add the model', ' ', 'T012'],
      ['  - [~] 2.3.1. Title', '~', '2.3.1'],
      ['* [!] **1.0 Database Setup**', '!', '1.0'],
      ['+ [cancelled] 5.2 Old task', 'cancelled', '5.2'],
      ['1. [ ] 3.2B Something', ' ', '3.2B'],
      ['- [ ]* 2.3 Optional (Kiro)', ' ', '2.3'],
      ['- [-] 1 Kiro in progress', '-', '1'],
      ['- [X] T007.1 done', 'X', 'T007.1'],
      ['- [/] 1.2 Malformed marker', '/', '1.2'],
      ['- [ ] Title without ID', ' ', undefined],
      ['- [ ] 1.1x not an ID', ' ', undefined],
      ['- [ ] 2025 was a year', ' ', '2025'],
    ];
    for (const [line, marker, id] of cases) {
      const t = parseTaskLine(line);
      assert.ok(t, line);
      assert.equal(t.marker, marker, line);
      assert.equal(t.taskId, id, line);
    }
  });

  it('ignores links, legends and labels', () => {
    for (const line of ['- [Docs](https://x)', '- [P] tasks = different files', '- [US1] story', 'text [x] 1.1', '- [ab](c)']) {
      assert.equal(parseTaskLine(line), undefined, line);
    }
  });

  it('finds the task owning a line of its field block', () => {
    const lines = [
      '## 1. Auth (HIGH)', // 0
      '- [x] 1.1 Register ✅', // 1
      '  - **Completed**: 2025-01-12 15:20', // 2
      '  - **Files**: a.ts', // 3
      '', // 4
      '- [ ] 1.2 Login', // 5
      '  - [ ] 1.2.1 Form', // 6
      '    - **Droid**: frontend', // 7
      '  - **Droid**: backend', // 8
      'Paragraph.', // 9
      '```markdown', // 10
      '- [ ] 9.9 Example', // 11
      '```', // 12
    ];
    assert.equal(taskAt(lines, 1)?.taskId, '1.1');
    assert.equal(taskAt(lines, 2)?.taskId, '1.1');
    assert.equal(taskAt(lines, 3)?.taskId, '1.1');
    assert.equal(taskAt(lines, 6)?.taskId, '1.2.1');
    assert.equal(taskAt(lines, 7)?.taskId, '1.2.1');
    assert.equal(taskAt(lines, 8)?.taskId, '1.2');
    assert.equal(taskAt(lines, 0), undefined);
    assert.equal(taskAt(lines, 9), undefined);
    assert.equal(taskAt(lines, 11), undefined);
    assert.equal(findTaskLine(lines, '1.2.1'), 6);
    assert.equal(findTaskLine(lines, '9.9'), undefined);
  });

  it('offers the five statuses of SPEC §5', () => {
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
