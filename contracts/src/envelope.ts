import { randomUUID } from 'node:crypto';
import Ajv, { type ErrorObject, type ValidateFunction } from 'ajv';
import addFormats from 'ajv-formats';
import { Type } from '@sinclair/typebox';
import { EVENT_CATALOGUE, type EventData, type EventKey } from './events/definitions';

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

export const eventType = (key: EventKey): string => `faxnotify.${key}.v${EVENT_CATALOGUE[key].version}`;

const KEY_BY_TYPE = new Map<string, EventKey>(
  (Object.keys(EVENT_CATALOGUE) as EventKey[]).map((key) => [eventType(key), key]),
);

export const envelopeSchema = (key: EventKey) =>
  Type.Object(
    {
      id: Type.String({ minLength: 1, maxLength: 200 }),
      source: Type.String({ minLength: 1, maxLength: 200 }),
      specversion: Type.Literal('1.0'),
      type: Type.Literal(eventType(key)),
      time: Type.String({ format: 'date-time' }),
      subject: Type.Optional(Type.String({ maxLength: 300 })),
      datacontenttype: Type.Literal('application/json'),
      data: EVENT_CATALOGUE[key].schema,
    },
    { additionalProperties: false, $id: `https://faxnotify.dev/schemas/${eventType(key)}.json`, title: eventType(key), description: EVENT_CATALOGUE[key].doc },
  );

const ajv = new Ajv({ allErrors: false, strict: true, strictTuples: false });
addFormats(ajv, ['date-time', 'uri', 'email']);
const validators = new Map<EventKey, ValidateFunction>();
const validatorFor = (key: EventKey): ValidateFunction => {
  let validate = validators.get(key);
  if (!validate) {
    validate = ajv.compile(envelopeSchema(key));
    validators.set(key, validate);
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

export type ParsedEvent = { [K in EventKey]: { ok: true; key: K; event: CloudEvent<K> } }[EventKey];
export type ParseFailure = { ok: false; reason: string };

/**
 * Parses and validates a message body. Never throws: anything wrong comes back as a reason,
 * which the consumer wrapper puts on the dead-lettered message.
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
  const key = KEY_BY_TYPE.get(type);
  if (!key) return { ok: false, reason: `unknown event type ${JSON.stringify(type.slice(0, 100))}` };
  if (accepted && !accepted.includes(key)) return { ok: false, reason: `event type ${type} is not accepted here` };
  const validate = validatorFor(key);
  if (!validate(value)) return { ok: false, reason: `${type} is invalid: ${describeErrors(validate.errors)}` };
  return { ok: true, key, event: value as CloudEvent<typeof key> } as ParsedEvent;
}
