// dayRuleWarning: a crontab whose day rule a Kubernetes CronJob reads differently.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { ScheduleDefinition } from '../../../src/api/types.ts';
import { dayRuleWarning } from '../../../src/cli/day-rule-warning.ts';

function crontab(dayOfMonth: string, dayOfWeek: string): ScheduleDefinition {
  return { kind: 'crontab', minute: '0', hour: '9', dayOfMonth, dayOfWeek, monthOfYear: '*' };
}

test('both days restricted: a warning naming both fields', () => {
  const warning = dayRuleWarning(crontab('13', 'fri'));
  assert.match(warning ?? '', /^day of month "13" and day of week "fri" are both restricted: /);
  assert.match(warning ?? '', /match both \(Celery\).*CronJob.*match either/);
  assert.ok(dayRuleWarning(crontab('*/2', 'mon-fri')), 'a step over 1 is a restriction to a CronJob too');
  // Every day of the month written as a range is no "*" to a CronJob: it would run every day.
  assert.ok(dayRuleWarning(crontab('1-31', 'mon')));
});

test('no warning when either day field is "*" to a CronJob, or both cover every day', () => {
  assert.equal(dayRuleWarning(crontab('*', 'fri')), undefined);
  assert.equal(dayRuleWarning(crontab('13', '*')), undefined);
  assert.equal(dayRuleWarning(crontab('*/1', 'fri')), undefined);
  assert.equal(dayRuleWarning(crontab('1-31', '0-6')), undefined);
  assert.equal(dayRuleWarning({ kind: 'interval', every: 5, period: 'seconds' }), undefined);
  assert.equal(dayRuleWarning({ kind: 'clocked', at: 0 }), undefined);
});
