// The timeline drawn for a terminal: one line per bucket (a minute or an hour) with the number of runs, a bar,
// the groups (namespaces or tasks) that make it up, and the peaks marked. Equal buckets in a row share a line.
import { taskKey } from '../api/types.ts';
import { type Buckets, runsPerBucket } from '../schedule/run-counts.ts';
import type { RunPlan } from '../schedule/run-plan.ts';
import { UsageError } from './flag-check.ts';

export interface Timeline extends Buckets {
  /** Runs per bucket of each group (a namespace or a task). */
  groups: ReadonlyMap<string, readonly number[]>;
  /** What a group is, for the heading. */
  groupedBy: 'namespace' | 'task';
  /** The one namespace of all the tasks, when there is one: task groups are then named without it. */
  namespace?: string;
  tasks: number;
}

const BAR_WIDTH = 40;
const BLOCKS = ['', '▏', '▎', '▍', '▌', '▋', '▊', '▉'];
const GROUPS_SHOWN = 3;

const number = (n: number): string => n.toLocaleString('en-US');

function bar(count: number, max: number): string {
  if (count === 0 || max === 0) return '';
  const eighths = Math.max(1, Math.round((count / max) * BAR_WIDTH * 8));
  return '█'.repeat(Math.floor(eighths / 8)) + BLOCKS[eighths % 8];
}

const iso = (ms: number): string => new Date(ms).toISOString();
const clock = (ms: number): string => iso(ms).slice(11, 16);
const day = (ms: number): string => iso(ms).slice(0, 10);

/** The groups of one bucket, largest first: "team-a 300 · team-b 100 · 2 more". */
function makeUp(groups: ReadonlyMap<string, readonly number[]>, b: number): string {
  const parts = [...groups]
    .map(([name, counts]) => [name, counts[b] ?? 0] as const)
    .filter(([, n]) => n > 0)
    .sort((x, y) => y[1] - x[1] || x[0].localeCompare(y[0]));
  const shown = parts.slice(0, GROUPS_SHOWN).map(([name, n]) => `${name} ${number(n)}`);
  if (parts.length > GROUPS_SHOWN) shown.push(`${parts.length - GROUPS_SHOWN} more`);
  return shown.join(' · ');
}

export function renderTimeline(t: Timeline): string[] {
  const size = t.count;
  const totals = Array.from({ length: size }, (_, b) =>
    [...t.groups.values()].reduce((sum, counts) => sum + (counts[b] ?? 0), 0),
  );
  const runs = totals.reduce((a, b) => a + b, 0);
  const max = Math.max(0, ...totals);
  const mean = size === 0 ? 0 : runs / size;
  const to = t.from + size * t.bucketMs;
  const unit =
    t.bucketMs === 60_000 ? 'minute' : t.bucketMs === 3_600_000 ? 'hour' : `${t.bucketMs / 1000} s`;
  const lines = [
    `Runs per ${unit}, ${iso(t.from).slice(0, 16).replace('T', ' ')} to ${iso(to).slice(0, 16).replace('T', ' ')} UTC: ` +
      `${number(runs)} runs of ${number(t.tasks)} tasks${t.namespace === undefined ? '' : ` in namespace ${t.namespace}`}, by ${t.groupedBy}` +
      (max > 0 ? `; peak ${number(max)} in a ${unit}` : ''),
  ];
  const countWidth = Math.max(5, number(max).length);
  let b = 0;
  let lastDay = '';
  while (b < size) {
    const start = t.from + b * t.bucketMs;
    // Equal buckets in a row (with the same make-up) share one line, within one day.
    let end = b + 1;
    const parts = makeUp(t.groups, b);
    while (
      end < size &&
      totals[end] === totals[b] &&
      makeUp(t.groups, end) === parts &&
      day(t.from + end * t.bucketMs) === day(start)
    )
      end++;
    if (day(start) !== lastDay) {
      lastDay = day(start);
      lines.push(`── ${lastDay}`);
    }
    const total = totals[b]!;
    const label = end - b > 1 ? `${clock(start)}–${clock(t.from + (end - 1) * t.bucketMs)}` : clock(start);
    const mark = total > 0 && total === max ? '◀ peak' : total > 2 * mean && total > 0 ? '◀ busy' : '';
    const each = end - b > 1 ? ' each' : '';
    lines.push(
      `${label.padEnd(11)} ${number(total).padStart(countWidth)}${each.padEnd(5)} ${bar(total, max).padEnd(BAR_WIDTH + 1)} ${mark.padEnd(6)} ${parts}`.trimEnd(),
    );
    b = end;
  }
  return lines;
}

export interface TimelineWindow extends Buckets {}

/** `--hours` and `--bucket` read into whole buckets from the current one; throws UsageError naming the flag. */
export function timelineWindow(
  hours: string | undefined,
  bucket: string | undefined,
  now: number,
): TimelineWindow {
  const h = Number(hours ?? '24');
  if (!Number.isInteger(h) || h < 1 || h > 744)
    throw new UsageError(`--hours must be an integer from 1 to 744 (31 days), got ${JSON.stringify(hours)}`);
  const unit = bucket ?? (h <= 2 ? 'minute' : 'hour');
  if (unit !== 'minute' && unit !== 'hour')
    throw new UsageError(`--bucket must be minute or hour, got ${JSON.stringify(bucket)}`);
  const bucketMs = unit === 'minute' ? 60_000 : 3_600_000;
  return { from: Math.floor(now / bucketMs) * bucketMs, bucketMs, count: (h * 3_600_000) / bucketMs };
}

/** `--by`: namespace, task, or undefined for the default. */
export function groupingOf(by: string | undefined): 'namespace' | 'task' | undefined {
  if (by === undefined || by === 'namespace' || by === 'task') return by;
  throw new UsageError(`--by must be namespace or task, got ${JSON.stringify(by)}`);
}

/**
 * The timeline of the plans in a window, grouped by namespace, or by task when they are all in one namespace
 * (or when asked to).
 */
export function timelineOf(
  plans: ReadonlyArray<RunPlan>,
  window: TimelineWindow,
  by?: 'namespace' | 'task',
): Timeline {
  const namespaces = new Set(plans.map((p) => p.def.namespace));
  const [namespace] = namespaces.size === 1 ? namespaces : [undefined];
  const groupedBy = by ?? (namespaces.size > 1 ? 'namespace' : 'task');
  const groups = new Map<string, number[]>();
  for (const plan of plans) {
    const label =
      groupedBy === 'namespace'
        ? plan.def.namespace || '(hand-written keys)'
        : namespace === undefined
          ? taskKey(plan.def.namespace, plan.def.name)
          : plan.def.name;
    const counts = runsPerBucket(plan, window);
    const sum = groups.get(label);
    if (sum) for (const [i, n] of counts.entries()) sum[i]! += n;
    else groups.set(label, counts);
  }
  return {
    from: window.from,
    bucketMs: window.bucketMs,
    count: window.count,
    groups,
    groupedBy,
    ...(namespace === undefined ? {} : { namespace }),
    tasks: plans.length,
  };
}
