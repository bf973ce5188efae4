import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import Ajv, { type ErrorObject, type ValidateFunction } from 'ajv';
import addFormats from 'ajv-formats';

/**
 * Twilio's contract for the Messages operations, compiled from Twilio's official OpenAPI document
 * (fixtures/twilio_api_v2010.json beside this file, MIT licence beside it), so the endpoint can
 * hold every request it gets and every response it gives to what Twilio publishes.
 */

/** The package root, then the fixture in the sources: the same file whether this runs from src (jest) or dist. */
export const TWILIO_SPEC_PATH = join(__dirname, '..', '..', '..', '..', 'src', 'channels', 'sms', 'testing', 'fixtures', 'twilio_api_v2010.json');

const MESSAGES_PATH = '/2010-04-01/Accounts/{AccountSid}/Messages.json';
const MESSAGE_PATH = '/2010-04-01/Accounts/{AccountSid}/Messages/{Sid}.json';
export const FORM = 'application/x-www-form-urlencoded';

interface OpenApiParameter {
  name: string;
  in: string;
  required?: boolean;
  schema: object;
}

/** Validators compiled from Twilio's OpenAPI document. */
export interface TwilioContract {
  /** CreateMessageRequest, with form values coerced to the schema's types first. */
  createRequest: ValidateFunction;
  createRequestFields: Set<string>;
  accountSid: ValidateFunction;
  messageSid: ValidateFunction;
  /** `api.v2010.account.message`: the 201 of a create and the 200 of a fetch. */
  message: ValidateFunction;
  /** The list operation's query parameters as one object (values coerced to their types first). */
  listQuery: ValidateFunction;
  listQueryFields: Set<string>;
  /** ListMessageResponse, the 200 of a list. */
  listResponse: ValidateFunction;
  /** Twilio's REST error object. */
  error: ValidateFunction;
}

/**
 * Twilio's REST error body. The OpenAPI document describes successes only; this is the object
 * every Twilio error response carries.
 */
const TWILIO_ERROR_SCHEMA = {
  type: 'object',
  required: ['code', 'message', 'more_info', 'status'],
  additionalProperties: false,
  properties: {
    code: { type: 'integer' },
    message: { type: 'string', minLength: 1 },
    more_info: { type: 'string', format: 'uri' },
    status: { type: 'integer', minimum: 400, maximum: 599 },
  },
};

const RFC_2822 = /^(Mon|Tue|Wed|Thu|Fri|Sat|Sun), \d{2} (Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec) \d{4} \d{2}:\d{2}:\d{2} [+-]\d{4}$/;

/** What the spec's `phone-number` format admits: E.164, a channel address, a short code or an alphanumeric sender ID. */
function isPhoneNumberFormat(value: string): boolean {
  return /^\+[1-9]\d{1,14}$/.test(value) || /^[a-z][a-z-]*:\S+$/.test(value) || /^\d{3,8}$/.test(value) || /^(?=.*[A-Za-z])[A-Za-z0-9 ]{1,11}$/.test(value);
}

/**
 * `relativeUris`: a list page gives its own URIs (first_page_uri, next_page_uri…) relative to the
 * API host, as Twilio's own examples in the document do, where the document says `format: uri`;
 * they are held to URI-reference there.
 */
function contractAjv(coerce: boolean, relativeUris = false): Ajv {
  // The document carries vendor keywords (x-twilio) and OpenAPI's `nullable`: strict mode off.
  const ajv = new Ajv({ strict: false, allErrors: true, coerceTypes: coerce ? 'array' : false });
  addFormats(ajv, relativeUris ? ['date-time', 'date'] : ['date-time', 'date', 'uri']);
  if (relativeUris) ajv.addFormat('uri', addFormats.get('uri-reference'));
  ajv.addFormat('phone-number', isPhoneNumberFormat);
  ajv.addFormat('date-time-rfc-2822', RFC_2822);
  ajv.addFormat('currency', /^[A-Z]{3}$/);
  ajv.addFormat('iso-country-code', /^[A-Z]{2}$/);
  ajv.addFormat('http-method', /^(GET|POST|PUT|DELETE|HEAD|PATCH)$/);
  for (const opaque of ['uri-map', 'phone-number-capabilities', 'ice-server', 'endpoint', 'twiml', 'int64', 'int32']) ajv.addFormat(opaque, true);
  return ajv;
}

let contract: TwilioContract | undefined;

/** Twilio's contract for the Messages operations, compiled once per process. */
export function twilioContract(): TwilioContract {
  if (contract) return contract;
  const spec = JSON.parse(readFileSync(TWILIO_SPEC_PATH, 'utf8')) as {
    components: { schemas: Record<string, object> };
    paths: Record<
      string,
      Record<
        string,
        {
          parameters?: OpenApiParameter[];
          requestBody?: { content: Record<string, { schema: { properties: Record<string, unknown> } }> };
          responses?: Record<string, { content?: Record<string, { schema: object }> }>;
        }
      >
    >;
  };
  const create = spec.paths[MESSAGES_PATH]?.post;
  const list = spec.paths[MESSAGES_PATH]?.get;
  const fetch = spec.paths[MESSAGE_PATH]?.get;
  const requestSchema = create?.requestBody?.content[FORM]?.schema;
  const accountSidSchema = create?.parameters?.find((parameter) => parameter.name === 'AccountSid')?.schema;
  const messageSidSchema = fetch?.parameters?.find((parameter) => parameter.name === 'Sid')?.schema;
  const listParameters = list?.parameters?.filter((parameter) => parameter.in === 'query');
  const listResponseSchema = list?.responses?.['200']?.content?.['application/json']?.schema;
  if (!requestSchema || !accountSidSchema || !messageSidSchema || !listParameters?.length || !listResponseSchema) {
    throw new Error(`${TWILIO_SPEC_PATH} does not describe ${MESSAGES_PATH} as expected`);
  }
  // A query string is one object of named values: the list's query parameters become its properties.
  const listQuerySchema = {
    type: 'object',
    properties: Object.fromEntries(listParameters.map((parameter) => [parameter.name, parameter.schema])),
    required: listParameters.filter((parameter) => parameter.required).map((parameter) => parameter.name),
  };
  // Only the components and the pieces of the operations are handed to ajv: their $refs
  // ("#/components/schemas/…") resolve inside this document.
  const document = (id: string) => ({
    $id: id,
    components: spec.components,
    operation: {
      createRequest: requestSchema,
      accountSid: accountSidSchema,
      messageSid: messageSidSchema,
      listQuery: listQuerySchema,
      listResponse: listResponseSchema,
    },
  });
  const requests = contractAjv(true);
  requests.addSchema(document('twilio-api-v2010-requests'));
  const responses = contractAjv(false);
  responses.addSchema(document('twilio-api-v2010-responses'));
  const pages = contractAjv(false, true);
  pages.addSchema(document('twilio-api-v2010-pages'));
  contract = {
    createRequest: requests.compile({ $ref: 'twilio-api-v2010-requests#/operation/createRequest' }),
    createRequestFields: new Set(Object.keys(requestSchema.properties)),
    accountSid: responses.compile({ $ref: 'twilio-api-v2010-responses#/operation/accountSid' }),
    messageSid: responses.compile({ $ref: 'twilio-api-v2010-responses#/operation/messageSid' }),
    message: responses.compile({ $ref: 'twilio-api-v2010-responses#/components/schemas/api.v2010.account.message' }),
    listQuery: requests.compile({ $ref: 'twilio-api-v2010-requests#/operation/listQuery' }),
    listQueryFields: new Set(listParameters.map((parameter) => parameter.name)),
    listResponse: pages.compile({ $ref: 'twilio-api-v2010-pages#/operation/listResponse' }),
    error: responses.compile(TWILIO_ERROR_SCHEMA),
  };
  return contract;
}

export function describeErrors(errors: ErrorObject[] | null | undefined): string {
  return (errors ?? []).map((error) => `${error.instancePath || '(root)'} ${error.message}`).join('; ');
}
