// The README is the way into the documentation: every page under docs/ is linked from it, and every relative
// link in the README, in docs/ and in the chart's README reaches a file that exists (and a heading that exists,
// when it names one).
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('../../../', import.meta.url));
const PAGES = [
  'README.md',
  'charts/celerybeat-operator/README.md',
  ...readdirSync(join(ROOT, 'docs'))
    .filter((f) => f.endsWith('.md'))
    .map((f) => `docs/${f}`),
];

/** Markdown link targets outside code blocks and code spans. */
function links(text: string): string[] {
  const prose = text.replace(/```[\s\S]*?```/g, '').replace(/`[^`\n]*`/g, '');
  return [...prose.matchAll(/\]\(([^)\s]+)\)/g)].map((m) => m[1]!);
}

/** GitHub's anchor of a heading: lower case, punctuation dropped, spaces to hyphens. */
function slug(heading: string): string {
  return heading
    .trim()
    .toLowerCase()
    .replace(/`/g, '')
    .replace(/[^\p{L}\p{N}\s_-]/gu, '')
    .replace(/\s/g, '-');
}

function anchorsOf(file: string): Set<string> {
  const text = readFileSync(file, 'utf8').replace(/```[\s\S]*?```/g, '');
  return new Set([...text.matchAll(/^#{1,6} (.+)$/gm)].map((m) => slug(m[1]!)));
}

test('every page under docs/ is linked from the README', () => {
  const fromReadme = new Set(
    links(readFileSync(join(ROOT, 'README.md'), 'utf8'))
      .filter((l) => l.startsWith('docs/'))
      .map((l) => l.split('#')[0]),
  );
  const pages = PAGES.filter((p) => p.startsWith('docs/'));
  assert.ok(pages.length >= 15, `found ${pages.length} pages`);
  assert.deepEqual(
    pages.filter((p) => !fromReadme.has(p)),
    [],
    'pages the README does not link',
  );
});

test('every relative link reaches a file, and a heading when it names one', () => {
  const broken: string[] = [];
  let checked = 0;
  for (const page of PAGES) {
    const file = join(ROOT, page);
    for (const target of links(readFileSync(file, 'utf8'))) {
      if (/^[a-z]+:/i.test(target)) continue;
      const [path = '', anchor] = target.split('#');
      const to = path === '' ? file : resolve(dirname(file), path);
      checked++;
      if (!existsSync(to)) broken.push(`${page}: ${target} (no ${relative(ROOT, to)})`);
      else if (anchor !== undefined && to.endsWith('.md') && !anchorsOf(to).has(anchor))
        broken.push(`${page}: ${target} (no heading #${anchor})`);
    }
  }
  assert.ok(checked > 40, `only ${checked} links checked`);
  assert.deepEqual(broken, []);
});
