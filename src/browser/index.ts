/**
 * `maint/browser`: tell a web app's own users about maintenance. It watches the agent's
 * `/status` (or the banner's JSON twin that `maint` writes for static sites) and calls
 * `onChange(state)` whenever the notice changes. With `intercom`, it boots the Intercom
 * Messenger (`@intercom/messenger-js-sdk`, loaded only then) and keeps user attributes
 * (`maintenance_state`, `maintenance_starts_at`, `maintenance_ends_at`) up to date, and tracks
 * `maintenance_planned`, `maintenance_started` and `maintenance_completed` events that
 * Intercom in-app messages can target.
 *
 * Browser code: ESM, no Node built-ins, only `fetch` and timers.
 */

export type NoticeState = 'planned' | 'active' | 'off';

export interface MaintenanceState {
  state: NoticeState;
  /** True while users should see a notice (planned or active). */
  enabled: boolean;
  plan: string | null;
  /** The banner's text, when the source has one. */
  text: string | null;
  url: string | null;
  /** ISO-8601 UTC. */
  startsAt: string | null;
  endsAt: string | null;
}

/** The calls of `@intercom/messenger-js-sdk` this module makes. */
export interface IntercomSdk {
  Intercom(settings: Record<string, unknown>): void;
  update(attributes: Record<string, unknown>): void;
  trackEvent(name: string, metadata?: Record<string, unknown>): void;
}

export interface IntercomOptions {
  /** Your Intercom workspace id. */
  appId: string;
  /** The logged-in user (`user_id`, `email`, `name`, `user_hash`, …), passed to Intercom as is. */
  user?: Record<string, unknown>;
  /** `us` (default), `eu` or `ap`. */
  region?: string;
  /** The SDK itself; @default the `@intercom/messenger-js-sdk` module, imported on first use. */
  sdk?: IntercomSdk;
}

export interface WatchOptions {
  /** The agent's `/status` URL, or the banner's JSON twin (e.g. `/data/maintenance.json`). */
  url: string;
  /** Which plan of `/status` to follow. @default the first plan whose notice is on */
  plan?: string;
  /** Bearer token, when the agent asks for one (a public page should read the banner JSON instead). */
  token?: string;
  /** How often to look. @default 60000 */
  intervalMs?: number;
  onChange(state: MaintenanceState): void;
  /** A failed look (network, bad answer); watching goes on. */
  onError?(error: unknown): void;
  intercom?: IntercomOptions;
  /** @default globalThis.fetch */
  fetch?: typeof fetch;
}

export interface Watcher {
  /** Look now; resolves with the state seen. */
  refresh(): Promise<MaintenanceState>;
  stop(): void;
}

const OFF: MaintenanceState = {
  state: 'off',
  enabled: false,
  plan: null,
  text: null,
  url: null,
  startsAt: null,
  endsAt: null,
};

const isState = (v: unknown): v is NoticeState => v === 'planned' || v === 'active' || v === 'off';
const str = (v: unknown): string | null => (typeof v === 'string' ? v : null);

/** The notice in an agent `/status` document or a banner JSON twin. */
export function parseState(document: unknown, plan?: string): MaintenanceState {
  if (!document || typeof document !== 'object') throw new Error('maint: the answer is not a JSON object');
  const doc = document as Record<string, unknown>;
  if (Array.isArray(doc.plans)) {
    const plans = doc.plans as Array<Record<string, unknown>>;
    const notice = (p: Record<string, unknown>) => (p.notice ?? {}) as Record<string, unknown>;
    const chosen = plan
      ? plans.find((p) => p.plan === plan)
      : (plans.find((p) => notice(p).state === 'active') ?? plans.find((p) => notice(p).state === 'planned'));
    if (!chosen) return { ...OFF };
    const n = notice(chosen);
    const state = isState(n.state) ? n.state : 'off';
    return {
      state,
      enabled: state !== 'off',
      plan: str(chosen.plan),
      text: null,
      url: null,
      startsAt: str(n.startsAt),
      endsAt: str(n.endsAt),
    };
  }
  if (typeof doc.enabled === 'boolean') {
    const state = isState(doc.state) ? doc.state : doc.enabled ? 'planned' : 'off';
    return {
      state: doc.enabled ? state : 'off',
      enabled: doc.enabled,
      plan: null,
      text: str(doc.text),
      url: str(doc.url),
      startsAt: str(doc.starts_at),
      endsAt: str(doc.ends_at),
    };
  }
  throw new Error('maint: the answer is neither an agent /status nor a banner JSON file');
}

const EVENT_OF: Record<NoticeState, string | null> = {
  planned: 'maintenance_planned',
  active: 'maintenance_started',
  off: 'maintenance_completed',
};

async function loadSdk(options: IntercomOptions): Promise<IntercomSdk> {
  if (options.sdk) return options.sdk;
  const mod = (await import('@intercom/messenger-js-sdk')) as unknown as Record<string, unknown> & {
    default?: Record<string, unknown>;
  };
  const pick = <T>(name: string): T => (mod[name] ?? mod.default?.[name]) as T;
  return { Intercom: pick('Intercom'), update: pick('update'), trackEvent: pick('trackEvent') };
}

/** Watch the notice; `onChange` is called with the first state seen and on every change. */
export function watchMaintenance(options: WatchOptions): Watcher {
  const doFetch = options.fetch ?? globalThis.fetch.bind(globalThis);
  let last: MaintenanceState | null = null;
  let stopped = false;
  let timer: ReturnType<typeof setTimeout> | undefined;
  let sdk: Promise<IntercomSdk> | null = null;

  const tellIntercom = async (state: MaintenanceState, previous: MaintenanceState | null) => {
    const intercom = options.intercom;
    if (!intercom) return;
    if (!sdk) {
      sdk = loadSdk(intercom).then((s) => {
        s.Intercom({
          app_id: intercom.appId,
          ...(intercom.region ? { region: intercom.region } : {}),
          ...intercom.user,
        });
        return s;
      });
    }
    const s = await sdk;
    s.update({
      maintenance_state: state.state,
      maintenance_starts_at: state.startsAt,
      maintenance_ends_at: state.endsAt,
    });
    // `completed` only after a maintenance this page saw planned or active.
    const event = EVENT_OF[state.state];
    if (event && (state.state !== 'off' || (previous !== null && previous.state !== 'off')))
      s.trackEvent(event, { plan: state.plan, starts_at: state.startsAt, ends_at: state.endsAt });
  };

  const refresh = async (): Promise<MaintenanceState> => {
    const response = await doFetch(options.url, {
      headers: options.token ? { authorization: `Bearer ${options.token}` } : {},
    });
    if (!response.ok) throw new Error(`maint: ${options.url} answered ${response.status}`);
    const state = parseState(await response.json(), options.plan);
    const changed =
      !last || last.state !== state.state || last.startsAt !== state.startsAt || last.text !== state.text;
    if (changed) {
      const previous = last;
      last = state;
      options.onChange(state);
      if (!previous || previous.state !== state.state) await tellIntercom(state, previous);
    }
    return state;
  };

  const loop = () => {
    if (stopped) return;
    refresh()
      .catch((error: unknown) => options.onError?.(error))
      .finally(() => {
        if (!stopped) timer = setTimeout(loop, options.intervalMs ?? 60_000);
      });
  };
  loop();
  return {
    refresh,
    stop() {
      stopped = true;
      if (timer !== undefined) clearTimeout(timer);
    },
  };
}
