// The ledger as text: one table (fault type × class), the forbidden findings one per line, and the line that
// replays the run.
import type { Fault } from './history.ts';
import { ALLOWED_CLASSES, FORBIDDEN_CLASSES, type Ledger, type SlotClass } from './ledger.ts';

/** Findings shown per class; the run's directory keeps the whole history. */
const MAX_PER_CLASS = 10;

export function forbiddenCount(ledger: Ledger): number {
  return ledger.findings.length;
}

/** The table alone: a row per fault type (how many were injected, then each class's slots) and the totals. */
export function ledgerTable(ledger: Ledger, faults: readonly Fault[] = []): string[] {
  const classes: SlotClass[] = [...ALLOWED_CLASSES, ...FORBIDDEN_CLASSES].filter((cls) =>
    [...ledger.table.values()].some((row) => (row.get(cls) ?? 0) > 0),
  );
  // Every injected type has a row, even one no slot was attributed to.
  const types = [...new Set([...ledger.table.keys(), ...faults.map((f) => f.type)])].sort((a, b) =>
    a === 'none' ? -1 : b === 'none' ? 1 : a.localeCompare(b),
  );
  const injected = (type: string): string =>
    type === 'none' ? '' : String(faults.filter((f) => f.type === type).length);
  const header = [
    'fault',
    ...(faults.length > 0 ? ['injected'] : []),
    ...classes.map((c) => ((FORBIDDEN_CLASSES as readonly string[]).includes(c) ? `${c} (!)` : c)),
  ];
  const rows = types.map((f) => [
    f,
    ...(faults.length > 0 ? [injected(f)] : []),
    ...classes.map((c) => String(ledger.table.get(f)?.get(c) ?? 0)),
  ]);
  const totals = [
    'all',
    ...(faults.length > 0 ? [String(faults.length)] : []),
    ...classes.map((c) => String(types.reduce((n, f) => n + (ledger.table.get(f)?.get(c) ?? 0), 0))),
  ];
  const lines = [`| ${header.join(' | ')} |`, `| ${header.map(() => '---').join(' | ')} |`];
  for (const row of [...rows, totals]) lines.push(`| ${row.join(' | ')} |`);
  return lines;
}

export function formatLedger(ledger: Ledger, replay: string, faults: readonly Fault[] = []): string {
  const out = [
    `soak seed ${ledger.seed}: ${ledger.slotsChecked} slots checked`,
    ...ledgerTable(ledger, faults),
  ];
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
