// `kubectl celerybeat`: run-now, backfill, pause, resume, next and history on one PeriodicTask; timeline on
// all of a namespace's (or all namespaces'). The help and
// usage errors answer before the Kubernetes client is loaded; every failure is one line and a non-zero exit.

import { UsageError } from '../cli/flag-check.ts';
import { backfillPatch, pausePatch, resumePatch, runNowPatch } from '../cli/task-edits.ts';
import { type Action, type CommandName, type Connection, parsePluginArgs } from './plugin-args.ts';
import type { TaskClient } from './task-client.ts';

const CONNECTION_FLAGS = `Connection flags (as kubectl's):
  --kubeconfig FILE             kubeconfig file (default: KUBECONFIG, else ~/.kube/config)
  --context NAME                kubeconfig context (default: the current context)
  --cluster NAME                kubeconfig cluster to use instead of the context's
  --user NAME                   kubeconfig user to use instead of the context's
  -s, --server URL              the API server's address
  --token TOKEN                 bearer token for the API server
  --as USER                     user to impersonate
  --as-group GROUP              group to impersonate (needs --as)
  --insecure-skip-tls-verify    do not check the server's certificate (insecure)
  --request-timeout DURATION    give up on a request after this long (0: never; default 30s)
  -n, --namespace NS            the task's namespace (default: the context's, else default)
  -h, --help                    show this help`;

const HELP: Record<CommandName, { summary: string; usage: string }> = {
  'run-now': {
    summary: 'run a task once more now, outside its schedule',
    usage: `Usage: kubectl celerybeat run-now NAME [--token TEXT] [--wait [--timeout 60s]]

Sets the annotation celerybeat.io/run-now to a fresh token (the current time, ISO-8601 UTC): the operator
runs the task once for each distinct token, whatever its schedule, and records the token in
status.lastRunNow. Prints the token.

Flags:
  --token TEXT         the token (default: the current time); the same token never runs twice
  --wait               wait until status.lastRunNow is the token
  --timeout DURATION   how long --wait waits (default 60s)`,
  },
  backfill: {
    summary: 'run the slots of a past range that did not run',
    usage: `Usage: kubectl celerybeat backfill NAME --from RFC3339 --to RFC3339

Sets the annotation celerybeat.io/backfill to "<from>/<to>": the operator runs each slot of the schedule in
that range that has not run yet, once, oldest first. Progress: status.backfill (see "history").

Flags:
  --from RFC3339       start of the range, such as 2026-12-01T00:00:00Z
  --to RFC3339         end of the range`,
  },
  pause: {
    summary: 'pause a task, with a reason, until resumed or until a time',
    usage: `Usage: kubectl celerybeat pause NAME --reason TEXT [--until RFC3339]

Sets spec.pause: no runs (Ready False/Paused, with the reason) until "resume", or until --until, when the
task resumes by itself. Slots inside the pause are counted as skipped by pause, not as missed.

Flags:
  --reason TEXT        why (shown in the Ready condition)
  --until RFC3339      resume by itself then, such as 2026-12-24T18:00:00Z`,
  },
  resume: {
    summary: 'resume a paused task',
    usage: `Usage: kubectl celerybeat resume NAME

Removes spec.pause and sets the annotation celerybeat.io/resumed-at to the current time, which lifts a pause
after failures (spec.pauseAfterFailures) and starts the count of failures over: the task runs again from its
next slot.`,
  },
  next: {
    summary: 'print the next run times of a task',
    usage: `Usage: kubectl celerybeat next NAME [--count N] [--timezone ZONE]

Prints the next N run times, as "<namespace>/<name> <ISO-8601 UTC>", one per line, computed from the task's
spec and status with the operator's own schedule engine (jitter and pause included).

Flags:
  --count N            run times (default 5, at most 10000)
  --timezone ZONE      the operator's --timezone, for a crontab without timeZone (env TIMEZONE, default UTC)`,
  },
  history: {
    summary: "print a task's runs, as its status records them",
    usage: `Usage: kubectl celerybeat history NAME

Prints what the status says: runs, last and next run, results (with the operator's --result-backend),
missed and paused slots, the last run-now token and backfill progress, and the recent runs.`,
  },
  timeline: {
    summary: 'draw how many runs fall in each minute or hour ahead',
    usage: `Usage: kubectl celerybeat timeline [--hours N] [--bucket minute|hour] [--by namespace|task] [-A]

Draws how many runs of the namespace's PeriodicTasks (of all namespaces with -A) fall in each minute or hour
of the next N hours: one line per bucket with a bar, the namespaces or tasks that make it up, and the peaks
marked. Computed from each task's spec and status with the operator's own schedule engine (jitter and pauses
included). Needs list on periodictasks. Times are UTC.

Flags:
  --hours N            the window (default 24, at most 744)
  --bucket UNIT        minute or hour (default: minute up to 2 hours, else hour)
  --by GROUP           namespace or task (default: namespace when the tasks are in several, else task)
  -A, --all-namespaces every namespace's tasks
  --timezone ZONE      the operator's --timezone, for a crontab without timeZone (env TIMEZONE, default UTC)`,
  },
};

const USAGE = `Usage: kubectl celerybeat COMMAND [NAME] [flags]

Acts on one PeriodicTask (celerybeat.io/v1alpha1), or with timeline on all of a namespace's. Needs get and
patch on periodictasks, and list for timeline.

Commands:
${Object.entries(HELP)
  .map(([name, h]) => `  ${name.padEnd(9)} ${h.summary}`)
  .join('\n')}

${CONNECTION_FLAGS}

Run "kubectl celerybeat COMMAND --help" for the flags of a command.
Exit status: 0 success, 1 the API server refused or the task is missing or invalid, 2 bad usage.`;

function out(line: string): void {
  process.stdout.write(`${line}\n`);
}

/** Polls the task (get only: the user may not watch) until status.lastRunNow is the token. */
async function waitForRunNow(client: TaskClient, name: string, token: string, waitMs: number): Promise<void> {
  const { PluginError } = await import('./task-client.ts');
  const deadline = Date.now() + waitMs;
  for (;;) {
    const task = await client.get(name);
    if (task.status?.lastRunNow === token) return;
    const left = deadline - Date.now();
    if (left <= 0)
      throw new PluginError(
        `status.lastRunNow is not ${token} after ${waitMs / 1000} s: is the operator running and watching namespace "${client.namespace}"?`,
      );
    await new Promise((resolve) => setTimeout(resolve, Math.min(1000, left)));
  }
}

async function execute(name: string, connection: Connection, action: Action): Promise<number> {
  const { connect, PluginError, TaskClient: Client } = await import('./task-client.ts');
  const { kube, namespace } = connect(connection);
  const client = new Client(kube, namespace, connection.requestTimeoutMs);
  const resource = `periodictask.celerybeat.io/${name}`;
  switch (action.command) {
    case 'run-now': {
      await client.patch(name, runNowPatch(action.token));
      out(`${resource} run-now requested: ${action.token}`);
      if (action.waitMs !== undefined) {
        await waitForRunNow(client, name, action.token, action.waitMs);
        out(`${resource} run-now ${action.token} handled`);
      }
      return 0;
    }
    case 'backfill':
      await client.patch(name, backfillPatch(action.range));
      out(`${resource} backfill requested: ${action.range} (progress: kubectl celerybeat history ${name})`);
      return 0;
    case 'pause': {
      await client.patch(name, pausePatch(action.pause));
      const until = action.pause.until === undefined ? ' until resumed' : ` until ${action.pause.until}`;
      out(`${resource} paused${until}: ${action.pause.reason}`);
      return 0;
    }
    case 'resume':
      await client.patch(name, resumePatch(new Date()));
      out(`${resource} resumed`);
      return 0;
    case 'next': {
      const { liveNextRuns } = await import('./live-next.ts');
      const result = liveNextRuns(await client.get(name), Date.now(), action.count, action.timeZone);
      if (!result.ok) throw new PluginError(`${result.key}: ${result.message}`);
      for (const time of result.times) out(`${result.key} ${new Date(time).toISOString()}`);
      if (result.note !== undefined) process.stderr.write(`${result.key}: ${result.note}\n`);
      return 0;
    }
    case 'history': {
      const { historyLines } = await import('./history-table.ts');
      for (const line of historyLines(await client.get(name), Date.now())) out(line);
      return 0;
    }
    case 'timeline': {
      const [{ livePlan }, chart] = await Promise.all([
        import('./live-next.ts'),
        import('../cli/timeline-chart.ts'),
      ]);
      const now = Date.now();
      const window = chart.timelineWindow(action.hours, action.bucket, now);
      const plans = [];
      for (const task of await client.list(action.allNamespaces)) {
        const plan = livePlan(task, now, action.timeZone);
        if (plan.ok) plans.push(plan);
        else process.stderr.write(`${plan.key}: ${plan.message}\n`);
      }
      for (const line of chart.renderTimeline(chart.timelineOf(plans, window, chart.groupingOf(action.by))))
        out(line);
      return 0;
    }
  }
}

/** Runs the plugin on its arguments; the exit status. */
export async function runPlugin(argv: string[]): Promise<number> {
  let invocation: ReturnType<typeof parsePluginArgs>;
  try {
    invocation = parsePluginArgs(argv);
  } catch (error) {
    if (!(error instanceof UsageError)) throw error;
    process.stderr.write(`kubectl celerybeat: ${error.message}\n`);
    return 2;
  }
  if (invocation.kind === 'help') {
    const help = invocation.command ? `${HELP[invocation.command].usage}\n\n${CONNECTION_FLAGS}` : USAGE;
    out(help);
    return 0;
  }
  const { name, connection, action } = invocation;
  try {
    return await execute(name, connection, action);
  } catch (error) {
    const { PluginError } = await import('./task-client.ts');
    const message =
      error instanceof PluginError ? error.message : `unexpected error: ${(error as Error).message}`;
    process.stderr.write(`kubectl celerybeat ${action.command}: ${message}\n`);
    return 1;
  }
}
