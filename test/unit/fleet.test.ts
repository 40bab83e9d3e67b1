import { describe, expect, it } from 'vitest';
import { createRunState } from '../../src/core/engine/state.js';
import type { StepContext } from '../../src/core/engine/step.js';
import { FleetHealthError } from '../../src/fleet/errors.js';
import type { PlanWork } from '../../src/operations/pending.js';
import { parseShowStat, runtimeTarget } from '../../src/fleet/haproxy-api.js';
import { parseAdminStates } from '../../src/fleet/haproxy.js';
import { lastLine } from '../../src/fleet/command.js';
import { releaseOf } from '../../src/fleet/probe.js';
import { parsePlanText } from '../../src/plan/parse.js';
import { fleetInput } from '../../src/strategies/index.js';
import { fleetRollStep } from '../../src/strategies/steps/fleet-step.js';
import { FakeClock, fakeFleetPort } from '../helpers/fakes.js';

const STAT = `# pxname,svname,qcur,qmax,scur,smax,slim,stot,bin,bout,dreq,dresp,ereq,econ,eresp,wretr,wredis,status,weight,act,bck,chkfail,chkdown,lastchg,downtime,qlimit,pid,iid,sid,throttle,lbtot,tracked,type,rate,rate_lim,rate_max,check_status,check_code,check_duration,hrsp_1xx,hrsp_2xx,hrsp_3xx,hrsp_4xx,hrsp_5xx,hrsp_other,hanafail,req_rate,req_rate_max,req_tot,cli_abrt,srv_abrt,comp_in,comp_out,comp_byp,comp_rsp,lastsess,last_chk,last_agt,qtime,ctime,rtime,ttime,agent_status,agent_code,agent_duration,check_desc,agent_desc,check_rise,check_fall,check_health,agent_rise,agent_fall,agent_health,addr
fe,FRONTEND,,,0,1,2000,3,0,0,0,0,0,,,,,OPEN,,,,,,,,,1,2,0,,,,0,0,0,1,,,,0,0,0,0,0,0,,0,1,3,,,0,0,0,0,,,,,,,,,,,,,,,,,,,,,,
app,web1,0,0,3,5,,100,0,0,,0,,0,0,0,0,UP,1,1,0,0,0,9,0,,1,3,1,,100,,2,0,,5,L7OK,200,0,0,100,0,0,0,0,,,,,0,0,,,,,0,,,0,0,0,0,,,,Layer7 check passed,,2,2,3,,,,127.0.0.1:8081
app,web2,0,0,0,0,,0,0,0,,0,,0,0,0,0,MAINT,1,1,0,0,0,9,0,,1,3,2,,0,,2,0,,0,* L4CON,,0,0,0,0,0,0,0,,,,,0,0,,,,,-1,,,0,0,0,0,,,,,,2,2,0,,,,127.0.0.1:8082
app,BACKEND,0,0,3,5,200,100,0,0,0,0,,0,0,0,0,UP,1,1,0,,0,9,0,,1,3,0,,100,,1,0,,5,,,,0,100,0,0,0,0,,,,100,0,0,0,0,0,0,0,,,0,0,0,0,,,,,,,,,,,,
`;

describe('HAProxy runtime API parsing', () => {
  it('reads the server rows of one backend from show stat', () => {
    expect(parseShowStat(STAT, 'app')).toEqual([
      {
        backend: 'app',
        server: 'web1',
        status: 'UP',
        checkStatus: 'L7OK',
        scur: 3,
        addr: '127.0.0.1:8081',
        checkHealth: 3,
        checkRise: 2,
        checkFall: 2,
      },
      {
        backend: 'app',
        server: 'web2',
        status: 'MAINT',
        checkStatus: 'L4CON',
        scur: 0,
        addr: '127.0.0.1:8082',
        checkHealth: 0,
        checkRise: 2,
        checkFall: 2,
      },
    ]);
    expect(parseShowStat(STAT, 'other')).toEqual([]);
    expect(() => parseShowStat('Unknown command\n', 'app')).toThrow(/show stat/);
  });

  it('reads admin states from show servers state (forced maint, drain, config-disabled then drained)', () => {
    const text = `1
# be_id be_name srv_id srv_name srv_addr srv_op_state srv_admin_state srv_uweight
2 app 1 web1 127.0.0.1 2 0 1 1 58
2 app 2 web2 127.0.0.1 0 1 1 1 43
2 app 3 web3 127.0.0.1 2 8 1 1 43
2 app 4 web4 127.0.0.1 0 12 1 1 43
2 app 5 web5 127.0.0.1 0 5 1 1 43
`;
    expect(Object.fromEntries(parseAdminStates(text))).toEqual({
      web1: 'ready',
      web2: 'maint',
      web3: 'drain',
      web4: 'drain',
      web5: 'maint',
    });
  });

  it('tells a unix socket from host:port', () => {
    expect(runtimeTarget('/run/haproxy/admin.sock')).toEqual({ path: '/run/haproxy/admin.sock' });
    expect(runtimeTarget('./admin.sock')).toEqual({ path: './admin.sock' });
    expect(runtimeTarget('127.0.0.1:9999')).toEqual({ host: '127.0.0.1', port: 9999 });
    expect(runtimeTarget('lb.internal:9999')).toEqual({ host: 'lb.internal', port: 9999 });
    expect(runtimeTarget('[::1]:9999')).toEqual({ host: '::1', port: 9999 });
  });

  it('finds the release in the x-release header, else a JSON body field', () => {
    expect(releaseOf('v2', '{"release":"v1"}')).toBe('v2');
    expect(releaseOf(undefined, '{"release":"v1"}')).toBe('v1');
    expect(releaseOf(undefined, 'ok')).toBeNull();
    expect(releaseOf(undefined, '{"release":3}')).toBeNull();
    expect(lastLine('a\nv7\n\n')).toBe('v7');
    expect(lastLine('')).toBeNull();
  });
});

const PLAN = `version: 1
name: s
window: { timezone: UTC, days: [daily], start: "00:00", duration: 24h }
database: { engine: pglite, url: "memory://" }
release: v2
fleet: { provider: command, deploy: ./deploy.sh }
`;

describe('fleet:roll (against the stateful fake fleet)', () => {
  async function rollWith(unhealthy: string[]) {
    const port = fakeFleetPort({ release: 'v1', members: ['web1', 'web2'], unhealthy });
    const loaded = { plan: parsePlanText(PLAN, 'p.yaml'), path: 'p.yaml', file: '/tmp/p.yaml', dir: '/tmp' };
    const fleet = await port.open(loaded.plan.fleet!, loaded);
    const state = await fleet.describe();
    const work = { pending: [{ name: '002_b' }], operations: [] } as unknown as PlanWork;
    const step = fleetRollStep(fleetInput({ fleet, state }, loaded, work, null));
    const events: string[] = [];
    const journaled: Record<string, unknown>[] = [];
    const runState = createRunState({ baseline: { appliedBefore: '001_a', checks: {} } }, async (_k, all) => {
      journaled.push(all);
    });
    const ctx = {
      signal: new AbortController().signal,
      runId: 'r',
      plan: { name: 's', path: 'p.yaml', dir: '/tmp' },
      clock: new FakeClock('2026-11-29T10:00:00Z'),
      state: runState,
      progress: () => undefined,
      report: (code: string) => void events.push(code),
    } as unknown as StepContext;
    let error: unknown = null;
    let detail: unknown = null;
    try {
      detail = await step.run(ctx);
    } catch (e) {
      error = e;
      detail = await step.rollback!(ctx);
    }
    return { port, error, detail, events, state: runState.snapshot(), journaled };
  }

  it('rolls batch by batch, reports each batch and journals the release before and after', async () => {
    const { port, error, detail, events, state, journaled } = await rollWith([]);
    expect(error).toBeNull();
    expect(port.members.map((m) => m.release)).toEqual(['v2', 'v2']);
    expect(events).toEqual([
      'fleet.batch.started',
      'fleet.batch.healthy',
      'fleet.batch.shifted',
      'fleet.batch.started',
      'fleet.batch.healthy',
      'fleet.batch.shifted',
      'fleet.rolled',
    ]);
    expect(state.release).toEqual({ before: 'v1', after: 'v2', lastMigration: '002_b' });
    // The release before is journaled before the fleet is touched.
    expect(journaled[0]!.release).toEqual({ before: 'v1', after: null, lastMigration: '002_b' });
    expect(detail).toMatchObject({
      from: 'v1',
      to: 'v2',
      batches: [
        { index: 0, members: ['web1'] },
        { index: 1, members: ['web2'] },
      ],
    });
  });

  it('rolls back to the previous release, verified, when the new one is not healthy', async () => {
    const { port, error, events, state } = await rollWith(['v2']);
    expect(error).toBeInstanceOf(FleetHealthError);
    expect((error as FleetHealthError).exitCode).toBe(5);
    expect(port.calls).toEqual(['roll v2', 'rollback v1']);
    expect(port.members.map((m) => m.release)).toEqual(['v1', 'v1']);
    expect(events).toEqual(['fleet.batch.started', 'fleet.rolling_back', 'fleet.rolled_back']);
    expect(state.release).toEqual({ before: 'v1', after: 'v1', lastMigration: '002_b' });
  });
});
