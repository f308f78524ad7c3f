// Celery run_every values as PeriodicTask intervals: seconds as a float (a number in beat_schedule, RedBeat's
// `every`) or whole microseconds (a Python timedelta). The same conversion as hand-written keys, so the
// same intervals are refused: below 1 µs, or not a whole number of microseconds.
import type { IntervalSpec } from '../api/types.ts';
import { IntervalError, intervalOf } from '../redis-schedules/interval-units.ts';
import { UnsupportedError } from './source-entry.ts';

export function intervalOfSeconds(seconds: unknown): IntervalSpec {
  return converted(() => intervalOf({ every: seconds, period: 'seconds' }, 'schedule'));
}

export function intervalOfMicroseconds(micros: number): IntervalSpec {
  return converted(() => intervalOf({ every: micros, period: 'microseconds' }, 'schedule'));
}

function converted(convert: () => IntervalSpec): IntervalSpec {
  try {
    return convert();
  } catch (error) {
    if (error instanceof IntervalError) throw new UnsupportedError(`interval: ${error.message}`);
    throw error;
  }
}
