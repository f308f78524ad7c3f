// The argocd-cm snippet users paste, in argocd/argocd-cm.yaml and in docs/argocd.md, must carry the tested
// health.lua unchanged, under the key Argo CD looks up for celerybeat.io/PeriodicTask.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { parse } from 'yaml';

const root = join(import.meta.dirname, '..', '..', '..');
const healthLua = readFileSync(join(root, 'argocd', 'health.lua'), 'utf8');
const key = 'resource.customizations.health.celerybeat.io_PeriodicTask';

test('argocd/argocd-cm.yaml holds health.lua verbatim', () => {
  const patch = parse(readFileSync(join(root, 'argocd', 'argocd-cm.yaml'), 'utf8')) as {
    data: Record<string, string>;
  };
  assert.equal(patch.data[key], healthLua);
});

test('docs/argocd.md shows the same argocd-cm snippet', () => {
  const doc = readFileSync(join(root, 'docs', 'argocd.md'), 'utf8');
  const snippet = /```yaml\n(# argocd-cm\n[\s\S]*?)```/.exec(doc)?.[1];
  assert.ok(snippet, 'docs/argocd.md has no ```yaml block starting with "# argocd-cm"');
  const configMap = parse(snippet) as { data: Record<string, string> };
  assert.equal(configMap.data[key], healthLua);
});
