// The command line of `kubectl celerybeat`: a sub-command, the task's NAME, kubectl's connection flags
// (anywhere on the line, as kubectl takes them) and the sub-command's own flags, checked into one value.
import { type ParseArgsOptionsConfig, parseArgs } from 'node:util';
import type { PauseSpec } from '../api/types.ts';
import { checkFlags, UsageError } from '../cli/flag-check.ts';
import { backfillRange, pauseSpec, runNowToken } from '../cli/task-edits.ts';
import { groupingOf, timelineWindow } from '../cli/timeline-chart.ts';
import type { ConnectionOptions } from '../kube/kube-connection.ts';

/** Where the API server and the task are, as kubectl's flags say; unset means the kubeconfig's choice. */
export interface Connection extends ConnectionOptions {
  namespace?: string;
  /** --request-timeout; 0: no limit. */
  requestTimeoutMs?: number;
}

export type Action =
  | { command: 'run-now'; token: string; waitMs?: number }
  | { command: 'backfill'; range: string }
  | { command: 'pause'; pause: PauseSpec }
  | { command: 'resume' }
  | { command: 'next'; count: number; timeZone: string }
  | { command: 'history' }
  | {
      command: 'timeline';
      hours?: string;
      bucket?: string;
      by?: string;
      allNamespaces: boolean;
      timeZone: string;
    };

export type CommandName = Action['command'];

export type Invocation =
  | { kind: 'help'; command?: CommandName }
  | { kind: 'action'; name: string; connection: Connection; action: Action };

/** Commands on all the tasks of a namespace (or of all), which take no NAME. */
const WITHOUT_NAME: ReadonlySet<CommandName> = new Set(['timeline']);

const CONNECTION_OPTIONS = {
  kubeconfig: { type: 'string' },
  context: { type: 'string' },
  cluster: { type: 'string' },
  user: { type: 'string' },
  server: { type: 'string', short: 's' },
  token: { type: 'string' },
  as: { type: 'string' },
  'as-group': { type: 'string', multiple: true },
  'request-timeout': { type: 'string' },
  'insecure-skip-tls-verify': { type: 'boolean' },
  namespace: { type: 'string', short: 'n' },
  help: { type: 'boolean', short: 'h' },
} as const satisfies ParseArgsOptionsConfig;

export const COMMAND_OPTIONS = {
  'run-now': { token: { type: 'string' }, wait: { type: 'boolean' }, timeout: { type: 'string' } },
  backfill: { from: { type: 'string' }, to: { type: 'string' } },
  pause: { reason: { type: 'string' }, until: { type: 'string' } },
  resume: {},
  next: { count: { type: 'string' }, timezone: { type: 'string' } },
  history: {},
  timeline: {
    hours: { type: 'string' },
    bucket: { type: 'string' },
    by: { type: 'string' },
    timezone: { type: 'string' },
    'all-namespaces': { type: 'boolean', short: 'A' },
  },
} as const satisfies Record<CommandName, ParseArgsOptionsConfig>;

const isCommand = (name: string): name is CommandName => Object.hasOwn(COMMAND_OPTIONS, name);

/** Every flag of every command, so a flag's value is never taken for the command (`-n apps run-now`). */
const ALL_OPTIONS: ParseArgsOptionsConfig = Object.assign(
  {},
  CONNECTION_OPTIONS,
  ...Object.values(COMMAND_OPTIONS),
);

/** `30s`, `2m`, `1h`, `500ms` (kubectl's duration forms) or plain seconds; milliseconds. */
export function durationMs(flag: string, text: string): number {
  const m = /^(\d+(?:\.\d+)?)(ms|s|m|h)?$/.exec(text);
  const unit = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 }[m?.[2] ?? 's'] ?? 1000;
  const ms = m ? Number(m[1]) * unit : Number.NaN;
  if (!(ms > 0))
    throw new UsageError(`${flag} must be a duration such as 30s, 5m or 1h, got ${JSON.stringify(text)}`);
  return ms;
}

function countOf(text: string | undefined): number {
  const count = Number(text ?? '5');
  if (!Number.isInteger(count) || count < 1 || count > 10_000)
    throw new UsageError(`--count must be an integer from 1 to 10000, got ${JSON.stringify(text)}`);
  return count;
}

type Values = Record<string, string | boolean | string[] | undefined>;
const str = (values: Values, name: string): string | undefined => {
  const value = values[name];
  return typeof value === 'string' ? value : undefined;
};

function actionOf(command: CommandName, values: Values, env: NodeJS.ProcessEnv, now: Date): Action {
  switch (command) {
    case 'run-now': {
      const token = runNowToken(str(values, 'token'), now);
      const timeout = str(values, 'timeout');
      if (timeout !== undefined && values.wait !== true) throw new UsageError('--timeout needs --wait');
      if (values.wait !== true) return { command, token };
      return { command, token, waitMs: timeout === undefined ? 60_000 : durationMs('--timeout', timeout) };
    }
    case 'backfill':
      return { command, range: backfillRange(str(values, 'from'), str(values, 'to')) };
    case 'pause':
      return { command, pause: pauseSpec(str(values, 'reason'), str(values, 'until')) };
    case 'resume':
    case 'history':
      return { command };
    case 'next':
      return {
        command,
        count: countOf(str(values, 'count')),
        timeZone: str(values, 'timezone') ?? (env.TIMEZONE || 'UTC'),
      };
    case 'timeline': {
      // Checked here, so a mistake is a usage error before anything is asked of the API server.
      timelineWindow(str(values, 'hours'), str(values, 'bucket'), now.getTime());
      groupingOf(str(values, 'by'));
      const action: Extract<Action, { command: 'timeline' }> = {
        command,
        allNamespaces: values['all-namespaces'] === true,
        timeZone: str(values, 'timezone') ?? (env.TIMEZONE || 'UTC'),
      };
      for (const flag of ['hours', 'bucket', 'by'] as const) {
        const value = str(values, flag);
        if (value !== undefined) action[flag] = value;
      }
      return action;
    }
  }
}

/** Reads the command line; throws UsageError with one line naming the mistake. */
export function parsePluginArgs(
  argv: readonly string[],
  env: NodeJS.ProcessEnv = process.env,
  now = new Date(),
): Invocation {
  const { tokens } = parseArgs({
    args: [...argv],
    options: ALL_OPTIONS,
    strict: false,
    allowPositionals: true,
    tokens: true,
  });
  const first = tokens.find((t) => t.kind === 'positional');
  const wantsHelp = tokens.some((t) => t.kind === 'option' && t.name === 'help');
  if (!first) {
    if (wantsHelp) return { kind: 'help' };
    throw new UsageError('no command given (see --help)');
  }
  if (first.kind !== 'positional' || !isCommand(first.value))
    throw new UsageError(
      `unknown command ${JSON.stringify(first.kind === 'positional' ? first.value : '')} (see --help)`,
    );
  const command = first.value;
  const options = { ...CONNECTION_OPTIONS, ...COMMAND_OPTIONS[command] };
  const rest = argv.filter((_, i) => i !== first.index);
  checkFlags(rest, options, true);
  const { values, positionals } = parseArgs({ args: rest, options, strict: true, allowPositionals: true });
  if (values.help) return { kind: 'help', command };
  if (WITHOUT_NAME.has(command)) {
    if (positionals.length > 0)
      throw new UsageError(
        `${command}: takes no NAME (it reads every task of the namespace, or of all with -A)`,
      );
    return {
      kind: 'action',
      name: '',
      connection: connectionOf(values as Values),
      action: actionOf(command, values as Values, env, now),
    };
  }
  if (positionals.length === 0)
    throw new UsageError(`${command}: no NAME given (see kubectl celerybeat ${command} --help)`);
  if (positionals.length > 1) throw new UsageError(`${command}: one NAME only, got ${positionals.join(' ')}`);
  return {
    kind: 'action',
    name: positionals[0]!,
    connection: connectionOf(values as Values),
    action: actionOf(command, values as Values, env, now),
  };
}

/** kubectl's connection flags, each with kubectl's meaning. */
function connectionOf(values: Values): Connection {
  const connection: Connection = {};
  const names = {
    kubeconfig: 'kubeconfig',
    context: 'context',
    cluster: 'cluster',
    user: 'user',
    server: 'server',
    token: 'token',
    as: 'impersonate',
    namespace: 'namespace',
  } as const;
  for (const [flag, key] of Object.entries(names) as [
    keyof typeof names,
    (typeof names)[keyof typeof names],
  ][]) {
    const value = values[flag];
    if (value === '') throw new UsageError(`--${flag} must not be empty`);
    if (typeof value === 'string') connection[key] = value;
  }
  const groups = values['as-group'];
  if (Array.isArray(groups)) {
    if (groups.includes('')) throw new UsageError('--as-group must not be empty');
    if (connection.impersonate === undefined) throw new UsageError('--as-group needs --as');
    connection.impersonateGroups = groups;
  }
  if (values['insecure-skip-tls-verify'] === true) connection.insecureSkipTlsVerify = true;
  const timeout = values['request-timeout'];
  // kubectl's 0 means no limit; a bare number is seconds.
  if (typeof timeout === 'string')
    connection.requestTimeoutMs = timeout === '0' ? 0 : durationMs('--request-timeout', timeout);
  return connection;
}
