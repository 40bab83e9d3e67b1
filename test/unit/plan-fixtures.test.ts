import { readdirSync, readFileSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { ExitCode, PlanError } from '../../src/errors.js';
import { loadPlan } from '../../src/plan/loader.js';
import { clearSecrets, redact } from '../../src/support/redact.js';
import { fixtureEnv, invalidCases, validCases } from '../fixtures/plans/cases.js';

const root = path.join(path.dirname(fileURLToPath(import.meta.url)), '../fixtures/plans');
const invalidDir = path.join(root, 'invalid');

async function loadPlanText(text: string) {
  const dir = await mkdtemp(path.join(tmpdir(), 'maint-plan-ops-'));
  try {
    await writeFile(path.join(dir, 'plan.yaml'), text);
    return await loadPlan(path.join(dir, 'plan.yaml'), { env: {} });
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

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
      // Issue 14: the defaults that keep live queries under 0.5 s and land the DDL soon after a blocker.
      lockTimeout: 400,
      retries: 30,
      table: 'maint_migrations',
      requireWindow: false,
    });
    expect(plan.strategy).toBe('in-place');
    expect(plan.post.analyze).toBe(false);
    expect(plan.checks).toEqual([]);
    expect(plan.notify.channels).toEqual([]);
  });
});

describe('operations', () => {
  afterEach(() => clearSecrets());

  it('fills the defaults of each kind and masks env values', async () => {
    const { plan } = await loadPlan(path.join(root, 'valid', 'operations.yaml'), { env: fixtureEnv });
    expect(plan.operations).toEqual([
      {
        name: 'scram-auth',
        kind: 'sql',
        run: "alter system set password_encryption = 'scram-sha-256'; select pg_reload_conf()",
        rollback: 'alter system reset password_encryption; select pg_reload_conf()',
        transaction: false,
        verify: { sql: 'show password_encryption', expect: 'scram-sha-256' },
        estimate: 60_000,
        when: 'before-migrations',
      },
      {
        name: 'major-upgrade',
        kind: 'command',
        run: './scripts/upgrade.sh',
        timeout: 30 * 60_000,
        env: { UPGRADE_TOKEN: fixtureEnv.MAINT_FIXTURE_UPGRADE_TOKEN },
        when: 'after-migrations',
      },
    ]);
    expect(redact(`token=${fixtureEnv.MAINT_FIXTURE_UPGRADE_TOKEN!} x`)).not.toContain('7c1d');
  });

  it('defaults a command timeout to 10m, an sql transaction to true, and operations to []', async () => {
    const base = readFileSync(path.join(root, 'valid', 'minimal.yaml'), 'utf8');
    const { plan } = await loadPlanText(
      base +
        'operations:\n  - { name: a, kind: sql, run: select 1 }\n  - { name: b, kind: command, run: "true" }\n',
    );
    expect(
      plan.operations.map((o) =>
        o.kind === 'sql' ? o.transaction : o.kind === 'command' ? o.timeout : null,
      ),
    ).toEqual([true, 600_000]);
    expect((await loadPlan(path.join(root, 'valid', 'minimal.yaml'), { env: {} })).plan.operations).toEqual(
      [],
    );
  });
});

describe('plan text written by the test', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'maint-plan-'));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });
  const minimal = () => readFileSync(path.join(root, 'valid', 'minimal.yaml'), 'utf8');

  it('refuses a file over 1 MiB before parsing it', async () => {
    const file = path.join(dir, 'huge.yaml');
    await writeFile(file, minimal() + `# ${'x'.repeat(1024 * 1024)}\n`);
    const error = await loadError(file);
    expect(error.issues[0]!.message).toMatch(/is \d+ bytes; a plan file is at most 1048576 bytes/);
  });

  it('accepts a UTF-8 byte-order mark', async () => {
    const file = path.join(dir, 'bom.yaml');
    await writeFile(file, '\uFEFF' + minimal());
    expect((await loadPlan(file, { env: {} })).plan.name).toBe('orders-v2');
  });

  it('keeps positions right with CRLF line ends', async () => {
    const file = path.join(dir, 'crlf.yaml');
    const text = readFileSync(path.join(invalidDir, 'bad-zone.yaml'), 'utf8').replace(/\n/g, '\r\n');
    await writeFile(file, text);
    const first = (await loadError(file)).issues[0]!;
    expect([first.line, first.col, first.path]).toEqual([4, 13, 'window.timezone']);
  });

  it('reports a missing variable in a list item with its index in the path', async () => {
    const file = path.join(dir, 'env-in-list.yaml');
    await writeFile(
      file,
      minimal() +
        'notify:\n  channels:\n    - type: slack\n      url: https://hooks.slack.com/services/T/B/X\n    - type: slack\n      url: ${MAINT_TEST_NOT_SET}\n',
    );
    const first = (await loadError(file)).issues[0]!;
    expect(first).toMatchObject({ line: 17, col: 12, path: 'notify.channels[1].url' });
    expect(first.message).toContain('MAINT_TEST_NOT_SET');
  });
});
