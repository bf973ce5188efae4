import { authSchema, coerceWholeNumber, commonSchema, jsonFormat, loadConfig, rateLimitSchema } from '@faxnotify/kit';
import convict from 'convict';
import { ataConfigSchema, type AtaConfig } from './ata/config';
import { DEFAULT_DOCUMENT_LIMITS, type DocumentLimits } from './documents/limits';
import { DEFAULT_HEADER_FORMAT } from './documents/header-line';

/**
 * One fax line as configured: a modem on a device path, driven in Class 1 or Class 2.0; or, kind
 * "ata", a modem on the analogue port of a fax ATA behind a FaxBack port server, which sends as
 * `account` and whose deliveries the port server reports over RADIUS accounting.
 */
export interface LineDefinition {
  id: string;
  kind: 'class1' | 'class2.0' | 'ata';
  /** Kind "ata": the port-server account the ATA sends as (its CDRs name it). */
  account?: string;
  /** Kind "ata": how the modem on the ATA's port is driven (default class1). */
  modem?: 'class1' | 'class2.0';
  /** Serial port, USB modem or iaxmodem pty. */
  device: string;
  /** Put before every dial string on this line only, e.g. "T" for tone dialling. */
  dialPrefix?: string;
  /** Class 1: highest signalling rate offered, bit/s. */
  maxRate?: number;
  /** Driver timers in milliseconds (t1, t2, t4, command, dial, hangupGuard, …) where the defaults do not suit a modem. */
  timers?: Record<string, number>;
  /** Whether the line dials out, answers calls, or both (one call at a time; a send takes over an idle wait). Default send. */
  mode?: 'send' | 'receive' | 'both';
  /** The number callers dial to reach the line: the called number when the modem does not report one. */
  number?: string;
  /** Our identity (CSI) shown to callers when the line answers; default the line's number. */
  answerId?: string;
  /** A receiving line: who gets its faxes. */
  owner?: string;
  /** A receiving line whose modem reports the called number: the owner of each called number (others go to `owner`). */
  owners?: Record<string, string>;
}

/** A rewrite of an E.164 number into what a line dials, first match wins (like HylaFAX dial rules). */
export interface DialRule {
  /** Regular expression matched against the E.164 number, e.g. `^\+1202555(\d{4})$`. */
  match: string;
  /** The dial string, with `$1`… for the groups, e.g. `2002` or `9$1`. */
  dial: string;
}

const LINE_ID = /^[A-Za-z0-9._-]{1,64}$/;
const LINE_KEYS = new Set(['id', 'kind', 'device', 'account', 'modem', 'dialPrefix', 'maxRate', 'timers', 'mode', 'number', 'answerId', 'owner', 'owners']);
/** An owner id as the contracts take it. */
const OWNER_ID = /^[A-Za-z0-9._:@-]{1,128}$/;
const LINE_NUMBER = /^[0-9+*#]{1,32}$/;

/** Why a line's answering side (mode, number, owner, owners, answerId) is unusable, or null. */
function receivingProblem(entry: Record<string, unknown>, at: string): string | null {
  if (entry.mode !== undefined && entry.mode !== 'send' && entry.mode !== 'receive' && entry.mode !== 'both')
    return `${at}: mode must be "send", "receive" or "both"`;
  const receives = entry.mode === 'receive' || entry.mode === 'both';
  if (!receives) {
    const stray = ['number', 'answerId', 'owner', 'owners'].find((key) => entry[key] !== undefined);
    return stray ? `${at}: ${stray} belongs to lines that receive (mode "receive" or "both")` : null;
  }
  if (entry.kind === 'ata') return `${at}: an "ata" line sends only (its port server reports received faxes)`;
  if (typeof entry.owner !== 'string' || !OWNER_ID.test(entry.owner)) return `${at}: a receiving line needs the owner of its faxes (owner, an account id)`;
  if (entry.number !== undefined && (typeof entry.number !== 'string' || !LINE_NUMBER.test(entry.number)))
    return `${at}: number must be the digits callers dial (0-9, +, *, #; up to 32)`;
  if (entry.answerId !== undefined && (typeof entry.answerId !== 'string' || !/^[0-9A-Za-z +.-]{1,20}$/.test(entry.answerId)))
    return `${at}: answerId must be 1-20 characters: digits, letters, space, + . -`;
  if (entry.owners !== undefined) {
    if (typeof entry.owners !== 'object' || entry.owners === null || Array.isArray(entry.owners))
      return `${at}: owners must be an object of called number → owner`;
    for (const [number, owner] of Object.entries(entry.owners as Record<string, unknown>)) {
      if (!LINE_NUMBER.test(number)) return `${at}: owners: "${number}" is not a called number (0-9, +, *, #; up to 32)`;
      if (typeof owner !== 'string' || !OWNER_ID.test(owner)) return `${at}: owners: the owner of ${number} must be an account id`;
    }
  }
  return null;
}

/** Why a list of line definitions is unusable, or null. */
export function lineDefinitionsProblem(value: unknown): string | null {
  if (!Array.isArray(value)) return 'must be a JSON array of {"id","kind","device"} objects';
  const ids = new Set<string>();
  for (const [index, line] of value.entries()) {
    const at = `line ${index + 1}`;
    if (typeof line !== 'object' || line === null || Array.isArray(line)) return `${at} must be an object`;
    const entry = line as Record<string, unknown>;
    const unknown = Object.keys(entry).find((key) => !LINE_KEYS.has(key));
    if (unknown) return `${at} has an unknown key "${unknown}"`;
    if (typeof entry.id !== 'string' || !LINE_ID.test(entry.id)) return `${at}: id must be 1-64 letters, digits, '.', '_' or '-'`;
    if (ids.has(entry.id)) return `${at}: id "${entry.id}" is used twice`;
    ids.add(entry.id);
    if (entry.kind !== 'class1' && entry.kind !== 'class2.0' && entry.kind !== 'ata') return `${at} (${entry.id}): kind must be "class1", "class2.0" or "ata"`;
    if (entry.kind === 'ata') {
      if (typeof entry.account !== 'string' || entry.account.length === 0 || Buffer.byteLength(entry.account) > 64)
        return `${at} (${entry.id}): an "ata" line needs the port-server account it sends as (account, 1-64 bytes)`;
      if (entry.modem !== undefined && entry.modem !== 'class1' && entry.modem !== 'class2.0')
        return `${at} (${entry.id}): modem must be "class1" or "class2.0"`;
    } else if (entry.account !== undefined || entry.modem !== undefined) return `${at} (${entry.id}): account and modem belong to "ata" lines only`;
    if (typeof entry.device !== 'string' || entry.device.trim() === '') return `${at} (${entry.id}): device must be a path`;
    if (entry.dialPrefix !== undefined && (typeof entry.dialPrefix !== 'string' || !/^[0-9*#,PTWptw!@]{0,16}$/.test(entry.dialPrefix)))
      return `${at} (${entry.id}): dialPrefix may hold only dial characters (0-9 * # , P T W ! @)`;
    if (entry.maxRate !== undefined && ![2400, 4800, 7200, 9600, 12000, 14400].includes(entry.maxRate as number))
      return `${at} (${entry.id}): maxRate must be one of 2400, 4800, 7200, 9600, 12000, 14400`;
    if (entry.timers !== undefined) {
      if (typeof entry.timers !== 'object' || entry.timers === null || Array.isArray(entry.timers)) return `${at} (${entry.id}): timers must be an object`;
      for (const [name, ms] of Object.entries(entry.timers as Record<string, unknown>))
        if (!Number.isInteger(ms) || (ms as number) < 0) return `${at} (${entry.id}): timer ${name} must be whole milliseconds`;
    }
    const receiving = receivingProblem(entry, `${at} (${entry.id})`);
    if (receiving) return receiving;
  }
  return null;
}

/** Why a list of dial rules is unusable, or null. */
export function dialRulesProblem(value: unknown): string | null {
  if (!Array.isArray(value)) return 'must be a JSON array of {"match","dial"} objects';
  for (const [index, rule] of value.entries()) {
    const at = `rule ${index + 1}`;
    if (typeof rule !== 'object' || rule === null) return `${at} must be an object`;
    const { match, dial } = rule as Record<string, unknown>;
    if (typeof match !== 'string') return `${at}: match must be a regular expression`;
    try {
      new RegExp(match);
    } catch (error) {
      return `${at}: ${(error as Error).message}`;
    }
    if (typeof dial !== 'string' || !/^[0-9*#,PTWptw!@$]{1,64}$/.test(dial)) return `${at}: dial must hold dial characters and $1… group references`;
  }
  return null;
}

/** A dialling prefix as an operator may write it (`+44 90`, `+1-900`), as the E.164 digits it stands for. */
export const normalizePrefix = (prefix: string): string => prefix.replace(/[\s().-]/g, '');

/** Why a list of blocked dialling prefixes is unusable, or null. */
export function blockedPrefixesProblem(value: unknown): string | null {
  if (!Array.isArray(value)) return 'must be a JSON array of E.164 prefixes such as ["+1900", "+44 9"]';
  for (const [index, prefix] of value.entries())
    if (typeof prefix !== 'string' || !/^\+[1-9]\d{0,14}$/.test(normalizePrefix(prefix)))
      return `prefix ${index + 1} must be "+" and the country code, then any further digits (spaces, dots, dashes and brackets are ignored)`;
  return null;
}

convict.addFormats({
  'fax-lines': jsonFormat(lineDefinitionsProblem),
  'blocked-prefixes': jsonFormat(blockedPrefixesProblem),
  'dial-rules': jsonFormat(dialRulesProblem),
  'fax-local-id': {
    validate(value: unknown) {
      if (typeof value !== 'string' || !/^[0-9A-Za-z +.-]{1,20}$/.test(value)) throw new Error('must be 1-20 characters: digits, letters, space, + . -');
    },
  },
  'retry-count': {
    validate(value: unknown) {
      if (!Number.isInteger(value) || (value as number) < 0 || (value as number) > 3) throw new Error('must be 0, 1, 2 or 3');
    },
    coerce: coerceWholeNumber,
  },
});

const seconds = (doc: string, defaultSeconds: number, env: string) => ({ doc, format: 'nat', default: defaultSeconds, env });

/** The transmitter's settings; exported so the README's configuration table is generated from it. */
export const transmitterSchema = {
  ...commonSchema('transmitter', 8081),
  ...authSchema(),
  files: {
    dir: {
      doc: 'Folder where uploaded documents are kept (for how long: files.keepDays and files.unusedDays).',
      format: 'nonempty-string',
      default: 'var/transmitter-files',
      env: 'TRANSMITTER_FILES_DIR',
    },
    keepDays: {
      doc: 'Days an uploaded document is kept after every fax that uses it is done (0: deleted at the next sweep, every few minutes). Files of faxes not yet done are never deleted.',
      format: 'nat',
      default: 7,
      env: 'TRANSMITTER_FILES_KEEP_DAYS',
    },
    unusedDays: {
      doc: 'Days an uploaded document that no fax refers to (never submitted, or its fax cancelled) is kept after its upload.',
      format: 'positive-int',
      default: 1,
      env: 'TRANSMITTER_FILES_UNUSED_DAYS',
    },
  },
  localId: {
    doc: 'Our fax identity (TSI) shown to the receivers of faxes without a sender number of their own (a fax with `from` sends that number as its TSI): up to 20 characters, usually our fax number.',
    format: 'fax-local-id',
    default: 'FAXNOTIFY',
    env: 'TRANSMITTER_LOCAL_ID',
  },
  lines: {
    doc: 'The fax lines, as a JSON array: [{"id":"modem1","kind":"class1","device":"/dev/ttyACM0"}]; kind is class1, class2.0 or ata (a modem on a fax ATA\'s port, with "account": the port-server account it sends as, and optional "modem": class1 or class2.0); optional dialPrefix, maxRate and timers (ms) per line. "mode": send (default), receive or both makes a line answer calls: it then needs "owner" (who gets its faxes) and may have "number" (the number callers dial), "answerId" (our CSI) and "owners" ({"called number": owner} where the modem reports the called number). With no sending line, faxes wait.',
    format: 'fax-lines',
    default: [] as LineDefinition[],
    env: 'TRANSMITTER_LINES',
  },
  dial: {
    prefix: {
      doc: 'Dialled before every number on every line, e.g. "9" for an outside line behind a PBX.',
      format: String,
      default: '',
      env: 'TRANSMITTER_DIAL_PREFIX',
    },
    region: {
      doc: "Where our lines are (ISO 3166 code): numbers given without a country code are read as this region's, and numbers of this region are dialled in national form, others in international form.",
      format: 'region-code',
      default: 'US',
      env: 'TRANSMITTER_DIAL_REGION',
    },
    rules: {
      doc: 'Rewrites of E.164 numbers into dial strings, tried in order before the national/international form: a JSON array of {"match": regex, "dial": "…$1…"}.',
      format: 'dial-rules',
      default: [] as DialRule[],
      env: 'TRANSMITTER_DIAL_RULES',
    },
    blockedPrefixes: {
      doc: 'Numbers a fax may not be sent to: a JSON array of E.164 prefixes, e.g. ["+1900", "+44 9", "+882", "+883"]; a submission or change naming such a recipient is refused with 400. Empty by default, because which ranges cost too much or draw fraud is the operator\'s call and differs by country and carrier; premium-rate numbers everywhere are refused by dial.blockPremiumRate.',
      format: 'blocked-prefixes',
      default: [] as string[],
      env: 'TRANSMITTER_DIAL_BLOCKED_PREFIXES',
    },
    blockPremiumRate: {
      doc: "Refuses recipients that the numbering plan of their country marks as premium-rate (libphonenumber's metadata: +1 900, +44 9…, +49 900, +39 89…), whose calls cost the sender by the minute and are the usual target of toll fraud.",
      format: Boolean,
      default: true,
      env: 'TRANSMITTER_DIAL_BLOCK_PREMIUM_RATE',
    },
  },
  rateLimits: {
    submissions: rateLimitSchema({
      what: 'fax submissions (POST /v3/accounts/{user}/outbox, refused ones included)',
      per: 'account',
      max: 100,
      windowSeconds: 3600,
      env: 'TRANSMITTER_RATE_LIMIT_SUBMISSIONS',
      note: 'Counted in the database, so replicas share it.',
    }),
  },
  retry: {
    defaultCount: {
      doc: 'Redials of a failed recipient when the submission gives no retry policy (0-3).',
      format: 'retry-count',
      default: 2,
      env: 'TRANSMITTER_RETRY_DEFAULT_COUNT',
    },
    busySeconds: seconds("Wait before redialling a busy number, when the fax's retry policy gives no delay.", 180, 'TRANSMITTER_RETRY_BUSY_SECONDS'),
    noAnswerSeconds: seconds('Wait before redialling a number where no fax machine answered.', 600, 'TRANSMITTER_RETRY_NO_ANSWER_SECONDS'),
    temporarySeconds: seconds('Wait after a temporary network failure (no dial tone, congestion, call cleared).', 120, 'TRANSMITTER_RETRY_TEMPORARY_SECONDS'),
    interruptedSeconds: seconds(
      'Wait after a call that failed or broke off during the fax session (lost carrier, T.30 errors).',
      300,
      'TRANSMITTER_RETRY_INTERRUPTED_SECONDS',
    ),
    internalSeconds: seconds('Wait after a failure on our side (a modem that did not respond).', 300, 'TRANSMITTER_RETRY_INTERNAL_SECONDS'),
    restartSeconds: seconds('Wait before redialling a call cut by a transmitter restart.', 60, 'TRANSMITTER_RETRY_RESTART_SECONDS'),
  },
  limits: {
    maxFiles: { doc: 'Files in one fax.', format: 'positive-int', default: 10, env: 'TRANSMITTER_MAX_FILES' },
    maxBytes: {
      doc: 'Bytes of all files of one fax together (and of one upload).',
      format: 'positive-int',
      default: 30 * 1024 * 1024,
      env: 'TRANSMITTER_MAX_BYTES',
    },
    maxRecipients: { doc: 'Recipients of one fax.', format: 'positive-int', default: 100, env: 'TRANSMITTER_MAX_RECIPIENTS' },
  },
  documents: {
    workers: {
      doc: 'Documents converted at once, each in its own worker thread (never on the thread that runs the fax lines and answers RADIUS); the others wait their turn.',
      format: 'positive-int',
      default: 1,
      env: 'TRANSMITTER_DOCUMENTS_WORKERS',
    },
    maxBytes: {
      doc: 'Bytes of one document; a larger one fails as failed_image_preparation before it is read.',
      format: 'positive-int',
      default: DEFAULT_DOCUMENT_LIMITS.maxBytes,
      env: 'TRANSMITTER_DOCUMENTS_MAX_BYTES',
    },
    maxPages: {
      doc: "Pages of one document (a PDF's page count and a TIFF's directories are read before any page is drawn); more fails as failed_image_preparation.",
      format: 'positive-int',
      default: DEFAULT_DOCUMENT_LIMITS.maxPages,
      env: 'TRANSMITTER_DOCUMENTS_MAX_PAGES',
    },
    maxPixelsPerPage: {
      doc: 'Pixels (width × height) of one TIFF page as its header declares it; a larger page fails as failed_image_preparation before anything is decoded.',
      format: 'positive-int',
      default: DEFAULT_DOCUMENT_LIMITS.maxPixelsPerPage,
      env: 'TRANSMITTER_DOCUMENTS_MAX_PIXELS_PER_PAGE',
    },
    maxSeconds: {
      doc: "Seconds one document's conversion may take, converters included; then it is stopped and fails as failed_image_preparation.",
      format: 'positive-int',
      default: DEFAULT_DOCUMENT_LIMITS.maxSeconds,
      env: 'TRANSMITTER_DOCUMENTS_MAX_SECONDS',
    },
    maxMemoryMb: {
      doc: "Megabytes one conversion may use: the worker's heap, each converter's address space (Ghostscript needs about 64), and the decoding a TIFF's header announces; over it fails as failed_image_preparation.",
      format: 'positive-int',
      default: DEFAULT_DOCUMENT_LIMITS.maxMemoryMb,
      env: 'TRANSMITTER_DOCUMENTS_MAX_MEMORY_MB',
    },
  },
  headerLine: {
    enabled: {
      doc: 'Print a header line at the top of every page sent, as fax machines do (who sends, date and time, page n of m); drawn into the blank top margin, or above a page inked to its top edge without pushing its bottom off the page.',
      format: Boolean,
      default: false,
      env: 'TRANSMITTER_HEADER_LINE',
    },
    format: {
      doc: "The header line's text: {from} (the fax's sender number, else localId), {date}, {time}, {page} and {pages}.",
      format: String,
      default: DEFAULT_HEADER_FORMAT,
      env: 'TRANSMITTER_HEADER_LINE_FORMAT',
    },
    locale: {
      doc: "The language of the header line's date and time (e.g. en, ru, it).",
      format: String,
      default: 'en',
      env: 'TRANSMITTER_HEADER_LINE_LOCALE',
    },
    timeZone: {
      doc: "The time zone (IANA name) of the header line's date and time.",
      format: (value: unknown) => {
        if (typeof value !== 'string') throw new Error('must be a time zone name such as Europe/Rome');
        new Intl.DateTimeFormat('en', { timeZone: value }); // throws a RangeError naming the zone
      },
      default: 'UTC',
      env: 'TRANSMITTER_HEADER_LINE_TIME_ZONE',
    },
  },
  scheduler: {
    pollMs: {
      doc: 'How often the scheduler looks for faxes and recipients whose time has come (it also runs after every change).',
      format: 'positive-int',
      default: 1000,
      env: 'TRANSMITTER_SCHEDULER_POLL_MS',
    },
    stopGraceMs: {
      doc: 'On stop, how long calls in progress may run to their end; calls still up then are cut and redialled after the next start.',
      format: 'nat',
      default: 30_000,
      env: 'TRANSMITTER_STOP_GRACE_MS',
    },
    lineFaultsBeforeRest: {
      doc: "A line whose calls fail on our side this many times in a row (the modem does not answer, its port fails, no dial tone) rests instead of using up recipients' attempts.",
      format: 'positive-int',
      default: 3,
      env: 'TRANSMITTER_LINE_FAULTS_BEFORE_REST',
    },
    lineRestSeconds: seconds(
      'How long such a line rests before it dials again (logged as an error; metric faxnotify_transmitter_line_resting).',
      300,
      'TRANSMITTER_LINE_REST_SECONDS',
    ),
  },
  outbox: {
    pollMs: {
      doc: 'How often the event relay looks for events not yet confirmed by the broker (it also runs after every change).',
      format: 'positive-int',
      default: 1000,
      env: 'TRANSMITTER_OUTBOX_POLL_MS',
    },
  },
  ...ataConfigSchema,
};

export interface TransmitterConfig {
  log: { level: string };
  amqp: { url: string; prefetch: number };
  http: { host: string; port: number; publicUrl: string; trustProxy: string };
  db: { url: string; sqlitePath: string };
  auth: { jwtSecret: string; audience: string };
  files: { dir: string; keepDays: number; unusedDays: number };
  localId: string;
  lines: LineDefinition[];
  dial: { prefix: string; region: string; rules: DialRule[]; blockedPrefixes: string[]; blockPremiumRate: boolean };
  rateLimits: { submissions: { max: number; windowSeconds: number } };
  retry: {
    defaultCount: number;
    busySeconds: number;
    noAnswerSeconds: number;
    temporarySeconds: number;
    interruptedSeconds: number;
    internalSeconds: number;
    restartSeconds: number;
  };
  limits: { maxFiles: number; maxBytes: number; maxRecipients: number };
  documents: DocumentLimits & { workers: number };
  headerLine: { enabled: boolean; format: string; locale: string; timeZone: string };
  scheduler: { pollMs: number; stopGraceMs: number; lineFaultsBeforeRest: number; lineRestSeconds: number };
  outbox: { pollMs: number };
  ata: AtaConfig;
}

/** Defaults, then FAXNOTIFY_CONFIG, then the environment, then `overrides`; a wrong value throws naming the key. */
export function loadTransmitterConfig(overrides: Record<string, unknown> = {}, env: NodeJS.ProcessEnv = process.env): TransmitterConfig {
  return loadConfig<TransmitterConfig>(transmitterSchema, overrides, env);
}
