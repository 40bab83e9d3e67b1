/**
 * The shared fakes of the core's ports (Database, LockSession, Migrator, Journal, notifications,
 * fleet, cloner, clock) and `fakePorts()` to build a whole `Ports` from them, so the core is
 * tested without a server and without module mocking. They record what was asked of them.
 */
import type {
  AcquireLockOptions,
  AnalyzeOptions,
  AnalyzeReport,
  Database,
  LockHolder,
  LockSession,
  QueryOptions,
  Queryable,
  Row,
} from '../../src/db/database.js';
import type {
  AppliedMigration,
  ChangedMigration,
  DownOptions,
  MigrationInfo,
  Migrator,
  PendingMigration,
  UpOptions,
} from '../../src/migrations/migrator.js';
import type { Cloner, ClonerPort } from '../../src/clone/cloner.js';
import type { Clock } from '../../src/core/clock.js';
import type { AnyCoreEvent, EventSink } from '../../src/core/events.js';
import type { MaintenanceEvent } from '../../src/core/maintenance-event.js';
import { STATE_OF_EVENT } from '../../src/core/maintenance-event.js';
import type { Ports } from '../../src/core/ports.js';
import type { Fleet, FleetMember, FleetPort, FleetState } from '../../src/fleet/fleet.js';
import { FleetHealthError } from '../../src/fleet/errors.js';
import type { NotifyPort } from '../../src/notify/port.js';
import { MaintError, ExitCode } from '../../src/errors.js';
import { createMemoryLogger } from '../../src/support/logger.js';
import { MemoryJournal } from './memory-journal.js';

export { MemoryJournal } from './memory-journal.js';

export class FakeLockSession implements LockSession {
  lost = false;
  released = false;
  verifications = 0;
  constructor(readonly holder: LockHolder) {}
  async verify(): Promise<void> {
    this.verifications++;
    if (this.lost) throw new MaintError('LOCK_LOST', ExitCode.operatorAction, 'the lock connection is gone');
  }
  async release(): Promise<void> {
    this.released = true;
  }
}

export class FakeDatabase implements Database {
  readonly engine = 'postgres' as const;
  readonly dialect = 'postgres' as const;
  /** Answers by SQL text; unknown SQL returns no rows. */
  answers = new Map<string, () => Row[]>();
  queries: string[] = [];
  analyzeCalls: AnalyzeOptions[] = [];
  tables: string[] = ['orders'];
  lockHeldBy: LockHolder | null = null;
  session_: FakeLockSession | null = null;
  serverOffsetMs = 0;
  closed = false;

  constructor(private readonly now: () => Date = () => new Date()) {}

  async query<R extends Row = Row>(sql: string, _params?: unknown[], _options?: QueryOptions): Promise<R[]> {
    this.queries.push(sql);
    const answer = this.answers.get(sql.trim());
    return (answer ? answer() : []) as R[];
  }
  async transaction<T>(fn: (tx: Queryable) => Promise<T>): Promise<T> {
    return fn(this);
  }
  async serverTime(): Promise<Date> {
    return new Date(this.now().getTime() + this.serverOffsetMs);
  }
  async acquireLock(_name: string, options: AcquireLockOptions): Promise<LockSession | null> {
    if (this.lockHeldBy) return null;
    const holder: LockHolder = {
      lockId: 'lock-1',
      host: 'test-host',
      pid: 4242,
      purpose: options.purpose,
      since: this.now().toISOString(),
      lastHeartbeat: this.now().toISOString(),
    };
    this.session_ = new FakeLockSession(holder);
    return this.session_;
  }
  async lockStatus(): Promise<LockHolder | null> {
    return this.lockHeldBy;
  }
  async releaseLock(): Promise<void> {}
  async analyze(options: AnalyzeOptions): Promise<AnalyzeReport> {
    this.analyzeCalls.push(options);
    const tables = options.tables ?? this.tables;
    return { tables, stages: [{ name: 'analyze', durationMs: 1 }] };
  }
  async listTables(): Promise<string[]> {
    return this.tables;
  }
  async close(): Promise<void> {
    this.closed = true;
  }
}

export interface FakeMigration {
  name: string;
  hasDown?: boolean;
  /** Side effect of applying it. */
  up?: () => void;
  down?: () => void;
  /** Throw while applying. */
  failUp?: boolean;
  failDown?: boolean;
  /** Wait until the signal aborts, then fail as a cancelled query would; `onHang` sees it start. */
  hang?: boolean;
}

export class FakeMigrator implements Migrator {
  applied_: AppliedMigration[] = [];
  upCalls = 0;
  downCalls: Array<string | 0> = [];
  /** Called when a hanging migration starts waiting. */
  onHang: () => void = () => undefined;
  /** How many times each migration was applied, over the fake's life. */
  applyCount = new Map<string, number>();

  constructor(readonly migrations: FakeMigration[]) {}

  private info(m: FakeMigration): MigrationInfo {
    return {
      name: m.name,
      file: `migrations/${m.name}.sql`,
      hasDown: m.hasDown ?? true,
      transactional: true,
    };
  }
  async all(): Promise<MigrationInfo[]> {
    return this.migrations.map((m) => this.info(m));
  }
  async applied(): Promise<AppliedMigration[]> {
    return [...this.applied_];
  }
  async pending(): Promise<PendingMigration[]> {
    const done = new Set(this.applied_.map((a) => a.name));
    return this.migrations
      .filter((m) => !done.has(m.name))
      .map((m) => ({ ...this.info(m), state: 'pending' as const, statementsDone: 0, statements: null }));
  }
  async changed(): Promise<ChangedMigration[]> {
    return [];
  }
  async accept(): Promise<ChangedMigration[]> {
    return [];
  }
  async up(options: UpOptions = {}): Promise<AppliedMigration[]> {
    this.upCalls++;
    const out: AppliedMigration[] = [];
    for (const info of await this.pending()) {
      const m = this.migrations.find((x) => x.name === info.name)!;
      options.onProgress?.({ type: 'migrating', name: m.name });
      if (m.hang) {
        await new Promise<void>((resolve) => {
          if (options.signal?.aborted) resolve();
          options.signal?.addEventListener('abort', () => resolve(), { once: true });
          this.onHang();
        });
        throw new MaintError('DB_QUERY_CANCELLED', ExitCode.rolledBack, `migration ${m.name} was cancelled`);
      }
      if (m.failUp)
        throw new MaintError(
          'MIGRATION_FAILED',
          ExitCode.rolledBack,
          `migration ${m.name} failed: syntax error`,
        );
      m.up?.();
      this.applyCount.set(m.name, (this.applyCount.get(m.name) ?? 0) + 1);
      const applied: AppliedMigration = {
        ...this.info(m),
        appliedAt: new Date(0).toISOString(),
        checksum: 'x',
        durationMs: 1,
      };
      this.applied_.push(applied);
      out.push(applied);
      options.onProgress?.({ type: 'migrated', name: m.name, durationMs: 1 });
    }
    return out;
  }
  async down(options: DownOptions): Promise<MigrationInfo[]> {
    this.downCalls.push(options.to);
    const out: MigrationInfo[] = [];
    while (this.applied_.length > 0) {
      const last = this.applied_.at(-1)!;
      if (options.to !== 0 && last.name === options.to) break;
      const m = this.migrations.find((x) => x.name === last.name)!;
      if (m.failDown || m.hasDown === false)
        throw new MaintError('MIGRATION_DOWN_FAILED', ExitCode.operatorAction, `cannot revert ${m.name}`);
      m.down?.();
      this.applied_.pop();
      out.push(this.info(m));
    }
    return out;
  }
}

/** A notification port that records events and delivers nowhere. */
export function fakeNotify(): NotifyPort & { events: MaintenanceEvent[] } {
  const events: MaintenanceEvent[] = [];
  return {
    events,
    makeEvent(input, clock) {
      const w = (x: { start: Date; end: Date }) => ({
        start: x.start.toISOString(),
        end: x.end.toISOString(),
        startLocal: x.start.toISOString(),
        endLocal: x.end.toISOString(),
        timezone: input.plan.window.timezone,
      });
      const event: MaintenanceEvent = {
        id: `evt_${events.length + 1}`,
        type: input.type,
        plan: input.plan.name,
        runId: input.runId,
        occurredAt: clock.now().toISOString(),
        state: STATE_OF_EVENT[input.type],
        window: w(input.window),
        summary: input.summary ?? input.type,
        ...(input.emergency ? { emergency: input.emergency } : {}),
        ...(input.nextWindow ? { nextWindow: w(input.nextWindow) } : {}),
        ...(input.error
          ? {
              error: {
                code: (input.error as MaintError).code ?? 'X',
                message: String((input.error as Error).message),
              },
            }
          : {}),
      };
      events.push(event);
      return event;
    },
    async createChannels() {
      return [];
    },
    async deliver() {
      return [];
    },
  };
}

/** A clock that moves only when told to, for tests. */
export class FakeClock implements Clock {
  private nowMs: number;
  private mono = 0;
  private sleepers: Array<{ until: number; resolve: () => void }> = [];

  constructor(start: Date | string) {
    this.nowMs = typeof start === 'string' ? Date.parse(start) : start.getTime();
  }

  now(): Date {
    return new Date(this.nowMs);
  }

  monotonicMs(): number {
    return this.mono;
  }

  sleep(ms: number): Promise<void> {
    return new Promise((resolve) => this.sleepers.push({ until: this.mono + ms, resolve }));
  }

  advance(ms: number): void {
    this.nowMs += ms;
    this.mono += ms;
    const due = this.sleepers.filter((s) => s.until <= this.mono);
    this.sleepers = this.sleepers.filter((s) => s.until > this.mono);
    for (const s of due) s.resolve();
  }
}

/**
 * A stateful fake fleet: members serving releases, rolled one batch at a time through the
 * hooks like a real provider. `unhealthy` releases never pass the gate (FleetHealthError);
 * every open, roll and rollback is recorded.
 */
export function fakeFleetPort(
  options: { release?: string | null; members?: string[]; unhealthy?: string[] } = {},
): FleetPort & { opened: number; calls: string[]; members: FleetMember[] } {
  const members: FleetMember[] = (options.members ?? ['web1', 'web2']).map((id) => ({
    id,
    addr: null,
    admin: 'ready',
    health: 'up',
    check: 'L7OK',
    sessions: 0,
    release: options.release ?? null,
    inService: true,
  }));
  const read = (): FleetState => {
    const releases = [...new Set(members.filter((m) => m.inService).map((m) => m.release ?? ''))];
    return {
      provider: 'command',
      release: releases.length === 1 && releases[0] ? releases[0] : null,
      releases: releases.filter(Boolean),
      members: structuredClone(members),
    };
  };
  const setAll = (release: string) => {
    for (const m of members) m.release = release;
  };
  const port = {
    opened: 0,
    calls: [] as string[],
    members,
    async open(): Promise<Fleet> {
      port.opened++;
      return {
        provider: 'command',
        mode: 'rolling',
        describe: async () => read(),
        preview: (state, release) => ({
          mode: 'rolling',
          from: state.release,
          to: release,
          batches: members.map((m, index) => ({ index, members: [m.id], estimateMs: 1000 })),
          estimateMs: members.length * 1000,
        }),
        async roll(input, hooks) {
          port.calls.push(`roll ${input.release}`);
          for (const [index, m] of members.entries()) {
            if (m.release === input.release) continue;
            await hooks.checkpoint({
              mode: 'rolling',
              from: input.previous,
              to: input.release,
              phase: 'batch',
              data: { index },
            });
            hooks.batch({ index, phase: 'started', members: [m.id], release: input.release, elapsedMs: 0 });
            if (options.unhealthy?.includes(input.release)) {
              throw new FleetHealthError(`${m.id} did not become healthy on ${input.release}`, {
                server: m.id,
              });
            }
            m.release = input.release;
            hooks.batch({ index, phase: 'healthy', members: [m.id], release: input.release, elapsedMs: 1 });
            hooks.batch({ index, phase: 'shifted', members: [m.id], release: input.release, elapsedMs: 1 });
          }
          return { state: read() };
        },
        async rollback(input) {
          port.calls.push(`rollback ${input.previous}`);
          setAll(input.previous);
          return { state: read() };
        },
        close: async () => undefined,
      };
    },
  };
  return port;
}

/** A cloner that opens and does nothing else (clone-freeze is not built yet). */
export function fakeClonerPort(): ClonerPort & { opened: number } {
  const port = {
    opened: 0,
    async open(): Promise<Cloner> {
      port.opened++;
      return { close: async () => undefined };
    },
  };
  return port;
}

/** A sink that keeps every coded event, in order. */
export function collectingSink(): EventSink & { events: AnyCoreEvent[]; codes(): string[] } {
  const events: AnyCoreEvent[] = [];
  return { events, emit: (e) => events.push(e), codes: () => events.map((e) => e.code) };
}

export interface FakePorts extends Ports {
  db: FakeDatabase;
  migrator: FakeMigrator;
  memoryJournal: MemoryJournal;
  notifyPort: ReturnType<typeof fakeNotify>;
  opened: number;
}

/** A whole `Ports` of fakes; override any of them. */
export function fakePorts(options: {
  clock: Clock;
  migrations?: FakeMigration[];
  overrides?: Partial<Ports>;
}): FakePorts {
  const db = new FakeDatabase(() => options.clock.now());
  const migrator = new FakeMigrator(options.migrations ?? []);
  const memoryJournal = new MemoryJournal();
  const notifyPort = fakeNotify();
  const ports: FakePorts = {
    db,
    migrator,
    memoryJournal,
    notifyPort,
    opened: 0,
    openDatabase: async () => {
      ports.opened++;
      return db;
    },
    createMigrator: async () => migrator,
    journal: () => memoryJournal,
    notify: async () => notifyPort,
    fleet: fakeFleetPort(),
    cloner: fakeClonerPort(),
    clock: options.clock,
    host: { host: 'test-host', pid: 4242 },
    logger: createMemoryLogger(),
    ...options.overrides,
  };
  return ports;
}
