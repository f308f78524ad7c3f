// A celerybeat-redis interval, `{"every": N, "period": "<timedelta keyword>"}`, as a PeriodicTask interval.
// celerybeat-redis passes `period` to Python's timedelta, so every keyword it takes is accepted here and `every`
// may be fractional; the result is the same length in the largest unit that makes it a whole number.
import { isPlainObject } from '../api/plain-object.ts';
import type { IntervalPeriod, IntervalSpec } from '../api/types.ts';

const TIMEDELTA_MICROSECONDS: Readonly<Record<string, number>> = {
  weeks: 7 * 86_400_000_000,
  days: 86_400_000_000,
  hours: 3_600_000_000,
  minutes: 60_000_000,
  seconds: 1_000_000,
  milliseconds: 1000,
  microseconds: 1,
};

const UNITS: ReadonlyArray<[IntervalPeriod, number]> = [
  ['days', 86_400_000_000],
  ['hours', 3_600_000_000],
  ['minutes', 60_000_000],
  ['seconds', 1_000_000],
  ['microseconds', 1],
];

export class IntervalError extends Error {
  readonly field: string;
  constructor(field: string, message: string) {
    super(message);
    this.field = field;
  }
}

export function intervalOf(schedule: unknown, field: string): IntervalSpec {
  if (!isPlainObject(schedule)) throw new IntervalError(field, 'must be an object');
  const { every, period } = schedule;
  const unit = typeof period === 'string' ? TIMEDELTA_MICROSECONDS[period] : undefined;
  if (unit === undefined) {
    throw new IntervalError(
      `${field}.period`,
      `Unsupported value: ${JSON.stringify(period ?? null)}: one of ${Object.keys(TIMEDELTA_MICROSECONDS).join(', ')}`,
    );
  }
  if (typeof every !== 'number' || !Number.isFinite(every) || every <= 0) {
    throw new IntervalError(`${field}.every`, `must be a positive number, got ${JSON.stringify(every)}`);
  }
  const micros = every * unit;
  if (Math.abs(micros - Math.round(micros)) > 1e-6 * Math.max(1, micros) || Math.round(micros) < 1) {
    throw new IntervalError(`${field}.every`, `${every} ${period} is not a whole number of microseconds`);
  }
  const total = Math.round(micros);
  for (const [name, size] of UNITS) {
    if (total % size === 0) return { every: total / size, period: name };
  }
  return { every: total, period: 'microseconds' };
}
