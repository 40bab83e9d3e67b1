/**
 * `/metrics`: Prometheus text through prom-client, on a registry of the agent's own (no global
 * state, no default process metrics that would differ between agents). Loaded only when the
 * agent serves HTTP.
 */
import client from 'prom-client';
import type { AgentStatus, MetricsSink } from './status.js';

export interface AgentMetrics extends MetricsSink {
  /** The exposition text and its content type. */
  render(): Promise<{ contentType: string; body: string }>;
}

export function createMetrics(
  status: () => AgentStatus,
  now: () => number,
  mono: () => number,
): AgentMetrics {
  const registry = new client.Registry();
  const runs = new client.Counter({
    name: 'maint_agent_runs_total',
    help: 'Runs this agent executed, by plan and outcome.',
    labelNames: ['plan', 'outcome'],
    registers: [registry],
  });
  const steps = new client.Histogram({
    name: 'maint_agent_step_duration_seconds',
    help: 'Duration of the steps this agent ran, by plan and step.',
    labelNames: ['plan', 'step'],
    buckets: [0.1, 0.5, 1, 5, 15, 60, 300, 900, 3600],
    registers: [registry],
  });
  const failures = new client.Counter({
    name: 'maint_agent_delivery_failures_total',
    help: 'Notifications a channel did not take after its retries, by plan and channel.',
    labelNames: ['plan', 'channel'],
    registers: [registry],
  });
  new client.Gauge({
    name: 'maint_agent_next_window_seconds',
    help: 'Seconds until the next window of each plan starts (0 while one is open).',
    labelNames: ['plan'],
    registers: [registry],
    collect() {
      this.reset();
      for (const p of status().list()) {
        if (!p.window) continue;
        if (p.window.open) this.set({ plan: p.plan }, 0);
        else if (p.window.next[0])
          this.set({ plan: p.plan }, Math.max(0, (Date.parse(p.window.next[0].start) - now()) / 1000));
      }
    },
  });
  new client.Gauge({
    name: 'maint_agent_lock_held',
    help: "1 while this agent holds a plan's run lock (it is executing a run), else 0.",
    labelNames: ['plan'],
    registers: [registry],
    collect() {
      this.reset();
      for (const p of status().list()) this.set({ plan: p.plan }, p.running ? 1 : 0);
    },
  });
  new client.Gauge({
    name: 'maint_agent_plan_error',
    help: '1 when a plan could not be loaded or ticked (see /status), else 0.',
    labelNames: ['plan'],
    registers: [registry],
    collect() {
      this.reset();
      for (const p of status().list()) this.set({ plan: p.plan }, p.error ? 1 : 0);
    },
  });
  new client.Gauge({
    name: 'maint_agent_last_tick_age_seconds',
    help: 'Seconds since the last tick ended (-1 before the first one).',
    registers: [registry],
    collect() {
      const at = status().lastTickMono;
      this.set(at === null ? -1 : (mono() - at) / 1000);
    },
  });
  new client.Gauge({
    name: 'maint_agent_ticks_total',
    help: 'Ticks this agent completed.',
    registers: [registry],
    collect() {
      this.set(status().ticks);
    },
  });
  return {
    runFinished: (plan, outcome) => runs.inc({ plan, outcome }),
    stepFinished: (plan, step, ms) => steps.observe({ plan, step }, ms / 1000),
    deliveryFailed: (plan, channel) => failures.inc({ plan, channel }),
    render: async () => ({ contentType: registry.contentType, body: await registry.metrics() }),
  };
}
