/**
 * The `notify` part of the plan schema: the banner file(s) and the channels. Kept apart from
 * schema.ts so channels can grow without touching the rest of the plan.
 */
import { z } from 'zod';
import { durationMs, EVENT_TYPES, rule } from './schema-common.js';
import { intercomRules } from './schema-rules.js';

const events = z
  .array(z.enum(EVENT_TYPES))
  .min(1)
  .optional()
  .meta({ description: 'Send only these events (default: all of them).' });

const templates = z
  .strictObject({
    subject: z
      .string()
      .optional()
      .meta({ description: 'Handlebars template text (inline, not a path) for the subject/title line.' }),
    text: z
      .string()
      .optional()
      .meta({ description: 'Path (relative to the plan) of a handlebars template for the text body.' }),
    html: z.string().optional().meta({
      description:
        'Path (relative to the plan) of a handlebars template for the HTML body (values are HTML-escaped).',
    }),
  })
  .optional()
  .meta({ description: 'Override the default templates in templates/.' });

const delivery = {
  timeout: durationMs.prefault('5s').meta({ description: 'Give up on one attempt after this long.' }),
  retries: z
    .number()
    .int()
    .min(0)
    .max(20)
    .default(3)
    .meta({ description: 'Further attempts after the first, with backoff and jitter.' }),
  events,
  templates,
};

export const WebhookChannelSchema = z.strictObject({
  type: z.literal('webhook'),
  url: z
    .url({ protocol: /^https?$/ })
    .meta({ description: 'Receiver URL (secret: never printed).', 'x-secret': 'value' }),
  secret: z
    .string()
    .regex(/^whsec_[A-Za-z0-9+/=]+$/, 'a Standard Webhooks secret starts with whsec_ followed by base64')
    .optional()
    .meta({ description: 'Standard Webhooks signing secret (`whsec_…`).', 'x-secret': 'value' }),
  ...delivery,
});

export const SlackChannelSchema = z.strictObject({
  type: z.literal('slack'),
  url: z
    .url({ protocol: /^https?$/ })
    .meta({ description: 'Slack incoming-webhook URL (secret).', 'x-secret': 'value' }),
  ...delivery,
});

export const EmailChannelSchema = z.strictObject({
  type: z.literal('email'),
  smtp: z.url({ protocol: /^smtps?$/ }).meta({
    description: 'SMTP URL, e.g. smtps://user:pass@mail.example.com:465 (secret).',
    'x-secret': 'credentials',
  }),
  from: z.string().min(3),
  to: z.array(z.string().min(3)).min(1),
  ...delivery,
});

export const IntercomChannelSchema = z
  .strictObject({
    type: z.literal('intercom'),
    token: z.string().min(8).meta({ description: 'Intercom access token (secret).', 'x-secret': 'value' }),
    baseUrl: z
      .url({ protocol: /^https?$/ })
      .optional()
      .meta({
        description:
          'API base URL (regional hosts such as https://api.eu.intercom.io, tests). Default: https://api.intercom.io.',
      }),
    mode: z.enum(['event', 'message']).default('event').meta({
      description:
        '`event`: submit a data event per user that triggers your own Intercom series; `message`: admin-initiated message per contact.',
    }),
    adminId: z
      .string()
      .regex(/^\d+$/, 'an Intercom admin id is a number, e.g. "814860"')
      .optional()
      .meta({ description: 'Sending admin (required for mode: message).' }),
    messageType: z
      .enum(['email', 'inapp'])
      .default('email')
      .meta({ description: 'For mode: message: an email or an in-app message.' }),
    eventName: z
      .string()
      .regex(/^[A-Za-z0-9_.-]+$/)
      .default('maintenance')
      .meta({
        description:
          'Event name prefix, for mode: event: `maintenance` sends `maintenance_planned`, `maintenance_started`, …',
      }),
    userIds: z.array(z.string().min(1)).min(1).meta({
      description:
        'Who to reach: your external user ids (mode: event) or Intercom contact ids (mode: message).',
    }),
    ...delivery,
  })
  .check(rule(intercomRules));

export const StatusPageChannelSchema = z.strictObject({
  type: z.literal('status-page'),
  dir: z
    .string()
    .min(1)
    .meta({ description: 'Folder (relative to the plan) that receives index.html and status.json.' }),
  title: z.string().default('Maintenance status'),
  ...delivery,
});

export const ChannelSchema = z.discriminatedUnion('type', [
  WebhookChannelSchema,
  SlackChannelSchema,
  EmailChannelSchema,
  IntercomChannelSchema,
  StatusPageChannelSchema,
]);
export const CHANNEL_TYPES = ['webhook', 'slack', 'email', 'intercom', 'status-page'] as const;

export const BannerSchema = z.strictObject({
  file: z.string().min(1).meta({
    description: 'Banner data file, relative to the plan (e.g. site/_data/banner_notification.yml).',
  }),
  format: z
    .enum(['yaml', 'json'])
    .optional()
    .meta({ description: 'Default: json for .json files, yaml otherwise.' }),
  text: z
    .string()
    .default('Scheduled maintenance {{window.startLocal}} ({{window.timezone}})')
    .meta({ description: 'Handlebars template; see docs/templates.md for the variables.' }),
  url: z.string().optional().meta({ description: 'Where the banner links to.' }),
});

export const NotifySchema = z.strictObject({
  banner: z.union([BannerSchema, z.array(BannerSchema).min(1)]).optional(),
  channels: z.array(ChannelSchema).default([]),
});

export type ChannelConfig = z.output<typeof ChannelSchema>;
export type ChannelType = ChannelConfig['type'];
export type BannerConfig = z.output<typeof BannerSchema>;
export type NotifyConfig = z.output<typeof NotifySchema>;
