// The policy reader against a scripted PolicyCalls: paged lists, namespace labels, invalid policies left out,
// a missing CRD as no policy, a failed list keeping the last read, and a change signalled once.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ApiError } from '../../../src/kube/api-errors.ts';
import type { PolicyCalls } from '../../../src/kube/kube-calls.ts';
import { PolicyReader } from '../../../src/kube/policy-reader.ts';
import { createLogger } from '../../../src/observe/logger.ts';
import { waitUntil } from '../../support/ports.ts';

const policy = (name: string, maxPriority: unknown) => ({
  apiVersion: 'celerybeat.io/v1alpha1',
  kind: 'PeriodicTaskPolicy',
  metadata: { name, resourceVersion: '1' },
  spec: { namespaceSelector: { matchLabels: { team: 'a' } }, maxPriority },
});

function scripted() {
  const state = {
    policies: [policy('b', 3), policy('a', 1), policy('broken', 'high')] as unknown[],
    policyError: undefined as Error | undefined,
    /** Namespace lists completed: each is the end of one read. */
    reads: 0,
    namespaces: [
      { metadata: { name: 'team-a', labels: { team: 'a', 'kubernetes.io/metadata.name': 'team-a' } } },
      { metadata: { name: 'team-b', labels: { 'kubernetes.io/metadata.name': 'team-b' } } },
    ],
  };
  // One item a page, so every list takes several pages.
  const page = (items: unknown[], token: string | undefined) => {
    const at = token === undefined ? 0 : Number(token);
    const next = at + 1 < items.length ? String(at + 1) : undefined;
    return { items: items.slice(at, at + 1), metadata: next === undefined ? {} : { continue: next } };
  };
  const calls: PolicyCalls = {
    listPolicies: async ({ continueToken }) => {
      if (state.policyError) throw state.policyError;
      return page(state.policies, continueToken);
    },
    listNamespaces: async ({ continueToken }) => {
      const answer = page(state.namespaces, continueToken);
      if (answer.metadata.continue === undefined) state.reads += 1;
      return answer;
    },
  };
  return { state, calls };
}

test('reads policies and labels page by page; an invalid policy is left out; a change is signalled once', async () => {
  const { state, calls } = scripted();
  const reader = new PolicyReader(calls, { logger: createLogger('silent'), pollMs: 10, pageSize: 1 });
  let changes = 0;
  assert.equal(reader.synced(), false);
  await reader.start(() => {
    changes += 1;
  });
  try {
    await waitUntil('the first read', () => reader.synced(), 5000);
    assert.deepEqual(
      reader.policies().map((p) => p.metadata.name),
      ['a', 'b'],
    );
    assert.deepEqual(reader.namespaceLabels('team-a'), {
      team: 'a',
      'kubernetes.io/metadata.name': 'team-a',
    });
    assert.deepEqual(
      reader.namespaceLabels('new'),
      { 'kubernetes.io/metadata.name': 'new' },
      'not listed yet',
    );
    const readsBefore = state.reads;
    await waitUntil('three more reads', () => state.reads >= readsBefore + 3, 5000);
    assert.equal(changes, 1, 'unchanged reads signal nothing');

    // A failed policy list ends the read before the namespaces are listed: wait for two failed polls.
    let failures = 0;
    state.policyError = new Error('connection refused');
    const failing = calls.listPolicies;
    calls.listPolicies = async (page) => {
      failures += 1;
      return failing(page);
    };
    await waitUntil('two failed reads', () => failures >= 2, 5000);
    assert.equal(reader.policies().length, 2, 'a failed list keeps the policies last read');
    calls.listPolicies = failing;

    state.policyError = undefined;
    state.policies = [policy('a', 5)];
    await waitUntil('the edit', () => reader.policies()[0]?.spec.maxPriority === 5, 5000);
    assert.equal(changes, 2);

    state.policyError = new ApiError('list periodictaskpolicies', 404, '');
    await waitUntil('no CRD, no policy', () => reader.policies().length === 0, 5000);
    assert.equal(changes, 3);
  } finally {
    await reader.stop();
  }
});
