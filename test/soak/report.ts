// The ledger as text: one table (fault type × class), the forbidden findings one per line, and the line that
// replays the run.
import { ALLOWED_CLASSES, FORBIDDEN_CLASSES, type Ledger, type SlotClass } from './ledger.ts';

/** Findings shown per class; the run's directory keeps the whole history. */
const MAX_PER_CLASS = 10;

export function forbiddenCount(ledger: Ledger): number {
  return ledger.findings.length;
}

export function formatLedger(ledger: Ledger, replay: string): string {
  const classes: SlotClass[] = [...ALLOWED_CLASSES, ...FORBIDDEN_CLASSES].filter((cls) =>
    [...ledger.table.values()].some((row) => (row.get(cls) ?? 0) > 0),
  );
  const faults = [...ledger.table.keys()].sort((a, b) =>
    a === 'none' ? -1 : b === 'none' ? 1 : a.localeCompare(b),
  );
  const header = [
    'fault',
    ...classes.map((c) => ((FORBIDDEN_CLASSES as readonly string[]).includes(c) ? `${c} (!)` : c)),
  ];
  const rows = faults.map((f) => [f, ...classes.map((c) => String(ledger.table.get(f)?.get(c) ?? 0))]);
  const totals = [
    'all',
    ...classes.map((c) => String(faults.reduce((n, f) => n + (ledger.table.get(f)?.get(c) ?? 0), 0))),
  ];
  const lines = [`| ${header.join(' | ')} |`, `| ${header.map(() => '---').join(' | ')} |`];
  for (const row of [...rows, totals]) lines.push(`| ${row.join(' | ')} |`);
  const out = [`soak seed ${ledger.seed}: ${ledger.slotsChecked} slots checked`, ...lines];
  if (ledger.findings.length === 0) {
    out.push('no forbidden class');
  } else {
    out.push(`${ledger.findings.length} forbidden finding(s) (seed ${ledger.seed}; replay: ${replay}):`);
    for (const cls of FORBIDDEN_CLASSES) {
      const found = ledger.findings.filter((f) => f.class === cls);
      for (const f of found.slice(0, MAX_PER_CLASS))
        out.push(`  ${f.class}: ${f.task} ${f.detail} [fault: ${f.fault}]`);
      if (found.length > MAX_PER_CLASS) out.push(`  … ${found.length - MAX_PER_CLASS} more of ${cls}`);
    }
  }
  return out.join('\n');
}
