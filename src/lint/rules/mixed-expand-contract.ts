import type { FileRule } from '../types.js';

export const mixedExpandContract = {
  dialect: 'any',
  summary:
    'A migration that mixes expand and contract operations cannot run before or after the fleet roll as a whole.',
  severity: 'error',
  classification: 'contract',
  sizeAware: false,
  squawk: null,
  check({ statements, report }) {
    const contract = statements.find((s) => s.classification === 'contract');
    const expand = statements.some((s) => s.classification === 'expand');
    if (!contract || !expand) return;
    report({
      at: contract.start,
      message:
        'this migration both expands (adds what the new release needs) and contracts (removes what the old release uses): the expand part must run before the fleet rolls, the contract part after',
      hint: 'Split it: the expand statements in one migration, the contract ones (from here) in a later one that maint runs once the fleet serves the new release.',
    });
  },
} satisfies FileRule;
