/** The result of `maint run` (docs/SPEC.md's run shape, plus what the run learned). */
import type { DeliveryOutcome } from '../../notify/channel.js';
import type { StepResult } from '../engine/engine.js';
import type { ErrorJson, WindowJson } from '../result.js';
import type { RunOutcome } from '../status.js';
import type { GuardReport } from './release-guard.js';

export interface StepJson {
  name: string;
  status: string;
  durationMs: number | null;
  estimateMs: number;
  /** What the step reported (a failing command's output, the migrations applied...). */
  detail?: Record<string, unknown> | null;
}

export interface RunResult {
  plan: string;
  runId: string | null;
  status: RunOutcome;
  steps: StepJson[];
  notifications: DeliveryOutcome[];
  error: ErrorJson | null;
  emergency: { reason: string } | null;
  /** What happened to an interrupted run found at start. */
  recovered: { runId: string; action: 'resumed' | 'rolled_back'; reason: string } | null;
  /** The expand/contract guard's verdict (null when the plan rolls no fleet). */
  guard: GuardReport | null;
  /** Migrations applied by this run. */
  applied: string[];
  window: WindowJson | null;
  /** clone-freeze: how long writes were frozen, by phase (only on a clone-freeze run that froze). */
  freeze?: { totalMs: number; phases: Array<{ name: string; ms: number }> };
  /** clone-freeze: the database the application uses from now on (password masked). */
  databaseUrl?: string;
  /** The next window, in the one window shape (`next` of `maint window`). */
  nextWindow: WindowJson | null;
}

export function stepJson(s: StepResult): StepJson {
  return {
    name: s.name,
    status: s.status,
    durationMs: s.durationMs,
    estimateMs: s.estimateMs,
    ...(s.detail ? { detail: s.detail } : {}),
  };
}
