import { beforeEach, describe, expect, it } from 'vitest';
import {
  clearSecrets,
  redact,
  redactCutStart,
  redactDeep,
  registerSecret,
} from '../../src/support/redact.js';

beforeEach(() => clearSecrets());

describe('redact: patterns (secrets nobody registered)', () => {
  it.each([
    ['postgres://app:s3cr3t-pw@db.internal:5432/orders', 'postgres://app:***@db.internal:5432/orders'],
    ['mysql://root:p%40ss%2Fw0rd@127.0.0.1:3306/shop', 'mysql://root:***@127.0.0.1:3306/shop'],
    ['smtps://ops:mail-pw@mail.example.com:465', 'smtps://ops:***@mail.example.com:465'],
    ['redis://:onlypassword@cache:6379', 'redis://:***@cache:6379'],
    ['secret whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw in use', 'secret whsec_*** in use'],
    [
      'POST https://hooks.slack.com/services/T0001/B0002/abcdefXYZ123 failed',
      'POST https://hooks.slack.com/services/*** failed',
    ],
    ['token xoxb-1234-5678-abcdefghijkl', 'token ***'],
    ['Authorization: Bearer eyJhbGciOiJIUzI1NiJ9.payload.sig', 'Authorization: Bearer ***'],
    [
      'host=db.internal port=5432 password=s3cr3t user=app',
      'host=db.internal port=5432 password=*** user=app',
    ],
    ["password='quoted secret' dbname=x", 'password=*** dbname=x'],
    ['https://api.example.com/hook?token=abcd1234&x=1', 'https://api.example.com/hook?token=***&x=1'],
    ['{"api_key": "k-123456"}', '{"api_key": ***}'],
    [
      "alter role app password 'it''s-s3cret' valid until 'infinity'",
      "alter role app password '***' valid until 'infinity'",
    ],
    ["CREATE USER app IDENTIFIED BY 'hunter22'", "CREATE USER app IDENTIFIED BY '***'"],
  ])('%s', (input, expected) => {
    expect(redact(input)).toBe(expected);
  });

  it.each([
    // Driver messages quoting a connection string: the host stays (it helps), the password goes.
    [
      'getaddrinfo ENOTFOUND db.internal (postgres://app:s3cr3t-pw@db.internal:5432/orders)',
      's3cr3t-pw',
      'db.internal',
    ],
    ['Connection lost: mysql://root:root-pw@127.0.0.1:3306/shop (ECONNRESET)', 'root-pw', '127.0.0.1:3306'],
    [
      'error: password authentication failed for user "app" — url=postgres://app:pw-xyz@h:5432/db',
      'pw-xyz',
      'user "app"',
    ],
  ])('driver-style message: %s', (message, secret, kept) => {
    const out = redact(message);
    expect(out).not.toContain(secret);
    expect(out).toContain(kept);
    expect(out).toContain('***');
  });

  it('leaves text without secrets alone', () => {
    const text = 'connect ECONNREFUSED 127.0.0.1:5432; window 2026-11-29T20:00:00.000Z → 21:00 CET';
    expect(redact(text)).toBe(text);
  });
});

describe('redact: registered secrets', () => {
  it('masks a registered value wherever it appears, whatever its shape', () => {
    registerSecret('tok_live_0123456789');
    expect(redact('intercom said 401 for tok_live_0123456789 (tok_live_0123456789)')).toBe(
      'intercom said 401 for *** (***)',
    );
  });

  it('registering a URL also masks its password alone, raw and percent-decoded', () => {
    registerSecret('postgres://app:p%40ss-w0rd@db:5432/orders');
    expect(redact('auth failed with p%40ss-w0rd')).toBe('auth failed with ***');
    expect(redact('auth failed with p@ss-w0rd')).toBe('auth failed with ***');
  });

  it('registering a URL masks secret query parameters', () => {
    registerSecret('https://status.example.com/api?api_key=qwerty-9876&page=1');
    expect(redact('sent qwerty-9876 somewhere')).toBe('sent *** somewhere');
  });

  it('masks the longest secret whole when one contains another', () => {
    registerSecret('abcd');
    registerSecret('abcdefgh-long');
    expect(redact('x abcdefgh-long y abcd z')).toBe('x *** y *** z');
  });

  it('ignores values too short to be secrets (they would mask ordinary words)', () => {
    registerSecret('ab');
    registerSecret('');
    registerSecret(undefined);
    expect(redact('a b ab abc')).toBe('a b ab abc');
  });

  it('masks the end of a secret left at the start of a cut-out tail', () => {
    registerSecret('Canary5ecret7q');
    expect(redactCutStart('ecret7q and the rest')).toBe('*** and the rest');
    expect(redactCutStart('Canary5ecret7q whole')).toBe('Canary5ecret7q whole');
    expect(redactCutStart('unrelated text')).toBe('unrelated text');
    // Shorter than a secret can be: left alone (like registerSecret does).
    expect(redactCutStart('7q rest')).toBe('7q rest');
  });

  it('clearSecrets forgets them', () => {
    registerSecret('forget-me-please');
    clearSecrets();
    expect(redact('forget-me-please')).toBe('forget-me-please');
  });
});

describe('redactDeep', () => {
  it('masks strings at every depth and never mutates the input', () => {
    registerSecret('registered-secret-1');
    const input = {
      plan: 'orders',
      database: {
        url: 'postgres://app:pw-in-url@db/x',
        nested: [{ note: 'has registered-secret-1 inside' }],
      },
      count: 3,
      ok: true,
      none: null,
      list: ['whsec_abcdEFGH', 42],
    };
    const copy = structuredClone(input);
    const out = redactDeep(input);
    expect(out).toEqual({
      plan: 'orders',
      database: { url: 'postgres://app:***@db/x', nested: [{ note: 'has *** inside' }] },
      count: 3,
      ok: true,
      none: null,
      list: ['whsec_***', 42],
    });
    expect(input).toEqual(copy);
  });

  it('turns errors into name and message, redacted (no stack, no driver fields)', () => {
    const error = Object.assign(new Error('connect to mysql://root:hunter22@db failed'), {
      sql: 'select 1',
      code: 'ECONNREFUSED',
    });
    expect(redactDeep({ error })).toEqual({
      error: { name: 'Error', message: 'connect to mysql://root:***@db failed' },
    });
  });

  it('writes dates as ISO strings', () => {
    expect(redactDeep({ at: new Date('2026-11-29T20:00:00Z') })).toEqual({ at: '2026-11-29T20:00:00.000Z' });
  });

  it('marks true cycles, but copies a value shared by two branches', () => {
    const issue = { line: 4, message: 'bad zone' };
    const shared = redactDeep({ results: [{ issues: [issue] }], error: { issues: [issue] } });
    expect(shared).toEqual({ results: [{ issues: [issue] }], error: { issues: [issue] } });

    const cyclic: Record<string, unknown> = { name: 'loop' };
    cyclic.self = cyclic;
    expect(redactDeep(cyclic)).toEqual({ name: 'loop', self: '[circular]' });
  });
});
