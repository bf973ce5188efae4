import { createServer, type Server } from 'node:http';

/**
 * Fax.Plus's REST API at the HTTP boundary as far as received faxes need it: `GET
 * /accounts/self/files/{fileId}?format=pdf|tiff` answers a stored file to a bearer token (the
 * account's personal access token), 401 to any other. It can be told to fail downloads, and posts
 * its webhooks (JSON, `{ hook, data }`) to a target.
 */
export class FakeFaxPlus {
  readonly files = new Map<string, { contentType: string; data: Buffer }>();
  readonly downloads: string[] = [];
  /** Answer downloads with HTTP 503 while true. */
  failDownloads = false;
  private server?: Server;
  url = '';

  constructor(readonly token: string) {}

  async start(): Promise<void> {
    this.server = createServer((request, response) => {
      const url = new URL(request.url ?? '/', 'http://faxplus.invalid');
      const reply = (code: number, body: unknown) => response.writeHead(code, { 'content-type': 'application/json' }).end(JSON.stringify(body));
      if (request.headers.authorization !== `Bearer ${this.token}`) return reply(401, { error: 'invalid_token', description: 'The access token is not valid' });
      const file = /^\/v3\/accounts\/self\/files\/([^/]+)$/.exec(url.pathname);
      if (request.method === 'GET' && file) {
        const id = decodeURIComponent(file[1]);
        this.downloads.push(id);
        const stored = this.files.get(id);
        if (!stored) return reply(404, { error: 'not_found', description: 'File not found' });
        if (this.failDownloads) return reply(503, { error: 'unavailable', description: 'Try again later' });
        return response.writeHead(200, { 'content-type': stored.contentType }).end(stored.data);
      }
      return reply(404, { error: 'not_found', description: 'No such route' });
    });
    await new Promise<void>((resolve) => this.server!.listen(0, '127.0.0.1', resolve));
    this.url = `http://127.0.0.1:${(this.server.address() as { port: number }).port}/v3`;
  }

  /** A webhook post of the kind Fax.Plus sends. */
  post(target: string, body: unknown): Promise<Response> {
    return fetch(target, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
  }

  async stop(): Promise<void> {
    await new Promise((resolve) => this.server?.close(resolve));
  }
}
