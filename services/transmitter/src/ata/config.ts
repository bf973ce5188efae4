/**
 * Settings of the fax-ATA RADIUS server, as a convict schema fragment the transmitter puts under
 * its `ata` key, and the type it yields.
 */
import { isIP } from 'node:net';
import { FINAL_STATUSES, type FinalStatus } from '@faxnotify/contracts';
import { jsonFormat } from '@faxnotify/kit';
import { DEFAULT_MIN_SECRET_LENGTH, type RadiusClientDefinition } from '@faxnotify/radius';
import convict from 'convict';
import { DEFAULT_DICTIONARY } from './dictionary';

/**
 * A port server (or several, behind one address range) allowed to ask us, with its shared secret.
 * Every request must carry Message-Authenticator; the FaxBack port server sends none, so its entry
 * needs requireMessageAuthenticator: false (its Access-Requests with Proxy-State are then dropped).
 */
export type { RadiusClientDefinition };

export interface AtaConfig {
  /** Whether the transmitter runs the RADIUS server at all. */
  enabled: boolean;
  host: string;
  /** RFC 2865 authentication (Access-Request); 0 picks a free port. */
  authPort: number;
  /** RFC 2866 accounting; 0 picks a free port. */
  acctPort: number;
  /** FreeRADIUS-format dictionary with the FaxBack attributes. */
  dictionary: string;
  clients: RadiusClientDefinition[];
  /** Shared secrets shorter than this refuse the start. */
  minSecretLength: number;
  /** Password checks (scrypt) at once and waiting; past that an Access-Request is dropped and counted. */
  passwordChecks: { concurrent: number; queued: number };
  /** Numbers the port server reports without a country code are read as this region's (ISO 3166). */
  region: string;
  /** How long an answered request is remembered, so a retransmission gets the same answer again. */
  duplicateCacheMs: number;
  callAhead: {
    /**
     * Put the call-ahead decision (FB-Call-Ahead-Mode as yes/no) into the Get-Account/Pre-Send-Session
     * reply of ATA (queue) sends, besides answering the separate Get-Call-Ahead-Mode request.
     */
    inPreSend: boolean;
  };
  /** FaxBack FB-Fax-Error-Code values and the final status each means, for codes the defaults get wrong. */
  errorStatuses: Record<string, FinalStatus>;
  /** Users who create, change and delete ATA accounts and DIDs through the admin API (others only read their own). */
  adminUsers: string[];
  /** How long a fax an ATA line handed over waits for the port server's final record before it fails (ATA_NO_REPORT). */
  reportWithinHours: number;
}

const CLIENT_KEYS = new Set(['address', 'secret', 'requireMessageAuthenticator', 'name']);

/** Why a list of RADIUS clients is unusable, or null. */
export function radiusClientsProblem(value: unknown): string | null {
  if (!Array.isArray(value)) return 'must be a JSON array of {"address","secret"} objects';
  for (const [index, entry] of value.entries()) {
    const at = `client ${index + 1}`;
    if (typeof entry !== 'object' || entry === null || Array.isArray(entry)) return `${at} must be an object`;
    const client = entry as Record<string, unknown>;
    const unknown = Object.keys(client).find((key) => !CLIENT_KEYS.has(key));
    if (unknown) return `${at} has an unknown key "${unknown}"`;
    if (typeof client.address !== 'string') return `${at}: address must be an IP address or a CIDR range`;
    const [ip, bits, extra] = client.address.split('/');
    const family = isIP(ip ?? '');
    if (family === 0 || extra !== undefined) return `${at}: address ${JSON.stringify(client.address)} is not an IP address or a CIDR range`;
    if (bits !== undefined && (!/^\d{1,3}$/.test(bits) || Number(bits) > (family === 4 ? 32 : 128)))
      return `${at}: ${client.address} has a wrong prefix length`;
    if (bits !== undefined && Number(bits) === 0) return `${at}: ${client.address} lets every address ask; name the port servers' addresses or subnet`;
    if (typeof client.secret !== 'string' || client.secret.length === 0) return `${at} (${client.address}): secret must be a non-empty string`;
    if (client.requireMessageAuthenticator !== undefined && typeof client.requireMessageAuthenticator !== 'boolean')
      return `${at} (${client.address}): requireMessageAuthenticator must be true or false`;
    if (client.name !== undefined && typeof client.name !== 'string') return `${at} (${client.address}): name must be a string`;
  }
  return null;
}

/** Why an error-code table is unusable, or null. */
export function errorStatusesProblem(value: unknown): string | null {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return 'must be a JSON object of {"<FaxBack error code>": "<final status>"}';
  for (const [code, status] of Object.entries(value)) {
    if (!/^\d+$/.test(code)) return `key ${JSON.stringify(code)} is not a FaxBack error code (digits)`;
    if (!FINAL_STATUSES.includes(status as FinalStatus)) return `code ${code}: ${JSON.stringify(status)} is not a final status`;
  }
  return null;
}

convict.addFormats({
  'radius-clients': jsonFormat(radiusClientsProblem),
  'fax-error-statuses': jsonFormat(errorStatusesProblem),
  'user-list': {
    validate(value: unknown) {
      if (!Array.isArray(value) || value.some((v) => typeof v !== 'string' || !/^[A-Za-z0-9._:@-]{1,128}$/.test(v)))
        throw new Error('must be a list of user ids');
    },
    coerce: (value: unknown) =>
      typeof value === 'string'
        ? value
            .split(',')
            .map((v) => v.trim())
            .filter(Boolean)
        : value,
  },
});

const port = (doc: string, defaultPort: number, env: string) => ({ doc, format: 'port', default: defaultPort, env });

/** The `ata` part of the transmitter's configuration schema. */
export const ataConfigSchema = {
  ata: {
    enabled: {
      doc: 'Run the RADIUS server that fax ATAs behind a FaxBack port server are controlled through.',
      format: Boolean,
      default: false,
      env: 'TRANSMITTER_ATA_ENABLED',
    },
    host: {
      doc: 'Address the RADIUS server listens on (UDP).',
      format: String,
      default: '0.0.0.0',
      env: 'TRANSMITTER_ATA_HOST',
    },
    authPort: port("UDP port for RADIUS authentication (Access-Request): the port server's AccountsDb and RcvRoutingDb.", 1812, 'TRANSMITTER_ATA_AUTH_PORT'),
    acctPort: port("UDP port for RADIUS accounting (Accounting-Request): the port server's BillingDb.", 1813, 'TRANSMITTER_ATA_ACCT_PORT'),
    dictionary: {
      doc: "FreeRADIUS-format dictionary with the FaxBack attributes; point it at the vendor's own to read every CDR attribute.",
      format: 'nonempty-string',
      default: DEFAULT_DICTIONARY,
      env: 'TRANSMITTER_ATA_DICTIONARY',
    },
    clients: {
      doc: 'Port servers allowed to ask, as a JSON array: [{"address":"10.0.0.5","secret":"…"}]; address may be a CIDR range (not /0). Their requests must carry Message-Authenticator; "requireMessageAuthenticator":false lets off a port server that sends none (FaxBack\'s), whose Access-Requests with Proxy-State are still dropped.',
      format: 'radius-clients',
      default: [] as RadiusClientDefinition[],
      env: 'TRANSMITTER_ATA_CLIENTS',
      sensitive: true,
    },
    minSecretLength: {
      doc: 'Shortest shared secret a RADIUS client may have; a shorter one stops the transmitter from starting, naming the client.',
      format: 'positive-int',
      default: DEFAULT_MIN_SECRET_LENGTH,
      env: 'TRANSMITTER_ATA_MIN_SECRET_LENGTH',
    },
    passwordChecks: {
      concurrent: {
        doc: 'Account passwords (scrypt, about 16 MB each) checked at once for Account-Login and Account-Validate requests.',
        format: 'positive-int',
        default: 4,
        env: 'TRANSMITTER_ATA_PASSWORD_CHECKS_CONCURRENT',
      },
      queued: {
        doc: 'Password checks that may wait for a free slot; an Access-Request past that is dropped unanswered and counted (the port server asks again).',
        format: 'nat',
        default: 32,
        env: 'TRANSMITTER_ATA_PASSWORD_CHECKS_QUEUED',
      },
    },
    region: {
      doc: 'Region (ISO 3166) of the numbers the port server reports without a country code.',
      format: 'region-code',
      default: 'US',
      env: 'TRANSMITTER_ATA_REGION',
    },
    duplicateCacheMs: {
      doc: 'How long an answer is kept to repeat it to a retransmitted request (same client, identifier and authenticator).',
      format: 'nat',
      default: 30_000,
      env: 'TRANSMITTER_ATA_DUPLICATE_CACHE_MS',
    },
    callAhead: {
      inPreSend: {
        doc: 'Also answer whether the ATA calls ahead in the Get-Account/Pre-Send-Session reply (saves one request; the number is then the one before send routing).',
        format: Boolean,
        default: true,
        env: 'TRANSMITTER_ATA_CALL_AHEAD_IN_PRE_SEND',
      },
    },
    errorStatuses: {
      doc: 'FaxBack FB-Fax-Error-Code values mapped to final statuses, as a JSON object {"<code>": "failed_user_busy"}; unlisted codes follow FB-Called-Number-Result and the page count.',
      format: 'fax-error-statuses',
      default: {} as Record<string, FinalStatus>,
      env: 'TRANSMITTER_ATA_ERROR_STATUSES',
    },
    adminUsers: {
      doc: 'User ids (comma-separated) who create, change and delete ATA accounts, DIDs (the * catch-all too) and caller ids through the admin API; other users only read the accounts they own.',
      format: 'user-list',
      default: [] as string[],
      env: 'TRANSMITTER_ATA_ADMIN_USERS',
    },
    reportWithinHours: {
      doc: "How long a fax that an ATA line handed to the port server waits for the port server's final accounting record; then its recipient fails (ATA_NO_REPORT).",
      format: 'positive-int',
      default: 24,
      env: 'TRANSMITTER_ATA_REPORT_WITHIN_HOURS',
    },
  },
};

/** The defaults, for tests and for callers that build the config by hand. */
export function defaultAtaConfig(overrides: Partial<AtaConfig> = {}): AtaConfig {
  return {
    enabled: true,
    host: '127.0.0.1',
    authPort: 0,
    acctPort: 0,
    dictionary: DEFAULT_DICTIONARY,
    clients: [],
    minSecretLength: DEFAULT_MIN_SECRET_LENGTH,
    passwordChecks: { concurrent: 4, queued: 32 },
    region: 'US',
    duplicateCacheMs: 30_000,
    callAhead: { inPreSend: true },
    errorStatuses: {},
    adminUsers: [],
    reportWithinHours: 24,
    ...overrides,
  };
}
