import { createServer, type Server } from 'node:http';

/**
 * A ReplixFax REST API at the HTTP boundary, answering the way its documentation describes:
 * HTTP Basic authentication; `GET /outboundfaxes?FaxStatus=…&Mark=false` lists outbound faxes in
 * that status not yet marked, as JSON with a RequestStatus; `PUT /outboundfaxes/{FaxId}?Mark=true`
 * marks one. It can post its URL callback (form fields) to a target, and be told to fail marks.
 */
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

  marks(faxId: string): number {
    return this.requests.filter((r) => r.method === 'PUT' && r.path.endsWith(`/outboundfaxes/${faxId}`)).length;
  }

  async stop(): Promise<void> {
    await new Promise((resolve) => this.server?.close(resolve));
  }
}
