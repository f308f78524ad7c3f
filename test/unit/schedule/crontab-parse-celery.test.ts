// The crontab field parser and the CRD's patterns against Celery 5.2.6's crontab_parser: captured answers for
// generated strings (fixtures/crontab_parser_vectors.json) and, when a Python with Celery 5.2.6 is at hand
// (CELERY_PYTHON, default Debian's /usr/bin/python3, as the workers), a fresh batch asked of the real parser in one process.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { CRONTAB_FIELD_PATTERN } from '../../../src/api/periodic-task-schema.ts';
import { parseCrontabField } from '../../../src/schedule/crontab-parse.ts';
import { CELERY_PARSER_ARGS, generateParserCases, type ParserCase } from './crontab-strings.ts';

/** Celery's answer: the sorted values, or the text of the exception. */
type CeleryAnswer = number[] | string;

const fieldPattern = new RegExp(CRONTAB_FIELD_PATTERN);
/** Errors about values, not syntax: the pattern lets them through and the operator reports them. */
const VALUE_ERROR = /^(Invalid end range|Invalid beginning range|slice step cannot be zero)/;

/**
 * Whether each part parses as a day of week once every number is made 1, so that every value but a negative one
 * is in range: the syntax alone, which is what the CRD pattern must accept.
 */
function syntacticallyValid(c: ParserCase): boolean {
  return c.text.split(',').every((part) => {
    const parsed = parseCrontabField(part.replace(/[0-9]+(_[0-9]+)*/g, '1'), 'dayOfWeek');
    return parsed.ok || VALUE_ERROR.test(parsed.celeryMessage);
  });
}

function check(c: ParserCase, celery: CeleryAnswer): void {
  const label = `${c.field} ${JSON.stringify(c.text)}`;
  const ours = parseCrontabField(c.text, c.field);
  if (Array.isArray(celery)) assert.deepEqual(ours, { ok: true, values: celery }, label);
  else assert.equal(ours.ok ? ours : ours.celeryMessage, celery, label);
  assert.equal(fieldPattern.test(c.text), syntacticallyValid(c), `${label}: the CRD pattern`);
  if (Array.isArray(celery))
    assert.ok(fieldPattern.test(c.text), `${label}: the CRD refuses what Celery accepts`);
}

test('the strings of issue 11 parse as Celery 5.2.6 parses them, and the CRD accepts them', () => {
  const evens = Array.from({ length: 30 }, (_, i) => 2 * i);
  const cases: [string, number[]][] = [
    [' 5', [5]],
    ['5 ', [5]],
    ['1, 2', [1, 2]],
    ['+5', [5]],
    ['1-5/2/3', [1, 3, 5]],
    ['*/2/3', evens],
  ];
  for (const [text, values] of cases) check({ field: 'minute', text }, values);
});

test("Celery's leniencies and refusals, one of each", () => {
  const answers: [ParserCase['field'], string, CeleryAnswer][] = [
    ['minute', '1-5-7', [1, 2, 3, 4, 5]],
    [
      'minute',
      '*/2-5',
      [
        0, 2, 4, 6, 8, 10, 12, 14, 16, 18, 20, 22, 24, 26, 28, 30, 32, 34, 36, 38, 40, 42, 44, 46, 48, 50, 52,
        54, 56, 58,
      ],
    ],
    ['dayOfWeek', 'mon/5', [1]],
    ['dayOfWeek', 'monkey', [1]],
    ['minute', '1_0', [10]],
    ['minute', ' -0', [0]],
    ['minute', '*\n', Array.from({ length: 60 }, (_, i) => i)],
    ['minute', '* ', "Invalid weekday literal '* '."],
    ['minute', '-5', 'negative numbers not supported'],
    ['minute', ' -5', 'Invalid beginning range: -5 < 0.'],
    ['minute', '*/', 'empty filter'],
    ['minute', '*/x', "invalid literal for int() with base 10: 'x'"],
    ['minute', '5/15', "Invalid weekday literal '5/15'."],
    ['minute', '1 - 5', "Invalid weekday literal '1 - 5'."],
    ['minute', '5\x1c', "Invalid weekday literal '5\\x1c'."],
  ];
  for (const [field, text, celery] of answers) check({ field, text }, celery);
});

test('non-ASCII text is refused, also by the CRD pattern', () => {
  for (const text of ['\u0665', '5\u00a0', 'mon\u2003']) {
    const parsed = parseCrontabField(text, 'minute');
    assert.equal(parsed.ok, false, JSON.stringify(text));
    if (!parsed.ok) assert.match(parsed.message, /not an ASCII character/);
    assert.equal(fieldPattern.test(text), false, JSON.stringify(text));
  }
});

test('captured answers of Celery 5.2.6 for 2000 generated strings', () => {
  const fixture = JSON.parse(
    readFileSync(new URL('./fixtures/crontab_parser_vectors.json', import.meta.url), 'utf8'),
  ) as { cases: (ParserCase & { celery: CeleryAnswer })[] };
  assert.deepEqual(
    fixture.cases.map(({ field, text }) => ({ field, text })),
    generateParserCases(1, 2000),
    'the fixture was captured from generateParserCases(1, 2000)',
  );
  assert.ok(fixture.cases.filter((c) => Array.isArray(c.celery)).length > 200, 'enough accepted strings');
  for (const c of fixture.cases) check(c, c.celery);
});

const PYTHON = process.env.CELERY_PYTHON ?? '/usr/bin/python3';
const ASK_CELERY = `
import json, sys
import celery
from celery.schedules import crontab_parser
if celery.__version__ != '5.2.6':
    sys.exit('Celery 5.2.6 is needed, found ' + celery.__version__)
out = []
for max_, min_, text in json.load(sys.stdin):
    try:
        out.append(sorted(crontab_parser(max_, min_).parse(text)))
    except Exception as e:
        out.append(str(e))
json.dump(out, sys.stdout)
`;

const fresh = generateParserCases(2, 3000);
const asked = spawnSync(PYTHON, ['-c', ASK_CELERY], {
  input: JSON.stringify(fresh.map((c) => [...CELERY_PARSER_ARGS[c.field], c.text])),
  encoding: 'utf8',
});
const unavailable =
  asked.status === 0
    ? false
    : `no Celery 5.2.6 in ${PYTHON} (set CELERY_PYTHON): ${asked.error ?? asked.stderr.trim().split('\n').pop()}`;

test('3000 more generated strings, asked of the real Celery 5.2.6 parser', { skip: unavailable }, () => {
  const answers = JSON.parse(asked.stdout) as CeleryAnswer[];
  assert.equal(answers.length, fresh.length);
  for (const [i, c] of fresh.entries()) check(c, answers[i]!);
});
