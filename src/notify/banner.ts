/**
 * The banner file: a Jekyll data file (`_data/*.yml`) and/or its JSON twin that a static site
 * reads to show or hide its maintenance banner. YAML is written by hand rather than by a YAML
 * library because Jekyll reads YAML 1.1: every string is double-quoted and escaped so values
 * like `no`, `on`, `12:30`, `1e3` or `~` stay strings. Files are replaced atomically (temporary
 * file in the same folder, then rename), so a site build never reads half a file.
 */
import { act, hint } from '../hints.js';
import { randomBytes } from 'node:crypto';
import { mkdir, rename, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { InputError } from '../errors.js';
import type { BannerConfig } from '../plan/schema-notify.js';
import type { Plan } from '../plan/schema.js';
import { currentWindow, formatLocal, nextWindows, type WindowInstance } from '../window/window.js';

export const BANNER_STATES = ['planned', 'active', 'off'] as const;
export type BannerState = (typeof BANNER_STATES)[number];

/** What the site reads. Key order is the order written. */
export interface BannerContent {
  enabled: boolean;
  text: string;
  url?: string;
  state: BannerState;
  /** ISO-8601 UTC. */
  starts_at: string;
  ends_at: string;
}

export interface BannerWrite {
  /** Absolute path written. */
  file: string;
  format: 'yaml' | 'json';
  state: BannerState;
}

export function bannerFormat(config: Pick<BannerConfig, 'file' | 'format'>): 'yaml' | 'json' {
  return config.format ?? (config.file.toLowerCase().endsWith('.json') ? 'json' : 'yaml');
}

export function bannerConfigs(plan: Plan): BannerConfig[] {
  const banner = plan.notify.banner;
  if (!banner) return [];
  return Array.isArray(banner) ? banner : [banner];
}

/**
 * A YAML double-quoted scalar that YAML 1.1 and 1.2 both read back as the same string.
 * Escapes the quote, the backslash, control and line-break characters (including NEL, LS, PS,
 * which YAML 1.1 treats as line breaks) and the BOM; lone surrogates become U+FFFD.
 */
export function yamlQuote(value: string): string {
  let out = '"';
  for (const ch of value) {
    const cp = ch.codePointAt(0)!;
    // for…of yields a lone surrogate as its own one-unit string: not representable, so replace it.
    if (cp >= 0xd800 && cp <= 0xdfff) out += '\uFFFD';
    else if (ch === '"') out += '\\"';
    else if (ch === '\\') out += '\\\\';
    else if (ch === '\n') out += '\\n';
    else if (ch === '\t') out += '\\t';
    else if (ch === '\r') out += '\\r';
    else if (
      cp < 0x20 ||
      (cp >= 0x7f && cp <= 0x9f) ||
      cp === 0x2028 ||
      cp === 0x2029 ||
      cp === 0xfeff ||
      cp === 0xfffe ||
      cp === 0xffff
    ) {
      out += '\\u' + cp.toString(16).padStart(4, '0');
    } else out += ch;
  }
  return out + '"';
}

/** The YAML data file: booleans bare, every string double-quoted. */
export function serializeBannerYaml(content: BannerContent): string {
  const lines = [
    '# Written by maint (`maint banner`, `maint run`); do not edit: it is replaced on every change.',
  ];
  for (const [key, value] of Object.entries(content)) {
    if (value === undefined) continue;
    lines.push(`${key}: ${typeof value === 'boolean' ? String(value) : yamlQuote(String(value))}`);
  }
  return lines.join('\n') + '\n';
}

export function serializeBannerJson(content: BannerContent): string {
  return JSON.stringify(content, null, 2) + '\n';
}

/** Variables a banner text template sees. */
export interface BannerTemplateData {
  plan: { name: string };
  state: BannerState;
  window: { start: string; end: string; startLocal: string; endLocal: string; timezone: string };
}

export function bannerTemplateData(
  plan: Plan,
  state: BannerState,
  window: WindowInstance,
): BannerTemplateData {
  const zone = plan.window.timezone;
  return {
    plan: { name: plan.name },
    state,
    window: {
      start: window.start.toISOString(),
      end: window.end.toISOString(),
      startLocal: formatLocal(window.start, zone),
      endLocal: formatLocal(window.end, zone),
      timezone: zone,
    },
  };
}

/** Render the banner text template (handlebars, loaded only when a banner is written). */
export async function renderBannerText(template: string, data: BannerTemplateData): Promise<string> {
  const { default: Handlebars } = await import('handlebars');
  try {
    // noEscape: the text goes into YAML/JSON (escaped there), not into HTML; the site escapes it.
    return Handlebars.create().compile(template, { noEscape: true, strict: false })(data).trim();
  } catch (error) {
    throw new InputError(
      'BANNER_TEMPLATE_INVALID',
      `notify.banner.text is not a valid template: ${(error as Error).message}`,
      [{ path: 'notify.banner.text', message: (error as Error).message }],
      {
        hint: hint(
          'Fix the template (handlebars syntax, e.g. {{window.startLocal}}), then {banner} to try it.',
          { banner: act('banner', undefined, { state: 'planned' }) },
        ),
        cause: error,
      },
    );
  }
}

export async function bannerContent(
  plan: Plan,
  config: BannerConfig,
  state: BannerState,
  window: WindowInstance,
): Promise<BannerContent> {
  const text = await renderBannerText(config.text, bannerTemplateData(plan, state, window));
  return {
    enabled: state !== 'off',
    text,
    ...(config.url ? { url: config.url } : {}),
    state,
    starts_at: window.start.toISOString(),
    ends_at: window.end.toISOString(),
  };
}

/** Replace `file` with `text` atomically: a reader sees the old file or the new one, never half. */
export async function writeFileAtomic(file: string, text: string): Promise<void> {
  const dir = path.dirname(file);
  await mkdir(dir, { recursive: true });
  // Same folder, so the rename never crosses a file system; a dot name, so Jekyll ignores it.
  const tmp = path.join(dir, `.${path.basename(file)}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`);
  try {
    await writeFile(tmp, text, { flush: true });
    await rename(tmp, file);
  } catch (error) {
    await rm(tmp, { force: true });
    throw error;
  }
}

/** Write every banner file of the plan for `state`. */
export async function writeBanners(
  plan: Plan,
  planDir: string,
  state: BannerState,
  window: WindowInstance,
): Promise<BannerWrite[]> {
  const out: BannerWrite[] = [];
  for (const config of bannerConfigs(plan)) {
    const format = bannerFormat(config);
    const content = await bannerContent(plan, config, state, window);
    const file = path.resolve(planDir, config.file);
    await writeFileAtomic(
      file,
      format === 'json' ? serializeBannerJson(content) : serializeBannerYaml(content),
    );
    out.push({ file, format, state });
  }
  return out;
}

export interface BannerResult {
  plan: string;
  state: BannerState;
  window: { start: string; end: string };
  files: Array<{ file: string; format: 'yaml' | 'json' }>;
  error: null;
}

/** `maint banner`: write the plan's banners for the open window, or the next one when closed. */
export async function setBanner(
  loaded: { plan: Plan; dir: string; path: string },
  state: BannerState,
  clock: { now(): Date },
): Promise<BannerResult> {
  const now = clock.now();
  const window = currentWindow(loaded.plan.window, now) ?? nextWindows(loaded.plan.window, now, 1)[0];
  if (bannerConfigs(loaded.plan).length === 0) {
    throw new InputError(
      'BANNER_NOT_CONFIGURED',
      `${loaded.path} has no notify.banner`,
      [{ file: loaded.path, path: 'notify.banner', message: 'missing' }],
      {
        hint: 'Add notify.banner with a file (e.g. site/_data/banner_notification.yml); see docs/banner.md.',
      },
    );
  }
  if (!window)
    throw new InputError('NO_WINDOW', 'the plan has no upcoming window', [], {
      hint: `Check it with \`maint window ${loaded.path}\`.`,
    });
  const written = await writeBanners(loaded.plan, loaded.dir, state, window);
  return {
    plan: loaded.plan.name,
    state,
    window: { start: window.start.toISOString(), end: window.end.toISOString() },
    files: written.map((w) => ({ file: path.relative(process.cwd(), w.file) || w.file, format: w.format })),
    error: null,
  };
}
