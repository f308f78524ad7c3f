// Placeholder until the "validate" command lands.
export async function runValidateCommand(_argv: string[]): Promise<number> {
  process.stderr.write('celerybeat-operator: the "validate" command is not available yet\n');
  return 1;
}
