/**
 * Intercom channel through the official `intercom-client` (server side, access token).
 * mode `event` (default) submits one data event per user (`maintenance_planned`, …); the team's
 * own Intercom series or message, triggered by that event, decides what customers see, in their
 * brand and language. mode `message` sends an admin-initiated email or in-app message per contact.
 */
import type { MaintenanceEvent } from '../core/maintenance-event.js';
import type { ChannelConfig } from '../plan/schema-notify.js';
import { DeliveryError, policyOf, retryableStatus, type Channel, type ChannelContext } from './channel.js';
import { networkError } from './http.js';
import { compileTemplate, templateContext, type RenderFn } from './templates.js';

type IntercomConfig = Extract<ChannelConfig, { type: 'intercom' }>;

/** Intercom's data event name: the prefix and the event without its `maintenance_` part. */
export function intercomEventName(prefix: string, event: MaintenanceEvent): string {
  return `${prefix}_${event.type.replace(/^maintenance_/, '')}`;
}

/** Intercom metadata: flat strings, at most ten keys. */
export function intercomMetadata(event: MaintenanceEvent): Record<string, string> {
  return {
    plan: event.plan,
    run_id: event.runId,
    event_id: event.id,
    state: event.state,
    summary: event.summary.slice(0, 255),
    window_start: event.window.start,
    window_end: event.window.end,
    window_start_local: event.window.startLocal,
    window_end_local: event.window.endLocal,
    timezone: event.window.timezone,
  };
}

export async function createIntercomChannel(
  config: IntercomConfig,
  context: ChannelContext,
): Promise<Channel> {
  const subject = await compileTemplate({
    name: 'intercom.subject.hbs',
    inline: config.templates?.subject,
    html: false,
    planDir: context.planDir,
  });
  const body = await compileTemplate({
    name: 'intercom.hbs',
    override: config.templates?.html ?? config.templates?.text,
    html: true,
    planDir: context.planDir,
  });
  const host = config.baseUrl ? new URL(config.baseUrl).host : 'api.intercom.io';
  const target = `intercom ${config.mode} → ${config.userIds.length} user(s) via ${host}`;

  const requests = (event: MaintenanceEvent) => requestsFor(config, event, subject, body);

  return {
    type: 'intercom',
    id: context.id,
    delivery: policyOf(config),
    async render(event) {
      const list = requests(event);
      const first = list[0];
      const text =
        config.mode === 'message' && first && 'body' in first
          ? `${first.subject ?? ''}\n${first.body}`
          : JSON.stringify(list, null, 2);
      return { target, text, body: list };
    },
    async send(event, { signal }) {
      const { IntercomClient, IntercomError } = await import('intercom-client');
      const client = new IntercomClient({
        token: config.token,
        ...(config.baseUrl ? { baseUrl: config.baseUrl } : {}),
        // deliver() owns retries and the timeout; the client's defaults (2 retries, 60 s) would stack on top.
        maxRetries: 0,
        timeoutInSeconds: Math.max(1, Math.ceil(config.timeout / 1000)),
      });
      const options = { abortSignal: signal, maxRetries: 0 };
      try {
        // Data events are idempotent in Intercom (user, name, created_at), so a retry after a
        // partial failure does not count twice.
        await Promise.all(
          requests(event).map((request) =>
            'event_name' in request
              ? client.events.create(request, options)
              : client.messages.create(request, options),
          ),
        );
        return { status: 202 };
      } catch (error) {
        if (error instanceof IntercomError && error.statusCode !== undefined) {
          throw new DeliveryError(`Intercom HTTP ${error.statusCode}`, {
            status: error.statusCode,
            retryable: retryableStatus(error.statusCode),
            cause: error,
          });
        }
        throw networkError(error);
      }
    },
  };
}

type EventRequest = {
  user_id: string;
  event_name: string;
  created_at: number;
  metadata: Record<string, string>;
};
type MessageRequest = {
  message_type: 'email' | 'inapp';
  subject: string;
  body: string;
  template: string;
  from: { type: 'admin'; id: number };
  to: { type: 'user'; id: string };
  created_at: number;
};

function requestsFor(
  config: IntercomConfig,
  event: MaintenanceEvent,
  subject: RenderFn,
  body: RenderFn,
): Array<EventRequest | MessageRequest> {
  const createdAt = Math.floor(Date.parse(event.occurredAt) / 1000);
  if (config.mode === 'event') {
    const name = intercomEventName(config.eventName, event);
    const metadata = intercomMetadata(event);
    return config.userIds.map((user_id) => ({ user_id, event_name: name, created_at: createdAt, metadata }));
  }
  const context = templateContext(event);
  const message = {
    subject: subject(context)
      .replace(/\s*[\r\n]+\s*/g, ' ')
      .trim(),
    body: body(context).trim(),
  };
  return config.userIds.map((id) => ({
    message_type: config.messageType,
    ...message,
    template: 'plain',
    from: { type: 'admin' as const, id: Number(config.adminId) },
    to: { type: 'user' as const, id },
    created_at: createdAt,
  }));
}
