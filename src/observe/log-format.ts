// `--log-format`, without loading pino (the command line checks it before the operator starts).

/** `auto` is `text` when the logs go to a terminal and `json` otherwise (pods, pipes, files). */
export const LOG_FORMATS = ['auto', 'json', 'text'] as const;
export type LogFormat = (typeof LOG_FORMATS)[number];

export function isLogFormat(value: string): value is LogFormat {
  return (LOG_FORMATS as readonly string[]).includes(value);
}
