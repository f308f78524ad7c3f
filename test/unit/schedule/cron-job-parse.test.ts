// The `cron` grammar: what a CronJob's schedule accepts (robfig/cron v3 ParseStandard and the API server's TZ rule),
// with the API server's messages and the validator naming the field; the CRD pattern accepts the same syntax
// (test/property/cron-job.test.ts checks the parser against robfig itself on generated strings).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { CRON_PATTERN, CRON_SHAPE_PATTERN } from '../../../src/api/periodic-task-schema.ts';
import { parseCronJobSchedule } from '../../../src/schedule/cron-job-parse.ts';
import { parseGoDuration } from '../../../src/schedule/go-duration.ts';
import { validatePeriodicTask } from '../../../src/validation/validate.ts';

const shape = new RegExp(CRON_SHAPE_PATTERN);
const pattern = new RegExp(CRON_PATTERN);

function errorsOf(cron: string): string[] {
  const v = validatePeriodicTask(
    {
      apiVersion: 'celerybeat.io/v1alpha1',
      kind: 'PeriodicTask',
      metadata: { name: 'n' },
      spec: { task: 't', cron },
    },
    { defaultTimeZone: 'UTC' },
  );
  return v.ok ? [] : v.errors.map((e) => `${e.field}: ${e.message}`);
}

const ACCEPTED = [
  '*/15 9-17 * * 1-5',
  '0 0 1-7 * 1',
  '5/15 * * * *', // N/s is N-max/s
  '? * * * ?',
  '1,,2 * * * *', // empty parts are skipped
  '*-x/2 * * * *', // robfig reads "*" and ignores what follows a hyphen
  '+5 07 * JAN-mar Mon-FRI',
  ' 0\t0  *   * *\n',
  '@yearly',
  '@annually',
  '@monthly',
  '@weekly',
  '@daily',
  '@midnight',
  '@hourly',
  '@every 1h30m',
  '@every 1.5s',
  '@every 0',
  '@every -5m', // robfig makes it a second
];

test('what a CronJob accepts is accepted, and the CRD pattern agrees', () => {
  for (const cron of ACCEPTED) {
    const parsed = parseCronJobSchedule(cron);
    assert.ok(parsed.ok, `${JSON.stringify(cron)}: ${parsed.ok ? '' : parsed.message}`);
    assert.ok(shape.test(cron) && pattern.test(cron), JSON.stringify(cron));
    assert.deepEqual(errorsOf(cron), [], JSON.stringify(cron));
  }
});

test('what a CronJob refuses is refused, with its message and the field named', () => {
  const cases: [string, string][] = [
    [
      '61 * * * *',
      'spec.cron: Invalid value: "61" (minute, field 1 of 5): end of range (61) above maximum (59): 61',
    ],
    [
      '0 0 * * 7',
      'spec.cron: Invalid value: "7" (dayOfWeek, field 5 of 5): end of range (7) above maximum (6): 7',
    ],
    [
      '0 0 0 * *',
      'spec.cron: Invalid value: "0" (dayOfMonth, field 3 of 5): beginning of range (0) below minimum (1): 0',
    ],
    [
      '0 5-1 * * *',
      'spec.cron: Invalid value: "5-1" (hour, field 2 of 5): beginning of range (5) beyond end of range (1): 5-1',
    ],
    [
      '*/0 * * * *',
      'spec.cron: Invalid value: "*/0" (minute, field 1 of 5): step of range should be a positive number: */0',
    ],
  ];
  for (const [cron, message] of cases) assert.deepEqual(errorsOf(cron), [message], cron);
  const refused: [string, string][] = [
    ['* * * *', 'expected exactly 5 fields, found 4: [* * * *]'],
    ['0 * * * * *', 'expected exactly 5 fields, found 6: [0 * * * * *]'],
    ['@fortnightly', 'unrecognized descriptor: @fortnightly'],
    ['@daily ', 'unrecognized descriptor: @daily '],
    ['@every 5', 'failed to parse duration @every 5: time: missing unit in duration "5"'],
    ['@every 5d', 'failed to parse duration @every 5d: time: unknown unit "d" in duration "5d"'],
    ['TZ=UTC 0 * * * *', 'cannot use TZ or CRON_TZ in schedule, use spec.timeZone instead'],
    ['CRON_TZ=Europe/Berlin @daily', 'cannot use TZ or CRON_TZ in schedule, use spec.timeZone instead'],
    ['*/2/3 * * * *', 'too many slashes: */2/3'],
    ['mon * * * *', 'failed to parse int from mon: strconv.Atoi: parsing "mon": invalid syntax'],
    ['0 0 * * monday', 'failed to parse int from monday: strconv.Atoi: parsing "monday": invalid syntax'],
    ['0 0 * * 1-2-3', 'too many hyphens: 1-2-3'],
    ['0 0 L * *', 'failed to parse int from L: strconv.Atoi: parsing "L": invalid syntax'],
  ];
  for (const [cron, message] of refused) {
    const parsed = parseCronJobSchedule(cron);
    assert.ok(!parsed.ok, cron);
    assert.equal(parsed.message, message, cron);
    // The API server refuses the syntax too (values such as 61 are the operator's to check).
    assert.ok(!(shape.test(cron) && pattern.test(cron)), `the CRD pattern accepts ${JSON.stringify(cron)}`);
  }
});

test('strings that never match a date are refused (a CronJob would accept them and never run)', () => {
  assert.deepEqual(errorsOf('0 0 30 2 *'), [
    'spec.cron: Invalid value: "0 0 30 2 *": never matches a date (month, day of month and day of week must all match)',
  ]);
  assert.deepEqual(errorsOf(', * * * *'), [
    'spec.cron: Invalid value: ", * * * *": never matches a date (month, day of month and day of week must all match)',
  ]);
  // Either day field suffices: February's Mondays.
  assert.deepEqual(errorsOf('0 0 30 2 1'), []);
});

test('@every longer than the interval limit is refused; a jitter must be shorter than it', () => {
  assert.equal(parseCronJobSchedule('@every 876001h').ok, false);
  assert.equal(parseCronJobSchedule('@every 876000h').ok, true);
});

test("Go's time.ParseDuration: units, fractions, signs, overflow", () => {
  assert.equal(parseGoDuration('1h30m'), 5_400_000_000_000n);
  assert.equal(parseGoDuration('1.5s'), 1_500_000_000n);
  assert.equal(parseGoDuration('.5ms'), 500_000n);
  assert.equal(parseGoDuration('-2m'), -120_000_000_000n);
  assert.equal(parseGoDuration('0'), 0n);
  assert.equal(parseGoDuration('2562047h47m16.854775807s'), (1n << 63n) - 1n);
  assert.equal(parseGoDuration('2562048h'), 'time: invalid duration "2562048h"');
  assert.equal(parseGoDuration(''), 'time: invalid duration ""');
  assert.equal(parseGoDuration('1'), 'time: missing unit in duration "1"');
  assert.equal(parseGoDuration('.s'), 'time: invalid duration ".s"');
  assert.equal(parseGoDuration('1\th'), 'time: unknown unit "\\x09h" in duration "1\\x09h"');
});
