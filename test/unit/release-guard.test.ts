/**
 * The expand/contract guard wired to a run (src/core/run/release-guard.ts): the release history
 * built from the journal's runs, and `maint run` over fake ports (a fake fleet, the memory
 * journal, migration files on disk classified by the real parser).
 */
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createCore } from '../../src/core/core.js';
import type { RunRecord } from '../../src/core/journal/journal.js';
import { releaseHistory, releaseSpans } from '../../src/core/run/release-guard.js';
import { renderRunSummary } from '../../src/output/render-run.js';
import type { LoadedPlan } from '../../src/plan/loader.js';
import { PlanSchema } from '../../src/plan/schema.js';
import { FakeClock, collectingSink, fakeFleetPort, fakePorts } from '../helpers/fakes.js';

type Release = { before: string | null; after: string | null; lastMigration: string | null };
const run = (status: string, release: Release | null, appliedBefore?: string | null) => ({
  status,
  state: {
    ...(release ? { release } : {}),
    ...(appliedBefore !== undefined ? { baseline: { appliedBefore, checks: {} } } : {}),
  },
});
const ORDER = ['001_a', '002_b', '003_drop', '004_c', '005_drop2'];

describe('release history from the journal', () => {
  it('lists releases oldest first and gives each the contract migrations run while it alone served', () => {
    // Newest first, as the journal returns them.
    const runs = [
      run('completed', { before: 'v2', after: 'v3', lastMigration: '005_drop2' }, '004_c'),
      run('rolled_back', { before: 'v2', after: 'v2', lastMigration: '004_c' }, '003_drop'),
      run('completed', { before: 'v2', after: 'v2', lastMigration: '003_drop' }, '002_b'),
      run('completed', { before: 'v1', after: 'v2', lastMigration: '002_b' }, '001_a'),
      run('completed', null),
    ];
    const spans = releaseSpans(runs, ORDER);
    // The rolled-back run and the run without a release record are not in the history.
    expect(spans.map((s) => s.applied)).toEqual([['002_b'], ['003_drop'], ['005_drop2']]);
    expect(releaseHistory(spans, new Set(['003_drop', '005_drop2']))).toEqual([
      { release: 'v1', lastContractMigration: null },
      { release: 'v2', lastContractMigration: '003_drop' },
      // 005_drop2 ran while v2 and v3 both served (before !== after): not v3's.
      { release: 'v3', lastContractMigration: null },
    ]);
  });

  it('falls back to the previous run’s lastMigration without a baseline, and keeps a release that serves again', () => {
    const runs = [
      run('completed', { before: 'v1', after: 'v1', lastMigration: '004_c' }),
      run('completed', { before: 'v2', after: 'v1', lastMigration: '002_b' }),
      run('completed', { before: 'v2', after: 'v2', lastMigration: '002_b' }),
      run('completed', { before: 'v1', after: 'v2', lastMigration: '001_a' }),
    ];
    const spans = releaseSpans(runs, ORDER);
    expect(spans.map((s) => s.applied)).toEqual([['001_a'], ['002_b'], [], ['003_drop', '004_c']]);
    expect(releaseHistory(spans, new Set(['002_b', '003_drop']))).toEqual([
      { release: 'v1', lastContractMigration: null },
      { release: 'v2', lastContractMigration: '002_b' },
      { release: 'v1', lastContractMigration: '003_drop' },
    ]);
  });
});

describe('maint run with the guard, over fake ports', () => {
  let dir: string;
  beforeEach(async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'maint-guard-'));
    await mkdir(path.join(dir, 'migrations'));
    await writeFile(path.join(dir, 'migrations/001_t.sql'), 'create table t (id int, legacy text);');
    await writeFile(path.join(dir, 'migrations/002_drop.sql'), 'alter table t drop column legacy;');
  });
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  const loaded = (release: string): LoadedPlan => ({
    plan: PlanSchema.parse({
      version: 1,
      name: 'orders',
      window: { timezone: 'UTC', days: ['daily'], start: '00:00', duration: '24h' },
      database: { engine: 'postgres', url: 'postgres://x@localhost/db' },
      release,
      fleet: { provider: 'command', deploy: './deploy.sh', health: './health.sh' },
    }),
    path: 'plan.yaml',
    file: path.join(dir, 'plan.yaml'),
    dir,
  });

  const journaled = (runId: string, release: Release, appliedBefore: string | null): RunRecord => ({
    runId,
    plan: 'orders',
    status: 'completed',
    startedAt: `2026-01-0${runId.at(-1)}T10:00:00.000Z`,
    finishedAt: `2026-01-0${runId.at(-1)}T10:05:00.000Z`,
    host: 'h',
    pid: 1,
    emergencyReason: null,
    windowStart: null,
    windowEnd: null,
    resumedFrom: null,
    state: { release, baseline: { appliedBefore, checks: {} } },
    error: null,
    note: null,
    notifications: null,
  });

  async function setup() {
    const clock = new FakeClock('2026-03-02T10:00:00Z');
    const fleet = fakeFleetPort({ release: 'v2' });
    const ports = fakePorts({
      clock,
      migrations: [{ name: '001_t' }, { name: '002_drop' }],
      overrides: { fleet },
    });
    // Both applied: 001_t by the run that rolled v1 → v2, 002_drop (contract) while v2 served.
    await ports.migrator.up();
    await ports.memoryJournal.insertRun(
      journaled('run_1', { before: 'v1', after: 'v2', lastMigration: '001_t' }, null),
    );
    await ports.memoryJournal.insertRun(
      journaled('run_2', { before: 'v2', after: 'v2', lastMigration: '002_drop' }, '001_t'),
    );
    return { ports, fleet, sink: collectingSink() };
  }

  it('refuses the rollback to v1 before the lock, and runs it with a forced reason journaled', async () => {
    const { ports, fleet, sink } = await setup();
    const core = createCore(ports, sink);
    const refused = await core.run(loaded('v1'));
    expect(refused).toMatchObject({
      status: 'refused',
      runId: null,
      error: { code: 'ROLLBACK_PAST_CONTRACT', exitCode: 2 },
      guard: { target: 'v1', serving: ['v2'], rollback: { allowed: false } },
    });
    expect(ports.db.session_).toBeFalsy();
    expect(fleet.calls).toEqual([]);
    expect(await ports.memoryJournal.runs('orders', 10)).toHaveLength(2);

    const gate = await core.gate(loaded('v1'));
    expect(gate).toMatchObject({ allowed: false, reason: 'ROLLBACK_PAST_CONTRACT' });

    const reason = 'v1 never reads t.legacy';
    const forced = await core.run(loaded('v1'), { forceRollback: { reason } });
    expect(forced).toMatchObject({ status: 'completed', guard: { override: { reason } } });
    expect(fleet.calls).toEqual(['roll v1']);
    expect(renderRunSummary(forced)).toContain(
      `forced rollback to v1: ${reason} (refused: rolling back to v1 is refused`,
    );
    const [newest] = await ports.memoryJournal.runs('orders', 1);
    expect(newest!.state).toMatchObject({
      'guard.override': { reason },
      release: { before: 'v2', after: 'v1' },
    });
    expect(newest!.note).toContain(`forced rollback: ${reason}`);
  });

  it('refuses a blank --force-rollback reason with exit 2 before opening anything', async () => {
    const { ports, sink } = await setup();
    const r = await createCore(ports, sink).run(loaded('v1'), { forceRollback: { reason: '  ' } });
    expect(r).toMatchObject({
      status: 'refused',
      error: { code: 'FORCE_ROLLBACK_NEEDS_REASON', exitCode: 2 },
    });
    expect(ports.opened).toBe(0);
  });

  it('lets a forward roll with nothing pending through, and says so', async () => {
    const { ports, sink } = await setup();
    const r = await createCore(ports, sink).run(loaded('v3'));
    expect(r).toMatchObject({
      status: 'completed',
      guard: {
        target: 'v3',
        rollback: null,
        roll: { allowed: true, message: 'no contract migration is pending' },
      },
    });
  });
});
