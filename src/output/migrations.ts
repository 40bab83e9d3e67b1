/** How a half-applied migration is named for people: `statement 1 of 3 done`. */
import type { PendingMigration } from '../migrations/migrator.js';

export function statementsDone(m: Pick<PendingMigration, 'statementsDone' | 'statements'>): string {
  const of = m.statements !== null ? ` of ${m.statements}` : '';
  return m.statementsDone === 1 ? `statement 1${of} done` : `statements 1-${m.statementsDone}${of} done`;
}
