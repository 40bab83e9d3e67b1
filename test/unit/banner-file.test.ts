import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import fc from 'fast-check';
import { parse } from 'yaml';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  bannerContent,
  bannerFormat,
  serializeBannerJson,
  serializeBannerYaml,
  writeBanners,
  yamlQuote,
  type BannerContent,
} from '../../src/notify/banner.js';
import { PlanSchema } from '../../src/plan/schema.js';

const window = { start: new Date('2026-11-29T20:00:00Z'), end: new Date('2026-11-29T22:00:00Z') };
const plan = (banner: unknown) =>
  PlanSchema.parse({
    version: 1,
    name: 'orders-v2',
    window: { timezone: 'Europe/Paris', days: ['sun'], start: '21:00', duration: '2h' },
    database: { engine: 'pglite', url: 'memory://' },
    notify: { banner },
  });

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'maint-banner-'));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('banner YAML for Jekyll (YAML 1.1)', () => {
  it('writes exactly the documented shape, every string double-quoted', () => {
    const content: BannerContent = {
      enabled: true,
      text: 'Scheduled maintenance Sunday 21:00 CET',
      url: 'https://status.example.com/maintenance',
      state: 'active',
      starts_at: '2026-11-29T20:00:00.000Z',
      ends_at: '2026-11-29T22:00:00.000Z',
    };
    expect(serializeBannerYaml(content).split('\n').slice(1).join('\n')).toBe(
      [
        'enabled: true',
        'text: "Scheduled maintenance Sunday 21:00 CET"',
        'url: "https://status.example.com/maintenance"',
        'state: "active"',
        'starts_at: "2026-11-29T20:00:00.000Z"',
        'ends_at: "2026-11-29T22:00:00.000Z"',
        '',
      ].join('\n'),
    );
  });

  it.each([
    'no',
    'on',
    'yes',
    'off',
    'y',
    '~',
    'null',
    '12:30',
    '1e3',
    '0x1F',
    '010',
    '.inf',
    '2026-11-29',
    '- item',
    '# not a comment',
    'a: b',
    '"quoted"',
    'back\\slash',
    'line\nbreak',
    'tab\there',
    '\u0085nel',
    'ls\u2028ps\u2029',
    '\ufeffbom',
    'emoji 🚧',
    '',
  ])('%j stays the same string under YAML 1.1 and 1.2', (text) => {
    const doc = `text: ${yamlQuote(text)}\n`;
    expect(parse(doc, { version: '1.1' }).text).toBe(text);
    expect(parse(doc, { version: '1.2' }).text).toBe(text);
  });

  it('round-trips any string (property)', () => {
    fc.assert(
      fc.property(
        fc.string({ unit: 'grapheme', maxLength: 60 }),
        fc.string({ unit: 'binary', maxLength: 30 }),
        (a, b) => {
          const text = a + b;
          const wellFormed = [...text]
            .map((ch) => (ch.length === 1 && /[\ud800-\udfff]/.test(ch) ? '\ufffd' : ch))
            .join('');
          const back = parse(`text: ${yamlQuote(text)}\n`, { version: '1.1' }).text;
          expect(back).toBe(wellFormed);
        },
      ),
      { numRuns: 500 },
    );
  });

  it('turns lone surrogates into U+FFFD (they cannot be written as UTF-8)', () => {
    expect(parse(`t: ${yamlQuote('a\ud800b')}`, { version: '1.1' }).t).toBe('a\ufffdb');
  });
});

describe('banner content and files', () => {
  it('renders the text template with the window in the plan zone; off means enabled false', async () => {
    const p = plan({
      file: 'site/_data/banner.yml',
      text: '{{plan.name}}: {{window.startLocal}} → {{window.endLocal}} ({{window.timezone}}) & more',
      url: 'https://s.example.com',
    });
    const cfg = Array.isArray(p.notify.banner) ? p.notify.banner[0]! : p.notify.banner!;
    expect(await bannerContent(p, cfg, 'planned', window)).toEqual({
      enabled: true,
      text: 'orders-v2: Sun 29 Nov 2026 21:00 CET → Sun 29 Nov 2026 23:00 CET (Europe/Paris) & more',
      url: 'https://s.example.com',
      state: 'planned',
      starts_at: '2026-11-29T20:00:00.000Z',
      ends_at: '2026-11-29T22:00:00.000Z',
    });
    expect(await bannerContent(p, cfg, 'off', window)).toMatchObject({ enabled: false, state: 'off' });
  });

  it('a broken template is invalid input (exit 2) naming the key', async () => {
    const p = plan({ file: 'b.yml', text: '{{#if}}' });
    const cfg = Array.isArray(p.notify.banner) ? p.notify.banner[0]! : p.notify.banner!;
    await expect(bannerContent(p, cfg, 'active', window)).rejects.toMatchObject({
      exitCode: 2,
      code: 'BANNER_TEMPLATE_INVALID',
    });
  });

  it('picks JSON for .json files or format: json, YAML otherwise', () => {
    expect(bannerFormat({ file: 'data/maintenance.json' })).toBe('json');
    expect(bannerFormat({ file: 'x.txt', format: 'json' })).toBe('json');
    expect(bannerFormat({ file: '_data/banner.yml' })).toBe('yaml');
  });

  it('writes the YAML file and its JSON twin atomically, leaving no temporary files', async () => {
    const p = plan([
      { file: 'site/_data/banner_notification.yml', text: 'no' },
      { file: 'site/data/maintenance.json', format: 'json', text: 'on 12:30' },
    ]);
    const written = await writeBanners(p, dir, 'active', window);
    expect(written.map((w) => [path.relative(dir, w.file), w.format])).toEqual([
      ['site/_data/banner_notification.yml', 'yaml'],
      ['site/data/maintenance.json', 'json'],
    ]);
    const yml = parse(await readFile(path.join(dir, 'site/_data/banner_notification.yml'), 'utf8'), {
      version: '1.1',
    });
    expect(yml).toEqual({
      enabled: true,
      text: 'no',
      state: 'active',
      starts_at: '2026-11-29T20:00:00.000Z',
      ends_at: '2026-11-29T22:00:00.000Z',
    });
    expect(JSON.parse(await readFile(path.join(dir, 'site/data/maintenance.json'), 'utf8'))).toMatchObject({
      enabled: true,
      text: 'on 12:30',
    });
    await writeBanners(p, dir, 'off', window);
    expect(JSON.parse(await readFile(path.join(dir, 'site/data/maintenance.json'), 'utf8'))).toMatchObject({
      enabled: false,
      state: 'off',
    });
    expect(await readdir(path.join(dir, 'site/_data'))).toEqual(['banner_notification.yml']);
    expect(
      serializeBannerJson({ enabled: false, text: 't', state: 'off', starts_at: 'a', ends_at: 'b' }),
    ).toBe(
      '{\n  "enabled": false,\n  "text": "t",\n  "state": "off",\n  "starts_at": "a",\n  "ends_at": "b"\n}\n',
    );
  });
});
