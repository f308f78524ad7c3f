// Checks a command line against a command's flags before node:util parseArgs reads it, so that a mistake
// gives one line naming the flag rather than parseArgs' own multi-line text.
import { type ParseArgsOptionsConfig, parseArgs } from 'node:util';

/** A command line that does not fit the command's flags; the message names the flag or argument. */
export class UsageError extends Error {}

/** Throws a UsageError for the first unknown flag, flag without its value, or unexpected argument. */
export function checkFlags(
  argv: readonly string[],
  options: ParseArgsOptionsConfig,
  allowPositionals: boolean,
): void {
  const { tokens } = parseArgs({
    args: [...argv],
    options,
    strict: false,
    allowPositionals: true,
    tokens: true,
  });
  for (const token of tokens) {
    if (token.kind === 'positional') {
      if (!allowPositionals)
        throw new UsageError(`unexpected argument ${JSON.stringify(token.value)} (see --help)`);
      continue;
    }
    if (token.kind !== 'option') continue;
    const spec = Object.hasOwn(options, token.name) ? options[token.name] : undefined;
    if (!spec) throw new UsageError(`unknown flag ${token.rawName} (see --help)`);
    if (spec.type === 'boolean') {
      if (token.value !== undefined)
        throw new UsageError(`flag ${token.rawName} takes no value, got ${JSON.stringify(token.value)}`);
      continue;
    }
    if (token.value === undefined) throw new UsageError(`flag ${token.rawName} needs a value (see --help)`);
    // parseArgs takes the next argument as the value even when it looks like a flag: almost always a
    // forgotten value. A value that really starts with "-" can be given as --flag=-value.
    if (!token.inlineValue && token.value.startsWith('-'))
      throw new UsageError(
        `flag ${token.rawName} needs a value, got the flag ${token.value} (write ${token.rawName}=${token.value} if it is the value)`,
      );
  }
}
