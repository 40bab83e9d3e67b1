/**
 * `maint notify`: one event, built for the plan's current window (or the next one when closed),
 * sent to every channel or, with `dryRun`, only rendered.
 */
import { randomBytes } from 'node:crypto';
import type { Clock } from '../core/clock.js';
import type { EventType, MaintenanceEvent } from '../core/maintenance-event.js';
import { WindowError } from '../errors.js';
import type { Logger } from '../support/logger.js';
import type { LoadedPlan } from '../plan/loader.js';
import { currentWindow, nextWindows } from '../window/window.js';
import type { DeliveryOutcome } from './channel.js';
import type { BackoffOptions } from './deliver.js';
import type { NotifyPort } from './port.js';

/** What `maint notify` sends, and how. */
export interface NotifyOptions {
  event: EventType;
  /** Render every channel's message; send nothing. @default false */
  dryRun?: boolean;
  /** Ties the event to a run; a fresh `manual_…` id otherwise. */
  runId?: string;
  summary?: string;
  logger?: Logger;
  backoff?: Partial<BackoffOptions>;
}

/** One channel's message as a dry run shows it. */
export interface RenderedChannel {
  channel: string;
  type: string;
  target: string;
  subject?: string;
  text: string;
  html?: string;
  body?: unknown;
}

/** What `maint notify` did, for its human and JSON output. */
export interface NotifyResult {
  plan: string;
  dryRun: boolean;
  event: MaintenanceEvent;
  /** One per channel when sending; empty for a dry run. */
  outcomes: DeliveryOutcome[];
  /** One per channel for a dry run; empty when sending. */
  rendered: RenderedChannel[];
}

/**
 * Build one event for the plan's current (or next) window and send it, or only render it with
 * `dryRun`. Events, channels and delivery come from `port`, so a test can swap any of them.
 */
export async function notifyPlan(
  loaded: LoadedPlan,
  clock: Clock,
  options: NotifyOptions,
  port: NotifyPort,
): Promise<NotifyResult> {
  const { plan } = loaded;
  const now = clock.now();
  const window = currentWindow(plan.window, now) ?? nextWindows(plan.window, now, 1)[0];
  if (!window) {
    // Unreachable for a valid plan (windows recur weekly); kept so the type is honest.
    throw new WindowError('NO_WINDOW', 'the plan has no upcoming window', {
      hint: `Check the window with \`maint window ${loaded.path}\`.`,
    });
  }
  const event = port.makeEvent(
    {
      plan,
      runId: options.runId ?? `manual_${randomBytes(6).toString('hex')}`,
      type: options.event,
      window,
      ...(options.summary ? { summary: options.summary } : {}),
      ...(options.event === 'maintenance_rescheduled'
        ? { nextWindow: nextWindows(plan.window, window.start, 1)[0] }
        : {}),
    },
    clock,
  );
  const channels = await port.createChannels(plan, loaded.dir);
  if (options.dryRun) {
    const rendered = await Promise.all(
      channels.map(async (c) => ({ channel: c.id, type: c.type, ...(await c.render(event)) })),
    );
    return { plan: plan.name, dryRun: true, event, outcomes: [], rendered };
  }
  const outcomes = await port.deliver(channels, event, {
    ...(options.logger ? { logger: options.logger } : {}),
    ...(options.backoff ? { backoff: options.backoff } : {}),
  });
  return { plan: plan.name, dryRun: false, event, outcomes, rendered: [] };
}
