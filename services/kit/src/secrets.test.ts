import { randomBytes } from 'node:crypto';
import { loadConfig } from './config';
import { ConfigError } from './errors';
import { SecretBox, SecretUnreadableError, looksSealed, parseSecretKey, secretKeyId } from './secrets';

const KEY_A = randomBytes(32);
const KEY_B = randomBytes(32);
const A = KEY_A.toString('base64');
const B = KEY_B.toString('hex');
const CONTEXT = JSON.stringify(['webhooks', 'secret', 'alice']);
const CLEAR = 'whsec_the-owner-signing-secret-0123';

const unreadable = (fn: () => unknown): SecretUnreadableError => {
  try {
    fn();
  } catch (error) {
    if (error instanceof SecretUnreadableError) return error;
    throw error;
  }
  throw new Error('expected a SecretUnreadableError');
};

describe('parseSecretKey', () => {
  it('reads 32 bytes as base64, base64url or hex', () => {
    expect(parseSecretKey(A).equals(KEY_A)).toBe(true);
    expect(parseSecretKey(KEY_A.toString('base64url')).equals(KEY_A)).toBe(true);
    expect(parseSecretKey(` ${B.toUpperCase()} `).equals(KEY_B)).toBe(true);
  });

  it('refuses other lengths and placeholders, without repeating the value', () => {
    for (const wrong of [
      '',
      'short',
      randomBytes(16).toString('base64'),
      randomBytes(31).toString('hex'),
      `${A}x`,
      'correct-horse-battery-staple-correct-horse-b',
    ]) {
      expect(() => parseSecretKey(wrong)).toThrow(/must be 32 bytes written as base64 \(44 characters\) or hex \(64 digits\)/);
      if (wrong) expect(() => parseSecretKey(wrong)).not.toThrow(wrong);
    }
    expect(() => parseSecretKey('0'.repeat(64))).toThrow(/not one byte repeated/);
  });
});

describe('SecretBox', () => {
  it('seals under the current key: versioned, a fresh IV each time, the clear value nowhere in it', () => {
    const box = new SecretBox({ key: A });
    const one = box.seal(CLEAR, CONTEXT);
    const two = box.seal(CLEAR, CONTEXT);
    expect(one).toMatch(new RegExp(`^v1:${secretKeyId(KEY_A)}:[A-Za-z0-9_-]{16}:[A-Za-z0-9_-]+:[A-Za-z0-9_-]{22}$`));
    expect(one).not.toBe(two);
    expect(one.split(':')[2]).not.toBe(two.split(':')[2]);
    for (const stored of [one, two]) {
      expect(stored).not.toContain(CLEAR);
      expect(stored).not.toContain(Buffer.from(CLEAR).toString('base64url').slice(0, 12));
      expect(box.open(stored, CONTEXT)).toBe(CLEAR);
      expect(box.state(stored)).toBe('current');
    }
    expect(box.encrypting).toBe(true);
    expect(box.currentKeyId).toBe(secretKeyId(KEY_A));
    expect(box.open('', CONTEXT)).toBe('');
    expect(box.open(box.seal('', CONTEXT), CONTEXT)).toBe('');
  });

  it('binds each value to its row: moved to another row, or altered, it fails authentication', () => {
    const box = new SecretBox({ key: A });
    const stored = box.seal(CLEAR, CONTEXT);
    const moved = unreadable(() => box.open(stored, JSON.stringify(['webhooks', 'secret', 'mallory'])));
    expect(moved.code).toBe('tampered');
    expect(moved.message).toBe(`it fails authentication under key ${secretKeyId(KEY_A)}: the stored value was altered, or copied from another row`);
    const [v, id, iv, ciphertext, tag] = stored.split(':') as [string, string, string, string, string];
    const flipped = `${ciphertext[0] === 'A' ? 'B' : 'A'}${ciphertext.slice(1)}`;
    expect(unreadable(() => box.open([v, id, iv, flipped, tag].join(':'), CONTEXT)).code).toBe('tampered');
    expect(unreadable(() => box.reseal([v, id, iv, flipped, tag].join(':'), CONTEXT)).code).toBe('tampered');
  });

  it('reads values in clear as they are, and values under previous keys; names a key it does not have', () => {
    const old = new SecretBox({ key: B });
    const underB = old.seal(CLEAR, CONTEXT);
    const rotated = new SecretBox({ key: A, previousKeys: [B], settings: 'secrets.key / secrets.previousKeys' });
    expect(rotated.previousKeyIds).toEqual([secretKeyId(KEY_B)]);
    expect(rotated.open(CLEAR, CONTEXT)).toBe(CLEAR);
    expect(rotated.state(CLEAR)).toBe('clear');
    expect(rotated.open(underB, CONTEXT)).toBe(CLEAR);
    expect(rotated.state(underB)).toBe('previous');

    const other = new SecretBox({ key: randomBytes(32).toString('base64') });
    const missing = unreadable(() => other.open(underB, CONTEXT));
    expect(missing.code).toBe('unknown_key');
    expect(missing.message).toBe(
      `it is encrypted under key ${secretKeyId(KEY_B)}, which is not configured (current key ${other.currentKeyId}; previous keys none); add that key to the secrets key settings`,
    );
    expect(other.state(underB)).toBe('unreadable');
    const none = unreadable(() => new SecretBox({ settings: 'secrets.key' }).open(underB, CONTEXT));
    expect(none).toMatchObject({ code: 'no_key', message: `it is encrypted under key ${secretKeyId(KEY_B)} and no key is configured; set secrets.key` });
  });

  it('reseals what is in clear or under a previous key, and leaves what is current', () => {
    const rotated = new SecretBox({ key: A, previousKeys: [B] });
    const underB = new SecretBox({ key: B }).seal(CLEAR, CONTEXT);
    const fromB = rotated.reseal(underB, CONTEXT)!;
    const fromClear = rotated.reseal(CLEAR, CONTEXT)!;
    for (const stored of [fromB, fromClear]) {
      expect(rotated.state(stored)).toBe('current');
      expect(new SecretBox({ key: A }).open(stored, CONTEXT)).toBe(CLEAR);
      expect(rotated.reseal(stored, CONTEXT)).toBeNull();
    }
    // Without a key nothing is rewritten: values in clear stay so.
    expect(new SecretBox().reseal(CLEAR, CONTEXT)).toBeNull();
  });

  it('stores in clear without a key, but never a value it would later read as encrypted', () => {
    const box = new SecretBox({ key: '' });
    expect(box.encrypting).toBe(false);
    expect(box.currentKeyId).toBeNull();
    expect(box.seal(CLEAR, CONTEXT)).toBe(CLEAR);
    expect(looksSealed('v1:0a1b2c3d:anything')).toBe(true);
    expect(looksSealed('v1:not-a-key-id')).toBe(false);
    expect(() => box.seal('v1:0a1b2c3d:AAAAAAAAAAAAAAAA::AAAAAAAAAAAAAAAAAAAAAA', CONTEXT)).toThrow(/cannot be stored in clear/);
  });

  it('reports a value of the encrypted shape that is not a well-formed one, rather than reading it as clear', () => {
    const box = new SecretBox({ key: A });
    const stored = box.seal(CLEAR, CONTEXT);
    expect(unreadable(() => box.open(stored.slice(0, -5), CONTEXT))).toMatchObject({
      code: 'malformed',
      message: expect.stringMatching(/not a well-formed encrypted value of version v1/),
    });
    expect(unreadable(() => box.open(stored.replace(/^v1:/, 'v2:'), CONTEXT)).code).toBe('malformed');
  });

  it('refuses previous keys without a current one, twice the same key, or the current key again', () => {
    expect(() => new SecretBox({ previousKeys: [A] })).toThrow(/need a current key/);
    expect(() => new SecretBox({ key: A, previousKeys: [B, KEY_B.toString('base64')] })).toThrow(`key ${secretKeyId(KEY_B)} is listed twice`);
    expect(() => new SecretBox({ key: A, previousKeys: [KEY_A.toString('hex')] })).toThrow('a previous key is the current key');
  });
});

describe('the secret-key configuration formats', () => {
  const schema = {
    secrets: {
      key: { doc: 'Key.', format: 'secret-key', default: '', env: 'EXAMPLE_SECRETS_KEY', sensitive: true },
      previousKeys: { doc: 'Previous keys.', format: 'secret-key-list', default: [] as string[], env: 'EXAMPLE_SECRETS_PREVIOUS_KEYS', sensitive: true },
    },
  };

  it('take empty, a key, and a comma-separated list of keys from the environment', () => {
    expect(loadConfig(schema, {}, {}).secrets).toEqual({ key: '', previousKeys: [] });
    expect(loadConfig(schema, {}, { EXAMPLE_SECRETS_KEY: A, EXAMPLE_SECRETS_PREVIOUS_KEYS: ` ${B}, ${KEY_B.toString('base64')}` }).secrets).toEqual({
      key: A,
      previousKeys: [B, KEY_B.toString('base64')],
    });
  });

  it('stop on a wrong key, naming the setting and the entry, never the value', () => {
    const wrong = 'this-is-not-a-key-but-a-password';
    const thrown = (env: Record<string, string>): Error => {
      try {
        loadConfig(schema, {}, env);
      } catch (error) {
        return error as Error;
      }
      throw new Error('expected a ConfigError');
    };
    const key = thrown({ EXAMPLE_SECRETS_KEY: wrong });
    expect(key).toBeInstanceOf(ConfigError);
    expect(key.message).toMatch(/secrets\.key: must be 32 bytes written as base64/);
    expect(key.message).not.toContain(wrong);
    const list = thrown({ EXAMPLE_SECRETS_KEY: A, EXAMPLE_SECRETS_PREVIOUS_KEYS: `${B},${wrong}` });
    expect(list.message).toMatch(/secrets\.previousKeys: entry 1: must be 32 bytes/);
    expect(list.message).not.toContain(wrong);
    expect(list.message).not.toContain(B);
  });
});
