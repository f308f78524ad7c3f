// celerybeat-redis keeps datetimes as {"__type__": "datetime", year…microsecond} with no zone; Celery reads
// such naive values as UTC, so they are always written as UTC wall-clock fields.

export interface EncodedDatetime {
  __type__: 'datetime';
  year: number;
  month: number;
  day: number;
  hour: number;
  minute: number;
  second: number;
  microsecond: number;
}

/** Encodes an instant (epoch milliseconds, fractions down to the microsecond kept) as UTC wall-clock fields. */
export function encodeDatetime(epochMs: number): EncodedDatetime {
  // Rounded once, in whole microseconds, so a fraction such as .9996 ms carries into the next millisecond. The
  // fraction is taken apart from the whole milliseconds: epoch microseconds after the year 2255 are past
  // Number.MAX_SAFE_INTEGER.
  const wholeMs = Math.floor(epochMs);
  const fractionUs = Math.round((epochMs - wholeMs) * 1000);
  const date = new Date(wholeMs + Math.floor(fractionUs / 1000));
  const microsecond = date.getUTCMilliseconds() * 1000 + (fractionUs % 1000);
  return {
    __type__: 'datetime',
    year: date.getUTCFullYear(),
    month: date.getUTCMonth() + 1,
    day: date.getUTCDate(),
    hour: date.getUTCHours(),
    minute: date.getUTCMinutes(),
    second: date.getUTCSeconds(),
    microsecond,
  };
}

const FIELD_LIMITS: Record<Exclude<keyof EncodedDatetime, '__type__'>, [number, number]> = {
  year: [1, 9999],
  month: [1, 12],
  day: [1, 31],
  hour: [0, 23],
  minute: [0, 59],
  second: [0, 59],
  microsecond: [0, 999_999],
};

/** Decodes a datetime object back to epoch milliseconds; throws naming the bad field. */
export function decodeDatetime(value: unknown): number {
  if (
    typeof value !== 'object' ||
    value === null ||
    (value as { __type__?: unknown }).__type__ !== 'datetime'
  ) {
    throw new Error(`expected a {"__type__": "datetime", …} object, got ${JSON.stringify(value)}`);
  }
  const fields = value as Record<string, unknown>;
  const read = (name: keyof typeof FIELD_LIMITS, fallback?: number): number => {
    const raw = fields[name] ?? fallback;
    const [min, max] = FIELD_LIMITS[name];
    if (typeof raw !== 'number' || !Number.isInteger(raw) || raw < min || raw > max) {
      throw new Error(
        `datetime field "${name}" must be an integer from ${min} to ${max}, got ${JSON.stringify(raw)}`,
      );
    }
    return raw;
  };
  // Not Date.UTC: it reads the years 0-99 as 1900-1999, and a tail decoded 1900 years off never matches.
  const date = new Date(0);
  date.setUTCFullYear(read('year'), read('month') - 1, read('day'));
  date.setUTCHours(read('hour', 0), read('minute', 0), read('second', 0));
  return date.getTime() + read('microsecond', 0) / 1000;
}
