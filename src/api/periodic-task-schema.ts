// The PeriodicTask schema: the single source of the CRD's OpenAPI schema and of the file validator.
import { reservedNameRules } from './reserved-names.ts';
import type { ObjectNode, Rule, StringNode } from './schema-types.ts';
import { statusSchema } from './status-schema.ts';
import { SOLAR_EVENTS } from './types.ts';

// Celery 5.2's crontab field grammar as a language (see src/schedule/crontab-parse.ts), written for both RE2
// (CEL in the API server) and ECMAScript: ASCII only, \x escapes, no flags. Each comma-separated part is
// a-b, a-b/s, */s followed by text that Celery ignores, *, or a lone number (Python int(): spaces around, a
// sign) or weekday name followed by anything. Values are range-checked by the operator, not here.
const WORD_CHAR = '0-9A-Za-z_';
const NUMBER = '[0-9]+(_[0-9]+)*';
const DAY = '([Ss][Uu][Nn]|[Mm][Oo][Nn]|[Tt][Uu][Ee]|[Ww][Ee][Dd]|[Tt][Hh][Uu]|[Ff][Rr][Ii]|[Ss][Aa][Tt])';
const TOKEN = `(${NUMBER}|${DAY}[${WORD_CHAR}]*)`;
const SPACE = ' \\t\\n\\v\\f\\r';
/**
 * A comma-separated part. Classes are ASCII without the comma: control and space, punctuation up to `+`, then
 * `-` `.` `/`, the rest of punctuation.
 */
function crontabPart(): string {
  const control = '\\x00-\\x20';
  const punctuation = `${control}\\x21-\\x2b\\x3a-\\x40\\x5b-\\x5e\\x60\\x7b-\\x7f`;
  const anything = `[${punctuation}\\x2d-\\x2f${WORD_CHAR}]*`;
  /** Text Celery ignores after a token or step: it must not continue the word. */
  const after = (allowed: string): string => `([${punctuation}${allowed}]${anything})?`;
  const range = `${TOKEN}-${TOKEN}(/${NUMBER}${after('\\x2d-\\x2f')}|${after('\\x2d\\x2e')})`;
  const starStep = `[*]/${NUMBER}${after('\\x2d-\\x2f')}`;
  const star = '[*]\\n?';
  const number = `([${SPACE}]+[+-]?|[+])?${NUMBER}[${SPACE}]*`;
  // A weekday name then anything, unless it reads as a range (a word character right after a hyphen).
  const weekday = `${DAY}[${WORD_CHAR}]*(-${after('\\x2d-\\x2f')}|${after('\\x2e\\x2f')})`;
  return `(${range}|${starStep}|${star}|${number}|${weekday})`;
}
const FIELD = `${crontabPart()}(,${crontabPart()})*`;
/** One Celery crontab field, as Celery 5.2.6's crontab_parser accepts it (values checked by the operator). */
export const CRONTAB_FIELD_PATTERN = `^${FIELD}$`;

// A CronJob schedule as robfig/cron v3's ParseStandard reads it (see src/schedule/cron-job-parse.ts), in ASCII:
// five fields separated by Go's whitespace, or a descriptor. A field is comma-separated parts (empty parts are
// skipped); a part is `*` or `?` (anything after a hyphen is ignored), a value or a range of values, optionally
// with /step. Values are numbers (a `+` allowed) or, in their fields, month and weekday names in any case.
// Ranges and steps are checked by the operator.
const GO_SPACE = '[\\t\\n\\x0b\\f\\r ]';
/** Text of a field that is neither whitespace, a comma nor a slash. */
const CRON_TEXT = '[\\x00-\\x08\\x0e-\\x1f\\x21-\\x2b\\x2d\\x2e\\x30-\\x7f]';
const caseless = (word: string): string =>
  [...word].map((c) => `[${c.toUpperCase()}${c.toLowerCase()}]`).join('');
const MONTH = `(${['jan', 'feb', 'mar', 'apr', 'may', 'jun', 'jul', 'aug', 'sep', 'oct', 'nov', 'dec'].map(caseless).join('|')})`;
const WEEKDAY = `(${['sun', 'mon', 'tue', 'wed', 'thu', 'fri', 'sat'].map(caseless).join('|')})`;
function cronJobField(name?: string): string {
  const token = name === undefined ? '[+]?[0-9]+' : `([+]?[0-9]+|${name})`;
  const step = '(/([+]?[0-9]+|-0+))?';
  const part = `([*?](-${CRON_TEXT}*)?${step}|${token}(-${token})?${step})`;
  return `(,*${part}(,+${part})*,*|,+)`;
}
const CRON_FIELDS = [
  cronJobField(),
  cronJobField(),
  cronJobField(),
  cronJobField(MONTH),
  cronJobField(WEEKDAY),
];
/** Go's time.ParseDuration: "0", or numbers with units (1h30m, 1.5s), after an optional sign. */
const GO_DURATION = '[+-]?(0|(([0-9]+([.][0-9]*)?|[.][0-9]+)(ns|us|ms|s|m|h))+)';
const DESCRIPTOR = `@(yearly|annually|monthly|weekly|daily|midnight|hourly|every ${GO_DURATION})`;
/** Five whitespace-separated words, whatever they hold, or a word starting with @. */
export const CRON_SHAPE_PATTERN = `^(${GO_SPACE}*[^\\t\\n\\x0b\\f\\r ]+(${GO_SPACE}+[^\\t\\n\\x0b\\f\\r ]+){4}${GO_SPACE}*|@[\\x00-\\x7f]*)$`;
export const CRON_PATTERN = `^(${GO_SPACE}*${CRON_FIELDS.join(`${GO_SPACE}+`)}${GO_SPACE}*|${DESCRIPTOR})$`;
/** RFC 3339 with an explicit offset; day-of-month validity is checked by the operator. */
export const RFC3339_PATTERN =
  '^[0-9]{4}-(0[1-9]|1[0-2])-(0[1-9]|[12][0-9]|3[01])T([01][0-9]|2[0-3]):[0-5][0-9]:[0-5][0-9](\\.[0-9]{1,9})?(Z|[+-]([01][0-9]|2[0-3]):[0-5][0-9])$';

const MAX_INTERVAL_DAYS = 36500;
/** The largest spec.maxRuns: far beyond any schedule's runs, and exact in a JSON number. */
const MAX_RUNS = 1_000_000_000_000;
/** The largest spec.pauseAfterFailures: a brake that waits longer than this is no brake. */
const MAX_FAILURES_IN_A_ROW = 10_000;

function matches(pattern: string): (s: string) => boolean {
  const re = new RegExp(pattern);
  return (s) => re.test(s);
}

const hasCronShape = matches(CRON_SHAPE_PATTERN);
const isCron = matches(CRON_PATTERN);

/** A CEL single-quoted string literal holding `pattern` (backslashes doubled). */
function celString(pattern: string): string {
  return `'${pattern.replaceAll('\\', '\\\\')}'`;
}

function crontabField(description: string): StringNode {
  return {
    kind: 'string',
    description: `${description} A Celery crontab pattern: "*", "*/15", "5", "1-5", "1-30/2", "mon-fri", "0,30"; omitted means "*".`,
    minLength: 1,
    maxLength: 100,
    rules: [
      {
        rule: `self.matches(${celString(CRONTAB_FIELD_PATTERN)})`,
        message:
          'must be a Celery crontab pattern: comma-separated *, */step, value, start-end or start-end/step',
        holds: matches(CRONTAB_FIELD_PATTERN),
      },
    ],
  };
}

function timestamp(description: string): StringNode {
  return {
    kind: 'string',
    description: `${description} RFC 3339 with an offset, such as "2026-12-24T18:00:00Z".`,
    maxLength: 64,
    rules: [
      {
        rule: `self.matches(${celString(RFC3339_PATTERN)})`,
        message: 'must be an RFC 3339 time with an offset, such as 2026-12-24T18:00:00Z',
        holds: matches(RFC3339_PATTERN),
      },
    ],
  };
}

const PERIOD_MS: Readonly<Record<string, number>> = {
  days: 86_400_000,
  hours: 3_600_000,
  minutes: 60_000,
  seconds: 1000,
  microseconds: 0.001,
};

const intervalRules: Rule<Readonly<Record<string, unknown>>>[] = [
  {
    rule: "self.period != 'microseconds' || self.every >= 1000",
    message: 'an interval in microseconds must be at least 1000 (one millisecond)',
    fieldPath: '.every',
    holds: (self) => self.period !== 'microseconds' || Number(self.every) >= 1000,
  },
  {
    rule: `(self.period != 'days' || self.every <= ${MAX_INTERVAL_DAYS}) && (self.period != 'hours' || self.every <= ${MAX_INTERVAL_DAYS * 24}) && (self.period != 'minutes' || self.every <= ${MAX_INTERVAL_DAYS * 24 * 60})`,
    message: `an interval must be at most ${MAX_INTERVAL_DAYS} days`,
    fieldPath: '.every',
    holds: (self) =>
      Number(self.every) * (PERIOD_MS[String(self.period)] ?? 0) <= MAX_INTERVAL_DAYS * 86_400_000,
  },
];

const interval: ObjectNode = {
  kind: 'object',
  description:
    'Run every `every` `period`s: the first run one interval after the task is first seen (or after startTime), then on a fixed grid.',
  required: ['every', 'period'],
  properties: {
    every: {
      kind: 'integer',
      format: 'int64',
      minimum: 1,
      maximum: 2_147_483_647,
      description: 'How many periods between runs.',
    },
    period: {
      kind: 'string',
      description: 'The unit of every.',
      enum: ['days', 'hours', 'minutes', 'seconds', 'microseconds'],
      maxLength: 12,
    },
  },
  rules: intervalRules,
};

const crontab: ObjectNode = {
  kind: 'object',
  description:
    'Celery crontab, read in timeZone. A time matches when minute, hour, month, day of month AND day of week all match (Celery ANDs the two day fields).',
  properties: {
    minute: crontabField('Minutes, 0-59.'),
    hour: crontabField('Hours, 0-23.'),
    dayOfWeek: crontabField('Days of the week, 0-6 with 0 = Sunday, or names (sun, mon, ...).'),
    dayOfMonth: crontabField('Days of the month, 1-31.'),
    monthOfYear: crontabField('Months, 1-12 (numbers only, as in Celery 5.2).'),
  },
};

const options: ObjectNode = {
  kind: 'object',
  description: 'Celery apply_async options for each run.',
  properties: {
    queue: {
      kind: 'string',
      description: 'Queue to publish to (default "celery").',
      minLength: 1,
      maxLength: 255,
      rules: reservedNameRules(),
    },
    exchange: {
      kind: 'string',
      description: 'Exchange to publish to; "" is the default exchange.',
      maxLength: 255,
      rules: reservedNameRules(),
    },
    routingKey: {
      kind: 'string',
      description: 'Routing key; defaults to the queue name.',
      maxLength: 255,
      rules: reservedNameRules(),
    },
    priority: {
      kind: 'integer',
      format: 'int32',
      minimum: 0,
      maximum: 255,
      description: 'Message priority, 0-255.',
    },
    expires: {
      kind: 'number',
      exclusiveMinimum: 0,
      maximum: 31_536_000,
      description: 'Seconds after the scheduled time after which a worker discards the run.',
    },
    headers: { kind: 'freeObject', description: 'Extra message headers (any JSON values).' },
    timeLimit: {
      kind: 'number',
      exclusiveMinimum: 0,
      maximum: 31_536_000,
      description: 'Hard time limit in seconds.',
    },
    softTimeLimit: {
      kind: 'number',
      exclusiveMinimum: 0,
      maximum: 31_536_000,
      description: 'Soft time limit in seconds.',
    },
  },
  rules: [
    {
      rule: '!has(self.timeLimit) || !has(self.softTimeLimit) || self.softTimeLimit < self.timeLimit',
      message: 'softTimeLimit must be less than timeLimit',
      fieldPath: '.softTimeLimit',
      holds: (self) =>
        self.timeLimit == null ||
        self.softTimeLimit == null ||
        Number(self.softTimeLimit) < Number(self.timeLimit),
    },
  ],
};

const SCHEDULE_FIELDS = ['interval', 'crontab', 'cron', 'clocked', 'solar'] as const;

const cron: StringNode = {
  kind: 'string',
  description:
    'A Kubernetes CronJob schedule, read as a CronJob reads it: "minute hour dayOfMonth monthOfYear dayOfWeek" or @yearly, @annually, @monthly, @weekly, @daily, @midnight, @hourly, @every <duration>. When both day fields are restricted, a day matches when either does.',
  maxLength: 256,
  rules: [
    {
      rule: `self.matches(${celString(CRON_SHAPE_PATTERN)})`,
      message:
        'must have five fields (minute hour dayOfMonth monthOfYear dayOfWeek) or be a descriptor such as @daily',
      holds: hasCronShape,
    },
    {
      rule: `!self.matches(${celString(CRON_SHAPE_PATTERN)}) || self.matches(${celString(CRON_PATTERN)})`,
      message:
        'must be a CronJob schedule: each field comma-separated *, ?, value or start-end, each with an optional /step (names jan-dec, sun-sat), or @yearly, @annually, @monthly, @weekly, @daily, @midnight, @hourly, @every <duration>; TZ= and CRON_TZ= are not accepted (use timeZone)',
      holds: (s) => !hasCronShape(s) || isCron(s),
    },
  ],
};

const solar: ObjectNode = {
  kind: 'object',
  description:
    "Run at a solar event at a place, as Celery's solar schedule: each day the event happens there (polar day and night have days without it; those days have no run).",
  required: ['event', 'latitude', 'longitude'],
  properties: {
    event: {
      kind: 'string',
      description:
        'dawn_astronomical, dawn_nautical, dawn_civil (the sun rising through -18, -12, -6 degrees), sunrise, solar_noon, sunset, dusk_civil, dusk_nautical, dusk_astronomical (setting through -6, -12, -18 degrees).',
      enum: SOLAR_EVENTS,
      maxLength: 17,
    },
    latitude: {
      kind: 'number',
      minimum: -90,
      maximum: 90,
      description: 'Degrees north of the equator (south is negative), -90 to 90.',
    },
    longitude: {
      kind: 'number',
      minimum: -180,
      maximum: 180,
      description: 'Degrees east of Greenwich (west is negative), -180 to 180.',
    },
  },
};

/** The most schedules one task may list. */
const MAX_SCHEDULES = 10;
/** The most exclusions one task may list. */
const MAX_EXCLUSIONS = 50;
const DATE_PATTERN = '^[0-9]{4}-(0[1-9]|1[0-2])-(0[1-9]|[12][0-9]|3[01])$';
const CRONTAB_FIELD_NAMES = ['minute', 'hour', 'dayOfWeek', 'dayOfMonth', 'monthOfYear'] as const;

const scheduleItem: ObjectNode = {
  kind: 'object',
  description: 'One schedule: exactly one of interval, crontab, cron, clocked or solar, as in spec.',
  properties: {
    interval: {
      ...interval,
      description:
        'Run every `every` `period`s, on the grid through startTime (without one, through 1970-01-01T00:00:00Z).',
    },
    crontab,
    cron,
    clocked: timestamp('Run once at this instant.'),
    solar,
  },
  rules: [
    {
      rule: '[has(self.interval), has(self.crontab), has(self.cron), has(self.clocked), has(self.solar)].exists_one(x, x)',
      message: 'exactly one of interval, crontab, cron, clocked or solar must be set',
      holds: (self) => SCHEDULE_FIELDS.filter((f) => self[f] != null).length === 1,
    },
  ],
};

const exclusion: ObjectNode = {
  kind: 'object',
  description:
    'Slots that do not run, in timeZone: a whole date, or the times a calendar of crontab fields matches (omitted fields are "*": {monthOfYear: "12", dayOfMonth: "24-26"} is 24-26 December).',
  properties: {
    date: {
      kind: 'string',
      description: 'A date, YYYY-MM-DD.',
      maxLength: 10,
      rules: [
        {
          rule: `self.matches(${celString(DATE_PATTERN)})`,
          message: 'must be a date YYYY-MM-DD, such as 2026-12-25',
          holds: matches(DATE_PATTERN),
        },
      ],
    },
    minute: crontabField('Minutes, 0-59.'),
    hour: crontabField('Hours, 0-23.'),
    dayOfWeek: crontabField('Days of the week, 0-6 with 0 = Sunday, or names (sun, mon, ...).'),
    dayOfMonth: crontabField('Days of the month, 1-31.'),
    monthOfYear: crontabField('Months, 1-12 (numbers only, as in Celery 5.2).'),
  },
  rules: [
    {
      rule: 'has(self.date) != (has(self.minute) || has(self.hour) || has(self.dayOfWeek) || has(self.dayOfMonth) || has(self.monthOfYear))',
      message:
        'an exclusion is either a date or crontab fields (minute, hour, dayOfWeek, dayOfMonth, monthOfYear)',
      holds: (self) => (self.date != null) !== CRONTAB_FIELD_NAMES.some((f) => self[f] != null),
    },
  ],
};

export const specSchema: ObjectNode = {
  kind: 'object',
  description:
    'What to run and when. Exactly one of interval, crontab, cron, clocked, solar or schedules (several of them).',
  required: ['task'],
  properties: {
    task: {
      kind: 'string',
      description: 'Registered Celery task name, such as tasks.add.',
      minLength: 1,
      maxLength: 255,
    },
    interval,
    crontab,
    cron,
    clocked: timestamp('Run once at this instant.'),
    solar,
    schedules: {
      kind: 'array',
      description:
        'Several schedules instead of one (instead of interval, crontab, cron, clocked or solar): their slots are merged, an instant two of them share being one run. At most one interval (or cron @every); intervals lie on the grid through startTime, else through 1970-01-01T00:00:00Z.',
      maxItems: MAX_SCHEDULES,
      items: scheduleItem,
    },
    exclude: {
      kind: 'array',
      description:
        'Slots that do not run, in timeZone: an excluded slot is not run, not counted as missed and not caught up.',
      maxItems: MAX_EXCLUSIONS,
      items: exclusion,
    },
    timeZone: {
      kind: 'string',
      description:
        "IANA time zone for crontab and cron, such as Europe/Berlin. Default: the operator's --timezone.",
      minLength: 1,
      maxLength: 64,
    },
    enabled: { kind: 'boolean', default: true, description: 'false pauses the task; its run state is kept.' },
    args: {
      kind: 'array',
      description: 'Positional arguments (any JSON values).',
      items: { kind: 'any', description: 'An argument.' },
    },
    kwargs: { kind: 'freeObject', description: 'Keyword arguments (a JSON object).' },
    options,
    startTime: timestamp('No run before this instant; interval slots are counted from it.'),
    startingDeadlineSeconds: {
      kind: 'integer',
      format: 'int64',
      minimum: 1,
      maximum: 31_536_000,
      description:
        'A run that cannot go out within this many seconds after its slot is skipped and counted as missed.',
    },
    oneOff: {
      kind: 'boolean',
      default: false,
      description: 'Run once, then never again (the spec is left as it is).',
    },
    endTime: timestamp(
      'No run after this instant: once the last slot before it is accounted for, the task is completed (Ready False/Completed).',
    ),
    maxRuns: {
      kind: 'integer',
      format: 'int64',
      minimum: 1,
      maximum: MAX_RUNS,
      description:
        'Completed (Ready False/Completed) once the task has run this many times (status.totalRunCount, kept in Redis across leader changes).',
    },
    catchUp: {
      kind: 'string',
      enum: ['Latest', 'All', 'None'],
      default: 'Latest',
      description:
        "Slots found due after a gap (operator or broker down): Latest runs the latest one and counts the others as missed; All runs every one within startingDeadlineSeconds, oldest first, each with its own task id (at most the operator's --max-backfill, the latest ones); None runs none (each counted as missed).",
      maxLength: 6,
    },
    description: { kind: 'string', description: 'Free text.', maxLength: 4096 },
    pause: {
      kind: 'object',
      description:
        'Pauses the task with a reason (Ready False/Paused); at `until`, if set, it resumes by itself. Slots inside the pause are counted as skipped by pause, not as missed.',
      required: ['reason'],
      properties: {
        reason: {
          kind: 'string',
          description: 'Why the task is paused (shown in the Ready message).',
          minLength: 1,
          maxLength: 1024,
        },
        until: timestamp('Resume at this instant.'),
      },
    },
    pauseAfterFailures: {
      kind: 'integer',
      format: 'int64',
      minimum: 1,
      maximum: MAX_FAILURES_IN_A_ROW,
      description:
        "Pauses the task (Ready False/Paused; spec is left as it is) once this many runs in a row have failed (FAILURE in Celery's result backend); a SUCCESS starts the count over, and a resume (kubectl celerybeat resume) lifts the pause. Needs the operator's --result-backend (without it the field has no effect, as Ready says).",
    },
    jitterSeconds: {
      kind: 'integer',
      format: 'int64',
      minimum: 1,
      maximum: 86_400,
      description:
        'Moves each slot by a deterministic offset in [0, jitterSeconds), the same on every replica; must be shorter than the interval (a minute for crontab, cron and solar; the delay of a cron @every).',
    },
    concurrencyPolicy: {
      kind: 'string',
      enum: ['Allow', 'Forbid', 'Replace'],
      default: 'Allow',
      description:
        "When a slot comes while the previous run has not finished: Allow sends it anyway; Forbid skips the slot (counted as missed); Replace revokes the previous run (terminating it on the worker) and sends the new one. Forbid and Replace need the operator's --result-backend.",
      maxLength: 8,
    },
  },
  rules: [
    {
      rule: '[has(self.interval), has(self.crontab), has(self.cron), has(self.clocked), has(self.solar), has(self.schedules)].exists_one(x, x)',
      message:
        'exactly one of spec.interval, spec.crontab, spec.cron, spec.clocked, spec.solar or spec.schedules must be set',
      holds: (self) => [...SCHEDULE_FIELDS, 'schedules'].filter((f) => self[f] != null).length === 1,
    },
    {
      rule: '!has(self.schedules) || self.schedules.size() >= 1',
      message: 'must list at least one schedule',
      fieldPath: '.schedules',
      holds: (self) => !Array.isArray(self.schedules) || self.schedules.length >= 1,
    },
    {
      // Two grids could share instants anywhere in a long window; one grid leaves every shared instant to a
      // crontab, cron, solar or clocked slot, which the schedule engine walks (src/schedule/schedule-set.ts).
      rule: '!has(self.schedules) || self.schedules.filter(s, has(s.interval)).size() <= 1',
      message: 'at most one interval in spec.schedules (write several as crontab or cron)',
      fieldPath: '.schedules',
      holds: (self) =>
        !Array.isArray(self.schedules) ||
        self.schedules.filter((s) => s != null && (s as Record<string, unknown>).interval != null).length <=
          1,
    },
    {
      // Two schedules' slots may lie closer than any jitter, which could swap them.
      rule: '!has(self.jitterSeconds) || !has(self.schedules)',
      message:
        'jitterSeconds cannot be used with spec.schedules (two schedules may come closer than any jitter)',
      fieldPath: '.jitterSeconds',
      holds: (self) => self.jitterSeconds == null || self.schedules == null,
    },
    {
      // Compared in microseconds, the smallest period; a longer jitter could swap two slots.
      rule: "!has(self.jitterSeconds) || has(self.clocked) || (has(self.interval) ? self.jitterSeconds * 1000000 < self.interval.every * (self.interval.period == 'days' ? 86400000000 : self.interval.period == 'hours' ? 3600000000 : self.interval.period == 'minutes' ? 60000000 : self.interval.period == 'seconds' ? 1000000 : 1) : self.jitterSeconds < 60)",
      message:
        'jitterSeconds must be shorter than the time between two slots (the interval; a minute for crontab, cron and solar)',
      fieldPath: '.jitterSeconds',
      holds: (self) => {
        if (self.jitterSeconds == null || self.clocked != null) return true;
        const interval = self.interval as { every?: unknown; period?: unknown } | undefined | null;
        if (interval == null) return Number(self.jitterSeconds) < 60;
        const spacingMs = Number(interval.every) * (PERIOD_MS[String(interval.period)] ?? 0);
        return Number(self.jitterSeconds) * 1000 < spacingMs;
      },
    },
  ],
};

export const periodicTaskSchema: ObjectNode = {
  kind: 'object',
  description: 'A Celery periodic task: which task to send, with which arguments, on which schedule.',
  required: ['spec'],
  properties: { spec: specSchema, status: statusSchema },
};
