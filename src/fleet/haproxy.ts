/**
 * The `haproxy` provider: servers of one backend, driven through the runtime API, started and
 * stopped by the plan's commands. Measured on HAProxy 2.6 (docs/fleet.md): a server set `ready`
 * takes traffic before its first check, and for a moment after `maint` → `drain` the previous
 * check result still shows. So a new server is warmed in `drain` with its health forced down,
 * and is gated on `rise` fresh checks AND maint's probe before it is set `ready`.
 */
import { performance } from 'node:perf_hooks';
import { ConnectionError, InputError } from '../errors.js';
import { runCommand } from '../operations/command.js';
import type { LoadedPlan } from '../plan/loader.js';
import type { HaproxyFleetConfig } from '../plan/schema.js';
import { FleetError, FleetHealthError } from './errors.js';
import type {
  Fleet,
  FleetMember,
  FleetOpenOptions,
  FleetState,
  RollHooks,
  RollInput,
  RollOutcome,
  RollPreview,
  RollProgress,
  RollbackInput,
} from './fleet.js';
import { hasBackend, parseShowStat, runtimeCommand, type StatRow } from './haproxy-api.js';
import { probe, type ProbeResult } from './probe.js';

const POLL_MS = 50;
/** HAProxy admin-state bits (`show servers state`): forced, inherited, resolver, health maint. */
const ADMIN_MAINT = 0x01 | 0x02 | 0x20 | 0x40;
const ADMIN_DRAIN = 0x08 | 0x10;

type Admin = FleetMember['admin'];

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal.aborted) return reject(signal.reason as Error);
    const t = setTimeout(() => {
      signal.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    const onAbort = () => {
      clearTimeout(t);
      reject(signal.reason as Error);
    };
    signal.addEventListener('abort', onAbort, { once: true });
  });
}

function chunk<T>(items: T[], size: number): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += size) out.push(items.slice(i, i + size));
  return out;
}

/** Parse `show servers state <backend>`: the admin state of each server. */
export function parseAdminStates(text: string): Map<string, Admin> {
  const out = new Map<string, Admin>();
  for (const line of text.split('\n')) {
    if (line.startsWith('#') || line.trim() === '') continue;
    const f = line.trim().split(/\s+/);
    if (f.length < 7) continue;
    const admin = Number(f[6]);
    out.set(f[3]!, admin & ADMIN_MAINT ? 'maint' : admin & ADMIN_DRAIN ? 'drain' : 'ready');
  }
  return out;
}

function healthOf(row: StatRow): FleetMember['health'] {
  if (row.status.startsWith('UP') || row.status === 'no check') return 'up';
  if (row.status === 'DRAIN') return 'up';
  if (row.status.startsWith('DOWN') || row.status.startsWith('DRAIN ')) return 'down';
  return 'unknown';
}

/** Checks passed `rise` times since the health was forced down: a fresh verdict, not a stale one. */
function freshlyHealthy(row: StatRow): boolean {
  const okCheck = /^L[4-7]OK$/.test(row.checkStatus);
  const full =
    row.checkHealth === null || row.checkRise === null || row.checkFall === null
      ? true
      : row.checkHealth >= row.checkRise + row.checkFall - 1;
  return row.status === 'DRAIN' && okCheck && full;
}

export async function openHaproxy(
  config: HaproxyFleetConfig,
  plan: LoadedPlan,
  options: FleetOpenOptions = {},
): Promise<Fleet> {
  let csv: string;
  try {
    csv = await runtimeCommand(config.runtimeApi, 'show stat');
  } catch (error) {
    throw new ConnectionError(
      'FLEET_UNREACHABLE',
      `cannot reach the HAProxy runtime API at ${config.runtimeApi}: ${(error as Error).message}`,
      {
        cause: error,
        hint: 'Check fleet.runtimeApi (a `stats socket ... level admin` path or host:port) and that HAProxy runs; nothing was changed.',
      },
    );
  }
  if (!hasBackend(csv, config.backend)) {
    throw new InputError(
      'FLEET_BACKEND_UNKNOWN',
      `HAProxy at ${config.runtimeApi} has no backend "${config.backend}"`,
      [{ path: 'fleet.backend', message: `no backend "${config.backend}" in HAProxy` }],
      { hint: 'Set fleet.backend to a backend of the running HAProxy configuration; nothing was changed.' },
    );
  }
  const names = new Set(parseShowStat(csv, config.backend).map((r) => r.server));
  for (const key of ['servers', 'green'] as const) {
    const list = config[key] ?? [];
    const i = list.findIndex((s) => !names.has(s));
    if (i >= 0) {
      throw new InputError(
        'FLEET_SERVER_UNKNOWN',
        `backend "${config.backend}" has no server "${list[i]}"`,
        [{ path: `fleet.${key}[${i}]`, message: `no server "${list[i]}" in backend ${config.backend}` }],
        { hint: `Name servers of backend ${config.backend}: ${[...names].join(', ')}; nothing was changed.` },
      );
    }
  }
  return new HaproxyFleet(config, plan, options);
}

class HaproxyFleet implements Fleet {
  readonly provider = 'haproxy' as const;
  readonly mode: HaproxyFleetConfig['mode'];

  constructor(
    private readonly config: HaproxyFleetConfig,
    private readonly plan: LoadedPlan,
    private readonly options: FleetOpenOptions,
  ) {
    this.mode = config.mode;
  }

  private async api(command: string): Promise<string> {
    try {
      return await runtimeCommand(this.config.runtimeApi, command);
    } catch (error) {
      throw new FleetError(
        'FLEET_LB_FAILED',
        `HAProxy runtime API: "${command}" failed: ${(error as Error).message}`,
        {
          command,
        },
      );
    }
  }

  private async rows(): Promise<Map<string, StatRow & { admin: Admin }>> {
    const [csv, states] = [
      await this.api('show stat'),
      await this.api(`show servers state ${this.config.backend}`),
    ];
    const admin = parseAdminStates(states);
    return new Map(
      parseShowStat(csv, this.config.backend).map((r) => [
        r.server,
        { ...r, admin: admin.get(r.server) ?? 'unknown' },
      ]),
    );
  }

  async describe(signal?: AbortSignal): Promise<FleetState> {
    const rows = await this.rows();
    const members = await Promise.all(
      [...rows.values()].map(async (r): Promise<FleetMember> => {
        const health = healthOf(r);
        const inService = r.admin === 'ready' && health === 'up';
        const seen: ProbeResult | null =
          r.addr && (inService || r.admin === 'drain')
            ? await probe(r.addr, this.config.probe, { release: null }, signal)
            : null;
        return {
          id: r.server,
          addr: r.addr,
          admin: r.admin,
          health,
          check: r.checkStatus || null,
          sessions: r.scur,
          release: seen?.ok ? seen.release : null,
          inService,
        };
      }),
    );
    const releases = [...new Set(members.filter((m) => m.inService).map((m) => m.release ?? '?'))];
    return {
      provider: 'haproxy',
      release: releases.length === 1 && releases[0] !== '?' ? releases[0]! : null,
      releases: releases.filter((r) => r !== '?'),
      members,
    };
  }

  preview(state: FleetState, release: string): RollPreview {
    const perServer = 2000;
    if (this.mode === 'blue-green') {
      const target = this.greenSide(state);
      const batch = { index: 0, members: target, estimateMs: perServer * 2 };
      return {
        mode: this.mode,
        from: state.release,
        to: release,
        batches: [batch],
        estimateMs: batch.estimateMs,
      };
    }
    const servers = this.config.servers ?? state.members.filter((m) => m.inService).map((m) => m.id);
    const batches = chunk(servers, this.config.batch).map((members, index) => ({
      index,
      members,
      estimateMs: perServer * members.length,
    }));
    return {
      mode: this.mode,
      from: state.release,
      to: release,
      batches,
      estimateMs: batches.reduce((s, b) => s + b.estimateMs, 0),
    };
  }

  /** Blue-green: where the new release starts. After a roll green serves, so the next starts on the rest. */
  private greenSide(state: FleetState): string[] {
    const green = this.config.green ?? [];
    const greenServes = state.members.some((m) => green.includes(m.id) && m.inService);
    return greenServes ? state.members.filter((m) => !green.includes(m.id)).map((m) => m.id) : green;
  }

  // ---- writes, each read back ----

  private async setState(
    servers: string[],
    admin: 'ready' | 'drain' | 'maint',
    signal: AbortSignal,
  ): Promise<void> {
    for (const s of servers) {
      const answer = (await this.api(`set server ${this.config.backend}/${s} state ${admin}`)).trim();
      if (answer !== '')
        throw new FleetError('FLEET_LB_REFUSED', `HAProxy refused to set ${s} ${admin}: ${answer}`);
    }
    await this.until(
      `${servers.join(', ')} to read back as ${admin}`,
      Date.now() + 5000,
      signal,
      async () => {
        const rows = await this.rows();
        return servers.every((s) => {
          const r = rows.get(s);
          if (!r || r.admin !== admin) return false;
          return admin !== 'ready' || healthOf(r) === 'up';
        });
      },
    );
  }

  private async until(
    what: string,
    deadline: number,
    signal: AbortSignal,
    test: () => Promise<boolean>,
  ): Promise<void> {
    for (;;) {
      if (await test()) return;
      if (Date.now() >= deadline)
        throw new FleetError('FLEET_READBACK_TIMEOUT', `timed out waiting for ${what}`);
      await sleep(POLL_MS, signal);
    }
  }

  private env(
    server: string,
    addr: string | null,
    release: string,
    databaseUrl: string | undefined,
  ): NodeJS.ProcessEnv {
    return {
      ...process.env,
      MAINT_RELEASE: release,
      MAINT_SERVER: server,
      MAINT_SERVER_ADDR: addr ?? '',
      MAINT_DATABASE_URL: databaseUrl ?? this.options.databaseUrl ?? '',
    };
  }

  private async command(
    which: 'start' | 'stop',
    server: string,
    addr: string | null,
    release: string,
    signal: AbortSignal,
    databaseUrl?: string,
  ): Promise<void> {
    const r = await runCommand({
      command: this.config[which],
      cwd: this.plan.dir,
      env: this.env(server, addr, release, databaseUrl),
      timeoutMs: which === 'start' ? this.config.healthTimeout : this.config.drainTimeout + 10_000,
      signal,
    });
    if (r.exitCode !== 0) {
      throw new FleetError(
        'FLEET_COMMAND_FAILED',
        `fleet.${which} for ${server} (release ${release}) ${r.timedOut ? 'timed out' : `exited ${r.exitCode ?? r.signal}`}`,
        { server, command: which, output: r.output },
      );
    }
  }

  /** Wait until the servers' sessions reach 0 (they are in drain or maint). */
  private async drain(servers: string[], signal: AbortSignal): Promise<void> {
    const deadline = Date.now() + this.config.drainTimeout;
    let last: Map<string, StatRow & { admin: Admin }> = new Map();
    try {
      await this.until(`sessions of ${servers.join(', ')} to end`, deadline, signal, async () => {
        last = await this.rows();
        return servers.every((s) => (last.get(s)?.scur ?? 0) === 0);
      });
    } catch (error) {
      if (!(error instanceof FleetError)) throw error;
      const open = servers.map((s) => `${s}: ${last.get(s)?.scur ?? '?'}`).join(', ');
      throw new FleetError(
        'FLEET_DRAIN_TIMEOUT',
        `sessions did not end within drainTimeout (${this.config.drainTimeout} ms): ${open}`,
        { servers },
      );
    }
  }

  /**
   * Warm and gate servers that run `release` and are in maint: maint's probe first, then
   * `drain` with health forced down, until `rise` fresh checks pass, then the probe again.
   */
  private async gate(
    servers: string[],
    release: string,
    deadline: number,
    signal: AbortSignal,
  ): Promise<void> {
    const expect = { release: this.config.probe.expectRelease ? release : null };
    const rows = await this.rows();
    const last = new Map<string, string>();
    const probeAll = async () => {
      const results = await Promise.all(
        servers.map(
          async (s) => [s, await probe(rows.get(s)?.addr ?? '', this.config.probe, expect, signal)] as const,
        ),
      );
      for (const [s, r] of results) last.set(s, r.ok ? 'probe ok' : `probe: ${r.reason}`);
      return results.every(([, r]) => r.ok);
    };
    const fail = (phase: string) =>
      new FleetHealthError(
        `release ${release} did not become healthy within healthTimeout (${this.config.healthTimeout} ms) on ${servers.join(', ')}: ${[...last.entries()].map(([s, why]) => `${s} ${why}`).join('; ')}`,
        { release, servers, phase, why: Object.fromEntries(last) },
      );
    try {
      await this.until('the probe', deadline, signal, probeAll);
    } catch (error) {
      if (error instanceof FleetError) throw fail('probe');
      throw error;
    }
    await this.setState(servers, 'drain', signal);
    for (const s of servers) await this.api(`set server ${this.config.backend}/${s} health down`);
    try {
      await this.until('fresh load balancer checks', deadline, signal, async () => {
        const now = await this.rows();
        for (const s of servers) {
          const r = now.get(s);
          last.set(s, `load balancer: ${r?.status ?? '?'} ${r?.checkStatus ?? ''}`.trim());
        }
        return servers.every((s) => {
          const r = now.get(s);
          return r !== undefined && freshlyHealthy(r);
        });
      });
      await this.until('the probe after the checks', deadline, signal, probeAll);
    } catch (error) {
      if (error instanceof FleetError) {
        await this.setState(servers, 'maint', signal).catch(() => undefined);
        throw fail('checks');
      }
      throw error;
    }
  }

  /** Move `servers` (one batch) to `release`: drain, stop, start, gate, ready. */
  private async replace(
    servers: string[],
    from: string | null,
    release: string,
    hooks: RollHooks,
    index: number,
    strictHealth: boolean,
  ): Promise<void> {
    const started = performance.now();
    const event = (phase: 'started' | 'healthy' | 'shifted' | 'drained') =>
      hooks.batch({
        index,
        phase,
        members: servers,
        release,
        elapsedMs: Math.round(performance.now() - started),
      });
    event('started');
    const rows = await this.rows();
    const others = [...rows.values()].filter(
      (r) => !servers.includes(r.server) && r.admin === 'ready' && healthOf(r) === 'up',
    );
    const serving = servers.filter((s) => rows.get(s)?.admin !== 'maint');
    if (serving.length > 0 && others.length === 0) {
      throw new FleetError(
        'FLEET_WOULD_EMPTY',
        `taking ${servers.join(', ')} out would leave backend ${this.config.backend} with no server in service`,
        { servers },
        { hint: 'Lower fleet.batch or add servers, so one batch is never the whole backend.' },
      );
    }
    if (serving.length > 0) {
      await this.setState(serving, 'drain', hooks.signal);
      await this.drain(serving, hooks.signal);
    }
    await this.setState(servers, 'maint', hooks.signal);
    event('drained');
    hooks.progress(`${servers.join(', ')}: drained, starting ${release}`);
    for (const s of servers)
      await this.command('stop', s, rows.get(s)?.addr ?? null, from ?? '', hooks.signal);
    for (const s of servers) await this.command('start', s, rows.get(s)?.addr ?? null, release, hooks.signal);
    try {
      await this.gate(servers, release, Date.now() + this.config.healthTimeout, hooks.signal);
    } catch (error) {
      if (strictHealth || !(error instanceof FleetHealthError)) throw error;
      throw new FleetError('FLEET_ROLLBACK_UNHEALTHY', `rolling back: ${error.message}`, error.stepDetail);
    }
    event('healthy');
    await this.setState(servers, 'ready', hooks.signal);
    event('shifted');
  }

  async roll(input: RollInput, hooks: RollHooks): Promise<RollOutcome> {
    const state = await this.describe(hooks.signal);
    return this.mode === 'blue-green'
      ? this.rollBlueGreen(input, state, hooks)
      : this.rollRolling(input, state, hooks);
  }

  private async rollRolling(input: RollInput, state: FleetState, hooks: RollHooks): Promise<RollOutcome> {
    const servers =
      (input.resume?.data.servers as string[] | undefined) ??
      this.config.servers ??
      state.members.filter((m) => m.inService).map((m) => m.id);
    const progress = (batch: number): RollProgress => ({
      mode: 'rolling',
      from: input.previous,
      to: input.release,
      phase: 'batch',
      data: { servers, batch },
    });
    for (const [index, batch] of chunk(servers, this.config.batch).entries()) {
      const now = await this.describe(hooks.signal);
      const todo = batch.filter((s) => {
        const m = now.members.find((x) => x.id === s);
        return !(m?.inService && m.release === input.release);
      });
      if (todo.length === 0) continue;
      await hooks.checkpoint(progress(index));
      await this.replace(todo, input.previous, input.release, hooks, index, true);
    }
    await hooks.checkpoint({ ...progress(-1), phase: 'done' });
    return { state: await this.verify(input.release, hooks.signal) };
  }

  private async rollBlueGreen(input: RollInput, state: FleetState, hooks: RollHooks): Promise<RollOutcome> {
    const resumed = input.resume?.phase;
    const sides = this.sides(input, state);
    const started = performance.now();
    if (resumed !== 'shifting' && resumed !== 'draining') await this.startGreen(input, sides, hooks, started);
    return this.shiftGreen(input, sides, hooks, started);
  }

  /** Blue-green: the servers the release goes to, and those serving before (journaled on resume). */
  private sides(input: RollInput, state: FleetState): { target: string[]; blue: string[] } {
    const target = (input.resume?.data.target as string[] | undefined) ?? this.greenSide(state);
    const blue =
      (input.resume?.data.blue as string[] | undefined) ??
      state.members.filter((m) => m.inService && !target.includes(m.id)).map((m) => m.id);
    return { target, blue };
  }

  private batchEvent(hooks: RollHooks, release: string, started: number) {
    return (phase: 'started' | 'healthy' | 'shifted' | 'drained', members: string[]) =>
      hooks.batch({
        index: 0,
        phase,
        members,
        release,
        elapsedMs: Math.round(performance.now() - started),
      });
  }

  private checkpointer(input: RollInput, sides: { target: string[]; blue: string[] }, hooks: RollHooks) {
    return (phase: string) =>
      hooks.checkpoint({
        mode: 'blue-green',
        from: input.previous,
        to: input.release,
        phase,
        data: { ...sides },
      });
  }

  /** Green started on the release (against `input.databaseUrl` when given) and gated; no traffic yet. */
  private async startGreen(
    input: RollInput,
    sides: { target: string[]; blue: string[] },
    hooks: RollHooks,
    started: number,
  ): Promise<void> {
    const { target } = sides;
    const event = this.batchEvent(hooks, input.release, started);
    await this.checkpointer(input, sides, hooks)('starting');
    event('started', target);
    const rows = await this.rows();
    const live = target.filter((s) => rows.get(s)?.admin !== 'maint');
    if (live.length > 0)
      throw new FleetError('FLEET_GREEN_BUSY', `green servers ${live.join(', ')} are not in maint`);
    for (const s of target) await this.command('stop', s, rows.get(s)?.addr ?? null, '', hooks.signal);
    for (const s of target)
      await this.command(
        'start',
        s,
        rows.get(s)?.addr ?? null,
        input.release,
        hooks.signal,
        input.databaseUrl,
      );
    await this.gate(target, input.release, Date.now() + this.config.healthTimeout, hooks.signal);
    event('healthy', target);
  }

  /** Green `ready` (read back), then blue drained, set `maint` and stopped. */
  private async shiftGreen(
    input: RollInput,
    sides: { target: string[]; blue: string[] },
    hooks: RollHooks,
    started: number,
  ): Promise<RollOutcome> {
    const { target, blue } = sides;
    const event = this.batchEvent(hooks, input.release, started);
    const checkpoint = this.checkpointer(input, sides, hooks);
    if (input.resume?.phase !== 'draining') {
      await checkpoint('shifting');
      await this.setState(target, 'ready', hooks.signal);
      event('shifted', target);
    }
    await checkpoint('draining');
    const rows = await this.rows();
    const old = blue.filter((s) => rows.get(s)?.admin !== 'maint');
    if (old.length > 0) {
      await this.setState(old, 'drain', hooks.signal);
      await this.drain(old, hooks.signal);
      await this.setState(old, 'maint', hooks.signal);
    }
    for (const s of blue)
      await this.command('stop', s, rows.get(s)?.addr ?? null, input.previous ?? '', hooks.signal);
    event('drained', blue);
    await checkpoint('done');
    return { state: await this.verify(input.release, hooks.signal) };
  }

  async warm(input: RollInput, hooks: RollHooks): Promise<void> {
    if (this.mode !== 'blue-green')
      throw new FleetError('FLEET_MODE', 'only a blue-green fleet starts a new fleet beside the old one');
    const state = await this.describe(hooks.signal);
    const sides = this.sides(input, state);
    if (input.resume) {
      // A resumed warm-up starts green afresh: whatever an interrupted one started is stopped.
      await this.setState(sides.target, 'maint', hooks.signal);
    }
    await this.startGreen(input, sides, hooks, performance.now());
    await this.checkpointer(input, sides, hooks)('warm');
  }

  async cutOver(input: RollInput, hooks: RollHooks): Promise<RollOutcome> {
    if (this.mode !== 'blue-green')
      throw new FleetError('FLEET_MODE', 'only a blue-green fleet shifts traffic to a new fleet');
    const state = await this.describe(hooks.signal);
    return this.shiftGreen(input, this.sides(input, state), hooks, performance.now());
  }

  async rollback(input: RollbackInput, hooks: RollHooks): Promise<RollOutcome> {
    const data = input.progress?.data ?? {};
    if (this.mode === 'blue-green' && Array.isArray(data.target)) {
      const target = data.target as string[];
      const blue = (data.blue as string[] | undefined) ?? [];
      const rows = await this.rows();
      // The old release first: back in service and verified before green is touched.
      const state = await this.describe(hooks.signal);
      const down = blue.filter((s) => {
        const m = state.members.find((x) => x.id === s);
        return !(m?.inService && m.release === input.previous);
      });
      const running = down.filter((s) => state.members.find((x) => x.id === s)?.release === input.previous);
      if (running.length > 0) await this.setState(running, 'ready', hooks.signal);
      const restart = down.filter((s) => !running.includes(s));
      if (restart.length > 0) {
        await this.setState(restart, 'maint', hooks.signal);
        for (const s of restart) await this.command('stop', s, rows.get(s)?.addr ?? null, '', hooks.signal);
        for (const s of restart)
          await this.command('start', s, rows.get(s)?.addr ?? null, input.previous, hooks.signal);
        await this.gate(restart, input.previous, Date.now() + this.config.healthTimeout, hooks.signal).catch(
          (e) => {
            throw new FleetError('FLEET_ROLLBACK_UNHEALTHY', `rolling back: ${(e as Error).message}`);
          },
        );
        await this.setState(restart, 'ready', hooks.signal);
      }
      const live = target.filter((s) => rows.get(s)?.admin !== 'maint');
      if (live.length > 0) {
        await this.setState(live, 'drain', hooks.signal);
        await this.drain(live, hooks.signal);
      }
      await this.setState(target, 'maint', hooks.signal);
      for (const s of target)
        await this.command('stop', s, rows.get(s)?.addr ?? null, input.failed, hooks.signal);
      return { state: await this.verify(input.previous, hooks.signal) };
    }
    const servers = (data.servers as string[] | undefined) ?? this.config.servers ?? [];
    const state = await this.describe(hooks.signal);
    const wrong = servers.filter((s) => {
      const m = state.members.find((x) => x.id === s);
      return !(m?.inService && m.release === input.previous);
    });
    // Out of service first (the failed batch): adds capacity back before anything is drained.
    const order = [
      ...wrong.filter((s) => !state.members.find((x) => x.id === s)?.inService),
      ...wrong.filter((s) => state.members.find((x) => x.id === s)?.inService),
    ];
    for (const [i, s] of order.entries())
      await this.replace([s], input.failed, input.previous, hooks, i, false);
    return { state: await this.verify(input.previous, hooks.signal) };
  }

  /** Read back: every server in service serves `release`, and at least one is in service. */
  private async verify(release: string, signal: AbortSignal): Promise<FleetState> {
    const state = await this.describe(signal);
    const serving = state.members.filter((m) => m.inService);
    // Without expectRelease a server may not name its release; then only the gate vouches for it.
    const off = serving.filter(
      (m) => m.release !== release && !(m.release === null && !this.config.probe.expectRelease),
    );
    if (serving.length === 0 || off.length > 0) {
      throw new FleetError(
        'FLEET_VERIFY_FAILED',
        serving.length === 0
          ? `no server of backend ${this.config.backend} is in service`
          : `read back: ${off.map((m) => `${m.id} serves ${m.release ?? 'an unknown release'}`).join(', ')}, expected ${release}`,
        { members: state.members },
      );
    }
    return state;
  }

  async close(): Promise<void> {
    // One connection per command: nothing stays open.
  }
}
