import { afterEach, describe, expect, it } from 'vitest';
import { FakeClock } from '../helpers/fakes.js';
import { EVENT_TYPES } from '../../src/core/maintenance-event.js';
import { RolledBackError } from '../../src/errors.js';
import { makeEvent } from '../../src/notify/event-factory.js';
import { clearSecrets, registerSecret } from '../../src/support/redact.js';
import { parsePlanText } from '../../src/plan/parse.js';

const plan = parsePlanText(
  `version: 1
name: orders-v2
window: { timezone: Europe/Paris, days: [sun], start: "21:00", duration: 8h }
database: { engine: pglite, url: memory:// }
`,
  'plan.yaml',
);
const window = { start: new Date('2026-11-29T20:00:00Z'), end: new Date('2026-11-30T04:00:00Z') };
const clock = new FakeClock('2026-11-29T20:00:05Z');

afterEach(() => clearSecrets());

describe('makeEvent', () => {
  it('carries plan, run, state and the window in UTC and in the plan zone', () => {
    const event = makeEvent({ plan, runId: 'run_1', type: 'maintenance_started', window }, clock);
    expect(event).toMatchObject({
      type: 'maintenance_started',
      plan: 'orders-v2',
      runId: 'run_1',
      state: 'active',
      occurredAt: '2026-11-29T20:00:05.000Z',
      window: {
        start: '2026-11-29T20:00:00.000Z',
        end: '2026-11-30T04:00:00.000Z',
        startLocal: '2026-11-29T21:00:00.000+01:00',
        endLocal: '2026-11-30T05:00:00.000+01:00',
        timezone: 'Europe/Paris',
      },
    });
    expect(event.id).toMatch(/^evt_[0-9a-f]{24}$/);
    expect(event).not.toHaveProperty('release');
  });

  it('carries the release the plan rolls out', () => {
    const rolling = parsePlanText(
      `version: 1
name: orders-v2
release: v2.3.1
window: { timezone: Europe/Paris, days: [sun], start: "21:00", duration: 8h }
database: { engine: pglite, url: memory:// }
`,
      'plan.yaml',
    );
    const event = makeEvent({ plan: rolling, runId: 'run_1', type: 'maintenance_completed', window }, clock);
    expect(event.release).toBe('v2.3.1');
  });

  it('gives every event a unique id and a default summary per type', () => {
    const events = EVENT_TYPES.map((type) => makeEvent({ plan, runId: 'r', type, window }, clock));
    expect(new Set(events.map((e) => e.id)).size).toBe(EVENT_TYPES.length);
    expect(new Set(events.map((e) => e.summary)).size).toBe(EVENT_TYPES.length);
    expect(events[0]!.summary).toBe(
      'Maintenance orders-v2 is scheduled from Sun 29 Nov 2026 21:00 CET to Mon 30 Nov 2026 05:00 CET.',
    );
  });

  it('describes errors, next windows and emergencies, and redacts secrets in them', () => {
    registerSecret('hunter2-canary');
    const event = makeEvent(
      {
        plan,
        runId: 'r',
        type: 'maintenance_rescheduled',
        window,
        emergency: { reason: 'token=hunter2-canary leaked' },
        error: new RolledBackError('STEP_FAILED', 'connect to postgres://u:hunter2-canary@db failed'),
        nextWindow: { start: new Date('2026-12-06T20:00:00Z'), end: new Date('2026-12-07T04:00:00Z') },
      },
      clock,
    );
    expect(event.error?.code).toBe('STEP_FAILED');
    expect(event.nextWindow?.startLocal).toBe('2026-12-06T21:00:00.000+01:00');
    expect(event.summary).toContain('Sun 6 Dec 2026 21:00 CET');
    expect(JSON.stringify(event)).not.toContain('hunter2-canary');
  });
});
