/**
 * The RADIUS server itself: authentication (RFC 2865) and accounting (RFC 2866) on two UDP ports,
 * one shared secret per client chosen by the datagram's source address, and a short cache of
 * answers so a retransmitted request (same client, identifier and Request Authenticator; RFC 5080
 * §2.2.2) gets the same answer without being handled twice. Whatever arrives that is not a proper
 * request from a known client is dropped and logged: the server never answers it and never fails
 * on it. Every request must carry a correct Message-Authenticator and every reply carries one
 * (BlastRADIUS, CVE-2024-3596); a shared secret shorter than the minimum, or a client range
 * covering every address (/0), stops the server from starting.
 */
import { createSocket, type RemoteInfo, type Socket } from 'node:dgram';
import { BlockList, isIP, type AddressInfo } from 'node:net';
import { Overloaded } from './limit';
import { DroppedPacket, decodeRequest, encodeReply, type DecodedPacket, type ReplyAttribute, type RequestKind } from './packet';

/** A client (or several, behind one address range) allowed to ask, with its shared secret. */
export interface RadiusClientDefinition {
  /** Its source address, or a range in CIDR form (`10.0.0.0/24`). */
  address: string;
  /** At least `minSecretLength` characters. */
  secret: string;
  /**
   * Drop its requests that carry no Message-Authenticator (default true). Set false only for a
   * client that cannot send one (FaxBack's port server sends none): its Access-Requests are then
   * still dropped when they carry Proxy-State, and its replies still carry Message-Authenticator.
   */
  requireMessageAuthenticator?: boolean;
  /** For logs. */
  name?: string;
}

/** The logging the server does, in pino's shape: the fields first, then the message. */
export interface RadiusLogger {
  info(fields: Record<string, unknown>, message: string): void;
  warn(fields: Record<string, unknown>, message: string): void;
  error(fields: Record<string, unknown>, message: string): void;
}

/** What became of a request: accept, reject, response, duplicate, error, or why it was dropped. */
export type RequestOutcome = 'accept' | 'reject' | 'response' | 'duplicate' | 'error' | 'overloaded' | 'unknown-client' | DroppedPacket['why'];

/** The shortest shared secret a client may have unless the server is told otherwise. */
export const DEFAULT_MIN_SECRET_LENGTH = 16;

/** A client definition the server refuses to start with. */
export class RadiusClientError extends Error {}

export interface RadiusClient {
  name: string;
  secret: string;
  requireMessageAuthenticator: boolean;
}

export interface RadiusHandlers {
  /** Answers an Access-Request. Throwing leaves it unanswered (the client asks again or tries its next server). */
  access(packet: DecodedPacket, client: RadiusClient): Promise<{ code: 'Access-Accept' | 'Access-Reject'; attributes: ReplyAttribute[] }>;
  /** Takes an Accounting-Request; the response goes out once this resolves. Throwing leaves it unanswered, so it is resent. */
  accounting(packet: DecodedPacket, client: RadiusClient): Promise<void>;
}

export interface RadiusServerOptions {
  host: string;
  authPort: number;
  acctPort: number;
  clients: readonly RadiusClientDefinition[];
  /** Shared secrets shorter than this refuse the start (default DEFAULT_MIN_SECRET_LENGTH). */
  minSecretLength?: number;
  duplicateCacheMs: number;
  logger: RadiusLogger;
  handlers: RadiusHandlers;
  /** Told of every request's outcome, for metrics. */
  count?: (kind: 'auth' | 'acct', outcome: RequestOutcome) => void;
}

interface ClientEntry extends RadiusClient {
  range: BlockList;
}

interface CachedAnswer {
  /** undefined while the request is being handled. */
  reply?: Buffer;
  expires: number;
}

const KINDS: Record<'auth' | 'acct', RequestKind> = { auth: 'Access-Request', acct: 'Accounting-Request' };
/** How often an address that keeps sending junk is logged, at most. */
const LOG_EVERY_MS = 10_000;

const errorMessage = (error: unknown): string => (error instanceof Error ? error.message : String(error));

/** An IPv4 address as a dual-stack socket reports it (::ffff:192.0.2.1) is the IPv4 address. */
const plainAddress = (address: string): string => (/^::ffff:\d+\.\d+\.\d+\.\d+$/i.test(address) ? address.slice(7) : address);

function clientEntry(definition: RadiusClientDefinition, minSecretLength: number): ClientEntry {
  const name = definition.name ?? definition.address;
  const refuse = (why: string) => new RadiusClientError(`RADIUS client ${name === definition.address ? name : `${name} (${definition.address})`}: ${why}`);
  const [ip, bits, extra] = definition.address.split('/') as [string, string | undefined, string | undefined];
  const version = isIP(ip);
  if (version === 0 || extra !== undefined) throw refuse('the address is not an IP address or a CIDR range');
  const prefix = bits === undefined ? undefined : Number(bits);
  if (prefix !== undefined && (!/^\d{1,3}$/.test(bits ?? '') || prefix > (version === 4 ? 32 : 128))) throw refuse(`${bits} is not a prefix length`);
  if (prefix === 0) throw refuse("a /0 range lets every address on the network ask; name the port servers' addresses or subnet");
  if (definition.secret.length < minSecretLength)
    throw refuse(
      `the shared secret has ${definition.secret.length} characters; at least ${minSecretLength} are needed (a short secret can be guessed from one captured packet)`,
    );
  const family = version === 6 ? 'ipv6' : 'ipv4';
  const range = new BlockList();
  if (prefix === undefined) range.addAddress(ip, family);
  else range.addSubnet(ip, prefix, family);
  return { name, secret: definition.secret, requireMessageAuthenticator: definition.requireMessageAuthenticator ?? true, range };
}

export class RadiusServer {
  private readonly clients: ClientEntry[];
  private readonly answers = new Map<string, CachedAnswer>();
  private readonly inFlight = new Set<Promise<void>>();
  private readonly lastLogged = new Map<string, { at: number; suppressed: number }>();
  private sockets: Socket[] = [];
  private sweeper?: NodeJS.Timeout;
  private stopped = false;

  constructor(private readonly options: RadiusServerOptions) {
    const minSecretLength = options.minSecretLength ?? DEFAULT_MIN_SECRET_LENGTH;
    this.clients = options.clients.map((client) => clientEntry(client, minSecretLength));
  }

  /** Binds both ports; resolves with the addresses bound (a port 0 was chosen by the system). */
  async start(): Promise<{ auth: AddressInfo; acct: AddressInfo }> {
    for (const client of this.clients.filter((c) => !c.requireMessageAuthenticator))
      this.options.logger.warn(
        { client: client.name },
        'RADIUS client allowed to send requests without Message-Authenticator: its Access-Requests with Proxy-State are dropped; prefer a client that signs its requests',
      );
    const auth = await this.bind('auth', this.options.authPort);
    const acct = await this.bind('acct', this.options.acctPort);
    this.sweeper = setInterval(() => this.sweep(), Math.max(1000, Math.floor(this.options.duplicateCacheMs / 2)));
    this.sweeper.unref();
    return { auth, acct };
  }

  private bind(kind: 'auth' | 'acct', port: number): Promise<AddressInfo> {
    const socket = createSocket({ type: isIP(this.options.host) === 6 ? 'udp6' : 'udp4', reuseAddr: false });
    this.sockets.push(socket);
    socket.on('message', (datagram, remote) => this.receive(kind, socket, datagram, remote));
    // A send failing (ICMP unreachable, say) must not take the process down.
    socket.on('error', (error) => this.options.logger.warn({ err: errorMessage(error), kind }, 'RADIUS socket error'));
    return new Promise((resolve, reject) => {
      socket.once('error', reject);
      socket.bind(port, this.options.host, () => {
        socket.off('error', reject);
        resolve(socket.address());
      });
    });
  }

  private clientFor(address: string): ClientEntry | undefined {
    const plain = plainAddress(address);
    const family = isIP(plain) === 6 ? 'ipv6' : 'ipv4';
    return this.clients.find((client) => client.range.check(plain, family));
  }

  private count(kind: 'auth' | 'acct', outcome: RequestOutcome): void {
    this.options.count?.(kind, outcome);
  }

  private dropped(kind: 'auth' | 'acct', remote: RemoteInfo, why: RequestOutcome, message: string, level: 'warn' | 'info' = 'warn'): void {
    this.count(kind, why);
    const key = `${remote.address}|${why}`;
    const now = Date.now();
    const last = this.lastLogged.get(key);
    if (last && now - last.at < LOG_EVERY_MS) {
      last.suppressed++;
      return;
    }
    this.lastLogged.set(key, { at: now, suppressed: 0 });
    this.options.logger[level](
      { kind, from: `${remote.address}:${remote.port}`, why, suppressedSinceLast: last?.suppressed ?? 0 },
      `RADIUS packet dropped: ${message}`,
    );
  }

  private receive(kind: 'auth' | 'acct', socket: Socket, datagram: Buffer, remote: RemoteInfo): void {
    if (this.stopped) return;
    const client = this.clientFor(remote.address);
    if (!client) return this.dropped(kind, remote, 'unknown-client', 'no client is configured for this address');
    if (datagram.length < 20) return this.dropped(kind, remote, 'malformed', `${datagram.length} octets is shorter than a RADIUS header`);
    const cacheKey = `${kind}|${remote.address}|${remote.port}|${datagram[1]}|${datagram.subarray(4, 20).toString('hex')}`;
    const cached = this.answers.get(cacheKey);
    if (cached && cached.expires > Date.now()) {
      this.count(kind, 'duplicate');
      // Still being handled: the first copy's answer will go out.
      if (cached.reply) socket.send(cached.reply, remote.port, remote.address);
      return;
    }

    let packet: DecodedPacket;
    try {
      packet = decodeRequest(datagram, client.secret, KINDS[kind], client.requireMessageAuthenticator);
    } catch (error) {
      if (error instanceof DroppedPacket) return this.dropped(kind, remote, error.why, `${error.message} (client ${client.name})`);
      return this.dropped(kind, remote, 'malformed', `${errorMessage(error)} (client ${client.name})`);
    }

    const entry: CachedAnswer = { expires: Date.now() + this.options.duplicateCacheMs };
    this.answers.set(cacheKey, entry);
    const work = this.handle(kind, client, packet)
      .then((reply) => {
        entry.reply = reply;
        entry.expires = Date.now() + this.options.duplicateCacheMs;
        if (!this.stopped) socket.send(reply, remote.port, remote.address);
      })
      .catch((error: unknown) => {
        // Unanswered: forget it, so the client's next copy is handled afresh.
        this.answers.delete(cacheKey);
        if (error instanceof Overloaded) return this.dropped(kind, remote, 'overloaded', `${error.message} (client ${client.name})`);
        this.count(kind, 'error');
        this.options.logger.error(
          { err: errorMessage(error), kind, client: client.name, identifier: packet.identifier },
          'RADIUS request failed; left unanswered',
        );
      });
    this.inFlight.add(work);
    void work.finally(() => this.inFlight.delete(work));
  }

  private async handle(kind: 'auth' | 'acct', client: ClientEntry, packet: DecodedPacket): Promise<Buffer> {
    if (kind === 'auth') {
      const answer = await this.options.handlers.access(packet, client);
      this.count(kind, answer.code === 'Access-Accept' ? 'accept' : 'reject');
      return encodeReply(packet, answer.code, client.secret, answer.attributes);
    }
    await this.options.handlers.accounting(packet, client);
    this.count(kind, 'response');
    return encodeReply(packet, 'Accounting-Response', client.secret);
  }

  private sweep(): void {
    const now = Date.now();
    for (const [key, entry] of this.answers) if (entry.reply && entry.expires <= now) this.answers.delete(key);
    for (const [key, logged] of this.lastLogged) if (now - logged.at > LOG_EVERY_MS) this.lastLogged.delete(key);
  }

  /** Stops taking requests and waits for those being handled (their answers are not sent). */
  async stop(): Promise<void> {
    this.stopped = true;
    if (this.sweeper) clearInterval(this.sweeper);
    await Promise.allSettled([...this.inFlight]);
    await Promise.all(this.sockets.map((socket) => new Promise<void>((resolve) => socket.close(() => resolve()))));
    this.sockets = [];
  }
}
