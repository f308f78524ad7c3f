import assert from 'node:assert/strict';
import { test } from 'node:test';
import { bookmarkVersion, isPeriodicTask, readListPage } from '../../../src/kube/task-objects.ts';

test('list pages are read with their resourceVersion and continue token', () => {
  const page = readListPage({
    metadata: { resourceVersion: '42', continue: 'abc' },
    items: [{ metadata: { name: 'a', namespace: 'ns' }, spec: { task: 't' } }],
  });
  assert.equal(page.resourceVersion, '42');
  assert.equal(page.continueToken, 'abc');
  assert.equal(page.items[0]?.apiVersion, 'celerybeat.io/v1alpha1');
  assert.equal(page.items[0]?.kind, 'PeriodicTask');
  assert.equal(readListPage({ metadata: { continue: '' }, items: [] }).continueToken, undefined);
  assert.throws(() => readListPage({ metadata: {}, items: [{ metadata: {} }] }), /list item 0/);
  assert.throws(() => readListPage('nope'), /no items or metadata/);
});

test('objects and bookmarks are recognised', () => {
  assert.ok(isPeriodicTask({ metadata: { name: 'a', namespace: 'b' }, spec: {} }));
  assert.ok(!isPeriodicTask({ metadata: { name: 'a' }, spec: {} }));
  assert.equal(bookmarkVersion({ kind: 'PeriodicTask', metadata: { resourceVersion: '9' } }), '9');
  assert.equal(bookmarkVersion({}), undefined);
});
