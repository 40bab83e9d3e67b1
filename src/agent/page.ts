/**
 * `GET /`: the status page of the status-page channel (the same template and layout), built from
 * the agent's status: upcoming scheduled operations, runs in progress, and recent runs.
 */
import type { MaintenanceState } from '../core/maintenance-event.js';
import { renderStatusHtml, type StatusDocument, type StatusEntry } from '../notify/status-page.js';
import { compileTemplate, EVENT_LABELS, type RenderFn } from '../notify/templates.js';
import type { AgentStatus, PlanStatus } from './status.js';

let template: Promise<RenderFn> | null = null;

function window(start: string, end: string | null): StatusEntry['window'] {
  return { start, end: end ?? start, startLocal: start, endLocal: end ?? start, timezone: 'UTC' };
}

function entry(p: PlanStatus, state: MaintenanceState, summary: string, at: string): StatusEntry {
  const label =
    state === 'planned'
      ? EVENT_LABELS.maintenance_planned
      : state === 'active'
        ? EVENT_LABELS.maintenance_started
        : state === 'completed'
          ? EVENT_LABELS.maintenance_completed
          : state === 'rolled_back'
            ? EVENT_LABELS.maintenance_rolled_back
            : state === 'rescheduled'
              ? EVENT_LABELS.maintenance_rescheduled
              : EVENT_LABELS.maintenance_failed;
  return {
    key: `${p.plan}@${at}`,
    plan: p.plan,
    runId: p.running?.runId ?? p.scheduled?.runId ?? '',
    state,
    label,
    summary,
    window: window(p.scheduled?.windowStart ?? at, p.scheduled?.windowEnd ?? null),
    updatedAt: p.checkedAt ?? at,
    eventId: p.scheduled?.eventId ?? '',
  };
}

const PAST: Record<string, MaintenanceState> = {
  completed: 'completed',
  rolled_back: 'rolled_back',
  rescheduled: 'rescheduled',
  failed: 'failed',
};

export function statusDocument(status: AgentStatus, now: string): StatusDocument {
  const doc: StatusDocument = {
    version: 1,
    title: 'Maintenance',
    generatedAt: now,
    upcoming: [],
    active: [],
    past: [],
  };
  for (const p of status.list()) {
    if (p.notice.state === 'active')
      doc.active.push(entry(p, 'active', `Maintenance ${p.plan} is in progress.`, p.running?.since ?? now));
    else if (p.notice.state === 'planned' && p.scheduled)
      doc.upcoming.push(entry(p, 'planned', `Maintenance ${p.plan} is scheduled.`, p.scheduled.windowStart));
    for (const run of p.lastRuns) {
      const state = PAST[run.status];
      if (!state) continue;
      doc.past.push({
        ...entry(p, state, `Maintenance ${p.plan}: ${run.status}.`, run.startedAt),
        runId: run.runId,
        window: window(run.startedAt, run.finishedAt),
        updatedAt: run.finishedAt ?? run.startedAt,
      });
    }
  }
  doc.past.sort((a, b) => b.updatedAt.localeCompare(a.updatedAt));
  return doc;
}

export async function statusPageHtml(status: AgentStatus): Promise<string> {
  template ??= compileTemplate({ name: 'status-page.html.hbs', html: true, planDir: process.cwd() });
  return renderStatusHtml(statusDocument(status, new Date().toISOString()), await template);
}
