/**
 * Slack channel through the official `@slack/webhook` client: a header, the rendered message
 * (mrkdwn) and the window in UTC, plus a plain `text` fallback for notifications.
 */
import type { IncomingWebhookSendArguments } from '@slack/webhook';
import type { MaintenanceEvent } from '../core/maintenance-event.js';
import type { ChannelConfig } from '../plan/schema-notify.js';
import { DeliveryError, policyOf, retryableStatus, type Channel, type ChannelContext } from './channel.js';
import { checkStatus, networkError } from './http.js';
import { compileTemplate, maskUrl, templateContext, EVENT_LABELS, type RenderFn } from './templates.js';

type SlackConfig = Extract<ChannelConfig, { type: 'slack' }>;

/** Slack's three control characters in mrkdwn; user text must not open a link or a mention. */
export function escapeSlack(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

function escapeDeep<T>(value: T): T {
  if (typeof value === 'string') return escapeSlack(value) as T;
  if (Array.isArray(value)) return value.map(escapeDeep) as T;
  if (value !== null && typeof value === 'object') {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, escapeDeep(v)])) as T;
  }
  return value;
}

export interface SlackMessage {
  text: string;
  blocks: NonNullable<IncomingWebhookSendArguments['blocks']>;
}

export function slackMessage(event: MaintenanceEvent, render: RenderFn): SlackMessage {
  const context = escapeDeep(templateContext(event));
  const body = render(context).trim();
  return {
    text: `${EVENT_LABELS[event.type]}: ${escapeSlack(event.plan)}. ${escapeSlack(event.summary)}`,
    blocks: [
      {
        type: 'header',
        text: {
          type: 'plain_text',
          text: `${EVENT_LABELS[event.type]}: ${event.plan}`.slice(0, 150),
          emoji: true,
        },
      },
      { type: 'section', text: { type: 'mrkdwn', text: body.slice(0, 3000) } },
      {
        type: 'context',
        elements: [
          {
            type: 'mrkdwn',
            text: `UTC ${event.window.start} → ${event.window.end} · run ${escapeSlack(event.runId)}`,
          },
        ],
      },
    ],
  };
}

export async function createSlackChannel(config: SlackConfig, context: ChannelContext): Promise<Channel> {
  const render = await compileTemplate({
    name: 'slack.hbs',
    override: config.templates?.text,
    html: false,
    planDir: context.planDir,
  });
  const target = `slack ${maskUrl(config.url)}`;
  return {
    type: 'slack',
    id: context.id,
    delivery: policyOf(config),
    async render(event) {
      const message = slackMessage(event, render);
      return {
        target,
        text: message.blocks
          .map((b) => blockText(b as unknown as Record<string, unknown>))
          .filter(Boolean)
          .join('\n'),
        body: message,
      };
    },
    async send(event, { signal }) {
      const { IncomingWebhook, IncomingWebhookHTTPError } = await import('@slack/webhook');
      // The client's own retries stay off: deliver() owns timeout, retries and backoff.
      const hook = new IncomingWebhook(config.url, {
        retryConfig: { retries: 0 },
        fetch: (url, init) =>
          fetch(url, { ...init, signal: init?.signal ? AbortSignal.any([signal, init.signal]) : signal }),
      });
      try {
        await hook.send(slackMessage(event, render));
        return { status: 200 };
      } catch (error) {
        if (error instanceof IncomingWebhookHTTPError) {
          if (error.statusCode === 410) return checkStatus(410, '');
          throw new DeliveryError(`HTTP ${error.statusCode} ${error.statusMessage}`.trim(), {
            status: error.statusCode,
            retryable: retryableStatus(error.statusCode),
          });
        }
        const original = (error as { original?: unknown }).original;
        throw networkError(original ?? error);
      }
    },
  };
}

function blockText(block: Record<string, unknown>): string {
  const text = block.text as { text?: string } | undefined;
  if (text?.text) return text.text;
  const elements = block.elements as Array<{ text?: string }> | undefined;
  return elements?.map((e) => e.text ?? '').join(' ') ?? '';
}
