import { createServer, type Server } from 'node:http';

/**
 * A ReplixFax REST API at the HTTP boundary, answering the way its documentation describes:
 * HTTP Basic authentication; `GET /outboundfaxes?FaxStatus=…&Mark=false` lists outbound faxes in
 * that status not yet marked, as JSON with a RequestStatus; `PUT /outboundfaxes/{FaxId}?Mark=true`
 * marks one. It can post its URL callback (form fields) to a target, and be told to fail marks.
 * Inbound faxes the same way: `GET /inboundfaxes?Mark=false` lists the unmarked ones of all users,
 * `GET /inboundfaxes/{FaxId}/content` answers the document, `PUT /inboundfaxes/{FaxId}?Mark=true` marks one.
 */
export interface ReplixInboundFax {
  FaxId: string;
  FaxStatus: string;
  ANI: string;
  DNIS: string;
  CSI: string;
  Pages: string;
  ReceiveTime: string;
  FaxUserId?: string;
  Mark: boolean;
}

export interface ReplixOutboundFax {
  FaxId: string;
  FaxStatus: string;
  ErrorCode: string;
  ErrorText: string;
  DestFaxNumber: string;
  CSI: string;
  CompleteTime: string;
  PagesSent: string;
  TotalPages?: string;
  FaxUserId?: string;
  Queue?: string;
  Mark: boolean;
}

export class FakeReplixFax {
  readonly faxes = new Map<string, ReplixOutboundFax>();
  readonly requests: Array<{ method: string; path: string; query: Record<string, string> }> = [];
  /** Answer marks with HTTP 500 while true. */
  failMarks = false;
  readonly inbound = new Map<string, ReplixInboundFax>();
  readonly contents = new Map<string, Buffer>();
  /** Answer inbound content requests with HTTP 503 while true. */
  failContent = false;
  private server?: Server;
  url = '';

  constructor(
    readonly username: string,
    readonly password: string,
  ) {}

  add(fax: Omit<ReplixOutboundFax, 'Mark' | 'Queue'> & { Mark?: boolean }): ReplixOutboundFax {
    const row = { Queue: 'SendFax', Mark: false, ...fax };
    this.faxes.set(fax.FaxId, row);
    return row;
  }

  addInbound(fax: Omit<ReplixInboundFax, 'Mark'>, content: Buffer): ReplixInboundFax {
    const row = { ...fax, Mark: false };
    this.inbound.set(fax.FaxId, row);
    this.contents.set(fax.FaxId, content);
    return row;
  }

  async start(): Promise<void> {
    this.server = createServer((request, response) => {
      const url = new URL(request.url ?? '/', 'http://replix.invalid');
      const query = Object.fromEntries(url.searchParams);
      this.requests.push({ method: request.method ?? '', path: url.pathname, query });
      const reply = (code: number, body: unknown) => response.writeHead(code, { 'content-type': 'application/json' }).end(JSON.stringify(body));
      const expected = `Basic ${Buffer.from(`${this.username}:${this.password}`).toString('base64')}`;
      if (request.headers.authorization !== expected)
        return reply(401, { RequestStatus: { StatusCode: '401', StatusText: 'Unauthorized - bad username or password' } });
      const base = url.pathname.replace(/^\/restapi\/v1/, '');
      if (request.method === 'GET' && base === '/outboundfaxes') {
        const wanted = [...this.faxes.values()].filter(
          (f) => (!query.FaxStatus || f.FaxStatus === query.FaxStatus) && (query.Mark === undefined || String(f.Mark) === query.Mark),
        );
        const limit = Number(query.ResultLimit ?? 100);
        const start = Number(query.GetNextResults ?? 0);
        const page = wanted.slice(start, start + limit).map(({ Mark, ...rest }) => ({ ...rest, Mark: Mark ? 'true' : 'false' }));
        return reply(200, {
          RequestStatus: { StatusCode: '0', StatusText: 'OK' },
          OutboundFaxes: page,
          ...(start + limit < wanted.length ? { GetNextResults: String(start + limit) } : {}),
        });
      }
      if (request.method === 'GET' && base === '/inboundfaxes') {
        const page = [...this.inbound.values()]
          .filter((f) => query.Mark === undefined || String(f.Mark) === query.Mark)
          .map(({ Mark, ...rest }) => ({ ...rest, Mark: Mark ? 'true' : 'false' }));
        return reply(200, { RequestStatus: { StatusCode: '0', StatusText: 'OK' }, InboundFaxes: page });
      }
      const content = /^\/inboundfaxes\/([^/]+)\/content$/.exec(base);
      if (request.method === 'GET' && content) {
        const data = this.contents.get(decodeURIComponent(content[1]));
        if (!data) return reply(404, { RequestStatus: { StatusCode: '404', StatusText: 'Not Found' } });
        if (this.failContent) return reply(503, { RequestStatus: { StatusCode: '503', StatusText: 'Service Unavailable' } });
        return response.writeHead(200, { 'content-type': 'application/pdf' }).end(data);
      }
      const inboundMark = /^\/inboundfaxes\/([^/]+)$/.exec(base);
      if (request.method === 'PUT' && inboundMark) {
        const fax = this.inbound.get(decodeURIComponent(inboundMark[1]));
        if (!fax) return reply(404, { RequestStatus: { StatusCode: '404', StatusText: 'Not Found' } });
        fax.Mark = query.Mark === 'true';
        return reply(200, { RequestStatus: { StatusCode: '0', StatusText: 'OK' } });
      }
      const mark = /^\/outboundfaxes\/([^/]+)$/.exec(base);
      if (request.method === 'PUT' && mark) {
        const fax = this.faxes.get(decodeURIComponent(mark[1]));
        if (!fax) return reply(404, { RequestStatus: { StatusCode: '404', StatusText: 'Not Found' } });
        if (this.failMarks) return reply(500, { RequestStatus: { StatusCode: '500', StatusText: 'Server Error' } });
        fax.Mark = query.Mark === 'true';
        return reply(200, { RequestStatus: { StatusCode: '0', StatusText: 'OK' } });
      }
      return reply(404, { RequestStatus: { StatusCode: '404', StatusText: 'Not Found' } });
    });
    await new Promise<void>((resolve) => this.server!.listen(0, '127.0.0.1', resolve));
    this.url = `http://127.0.0.1:${(this.server.address() as { port: number }).port}/restapi/v1`;
  }

  /** The provider's URL callback for one outbound fax: a form post with its fields. */
  async post(target: string, faxId: string): Promise<Response> {
    const { Mark: _mark, ...fields } = this.faxes.get(faxId)!;
    return fetch(target, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams(fields as Record<string, string>).toString(),
    });
  }

  /** The provider's URL callback for one inbound fax: a form post with its fields. */
  async postInbound(target: string, faxId: string, fields: Record<string, string> = {}): Promise<Response> {
    const { Mark: _mark, ...rest } = this.inbound.get(faxId) ?? ({} as ReplixInboundFax);
    return fetch(target, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ Direction: 'Inbound', ...(rest as Record<string, string>), ...fields }).toString(),
    });
  }

  marks(faxId: string): number {
    return this.requests.filter((r) => r.method === 'PUT' && r.path.endsWith(`/outboundfaxes/${faxId}`)).length;
  }

  async stop(): Promise<void> {
    await new Promise((resolve) => this.server?.close(resolve));
  }
}
