// The reference tables in docs/ cannot go stale: they are checked against the real flag definitions, the
// chart's values and the metrics registry.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { RUN_FLAGS } from '../../../src/cli/run-config.ts';
import { registry } from '../../../src/observe/metrics.ts';
import { valuesTableProblems } from '../../integration/chart/values-reference.ts';

const doc = (name: string): string => readFileSync(new URL(`../../../docs/${name}`, import.meta.url), 'utf8');
const configuration = doc('configuration.md');

/** The text of a page's section under `heading`, up to the next heading. */
function section(page: string, heading: string): string {
  const start = page.indexOf(`${heading}\n`);
  assert.ok(start >= 0, `the page has a "${heading}" section`);
  const rest = page.slice(start + heading.length + 1);
  const end = rest.search(/^#{1,3} /m);
  return end < 0 ? rest : rest.slice(0, end);
}

function tableRows(firstColumn: RegExp): string[][] {
  return configuration
    .split('\n')
    .filter((line) => firstColumn.test(line))
    .map((line) =>
      line
        .split('|')
        .slice(1, -1)
        .map((cell) => cell.trim()),
    );
}

test('the flags table lists every flag of `run`, with its environment variable and default', () => {
  const rows = tableRows(/^\| `--[a-z-]+` \|/);
  const documented = new Map(rows.map(([flag, env, dflt]) => [flag!.slice(3, -1), { env, dflt }]));
  assert.deepEqual([...documented.keys()].sort(), Object.keys(RUN_FLAGS).sort());
  for (const [name, spec] of Object.entries(RUN_FLAGS)) {
    const row = documented.get(name)!;
    assert.equal(row.env, spec.env ? `\`${spec.env}\`` : '', `environment variable of --${name}`);
    if (spec.default !== undefined) assert.equal(row.dflt, `\`${spec.default}\``, `default of --${name}`);
  }
});

test('the chart values table documents every value with its default', () => {
  assert.deepEqual(valuesTableProblems(section(configuration, '## Helm chart values')), []);
});

test('every metric in the metrics table exists', async () => {
  const names = new Set((await registry.getMetricsAsJSON()).map((m) => m.name));
  const documented = [
    ...doc('metrics.md').matchAll(/^\| `([a-z_]+)(?:\{[^}]*\})?`(?:, `([a-z_]+)(?:\{[^}]*\})?`)? \|/gm),
  ].flatMap((m) => [m[1], m[2]].filter((n): n is string => n !== undefined));
  assert.ok(documented.length >= 10, 'the metrics table was found');
  for (const name of documented) assert.ok(names.has(name), `${name} is a real metric`);
});
