import type { FastifyReply, FastifyRequest } from 'fastify';
import type { Kysely } from 'kysely';
import { faxVersion } from './folder';
import type { FaxScope } from './offices/scope';
import type { TrackerDatabase } from './schema';

/**
 * Live updates of one fax as server-sent events (`GET /v1/faxes/:faxId/events`): an `update`
 * event each time something the fax page shows changed, `end` once the fax has been final for
 * `tailMs` (the notices about it arrive in that time), comments as heartbeats.
 *
 * Each stream reads the database every `pollMs` rather than listening to this replica's handlers:
 * the event may have been handled by another replica, and the database is what they share.
 */
export interface LiveUpdateOptions {
  pollMs: number;
  tailMs: number;
  heartbeatMs: number;
}

const DEFAULTS: LiveUpdateOptions = { pollMs: 1000, tailMs: 60_000, heartbeatMs: 15_000 };

/** The streams one server has open, so closing it ends them instead of waiting for the browsers. */
export type LiveStreams = Set<() => void>;

export function endLiveStreams(streams: LiveStreams): void {
  for (const end of [...streams]) end();
}

export async function streamFaxEvents(
  db: Kysely<TrackerDatabase>,
  request: FastifyRequest,
  reply: FastifyReply,
  owner: string | FaxScope,
  faxId: string,
  overrides: Partial<LiveUpdateOptions>,
  streams: LiveStreams,
): Promise<void> {
  const options = { ...DEFAULTS, ...overrides };
  const first = await faxVersion(db, owner, faxId);
  if (!first) {
    await reply.code(404).send({ error: 'not_found', message: 'no such fax' });
    return;
  }
  reply.hijack();
  const res = reply.raw;
  res.writeHead(200, {
    'content-type': 'text/event-stream; charset=utf-8',
    'cache-control': 'no-store',
    connection: 'keep-alive',
    'x-content-type-options': 'nosniff',
  });
  const send = (event: string, data: unknown) => res.write(`event: ${event}\ndata: ${JSON.stringify(data)}\n\n`);
  res.write('retry: 3000\n\n');
  send('state', { state: first.state });

  let version = first.version;
  let finalSince: number | null = first.state === 'in_progress' ? null : first.finalAt ? Math.min(Date.now(), Date.parse(first.finalAt)) : Date.now();
  let closed = false;

  const close = () => {
    if (closed) return;
    closed = true;
    clearInterval(poll);
    clearInterval(heartbeat);
    streams.delete(end);
    res.end();
  };
  const end = () => {
    if (closed) return;
    send('end', {});
    close();
  };
  streams.add(end);
  request.raw.on('close', close);

  let busy = false;
  const poll = setInterval(() => {
    if (busy || closed) return;
    busy = true;
    faxVersion(db, owner, faxId)
      .then((now) => {
        if (closed) return;
        if (!now) return end();
        if (now.version !== version) {
          version = now.version;
          send('update', { state: now.state });
        }
        if (now.state === 'in_progress') finalSince = null;
        else finalSince ??= Date.now();
        if (finalSince !== null && Date.now() - finalSince >= options.tailMs) end();
      })
      .catch(() => undefined)
      .finally(() => {
        busy = false;
      });
  }, options.pollMs);
  const heartbeat = setInterval(() => {
    if (!closed) res.write(': keep-alive\n\n');
  }, options.heartbeatMs);
  poll.unref();
  heartbeat.unref();
  if (finalSince !== null && Date.now() - finalSince >= options.tailMs) end();
}
