// Preloaded with `--import` by the start-up tests: records the URL of every module the process resolves and
// writes them, one per line, to the file named by RECORD_MODULES_TO when the process exits.
import { writeFileSync } from 'node:fs';
import { registerHooks } from 'node:module';

const target = process.env.RECORD_MODULES_TO;
const loaded = new Set<string>();

registerHooks({
  resolve(specifier, context, nextResolve) {
    const resolved = nextResolve(specifier, context);
    loaded.add(resolved.url);
    return resolved;
  },
});

process.on('exit', () => {
  if (target) writeFileSync(target, [...loaded].join('\n'));
});
