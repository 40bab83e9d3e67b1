/**
 * `maint init`: scaffold a commented plan, an example migration pair and message templates from
 * templates/init/. Nothing is overwritten unless asked: a half-replaced project is worse than an
 * error that names the files in the way.
 */
import { mkdir, readFile, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { InputError, UsageError, type InputIssue } from '../errors.js';
import { ENGINES } from './schema.js';

export type InitEngine = (typeof ENGINES)[number];

/** templates/init of the package: three levels up from both src/plan and dist/plan. */
export const INIT_TEMPLATE_DIR = path.resolve(
  path.dirname(fileURLToPath(import.meta.url)),
  '..',
  '..',
  'templates',
  'init',
);

const NAME = /^[a-z0-9][a-z0-9-]{0,62}$/;

export interface InitOptions {
  /** Folder to scaffold into; created when missing. */
  dir: string;
  /** @default 'pglite' (embedded, nothing to install) */
  engine?: InitEngine;
  /** Plan name. @default the folder's name, made lowercase-and-dashes, else `maintenance` */
  name?: string;
  /** IANA zone of the window. @default the machine's zone, else UTC */
  timezone?: string;
  /** Replace files that already exist. @default false */
  force?: boolean;
}

export interface InitResult {
  dir: string;
  plan: string;
  name: string;
  engine: InitEngine;
  timezone: string;
  /** Paths written, relative to `dir`. */
  files: string[];
  /** Of those, the ones that existed before (only with `force`). */
  overwritten: string[];
}

/** Destination (relative to the project) → source (relative to templates/init). */
const COPIED: Record<string, string> = {
  'migrations/001_example.sql': 'migrations/001_example.sql',
  'migrations/001_example.down.sql': 'migrations/001_example.down.sql',
  'templates/email.text.hbs': 'templates/email.text.hbs',
  'templates/slack.hbs': 'templates/slack.hbs',
};
const PLAN_FILE = 'maint.yaml';

export async function initProject(options: InitOptions): Promise<InitResult> {
  const dir = path.resolve(options.dir);
  const engine = options.engine ?? 'pglite';
  if (!ENGINES.includes(engine))
    throw new UsageError(`unknown engine "${String(engine)}"; use one of ${ENGINES.join(', ')}`);
  const name = options.name ?? defaultName(dir);
  if (!NAME.test(name)) {
    throw new UsageError(
      `"${name}" is not a plan name; use lowercase letters, digits and dashes (at most 63), e.g. orders-v2`,
      {
        hint: 'Pass a valid one with --name.',
      },
    );
  }
  const timezone = options.timezone ?? defaultZone();
  if (!isZone(timezone)) {
    throw new UsageError(`"${timezone}" is not an IANA time zone`, {
      hint: 'Pass one like --timezone Europe/Paris, or UTC.',
    });
  }

  await ensureFolder(dir);
  const targets = [PLAN_FILE, ...Object.keys(COPIED)];
  const existing: string[] = [];
  for (const rel of targets) if (await exists(path.join(dir, rel))) existing.push(rel);
  if (existing.length > 0 && !options.force) {
    const issues: InputIssue[] = existing.map((rel) => ({
      file: path.join(options.dir, rel),
      message: 'already exists',
    }));
    throw new InputError(
      'INIT_EXISTS',
      `refusing to overwrite ${existing.map((r) => path.join(options.dir, r)).join(', ')}`,
      issues,
      {
        hint: `Run \`maint init ${options.dir} --force\` to replace them, or pick another folder.`,
      },
    );
  }

  const contents = new Map<string, string>();
  contents.set(PLAN_FILE, await renderPlan(engine, name, timezone));
  for (const [dest, src] of Object.entries(COPIED)) contents.set(dest, await template(src));
  for (const [rel, text] of contents) {
    const file = path.join(dir, rel);
    await writable(file, async () => {
      await mkdir(path.dirname(file), { recursive: true });
      await writeFile(file, text, 'utf8');
    });
  }
  return {
    dir,
    plan: path.join(dir, PLAN_FILE),
    name,
    engine,
    timezone,
    files: targets,
    overwritten: existing,
  };
}

async function renderPlan(engine: InitEngine, name: string, timezone: string): Promise<string> {
  const database = (await template(`database/${engine}.yaml`)).trimEnd();
  // Placeholders are plain YAML (so the template itself is a valid, formattable file) and not
  // handlebars, so the plan's own templates ({{window.startLocal}}) pass through untouched.
  return (await template(PLAN_FILE))
    .replace('name: __NAME__', `name: ${name}`)
    .replace('timezone: __TIMEZONE__', `timezone: ${timezone}`)
    .replace('# __DATABASE__', database);
}

async function template(rel: string): Promise<string> {
  return readFile(path.join(INIT_TEMPLATE_DIR, rel), 'utf8');
}

function defaultName(dir: string): string {
  const slug = path
    .basename(dir)
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '-')
    .replace(/^-+|-+$/g, '')
    .slice(0, 63)
    .replace(/-+$/, '');
  return NAME.test(slug) ? slug : 'maintenance';
}

function defaultZone(): string {
  const zone = Intl.DateTimeFormat().resolvedOptions().timeZone;
  return zone && isZone(zone) && zone.includes('/') ? zone : 'UTC';
}

function isZone(zone: string): boolean {
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: zone });
    return true;
  } catch {
    return false;
  }
}

async function ensureFolder(dir: string): Promise<void> {
  const info = await stat(dir).catch(() => undefined);
  if (info && !info.isDirectory()) {
    throw new UsageError(`${dir} exists and is not a folder`, {
      hint: 'Name a folder (new or existing) to scaffold into.',
    });
  }
  await writable(dir, () => mkdir(dir, { recursive: true }));
}

/** A folder or file we may not write is the user's to fix (exit 2), not a bug. */
async function writable(target: string, write: () => Promise<unknown>): Promise<void> {
  try {
    await write();
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (!code) throw error;
    throw new UsageError(`cannot write ${target} (${code})`, {
      hint: 'Pick a folder you can write to, or fix its permissions.',
      cause: error,
    });
  }
}

async function exists(file: string): Promise<boolean> {
  return stat(file).then(
    () => true,
    () => false,
  );
}
