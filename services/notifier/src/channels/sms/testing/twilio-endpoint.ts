import type { IncomingMessage, ServerResponse } from 'node:http';
import { createServer } from 'node:http';
import { errorMessage } from '@faxnotify/kit';
import { BaseUrlRequestClient } from '../request-client';
import { smsSize } from '../segments';
import {
  CALLBACK_SEQUENCE,
  CODE_FOR_STATUS,
  DEFAULT_DELIVERY_ERROR,
  MAGIC_TO_ERRORS,
  SENT_DATE_FILTERS,
  TWILIO_ERRORS,
  first,
  hex,
  parseForm,
  readBody,
  rfc2822,
  sentDateRange,
  twilioSignature,
  type DeliveryOutcome,
  type LostAnswer,
  type TwilioAnswer,
  type TwilioCreateRequest,
  type TwilioEndpoint,
  type TwilioEndpointOptions,
  type TwilioListAnswer,
  type TwilioListRequest,
  type TwilioMessageRecord,
  type TwilioRequestRecord,
  type TwilioStatusCallback,
} from './twilio-api';
import { FORM, describeErrors, twilioContract } from './twilio-contract';

/**
 * A Twilio-compatible Messages endpoint for tests. It holds every request it gets and every
 * response it gives to Twilio's official OpenAPI document (see twilio-contract.ts), answers as
 * Twilio does (create, fetch, and the filtered list), counts segments with the notifier's own
 * counter, and posts signed status callbacks. It can also show the network faults a client of
 * the real Twilio meets: an answer lost after the message was stored, and the API being
 * unreachable for a while. The real `twilio` package reaches it through `httpClient`, the same
 * client the notifier uses when `twilio.baseUrl` is set.
 */
export async function startTwilioEndpoint(options: TwilioEndpointOptions = {}): Promise<TwilioEndpoint> {
  const spec = twilioContract();
  const accountSid = options.accountSid ?? `AC${hex(16)}`;
  const authToken = options.authToken ?? hex(16);
  const callbackDelayMs = options.callbackDelayMs ?? 5;
  const defaultOutcome = options.outcome ?? 'delivered';
  const messages: TwilioMessageRecord[] = [];
  const requests: TwilioRequestRecord[] = [];
  const statusCallbacks: TwilioStatusCallback[] = [];
  const violations: string[] = [];
  const pendingCallbacks = new Set<Promise<void>>();
  let decide: ((request: TwilioCreateRequest) => TwilioAnswer | undefined | Promise<TwilioAnswer | undefined>) | undefined;
  let decideList: ((request: TwilioListRequest) => TwilioListAnswer | undefined | Promise<TwilioListAnswer | undefined>) | undefined;
  let createCount = 0;
  let listCount = 0;
  let closed = false;
  let listening = false;
  /** Requests whose answer the script said to lose. */
  const losses = new WeakMap<TwilioRequestRecord, LostAnswer>();

  const send = (
    response: ServerResponse,
    record: TwilioRequestRecord,
    status: number,
    body: Record<string, unknown>,
    validate = status < 400 ? spec.message : spec.error,
  ) => {
    if (!validate(body)) violations.push(`response ${status} to ${record.method} ${record.path} breaks the contract: ${describeErrors(validate.errors)}`);
    record.status = status;
    if (status >= 400) record.errorCode = body.code as number;
    const loss = losses.get(record);
    if (loss) {
      // The answer is ready and goes nowhere: the client waits for it until its timeout, or its
      // connection is reset under it.
      record.lost = loss;
      if (loss === 'reset') response.socket?.resetAndDestroy();
      return;
    }
    response.writeHead(status, { 'content-type': 'application/json; charset=utf-8', 'twilio-request-id': `RQ${hex(16)}` });
    response.end(JSON.stringify(body));
  };

  /** The message resource as Twilio gives it now (status, error and sent date change after the create). */
  const currentResource = (message: TwilioMessageRecord): Record<string, unknown> => ({
    ...message.resource,
    status: message.status,
    error_code: message.errorCode,
    date_sent: message.sentAt ? rfc2822(message.sentAt) : null,
  });

  const sendError = (response: ServerResponse, record: TwilioRequestRecord, answer: { error?: number; status?: number; message?: string }) => {
    const code = answer.error ?? CODE_FOR_STATUS[answer.status ?? 400] ?? 20001;
    const known = TWILIO_ERRORS[code];
    const status = answer.status ?? known?.status ?? 400;
    send(response, record, status, {
      code,
      message: answer.message ?? known?.message(record.params) ?? `Error ${code}`,
      more_info: `https://www.twilio.com/docs/errors/${code}`,
      status,
    });
  };

  const postCallbacks = (message: TwilioMessageRecord, outcome: DeliveryOutcome, deliveryErrorCode: number | undefined) => {
    const url = message.statusCallback;
    const chain = (async () => {
      for (const status of CALLBACK_SEQUENCE[outcome]) {
        await new Promise((resolve) => setTimeout(resolve, callbackDelayMs));
        if (closed) return;
        message.status = status;
        if (status !== 'queued' && status !== 'accepted') message.sentAt ??= new Date();
        const params: Record<string, string> = {
          AccountSid: accountSid,
          ApiVersion: '2010-04-01',
          MessageSid: message.sid,
          SmsSid: message.sid,
          MessageStatus: status,
          SmsStatus: status,
          To: message.to,
        };
        if (message.from) params.From = message.from;
        if (message.messagingServiceSid) params.MessagingServiceSid = message.messagingServiceSid;
        if (status === 'undelivered' || status === 'failed') {
          message.errorCode = deliveryErrorCode ?? DEFAULT_DELIVERY_ERROR[status];
          params.ErrorCode = String(message.errorCode);
        }
        if (!url) continue;
        const signature = twilioSignature(authToken, url, params);
        const callback: TwilioStatusCallback = { url, messageSid: message.sid, status, params, signature, sentAt: performance.now() };
        statusCallbacks.push(callback);
        try {
          const response = await fetch(url, {
            method: 'POST',
            headers: {
              'content-type': `${FORM}; charset=utf-8`,
              'x-twilio-signature': signature,
              'i-twilio-idempotency-token': `${message.sid}-${status}`,
              'user-agent': 'TwilioProxy/1.1',
            },
            body: new URLSearchParams(params).toString(),
          });
          callback.responseStatus = response.status;
          await response.arrayBuffer();
        } catch (error) {
          // Twilio does not retry a status callback it could not deliver; neither does this endpoint.
          callback.error = (error as Error).message;
        }
      }
    })();
    pendingCallbacks.add(chain);
    void chain.finally(() => pendingCallbacks.delete(chain));
  };

  const authorised = (request: IncomingMessage, pathAccount: string) => {
    const header = request.headers.authorization ?? '';
    if (!header.startsWith('Basic ')) return false;
    const [user, ...rest] = Buffer.from(header.slice(6), 'base64').toString('utf8').split(':');
    return user === accountSid && rest.join(':') === authToken && pathAccount === accountSid;
  };

  const handleCreate = async (response: ServerResponse, record: TwilioRequestRecord) => {
    const params = record.params;
    // Every request is held to the CreateMessageRequest schema (form values coerced to its types).
    const unknown = Object.keys(params).filter((key) => !spec.createRequestFields.has(key));
    if (unknown.length > 0) violations.push(`POST ${record.path}: parameters not in the spec: ${unknown.join(', ')}`);
    const coerced = structuredClone(params) as Record<string, unknown>;
    const schemaValid = spec.createRequest(coerced);
    const schemaErrors = schemaValid ? [] : [...(spec.createRequest.errors ?? [])];
    if (!schemaValid) violations.push(`POST ${record.path}: request breaks CreateMessageRequest: ${describeErrors(schemaErrors)}`);

    const to = first(params.To);
    const from = first(params.From);
    const body = first(params.Body);
    const messagingServiceSid = first(params.MessagingServiceSid);
    const statusCallback = first(params.StatusCallback);
    const index = createCount++;
    const answer = (await decide?.({ index, params, to, from, body, statusCallback })) ?? {};
    if (answer.loseAnswer) losses.set(record, answer.loseAnswer);
    if (answer.delayMs) await new Promise((resolve) => setTimeout(resolve, answer.delayMs));
    if (answer.error !== undefined || (answer.status !== undefined && answer.status >= 400)) return sendError(response, record, answer);

    // Twilio's own checks, in the order Twilio applies them.
    const fieldError = (field: string) =>
      schemaErrors.some((error) => error.instancePath === `/${field}` || (error.params as { missingProperty?: string }).missingProperty === field);
    if (!to) return sendError(response, record, { error: 21604 });
    if (fieldError('To')) return sendError(response, record, { error: 21211 });
    if (!from && !messagingServiceSid) return sendError(response, record, { error: 21603 });
    if (fieldError('From')) return sendError(response, record, { error: 21212 });
    if (fieldError('StatusCallback')) return sendError(response, record, { error: 21609 });
    if (!schemaValid) return sendError(response, record, { error: 20001, message: `Invalid parameter: ${describeErrors(schemaErrors)}` });
    if (!body && params.MediaUrl === undefined && params.ContentSid === undefined) return sendError(response, record, { error: 21602 });
    if (!/^\+[1-9]\d{6,14}$/.test(to)) return sendError(response, record, { error: 21211 });
    const magic = MAGIC_TO_ERRORS[to];
    if (magic !== undefined) return sendError(response, record, { error: magic });
    if ([...(body ?? '')].length > 1600) return sendError(response, record, { error: 21617 });

    const sid = `SM${hex(16)}`;
    const now = rfc2822(new Date());
    const { encoding, segments } = smsSize(body ?? '');
    // A Messaging Service picks the sender later: Twilio answers "accepted" and "0" segments then.
    const viaService = !from && Boolean(messagingServiceSid);
    const resource: Record<string, unknown> = {
      account_sid: accountSid,
      api_version: '2010-04-01',
      body: body ?? '',
      date_created: now,
      date_sent: null,
      date_updated: now,
      direction: 'outbound-api',
      error_code: null,
      error_message: null,
      from: from ?? null,
      messaging_service_sid: messagingServiceSid ?? null,
      num_media: '0',
      num_segments: viaService ? '0' : String(segments),
      price: null,
      price_unit: 'USD',
      sid,
      status: viaService ? 'accepted' : 'queued',
      subresource_uris: { media: `/2010-04-01/Accounts/${accountSid}/Messages/${sid}/Media.json` },
      to,
      uri: `/2010-04-01/Accounts/${accountSid}/Messages/${sid}.json`,
    };
    const message: TwilioMessageRecord = {
      sid,
      to,
      from: from ?? null,
      messagingServiceSid: messagingServiceSid ?? null,
      body: body ?? '',
      statusCallback,
      encoding,
      segments,
      status: resource.status as string,
      sentAt: null,
      errorCode: null,
      params,
      resource,
      receivedAt: record.receivedAt,
    };
    messages.push(message);
    send(response, record, 201, resource);
    postCallbacks(message, answer.outcome ?? defaultOutcome, answer.deliveryErrorCode);
  };

  const handleFetch = (response: ServerResponse, record: TwilioRequestRecord, sid: string) => {
    if (!spec.messageSid(sid)) violations.push(`GET ${record.path}: Sid breaks the spec: ${describeErrors(spec.messageSid.errors)}`);
    const message = messages.find((candidate) => candidate.sid === sid);
    if (!message) return sendError(response, record, { error: 20404, message: `The requested resource ${record.path} was not found` });
    send(response, record, 200, currentResource(message));
  };

  /**
   * The Messages list: filtered by To, From and sent date, newest first, one page of PageSize
   * (default 50). A DateSent filter matches only messages that have a sent date, as Twilio's
   * `date_sent` is null while a message waits in its queue.
   */
  const handleList = async (response: ServerResponse, record: TwilioRequestRecord) => {
    const params = record.params;
    const unknown = Object.keys(params).filter((key) => !spec.listQueryFields.has(key));
    if (unknown.length > 0) violations.push(`GET ${record.path}: parameters not in the spec: ${unknown.join(', ')}`);
    const coerced = structuredClone(params) as Record<string, unknown>;
    if (!spec.listQuery(coerced)) violations.push(`GET ${record.path}: query breaks the list operation's parameters: ${describeErrors(spec.listQuery.errors)}`);

    const answer = (await decideList?.({ index: listCount++, params })) ?? {};
    if (answer.loseAnswer) losses.set(record, answer.loseAnswer);
    if (answer.delayMs) await new Promise((resolve) => setTimeout(resolve, answer.delayMs));
    if (answer.error !== undefined || (answer.status !== undefined && answer.status >= 400)) return sendError(response, record, answer);

    const to = first(params.To);
    const from = first(params.From);
    const sentTests: Array<(sent: number) => boolean> = [];
    for (const [name, test] of SENT_DATE_FILTERS) {
      const value = first(params[name]);
      if (value === undefined) continue;
      const range = sentDateRange(value);
      if (!range) return sendError(response, record, { error: 20001, message: `Invalid date value for ${name}: ${value}` });
      sentTests.push((sent) => test(sent, range));
    }
    const pageSize = Math.min(1000, Math.max(1, Number(first(params.PageSize) ?? 50) || 50));
    const page = Math.max(0, Number(first(params.Page) ?? 0) || 0);
    const matching = [...messages].reverse().filter((message) => {
      if (to !== undefined && message.to !== to) return false;
      if (from !== undefined && message.from !== from) return false;
      if (sentTests.length === 0) return true;
      if (!message.sentAt) return false;
      const sent = Math.floor(message.sentAt.getTime() / 1000) * 1000;
      return sentTests.every((test) => test(sent));
    });
    const start = page * pageSize;
    const items = matching.slice(start, start + pageSize);
    const pageUri = (n: number, token?: string) => {
      const query = new URLSearchParams();
      for (const [key, value] of Object.entries(params)) {
        if (key === 'Page' || key === 'PageSize' || key === 'PageToken') continue;
        for (const item of [value].flat()) query.append(key, item);
      }
      query.set('PageSize', String(pageSize));
      query.set('Page', String(n));
      if (token) query.set('PageToken', token);
      return `${record.path}?${query.toString()}`;
    };
    const more = start + pageSize < matching.length;
    send(
      response,
      record,
      200,
      {
        first_page_uri: pageUri(0),
        end: items.length > 0 ? start + items.length - 1 : start,
        next_page_uri: more ? pageUri(page + 1, `PA${items.at(-1)!.sid}`) : null,
        page,
        page_size: pageSize,
        previous_page_uri: page > 0 ? pageUri(page - 1) : null,
        messages: items.map(currentResource),
        start,
        uri: pageUri(page, first(params.PageToken)),
      },
      spec.listResponse,
    );
  };

  const handle = async (request: IncomingMessage, response: ServerResponse) => {
    const url = new URL(request.url ?? '/', 'http://endpoint');
    const raw = await readBody(request);
    const contentType = (request.headers['content-type'] ?? '').split(';')[0].trim().toLowerCase();
    const method = (request.method ?? 'GET').toUpperCase();
    const record: TwilioRequestRecord = {
      method,
      path: url.pathname,
      params: method === 'POST' && contentType === FORM ? parseForm(raw) : parseForm(url.searchParams.toString()),
      status: 0,
      receivedAt: performance.now(),
    };
    requests.push(record);

    const messagesMatch = /^\/2010-04-01\/Accounts\/([^/]+)\/Messages\.json$/.exec(url.pathname);
    const messageMatch = /^\/2010-04-01\/Accounts\/([^/]+)\/Messages\/([^/]+)\.json$/.exec(url.pathname);
    const pathAccount = decodeURIComponent((messagesMatch ?? messageMatch)?.[1] ?? '');
    if (!messagesMatch && !messageMatch) {
      violations.push(`${method} ${url.pathname}: not an operation this endpoint serves`);
      return sendError(response, record, { error: 20404, message: `The requested resource ${url.pathname} was not found` });
    }
    if (!spec.accountSid(pathAccount)) violations.push(`${method} ${url.pathname}: AccountSid breaks the spec: ${describeErrors(spec.accountSid.errors)}`);
    if (!authorised(request, pathAccount)) return sendError(response, record, { error: 20003 });

    if (messagesMatch && method === 'POST') {
      if (contentType !== FORM) {
        violations.push(`POST ${url.pathname}: content type ${contentType || '(none)'}, the spec wants ${FORM}`);
        return sendError(response, record, { error: 20001, message: `Unsupported content type ${contentType || '(none)'}` });
      }
      return handleCreate(response, record);
    }
    if (messagesMatch && method === 'GET') return handleList(response, record);
    if (messageMatch && method === 'GET') return handleFetch(response, record, decodeURIComponent(messageMatch[2]));
    violations.push(`${method} ${url.pathname}: not an operation this endpoint serves`);
    return sendError(response, record, { error: 20004 });
  };

  const server = createServer((request, response) => {
    handle(request, response).catch((error: unknown) => {
      violations.push(`endpoint failure on ${request.method} ${request.url}: ${errorMessage(error)}`);
      if (!response.headersSent) response.writeHead(500, { 'content-type': 'application/json' });
      response.end(JSON.stringify({ code: 20500, message: 'Internal Server Error', more_info: 'https://www.twilio.com/docs/errors/20500', status: 500 }));
    });
  });
  const listen = (port: number) =>
    new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, '127.0.0.1', () => {
        server.off('error', reject);
        listening = true;
        resolve();
      });
    });
  const stopListening = async () => {
    if (!listening) return;
    listening = false;
    await new Promise<void>((resolve) => {
      server.close(() => resolve());
      server.closeAllConnections();
    });
  };
  await listen(0);
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : 0;
  const url = `http://127.0.0.1:${port}`;

  return {
    url,
    accountSid,
    authToken,
    messages,
    requests,
    statusCallbacks,
    violations,
    httpClient: new BaseUrlRequestClient(url, { keepAlive: false }),
    script: (next) => {
      decide = next;
    },
    scriptList: (next) => {
      decideList = next;
    },
    down: async () => {
      await stopListening();
      // An outage lasts a moment: clients in this process see their kept-alive connections close
      // before they try again, so their next request is refused rather than reset.
      await new Promise((resolve) => setTimeout(resolve, 20));
    },
    up: async () => {
      if (!listening && !closed) await listen(port);
    },
    callbacksSettled: async () => {
      while (pendingCallbacks.size > 0) await Promise.all([...pendingCallbacks]);
    },
    close: async () => {
      closed = true;
      await Promise.all([...pendingCallbacks]);
      await stopListening();
    },
  };
}
