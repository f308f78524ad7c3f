// The soak's PeriodicTasks on the API server, and the book of what was declared when: each incarnation (a
// task from its creation to its deletion), its stops (paused, disabled) and the versions of its definition. A
// change is dated so that the ledger errs on the lenient side: a stop or an edit from after the API server took
// it, a resume or a creation from before the request went out.
import { RUN_NOW_ANNOTATION } from '../../src/api/annotations.ts';
import { projectUuid } from '../../src/api/uuid-v5.ts';
import type { ClusterHandle } from '../testbed/cluster.ts';
import type { Incarnation, RunNow, SlotRule, StatusReading, StoredRunState } from './history.ts';
import type { Random } from './random.ts';

export interface TaskPlan {
  name: string;
  spec: Record<string, unknown>;
  rule: SlotRule;
  oneOff: boolean;
  /** Seconds the task body runs. */
  seconds: number;
  initially: 'running' | 'paused' | 'disabled';
}

interface Current {
  plan: TaskPlan;
  incarnation: Incarnation;
  version: number;
  state: 'running' | 'paused' | 'disabled';
}

/** The mix of kinds: mostly short intervals (many slots per minute), and every other kind the ledger can count. */
export function planTasks(random: Random, count: number, now: number, horizonMs: number): TaskPlan[] {
  return Array.from({ length: count }, (_, i) => {
    const roll = random.next();
    const name = `t${i}`;
    // A body that takes a while (so a worker can be killed in the middle of one) only on a slow schedule.
    const slowBody = random.next() < 0.3;
    const interval = (every: number): Pick<TaskPlan, 'spec' | 'rule'> => ({
      spec: { interval: { every, period: 'seconds' } },
      rule: { kind: 'interval', everyMs: every * 1000 },
    });
    const base = { name, seconds: 0, oneOff: false, initially: 'running' as const };
    // Forbid: a slot that comes while the previous run is going on (its result not final) is skipped, counted
    // missed. Its body takes a good part of the interval, so a queue or a worker that falls behind makes overlaps.
    if (i === 1 || roll < 0.01) {
      const every = interval(2);
      return { ...base, ...every, seconds: 1.2, spec: { ...every.spec, concurrencyPolicy: 'Forbid' } };
    }
    if (roll < 0.25) return { ...base, ...interval(1) };
    if (roll < 0.45) return { ...base, ...interval(2) };
    if (roll < 0.6) {
      const every = random.pick([3, 5]);
      return { ...base, ...interval(every), seconds: slowBody ? every / 10 : 0 };
    }
    if (roll < 0.67) {
      const every = interval(4);
      return { ...base, ...every, spec: { ...every.spec, jitterSeconds: 2 } };
    }
    if (roll < 0.74) return { ...base, spec: { crontab: { minute: '*' } }, rule: { kind: 'minutely' } };
    if (roll < 0.8) return { ...base, spec: { cron: '* * * * *' }, rule: { kind: 'minutely' } };
    if (roll < 0.85) {
      const at = Math.ceil((now + random.int(15_000, Math.max(20_000, horizonMs))) / 1000) * 1000;
      return { ...base, spec: { clocked: new Date(at).toISOString() }, rule: { kind: 'clocked', at } };
    }
    if (roll < 0.9)
      return { ...base, ...interval(2), oneOff: true, spec: { ...interval(2).spec, oneOff: true } };
    if (roll < 0.95) return { ...base, ...interval(1), initially: 'paused' };
    return { ...base, ...interval(2), initially: 'disabled' };
  });
}

function manifest(
  namespace: string,
  plan: TaskPlan,
  version: number,
  queue: string,
): Record<string, unknown> {
  return {
    apiVersion: 'celerybeat.io/v1alpha1',
    kind: 'PeriodicTask',
    metadata: { name: plan.name, namespace },
    spec: {
      task: 'tasks.work',
      ...plan.spec,
      args: [version, plan.seconds],
      options: { queue },
      ...(plan.initially === 'paused' ? { pause: { reason: 'soak' } } : {}),
      ...(plan.initially === 'disabled' ? { enabled: false } : {}),
    },
  };
}

interface ListedTask {
  metadata: { name: string; uid: string; generation: number };
  status?: {
    observedGeneration?: number;
    totalRunCount?: number;
    missedRunCount?: number;
    unknownRunCount?: number;
    pausedRunCount?: number;
    lastRunAt?: string;
    conditions?: Array<{ type: string; reason?: string }>;
  };
}

export class TaskBook {
  readonly #cluster: ClusterHandle;
  readonly #namespace: string;
  readonly #queue: string;
  readonly #current = new Map<string, Current>();
  readonly incarnations: Incarnation[] = [];
  readonly runNows: RunNow[] = [];

  constructor(cluster: ClusterHandle, namespace: string, queue: string) {
    this.#cluster = cluster;
    this.#namespace = namespace;
    this.#queue = queue;
  }

  taskKey(name: string): string {
    return `${this.#namespace}/${name}`;
  }

  names(): string[] {
    return [...new Set(this.incarnations.map((i) => i.task.slice(this.#namespace.length + 1)))];
  }

  async createAll(plans: readonly TaskPlan[]): Promise<void> {
    const before = Date.now();
    const items = plans.map((p) => manifest(this.#namespace, p, 1, this.#queue));
    await this.#cluster.kubectl(['create', '-f', '-'], {
      input: JSON.stringify({ apiVersion: 'v1', kind: 'List', items }),
    });
    const uids = new Map((await this.#list()).map((t) => [t.metadata.name, t.metadata.uid]));
    for (const plan of plans) this.#begin(plan, uids.get(plan.name)!, before);
  }

  #begin(plan: TaskPlan, uid: string, at: number): void {
    const incarnation: Incarnation = {
      task: this.taskKey(plan.name),
      uid,
      rule: plan.rule,
      oneOff: plan.oneOff,
      createdAt: at,
      deletedAt: null,
      stops: plan.initially === 'running' ? [] : [{ kind: plan.initially, from: at, to: null }],
      versions: [{ at, version: 1 }],
    };
    this.incarnations.push(incarnation);
    this.#current.set(plan.name, { plan, incarnation, version: 1, state: plan.initially });
  }

  async #patch(name: string, spec: Record<string, unknown>): Promise<void> {
    await this.#cluster.kubectl([
      'patch',
      'pt',
      name,
      '-n',
      this.#namespace,
      '--type',
      'merge',
      '-p',
      JSON.stringify({ spec }),
    ]);
  }

  /**
   * One random change of one live task: a run-now, a new version, a pause or resume, a disable or enable, or
   * delete and re-create.
   */
  async change(random: Random): Promise<string> {
    const live = [...this.#current.values()];
    const task = random.pick(live);
    const { plan, incarnation } = task;
    const roll = random.next();
    // On a running task that goes on running (a completed one-off or clocked task is no longer in the beat).
    if (roll < 0.15 && task.state === 'running' && !plan.oneOff && plan.rule.kind !== 'clocked') {
      const token = `soak-${this.runNows.length + 1}`;
      const at = Date.now();
      await this.#cluster.kubectl([
        'annotate',
        'pt',
        plan.name,
        '-n',
        this.#namespace,
        '--overwrite',
        `${RUN_NOW_ANNOTATION}=${token}`,
      ]);
      const taskId = projectUuid(`${incarnation.task}/${incarnation.uid}/run-now/${token}`);
      this.runNows.push({ task: incarnation.task, uid: incarnation.uid, token, taskId, at });
      return `${plan.name}: run-now ${token}`;
    }
    if (roll < 0.45) {
      task.version += 1;
      await this.#patch(plan.name, { args: [task.version, plan.seconds] });
      incarnation.versions.push({ at: Date.now(), version: task.version });
      return `${plan.name}: version ${task.version}`;
    }
    if (roll < 0.6 && task.state !== 'disabled') {
      const pause = task.state === 'paused';
      const before = Date.now();
      await this.#patch(plan.name, { pause: pause ? null : { reason: 'soak burst' } });
      this.#toggle(task, 'paused', before, Date.now());
      return `${plan.name}: ${pause ? 'resumed' : 'paused'}`;
    }
    if (roll < 0.8 && task.state !== 'paused') {
      const disabled = task.state === 'disabled';
      const before = Date.now();
      await this.#patch(plan.name, { enabled: disabled });
      this.#toggle(task, 'disabled', before, Date.now());
      return `${plan.name}: ${disabled ? 'enabled' : 'disabled'}`;
    }
    await this.#cluster.kubectl(['delete', 'pt', plan.name, '-n', this.#namespace]);
    incarnation.deletedAt = Date.now();
    for (const stop of incarnation.stops) if (stop.to === null) stop.to = incarnation.deletedAt;
    const fresh: TaskPlan = { ...plan, initially: 'running' };
    const before = Date.now();
    const uid = await this.#cluster.kubectl(['create', '-f', '-', '-o', 'jsonpath={.metadata.uid}'], {
      input: JSON.stringify(manifest(this.#namespace, fresh, 1, this.#queue)),
    });
    this.#begin(fresh, uid.trim(), before);
    return `${plan.name}: deleted and re-created`;
  }

  /** Pauses every live task that is running (four requests at a time): from then on nothing may run. */
  async pauseAll(): Promise<void> {
    const running = [...this.#current.values()].filter((t) => t.state === 'running');
    const next = async (): Promise<void> => {
      for (let task = running.shift(); task !== undefined; task = running.shift()) {
        const before = Date.now();
        await this.#patch(task.plan.name, { pause: { reason: 'soak ends' } });
        this.#toggle(task, 'paused', before, Date.now());
      }
    };
    await Promise.all([next(), next(), next(), next()]);
  }

  #toggle(task: Current, kind: 'paused' | 'disabled', before: number, after: number): void {
    const open = task.incarnation.stops.find((s) => s.kind === kind && s.to === null);
    if (open) {
      open.to = before;
      task.state = 'running';
    } else {
      task.incarnation.stops.push({ kind, from: after, to: null });
      task.state = kind;
    }
  }

  async #list(): Promise<ListedTask[]> {
    const list = JSON.parse(
      await this.#cluster.kubectl(['get', 'pt', '-n', this.#namespace, '-o', 'json']),
    ) as {
      items: ListedTask[];
    };
    return list.items;
  }

  /** Every live task's status beside what its spec and its last run state call for. */
  async statusReadings(
    lastState: (task: string, uid: string) => StoredRunState | undefined,
  ): Promise<StatusReading[]> {
    const listed = new Map((await this.#list()).map((t) => [t.metadata.name, t]));
    return [...this.#current.values()].map(({ plan, incarnation, state }) => {
      const item = listed.get(plan.name);
      const status = item?.status;
      const stored = lastState(incarnation.task, incarnation.uid);
      const completed =
        stored !== undefined &&
        (((plan.oneOff || plan.rule.kind === 'clocked') && stored.total > 0) ||
          (plan.rule.kind === 'clocked' && stored.cursor >= plan.rule.at));
      // The operator's order: disabled, then completed, then paused.
      const expectedReason =
        state === 'disabled'
          ? 'Disabled'
          : completed
            ? 'Completed'
            : state === 'paused'
              ? 'Paused'
              : 'Scheduled';
      return {
        task: incarnation.task,
        uid: incarnation.uid,
        generation: item?.metadata.generation ?? 0,
        observedGeneration: status?.observedGeneration ?? null,
        readyReason: status?.conditions?.find((c) => c.type === 'Ready')?.reason ?? null,
        expectedReason,
        totalRunCount: status?.totalRunCount ?? 0,
        missedRunCount: status?.missedRunCount ?? 0,
        unknownRunCount: status?.unknownRunCount ?? 0,
        pausedRunCount: status?.pausedRunCount ?? 0,
        lastRunAt: status?.lastRunAt === undefined ? null : Date.parse(status.lastRunAt),
      };
    });
  }
}
