// `celerybeat-operator run`: the flags are checked before the operator's modules (Kubernetes client, Redis,
// AMQP, metrics) are loaded, so `--help` and a bad flag answer at once.
import { ConfigError, parseRunConfig, type RunConfig, runUsage } from './run-config.ts';

export async function runRunCommand(argv: string[]): Promise<number> {
  let config: RunConfig | 'help';
  try {
    config = parseRunConfig(argv, process.env);
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    process.stderr.write(`celerybeat-operator run: ${error.message}\n`);
    return 2;
  }
  if (config === 'help') {
    process.stdout.write(runUsage());
    return 0;
  }
  return (await import('./run.ts')).runOperatorCommand(config);
}
