/**
 * Hints as data. An error's next step is a sentence with named actions in it
 * (`"Wait for it ({wait}), or see {lock}."`), each action a maint command on a plan. The CLI
 * renders an action as a command line with the user's real plan path; the agent renders it as
 * a URL or plain words. Code far from the plan (a database adapter) leaves the plan unbound;
 * the core binds it to the plan it was running (`bindPlan`) before a host sees the error.
 */

export const ACTION_COMMANDS = [
  'run',
  'plan',
  'status',
  'gate',
  'window',
  'validate',
  'lock',
  'lock release',
  'migrate',
  'migrate status',
  'migrate down',
  'migrate create',
  'migrate accept',
  'notify',
  'banner',
  'resolve',
] as const;
export type ActionCommand = (typeof ACTION_COMMANDS)[number];

export interface NextAction {
  command: ActionCommand;
  /** The plan path as the user wrote it; unset until the core binds it. */
  plan?: string;
  /** Arguments after the plan (`migrate create PLAN NAME`). */
  args?: string[];
  /** Flags in order, e.g. `{ wait: true }`, `{ to: '002_add_status' }`. */
  flags?: Record<string, string | true>;
}

export interface Hint {
  /** A sentence; `{name}` marks where action `name` goes. */
  text: string;
  actions: Record<string, NextAction>;
}

export function hint(text: string, actions: Record<string, NextAction> = {}): Hint {
  return { text, actions };
}

/** Shorthand for an action on a plan (or on the plan the core will bind). */
export function act(
  command: ActionCommand,
  plan?: string,
  flags?: NextAction['flags'],
  args?: string[],
): NextAction {
  return {
    command,
    ...(plan !== undefined ? { plan } : {}),
    ...(args ? { args } : {}),
    ...(flags ? { flags } : {}),
  };
}

export type ActionRenderer = (action: NextAction) => string;

function shellWord(word: string): string {
  return /^[\w@%+=:,./-]+$/.test(word) ? word : `'${word.replace(/'/g, `'\\''`)}'`;
}

/** A command line, as the CLI shows it: `` `maint status plans/orders.yaml` ``. */
export function commandLine(action: NextAction, bin = 'maint'): string {
  const words = [bin, action.command, action.plan !== undefined ? shellWord(action.plan) : '<plan>'];
  words.push(...(action.args ?? []));
  for (const [flag, value] of Object.entries(action.flags ?? {}))
    words.push(value === true ? `--${flag}` : `--${flag} ${shellWord(value)}`);
  return words.join(' ');
}

export const cliAction: ActionRenderer = (action) => `\`${commandLine(action)}\``;

export function renderHint(h: Hint, render: ActionRenderer = cliAction): string {
  return h.text.replace(/\{(\w+)\}/g, (whole, name: string) => {
    const action = h.actions[name];
    return action ? render(action) : whole;
  });
}

/** The same hint with every unbound action bound to `plan`. */
export function bindHint(h: Hint, plan: string): Hint {
  const actions = Object.fromEntries(
    Object.entries(h.actions).map(([name, a]) => [name, a.plan === undefined ? { ...a, plan } : a]),
  );
  return { text: h.text, actions };
}
