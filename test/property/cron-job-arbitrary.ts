// Generators of `cron` strings in every form a Kubernetes CronJob's schedule accepts (robfig/cron v3 ParseStandard):
// lists, ranges, steps (`*/s`, `a-b/s`, `N/s`), `*` and `?`, month and weekday names in any case, `+` signs and
// leading zeros, empty list parts, text after `*-` that robfig ignores, Go whitespace between fields, and the
// descriptors (@yearly … @hourly, @every <Go duration>). Values stay in range, so every string parses; whether it
// ever matches a date is for the caller to check.
import fc from 'fast-check';

interface FieldShape {
  min: number;
  max: number;
  names?: readonly string[];
}

const SHAPES: readonly FieldShape[] = [
  { min: 0, max: 59 },
  { min: 0, max: 23 },
  { min: 1, max: 31 },
  {
    min: 1,
    max: 12,
    names: ['jan', 'feb', 'mar', 'apr', 'may', 'jun', 'jul', 'aug', 'sep', 'oct', 'nov', 'dec'],
  },
  { min: 0, max: 6, names: ['sun', 'mon', 'tue', 'wed', 'thu', 'fri', 'sat'] },
];

function mixedCase(s: string): fc.Arbitrary<string> {
  return fc
    .array(fc.boolean(), { minLength: s.length, maxLength: s.length })
    .map((up) => [...s].map((c, i) => (up[i] ? c.toUpperCase() : c)).join(''));
}

/** A value as text: a number (sometimes `+` or zero-padded) or, in month and weekday, a name. */
function valueText(shape: FieldShape, value: number): fc.Arbitrary<string> {
  const forms: fc.Arbitrary<string>[] = [
    fc.constant(String(value)),
    fc.constant(`0${value}`),
    fc.constant(`+${value}`),
  ];
  if (shape.names) forms.push(mixedCase(shape.names[value - shape.min]!));
  return fc.oneof(...forms);
}

function cronJobPart(shape: FieldShape): fc.Arbitrary<string> {
  const { min, max } = shape;
  const value = fc.integer({ min, max });
  const step = fc.oneof(fc.integer({ min: 1, max: max + 2 }), fc.constantFrom(1, 2, max)).map(String);
  const single = value.chain((v) => valueText(shape, v));
  const range = fc
    .tuple(value, value)
    .map(([a, b]): [number, number] => (a <= b ? [a, b] : [b, a]))
    .chain(([a, b]) => fc.tuple(valueText(shape, a), valueText(shape, b)).map(([x, y]) => `${x}-${y}`));
  return fc.oneof(
    { arbitrary: fc.constantFrom('*', '?'), weight: 3 },
    { arbitrary: fc.tuple(fc.constantFrom('*', '?'), step).map(([s, n]) => `${s}/${n}`), weight: 3 },
    { arbitrary: fc.constantFrom('*-x', '?-1-2', '*-5/2'), weight: 1 },
    { arbitrary: single, weight: 4 },
    { arbitrary: fc.tuple(single, step).map(([v, s]) => `${v}/${s}`), weight: 2 },
    { arbitrary: range, weight: 4 },
    { arbitrary: fc.tuple(range, step).map(([r, s]) => `${r}/${s}`), weight: 3 },
  );
}

function cronJobField(shape: FieldShape): fc.Arbitrary<string> {
  return fc.oneof(
    { arbitrary: fc.constant('*'), weight: 6 },
    {
      arbitrary: fc.array(cronJobPart(shape), { minLength: 1, maxLength: 4 }).map((parts) => parts.join(',')),
      weight: 8,
    },
    // Empty parts are skipped, as robfig skips them.
    { arbitrary: cronJobPart(shape).map((p) => `,${p},,`), weight: 1 },
  );
}

const SPACE = fc.oneof(
  { arbitrary: fc.constant(' '), weight: 8 },
  { arbitrary: fc.constantFrom('  ', '\t', ' \t '), weight: 1 },
);

/** Five fields between Go whitespace. */
export const cronJobFields: fc.Arbitrary<string> = fc
  .tuple(
    fc.tuple(...SHAPES.map(cronJobField)),
    fc.array(SPACE, { minLength: 4, maxLength: 4 }),
    fc.constantFrom('', ' '),
    fc.constantFrom('', ' ', '\n'),
  )
  .map(([fields, gaps, lead, trail]) => {
    let s = lead + fields[0];
    for (let i = 1; i < 5; i++) s += gaps[i - 1]! + fields[i];
    return s + trail;
  })
  .filter((s) => s.length <= 256);

/** A Go duration of a few seconds to a few days, in the forms time.ParseDuration reads. */
const goDuration: fc.Arbitrary<string> = fc.oneof(
  fc.integer({ min: 1, max: 600 }).map((n) => `${n}s`),
  fc.integer({ min: 1, max: 300 }).map((n) => `${n}m`),
  fc.tuple(fc.integer({ min: 1, max: 48 }), fc.integer({ min: 0, max: 59 })).map(([h, m]) => `${h}h${m}m`),
  fc.integer({ min: 1, max: 99 }).map((n) => `${n}.5s`),
  fc.integer({ min: 1, max: 9 }).map((n) => `0.${n}h`),
  fc.constantFrom('1500ms', '90s', '+2m', '1h0m0s', '2000000us', '0.5s'),
);

export const descriptor: fc.Arbitrary<string> = fc.oneof(
  fc.constantFrom('@yearly', '@annually', '@monthly', '@weekly', '@daily', '@midnight', '@hourly'),
  goDuration.map((d) => `@every ${d}`),
);

/** A `cron` string: mostly five fields, sometimes a descriptor. */
export const cronJobString: fc.Arbitrary<string> = fc.oneof(
  { arbitrary: cronJobFields, weight: 9 },
  { arbitrary: descriptor, weight: 1 },
);
