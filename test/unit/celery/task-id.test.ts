import assert from 'node:assert/strict';
import { test } from 'node:test';
import { TASK_ID_NAMESPACE, taskIdForSlot, uuidV5 } from '../../../src/celery/task-id.ts';

// Expected values from Python: uuid.uuid5(...)
test('UUIDv5 equals Python uuid.uuid5', () => {
  assert.equal(TASK_ID_NAMESPACE, 'e2279ad3-2897-5d9b-a511-43ad37080980');
  assert.equal(uuidV5(TASK_ID_NAMESPACE, 'ns/té/u/0'), '74521cad-c387-5728-96ec-3e9ca65df949');
});

test('task ids are deterministic per slot and differ between slots, tasks and uids', () => {
  const uid = '0b5c6c1e-1111-4c1e-9f00-123456789abc';
  const id = taskIdForSlot('default/add-every-30s', uid, 1795500000000);
  assert.equal(id, 'b1420e8a-6ddb-5d3a-ae26-3712f0187de5');
  assert.equal(taskIdForSlot('default/add-every-30s', uid, 1795500000000), id);
  assert.notEqual(taskIdForSlot('default/add-every-30s', uid, 1795500030000), id);
  assert.notEqual(taskIdForSlot('default/other', uid, 1795500000000), id);
  assert.notEqual(taskIdForSlot('default/add-every-30s', 'another-uid', 1795500000000), id);
  assert.throws(() => taskIdForSlot('a/b', uid, 1.5), /not an integer/);
});
