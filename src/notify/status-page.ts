/**
 * Status page channel: a static `index.html` and a `status.json` (upcoming, active and past
 * maintenance) that any static host can serve. History lives in the page's own status.json:
 * each delivery reads it, updates the entry of this maintenance and writes both files
 * atomically (temporary file, then rename), so a reader never sees half a file.
 */
import { randomBytes } from 'node:crypto';
import { mkdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { EventWindow, MaintenanceEvent, MaintenanceState } from '../core/maintenance-event.js';
import type { ChannelConfig } from '../plan/schema-notify.js';
import { DeliveryError, policyOf, type Channel, type ChannelContext } from './channel.js';
import { compileTemplate, EVENT_LABELS, templateWindow, type RenderFn } from './templates.js';

type StatusPageConfig = Extract<ChannelConfig, { type: 'status-page' }>;

/** How many finished maintenances status.json keeps. */
export const PAST_LIMIT = 50;

export interface StatusEntry {
  /** One maintenance: the plan and the window it runs in (planned, started and completed share it). */
  key: string;
  plan: string;
  runId: string;
  state: MaintenanceState;
  label: string;
  summary: string;
  window: EventWindow;
  nextWindow?: EventWindow;
  emergency?: { reason: string };
  /** ISO-8601 UTC of the last event. */
  updatedAt: string;
  eventId: string;
}

export interface StatusDocument {
  version: 1;
  title: string;
  generatedAt: string;
  upcoming: StatusEntry[];
  active: StatusEntry[];
  past: StatusEntry[];
}

const SECTION_OF: Record<MaintenanceState, 'upcoming' | 'active' | 'past'> = {
  planned: 'upcoming',
  active: 'active',
  completed: 'past',
  failed: 'past',
  rolled_back: 'past',
  rescheduled: 'past',
};

function entryOf(event: MaintenanceEvent): StatusEntry {
  return {
    key: `${event.plan}@${event.window.start}`,
    plan: event.plan,
    runId: event.runId,
    state: event.state,
    label: EVENT_LABELS[event.type],
    summary: event.summary,
    window: event.window,
    ...(event.nextWindow ? { nextWindow: event.nextWindow } : {}),
    ...(event.emergency ? { emergency: event.emergency } : {}),
    updatedAt: event.occurredAt,
    eventId: event.id,
  };
}

/** The next document: this event's maintenance moves to its section; a reschedule also plans the next window. */
export function applyEvent(
  previous: StatusDocument | undefined,
  event: MaintenanceEvent,
  title: string,
): StatusDocument {
  const all = [...(previous?.upcoming ?? []), ...(previous?.active ?? []), ...(previous?.past ?? [])];
  const entry = entryOf(event);
  const entries = all.filter((e) => e.key !== entry.key);
  entries.push(entry);
  if (event.type === 'maintenance_rescheduled' && event.nextWindow) {
    const next: StatusEntry = {
      ...entry,
      key: `${event.plan}@${event.nextWindow.start}`,
      state: 'planned',
      label: EVENT_LABELS.maintenance_planned,
      summary: `Maintenance ${event.plan}, moved here from ${templateWindow(event.window).startText}.`,
      window: event.nextWindow,
    };
    delete next.nextWindow;
    if (!entries.some((e) => e.key === next.key)) entries.push(next);
  }
  const bySection = (section: 'upcoming' | 'active' | 'past') =>
    entries.filter((e) => SECTION_OF[e.state] === section);
  const byStart = (a: StatusEntry, b: StatusEntry) => a.window.start.localeCompare(b.window.start);
  return {
    version: 1,
    title,
    generatedAt: event.occurredAt,
    upcoming: bySection('upcoming').sort(byStart),
    active: bySection('active').sort(byStart),
    past: bySection('past')
      .sort((a, b) => b.updatedAt.localeCompare(a.updatedAt))
      .slice(0, PAST_LIMIT),
  };
}

/** A status.json this channel wrote; anything else (missing, corrupt, foreign) starts a new history. */
export async function readStatus(file: string): Promise<StatusDocument | undefined> {
  try {
    const data = JSON.parse(await readFile(file, 'utf8')) as Partial<StatusDocument>;
    if (
      data.version !== 1 ||
      !Array.isArray(data.upcoming) ||
      !Array.isArray(data.active) ||
      !Array.isArray(data.past)
    )
      return undefined;
    return data as StatusDocument;
  } catch {
    return undefined;
  }
}

/** Write through a temporary file in the same folder, then rename: atomic on POSIX. */
export async function writeAtomic(file: string, content: string): Promise<void> {
  const temp = path.join(
    path.dirname(file),
    `.${path.basename(file)}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`,
  );
  try {
    await writeFile(temp, content, { mode: 0o644 });
    await rename(temp, file);
  } catch (error) {
    await rm(temp, { force: true });
    throw error;
  }
}

export function renderStatusHtml(doc: StatusDocument, render: RenderFn): string {
  const view = (e: StatusEntry) => ({
    ...e,
    window: templateWindow(e.window),
    ...(e.nextWindow ? { nextWindow: templateWindow(e.nextWindow) } : {}),
  });
  return render({
    title: doc.title,
    generatedAt: doc.generatedAt,
    upcoming: doc.upcoming.map(view),
    active: doc.active.map(view),
    past: doc.past.map(view),
    // templateContext's fields do not apply to a page of many maintenances.
  } as never);
}

export async function createStatusPageChannel(
  config: StatusPageConfig,
  context: ChannelContext,
): Promise<Channel> {
  const render = await compileTemplate({
    name: 'status-page.html.hbs',
    override: config.templates?.html,
    html: true,
    planDir: context.planDir,
  });
  const dir = path.resolve(context.planDir, config.dir);
  const jsonFile = path.join(dir, 'status.json');
  const htmlFile = path.join(dir, 'index.html');
  const next = async (event: MaintenanceEvent) => applyEvent(await readStatus(jsonFile), event, config.title);
  return {
    type: 'status-page',
    id: context.id,
    delivery: policyOf(config),
    async render(event) {
      const doc = await next(event);
      return {
        target: `status-page ${path.relative(process.cwd(), dir) || '.'}`,
        text: JSON.stringify(doc, null, 2),
        html: renderStatusHtml(doc, render),
        body: doc,
      };
    },
    async send(event, { signal }) {
      try {
        await mkdir(dir, { recursive: true });
        const doc = await next(event);
        const html = renderStatusHtml(doc, render);
        signal.throwIfAborted();
        // JSON first: a page build that reads status.json sees the new state no later than the HTML.
        await writeAtomic(jsonFile, JSON.stringify(doc, null, 2) + '\n');
        await writeAtomic(htmlFile, html);
        return {};
      } catch (error) {
        if (error instanceof DeliveryError) throw error;
        const code = (error as NodeJS.ErrnoException).code;
        // A full disk or a read-only folder will not fix itself between attempts.
        throw new DeliveryError(
          `cannot write the status page in ${config.dir}: ${code ?? (error as Error).message}`,
          {
            cause: error,
            retryable: code !== 'EACCES' && code !== 'EROFS' && code !== 'ENOSPC',
          },
        );
      }
    },
  };
}
