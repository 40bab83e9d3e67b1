/**
 * A real `maint run` tells the plan's channels what really happens: a Standard Webhooks receiver
 * gets maintenance_started then maintenance_completed, each verifiable with the standardwebhooks
 * library and each with its own id; a receiver that is down never fails or holds up the run, and
 * its failure is in the run's JSON result and journal.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { Webhook } from 'standardwebhooks';
import { afterEach, describe, expect, it } from 'vitest';
import {
  MAINT_NOW_IN_WINDOW,
  refusedPort,
  runMaint,
  startReceiver,
  writePlan,
  type Receiver,
} from '../helpers/receivers.js';

const SECRET = 'whsec_' + Buffer.from('run-notify-test-secret-0123456789').toString('base64');

async function planWithWebhook(url: string, extra = ''): Promise<{ file: string; dir: string }> {
  const { file, dir } = await writePlan(`version: 1
name: run-notify
window: { timezone: Europe/Paris, days: [sun], start: "21:00", duration: 8h }
database: { engine: pglite, url: ./data }
migrations: { dir: ./migrations }
notify:
  channels:
    - { type: webhook, url: "${url}", secret: "${SECRET}"${extra} }
`);
  await mkdir(path.join(dir, 'migrations'));
  await writeFile(
    path.join(dir, 'migrations', '001_create_things.sql'),
    'create table things (id int primary key);\n',
  );
  await writeFile(path.join(dir, 'migrations', '001_create_things.down.sql'), 'drop table things;\n');
  return { file, dir };
}

interface RunJson {
  status: string;
  runId: string;
  notifications: Array<{
    channel: string;
    event: string;
    eventId: string;
    ok: boolean;
    attempts: number;
    error?: string;
  }>;
  error: unknown;
}

describe('maint run notifies its channels', () => {
  let receiver: Receiver | undefined;
  afterEach(async () => {
    await receiver?.close();
    receiver = undefined;
  });

  it('sends started then completed, signed, each with a unique id', async () => {
    receiver = await startReceiver();
    const { file } = await planWithWebhook(receiver.url);
    const run = await runMaint(['run', file, '--json'], { MAINT_NOW: MAINT_NOW_IN_WINDOW });
    expect(run.code, run.stderr).toBe(0);
    const result = JSON.parse(run.stdout) as RunJson;
    expect(result.status).toBe('completed');

    const requests = await receiver.waitFor(2);
    const verifier = new Webhook(SECRET);
    // Standard Webhooks payload shape: { type, timestamp, data }.
    const payloads = requests.map(
      (r) =>
        verifier.verify(r.body, r.headers) as {
          type: string;
          data: { runId: string; id: string; plan: string };
        },
    );
    expect(payloads.map((p) => p.type)).toEqual(['maintenance_started', 'maintenance_completed']);
    expect(payloads.map((p) => p.data.runId)).toEqual([result.runId, result.runId]);
    expect(payloads.map((p) => p.data.plan)).toEqual(['run-notify', 'run-notify']);
    const ids = requests.map((r) => r.headers['webhook-id']);
    expect(new Set(ids).size).toBe(2);
    expect(ids).toEqual(payloads.map((p) => p.data.id));

    // The outcomes are in the run's result, one per event, all delivered.
    expect(result.notifications.map((n) => [n.event, n.ok])).toEqual([
      ['maintenance_started', true],
      ['maintenance_completed', true],
    ]);

    // A tampered body does not verify.
    const tampered = requests[0]!.body.replace('maintenance_started', 'maintenance_completed');
    expect(() => verifier.verify(tampered, requests[0]!.headers)).toThrow();
  });

  it('completes when the receiver is down; the failure is in the result and the journal', async () => {
    const port = await refusedPort();
    const { file, dir } = await planWithWebhook(
      `http://127.0.0.1:${port}/hook`,
      ', timeout: 500ms, retries: 1',
    );
    const run = await runMaint(['run', file, '--json'], { MAINT_NOW: MAINT_NOW_IN_WINDOW });
    expect(run.code, run.stderr).toBe(0);
    const result = JSON.parse(run.stdout) as RunJson;
    expect(result.status).toBe('completed');
    expect(result.error).toBeNull();
    expect(result.notifications).toHaveLength(2);
    for (const n of result.notifications) {
      expect(n.ok).toBe(false);
      expect(n.attempts).toBe(2);
      expect(n.error).toBeTruthy();
    }

    const status = await runMaint(['status', file, '--json'], { MAINT_NOW: MAINT_NOW_IN_WINDOW });
    expect(status.code, status.stderr).toBe(0);
    expect(JSON.parse(status.stdout)).toMatchObject({ last: { runId: result.runId, notifications: 2 } });

    // The journal row itself keeps each outcome (the process has exited, so the data folder is free).
    const { PGlite } = await import('@electric-sql/pglite');
    const db = new PGlite(path.join(dir, 'data'));
    try {
      const rows = await db.query<{ notifications: string }>(
        'select notifications from maint_runs where run_id = $1',
        [result.runId],
      );
      const journaled = JSON.parse(rows.rows[0]!.notifications) as RunJson['notifications'];
      expect(journaled.map((n) => [n.event, n.ok, n.attempts])).toEqual([
        ['maintenance_started', false, 2],
        ['maintenance_completed', false, 2],
      ]);
    } finally {
      await db.close();
    }
  });
});
