// checkFlags: one clear line naming the flag for every mistake on a command line.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { checkFlags, UsageError } from '../../../src/cli/flag-check.ts';

const OPTIONS = {
  count: { type: 'string', short: 'n' },
  help: { type: 'boolean', short: 'h' },
} as const;

function messageOf(argv: string[], allowPositionals = true): string | undefined {
  try {
    checkFlags(argv, OPTIONS, allowPositionals);
    return undefined;
  } catch (error) {
    assert.ok(error instanceof UsageError);
    return error.message;
  }
}

test('valid command lines pass', () => {
  assert.equal(messageOf(['a.yaml', '--count', '3', '-h', '--count=-1', '-n', '2', '--', '--x']), undefined);
});

test('an unknown flag is named, long or short, even when it looks like an Object property', () => {
  assert.equal(messageOf(['--foo', 'a.yaml']), 'unknown flag --foo (see --help)');
  assert.equal(messageOf(['-x']), 'unknown flag -x (see --help)');
  assert.equal(messageOf(['--constructor']), 'unknown flag --constructor (see --help)');
  assert.equal(messageOf(['--foo=1']), 'unknown flag --foo (see --help)');
});

test('a flag without its value, a value for a switch, a positional where none is allowed', () => {
  assert.equal(messageOf(['a.yaml', '--count']), 'flag --count needs a value (see --help)');
  assert.equal(
    messageOf(['--count', '--help']),
    'flag --count needs a value, got the flag --help (write --count=--help if it is the value)',
  );
  assert.equal(messageOf(['--help=yes']), 'flag --help takes no value, got "yes"');
  assert.equal(messageOf(['extra'], false), 'unexpected argument "extra" (see --help)');
});
