// Placeholder until the "run" command lands.
export async function runRunCommand(_argv: string[]): Promise<number> {
  process.stderr.write('celerybeat-operator: the "run" command is not available yet\n');
  return 1;
}
