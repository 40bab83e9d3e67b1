import { describe, expect, it } from 'vitest';
import { DUMP_MB_PER_S, cloneObjectNames, dumpEstimateMs } from '../../src/clone/pg-logical.js';
import {
  freezeRoleSql,
  regrantSql,
  setvalSql,
  unfreezeRoleSql,
  bindDatabase,
} from '../../src/clone/pg-sql.js';
import { TEMPLATE_MB_PER_S, templateEstimateMs } from '../../src/clone/pg-template.js';
import { maskUrl, splitPassword } from '../../src/clone/pg-tools.js';
import { cloneTarget } from '../../src/clone/target.js';
import { defaultPorts } from '../../src/core/default-ports.js';
import { preflight } from '../../src/core/preflight.js';
import { InputError, PlanError } from '../../src/errors.js';
import type { LoadedPlan } from '../../src/plan/loader.js';
import { parsePlanText } from '../../src/plan/parse.js';
import type { CloneFreezeConfig } from '../../src/plan/schema.js';
import { buildSteps } from '../../src/strategies/index.js';
import { createMemoryLogger } from '../../src/support/logger.js';

const head = (engine = 'postgres', url = 'postgres://maint:pw@db:5432/shop') => `version: 1
name: s
window: { timezone: UTC, days: [daily], start: "00:00", duration: 2h }
database: { engine: ${engine}, url: "${url}" }
`;

function planError(text: string): PlanError {
  try {
    parsePlanText(text, 'p.yaml');
  } catch (error) {
    return error as PlanError;
  }
  throw new Error('the plan was accepted');
}

describe('clone-freeze in the plan', () => {
  it('defaults: logical, grace 2s, maxDuration 30s, clone <live>_clone on the same server', () => {
    const plan = parsePlanText(`${head()}strategy: { kind: clone-freeze, clone: {} }\n`, 'p.yaml');
    const config = plan.strategy as CloneFreezeConfig;
    expect(config.clone.method).toBe('logical');
    expect(config.freeze).toEqual({ method: 'read-only', grace: 2000, maxDuration: 30_000 });
    const target = cloneTarget(config, plan.database);
    expect(target).toEqual({
      engine: 'postgres',
      url: 'postgres://maint:pw@db:5432/shop_clone',
      adminUrl: 'postgres://maint:pw@db:5432/postgres',
      database: 'shop_clone',
      masked: 'postgres://maint:***@db:5432/shop_clone',
    });
  });

  it('a method that does not clone the clone URL engine is refused at its line and column', () => {
    const error = planError(
      `${head()}strategy:\n  kind: clone-freeze\n  clone:\n    method: replica\n    url: "postgres://x@h/c"\n`,
    );
    expect(error.issues[0]).toMatchObject({ path: 'strategy.clone.method', line: 8, col: 13 });
    expect(error.message).toMatch(/method replica does not clone a PostgreSQL database; use one of logical/);
  });

  it('a grace as long as maxDuration is refused at freeze.grace', () => {
    const error = planError(
      `${head()}strategy:\n  kind: clone-freeze\n  clone: { method: logical }\n  freeze: { grace: 30s, maxDuration: 10s }\n`,
    );
    expect(error.issues[0]).toMatchObject({ path: 'strategy.freeze.grace', line: 8, col: 20 });
    expect(error.message).toMatch(/grace \(30s\) must be shorter than maxDuration \(10s\)/);
  });

  it('steps: lock → clone:prepare → clone:migrate → clone:analyze → clone:cutover, the freeze bounded by maxDuration', () => {
    const text = `${head()}strategy: { kind: clone-freeze, clone: { method: logical }, freeze: { maxDuration: 5s } }\n`;
    const loaded: LoadedPlan = {
      plan: parsePlanText(text, 'p.yaml'),
      path: 'p.yaml',
      file: '/tmp/p.yaml',
      dir: '/tmp',
    };
    const work = { pending: [{ name: '001_a' }], operations: [], migrationsAbsent: false } as never;
    const steps = buildSteps({ loaded, work, window: { start: new Date(0), end: new Date(1) } });
    expect(steps.map((s) => s.name)).toEqual([
      'lock',
      'clone:prepare',
      'clone:migrate',
      'clone:analyze',
      'clone:cutover',
    ]);
    expect(steps[4]!.deadlineMs).toBe(5000);
    expect(steps[4]!.rollback).toBeTypeOf('function');
  });

  it('with a blue-green fleet: fleet:warm before the freeze, fleet:shift (no deadline of its own) right after it', () => {
    const text = `${head()}release: v2\nstrategy: { kind: clone-freeze, clone: { method: logical }, freeze: { maxDuration: 5s } }\n`;
    const loaded: LoadedPlan = {
      plan: parsePlanText(text, 'p.yaml'),
      path: 'p.yaml',
      file: '/tmp/p.yaml',
      dir: '/tmp',
    };
    const work = { pending: [{ name: '001_a' }], operations: [], migrationsAbsent: false } as never;
    const state = { provider: 'haproxy' as const, release: 'v1', releases: ['v1'], members: [] };
    const fleet = {
      fleet: { provider: 'haproxy', mode: 'blue-green' } as never,
      state,
      release: 'v2',
      previous: 'v1',
      preview: { mode: 'blue-green' as const, from: 'v1', to: 'v2', batches: [], estimateMs: 4000 },
      lastPending: '001_a',
      planPath: 'p.yaml',
    };
    const steps = buildSteps({ loaded, work, window: { start: new Date(0), end: new Date(1) }, fleet });
    expect(steps.map((s) => s.name)).toEqual([
      'lock',
      'clone:prepare',
      'clone:migrate',
      'clone:analyze',
      'fleet:warm',
      'clone:cutover',
      'fleet:shift',
    ]);
    expect(steps[5]!.deadlineMs).toBe(5000);
    expect(steps[6]!.deadlineMs).toBeUndefined();
    expect(steps[4]!.rollback).toBeTypeOf('function');
    expect(steps[6]!.rollback).toBeTypeOf('function');
  });

  it('dump: clone:prepare (empty) → clone:cutover (copy and migrate in the freeze, bounded) → clone:analyze', () => {
    const text = `${head()}strategy: { kind: clone-freeze, clone: { method: dump }, freeze: { maxDuration: 9s } }\n`;
    const loaded: LoadedPlan = {
      plan: parsePlanText(text, 'p.yaml'),
      path: 'p.yaml',
      file: '/tmp/p.yaml',
      dir: '/tmp',
    };
    const work = { pending: [{ name: '001_a' }], operations: [], migrationsAbsent: false } as never;
    const steps = buildSteps({ loaded, work, window: { start: new Date(0), end: new Date(1) } });
    expect(steps.map((s) => s.name)).toEqual(['lock', 'clone:prepare', 'clone:cutover', 'clone:analyze']);
    expect(steps[2]!.deadlineMs).toBe(9000);
    expect(steps[2]!.rollback).toBeTypeOf('function');
  });

  it('dump estimate: a second plus the size at 20 MB/s, rounded up', () => {
    expect(DUMP_MB_PER_S).toBe(20);
    expect(dumpEstimateMs(0)).toBe(1000);
    expect(dumpEstimateMs(100e6)).toBe(6000);
    expect(dumpEstimateMs(1e9)).toBe(51_000);
    expect(dumpEstimateMs(1)).toBe(1001);
  });

  it('the template estimate errs long: 2 s plus the size at 50 MB/s', () => {
    expect(TEMPLATE_MB_PER_S).toBe(50);
    expect(templateEstimateMs(0)).toBe(2000);
    expect(templateEstimateMs(100e6)).toBe(4000);
    expect(templateEstimateMs(1e9)).toBe(22_000);
  });

  it('the cloner refuses, before anything opens, a method not built and an engine logical cannot clone', async () => {
    const ports = defaultPorts({ logger: createMemoryLogger() });
    const as = (text: string): LoadedPlan => ({
      plan: parsePlanText(text, 'p.yaml'),
      path: 'p.yaml',
      file: '/tmp/p.yaml',
      dir: '/tmp',
    });
    const refused = async (text: string) => {
      try {
        await preflight(ports, as(text));
      } catch (error) {
        expect(error).toBeInstanceOf(InputError);
        return (error as InputError).message;
      }
      return undefined;
    };
    expect(await refused(`${head()}strategy: { kind: clone-freeze, clone: { method: template } }\n`)).toMatch(
      /p\.yaml: database\.lockUrl: the template method ends every session on .* the lock must be held from another database/,
    );
    expect(
      await refused(
        `${head('mysql', 'mysql://root@h/db')}strategy: { kind: clone-freeze, clone: { method: logical } }\n`,
      ),
    ).toMatch(
      /the logical method \(the default\) clones PostgreSQL; for a MySQL\/MariaDB plan name `method: replica`/,
    );
    expect(
      await refused(
        `${head('mysql', 'mysql://root@h/db')}strategy: { kind: clone-freeze, clone: { method: dump } }\n`,
      ),
    ).toMatch(/the dump method is built for PostgreSQL only; this plan's database is mysql/);
    expect(await refused(`${head()}strategy: { kind: clone-freeze, clone: { method: replica } }\n`)).toMatch(
      /the replica method clones MariaDB; this plan's database is postgres/,
    );
    expect(
      await refused(
        `${head()}release: v2\nstrategy: { kind: clone-freeze, clone: { method: dump } }\nfleet: { provider: haproxy, mode: blue-green, green: [b], runtimeApi: /nowhere.sock, backend: app, start: ./s, stop: ./t }\n`,
      ),
    ).toMatch(
      /needs method: logical \(PostgreSQL\) or replica \(MariaDB\) in this version of maint \(the dump method copies during the freeze/,
    );
    // The new fleet starts beside the old one on the clone: only a blue-green haproxy fleet can.
    expect(
      await refused(
        `${head()}release: v2\nstrategy: { kind: clone-freeze, clone: { method: logical } }\nfleet:\n  provider: command\n  deploy: ./deploy.sh\n`,
      ),
    ).toMatch(
      /cannot start a new fleet on the clone with the command provider.*works with `provider: haproxy` and `mode: blue-green`/,
    );
    expect(
      await refused(
        `${head()}release: v2\nstrategy: { kind: clone-freeze, clone: { method: logical } }\nfleet: { provider: haproxy, runtimeApi: /nowhere.sock, backend: app, start: ./s, stop: ./t }\n`,
      ),
    ).toMatch(/mode rolling would mix servers on the old and the new database/);
  });
});

describe('clone SQL and URLs', () => {
  it('freezes a role: its new sessions read-only, its direct write grants revoked, and undoes exactly that', () => {
    const grants = [
      { schema: 'public', name: 'items', privilege: 'INSERT' },
      { schema: 'public', name: 'items', privilege: 'UPDATE' },
      { schema: 'app', name: 'events', privilege: 'DELETE' },
    ];
    expect(freezeRoleSql('app', grants).map((s) => bindDatabase(s, 'shop'))).toEqual([
      'alter role "app" in database "shop" set default_transaction_read_only = on',
      'revoke insert, update on table "public"."items" from "app"',
      'revoke delete on table "app"."events" from "app"',
    ]);
    expect(unfreezeRoleSql('app', grants).map((s) => bindDatabase(s, 'shop'))).toEqual([
      'alter role "app" in database "shop" reset default_transaction_read_only',
      'grant insert, update on table "public"."items" to "app"',
      'grant delete on table "app"."events" to "app"',
    ]);
    // A copy made during the freeze (dump) gets the grants back, without the live database's setting.
    expect(regrantSql('app', grants)).toEqual([
      'grant insert, update on table "public"."items" to "app"',
      'grant delete on table "app"."events" to "app"',
    ]);
  });

  it('moves a sequence up to the live value, never down', () => {
    expect(setvalSql('public', 'items_id_seq', '42')).toBe(
      `select setval('"public"."items_id_seq"', greatest('42'::bigint, (select case when is_called then last_value else 0 end from "public"."items_id_seq")), true)`,
    );
  });

  it('names replication objects from the run id; masks and splits passwords', () => {
    expect(cloneObjectNames('01JF-ABC_def', 'c')).toEqual({
      database: 'c',
      publication: 'maint_pub_01jfabcdef',
      slot: 'maint_slot_01jfabcdef',
      subscription: 'maint_sub_01jfabcdef',
    });
    expect(maskUrl('postgres://u:p%40ss@h:5/d')).toBe('postgres://u:***@h:5/d');
    expect(splitPassword('postgres://u:p%40ss@h:5/d')).toEqual({
      url: 'postgres://u@h:5/d',
      password: 'p@ss',
    });
  });
});
