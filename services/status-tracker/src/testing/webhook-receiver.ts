import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import { SIGNATURE_HEADER, TIMESTAMP_HEADER, verifyWebhookSignature } from '../webhooks';

export interface ReceivedHook {
  path: string;
  headers: IncomingHttpHeaders;
  body: string;
  verified: boolean;
}

/** A webhook receiver as an owner would write one: it verifies every POST before it accepts it. */
export class WebhookReceiver {
  readonly received: ReceivedHook[] = [];
  private server?: Server;
  port = 0;
  secret = '';

  async start(port = 0): Promise<void> {
    this.server = createServer((request, response) => {
      const chunks: Buffer[] = [];
      request.on('data', (c: Buffer) => chunks.push(c));
      request.on('end', () => {
        const body = Buffer.concat(chunks).toString('utf8');
        const verified = verifyWebhookSignature({
          secret: this.secret,
          timestamp: request.headers[TIMESTAMP_HEADER] as string | undefined,
          signature: request.headers[SIGNATURE_HEADER] as string | undefined,
          body,
        });
        this.received.push({ path: request.url ?? '', headers: request.headers, body, verified });
        // A receiver that moved: a client that followed this would POST the hook again at /hooks/fax.
        if (request.url === '/moved') response.writeHead(307, { location: this.url }).end();
        else response.writeHead(verified ? 204 : 401).end();
      });
    });
    await new Promise<void>((resolve) => this.server!.listen(port, '127.0.0.1', resolve));
    this.port = (this.server.address() as { port: number }).port;
  }

  async stop(): Promise<void> {
    await new Promise((resolve) => this.server?.close(resolve));
    this.server?.closeAllConnections();
  }

  get url(): string {
    return `http://127.0.0.1:${this.port}/hooks/fax`;
  }
}
