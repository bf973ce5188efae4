/**
 * The admin API of the fax-ATA accounts: accounts (name, password, owner, call-ahead mode, CSIDs,
 * caller id), their DIDs, and what the called-numbers table knows about a number. Every route
 * needs a bearer token. Only the configured admin users create, change or delete accounts and
 * DIDs (a DID, and the `*` catch-all above all, routes inbound faxes; a caller id speaks for a
 * number): anyone else gets 403. An owner may read their own accounts and DIDs; another user's
 * account is a 404. The called-numbers table is for admin users only.
 */
import { requireUser, userOf, type RequireUserOptions } from '@faxnotify/kit';
import type { FastifyError, FastifyInstance, FastifyRequest } from 'fastify';
import type { Kysely } from 'kysely';
import { calledNumberKey, didKey } from './numbers';
import { CALL_AHEAD_MODES, type AtaAccountRow, type TransmitterDatabase, type AtaDidRow, type CallAheadMode } from '../db/schema';
import { AtaStore, knowledgeOf, type AccountChange } from './store';

export interface AtaAdminDeps {
  db: Kysely<TransmitterDatabase>;
  /** How bearer tokens are verified (the transmitter's JWT secret). */
  auth: RequireUserOptions;
  /** Users who create, change and delete accounts and DIDs (nobody else may). */
  adminUsers: readonly string[];
  /** Region of numbers given without a country code (called-number look-ups). */
  region: string;
}

class AdminProblem extends Error {
  constructor(
    readonly statusCode: number,
    readonly code: string,
    description: string,
  ) {
    super(description);
  }
}

const NULLABLE = (schema: Record<string, unknown>) => ({ anyOf: [schema, { type: 'null' }] });
const PRINTABLE = '^[^\\u0000-\\u001f\\u007f]*$';
const ACCOUNT_FIELDS = {
  password: NULLABLE({
    type: 'string',
    minLength: 1,
    maxLength: 128,
    description: 'Checked on Account-Login and Account-Validate; null: the account cannot log in.',
  }),
  ownerId: {
    type: 'string',
    pattern: '^[A-Za-z0-9._:@-]{1,128}$',
    description: 'The faxnotify user its faxes belong to (the admin user creating it, unless given).',
  },
  accountType: NULLABLE({
    type: 'integer',
    minimum: 0,
    maximum: 4294967295,
    description: 'FB-Account-Type sent at login, as the FaxBack manual numbers it (4: private fax-ATA account).',
  }),
  callAheadMode: { type: 'string', enum: [...CALL_AHEAD_MODES] },
  sendEnabled: { type: 'boolean' },
  receiveEnabled: { type: 'boolean' },
  sendAni: NULLABLE({ type: 'string', pattern: '^\\+?[0-9]{1,31}$', description: "Caller id of the account's outgoing calls." }),
  sendCsid: NULLABLE({ type: 'string', maxLength: 20, pattern: PRINTABLE, description: "TSI of the account's sends." }),
  receiveCsid: NULLABLE({ type: 'string', maxLength: 20, pattern: PRINTABLE, description: "CSI of the account's receives." }),
  receiveEmail: NULLABLE({ type: 'string', minLength: 3, maxLength: 128, pattern: '^[^\\s@]+@[^\\s@]+$' }),
};
const NAME = {
  type: 'string',
  minLength: 1,
  maxLength: 64,
  pattern: '^[^\\u0000-\\u001f\\u007f]+$',
  description: 'Port-server account name; compared without case.',
};

const DID_FIELDS = {
  enabled: { type: 'boolean' },
  sendAni: NULLABLE({ type: 'string', pattern: '^\\+?[0-9]{1,31}$' }),
  queueProfile: NULLABLE({ type: 'string', maxLength: 4000, description: 'FB-Queue-Profile XML for the line (Op="1" to override the account\'s).' }),
  lineId: NULLABLE({ type: 'string', maxLength: 64, pattern: PRINTABLE }),
  lineNum: NULLABLE({ type: 'integer', minimum: 0, maximum: 4294967295 }),
};

const accountView = (row: AtaAccountRow) => ({
  id: row.id,
  name: row.name,
  ownerId: row.owner_id,
  hasPassword: row.password_hash !== null,
  accountType: row.account_type,
  callAheadMode: row.call_ahead_mode,
  sendEnabled: row.send_enabled === 1,
  receiveEnabled: row.receive_enabled === 1,
  sendAni: row.send_ani,
  sendCsid: row.send_csid,
  receiveCsid: row.receive_csid,
  receiveEmail: row.receive_email,
  createdAt: row.created_at,
  updatedAt: row.updated_at,
});

const didView = (row: AtaDidRow) => ({
  did: row.did,
  enabled: row.enabled === 1,
  sendAni: row.send_ani,
  queueProfile: row.queue_profile,
  lineId: row.line_id,
  lineNum: row.line_num,
  updatedAt: row.updated_at,
});

/** The JSON answers of the admin API, as a client reads them. */
export type AtaAccountView = ReturnType<typeof accountView>;
export type AtaDidView = ReturnType<typeof didView>;
export interface AtaAccountListView {
  accounts: AtaAccountView[];
}
export interface AtaDidListView {
  dids: AtaDidView[];
}

type AccountBody = AccountChange & { name: string; callAheadMode?: CallAheadMode };

/** Mounts the admin routes under /ata on the transmitter's HTTP server. */
export function registerAtaAdminRoutes(app: FastifyInstance, deps: AtaAdminDeps): void {
  const store = new AtaStore(deps.db);
  const admins = new Set(deps.adminUsers);

  app.register(async (api) => {
    api.addHook('onRequest', requireUser(deps.auth));
    api.setErrorHandler((error: FastifyError, _request, reply) => {
      if (error instanceof AdminProblem) return reply.code(error.statusCode).send({ error: error.code, description: error.message });
      const status = error.statusCode ?? 500;
      if (status >= 500) {
        reply.log.error({ err: error.message }, 'ATA admin request failed');
        return reply.code(500).send({ error: 'internal_error', description: 'the transmitter could not handle the request' });
      }
      return reply
        .code(status)
        .send({ error: error.validation ? 'invalid_request' : (error.code ?? 'invalid_request').toLowerCase(), description: error.message });
    });

    const isAdmin = (request: FastifyRequest) => admins.has(userOf(request));
    /** The hook of the routes that create or change accounts and numbers: before the body is even checked. */
    const adminOnly = (what: string) => async (request: FastifyRequest) => {
      if (!isAdmin(request)) throw new AdminProblem(403, 'forbidden', `only admin users ${what}`);
    };
    /** The account the path names, if the caller may see it. */
    const accountFor = async (request: FastifyRequest<{ Params: { name: string } }>): Promise<AtaAccountRow> => {
      const account = await store.accountByName(request.params.name);
      if (!account || (!isAdmin(request) && account.owner_id !== userOf(request))) throw new AdminProblem(404, 'not_found', 'no such ATA account');
      return account;
    };

    api.get('/ata/accounts', async (request) => {
      const accounts = await store.listAccounts(isAdmin(request) ? undefined : userOf(request));
      return { accounts: accounts.map(accountView) } satisfies AtaAccountListView;
    });

    api.post<{ Body: AccountBody }>(
      '/ata/accounts',
      {
        preValidation: adminOnly('create ATA accounts'),
        schema: { body: { type: 'object', required: ['name'], additionalProperties: false, properties: { name: NAME, ...ACCOUNT_FIELDS } } },
      },
      async (request, reply) => {
        const body = request.body;
        const ownerId = body.ownerId ?? userOf(request);
        const created = await store.createAccount({ ...body, ownerId });
        if (!created) throw new AdminProblem(409, 'name_taken', `an ATA account named ${body.name} exists (names compare without case)`);
        return reply.code(201).send(accountView(created));
      },
    );

    api.get<{ Params: { name: string } }>('/ata/accounts/:name', async (request) => accountView(await accountFor(request)));

    api.patch<{ Params: { name: string }; Body: AccountChange }>(
      '/ata/accounts/:name',
      {
        preValidation: adminOnly('change ATA accounts (passwords, caller ids, owners)'),
        schema: { body: { type: 'object', additionalProperties: false, properties: ACCOUNT_FIELDS } },
      },
      async (request) => {
        const account = await accountFor(request);
        return accountView((await store.updateAccount(account.id, request.body))!);
      },
    );

    api.delete<{ Params: { name: string } }>('/ata/accounts/:name', { preValidation: adminOnly('delete ATA accounts') }, async (request, reply) => {
      const account = await accountFor(request);
      await store.deleteAccount(account.id);
      return reply.code(204).send();
    });

    api.get<{ Params: { name: string } }>('/ata/accounts/:name/dids', async (request) => {
      const account = await accountFor(request);
      return { dids: (await store.didsOf(account.id)).map(didView) } satisfies AtaDidListView;
    });

    api.put<{ Params: { name: string; did: string }; Body: Record<string, never> & Parameters<AtaStore['putDid']>[2] }>(
      '/ata/accounts/:name/dids/:did',
      {
        preValidation: adminOnly('give numbers (DIDs, the * catch-all) and their caller ids to ATA accounts'),
        schema: { body: { type: 'object', additionalProperties: false, properties: DID_FIELDS } },
      },
      async (request) => {
        const account = await accountFor(request);
        if (!didKey(request.params.did)) throw new AdminProblem(400, 'invalid_did', 'a DID is digits with an optional leading +, or * for the catch-all');
        const row = await store.putDid(account.id, request.params.did, request.body ?? {});
        if (!row) throw new AdminProblem(409, 'did_taken', `DID ${request.params.did} belongs to another account`);
        return didView(row);
      },
    );

    api.delete<{ Params: { name: string; did: string } }>(
      '/ata/accounts/:name/dids/:did',
      { preValidation: adminOnly('take numbers from ATA accounts') },
      async (request, reply) => {
        const account = await accountFor(request);
        if (!(await store.deleteDid(account.id, request.params.did))) throw new AdminProblem(404, 'not_found', 'no such DID on this account');
        return reply.code(204).send();
      },
    );

    /** What call-ahead knows about a number. Numbers are not owned by anyone: admin users only. */
    const numberFor = (request: FastifyRequest<{ Params: { number: string } }>): string => {
      if (!isAdmin(request)) throw new AdminProblem(404, 'not_found', 'no such number');
      const key = calledNumberKey(request.params.number, deps.region);
      if (!key) throw new AdminProblem(400, 'invalid_number', 'not a phone number');
      return key;
    };

    api.get<{ Params: { number: string } }>('/ata/called-numbers/:number', async (request) => {
      const key = numberFor(request);
      const row = await store.calledNumber(key);
      return {
        number: key,
        knowledge: knowledgeOf(row),
        faxReachedAt: row?.fax_reached_at ?? null,
        voiceAnsweredAt: row?.voice_answered_at ?? null,
        faxes: row?.faxes ?? 0,
      };
    });

    /** Forgets a number, e.g. to lift the sticky "voice answered" after the owner fixed the number. */
    api.delete<{ Params: { number: string } }>('/ata/called-numbers/:number', async (request, reply) => {
      const key = numberFor(request);
      await store.forgetCalledNumber(key);
      return reply.code(204).send();
    });
  });
}
