/**
 * A stateful stand-in for Amazon RDS on 127.0.0.1, speaking the real wire protocol (the AWS
 * query protocol: form-encoded POST, XML answers), so the real `@aws-sdk/client-rds` serialises
 * and parses every call. Instances, snapshots and blue/green deployments move through their real
 * status sequences, one step per tick; every request to the endpoint is one tick (nothing
 * depends on the wall clock, so a test is as fast as its client polls).
 *
 * The databases behind the instances are real PostgreSQL databases on the test server. Each
 * instance endpoint is its own TCP port on 127.0.0.1: a small proxy that rewrites the database
 * name in the client's startup message to the instance's real database, then pipes bytes. So
 * every instance serves "the same" database name (the plan's), as on RDS, at its own endpoint:
 * - CreateBlueGreenDeployment makes green: a new database, a `pg_dump | psql` copy of blue
 *   (blue has sessions, so `CREATE DATABASE … TEMPLATE` would be refused), behind a new endpoint.
 * - The switchover swaps the two endpoints (the blue endpoint now reaches green's database; the
 *   old instance is renamed `<id>-old1` and reached at the other endpoint) and drops every
 *   session through either endpoint, as RDS does. Real RDS replicates blue into green until the
 *   switchover; the fake copies only maint's own journal and lock tables into green at that
 *   moment (what maint needs to go on journaling) — rows the application wrote on blue after
 *   green was made are not carried over.
 * - CreateDBSnapshot copies the instance's database into a snapshot database;
 *   RestoreDBInstanceFromDBSnapshot is `CREATE DATABASE … TEMPLATE <snapshot>` behind a new
 *   endpoint; deleting drops them.
 *
 * Faults (`fake.faults`): throttling of the next N requests, describes that show the state
 * before a write for N more reads, a switchover that never completes (RDS's SwitchoverTimeout
 * passes — one tick counts as one second — and it rolls back: SWITCHOVER_FAILED, blue unchanged),
 * a green that fails to become available, an upgrade that leaves the instance
 * `incompatible-parameters`.
 */
import http from 'node:http';
import net from 'node:net';
import type { AddressInfo } from 'node:net';
import pg from 'pg';
import { copyDatabase } from '../../src/clone/pg-tools.js';

const ACCOUNT = '123456789012';
const REGION = 'eu-west-1';
const NS = 'http://rds.amazonaws.com/doc/2014-10-31/';
/** maint's tables the fake "replicates" into green at the switchover. */
const MAINT_TABLES = ['maint_runs', 'maint_run_steps', 'maint_lock_holders'];

export interface FakeRdsFaults {
  throttle: number;
  lagReads: number;
  switchoverStalls: boolean;
  greenFails: boolean;
  upgradeFails: boolean;
}

export interface FakeRdsCall {
  action: string;
  params: Record<string, string>;
  outcome: string;
  tick: number;
  /** Describes: the status (and engine version) answered, `absent` when not found. */
  answer?: string;
}

/** One status shown for `ticks` ticks (and until `gate` says so); `enter` runs when it begins. */
interface Phase {
  status: string;
  ticks: number;
  gate?: () => boolean;
  enter?: () => Promise<void> | void;
}

interface Scripted {
  status: string;
  script: Phase[];
  left: number;
  failed?: string;
}

class Endpoint {
  readonly sockets = new Set<net.Socket>();
  port = 0;
  private readonly server: net.Server;
  constructor(
    public database: string,
    private readonly pgPort: number,
  ) {
    this.server = net.createServer((client) => this.accept(client));
  }
  async listen(): Promise<void> {
    await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', resolve));
    this.port = (this.server.address() as AddressInfo).port;
  }
  /** Every session through this endpoint ends (RDS drops connections at a switchover). */
  dropAll(): void {
    for (const s of this.sockets) s.destroy();
    this.sockets.clear();
  }
  async close(): Promise<void> {
    this.dropAll();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
  private accept(client: net.Socket): void {
    this.sockets.add(client);
    client.on('close', () => this.sockets.delete(client));
    client.on('error', () => undefined);
    let buffer = Buffer.alloc(0);
    const onData = (chunk: Buffer) => {
      buffer = Buffer.concat([buffer, chunk]);
      for (;;) {
        if (buffer.length < 8) return;
        const length = buffer.readInt32BE(0);
        if (buffer.length < length) return;
        const code = buffer.readInt32BE(4);
        if (code === 80877103 || code === 80877104) {
          // SSLRequest / GSSENCRequest: not offered.
          client.write('N');
          buffer = buffer.subarray(length);
          continue;
        }
        client.off('data', onData);
        const first = buffer.subarray(0, length);
        const rest = buffer.subarray(length);
        const upstream = net.connect(this.pgPort, '127.0.0.1');
        this.sockets.add(upstream);
        upstream.on('close', () => {
          this.sockets.delete(upstream);
          client.destroy();
        });
        upstream.on('error', () => client.destroy());
        client.on('close', () => upstream.destroy());
        upstream.write(code === 196608 ? this.rewrite(first) : first);
        if (rest.length > 0) upstream.write(rest);
        client.pipe(upstream);
        upstream.pipe(client);
        return;
      }
    };
    client.on('data', onData);
  }
  /** The startup message with `database` set to this endpoint's real database. */
  private rewrite(message: Buffer): Buffer {
    const parts = message
      .subarray(8, message.length - 1)
      .toString('utf8')
      .split('\0');
    const params: string[] = [];
    let found = false;
    for (let i = 0; i + 1 < parts.length; i += 2) {
      if (parts[i] === 'database') {
        params.push('database', this.database);
        found = true;
      } else params.push(parts[i]!, parts[i + 1]!);
    }
    if (!found) params.push('database', this.database);
    const body = Buffer.from(`${params.join('\0')}\0\0`, 'utf8');
    const head = Buffer.alloc(8);
    head.writeInt32BE(body.length + 8, 0);
    head.writeInt32BE(196608, 4);
    return Buffer.concat([head, body]);
  }
}

interface Instance extends Scripted {
  id: string;
  engineVersion: string;
  instanceClass: string;
  endpoint: Endpoint;
  /** No endpoint shown yet (creating). */
  hidden: boolean;
  /** The fake made this database (dropped on delete and close). */
  owned: boolean;
}

interface Snapshot extends Scripted {
  id: string;
  instance: string;
  database: string;
}

interface Deployment extends Scripted {
  id: string;
  name: string;
  blue: Instance;
  green: Instance;
  details: string;
}

class Fault extends Error {
  constructor(
    readonly code: string,
    message: string,
    readonly status = 400,
  ) {
    super(message);
  }
}

export class FakeRds {
  readonly faults: FakeRdsFaults = {
    throttle: 0,
    lagReads: 0,
    switchoverStalls: false,
    greenFails: false,
    upgradeFails: false,
  };
  readonly calls: FakeRdsCall[] = [];
  tick = 0;
  url = '';
  /** Ticks a copy-backed creation shows `creating` at least. */
  createTicks = 3;
  readonly instances: Instance[] = [];
  readonly snapshots: Snapshot[] = [];
  readonly deployments: Deployment[] = [];
  /** Databases the fake made (dropped on close). */
  private readonly madeDatabases = new Set<string>();
  private readonly stale = new Map<string, { view: string | null; reads: number }>();
  private readonly server: http.Server;
  private chain: Promise<unknown> = Promise.resolve();
  private seq = 0;

  private constructor(
    /** The test server's URL (its `postgres` database): where the fake makes databases. */
    private readonly serverUrl: string,
  ) {
    this.server = http.createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        const body = Buffer.concat(chunks).toString('utf8');
        const run = this.chain.then(() => this.handle(body));
        this.chain = run.catch(() => undefined);
        run.then(
          ({ status, body: xml }) => {
            res.writeHead(status, { 'content-type': 'text/xml', 'x-amzn-requestid': `req-${this.seq++}` });
            res.end(xml);
          },
          (error: unknown) => {
            res.writeHead(500, { 'content-type': 'text/plain' });
            res.end(String(error));
          },
        );
      });
    });
  }

  static async start(serverUrl: string): Promise<FakeRds> {
    const fake = new FakeRds(serverUrl);
    await new Promise<void>((resolve) => fake.server.listen(0, '127.0.0.1', resolve));
    fake.url = `http://127.0.0.1:${(fake.server.address() as AddressInfo).port}`;
    return fake;
  }

  async close(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
    await this.chain;
    for (const i of this.instances) await i.endpoint.close();
    for (const d of this.madeDatabases) await this.sql(`drop database if exists "${d}" with (force)`);
  }

  /** An instance already `available`, serving the existing database `database`. */
  async addInstance(options: { id: string; database: string; engineVersion?: string }): Promise<Instance> {
    const endpoint = new Endpoint(options.database, Number(new URL(this.serverUrl).port || 5432));
    await endpoint.listen();
    const instance: Instance = {
      id: options.id,
      engineVersion: options.engineVersion ?? '15.4',
      instanceClass: 'db.t3.micro',
      endpoint,
      hidden: false,
      owned: false,
      status: 'available',
      script: [],
      left: 0,
    };
    this.instances.push(instance);
    return instance;
  }

  /** A URL (as the plan's role: postgres, trust) that reaches `database` through the instance's endpoint. */
  urlOf(instance: Instance | string, database = 'app'): string {
    const i = typeof instance === 'string' ? this.instance(instance) : instance;
    if (!i) throw new Error(`no instance ${String(instance)}`);
    return `postgres://postgres@127.0.0.1:${i.endpoint.port}/${database}`;
  }

  instance(idOrArn: string): Instance | undefined {
    return this.instances.find((i) => i.id === idOrArn || arnOf(i.id) === idOrArn);
  }

  /** The test server's URL of a database (not through any endpoint). */
  directUrl(database: string): string {
    const u = new URL(this.serverUrl);
    u.pathname = `/${database}`;
    return u.toString();
  }

  callsOf(action: string): FakeRdsCall[] {
    return this.calls.filter((c) => c.action === action);
  }

  // ---- the wire -------------------------------------------------------------------------------

  private async handle(body: string): Promise<{ status: number; body: string }> {
    const params = Object.fromEntries(new URLSearchParams(body));
    const action = params.Action ?? '';
    this.tick++;
    const call: FakeRdsCall = { action, params, outcome: '200', tick: this.tick };
    this.calls.push(call);
    try {
      await this.advance();
      if (this.faults.throttle > 0) {
        this.faults.throttle--;
        throw new Fault('Throttling', 'Rate exceeded');
      }
      const xml = await this.act(action, params);
      return {
        status: 200,
        body: `<${action}Response xmlns="${NS}"><${action}Result>${xml}</${action}Result><ResponseMetadata><RequestId>r${this.seq}</RequestId></ResponseMetadata></${action}Response>`,
      };
    } catch (error) {
      if (!(error instanceof Fault)) throw error;
      call.outcome = error.code;
      return {
        status: error.status,
        body: `<ErrorResponse xmlns="${NS}"><Error><Type>Sender</Type><Code>${error.code}</Code><Message>${esc(error.message)}</Message></Error><RequestId>r${this.seq}</RequestId></ErrorResponse>`,
      };
    }
  }

  private async act(action: string, p: Record<string, string>): Promise<string> {
    switch (action) {
      case 'DescribeDBInstances': {
        const id = p.DBInstanceIdentifier ?? '';
        const view = this.read(`i:${id}`, () => {
          const i = this.instance(id);
          return i ? instanceXml(i) : null;
        });
        if (view === null) throw new Fault('DBInstanceNotFound', `DBInstance ${id} not found.`, 404);
        return `<DBInstances>${view}</DBInstances>`;
      }
      case 'DescribeDBSnapshots': {
        const id = p.DBSnapshotIdentifier ?? '';
        const view = this.read(`s:${id}`, () => {
          const s = this.snapshots.find((x) => x.id === id);
          return s ? snapshotXml(s) : null;
        });
        if (view === null) throw new Fault('DBSnapshotNotFound', `DBSnapshot ${id} not found.`, 404);
        return `<DBSnapshots>${view}</DBSnapshots>`;
      }
      case 'DescribeBlueGreenDeployments': {
        const id = p.BlueGreenDeploymentIdentifier ?? '';
        const view = this.read(`d:${id}`, () => {
          const d = this.deployments.find((x) => x.id === id);
          return d ? `<member>${deploymentXml(d)}</member>` : null;
        });
        if (view === null)
          throw new Fault('BlueGreenDeploymentNotFoundFault', `BlueGreenDeployment ${id} not found.`, 404);
        return `<BlueGreenDeployments>${view}</BlueGreenDeployments>`;
      }
      case 'CreateBlueGreenDeployment':
        return this.createDeployment(p);
      case 'SwitchoverBlueGreenDeployment': {
        const d = this.deployment(p.BlueGreenDeploymentIdentifier);
        if (d.status !== 'AVAILABLE')
          throw new Fault('InvalidBlueGreenDeploymentStateFault', `the deployment is ${d.status}`);
        const timeout = Number(p.SwitchoverTimeout ?? 300);
        this.lag(`d:${d.id}`, `<member>${deploymentXml(d)}</member>`);
        this.play(d, [
          { status: 'SWITCHOVER_IN_PROGRESS', ticks: this.faults.switchoverStalls ? timeout : 3 },
          this.faults.switchoverStalls
            ? {
                status: 'SWITCHOVER_FAILED',
                ticks: Infinity,
                enter: () => void (d.details = 'Switchover timed out: rolled back, blue serves'),
              }
            : { status: 'SWITCHOVER_COMPLETED', ticks: Infinity, enter: () => this.switch(d) },
        ]);
        return `<BlueGreenDeployment>${deploymentXml(d)}</BlueGreenDeployment>`;
      }
      case 'DeleteBlueGreenDeployment': {
        const d = this.deployment(p.BlueGreenDeploymentIdentifier);
        const target = p.DeleteTarget === 'true';
        if (target && d.status === 'SWITCHOVER_COMPLETED')
          throw new Fault(
            'InvalidBlueGreenDeploymentStateFault',
            'DeleteTarget is refused after a switchover',
          );
        if (d.status === 'SWITCHOVER_IN_PROGRESS')
          throw new Fault('InvalidBlueGreenDeploymentStateFault', 'a switchover is in progress');
        this.lag(`d:${d.id}`, `<member>${deploymentXml(d)}</member>`);
        this.play(d, [
          { status: 'DELETING', ticks: 2 },
          {
            status: 'GONE',
            ticks: 0,
            enter: () => void this.deployments.splice(this.deployments.indexOf(d), 1),
          },
        ]);
        if (target) this.deleteInstance(d.green);
        return `<BlueGreenDeployment>${deploymentXml(d)}</BlueGreenDeployment>`;
      }
      case 'CreateDBSnapshot': {
        const source = this.instance(p.DBInstanceIdentifier ?? '');
        if (!source)
          throw new Fault('DBInstanceNotFound', `DBInstance ${p.DBInstanceIdentifier} not found.`, 404);
        const id = p.DBSnapshotIdentifier ?? '';
        if (this.snapshots.some((s) => s.id === id)) throw new Fault('DBSnapshotAlreadyExists', id);
        const database = `${source.endpoint.database}_snap_${this.seq++}`.slice(0, 63);
        const copy = this.copy(source.endpoint.database, database);
        const s: Snapshot = { id, instance: source.id, database, status: 'creating', script: [], left: 0 };
        this.lag(`s:${id}`, null);
        this.snapshots.push(s);
        this.play(s, [
          { status: 'creating', ticks: this.createTicks, gate: copy.done },
          { status: 'available', ticks: Infinity, enter: () => copy.check() },
        ]);
        return `<DBSnapshot>${snapshotXml(s)}</DBSnapshot>`;
      }
      case 'DeleteDBSnapshot': {
        const i = this.snapshots.findIndex((s) => s.id === p.DBSnapshotIdentifier);
        if (i < 0) throw new Fault('DBSnapshotNotFound', `${p.DBSnapshotIdentifier}`, 404);
        const [s] = this.snapshots.splice(i, 1);
        await this.dropDatabase(s!.database);
        return `<DBSnapshot>${snapshotXml({ ...s!, status: 'deleted' })}</DBSnapshot>`;
      }
      case 'RestoreDBInstanceFromDBSnapshot': {
        const s = this.snapshots.find((x) => x.id === p.DBSnapshotIdentifier);
        if (!s || s.status !== 'available')
          throw new Fault('DBSnapshotNotFound', `${p.DBSnapshotIdentifier} not found or not available`, 404);
        const id = p.DBInstanceIdentifier ?? '';
        if (this.instance(id)) throw new Fault('DBInstanceAlreadyExists', id);
        const database = `${s.database}_r${this.seq++}`.slice(0, 63);
        await this.sql(`create database "${database}" template "${s.database}"`);
        this.madeDatabases.add(database);
        const i = await this.newInstance(id, database, this.instance(s.instance)?.engineVersion ?? '15.4');
        i.instanceClass = p.DBInstanceClass ?? i.instanceClass;
        this.lag(`i:${id}`, null);
        this.play(i, [
          { status: 'creating', ticks: this.createTicks },
          { status: 'backing-up', ticks: 1 },
          { status: 'available', ticks: Infinity, enter: () => void (i.hidden = false) },
        ]);
        return `<DBInstance>${instanceXml(i)}</DBInstance>`;
      }
      case 'DeleteDBInstance': {
        const i = this.instance(p.DBInstanceIdentifier ?? '');
        if (!i) throw new Fault('DBInstanceNotFound', `DBInstance ${p.DBInstanceIdentifier} not found.`, 404);
        this.lag(`i:${i.id}`, instanceXml(i));
        this.deleteInstance(i);
        return `<DBInstance>${instanceXml(i)}</DBInstance>`;
      }
      case 'ModifyDBInstance': {
        const i = this.instance(p.DBInstanceIdentifier ?? '');
        if (!i) throw new Fault('DBInstanceNotFound', `DBInstance ${p.DBInstanceIdentifier} not found.`, 404);
        const to = p.EngineVersion;
        if (!to || to === i.engineVersion) return `<DBInstance>${instanceXml(i)}</DBInstance>`;
        if (i.status !== 'available')
          throw new Fault('InvalidDBInstanceState', `the instance is ${i.status}`);
        if (to.split('.')[0] !== i.engineVersion.split('.')[0] && p.AllowMajorVersionUpgrade !== 'true')
          throw new Fault(
            'InvalidParameterCombination',
            'The AllowMajorVersionUpgrade flag must be present when upgrading to a new major version.',
          );
        this.lag(`i:${i.id}`, instanceXml(i));
        this.play(
          i,
          this.faults.upgradeFails
            ? [
                { status: 'upgrading', ticks: 3 },
                { status: 'incompatible-parameters', ticks: Infinity },
              ]
            : [
                { status: 'upgrading', ticks: 3 },
                // RDS shows `available` on the new version before the last reboot.
                { status: 'available', ticks: 1, enter: () => void (i.engineVersion = to) },
                { status: 'rebooting', ticks: 2 },
                { status: 'available', ticks: Infinity },
              ],
        );
        return `<DBInstance>${instanceXml(i)}</DBInstance>`;
      }
      default:
        throw new Fault('InvalidAction', `the fake does not know ${action}`);
    }
  }

  private async createDeployment(p: Record<string, string>): Promise<string> {
    const blue = this.instance(p.Source ?? '');
    if (!blue) throw new Fault('SourceDatabaseNotFoundFault', `${p.Source} not found`, 404);
    if (blue.status !== 'available')
      throw new Fault('InvalidDBInstanceState', `the source is ${blue.status}`);
    const n = this.seq++;
    const database = `${blue.endpoint.database}_green_${n}`.slice(0, 63);
    const green = await this.newInstance(
      `${blue.id}-green-${hex(n)}`,
      database,
      p.TargetEngineVersion ?? blue.engineVersion,
    );
    green.instanceClass = p.TargetDBInstanceClass ?? blue.instanceClass;
    await this.sql(`create database "${database}"`);
    this.madeDatabases.add(database);
    const copy = this.copy(blue.endpoint.database, database, false);
    const d: Deployment = {
      id: `bgd-${hex(n)}${hex(this.tick)}`,
      name: p.BlueGreenDeploymentName ?? '',
      blue,
      green,
      details: '',
      status: 'PROVISIONING',
      script: [],
      left: 0,
    };
    this.deployments.push(d);
    this.lag(`d:${d.id}`, null);
    const fails = this.faults.greenFails;
    this.play(green, [
      { status: 'creating', ticks: this.createTicks, gate: copy.done },
      fails
        ? { status: 'incompatible-parameters', ticks: Infinity }
        : {
            status: 'available',
            ticks: Infinity,
            enter: () => {
              copy.check();
              green.hidden = false;
            },
          },
    ]);
    this.play(d, [
      { status: 'PROVISIONING', ticks: this.createTicks + 1, gate: copy.done },
      fails
        ? {
            status: 'INVALID_CONFIGURATION',
            ticks: Infinity,
            enter: () => void (d.details = 'the green instance is incompatible-parameters'),
          }
        : { status: 'AVAILABLE', ticks: Infinity },
    ]);
    return `<BlueGreenDeployment>${deploymentXml(d)}</BlueGreenDeployment>`;
  }

  /** The switchover's effect: maint's tables carried into green, endpoints swapped, sessions dropped. */
  private async switch(d: Deployment): Promise<void> {
    const { blue, green } = d;
    await this.carryMaintTables(blue.endpoint.database, green.endpoint.database);
    const blueEndpoint = blue.endpoint;
    const greenEndpoint = green.endpoint;
    const blueDb = blueEndpoint.database;
    blueEndpoint.database = greenEndpoint.database;
    greenEndpoint.database = blueDb;
    blue.endpoint = greenEndpoint;
    green.endpoint = blueEndpoint;
    const id = blue.id;
    blue.id = `${id}-old1`;
    green.id = id;
    blueEndpoint.dropAll();
    greenEndpoint.dropAll();
  }

  private async carryMaintTables(from: string, to: string): Promise<void> {
    const src = new pg.Client({ connectionString: this.directUrl(from) });
    const dst = new pg.Client({ connectionString: this.directUrl(to) });
    await src.connect();
    await dst.connect();
    try {
      for (const table of MAINT_TABLES) {
        const exists = await src.query<{ ok: boolean }>('select to_regclass($1) is not null as ok', [table]);
        if (!exists.rows[0]?.ok) continue;
        const rows = await src.query<{ rows: unknown }>(
          `select coalesce(json_agg(t), '[]') as rows from "${table}" t`,
        );
        await dst.query('begin');
        await dst.query(`delete from "${table}"`);
        await dst.query(
          `insert into "${table}" select * from json_populate_recordset(null::"${table}", $1::json)`,
          [JSON.stringify(rows.rows[0]!.rows)],
        );
        await dst.query('commit');
      }
    } finally {
      await src.end();
      await dst.end();
    }
  }

  private deleteInstance(i: Instance): void {
    this.play(i, [
      { status: 'deleting', ticks: 2 },
      {
        status: 'GONE',
        ticks: 0,
        enter: async () => {
          this.instances.splice(this.instances.indexOf(i), 1);
          await i.endpoint.close();
          if (i.owned) await this.dropDatabase(i.endpoint.database);
        },
      },
    ]);
  }

  private async newInstance(id: string, database: string, engineVersion: string): Promise<Instance> {
    const endpoint = new Endpoint(database, Number(new URL(this.serverUrl).port || 5432));
    await endpoint.listen();
    const i: Instance = {
      id,
      engineVersion,
      instanceClass: 'db.t3.micro',
      endpoint,
      hidden: true,
      owned: true,
      status: 'creating',
      script: [],
      left: 0,
    };
    this.instances.push(i);
    return i;
  }

  private deployment(id: string | undefined): Deployment {
    const d = this.deployments.find((x) => x.id === id);
    if (!d) throw new Fault('BlueGreenDeploymentNotFoundFault', `BlueGreenDeployment ${id} not found.`, 404);
    return d;
  }

  // ---- time -----------------------------------------------------------------------------------

  private play(o: Scripted, script: Phase[]): void {
    o.script = script;
    o.left = script[0]!.ticks;
    o.status = script[0]!.status;
    void script[0]!.enter?.();
  }

  private async advance(): Promise<void> {
    for (const o of [...this.instances, ...this.snapshots, ...this.deployments]) {
      const head = o.script[0];
      if (!head) continue;
      if (o.left > 0) o.left--;
      if (o.left > 0 || (head.gate && !head.gate())) continue;
      if (o.script.length === 1) continue;
      o.script.shift();
      const next = o.script[0]!;
      o.left = next.ticks;
      o.status = next.status;
      await next.enter?.();
    }
  }

  /** A describe shows `view` (null: not found) for the next `lagReads` reads of `key`. */
  private lag(key: string, view: string | null): void {
    if (this.faults.lagReads > 0) this.stale.set(key, { view, reads: this.faults.lagReads });
  }

  private read(key: string, fresh: () => string | null): string | null {
    const s = this.stale.get(key);
    let view: string | null;
    if (s && s.reads > 0) {
      s.reads--;
      view = s.view;
    } else view = fresh();
    const call = this.calls.at(-1)!;
    const status = /<(?:DBInstanceStatus|Status)>([^<]*)</.exec(view ?? '')?.[1];
    const version = /<EngineVersion>([^<]*)</.exec(view ?? '')?.[1];
    call.answer = view === null ? 'absent' : `${status}${version ? ` ${version}` : ''}`;
    return view;
  }

  // ---- databases ------------------------------------------------------------------------------

  private copy(from: string, to: string, create = true): { done: () => boolean; check: () => void } {
    let finished = false;
    let failure: unknown = null;
    const work = (async () => {
      if (create) {
        await this.sql(`create database "${to}"`);
        this.madeDatabases.add(to);
      }
      await copyDatabase(this.directUrl(from), this.directUrl(to), [], new AbortController().signal);
    })();
    work.then(
      () => (finished = true),
      (error: unknown) => {
        failure = error;
        finished = true;
      },
    );
    return {
      done: () => finished,
      check: () => {
        if (failure) throw failure as Error;
      },
    };
  }

  private async dropDatabase(name: string): Promise<void> {
    await this.sql(`drop database if exists "${name}" with (force)`);
    this.madeDatabases.delete(name);
  }

  private async sql(text: string): Promise<void> {
    const c = new pg.Client({ connectionString: this.serverUrl });
    await c.connect();
    try {
      await c.query(text);
    } finally {
      await c.end();
    }
  }
}

function arnOf(id: string): string {
  return `arn:aws:rds:${REGION}:${ACCOUNT}:db:${id}`;
}

function instanceXml(i: Instance): string {
  const endpoint = i.hidden
    ? ''
    : `<Endpoint><Address>127.0.0.1</Address><Port>${i.endpoint.port}</Port></Endpoint>`;
  return (
    `<DBInstance><DBInstanceIdentifier>${i.id}</DBInstanceIdentifier><DBInstanceArn>${arnOf(i.id)}</DBInstanceArn>` +
    `<DBInstanceStatus>${i.status}</DBInstanceStatus><Engine>postgres</Engine><EngineVersion>${i.engineVersion}</EngineVersion>` +
    `<DBInstanceClass>${i.instanceClass}</DBInstanceClass><AllocatedStorage>20</AllocatedStorage>${endpoint}</DBInstance>`
  );
}

function snapshotXml(s: Snapshot): string {
  return `<DBSnapshot><DBSnapshotIdentifier>${s.id}</DBSnapshotIdentifier><DBInstanceIdentifier>${s.instance}</DBInstanceIdentifier><Status>${s.status}</Status><Engine>postgres</Engine></DBSnapshot>`;
}

function deploymentXml(d: Deployment): string {
  return (
    `<BlueGreenDeploymentIdentifier>${d.id}</BlueGreenDeploymentIdentifier><BlueGreenDeploymentName>${esc(d.name)}</BlueGreenDeploymentName>` +
    `<Source>${arnOf(d.blue.id)}</Source><Target>${arnOf(d.green.id)}</Target><Status>${d.status}</Status>` +
    (d.details ? `<StatusDetails>${esc(d.details)}</StatusDetails>` : '')
  );
}

function hex(n: number): string {
  return n.toString(16).padStart(6, '0');
}

function esc(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}
