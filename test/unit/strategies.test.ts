import { describe, expect, it } from 'vitest';
import { defaultPorts } from '../../src/core/default-ports.js';
import { preflight } from '../../src/core/preflight.js';
import type { MaintError } from '../../src/errors.js';
import type { LoadedPlan } from '../../src/plan/loader.js';
import { parsePlanText } from '../../src/plan/parse.js';
import { createMemoryLogger } from '../../src/support/logger.js';
import { FakeClock, fakePorts } from '../helpers/fakes.js';

const head = `version: 1
name: s
window: { timezone: UTC, days: [daily], start: "00:00", duration: 2h }
database: { engine: pglite, url: "memory://" }
`;

const loaded = (text: string): LoadedPlan => ({
  plan: parsePlanText(text, 'p.yaml'),
  path: 'p.yaml',
  file: '/tmp/p.yaml',
  dir: '/tmp',
});

async function codeOf(p: Promise<unknown>): Promise<string | undefined> {
  try {
    await p;
  } catch (error) {
    expect((error as MaintError).exitCode).toBe(2);
    return (error as MaintError).code;
  }
  return undefined;
}

const real = () => defaultPorts({ logger: createMemoryLogger() });

describe('preflight (the real ports: what this version cannot do is refused before anything opens)', () => {
  it('accepts the in-place strategy without a fleet', async () => {
    expect(await codeOf(preflight(real(), loaded(head)))).toBeUndefined();
    expect(await codeOf(preflight(real(), loaded(`${head}strategy: { kind: in-place }\n`)))).toBeUndefined();
  });

  it('refuses, with exit 2, a fleet whose runtime API cannot be reached, before anything opens', async () => {
    const plan = loaded(
      `${head}release: v2\nfleet: { provider: haproxy, runtimeApi: /tmp/maint-no-such-dir/admin.sock, backend: app, start: ./s, stop: ./t }\n`,
    );
    expect(await codeOf(preflight(real(), plan))).toBe('FLEET_UNREACHABLE');
    const tcp = loaded(
      `${head}release: v2\nfleet: { provider: haproxy, runtimeApi: "127.0.0.1:1", backend: app, start: ./s, stop: ./t }\n`,
    );
    expect(await codeOf(preflight(real(), tcp))).toBe('FLEET_UNREACHABLE');
  });

  it('refuses a clone method not built yet, before anything opens', async () => {
    const plan = loaded(`${head}strategy: { kind: clone-freeze, clone: { method: template } }\n`);
    expect(await codeOf(preflight(real(), plan))).toBe('STRATEGY_UNSUPPORTED');
  });

  it('asks the fleet port, so a host with a fleet provider accepts the plan', async () => {
    const ports = fakePorts({ clock: new FakeClock('2026-11-29T10:00:00Z') });
    const plan = loaded(`${head}release: v2\nfleet: { provider: command, deploy: "./deploy.sh" }\n`);
    expect(await codeOf(preflight(ports, plan))).toBeUndefined();
    expect((ports.fleet as unknown as { opened: number }).opened).toBe(1);
  });
});
