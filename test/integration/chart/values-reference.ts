// The chart values reference (a Markdown table) must list every value of values.yaml with its real
// default, and nothing else. Exported so every document that carries the table can be checked.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';
import { chartDir } from './chart.ts';

interface SchemaNode {
  properties?: Record<string, SchemaNode>;
  additionalProperties?: boolean | SchemaNode;
}

/** Defaults longer than this are written "see values.yaml" in the table. */
const inlineLimit = 60;

/**
 * The documented values: dotted paths down to where values.schema.json stops describing fixed keys
 * (a free-form map such as podAnnotations or securityContext is one value), each with its default as
 * the table shows it.
 */
export function documentedValues(): Map<string, string> {
  const values: unknown = parse(readFileSync(join(chartDir, 'values.yaml'), 'utf8'));
  const schema = JSON.parse(readFileSync(join(chartDir, 'values.schema.json'), 'utf8')) as SchemaNode;
  const leaves = new Map<string, string>();
  const walk = (value: unknown, node: SchemaNode | undefined, path: string): void => {
    const fixedKeys = node?.properties && node.additionalProperties === false;
    if (fixedKeys && value !== null && typeof value === 'object' && !Array.isArray(value)) {
      for (const [key, child] of Object.entries(value)) {
        walk(child, node.properties?.[key], path ? `${path}.${key}` : key);
      }
      return;
    }
    const json = JSON.stringify(value);
    leaves.set(path, json.length > inlineLimit ? 'see values.yaml' : `\`${json}\``);
  };
  walk(values, schema, '');
  return leaves;
}

/** What is wrong with the values table in `markdown`: missing, unknown or stale rows. */
export function valuesTableProblems(markdown: string): string[] {
  const rows = new Map<string, string>();
  for (const match of markdown.matchAll(/^\| `([^`]+)` \| (.+?) \| .+ \|$/gm)) {
    if (match[1] && match[2]) rows.set(match[1], match[2]);
  }
  const problems: string[] = [];
  for (const [key, shown] of documentedValues()) {
    const row = rows.get(key);
    if (row === undefined) problems.push(`${key} is not documented`);
    else if (row !== shown) problems.push(`${key}: the table says ${row}, values.yaml says ${shown}`);
  }
  const known = documentedValues();
  for (const key of rows.keys())
    if (!known.has(key)) problems.push(`${key} is documented but not in values.yaml`);
  return problems;
}
