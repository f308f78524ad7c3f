// The wall-clock minutes of a `cron` string, found by cron-parser. cron-parser runs in UTC here, on wall times
// (epoch ms of the wall fields read as UTC), so it never sees a time zone: the zone's gaps and folds are
// crontab-schedule.ts's rule, the same for `cron` and `crontab`, instead of cron-parser's own (it runs a fold's
// fixed times at their first occurrence only, and its prev() loses a day around a spring-forward gap).
// cron-parser reads a canonical string built from the values robfig's grammar gives (cron-job-parse.ts), so the
// two grammars' differences (`N/s`, `?` in any field, empty list parts, day 7) cannot change the values. Finding
// a minute with cron-parser costs tens of microseconds; the answers are remembered per calendar, which the
// schedules of one string share, because the beat asks for the same next slots of many tasks.
import { createRequire } from 'node:module';
import type { CronExpression, CronExpressionParser } from 'cron-parser';
import type { CrontabSets, MinuteCalendar } from './wall-calendar.ts';
import { WallCalendar } from './wall-calendar.ts';

const MINUTE_MS = 60_000;

const require = createRequire(import.meta.url);
let parser: typeof CronExpressionParser | undefined;

/**
 * cron-parser, loaded when the first `cron` string is compiled: it brings luxon, a few MB resident that a
 * process without `cron` tasks (most standalone runs, the file commands) does not need.
 */
function cronParser(): typeof CronExpressionParser {
  parser ??= (require('cron-parser') as typeof import('cron-parser')).CronExpressionParser;
  return parser;
}
/** Remembered answers per calendar and direction, before they are dropped to start over. */
const MEMO_LIMIT = 4096;

/** One field for cron-parser: `*` when robfig reads it as unrestricted, else its values listed. */
function canonicalField(values: readonly number[], star: boolean): string {
  return star ? '*' : values.join(',');
}

export class CronParserCalendar implements MinuteCalendar {
  /** Counts matches per day for long windows; built from the same values and day rule. */
  readonly #counter: WallCalendar;
  readonly #expression: CronExpression;
  readonly #nextMemo = new Map<number, number | null>();
  readonly #prevMemo = new Map<number, number | null>();

  constructor(sets: CrontabSets, eitherDay: boolean) {
    this.#counter = new WallCalendar(sets, { eitherDay });
    const dayStar = (values: readonly number[], size: number): boolean =>
      !eitherDay && values.length === size;
    const text = [
      canonicalField(sets.minute, sets.minute.length === 60),
      canonicalField(sets.hour, sets.hour.length === 24),
      // With either-day matching both day fields stay lists; otherwise a full field is cron-parser's wildcard.
      canonicalField(sets.dayOfMonth, dayStar(sets.dayOfMonth, 31)),
      canonicalField(sets.monthOfYear, sets.monthOfYear.length === 12),
      canonicalField(sets.dayOfWeek, dayStar(sets.dayOfWeek, 7)),
    ].join(' ');
    this.#expression = cronParser().parse(text, { tz: 'UTC', currentDate: new Date(0) });
  }

  matches(wall: number): boolean {
    return this.#counter.matches(wall);
  }

  countWalls(lo: number, hi: number): number {
    return this.#counter.countWalls(lo, hi);
  }

  nextWall(wall: number): number | null {
    const from = Math.ceil(wall / MINUTE_MS) * MINUTE_MS;
    return this.#remembered(this.#nextMemo, from, () => {
      // cron-parser's next() is strictly after its current date: start a millisecond earlier.
      this.#expression.reset(new Date(from - 1));
      return this.#expression.next().getTime();
    });
  }

  prevWall(wall: number): number | null {
    const from = Math.floor(wall / MINUTE_MS) * MINUTE_MS;
    return this.#remembered(this.#prevMemo, from, () => {
      this.#expression.reset(new Date(from + 1));
      return this.#expression.prev().getTime();
    });
  }

  #remembered(memo: Map<number, number | null>, from: number, find: () => number): number | null {
    const known = memo.get(from);
    if (known !== undefined) return known;
    let found: number | null;
    try {
      found = find();
    } catch (err) {
      // cron-parser gives up after its loop limit: no matching minute that way.
      if (!(err instanceof Error && err.message.includes('loop limit exceeded'))) {
        throw new Error(
          `cron-parser failed on "${this.#expression.stringify()}" from ${new Date(from).toISOString()}`,
          {
            cause: err,
          },
        );
      }
      found = null;
    }
    if (memo.size >= MEMO_LIMIT) memo.clear();
    memo.set(from, found);
    return found;
  }
}
