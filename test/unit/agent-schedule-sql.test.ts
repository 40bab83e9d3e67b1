import { describe, expect, it } from 'vitest';
import { parseState } from '../../src/browser/index.js';
import {
  createScheduleSql,
  scheduleFromRow,
  selectSchedulesSql,
  upsertScheduleSql,
} from '../../src/core/journal/journal-sql.js';
import type { ScheduleRecord } from '../../src/core/journal/journal.js';

const record: ScheduleRecord = {
  id: 'orders@2026-12-03T21:00:00.000Z',
  plan: 'orders',
  windowStart: '2026-12-03T21:00:00.000Z',
  windowEnd: '2026-12-03T23:00:00.000Z',
  status: 'scheduled',
  eventId: null,
  runId: null,
  agent: 'host-a:42',
  createdAt: '2026-12-02T22:00:00.000Z',
  updatedAt: '2026-12-02T22:00:00.000Z',
  note: null,
};

describe('the schedule journal SQL', () => {
  it('upserts by id on both dialects, keeping created_at', () => {
    const pg = upsertScheduleSql('postgres', record);
    expect(pg.sql).toBe(
      'insert into "maint_schedule" ("id", "plan", "window_start", "window_end", "status", "event_id", "run_id", "agent", "created_at", "updated_at", "note") ' +
        'values ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11) on conflict ("id") do update set ' +
        '"plan" = excluded."plan", "window_start" = excluded."window_start", "window_end" = excluded."window_end", "status" = excluded."status", ' +
        '"event_id" = excluded."event_id", "run_id" = excluded."run_id", "agent" = excluded."agent", "updated_at" = excluded."updated_at", "note" = excluded."note"',
    );
    expect(pg.params).toEqual([
      record.id,
      'orders',
      record.windowStart,
      record.windowEnd,
      'scheduled',
      null,
      null,
      'host-a:42',
      record.createdAt,
      record.updatedAt,
      null,
    ]);
    const my = upsertScheduleSql('mysql', record);
    expect(my.sql).toMatch(
      /^insert into `maint_schedule` \(`id`, .*\) values \(\?(, \?){10}\) on duplicate key update `plan` = values\(`plan`\), /,
    );
    expect(my.sql).not.toContain('`created_at` = values');
  });

  it('selects one window or the latest, and reads rows back', () => {
    expect(selectSchedulesSql('postgres', 'orders', { windowStart: record.windowStart, limit: 1 })).toEqual({
      sql: 'select * from "maint_schedule" where "plan" = $1 and "window_start" = $2 order by "window_start" desc limit 1',
      params: ['orders', record.windowStart],
    });
    expect(selectSchedulesSql('mysql', 'orders', { limit: 5 }).sql).toBe(
      'select * from `maint_schedule` where `plan` = ? order by `window_start` desc limit 5',
    );
    expect(createScheduleSql('mysql')).toContain('`note` longtext');
    const row = {
      id: record.id,
      plan: 'orders',
      window_start: record.windowStart,
      window_end: record.windowEnd,
      status: 'completed',
      event_id: 'evt_1',
      run_id: 'run_1',
      agent: 'host-a:42',
      created_at: record.createdAt,
      updated_at: record.updatedAt,
      note: null,
    };
    expect(scheduleFromRow(row)).toEqual({
      ...record,
      status: 'completed',
      eventId: 'evt_1',
      runId: 'run_1',
    });
  });
});

describe('maint/browser parseState', () => {
  it('reads an agent /status: the active plan first, or the one asked for', () => {
    const doc = {
      plans: [
        { plan: 'a', notice: { state: 'planned', startsAt: 's1', endsAt: 'e1' } },
        { plan: 'b', notice: { state: 'active', startsAt: 's2', endsAt: 'e2' } },
      ],
    };
    expect(parseState(doc)).toMatchObject({ state: 'active', enabled: true, plan: 'b', startsAt: 's2' });
    expect(parseState(doc, 'a')).toMatchObject({ state: 'planned', plan: 'a' });
    expect(parseState(doc, 'zzz')).toMatchObject({ state: 'off', enabled: false });
  });

  it('reads the banner JSON twin, and refuses anything else', () => {
    const banner = {
      enabled: true,
      text: 'Maintenance Sunday',
      url: 'https://s',
      state: 'planned',
      starts_at: 's',
      ends_at: 'e',
    };
    expect(parseState(banner)).toEqual({
      state: 'planned',
      enabled: true,
      plan: null,
      text: 'Maintenance Sunday',
      url: 'https://s',
      startsAt: 's',
      endsAt: 'e',
    });
    expect(parseState({ ...banner, enabled: false })).toMatchObject({ state: 'off', enabled: false });
    expect(() => parseState({ hello: 1 })).toThrow(/neither an agent \/status nor a banner JSON/);
  });
});
