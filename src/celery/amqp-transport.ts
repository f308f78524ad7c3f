// Publishing over AMQP 0-9-1 (RabbitMQ) the way Celery does: the default exchange with the queue as routing key
// (or the given exchange), the protocol headers as application_headers, the JSON body as it is.
// A publish counts only when the broker confirms it. Nothing is declared, so nothing can fail with
// PRECONDITION_FAILED against the arguments the workers declared; instead every publish is `mandatory`, and a
// message the broker cannot route (no such queue or binding) comes back and is reported as not delivered.
import { type ChannelModel, type ConfirmChannel, connect, type Message } from 'amqplib';
import type { Broker, OutgoingMessage, PublishOutcome, TaskMessage } from '../contracts.ts';
import { redactUrl } from '../observe/redact-url.ts';
import { amqpConnectArgs } from './amqp-tls.ts';
import type { BrokerOptions } from './broker-options.ts';
import { checkTaskMessage } from './message-check.ts';
import { PIDBOX_EXCHANGE, revokeCommand } from './remote-control.ts';

/** The amqplib publish options of a message: Celery's properties, mandatory so unroutable messages return. */
export function amqpPublishOptions(message: TaskMessage) {
  const p = message.properties;
  return {
    contentType: message.contentType,
    contentEncoding: message.contentEncoding,
    headers: message.headers,
    deliveryMode: p.delivery_mode,
    priority: p.priority,
    correlationId: p.correlation_id,
    replyTo: p.reply_to,
    ...(p.expiration === undefined ? {} : { expiration: p.expiration }),
    mandatory: true,
  };
}

/**
 * One confirm channel per exchange. RabbitMQ closes a channel when a message names an exchange that does not
 * exist (404), and every message on that channel still waiting for its confirm is then lost to the caller,
 * although the broker may have delivered it. With one channel per exchange that close only touches messages
 * for the missing exchange; the default exchange's channel never sees a 404 (unroutable messages come back).
 */
interface Lane {
  channel: ConfirmChannel;
  /** correlation ids of messages the broker returned as unroutable, with the broker's reason. */
  returned: Map<string, string>;
  /** Why the channel closed, when it did. */
  closedBy?: Error;
}

interface Connected {
  model: ChannelModel;
  lanes: Map<string, Promise<Lane>>;
  closedBy?: Error;
}

function returnReason(msg: Message): string {
  const f = msg.fields as unknown as {
    replyCode?: number;
    replyText?: string;
    exchange?: string;
    routingKey?: string;
  };
  const where = f.exchange ? `exchange ${JSON.stringify(f.exchange)}` : 'the default exchange';
  return `${f.replyCode ?? ''} ${f.replyText ?? 'returned'}: no queue is bound on ${where} for routing key ${JSON.stringify(f.routingKey ?? '')}`;
}

/** amqplib's words for a channel RabbitMQ closed with an error of its own (404, 403, 406). */
const CLOSED_BY_SERVER = 'Channel closed by server';

/** A Broker over RabbitMQ. It connects on first use and again on the first publish after a broker restart. */
export function createAmqpBroker(url: string, opts: BrokerOptions = {}): Broker {
  const safeUrl = redactUrl(url);
  const timeout = opts.connectTimeoutMs ?? 5000;
  const confirmTimeout = opts.publishTimeoutMs ?? 10_000;
  // Read now: a CA or certificate file that is missing fails at start, not at the first run.
  const target = amqpConnectArgs(url, opts.tls);
  let current: Connected | undefined;
  let connecting: Promise<Connected> | undefined;
  let closed = false;

  async function open(): Promise<Connected> {
    const model = await connect(target.url, { timeout, ...target.tls });
    const state: Connected = { model, lanes: new Map() };
    const drop = (err?: Error): void => {
      state.closedBy ??= err;
      if (current === state) current = undefined;
    };
    model.on('error', (err: Error) => drop(err));
    model.on('close', (err?: Error) => drop(err ?? new Error('connection closed')));
    return state;
  }

  async function openLane(c: Connected, exchange: string): Promise<Lane> {
    const channel = await c.model.createConfirmChannel();
    const lane: Lane = { channel, returned: new Map() };
    const drop = (err: Error): void => {
      lane.closedBy ??= err;
      c.lanes.delete(exchange);
    };
    channel.on('error', (err: Error) => drop(err));
    channel.on('close', () => drop(new Error('channel closed')));
    channel.on('return', (msg: Message) => {
      lane.returned.set(String(msg.properties.correlationId ?? ''), returnReason(msg));
    });
    return lane;
  }

  function lane(c: Connected, exchange: string): Promise<Lane> {
    let found = c.lanes.get(exchange);
    if (!found) {
      found = openLane(c, exchange);
      c.lanes.set(exchange, found);
      found.catch(() => c.lanes.delete(exchange));
    }
    return found;
  }

  function connection(): Promise<Connected> {
    if (closed) return Promise.reject(new Error(`RabbitMQ broker ${safeUrl} is closed`));
    if (current) return Promise.resolve(current);
    connecting ??= open()
      .then((c) => {
        current = c;
        return c;
      })
      .finally(() => {
        connecting = undefined;
      });
    return connecting;
  }

  /** Publishes one message; `settle` is called exactly once with its outcome (later calls are ignored). */
  function publishOne(
    l: Lane,
    message: TaskMessage,
    options: OutgoingMessage['options'],
    settle: (outcome: PublishOutcome) => void,
  ): void {
    const exchange = options.exchange ?? '';
    const routingKey = exchange === '' ? options.queue : options.routingKey || options.queue;
    const id = message.properties.correlation_id;
    const onConfirm = (err: unknown): void => {
      const returned = l.returned.get(id);
      l.returned.delete(id);
      if (err) {
        // A nack, or the channel closed by RabbitMQ for a message of this lane (a missing exchange), is a
        // refusal; a channel lost with its connection after the message was written may have delivered it.
        const lost = l.closedBy !== undefined && !l.closedBy.message.startsWith(CLOSED_BY_SERVER);
        settle(notConfirmed(l.closedBy ? l.closedBy.message : String((err as Error).message ?? err), lost));
      } else if (returned !== undefined) {
        settle({
          ok: false,
          error: new Error(`RabbitMQ broker ${safeUrl} could not route the message: ${returned}`),
        });
      } else {
        settle({ ok: true });
      }
    };
    try {
      l.channel.publish(
        exchange,
        routingKey,
        Buffer.from(message.body, 'utf8'),
        amqpPublishOptions(message),
        onConfirm,
      );
    } catch (err) {
      // amqplib throws at once when the channel closed between lane() and here.
      settle(notConfirmed((err as Error).message));
    }
  }

  /** `unknown`: the message was written, so the broker may still deliver it. */
  function notConfirmed(cause: string, unknown = false): PublishOutcome {
    const error = new Error(`RabbitMQ broker ${safeUrl} did not confirm the message: ${cause}`);
    return unknown ? { ok: false, error, unknown } : { ok: false, error };
  }

  async function publish(messages: readonly OutgoingMessage[]): Promise<PublishOutcome[]> {
    if (messages.length === 0) return [];
    let c: Connected;
    try {
      c = await connection();
    } catch (err) {
      const error = new Error(`RabbitMQ broker ${safeUrl} is not reachable: ${(err as Error).message}`);
      return messages.map(() => ({ ok: false, error }));
    }
    const now = Date.now();
    const outcomes: (PublishOutcome | undefined)[] = new Array(messages.length);
    let open = messages.length;
    let finish: () => void = () => undefined;
    const done = new Promise<void>((resolve) => {
      finish = resolve;
    });
    const settler = (i: number) => (outcome: PublishOutcome) => {
      if (outcomes[i] !== undefined) return;
      outcomes[i] = outcome;
      if (--open === 0) finish();
    };
    // One timer for the batch: a confirm that never comes (a publisher blocked by a resource alarm) must not
    // stall the caller.
    const timer = setTimeout(() => {
      for (let i = 0; i < messages.length; i++) {
        settler(i)(
          notConfirmed(`no confirm within ${confirmTimeout} ms (the broker may still deliver it)`, true),
        );
      }
    }, confirmTimeout);
    const byExchange = new Map<string, number[]>();
    for (let i = 0; i < messages.length; i++) {
      const { message, options } = messages[i] as OutgoingMessage;
      try {
        checkTaskMessage(message, now);
      } catch (err) {
        settler(i)({ ok: false, error: err as Error });
        continue;
      }
      const exchange = options.exchange ?? '';
      const group = byExchange.get(exchange) ?? [];
      group.push(i);
      byExchange.set(exchange, group);
    }
    await Promise.all(
      [...byExchange].map(async ([exchange, indexes]) => {
        let l: Lane;
        try {
          l = await lane(c, exchange);
        } catch (err) {
          const outcome = notConfirmed(`cannot open a channel: ${(err as Error).message}`);
          for (const i of indexes) settler(i)(outcome);
          return;
        }
        for (const i of indexes) {
          const { message, options } = messages[i] as OutgoingMessage;
          publishOne(l, message, options, settler(i));
        }
      }),
    );
    await done;
    clearTimeout(timer);
    return outcomes as PublishOutcome[];
  }

  async function revoke(taskIds: readonly string[]): Promise<void> {
    if (taskIds.length === 0) return;
    const c = await connection();
    const channel = await c.model.createConfirmChannel();
    channel.on('error', () => undefined);
    try {
      // Checked, never declared: a worker declares it with its own arguments, and when there is none
      // (404) no run can be going on to revoke.
      await channel.checkExchange(PIDBOX_EXCHANGE);
    } catch {
      return;
    }
    const command = revokeCommand(taskIds);
    channel.publish(PIDBOX_EXCHANGE, '', Buffer.from(command.body, 'utf8'), {
      contentType: 'application/json',
      contentEncoding: 'utf-8',
      headers: command.headers,
      deliveryMode: 2,
    });
    await channel.waitForConfirms();
    await channel.close().catch(() => undefined);
  }

  return {
    url: safeUrl,
    publish,
    revoke,
    async close() {
      closed = true;
      const c = current ?? (await connecting?.catch(() => undefined));
      current = undefined;
      if (c) await c.model.close().catch(() => undefined);
    },
  };
}
