import { describe, expect, it } from 'vitest';
import { InputError } from '../../src/errors.js';
import { parsePlanText } from '../../src/plan/loader.js';
import { assertSupported } from '../../src/strategies/index.js';

const head = `version: 1
name: s
window: { timezone: UTC, days: [daily], start: "00:00", duration: 2h }
database: { engine: pglite, url: "memory://" }
`;

function codeOf(fn: () => void): string | undefined {
  try {
    fn();
  } catch (error) {
    expect(error).toBeInstanceOf(InputError);
    return (error as InputError).code;
  }
  return undefined;
}

describe('assertSupported', () => {
  it('accepts the in-place strategy without a fleet', () => {
    expect(codeOf(() => assertSupported(parsePlanText(head, 'p.yaml')))).toBeUndefined();
    expect(
      codeOf(() => assertSupported(parsePlanText(`${head}strategy: { kind: in-place }\n`, 'p.yaml'))),
    ).toBeUndefined();
  });

  it('refuses a fleet it would otherwise silently skip', () => {
    const plan = parsePlanText(`${head}fleet: { provider: command, deploy: "./deploy.sh" }\n`, 'p.yaml');
    expect(codeOf(() => assertSupported(plan))).toBe('FLEET_UNSUPPORTED');
  });

  it('refuses clone-freeze until it exists', () => {
    const plan = parsePlanText(
      `${head}strategy: { kind: clone-freeze, clone: { method: template } }\n`,
      'p.yaml',
    );
    expect(codeOf(() => assertSupported(plan))).toBe('STRATEGY_UNSUPPORTED');
  });
});
