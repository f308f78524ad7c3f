// The long run's figures in the README's reliability section, written by the run itself between two markers, so
// that what the README shows is what a run printed.
import { readFileSync, writeFileSync } from 'node:fs';
import { cpus, totalmem } from 'node:os';
import type { Fault } from './history.ts';
import type { Ledger } from './ledger.ts';
import { ledgerTable } from './report.ts';

const BEGIN = '<!-- soak-results -->';
const END = '<!-- /soak-results -->';

export interface RunFacts {
  ledger: Ledger;
  faults: readonly Fault[];
  command: string;
  startedAt: Date;
  minutes: number;
  tasks: number;
}

export function soakSection(facts: RunFacts): string {
  const { ledger, faults } = facts;
  const day = facts.startedAt.toISOString().slice(0, 10);
  const machine = `${cpus().length} cores, ${Math.round(totalmem() / 2 ** 30)} GiB`;
  const verdict =
    ledger.findings.length === 0
      ? 'no slot in a forbidden class'
      : `${ledger.findings.length} forbidden finding(s)`;
  return [
    `Run on ${day} (${machine}) with \`${facts.command}\`: ${facts.tasks} PeriodicTasks, ${faults.length} faults ` +
      `over ${facts.minutes} minutes, ${ledger.slotsChecked.toLocaleString('en-US')} slots checked, ${verdict}. ` +
      'Slots per class, by the fault around them (classes marked (!) are forbidden):',
    '',
    ...ledgerTable(ledger, faults),
  ].join('\n');
}

/** Replaces what lies between the markers of `path`; a file without them is an error, never appended to. */
export function writeSoakSection(path: string, section: string): void {
  const text = readFileSync(path, 'utf8');
  const begin = text.indexOf(BEGIN);
  const end = text.indexOf(END);
  if (begin < 0 || end < begin) throw new Error(`${path} has no ${BEGIN} … ${END} section to write into`);
  writeFileSync(path, `${text.slice(0, begin + BEGIN.length)}\n${section}\n${text.slice(end)}`);
}
