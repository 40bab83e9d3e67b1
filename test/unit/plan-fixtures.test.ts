import { readdirSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { ExitCode, PlanError } from '../../src/errors.js';
import { loadPlan } from '../../src/plan/loader.js';
import { fixtureEnv, invalidCases, validCases } from '../fixtures/plans/cases.js';

const root = path.join(path.dirname(fileURLToPath(import.meta.url)), '../fixtures/plans');
const invalidDir = path.join(root, 'invalid');

async function loadError(file: string): Promise<PlanError> {
  const error = await loadPlan(file, { env: {} }).then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error, `${file} should be rejected`).toBeInstanceOf(PlanError);
  return error as PlanError;
}

describe('invalid plan fixtures', () => {
  it('has a case for every fixture and a fixture for every case', () => {
    const files = readdirSync(invalidDir).map((f) => f.replace(/\.yaml$/, ''));
    const named = invalidCases.map((c) => c.name).filter((n) => n !== 'does-not-exist');
    expect(files.sort()).toEqual([...named].sort());
    expect(files.length).toBeGreaterThanOrEqual(45);
  });

  it.each(invalidCases)('$name → $line:$col $path', async (c) => {
    const file = path.join(invalidDir, `${c.name}.yaml`);
    const error = await loadError(file);
    expect(error.code).toBe('PLAN_INVALID');
    expect(error.exitCode).toBe(ExitCode.invalidInput);
    expect(error.hint).toBeTruthy();
    const first = error.issues[0]!;
    expect(first.file).toBe(file);
    expect(first.line).toBe(c.line);
    expect(first.col).toBe(c.col);
    expect(first.path).toBe(c.path);
    expect(first.message).toContain(c.message);
    // The summary message carries the position the user needs.
    if (c.line !== undefined) expect(error.message).toContain(`${file}:${c.line}:${c.col}`);
  });

  it('reports every tab-indented line, not just the first', async () => {
    const error = await loadError(path.join(invalidDir, 'tab-indent.yaml'));
    expect(error.issues.map((i) => i.line)).toEqual([4, 5, 6, 7]);
  });

  it('does not also report a key as missing when an unknown key is its typo', async () => {
    const error = await loadError(path.join(invalidDir, 'unknown-key-top.yaml'));
    expect(error.issues).toHaveLength(1);
  });

  it('never echoes a secret that failed validation in a position-free way', async () => {
    const error = await loadError(path.join(invalidDir, 'missing-env-var.yaml'));
    expect(error.hint).toContain('environment');
  });
});

describe('valid plan fixtures', () => {
  it.each(validCases)('$name loads', async ({ name, planName }) => {
    const loaded = await loadPlan(path.join(root, 'valid', `${name}.yaml`), { env: fixtureEnv });
    expect(loaded.plan.name).toBe(planName);
    expect(loaded.dir).toBe(path.join(root, 'valid'));
  });

  it('fills ${VAR} from the environment and turns $$ into $', async () => {
    const { plan } = await loadPlan(path.join(root, 'valid', 'full.yaml'), { env: fixtureEnv });
    expect(plan.database.url).toBe(fixtureEnv.MAINT_FIXTURE_DB_URL);
    expect(plan.checks[1]!.name).toBe('prices are in $');
    expect(plan.window.duration).toBe(6 * 3_600_000);
    expect(plan.window.notice).toBe(48 * 3_600_000);
    expect(plan.migrations.lockTimeout).toBe(2000);
    const hook = plan.notify.channels[0]!;
    expect(hook.type === 'webhook' && hook.secret).toBe(fixtureEnv.MAINT_FIXTURE_HOOK_SECRET);
  });

  it('applies the documented defaults', async () => {
    const { plan } = await loadPlan(path.join(root, 'valid', 'minimal.yaml'), { env: {} });
    expect(plan.window.notice).toBe(24 * 3_600_000);
    expect(plan.migrations).toEqual({
      dir: './migrations',
      lockTimeout: 2000,
      retries: 10,
      table: 'maint_migrations',
    });
    expect(plan.strategy).toBe('in-place');
    expect(plan.post.analyze).toBe(false);
    expect(plan.checks).toEqual([]);
    expect(plan.notify.channels).toEqual([]);
  });
});
