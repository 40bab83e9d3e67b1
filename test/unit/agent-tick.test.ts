/**
 * The agent's tick over fake ports and a fake clock: announce once ahead of the window, run at
 * its start through the run use case, reschedule when the estimate does not fit, cancel when the
 * work vanished, and step aside when another agent holds the plan.
 */
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { AgentStatus } from '../../src/agent/status.js';
import { createCore } from '../../src/core/core.js';
import { scheduledEventId } from '../../src/core/schedule/tick.js';
import type { LoadedPlan } from '../../src/plan/loader.js';
import { PlanSchema, type PlanInput } from '../../src/plan/schema.js';
import { FakeClock, collectingSink, fakePorts } from '../helpers/fakes.js';

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'maint-agent-'));
  // The fake migrator's pending migration, as a file: `plan` lints what is pending from disk.
  await mkdir(path.join(dir, 'migrations'));
  await writeFile(
    path.join(dir, 'migrations/001_orders.sql'),
    'create table orders (id bigint primary key);\n',
  );
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

// Thursdays 21:00 UTC for 2 h; 2026-12-03 is a Thursday.
const WINDOW = '2026-12-03T21:00:00.000Z';
const NEXT_WINDOW = '2026-12-10T21:00:00.000Z';
const H = 3_600_000;

function loaded(overrides: Partial<PlanInput> = {}): LoadedPlan {
  const plan = PlanSchema.parse({
    version: 1,
    name: 'orders',
    window: { timezone: 'UTC', days: ['thu'], start: '21:00', duration: '2h', notice: '24h' },
    database: { engine: 'postgres', url: 'postgres://x@localhost/db' },
    notify: { banner: { file: 'site/maintenance.json', text: 'Maintenance {{window.startLocal}}' } },
    ...overrides,
  });
  return { plan, path: 'plan.yaml', file: path.join(dir, 'plan.yaml'), dir };
}

function harness(start: string) {
  const clock = new FakeClock(start);
  const ports = fakePorts({ clock, migrations: [{ name: '001_orders' }] });
  const sink = collectingSink();
  const types = () => ports.notifyPort.events.map((e) => e.type);
  const banner = async () =>
    JSON.parse(await readFile(path.join(dir, 'site/maintenance.json'), 'utf8')) as Record<string, unknown>;
  return { clock, ports, sink, types, banner, core: () => createCore(ports, sink) };
}

describe('agent tick (fake clock)', () => {
  it('announces once 23 h ahead, runs at the window start and ends completed; a restart announces nothing twice', async () => {
    const h = harness('2026-12-02T22:00:00Z'); // the window opens in 23 h
    const first = await h.core().tick(loaded());
    expect(first.action).toBe('announced');
    expect(h.types()).toEqual(['maintenance_planned']);
    expect(first.scheduled).toMatchObject({ windowStart: WINDOW, status: 'scheduled' });
    expect(first.scheduled?.eventId).toBe(scheduledEventId(`orders@${WINDOW}`, 'maintenance_planned'));
    expect(await h.banner()).toMatchObject({ enabled: true, state: 'planned', starts_at: WINDOW });
    expect(h.sink.codes()).toContain('schedule.planned');

    h.clock.advance(H);
    expect((await h.core().tick(loaded())).action).toBe('idle');
    // A restarted agent: a new core over the same journal.
    h.clock.advance(H);
    const restarted = await createCore(h.ports, collectingSink()).tick(loaded());
    expect(restarted.action).toBe('idle');
    expect(h.types()).toEqual(['maintenance_planned']);
    expect(h.ports.migrator.upCalls).toBe(0);

    h.clock.advance(Date.parse(WINDOW) - h.clock.now().getTime());
    const ran = await h.core().tick(loaded());
    expect(ran.action).toBe('ran');
    expect(ran.run?.status).toBe('completed');
    expect(ran.scheduled).toMatchObject({ status: 'completed', runId: ran.run?.runId });
    expect(h.types()).toEqual(['maintenance_planned', 'maintenance_started', 'maintenance_completed']);
    expect(h.ports.migrator.applyCount.get('001_orders')).toBe(1);
    expect(await h.banner()).toMatchObject({ enabled: false, state: 'off' });

    h.clock.advance(H);
    expect((await h.core().tick(loaded())).action).toBe('idle');
    expect(h.types()).toHaveLength(3);
  });

  it('moves the operation to the next window with maintenance_rescheduled when the estimate does not fit', async () => {
    const h = harness('2026-12-02T22:00:00Z');
    const plan = loaded({ estimate: '3h' } as Partial<PlanInput>);
    expect((await h.core().tick(plan)).action).toBe('announced');
    h.clock.advance(Date.parse(WINDOW) - h.clock.now().getTime());
    const moved = await h.core().tick(plan);
    expect(moved.action).toBe('rescheduled');
    expect(h.types()).toEqual(['maintenance_planned', 'maintenance_rescheduled']);
    const event = h.ports.notifyPort.events[1]!;
    expect(event.nextWindow?.start).toBe(NEXT_WINDOW);
    expect(moved.scheduled).toMatchObject({ windowStart: NEXT_WINDOW, status: 'scheduled' });
    expect(await h.ports.memoryJournal.scheduled('orders', WINDOW)).toMatchObject({ status: 'rescheduled' });
    expect(await h.banner()).toMatchObject({ state: 'planned', starts_at: NEXT_WINDOW });
    expect(h.ports.migrator.upCalls).toBe(0);
    expect(h.sink.codes()).toContain('schedule.rescheduled');

    // Still in the window: already rescheduled, nothing sent again. A week later: announced already.
    h.clock.advance(H);
    expect((await h.core().tick(plan)).action).toBe('idle');
    h.clock.advance(Date.parse(NEXT_WINDOW) - h.clock.now().getTime() - 20 * H);
    expect((await h.core().tick(plan)).action).toBe('idle');
    expect(h.types()).toHaveLength(2);
  });

  it('cancels a scheduled operation whose work vanished, and runs nothing', async () => {
    const h = harness('2026-12-02T22:00:00Z');
    await h.core().tick(loaded());
    await h.ports.migrator.up(); // someone ran it by hand
    h.clock.advance(Date.parse(WINDOW) - h.clock.now().getTime());
    const tick = await h.core().tick(loaded());
    expect(tick.action).toBe('cancelled');
    expect(tick.scheduled?.status).toBe('cancelled');
    expect(h.sink.codes()).toContain('schedule.cancelled');
    expect(h.types()).toEqual(['maintenance_planned']);
    expect(h.ports.migrator.applyCount.get('001_orders')).toBe(1);
    expect(await h.banner()).toMatchObject({ enabled: false, state: 'off' });
  });

  it('steps aside when another agent or run holds the plan, naming the holder', async () => {
    const h = harness('2026-12-03T21:30:00Z');
    h.ports.db.lockHeldBy = {
      lockId: 'l-9',
      host: 'agent-b',
      pid: 777,
      purpose: 'run',
      since: '2026-12-03T21:00:00.000Z',
      lastHeartbeat: '2026-12-03T21:29:59.000Z',
    };
    const tick = await h.core().tick(loaded());
    expect(tick.action).toBe('elsewhere');
    expect(tick.message).toContain('running elsewhere: agent-b pid 777, run since');
    expect(h.types()).toEqual([]);
    const status = new AgentStatus({ host: 'me', pid: 1 }, () => h.clock.now());
    status.ticking('orders.yaml', 'orders', tick.window);
    status.ticked('orders.yaml', tick);
    expect(status.document().plans[0]).toMatchObject({
      elsewhere: { holder: { host: 'agent-b', pid: 777 } },
      notice: { state: 'active' },
    });
  });

  it('closes a row left running by an agent that died after its run ended, from the journal', async () => {
    const h = harness('2026-12-03T21:30:00Z');
    const first = await h.core().tick(loaded());
    expect(first.run?.status).toBe('completed');
    // As if the agent died before closing the row.
    await h.ports.memoryJournal.putSchedule({ ...first.scheduled!, status: 'running' });
    const tick = await h.core().tick(loaded());
    expect(tick.scheduled).toMatchObject({ status: 'completed', runId: first.run?.runId });
    expect(h.ports.migrator.applyCount.get('001_orders')).toBe(1);
  });
});
