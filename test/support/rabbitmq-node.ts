// A RabbitMQ node of a test's own (own node name, ports, config, data and cookie), beside the machine's RabbitMQ on
// 5672, which keeps running for the other tests: for what would disturb them (a TLS-only listener, a resource
// alarm). The node runs as the user running the tests, with its home (and so its Erlang cookie) in its directory.
import { execFile } from 'node:child_process';
import { chmodSync, mkdirSync, writeFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { freePort, waitUntil } from './ports.ts';
import { type ManagedProcess, startProcess, tail } from './process.ts';

const RABBITMQ_BIN = '/usr/lib/rabbitmq/bin';
const run = promisify(execFile);

export interface RabbitMqNode {
  /** The AMQP (or AMQPS) port. */
  readonly port: number;
  /** The node's own directory: its config, data, logs and cookie, and files a caller put there. */
  readonly dir: string;
  /** Runs rabbitmqctl against this node and gives its output. */
  ctl(args: readonly string[]): Promise<string>;
  stop(): Promise<void>;
}

export interface RabbitMqNodeOptions {
  /** What the node is for, in its process name and errors. */
  label: string;
  /** rabbitmq.conf, given the node's directory and its AMQP port. */
  config(dir: string, port: number): string[];
  /** True once the node serves clients as the test needs (asked after "Server startup complete"). */
  accepts(node: RabbitMqNode): Promise<boolean>;
}

export async function startRabbitMqNode(options: RabbitMqNodeOptions): Promise<RabbitMqNode> {
  const dir = await mkdtemp(join(tmpdir(), `celerybeat-rabbitmq-${options.label}-`));
  // The node may run as another user than the tests (the service account): it must read its own files.
  chmodSync(dir, 0o755);
  const [port, distPort] = [await freePort(), await freePort()];
  const nodeName = `celerybeat-${options.label}-${process.pid}@localhost`;
  mkdirSync(join(dir, 'mnesia'));
  mkdirSync(join(dir, 'log'));
  writeFileSync(join(dir, 'rabbitmq.conf'), [...options.config(dir, port), ''].join('\n'));
  writeFileSync(join(dir, 'enabled_plugins'), '[].\n');
  writeFileSync(join(dir, 'rabbitmq-env.conf'), '');
  const env = {
    ...process.env,
    HOME: dir,
    RABBITMQ_NODENAME: nodeName,
    RABBITMQ_DIST_PORT: String(distPort),
    RABBITMQ_CONFIG_FILE: join(dir, 'rabbitmq.conf'),
    RABBITMQ_CONF_ENV_FILE: join(dir, 'rabbitmq-env.conf'),
    RABBITMQ_ADVANCED_CONFIG_FILE: join(dir, 'advanced.config'),
    RABBITMQ_ENABLED_PLUGINS_FILE: join(dir, 'enabled_plugins'),
    RABBITMQ_MNESIA_BASE: join(dir, 'mnesia'),
    RABBITMQ_LOG_BASE: join(dir, 'log'),
    RABBITMQ_LOGS: '-',
    RABBITMQ_PID_FILE: join(dir, 'rabbitmq.pid'),
    ERL_EPMD_ADDRESS: '127.0.0.1',
    ERL_FLAGS: '-kernel inet_dist_use_interface {127,0,0,1}',
  };
  const proc: ManagedProcess = startProcess(
    `rabbitmq-server (${options.label})`,
    join(RABBITMQ_BIN, 'rabbitmq-server'),
    [],
    {
      cwd: dir,
      env,
    },
  );
  const node: RabbitMqNode = {
    port,
    dir,
    async ctl(args) {
      const { stdout } = await run(join(RABBITMQ_BIN, 'rabbitmqctl'), ['-n', nodeName, ...args], {
        env,
        timeout: 60_000,
      });
      return stdout;
    },
    async stop() {
      await proc.stop(15_000);
      await rm(dir, { recursive: true, force: true });
    },
  };
  try {
    await waitUntil(
      `RabbitMQ node ${options.label} on port ${port}`,
      async () => {
        if (proc.hasExited()) throw new Error(`rabbitmq-server exited:\n${tail(proc.output())}`);
        return proc.output().includes('Server startup complete') && (await options.accepts(node));
      },
      120_000,
      250,
    );
  } catch (error) {
    await node.stop();
    throw error;
  }
  return node;
}
