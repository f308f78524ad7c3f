// `kubectl celerybeat history`: what the status says about a task's runs, as a block of facts and a table of
// the recent runs. Only the status is read: it is what the operator has written, nothing is recomputed.
import { namespaceOf, type PeriodicTask, type RecentRun } from '../api/types.ts';

function age(iso: string, now: number): string {
  const ms = now - Date.parse(iso);
  if (Number.isNaN(ms)) return '';
  const s = Math.round(Math.abs(ms) / 1000);
  const text =
    s < 120
      ? `${s}s`
      : s < 7200
        ? `${Math.round(s / 60)}m`
        : s < 172_800
          ? `${Math.round(s / 3600)}h`
          : `${Math.round(s / 86_400)}d`;
  return ms >= 0 ? ` (${text} ago)` : ` (in ${text})`;
}

function table(rows: string[][]): string[] {
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => r[i]!.length)));
  return rows.map((r) =>
    r
      .map((cell, i) => (i === r.length - 1 ? cell : cell.padEnd(widths[i]!)))
      .join('   ')
      .trimEnd(),
  );
}

function duration(run: RecentRun): string {
  return run.durationSeconds === undefined
    ? ''
    : `${run.durationSeconds.toFixed(run.durationSeconds < 10 ? 2 : 1)}s`;
}

/** The lines `history` prints for a task read from the API server at `now` (epoch ms). */
export function historyLines(task: PeriodicTask, now: number): string[] {
  const s = task.status ?? {};
  const facts: Array<[string, string | undefined]> = [];
  const at = (iso: string | undefined) => (iso === undefined ? undefined : `${iso}${age(iso, now)}`);
  const ready = s.conditions?.find((c) => c.type === 'Ready');
  facts.push(['Schedule', s.schedule]);
  facts.push([
    'Ready',
    ready && `${ready.status}/${ready.reason}${ready.message ? `: ${ready.message}` : ''}`,
  ]);
  facts.push(['Runs', s.totalRunCount === undefined ? undefined : String(s.totalRunCount)]);
  facts.push([
    'Last run',
    at(s.lastRunAt) && `${at(s.lastRunAt)}${s.lastTaskId ? `, task id ${s.lastTaskId}` : ''}`,
  ]);
  facts.push(['Next run', at(s.nextRunAt)]);
  if (s.lastResult) {
    const r = s.lastResult;
    const when = r.finishedAt ? ` at ${r.finishedAt}` : '';
    facts.push(['Last result', `${r.state}${when}, task id ${r.taskId}${r.error ? `: ${r.error}` : ''}`]);
  }
  facts.push(['Last success', at(s.lastSuccessfulRunAt)]);
  facts.push(['Last failure', at(s.lastFailedRunAt)]);
  facts.push(['Missed runs', s.missedRunCount === undefined ? undefined : String(s.missedRunCount)]);
  facts.push(['Skipped by pause', s.pausedRunCount === undefined ? undefined : String(s.pausedRunCount)]);
  facts.push([
    'Failures in a row',
    s.consecutiveFailures === undefined
      ? undefined
      : `${s.consecutiveFailures} (pauses at ${task.spec.pauseAfterFailures ?? '-'})`,
  ]);
  facts.push([
    'Outcome unknown',
    s.unknownRunCount === undefined
      ? undefined
      : `${s.unknownRunCount} (sent, never confirmed; not sent again)`,
  ]);
  if (task.spec.pause) {
    const until = task.spec.pause.until ? ` until ${task.spec.pause.until}` : ' until resumed';
    facts.push(['Paused', `${task.spec.pause.reason}${until}`]);
  }
  facts.push(['Last run-now', s.lastRunNow]);
  if (s.backfill) {
    const b = s.backfill;
    const unknown = b.unknown ? `, ${b.unknown} of unknown outcome` : '';
    const counts = `${b.sent} of ${b.slots} slot(s) sent, ${b.alreadyRun} had run already${unknown}`;
    facts.push(['Backfill', `${b.range}: ${b.state}, ${counts}${b.message ? ` (${b.message})` : ''}`]);
  }
  const shown = facts.filter((f): f is [string, string] => f[1] !== undefined && f[1] !== '');
  const width = Math.max(...shown.map(([label]) => label.length)) + 1;
  const namespace = namespaceOf(task.metadata);
  const lines = [`PeriodicTask ${namespace}/${task.metadata.name} (${task.spec.task})`];
  if (task.status === undefined) lines.push('No status yet: the operator has not handled this task.');
  lines.push(...shown.map(([label, value]) => `${`${label}:`.padEnd(width)} ${value}`));
  const runs = s.recentRuns ?? [];
  if (runs.length > 0) {
    lines.push('', 'Recent runs (newest first):');
    const ordered = [...runs].sort((a, b) => Date.parse(b.slot) - Date.parse(a.slot));
    lines.push(
      ...table([
        ['SLOT', 'STATE', 'DURATION', 'TASK ID'],
        ...ordered.map((r) => [r.slot, r.state, duration(r), r.taskId]),
      ]),
    );
  }
  return lines;
}
