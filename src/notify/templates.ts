/**
 * Handlebars templates for people-facing messages. Defaults live in templates/ at the package
 * root; a plan overrides them per channel (`templates:` paths relative to the plan). HTML
 * templates escape every value; text templates (subjects, plain bodies, Slack) do not, because
 * an entity in a plain-text mail is a bug too. Handlebars loads only when a channel is built.
 */
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { MaintenanceEvent, EventType, EventWindow } from '../core/maintenance-event.js';
import { InputError } from '../errors.js';
import { formatLocal } from '../window/window.js';

/** templates/ of the package: two levels up from both src/notify and dist/notify. */
export const DEFAULT_TEMPLATE_DIR = path.resolve(
  path.dirname(fileURLToPath(import.meta.url)),
  '..',
  '..',
  'templates',
);

export type RenderFn = (context: TemplateContext) => string;

export interface TemplateSource {
  /** File name of the default in templates/, e.g. `email.html.hbs`. */
  name: string;
  /** Path from the plan (relative to `planDir`) replacing the default. */
  override?: string | undefined;
  /** Template text given inline in the plan (e.g. a subject line), replacing the default. */
  inline?: string | undefined;
  /** HTML output: escape every `{{value}}`. */
  html: boolean;
  planDir: string;
}

type Handlebars = typeof import('handlebars');
let handlebars: Promise<Handlebars> | undefined;

async function engine(): Promise<Handlebars> {
  handlebars ??= import('handlebars').then((m) => {
    const hb = ((m as unknown as { default?: Handlebars }).default ?? m).create() as unknown as Handlebars;
    hb.registerHelper('eq', (a: unknown, b: unknown) => a === b);
    return hb;
  });
  return handlebars;
}

/** Load and compile one template; a missing file or a syntax error is the plan's fault (exit 2). */
export async function compileTemplate(source: TemplateSource): Promise<RenderFn> {
  const file = source.override
    ? path.resolve(source.planDir, source.override)
    : path.join(DEFAULT_TEMPLATE_DIR, source.name);
  let text: string;
  if (source.inline !== undefined) {
    text = source.inline;
  } else {
    try {
      text = await readFile(file, 'utf8');
    } catch (error) {
      throw new InputError(
        'TEMPLATE_NOT_FOUND',
        `cannot read template ${source.override ?? file}: ${(error as NodeJS.ErrnoException).code ?? String(error)}`,
        [{ file: source.override ?? file, message: 'template not readable' }],
        {
          hint: 'Template paths in notify.channels[].templates are relative to the plan file.',
          cause: error,
        },
      );
    }
  }
  const hb = await engine();
  try {
    // parse() checks the syntax now; compile() alone would only fail at the first render.
    hb.parse(text);
    const render = hb.compile(text, { noEscape: !source.html, strict: false, knownHelpersOnly: false });
    return (context) =>
      render(context, { allowProtoPropertiesByDefault: false, allowProtoMethodsByDefault: false });
  } catch (error) {
    const where =
      source.inline !== undefined ? `the inline template for ${source.name}` : (source.override ?? file);
    throw new InputError(
      'TEMPLATE_INVALID',
      `template ${where} is not valid handlebars: ${(error as Error).message.split('\n')[0]}`,
      [{ file: where, message: 'invalid template' }],
      {
        hint: 'Fix the template syntax; see docs/notifications.md for the variables.',
        cause: error,
      },
    );
  }
}

export const EVENT_LABELS: Record<EventType, string> = {
  maintenance_planned: 'Maintenance planned',
  maintenance_started: 'Maintenance started',
  maintenance_completed: 'Maintenance completed',
  maintenance_failed: 'Maintenance failed',
  maintenance_rolled_back: 'Maintenance rolled back',
  maintenance_rescheduled: 'Maintenance rescheduled',
};

export interface TemplateWindow extends EventWindow {
  /** `Sun 29 Nov 2026 21:00 CET`, in the plan's zone. */
  startText: string;
  endText: string;
}

export interface TemplateContext {
  event: MaintenanceEvent;
  plan: string;
  runId: string;
  type: EventType;
  label: string;
  state: MaintenanceEvent['state'];
  summary: string;
  window: TemplateWindow;
  nextWindow?: TemplateWindow;
  emergency?: { reason: string };
  error?: { code: string; message: string };
  steps?: MaintenanceEvent['steps'];
  [extra: string]: unknown;
}

export function templateWindow(window: EventWindow): TemplateWindow {
  return {
    ...window,
    startText: formatLocal(new Date(window.start), window.timezone),
    endText: formatLocal(new Date(window.end), window.timezone),
  };
}

/** The variables every template sees (documented in docs/notifications.md). */
export function templateContext(
  event: MaintenanceEvent,
  extra: Record<string, unknown> = {},
): TemplateContext {
  return {
    ...extra,
    event,
    plan: event.plan,
    runId: event.runId,
    type: event.type,
    label: EVENT_LABELS[event.type],
    state: event.state,
    summary: event.summary,
    window: templateWindow(event.window),
    ...(event.nextWindow ? { nextWindow: templateWindow(event.nextWindow) } : {}),
    ...(event.emergency ? { emergency: event.emergency } : {}),
    ...(event.error ? { error: event.error } : {}),
    ...(event.steps ? { steps: event.steps } : {}),
  };
}

/** A URL for people, secrets cut: scheme, host and port only. */
export function maskUrl(url: string): string {
  try {
    const u = new URL(url);
    return `${u.protocol}//${u.host}/***`;
  } catch {
    return '***';
  }
}
