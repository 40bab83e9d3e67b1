import { describe, expect, it } from 'vitest';
import {
  changeMasterSql,
  cloneComment,
  CLONE_COMMENT_PREFIX,
  createReplicationUserSql,
  dumpGtidPosition,
  grantee,
  isGtidPosition,
  replicaFilterSql,
  replicaObjectNames,
} from '../../src/clone/mysql-sql.js';
import { cloneTarget } from '../../src/clone/target.js';
import type { LoadedPlan } from '../../src/plan/loader.js';
import { parsePlanText } from '../../src/plan/parse.js';
import type { CloneFreezeConfig } from '../../src/plan/schema.js';
import { buildSteps } from '../../src/strategies/index.js';

const plan = (strategy: string) => `version: 1
name: s
window: { timezone: UTC, days: [daily], start: "00:00", duration: 2h }
database: { engine: mysql, url: "mysql://maint:pw@live:3306/shop" }
strategy: ${strategy}
`;

describe('clone-freeze method replica (MariaDB)', () => {
  it('names the replication objects after the run id, within MariaDB limits', () => {
    const names = replicaObjectNames('2026-12-08T00:00:00Z-AbC_1234567890xyz', 'shop', 'shop');
    expect(names).toEqual({
      database: 'shop',
      liveDatabase: 'shop',
      connection: 'maint_20261208t000000z',
      user: 'maint_repl_20261208t000000z',
    });
    expect(names.user.length).toBeLessThanOrEqual(80);
    expect(cloneComment('shop', 'r1').startsWith(CLONE_COMMENT_PREFIX)).toBe(true);
  });

  it('reads the GTID position from a mariadb-dump --gtid --master-data=2 head', () => {
    const head = `-- MariaDB dump 10.19\n--\n-- Position to start replication or point-in-time recovery from\n--\n\n-- CHANGE MASTER TO MASTER_LOG_FILE='mysql-bin.000001', MASTER_LOG_POS=1718;\n\n--\n-- GTID to start replication from\n--\n\n-- SET GLOBAL gtid_slave_pos='0-101-42,1-101-7';\n`;
    expect(dumpGtidPosition(head)).toBe('0-101-42,1-101-7');
    expect(dumpGtidPosition('-- CHANGE MASTER TO MASTER_LOG_FILE=x')).toBeNull();
    expect(isGtidPosition('0-101-42,1-101-7')).toBe(true);
    expect(isGtidPosition('')).toBe(true);
    expect(isGtidPosition("0-1-2'; drop")).toBe(false);
  });

  it('filters the replica to the live database, renamed, without maint’s own tables; escapes values', () => {
    const objects = { ...replicaObjectNames('r1', 'shop_copy', 'shop'), previousSlavePos: '' };
    expect(replicaFilterSql(objects, ['maint_runs', 'maint_run_steps'])).toEqual([
      "set global `maint_r1`.replicate_rewrite_db = 'shop->shop_copy'",
      "set global `maint_r1`.replicate_do_db = 'shop_copy'",
      "set global `maint_r1`.replicate_ignore_table = 'shop_copy.maint_runs,shop_copy.maint_run_steps'",
    ]);
    const same = { ...replicaObjectNames('r1', 'shop', 'shop'), previousSlavePos: '' };
    expect(replicaFilterSql(same, [])).toEqual(["set global `maint_r1`.replicate_do_db = 'shop'"]);
    expect(changeMasterSql('maint_r1', { host: '10.0.0.1', port: 3306 }, 'u', "p'w\\")).toBe(
      "change master 'maint_r1' to master_host='10.0.0.1', master_port=3306, master_user='u', master_password='p\\'w\\\\', master_use_gtid=slave_pos, master_connect_retry=1",
    );
    expect(createReplicationUserSql('maint_repl_r1', 'x')).toEqual([
      "create or replace user 'maint_repl_r1'@'%' identified by 'x'",
      "grant replication slave on *.* to 'maint_repl_r1'@'%'",
    ]);
    expect(grantee('app', '%')).toBe("'app'@'%'");
  });

  it('the clone target: the mysql admin database on the clone server', () => {
    const parsed = parsePlanText(
      plan('{ kind: clone-freeze, clone: { method: replica, url: "mysql://maint:pw@copy:3307/shop" } }'),
      'p.yaml',
    );
    expect(cloneTarget(parsed.strategy as CloneFreezeConfig, parsed.database)).toEqual({
      engine: 'mysql',
      url: 'mysql://maint:pw@copy:3307/shop',
      adminUrl: 'mysql://maint:pw@copy:3307/mysql',
      database: 'shop',
      masked: 'mysql://maint:***@copy:3307/shop',
    });
  });

  it('steps: the same as logical (replica prepare and cutover), the freeze bounded by maxDuration', () => {
    const loaded: LoadedPlan = {
      plan: parsePlanText(
        plan(
          '{ kind: clone-freeze, clone: { method: replica, url: "mysql://m@copy/shop" }, freeze: { maxDuration: 4s } }',
        ),
        'p.yaml',
      ),
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
    expect(steps[4]!.deadlineMs).toBe(4000);
    expect(steps[1]!.rollback).toBeTypeOf('function');
    expect(steps[4]!.rollback).toBeTypeOf('function');
  });
});
