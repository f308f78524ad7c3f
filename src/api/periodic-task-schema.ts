// The PeriodicTask schema: the single source of the CRD's OpenAPI schema and of the file validator.
import type { ObjectNode, Rule, StringNode } from './schema-types.ts';
import { statusSchema } from './status-schema.ts';

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
 * A comma-separated part. `spaces: false` is a `cron` word, where whitespace separates the fields. Classes are
 * ASCII without the comma: control and space, punctuation up to `+`, then `-` `.` `/`, the rest of punctuation.
 */
function crontabPart(spaces: boolean): string {
  const control = spaces ? '\\x00-\\x20' : '\\x00-\\x08\\x0e-\\x1f';
  const punctuation = `${control}\\x21-\\x2b\\x3a-\\x40\\x5b-\\x5e\\x60\\x7b-\\x7f`;
  const anything = `[${punctuation}\\x2d-\\x2f${WORD_CHAR}]*`;
  /** Text Celery ignores after a token or step: it must not continue the word. */
  const after = (allowed: string): string => `([${punctuation}${allowed}]${anything})?`;
  const range = `${TOKEN}-${TOKEN}(/${NUMBER}${after('\\x2d-\\x2f')}|${after('\\x2d\\x2e')})`;
  const starStep = `[*]/${NUMBER}${after('\\x2d-\\x2f')}`;
  const star = spaces ? '[*]\\n?' : '[*]';
  const number = spaces ? `([${SPACE}]+[+-]?|[+])?${NUMBER}[${SPACE}]*` : `[+]?${NUMBER}`;
  // A weekday name then anything, unless it reads as a range (a word character right after a hyphen).
  const weekday = `${DAY}[${WORD_CHAR}]*(-${after('\\x2d-\\x2f')}|${after('\\x2e\\x2f')})`;
  return `(${range}|${starStep}|${star}|${number}|${weekday})`;
}
const FIELD = `${crontabPart(true)}(,${crontabPart(true)})*`;
/** A `cron` word: the same, without whitespace, which separates the five fields. */
const CRON_WORD = `${crontabPart(false)}(,${crontabPart(false)})*`;
/** One Celery crontab field, as Celery 5.2.6's crontab_parser accepts it (values checked by the operator). */
export const CRONTAB_FIELD_PATTERN = `^${FIELD}$`;
/** Five space-separated words, whatever they hold. */
export const CRON_FIVE_WORDS_PATTERN = '^ *[^ ]+( +[^ ]+){4} *$';
export const CRON_PATTERN = `^ *${CRON_WORD}( +${CRON_WORD}){4} *$`;
/** RFC 3339 with an explicit offset; day-of-month validity is checked by the operator. */
export const RFC3339_PATTERN =
  '^[0-9]{4}-(0[1-9]|1[0-2])-(0[1-9]|[12][0-9]|3[01])T([01][0-9]|2[0-3]):[0-5][0-9]:[0-5][0-9](\\.[0-9]{1,9})?(Z|[+-]([01][0-9]|2[0-3]):[0-5][0-9])$';

const MAX_INTERVAL_DAYS = 36500;

function matches(pattern: string): (s: string) => boolean {
  const re = new RegExp(pattern);
  return (s) => re.test(s);
}

const hasFiveWords = matches(CRON_FIVE_WORDS_PATTERN);
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
    },
    exchange: {
      kind: 'string',
      description: 'Exchange to publish to; "" is the default exchange.',
      maxLength: 255,
    },
    routingKey: { kind: 'string', description: 'Routing key; defaults to the queue name.', maxLength: 255 },
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

const SCHEDULE_FIELDS = ['interval', 'crontab', 'cron', 'clocked'] as const;

export const specSchema: ObjectNode = {
  kind: 'object',
  description: 'What to run and when. Exactly one of interval, crontab, cron or clocked.',
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
    cron: {
      kind: 'string',
      description:
        'Crontab as one string: "minute hour dayOfMonth monthOfYear dayOfWeek", with the same meaning as crontab.',
      maxLength: 256,
      rules: [
        {
          rule: `self.matches(${celString(CRON_FIVE_WORDS_PATTERN)})`,
          message: 'must have five fields: minute hour dayOfMonth monthOfYear dayOfWeek',
          holds: hasFiveWords,
        },
        {
          rule: `!self.matches(${celString(CRON_FIVE_WORDS_PATTERN)}) || self.matches(${celString(CRON_PATTERN)})`,
          message:
            'each field must be a Celery crontab pattern: comma-separated *, */step, value, start-end or start-end/step',
          holds: (s) => !hasFiveWords(s) || isCron(s),
        },
      ],
    },
    clocked: timestamp('Run once at this instant.'),
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
    jitterSeconds: {
      kind: 'integer',
      format: 'int64',
      minimum: 1,
      maximum: 86_400,
      description:
        'Moves each slot by a deterministic offset in [0, jitterSeconds), the same on every replica; must be shorter than the interval (a minute for crontab, cron).',
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
      rule: '[has(self.interval), has(self.crontab), has(self.cron), has(self.clocked)].exists_one(x, x)',
      message: 'exactly one of spec.interval, spec.crontab, spec.cron or spec.clocked must be set',
      holds: (self) => SCHEDULE_FIELDS.filter((f) => self[f] != null).length === 1,
    },
    {
      // Compared in microseconds, the smallest period; a longer jitter could swap two slots.
      rule: "!has(self.jitterSeconds) || has(self.clocked) || (has(self.interval) ? self.jitterSeconds * 1000000 < self.interval.every * (self.interval.period == 'days' ? 86400000000 : self.interval.period == 'hours' ? 3600000000 : self.interval.period == 'minutes' ? 60000000 : self.interval.period == 'seconds' ? 1000000 : 1) : self.jitterSeconds < 60)",
      message:
        'jitterSeconds must be shorter than the time between two slots (the interval; a minute for crontab and cron)',
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
