// Structural comparison of task messages with captured ones: ids and clock-derived values differ on every
// run, so they are replaced by placeholders (a value that is present stays distinguishable from null).
export const ID_FIELDS = ['id', 'root_id', 'correlation_id', 'delivery_tag', 'reply_to', 'origin'];
export const CLOCK_FIELDS = ['eta', 'expires', 'expiration', 'periodic_task_scheduled_at'];

export function stripVolatile(record: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = { ...record };
  for (const f of ID_FIELDS) if (typeof out[f] === 'string') out[f] = '<id>';
  for (const f of CLOCK_FIELDS) if (typeof out[f] === 'string') out[f] = '<time>';
  return out;
}

export interface RedisShape {
  contentType: unknown;
  contentEncoding: unknown;
  headers: Record<string, unknown>;
  properties: Record<string, unknown>;
  body: unknown;
}

/** A kombu Redis envelope with its body decoded and its volatile values replaced. */
export function redisShape(envelopeText: string): RedisShape {
  const env = JSON.parse(envelopeText) as Record<string, unknown>;
  const properties = env.properties as Record<string, unknown>;
  const body =
    properties.body_encoding === 'base64'
      ? Buffer.from(String(env.body), 'base64').toString('utf8')
      : String(env.body);
  return {
    contentType: env['content-type'],
    contentEncoding: env['content-encoding'],
    headers: stripVolatile(env.headers as Record<string, unknown>),
    properties: stripVolatile(properties),
    body: JSON.parse(body),
  };
}

/** Our headers without the ones Celery's send_task does not add (for comparison with its captures). */
export function withoutOperatorHeaders(
  headers: Record<string, unknown>,
  keep: readonly string[] = [],
): Record<string, unknown> {
  const out = { ...headers };
  for (const h of ['periodic_task_name', 'periodic_task_scheduled_at', 'periodic_task_namespace'])
    if (!keep.includes(h)) delete out[h];
  return out;
}

/** The AMQP messages as read back (py-amqp basic_get names), from amqplib's Message. */
export function amqpShape(properties: Record<string, unknown>, body: string): Record<string, unknown> {
  const p: Record<string, unknown> = { ...properties };
  p.application_headers = stripVolatile(p.application_headers as Record<string, unknown>);
  return { properties: stripVolatile(p), body: JSON.parse(body) };
}
