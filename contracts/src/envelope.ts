import { randomUUID } from 'node:crypto';
import Ajv, { type ErrorObject, type ValidateFunction } from 'ajv';
import addFormats from 'ajv-formats';
import { Type, type TSchema } from '@sinclair/typebox';
import { EVENT_CATALOGUE, type CatalogueEntry, type EventData, type EventKey, type OlderEventVersion } from './events/definitions';

/**
 * A CloudEvents 1.0 envelope (structured JSON mode). `type` carries the version:
 * `faxnotify.fax.recipient.result.v1`.
 */
export interface CloudEvent<K extends EventKey = EventKey> {
  /** MUST: unique per source; a redelivered or re-published event keeps its id. */
  readonly id: string;
  /** MUST: the producing service, e.g. `/faxnotify/status-tracker`. */
  readonly source: string;
  readonly specversion: '1.0';
  /** MUST: `faxnotify.<routing key>.v<version>`. */
  readonly type: string;
  /** SHOULD: when the fact happened. */
  readonly time: string;
  /** The fax (and recipient) the event is about, e.g. `fax/F1/recipient/R1`. */
  readonly subject?: string;
  readonly datacontenttype: 'application/json';
  readonly data: EventData<K>;
}

/** The CloudEvents type of an event's current version, or of the given (older) version. */
export const eventType = (key: EventKey, version: number = EVENT_CATALOGUE[key].version): string => `faxnotify.${key}.v${version}`;

/** The older versions of an event that consumers still accept, as the catalogue lists them. */
export const olderVersions = (key: EventKey): readonly OlderEventVersion[] => (EVENT_CATALOGUE[key] as CatalogueEntry).older ?? [];

/** One CloudEvents type consumers accept: an event's current version, or an older one with its upgrade. */
interface AcceptedType {
  key: EventKey;
  version: number;
  schema: TSchema;
  doc: string;
  upgrade?: (data: unknown) => unknown;
}

const ACCEPTED_TYPES = new Map<string, AcceptedType>();
for (const key of Object.keys(EVENT_CATALOGUE) as EventKey[]) {
  const { version, schema, doc } = EVENT_CATALOGUE[key];
  ACCEPTED_TYPES.set(eventType(key), { key, version, schema, doc });
  for (const older of olderVersions(key)) {
    ACCEPTED_TYPES.set(eventType(key, older.version), {
      key,
      version: older.version,
      schema: older.schema,
      doc: older.doc,
      upgrade: older.upgrade as (data: unknown) => unknown,
    });
  }
}

/**
 * The JSON Schema of an event's envelope: of its current version, or of an older version still
 * accepted. The current version's description names the older versions consumers still take.
 */
export const envelopeSchema = (key: EventKey, version: number = EVENT_CATALOGUE[key].version) => {
  const type = eventType(key, version);
  const accepted = ACCEPTED_TYPES.get(type);
  if (!accepted) throw new RangeError(`${key} has no version ${version}`);
  const older = olderVersions(key).map((o) => eventType(key, o.version));
  const description =
    accepted.upgrade === undefined && older.length > 0
      ? `${accepted.doc} Consumers still accept ${older.join(', ')} and upgrade it to this version.`
      : accepted.doc;
  return Type.Object(
    {
      id: Type.String({ minLength: 1, maxLength: 200 }),
      source: Type.String({ minLength: 1, maxLength: 200 }),
      specversion: Type.Literal('1.0'),
      type: Type.Literal(type),
      time: Type.String({ format: 'date-time' }),
      subject: Type.Optional(Type.String({ maxLength: 300 })),
      datacontenttype: Type.Literal('application/json'),
      data: accepted.schema,
    },
    { additionalProperties: false, $id: `https://faxnotify.dev/schemas/${type}.json`, title: type, description },
  );
};

const ajv = new Ajv({ allErrors: false, strict: true, strictTuples: false });
addFormats(ajv, ['date-time', 'uri', 'email']);
/** Compiled envelope validators by CloudEvents type. */
const validators = new Map<string, ValidateFunction>();
const validatorFor = (key: EventKey, version: number = EVENT_CATALOGUE[key].version): ValidateFunction => {
  const type = eventType(key, version);
  let validate = validators.get(type);
  if (!validate) {
    validate = ajv.compile(envelopeSchema(key, version));
    validators.set(type, validate);
  }
  return validate;
};

const describeErrors = (errors: ErrorObject[] | null | undefined): string =>
  (errors ?? []).map((e) => `${e.instancePath || '/'} ${e.message ?? 'is invalid'}`).join('; ');

export interface EventMeta {
  source: string;
  subject?: string;
  id?: string;
  time?: Date | string;
}

/** Builds an envelope and checks it against its schema, so a producer can never publish what a consumer would reject. */
export function createEvent<K extends EventKey>(key: K, data: EventData<K>, meta: EventMeta): CloudEvent<K> {
  const time = meta.time instanceof Date ? meta.time.toISOString() : (meta.time ?? new Date().toISOString());
  const event: CloudEvent<K> = {
    id: meta.id ?? randomUUID(),
    source: meta.source,
    specversion: '1.0',
    type: eventType(key),
    time,
    ...(meta.subject !== undefined ? { subject: meta.subject } : {}),
    datacontenttype: 'application/json',
    data,
  };
  const validate = validatorFor(key);
  if (!validate(event)) throw new TypeError(`${eventType(key)} is invalid: ${describeErrors(validate.errors)}`);
  return Object.freeze(event);
}

export type ParsedEvent = {
  [K in EventKey]: {
    ok: true;
    key: K;
    /** Always the current version: an accepted older one comes upgraded, with its id, source and time. */
    event: CloudEvent<K>;
    /** The CloudEvents type the message carried, when it was an older version that was upgraded. */
    upgradedFrom?: string;
  };
}[EventKey];
export type ParseFailure = { ok: false; reason: string };

/**
 * Parses and validates a message body. Never throws: anything wrong comes back as a reason,
 * which the consumer wrapper puts on the dead-lettered message. An older version the catalogue
 * still accepts is validated against its own schema, then upgraded to the current version (and
 * checked again), so consumers only ever handle the current shape.
 */
export function parseEvent(body: Buffer | string, accepted?: readonly EventKey[]): ParsedEvent | ParseFailure {
  let value: unknown;
  try {
    value = JSON.parse(typeof body === 'string' ? body : body.toString('utf8'));
  } catch (error) {
    return { ok: false, reason: `unparseable JSON: ${(error as Error).message}` };
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return { ok: false, reason: 'not a JSON object' };
  const type = (value as { type?: unknown }).type;
  if (typeof type !== 'string') return { ok: false, reason: 'no CloudEvents type' };
  const known = ACCEPTED_TYPES.get(type);
  if (!known) return { ok: false, reason: `unknown event type ${JSON.stringify(type.slice(0, 100))}` };
  const { key } = known;
  if (accepted && !accepted.includes(key)) return { ok: false, reason: `event type ${type} is not accepted here` };
  const validate = validatorFor(key, known.version);
  if (!validate(value)) return { ok: false, reason: `${type} is invalid: ${describeErrors(validate.errors)}` };
  if (!known.upgrade) return { ok: true, key, event: value as CloudEvent<typeof key> } as ParsedEvent;
  const event = { ...(value as CloudEvent), type: eventType(key), data: known.upgrade((value as CloudEvent).data) };
  const validateCurrent = validatorFor(key);
  if (!validateCurrent(event)) return { ok: false, reason: `${type} does not upgrade to ${eventType(key)}: ${describeErrors(validateCurrent.errors)}` };
  return { ok: true, key, event, upgradedFrom: type } as ParsedEvent;
}
