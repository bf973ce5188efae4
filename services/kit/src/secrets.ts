import { createCipheriv, createDecipheriv, createHash, randomBytes } from 'node:crypto';
import convict from 'convict';

/**
 * Encryption at rest for the secrets a service keeps in its database (signing secrets, provider
 * passwords): AES-256-GCM with a key from configuration, a random 12-byte IV per value, and the
 * row's identity as additional authenticated data, so a value copied into another row (or
 * column) does not decrypt there.
 *
 * Stored form, one text column:
 *
 *     v1:<key id>:<iv>:<ciphertext>:<tag>
 *
 * - `v1`: this format (AES-256-GCM, 12-byte IV, 16-byte tag);
 * - key id: 8 hex digits derived from the key (see {@link secretKeyId}); it names the key without
 *   revealing it, so a value sealed under a previous key is found and re-encrypted, and a value
 *   under a key that is not configured is reported by that id;
 * - iv, ciphertext, tag: base64url without padding;
 * - the additional data is `v1:<key id>:` followed by the caller's context (table, column, row).
 *
 * A value that does not start with `v<digits>:<8 hex>:` is one stored in clear: written before
 * encryption was configured, or while no key is. Such values are read as they are, and
 * re-encrypted by the service's start-up pass once a key is set.
 */
export const SEALED_VERSION = 'v1';

const SEALED = /^v1:([0-9a-f]{8}):([A-Za-z0-9_-]{16}):([A-Za-z0-9_-]*):([A-Za-z0-9_-]{22})$/;
/** Anything in the sealed shape, of any version: never read as clear, even when malformed. */
const SEALED_SHAPE = /^v\d{1,3}:[0-9a-f]{8}:/;
const IV_BYTES = 12;
const TAG_BYTES = 16;
const KEY_BYTES = 32;

/** True when a stored value is in the encrypted form (of this or another version), false when it is clear. */
export const looksSealed = (stored: string): boolean => SEALED_SHAPE.test(stored);

/**
 * Reads a 32-byte key written as base64 (standard or URL alphabet, 43 or 44 characters) or hex
 * (64 digits). The error never repeats the value.
 */
export function parseSecretKey(text: string): Buffer {
  const value = text.trim();
  const key = /^[0-9a-fA-F]{64}$/.test(value)
    ? Buffer.from(value, 'hex')
    : /^[A-Za-z0-9+/]{43}=?$/.test(value) || /^[A-Za-z0-9_-]{43}=?$/.test(value)
      ? Buffer.from(value.replace(/=$/, ''), /[+/]/.test(value) ? 'base64' : 'base64url')
      : undefined;
  if (!key || key.length !== KEY_BYTES)
    throw new Error(
      `must be 32 bytes written as base64 (44 characters) or hex (64 digits), e.g. the output of \`openssl rand -base64 32\`; this value has ${value.length} characters`,
    );
  if (key.every((byte) => byte === key[0]))
    throw new Error('must be 32 random bytes, not one byte repeated (a placeholder?); make one with `openssl rand -base64 32`');
  return key;
}

/** The id a key is named by in stored values: 8 hex digits of a hash of the key, which tell nothing usable about it. */
export const secretKeyId = (key: Buffer): string => createHash('sha256').update('faxnotify secret key id\0').update(key).digest('hex').slice(0, 8);

convict.addFormats({
  /** Empty (no encryption) or a 32-byte key as base64 or hex. */
  'secret-key': {
    validate(value: unknown) {
      if (typeof value !== 'string') throw new Error('must be a string');
      if (value.trim() !== '') parseSecretKey(value);
    },
  },
  /** Keys as above, comma-separated in the environment. */
  'secret-key-list': {
    validate(value: unknown) {
      if (!Array.isArray(value)) throw new Error('must be a list of keys');
      value.forEach((entry, i) => {
        try {
          if (typeof entry !== 'string') throw new Error('must be a string');
          parseSecretKey(entry);
        } catch (error) {
          throw new Error(`entry ${i}: ${(error as Error).message}`);
        }
      });
    },
    coerce: (value: unknown) =>
      typeof value === 'string'
        ? value
            .split(',')
            .map((entry) => entry.trim())
            .filter((entry) => entry !== '')
        : value,
  },
});

/** A stored value that cannot be read: its key is not configured, it was altered, or it is malformed. */
export class SecretUnreadableError extends Error {
  override readonly name = 'SecretUnreadableError';
  constructor(
    message: string,
    readonly code: 'unknown_key' | 'no_key' | 'tampered' | 'malformed',
  ) {
    super(message);
  }
}

/** Where a stored value stands against the configured keys. */
export type SealedState = 'clear' | 'current' | 'previous' | 'unreadable';

export interface SecretBoxOptions {
  /** The key new values are encrypted under; empty or absent: values are stored in clear. */
  key?: string;
  /** Keys values may still be encrypted under; used only to decrypt. */
  previousKeys?: string[];
  /** How the operator names these settings, for the messages (e.g. `secrets.key / secrets.previousKeys`). */
  settings?: string;
}

/**
 * Seals and opens one service's stored secrets. Without a key it stores in clear (and still reads
 * values from before); with one, nothing it writes is clear.
 */
export class SecretBox {
  private readonly current: { id: string; key: Buffer } | undefined;
  private readonly keys = new Map<string, Buffer>();
  private readonly settings: string;

  constructor(options: SecretBoxOptions = {}) {
    this.settings = options.settings ?? 'the secrets key settings';
    if (options.key && options.key.trim() !== '') {
      const key = parseSecretKey(options.key);
      this.current = { id: secretKeyId(key), key };
      this.keys.set(this.current.id, key);
    }
    for (const text of options.previousKeys ?? []) {
      if (!this.current) throw new Error('previous keys only decrypt, so they need a current key beside them');
      const key = parseSecretKey(text);
      const id = secretKeyId(key);
      if (this.keys.has(id)) throw new Error(id === this.current.id ? 'a previous key is the current key' : `key ${id} is listed twice`);
      this.keys.set(id, key);
    }
  }

  /** Whether values are encrypted when written. */
  get encrypting(): boolean {
    return this.current !== undefined;
  }

  /** The id of the key values are encrypted under now; null without one. */
  get currentKeyId(): string | null {
    return this.current?.id ?? null;
  }

  /** The ids of the keys kept only to decrypt. */
  get previousKeyIds(): string[] {
    return [...this.keys.keys()].filter((id) => id !== this.current?.id);
  }

  /**
   * The stored form of `clear` for the row `context` names: encrypted under the current key, or
   * the value itself when no key is configured (which then must not look encrypted, or it could
   * not be read back).
   */
  seal(clear: string, context: string): string {
    if (!this.current) {
      if (looksSealed(clear)) throw new Error('a value in the form of an encrypted one cannot be stored in clear; configure a key to store it');
      return clear;
    }
    const { id, key } = this.current;
    const iv = randomBytes(IV_BYTES);
    const cipher = createCipheriv('aes-256-gcm', key, iv, { authTagLength: TAG_BYTES });
    cipher.setAAD(Buffer.from(`${SEALED_VERSION}:${id}:${context}`, 'utf8'));
    const ciphertext = Buffer.concat([cipher.update(clear, 'utf8'), cipher.final()]);
    return [SEALED_VERSION, id, iv.toString('base64url'), ciphertext.toString('base64url'), cipher.getAuthTag().toString('base64url')].join(':');
  }

  /** The clear value of what `seal` stored for `context` (or of a value stored in clear). Throws {@link SecretUnreadableError}. */
  open(stored: string, context: string): string {
    if (!looksSealed(stored)) return stored;
    const parts = SEALED.exec(stored);
    if (!parts)
      throw new SecretUnreadableError(
        `it is not a well-formed encrypted value of version ${SEALED_VERSION} (written by a newer version, or cut short)`,
        'malformed',
      );
    const [, id, iv, ciphertext, tag] = parts as unknown as [string, string, string, string, string];
    const key = this.keys.get(id);
    if (!key) {
      if (!this.current) throw new SecretUnreadableError(`it is encrypted under key ${id} and no key is configured; set ${this.settings}`, 'no_key');
      const previous = this.previousKeyIds;
      throw new SecretUnreadableError(
        `it is encrypted under key ${id}, which is not configured (current key ${this.current.id}; previous keys ${previous.length ? previous.join(', ') : 'none'}); add that key to ${this.settings}`,
        'unknown_key',
      );
    }
    try {
      const decipher = createDecipheriv('aes-256-gcm', key, Buffer.from(iv, 'base64url'), { authTagLength: TAG_BYTES });
      decipher.setAAD(Buffer.from(`${SEALED_VERSION}:${id}:${context}`, 'utf8'));
      decipher.setAuthTag(Buffer.from(tag, 'base64url'));
      return Buffer.concat([decipher.update(Buffer.from(ciphertext, 'base64url')), decipher.final()]).toString('utf8');
    } catch {
      throw new SecretUnreadableError(`it fails authentication under key ${id}: the stored value was altered, or copied from another row`, 'tampered');
    }
  }

  /** Where a stored value stands, without decrypting it. */
  state(stored: string): SealedState {
    if (!looksSealed(stored)) return 'clear';
    const id = SEALED.exec(stored)?.[1];
    if (id === undefined || !this.keys.has(id)) return 'unreadable';
    return id === this.current?.id ? 'current' : 'previous';
  }

  /**
   * What a stored value should be rewritten to: encrypted under the current key when it is clear
   * or under a previous key; null when it should stay (already current, or no key configured).
   * Throws {@link SecretUnreadableError} when it cannot be read (also for a current one).
   */
  reseal(stored: string, context: string): string | null {
    // Opened even when it stays: a value altered in place is found at start, not at its first use.
    const clear = this.open(stored, context);
    if (!this.current || this.state(stored) === 'current') return null;
    return this.seal(clear, context);
  }
}
