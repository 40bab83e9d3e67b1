/**
 * Email channel: nodemailer over the plan's SMTP URL, with a subject, a text body and an HTML
 * body from handlebars templates. One connection per attempt, closed on success, failure or
 * timeout, so a stuck server cannot hold the run.
 */
import type { MaintenanceEvent } from '../core/maintenance-event.js';
import type { ChannelConfig } from '../plan/schema-notify.js';
import { DeliveryError, policyOf, type Channel, type ChannelContext } from './channel.js';
import { compileTemplate, templateContext, type RenderFn } from './templates.js';

type EmailConfig = Extract<ChannelConfig, { type: 'email' }>;

export interface EmailTemplates {
  subject: RenderFn;
  text: RenderFn;
  html: RenderFn;
}

export function renderEmail(
  event: MaintenanceEvent,
  templates: EmailTemplates,
): { subject: string; text: string; html: string } {
  const context = templateContext(event);
  // A header cannot hold a line break; a template that produces one must not forge headers.
  const subject = templates
    .subject(context)
    .replace(/\s*[\r\n]+\s*/g, ' ')
    .trim();
  return { subject, text: templates.text(context), html: templates.html(context) };
}

export async function createEmailChannel(config: EmailConfig, context: ChannelContext): Promise<Channel> {
  const common = { planDir: context.planDir };
  const templates: EmailTemplates = {
    subject: await compileTemplate({
      ...common,
      name: 'email.subject.hbs',
      inline: config.templates?.subject,
      html: false,
    }),
    text: await compileTemplate({
      ...common,
      name: 'email.text.hbs',
      override: config.templates?.text,
      html: false,
    }),
    html: await compileTemplate({
      ...common,
      name: 'email.html.hbs',
      override: config.templates?.html,
      html: true,
    }),
  };
  const smtpHost = (() => {
    const u = new URL(config.smtp);
    return `${u.protocol}//${u.host}`;
  })();
  const target = `email ${config.to.join(', ')} via ${smtpHost}`;

  const transport = async () => {
    const nodemailer = (await import('nodemailer')).default;
    return nodemailer.createTransport({
      url: config.smtp,
      // nodemailer's own timers as a second net; deliver()'s timeout is the one that counts.
      connectionTimeout: config.timeout,
      greetingTimeout: config.timeout,
      socketTimeout: config.timeout,
      logger: false,
      debug: false,
    } as Parameters<typeof nodemailer.createTransport>[0]);
  };

  return {
    type: 'email',
    id: context.id,
    delivery: policyOf(config),
    async render(event) {
      return { target, ...renderEmail(event, templates) };
    },
    async send(event, { signal }) {
      const transporter = await transport();
      const close = () => transporter.close();
      signal.addEventListener('abort', close, { once: true });
      try {
        const message = renderEmail(event, templates);
        await transporter.sendMail({
          from: config.from,
          to: config.to,
          ...message,
          headers: { 'X-Maint-Event-Id': event.id, 'X-Maint-Event': event.type },
        });
        return { status: 250 };
      } catch (error) {
        throw smtpError(error);
      } finally {
        signal.removeEventListener('abort', close);
        transporter.close();
      }
    },
    async preflight(signal) {
      const transporter = await transport();
      const close = () => transporter.close();
      signal.addEventListener('abort', close, { once: true });
      try {
        await transporter.verify();
      } catch (error) {
        throw smtpError(error);
      } finally {
        signal.removeEventListener('abort', close);
        transporter.close();
      }
    },
  };
}

/** SMTP 5xx answers are permanent (bad credentials, unknown recipient); 4xx and network errors are retried. */
function smtpError(error: unknown): DeliveryError {
  const e = error as { responseCode?: number; code?: string; message?: string };
  const status = typeof e.responseCode === 'number' ? e.responseCode : undefined;
  const message = `SMTP ${e.code ?? 'error'}${status ? ` ${status}` : ''}: ${e.message ?? String(error)}`;
  return new DeliveryError(message, {
    cause: error,
    ...(status !== undefined ? { status, retryable: status < 500 } : {}),
  });
}
