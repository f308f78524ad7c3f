import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { celerySaferepr, pythonNumberText } from '../../../src/celery/python-repr.ts';

// Produced by Celery 5.2.6's own saferepr(json.loads(text), 1024) on the JSON-decoded value.
const vectors = JSON.parse(
  readFileSync(new URL('../../fixtures/celery/saferepr_vectors.json', import.meta.url), 'utf8'),
) as { json: string; repr: string }[];

test('argsrepr/kwargsrepr equal Celery saferepr for every captured vector', () => {
  for (const v of vectors) {
    assert.equal(celerySaferepr(JSON.parse(v.json)), v.repr, `input ${v.json.slice(0, 80)}`);
  }
});

// 400 random JSON values (Celery 5.2.6 saferepr, fixed seed), about one in seven long enough to be truncated.
const randomVectors = JSON.parse(
  readFileSync(new URL('../../fixtures/celery/saferepr_random_vectors.json', import.meta.url), 'utf8'),
) as { json: string; repr: string }[];

test('argsrepr equals Celery saferepr for random values, truncated or not', () => {
  for (const v of randomVectors)
    assert.equal(celerySaferepr(JSON.parse(v.json)), v.repr, v.json.slice(0, 120));
});

test('numbers print as Python prints the value it decodes from our JSON', () => {
  assert.equal(pythonNumberText(3), '3');
  assert.equal(pythonNumberText(-0), '0');
  assert.equal(pythonNumberText(0.1), '0.1');
  assert.equal(pythonNumberText(0.00001), '1e-05');
  assert.equal(pythonNumberText(0.0001), '0.0001');
  assert.equal(pythonNumberText(1e21), '1e+21');
  assert.equal(pythonNumberText(1.5e300), '1.5e+300');
  assert.equal(pythonNumberText(123.456), '123.456');
});
