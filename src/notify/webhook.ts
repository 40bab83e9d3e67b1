/**
 * Webhook channel: a JSON POST signed per Standard Webhooks (https://www.standardwebhooks.com).
 * The body is an object serialised once and signed byte for byte; `webhook-id` is the event id,
 * so a receiver that sees the same id twice (a retry after a lost answer) can drop it.
 */
import type { MaintenanceEvent } from '../core/maintenance-event.js';
import type { ChannelConfig } from '../plan/schema-notify.js';
import { policyOf, type Channel, type ChannelContext } from './channel.js';
import { checkStatus, networkError } from './http.js';
import { maskUrl } from './templates.js';

type WebhookConfig = Extract<ChannelConfig, { type: 'webhook' }>;

/** The Standard Webhooks payload shape: `type`, `timestamp`, `data`. */
export function webhookPayload(event: MaintenanceEvent): {
  type: string;
  timestamp: string;
  data: MaintenanceEvent;
} {
  return { type: event.type, timestamp: event.occurredAt, data: event };
}

export async function createWebhookChannel(config: WebhookConfig, context: ChannelContext): Promise<Channel> {
  const { Webhook } = await import('standardwebhooks');
  const signer = config.secret ? new Webhook(config.secret) : undefined;
  const target = `webhook ${maskUrl(config.url)}`;
  return {
    type: 'webhook',
    id: context.id,
    delivery: policyOf(config),
    async render(event) {
      const body = webhookPayload(event);
      return {
        target,
        subject: `POST ${event.type}${signer ? ' (signed)' : ''}`,
        text: JSON.stringify(body, null, 2),
        body,
      };
    },
    async send(event, { signal }) {
      const body = JSON.stringify(webhookPayload(event));
      // The real time, even under MAINT_NOW: receivers reject signatures older than a few minutes.
      const sentAt = new Date();
      const headers: Record<string, string> = {
        'content-type': 'application/json',
        'user-agent': 'maint',
        'webhook-id': event.id,
        'webhook-timestamp': String(Math.floor(sentAt.getTime() / 1000)),
      };
      if (signer) headers['webhook-signature'] = signer.sign(event.id, sentAt, body);
      let response: Response;
      try {
        response = await fetch(config.url, { method: 'POST', headers, body, signal, redirect: 'manual' });
      } catch (error) {
        throw networkError(error);
      }
      // Read the answer so the connection is released; its content is not ours to log.
      await response.arrayBuffer().catch(() => undefined);
      return checkStatus(response.status, response.statusText);
    },
  };
}
