import assert from 'node:assert/strict';
import { test } from 'node:test';
import { TASK_ID_NAMESPACE, uuidV5 } from '../../../src/api/uuid-v5.ts';
import { taskIdForSlot } from '../../../src/celery/task-id.ts';

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
  assert.throws(() => taskIdForSlot('a/b', uid, Number.NaN), /not a time/);
});

test('slots of a microsecond interval get distinct ids, with the fraction in the name', () => {
  const uid = 'u-1';
  // every 1500 microseconds: slots fall on half milliseconds
  const slots = [1796167754002.5, 1796167754004, 1796167754005.5, 1796167754007.001];
  const ids = slots.map((slot) => taskIdForSlot('default/micro', uid, slot));
  assert.equal(new Set(ids).size, slots.length);
  assert.equal(ids[0], uuidV5(TASK_ID_NAMESPACE, 'default/micro/u-1/1796167754002.5'));
  assert.equal(ids[1], uuidV5(TASK_ID_NAMESPACE, 'default/micro/u-1/1796167754004'));
  assert.equal(ids[3], uuidV5(TASK_ID_NAMESPACE, 'default/micro/u-1/1796167754007.001'));
  // float noise below a microsecond does not change the id
  assert.equal(taskIdForSlot('default/micro', uid, 1796167754002.5 + 1e-7), ids[0]);
});
