// Placeholder until the "next" command lands.
export async function runNextCommand(_argv: string[]): Promise<number> {
  process.stderr.write('celerybeat-operator: the "next" command is not available yet\n');
  return 1;
}
