// Solar slots against an independent astronomical reference: ephem (Debian's python3-ephem, the library Celery's
// solar schedule uses), observed as Celery observes (solar_ephem.py). Every event of a year, all nine events, at the
// equator, 52°N, 60°S and 78°N (polar day and night): the same days have the event, each within a minute.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { SOLAR_EVENTS, type SolarEvent } from '../../../src/api/types.ts';
import { compileSchedule } from '../../../src/schedule/compile.ts';
import { equinoxCrontab } from '../../../src/schedule/solar-events.ts';

const PYTHON = process.env.CELERY_PYTHON ?? '/usr/bin/python3';
const ORACLE = fileURLToPath(new URL('./solar_ephem.py', import.meta.url));
const FROM = Date.UTC(2027, 0, 1);
const TO = Date.UTC(2028, 0, 1);
const PLACES = [
  { name: 'equator', lat: 0, lon: -78.5 },
  { name: '52°N', lat: 52.52, lon: 13.405 },
  { name: '60°S', lat: -60, lon: -45 },
  { name: '78°N', lat: 78.22, lon: 15.65 },
];

interface Case {
  event: SolarEvent;
  lat: number;
  lon: number;
}

function ephemEvents(cases: readonly Case[]): number[][] {
  const run = spawnSync(PYTHON, [ORACLE], {
    input: JSON.stringify({ cases, from: FROM, to: TO }),
    encoding: 'utf8',
    maxBuffer: 64 * 1024 * 1024,
  });
  assert.equal(run.status, 0, `solar_ephem.py failed: ${run.stderr}`);
  return JSON.parse(run.stdout) as number[][];
}

function ourEvents(c: Case): number[] {
  const documented = { crontab: equinoxCrontab(c.event, c.lat, c.lon) };
  const schedule = compileSchedule(
    { kind: 'solar', event: c.event, latitude: c.lat, longitude: c.lon, documented },
    'UTC',
  );
  const slots: number[] = [];
  for (let at = schedule.next(FROM - 1); at !== null && at < TO; at = schedule.next(at)) slots.push(at);
  return slots;
}

const iso = (ms: number): string => new Date(ms).toISOString();

test('a year of every solar event at four latitudes: the days ephem finds, each within a minute', () => {
  const cases = PLACES.flatMap(({ lat, lon }) => SOLAR_EVENTS.map((event) => ({ event, lat, lon })));
  const reference = ephemEvents(cases);
  let polarGaps = 0;
  cases.forEach((c, i) => {
    const label = `${c.event} at ${c.lat}, ${c.lon}`;
    const theirs = reference[i]!;
    const ours = ourEvents(c);
    assert.ok(theirs.length > 0, `${label}: ephem found events`);
    // Both lists are in order and one per day: pair them by position once their lengths agree.
    assert.equal(
      ours.length,
      theirs.length,
      `${label}: ${ours.length} events here, ${theirs.length} by ephem (first here ${iso(ours[0] ?? 0)}, by ephem ${iso(theirs[0]!)})`,
    );
    ours.forEach((at, j) => {
      const diff = Math.abs(at - theirs[j]!);
      assert.ok(
        diff <= 60_000,
        `${label}: ${iso(at)} here, ${iso(theirs[j]!)} by ephem (${diff / 1000} s apart)`,
      );
    });
    if (theirs.length < 360) polarGaps++;
  });
  // The year has days without the event at the high latitudes: the skipping was exercised.
  assert.ok(polarGaps >= 8, `cases with days without the event: ${polarGaps}`);
});
