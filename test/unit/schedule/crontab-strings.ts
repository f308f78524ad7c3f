// Crontab field strings for the differential test against Celery's parser: numbers, names, the pattern
// punctuation, signs, underscores and Python's whitespace, joined at random so odd corners come up often.
import type { CrontabFieldName } from '../../../src/schedule/crontab-parse.ts';

export interface ParserCase {
  field: CrontabFieldName;
  text: string;
}

/** Celery's crontab_parser(max_, min_) arguments per field. */
export const CELERY_PARSER_ARGS: Readonly<Record<CrontabFieldName, [number, number]>> = {
  minute: [60, 0],
  hour: [24, 0],
  dayOfWeek: [7, 0],
  dayOfMonth: [31, 1],
  monthOfYear: [12, 1],
};

const PIECES = [
  ...'0123456789',
  '1',
  '5',
  '12',
  '23',
  '31',
  '59',
  '60',
  '007',
  '*',
  '*',
  '/',
  '/',
  '-',
  '-',
  ',',
  ',',
  ' ',
  ' ',
  '\t',
  '\n',
  '\v',
  '\x1c',
  '+',
  '_',
  'mon',
  'FRI',
  'sunday',
  'Sat',
  'jan',
  'x',
  "'",
];

/** mulberry32: a small deterministic PRNG, so a failing case can be replayed from its seed. */
function random(seed: number): () => number {
  let a = seed;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export function generateParserCases(seed: number, count: number): ParserCase[] {
  const rnd = random(seed);
  const fields = Object.keys(CELERY_PARSER_ARGS) as CrontabFieldName[];
  const out: ParserCase[] = [];
  for (let i = 0; i < count; i++) {
    const length = 1 + Math.floor(rnd() * 7);
    let text = '';
    for (let k = 0; k < length; k++) text += PIECES[Math.floor(rnd() * PIECES.length)]!;
    out.push({ field: fields[Math.floor(rnd() * fields.length)]!, text });
  }
  return out;
}
