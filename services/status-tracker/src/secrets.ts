import { SecretUnreadableError, errorMessage, type Logger, type SecretBox } from '@faxnotify/kit';
import type { Kysely } from 'kysely';
import type { ProviderAccountRow, TrackerDatabase } from './schema';

/**
 * The secrets the tracker stores, encrypted at rest with kit's {@link SecretBox} when `secrets.key`
 * is set: each owner's webhook signing secret (`webhooks.secret`), and per provider account the
 * SHA-256 of the ingest secret (`provider_accounts.secret_hash`, a digest inside the encryption:
 * it only has to be compared, never shown) and the ReplixFax API password
 * (`provider_accounts.password`). Each is bound to its row and column (the additional
 * authenticated data below), so a value moved to another owner or account does not decrypt.
 */
export const secretContext = {
  webhookSecret: (ownerId: string): string => JSON.stringify(['webhooks', 'secret', ownerId]),
  ingestSecretDigest: (provider: string, account: string): string => JSON.stringify(['provider_accounts', 'secret_hash', provider, account]),
  providerPassword: (provider: string, account: string): string => JSON.stringify(['provider_accounts', 'password', provider, account]),
};

/** What to call each stored secret in messages. */
export const secretName = {
  webhookSecret: (ownerId: string) => `the webhook signing secret of owner ${ownerId}`,
  ingestSecretDigest: (provider: string, account: string) => `the ingest secret of ${provider} account ${account}`,
  providerPassword: (provider: string, account: string) => `the ${provider === 'replixfax' ? 'ReplixFax' : provider} password of account ${account}`,
};

/** Opens a stored secret; a value that cannot be read throws a {@link SecretUnreadableError} naming the secret and why. */
export function openStoredSecret(secrets: SecretBox, stored: string, context: string, name: string): string {
  try {
    return secrets.open(stored, context);
  } catch (error) {
    if (error instanceof SecretUnreadableError) throw new SecretUnreadableError(`${name} cannot be decrypted: ${error.message}`, error.code);
    throw error;
  }
}

export interface StoredSecretsReport {
  /** Values that were in clear and are encrypted now. */
  encrypted: number;
  /** Values moved from a previous key to the current one. */
  reencrypted: number;
  /** Values already under the current key. */
  current: number;
  /** Values stored in clear and left so, since no key is configured. */
  clear: number;
  /** Values that cannot be decrypted (each one logged with the reason). */
  unreadable: number;
}

const PAGE = 500;

/**
 * The start-up pass over every stored secret: with a key, values in clear (from before the key was
 * set) or under a previous key are re-encrypted under the current key; without one, they are
 * counted. Every value is decrypted on the way, so one that cannot be (its key is not configured,
 * it was altered) is logged now, by row, rather than found at its first use; the pass goes on
 * with the others and never stops the start.
 *
 * Idempotent: a second run finds everything current. Each rewrite only replaces the value it
 * read, so a secret an owner changes meanwhile is left as its writer stored it.
 */
export async function sealStoredSecrets(db: Kysely<TrackerDatabase>, secrets: SecretBox, logger: Logger): Promise<StoredSecretsReport> {
  const report: StoredSecretsReport = { encrypted: 0, reencrypted: 0, current: 0, clear: 0, unreadable: 0 };

  /** Decides one value's fate; returns what to write in its place, if anything. */
  const visit = (stored: string, context: string, name: string, where: Record<string, string>): string | null => {
    const state = secrets.state(stored);
    try {
      const next = secrets.reseal(stored, context);
      if (next === null) report[state === 'clear' ? 'clear' : 'current'] += 1;
      return next;
    } catch (error) {
      if (!(error instanceof SecretUnreadableError)) throw error;
      report.unreadable += 1;
      logger.error({ ...where, reason: error.code, err: `${name} cannot be decrypted: ${errorMessage(error)}` }, 'stored secret cannot be decrypted');
      return null;
    }
  };
  const count = (state: 'clear' | 'previous', written: boolean) => {
    if (written) report[state === 'clear' ? 'encrypted' : 'reencrypted'] += 1;
  };

  let afterOwner: string | undefined;
  for (;;) {
    let query = db.selectFrom('webhooks').select(['owner_id', 'secret']).orderBy('owner_id').limit(PAGE);
    if (afterOwner !== undefined) query = query.where('owner_id', '>', afterOwner);
    const rows = await query.execute();
    for (const row of rows) {
      const next = visit(row.secret, secretContext.webhookSecret(row.owner_id), secretName.webhookSecret(row.owner_id), {
        table: 'webhooks',
        ownerId: row.owner_id,
      });
      if (next === null) continue;
      const state = secrets.state(row.secret) as 'clear' | 'previous';
      const written = await db
        .updateTable('webhooks')
        .set({ secret: next })
        .where('owner_id', '=', row.owner_id)
        .where('secret', '=', row.secret)
        .executeTakeFirst();
      count(state, Number(written.numUpdatedRows) === 1);
    }
    if (rows.length < PAGE) break;
    afterOwner = rows[rows.length - 1].owner_id;
  }

  let after: [ProviderAccountRow['provider'], string] | undefined;
  for (;;) {
    let query = db
      .selectFrom('provider_accounts')
      .select(['provider', 'account', 'secret_hash', 'password'])
      .orderBy('provider')
      .orderBy('account')
      .limit(PAGE);
    if (after !== undefined) {
      const [provider, account] = after;
      query = query.where((eb) => eb.or([eb('provider', '>', provider), eb.and([eb('provider', '=', provider), eb('account', '>', account)])]));
    }
    const rows = await query.execute();
    for (const row of rows) {
      const where = { table: 'provider_accounts', provider: row.provider, account: row.account };
      const digest = visit(
        row.secret_hash,
        secretContext.ingestSecretDigest(row.provider, row.account),
        secretName.ingestSecretDigest(row.provider, row.account),
        where,
      );
      const password =
        row.password === null
          ? null
          : visit(row.password, secretContext.providerPassword(row.provider, row.account), secretName.providerPassword(row.provider, row.account), where);
      if (digest !== null) {
        const written = await db
          .updateTable('provider_accounts')
          .set({ secret_hash: digest })
          .where('provider', '=', row.provider)
          .where('account', '=', row.account)
          .where('secret_hash', '=', row.secret_hash)
          .executeTakeFirst();
        count(secrets.state(row.secret_hash) as 'clear' | 'previous', Number(written.numUpdatedRows) === 1);
      }
      if (password !== null && row.password !== null) {
        const written = await db
          .updateTable('provider_accounts')
          .set({ password })
          .where('provider', '=', row.provider)
          .where('account', '=', row.account)
          .where('password', '=', row.password)
          .executeTakeFirst();
        count(secrets.state(row.password) as 'clear' | 'previous', Number(written.numUpdatedRows) === 1);
      }
    }
    if (rows.length < PAGE) break;
    const last = rows[rows.length - 1];
    after = [last.provider, last.account];
  }

  if (secrets.encrypting) {
    logger.info(
      { ...report, keyId: secrets.currentKeyId, previousKeyIds: secrets.previousKeyIds },
      `stored secrets under key ${secrets.currentKeyId}: ${report.encrypted} encrypted from clear, ${report.reencrypted} re-encrypted from a previous key, ${report.current} already current` +
        (secrets.previousKeyIds.length > 0 && report.unreadable === 0 ? '; none is left under a previous key, so secrets.previousKeys may be emptied' : ''),
    );
  } else {
    logger.warn(
      { ...report },
      `${report.clear} stored secret${report.clear === 1 ? ' is' : 's are'} not encrypted (webhook signing secrets, provider ingest secrets and passwords), and new ones will be stored in clear too: ` +
        'set secrets.key (STATUS_TRACKER_SECRETS_KEY) to 32 random bytes as base64 or hex, e.g. `openssl rand -base64 32`, and restart to encrypt them',
    );
  }
  if (report.unreadable > 0)
    logger.error(
      { unreadable: report.unreadable },
      `${report.unreadable} stored secret${report.unreadable === 1 ? '' : 's'} cannot be decrypted with the configured keys (see the errors above): the webhooks and provider accounts they belong to fail until the key they were stored under is added to secrets.key / secrets.previousKeys, or their owners set them again`,
    );
  return report;
}
