import { describe, expect, it } from 'vitest';
import { jobFromEnv, staleAfterMs } from '../../src/db/identity.js';
import { poolerReason } from '../../src/db/pooler.js';
import { connectionError, isConnectionFailure } from '../../src/db/errors.js';
import {
  mysqlAnalyzeSql,
  mysqlLockName,
  pgAdvisoryKeys,
  postgresAnalyzeStages,
  quoteIdent,
  quoteQualified,
} from '../../src/db/sql.js';

describe('SQL builders', () => {
  it('quotes identifiers per dialect', () => {
    expect(quoteIdent('postgres', 'we"ird')).toBe('"we""ird"');
    expect(quoteIdent('mysql', 'we`ird')).toBe('`we``ird`');
    expect(quoteQualified('postgres', 'public.orders')).toBe('"public"."orders"');
  });

  it('builds analyze in stages like vacuumdb --analyze-in-stages', () => {
    expect(postgresAnalyzeStages(['a', 'b'], 'stages', true)).toEqual([
      {
        name: 'stage 1 (statistics target 1)',
        sql: ['set default_statistics_target = 1', 'analyze "a", "b"'],
      },
      {
        name: 'stage 2 (statistics target 10)',
        sql: ['set default_statistics_target = 10', 'analyze "a", "b"'],
      },
      {
        name: 'stage 3 (default statistics target)',
        sql: ['reset default_statistics_target', 'vacuum (analyze) "a", "b"'],
      },
    ]);
    expect(postgresAnalyzeStages(['a'], 'full', false)).toEqual([{ name: 'analyze', sql: ['analyze "a"'] }]);
    expect(mysqlAnalyzeSql(['a', 'b'])).toBe('analyze table `a`, `b`');
  });

  it("derives stable lock keys that fit the servers' limits", () => {
    const [k1, k2] = pgAdvisoryKeys('orders-v2');
    expect(pgAdvisoryKeys('orders-v2')).toEqual([k1, k2]);
    expect(k2).toBeGreaterThanOrEqual(0);
    expect(k2).toBeLessThanOrEqual(0x7fffffff);
    expect(pgAdvisoryKeys('other')[1]).not.toBe(k2);
    expect(mysqlLockName('shop', 'orders-v2')).toBe('maint:shop:orders-v2');
    const long = mysqlLockName('d'.repeat(64), 'n'.repeat(63));
    expect(long.length).toBeLessThanOrEqual(64);
    expect(long).not.toBe(mysqlLockName('d'.repeat(64), 'm'.repeat(63)));
  });
});

describe('pooler detection', () => {
  it('flags PgBouncer ports, pgbouncer=true and pooler host names', () => {
    expect(poolerReason('postgres://u:p@db:6432/app')).toMatch(/6432/);
    expect(poolerReason('postgres://u:p@db:5432/app?pgbouncer=true')).toMatch(/pgbouncer=true/);
    expect(poolerReason('postgres://u:p@aws-0-eu.pooler.supabase.com:5432/app')).toMatch(/pooler/);
    expect(poolerReason('postgres://u:p@app.proxy-abc.eu-west-1.rds.amazonaws.com/app')).toMatch(/proxy/);
    expect(poolerReason('postgres://u:p@db.internal:5432/app')).toBeNull();
  });
});

describe('lock identity', () => {
  it('names the CI job or container task from the environment', () => {
    expect(jobFromEnv({ GITHUB_RUN_ID: '7', GITHUB_REPOSITORY: 'acme/shop', GITHUB_JOB: 'deploy' })).toBe(
      'github:acme/shop#7/deploy',
    );
    expect(jobFromEnv({ CI_JOB_ID: '99' })).toBe('gitlab:99');
    expect(jobFromEnv({ ECS_CONTAINER_METADATA_URI_V4: 'http://169.254.170.2/v4/abc123-456' })).toBe(
      'ecs:abc123-456',
    );
    expect(jobFromEnv({ KUBERNETES_SERVICE_HOST: '10.0.0.1', HOSTNAME: 'web-5d9f' })).toBe('pod:web-5d9f');
    expect(jobFromEnv({})).toBeUndefined();
    expect(staleAfterMs(5000)).toBe(16_000);
  });
});

describe('driver errors', () => {
  it('turns an unreachable server into a ConnectionError without the password', () => {
    const cause = Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:1'), { code: 'ECONNREFUSED' });
    expect(isConnectionFailure(cause)).toBe(true);
    const e = connectionError(cause, 'postgres://app:s3cretpw@127.0.0.1:1/app', 'PostgreSQL');
    expect(e).toMatchObject({ code: 'DB_UNREACHABLE', exitCode: 2 });
    expect(e.message).not.toContain('s3cretpw');
    expect(e.message).toContain('127.0.0.1:1/app');
    expect(e.hint).toMatch(/database\.url/);
    expect(e.cause).toBe(cause);
  });
});
