import Fastify, { type FastifyBaseLogger, type FastifyInstance, type FastifyReply, type FastifyRequest } from 'fastify';
import { collectDefaultMetrics, register } from 'prom-client';
import type { Logger } from './logger';

let defaultMetricsOn = false;

export interface HttpOptions {
  host: string;
  port: number;
  logger: Logger;
  /** Fastify's `trustProxy` (see `trustProxyOption`): whose X-Forwarded-* headers set the request's protocol, host and address. */
  trustProxy?: boolean | string[] | ((address: string, hop: number) => boolean);
  /** Readiness: every dependency the service needs to do its work. */
  ready: () => Promise<Record<string, boolean>> | Record<string, boolean>;
}

/**
 * The service's HTTP server with `/healthz` (the process answers), `/readyz` (its broker and
 * database are reachable) and Prometheus `/metrics`. Routes are added before `listen`.
 */
export function createHttpServer(options: HttpOptions): FastifyInstance {
  if (!defaultMetricsOn) {
    collectDefaultMetrics();
    defaultMetricsOn = true;
  }
  // Request lines are noise at info level; keep warnings and errors (or less, if the service is quieter).
  const level = options.logger.levelVal > 40 ? options.logger.level : 'warn';
  // Typed as fastify's logger so the instance is the plain FastifyInstance the services expect.
  // A request's address may carry a credential (a notice's link token, a sign-in code): logged without it.
  const serializers = {
    req: (request: FastifyRequest) => ({ method: request.method, url: redactRequestUrl(request.url), host: request.host, remoteAddress: request.ip }),
  };
  const loggerInstance: FastifyBaseLogger = options.logger.child({ component: 'http' }, { level, serializers });
  const app = Fastify({ loggerInstance, bodyLimit: 1_048_576, trustProxy: options.trustProxy ?? false });
  app.get('/healthz', async () => ({ status: 'ok' }));
  app.get('/readyz', async (_request: FastifyRequest, reply: FastifyReply) => {
    const checks = await options.ready();
    const ok = Object.values(checks).every(Boolean);
    return reply.code(ok ? 200 : 503).send({ status: ok ? 'ready' : 'not ready', checks });
  });
  app.get('/metrics', async (_request, reply) => reply.type(register.contentType).send(await register.metrics()));
  return app;
}

/** Query parameters whose values are credentials: a pasted bearer token, an OpenID Connect code, state or token. */
const SECRET_PARAMETERS = ['token', 'access_token', 'id_token', 'id_token_hint', 'code', 'state'];

/**
 * A request's path and query as they may be logged: a notice link's token (`/l/<token>`), an
 * unsubscribe link's (`/unsubscribe/<token>`) and the values of credential parameters (`?token=`,
 * `?code=` …) replaced by `[redacted]`.
 */
export function redactRequestUrl(url: string): string {
  const at = url.indexOf('?');
  const path = (at < 0 ? url : url.slice(0, at)).replace(/^\/(l|unsubscribe)\/[^/]*/, '/$1/[redacted]');
  if (at < 0) return path;
  const query = url
    .slice(at + 1)
    .split('&')
    .map((pair) => {
      const eq = pair.indexOf('=');
      const name = eq < 0 ? pair : pair.slice(0, eq);
      let decoded = name;
      try {
        decoded = decodeURIComponent(name.replace(/\+/g, ' '));
      } catch {
        // An undecodable name is matched as it is.
      }
      return eq >= 0 && SECRET_PARAMETERS.includes(decoded.toLowerCase()) ? `${name}=[redacted]` : pair;
    })
    .join('&');
  return `${path}?${query}`;
}

/** Starts listening; returns the base URL (the port may have been chosen by the system). */
export async function listen(app: FastifyInstance, host: string, port: number): Promise<string> {
  await app.listen({ host, port });
  const address = app.server.address();
  const actualPort = typeof address === 'object' && address ? address.port : port;
  return `http://${host}:${actualPort}`;
}
