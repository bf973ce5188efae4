import type { LookupAddress, LookupAllOptions } from 'node:dns';
import { lookup as resolveAll } from 'node:dns/promises';
import { Agent as HttpAgent, request as httpRequest, type IncomingHttpHeaders } from 'node:http';
import { Agent as HttpsAgent, request as httpsRequest } from 'node:https';
import { isIP, type LookupFunction } from 'node:net';
import ipaddr from 'ipaddr.js';

type Address = ipaddr.IPv4 | ipaddr.IPv6;
type Range = [Address, number];

/** A webhook target (or provider API address) that is not allowed; a delivery that meets one fails for good. */
export class WebhookTargetBlockedError extends Error {
  readonly code = 'ERR_WEBHOOK_TARGET_BLOCKED';
  constructor(message: string) {
    super(message);
    this.name = 'WebhookTargetBlockedError';
  }
}

const RANGE_NAMES: Record<string, string> = {
  unspecified: 'an unspecified address',
  broadcast: 'the broadcast address',
  multicast: 'a multicast address',
  linkLocal: 'a link-local address',
  loopback: 'a loopback address',
  private: 'a private (RFC 1918) address',
  uniqueLocal: 'a private (unique local, fc00::/7) address',
  carrierGradeNat: 'a shared (carrier-grade NAT) address',
  reserved: 'a reserved address',
};

/** What the checked URLs are for, in the words of the refusals. */
export interface TargetUse {
  /** The field that holds the URL: `url`, `baseUrl`. */
  field: string;
  /** The rule a refused address is told. */
  rule: string;
  /** Why the URL may not carry a user name or password, and what to do instead. */
  noCredentials: string;
}

/** Webhook URLs (`PUT /v1/webhooks`). */
export const WEBHOOK_URLS: TargetUse = {
  field: 'url',
  rule: 'webhooks are sent only to public addresses',
  noCredentials: 'receivers check the X-Faxnotify-Signature header instead',
};

/** Provider API base URLs (a ReplixFax account's `baseUrl`, which the poller queries). */
export const PROVIDER_BASE_URLS: TargetUse = {
  field: 'baseUrl',
  rule: 'provider APIs are called only at public addresses',
  noCredentials: 'give them as username and password',
};

const describeRange = (range: string): string => RANGE_NAMES[range] ?? `a special-purpose address (${range})`;

/**
 * Reads a list of CIDR ranges (a bare address stands for itself alone); blank entries are
 * skipped. Throws an Error naming the first entry that is not a range.
 */
export function parseAddressRanges(entries: readonly string[]): Range[] {
  const ranges: Range[] = [];
  for (const raw of entries as readonly unknown[]) {
    if (typeof raw !== 'string') throw new Error(`${JSON.stringify(raw)} is not a CIDR range (a string such as 10.20.0.0/16)`);
    const entry = raw.trim();
    if (entry === '') continue;
    try {
      if (entry.includes('/')) ranges.push(ipaddr.parseCIDR(entry));
      else {
        const address = ipaddr.parse(entry);
        ranges.push([address, address.kind() === 'ipv4' ? 32 : 128]);
      }
    } catch {
      throw new Error(`${JSON.stringify(entry)} is not a CIDR range such as 10.20.0.0/16 or fd00:1::/64`);
    }
  }
  return ranges;
}

/** The host of a URL as an address, when it is one (`[::1]` → ::1); undefined for a name. */
const literalAddress = (hostname: string): string | undefined => {
  const bare = hostname.startsWith('[') && hostname.endsWith(']') ? hostname.slice(1, -1) : hostname;
  return isIP(bare) ? bare : undefined;
};

/** `localhost` and its subdomains are loopback wherever they are resolved (RFC 6761). */
const isLocalhostName = (hostname: string): boolean => /(^|\.)localhost\.?$/i.test(hostname);

export type AddressResolver = (hostname: string, options: LookupAllOptions) => Promise<LookupAddress[]>;

/**
 * Where webhooks may go, and where provider API requests may go (the same policy, refused in the
 * words of a {@link TargetUse}: see {@link WebhookTargets.forUse}). An owner names the URL, and the
 * service calls it from inside the deployment, so a URL pointing at loopback, link-local (cloud
 * metadata at 169.254.169.254), private or other special-purpose addresses would let any user make
 * the service call its own neighbours. Only public unicast addresses are allowed, plus the ranges
 * the operator lists.
 *
 * Checked when a URL is set ({@link WebhookTargets.checkUrl}: scheme, credentials, a literal
 * address, `localhost`), again before each POST ({@link WebhookTargets.checkBeforeConnect}: the
 * allowed ranges may have changed), and when each POST connects ({@link WebhookTargets.lookup},
 * given to the HTTP agent): the host name is resolved there, every address it resolves to must be
 * allowed, and the socket connects to the addresses that were checked, so a DNS answer that
 * changes between a check and the connection cannot get around it.
 */
export class WebhookTargets {
  private readonly allowed: Range[];

  /**
   * @param allowedPrivateRanges CIDR ranges allowed although they are not public (an operator's
   *   own receivers on an internal network); throws on an entry that is not a range.
   * @param resolve name resolution, the system's (getaddrinfo) unless a test gives its own.
   * @param use what the URLs are for, as the refusals name it: webhook URLs unless told otherwise.
   */
  constructor(
    private readonly allowedPrivateRanges: readonly string[] = [],
    private readonly resolve: AddressResolver = (hostname, options) => resolveAll(hostname, options),
    readonly use: TargetUse = WEBHOOK_URLS,
  ) {
    this.allowed = parseAddressRanges(allowedPrivateRanges);
  }

  /** The same policy (allowed ranges, name resolution) for URLs of another use, refused in its words. */
  forUse(use: TargetUse): WebhookTargets {
    return new WebhookTargets(this.allowedPrivateRanges, this.resolve, use);
  }

  /** An HTTP client whose requests go only where this policy allows; see {@link TargetClient}. */
  client(): TargetClient {
    return new TargetClient(this);
  }

  /** Why a webhook may not go to `address` ("a loopback address", …), or null when it may. */
  blockedAddress(address: string): string | null {
    let parsed: Address;
    try {
      // An IPv4-mapped IPv6 address (::ffff:127.0.0.1) is judged as the IPv4 address it reaches.
      parsed = ipaddr.process(address);
    } catch {
      return 'not an IP address';
    }
    const range = parsed.range();
    if (range === 'unicast') return null;
    if (this.allowed.some(([base, bits]) => base.kind() === parsed.kind() && parsed.match(base, bits))) return null;
    return describeRange(range);
  }

  /**
   * The check when a URL is set (a webhook URL, a provider base URL): an http(s) URL without a
   * user name or password whose host, when it is an address or `localhost`, is allowed. Returns
   * the problem in words, or null. Other host names are judged by what they resolve to, at every
   * request.
   */
  checkUrl(url: URL): string | null {
    const problem = this.checkBeforeConnect(url);
    if (problem || !isLocalhostName(url.hostname) || !this.blockedAddress('127.0.0.1')) return problem;
    return `${this.use.field}'s host ${url.hostname} is a loopback name; ${this.use.rule}`;
  }

  /**
   * The check before each request: scheme, credentials and a literal address. A host name is left
   * to {@link lookup}, which judges the addresses it really resolves to when the socket connects.
   */
  checkBeforeConnect(url: URL): string | null {
    const { field, rule, noCredentials } = this.use;
    if (url.protocol !== 'http:' && url.protocol !== 'https:') return `${field} must use http or https, not ${url.protocol.replace(/:$/, '')}`;
    if (url.username !== '' || url.password !== '') return `${field} must not carry a user name or password: ${noCredentials}`;
    const literal = literalAddress(url.hostname);
    const blocked = literal === undefined ? null : this.blockedAddress(literal);
    return blocked ? `${field}'s host ${url.hostname} is ${blocked}; ${rule}` : null;
  }

  /**
   * A `lookup` for the agents that make the requests: it resolves the name to all its addresses,
   * fails with a {@link WebhookTargetBlockedError} if any of them is not allowed, and otherwise
   * hands exactly those addresses to the socket, which connects to one of them.
   */
  readonly lookup: LookupFunction = (hostname, options, callback) => {
    this.resolve(hostname, { family: options.family, hints: options.hints, all: true }).then(
      (addresses) => {
        for (const { address } of addresses) {
          const blocked = this.blockedAddress(address);
          if (blocked) {
            callback(new WebhookTargetBlockedError(`${hostname} resolves to ${address}, ${blocked}; ${this.use.rule}`), options.all ? [] : '');
            return;
          }
        }
        if (addresses.length === 0) {
          const error: NodeJS.ErrnoException = new Error(`getaddrinfo ENOTFOUND ${hostname}`);
          error.code = 'ENOTFOUND';
          callback(error, options.all ? [] : '');
        } else if (options.all) callback(null, addresses);
        else callback(null, addresses[0].address, addresses[0].family);
      },
      (error: unknown) => callback(error instanceof Error ? error : new Error(String(error)), options.all ? [] : ''),
    );
  };
}

/** An answer to a {@link TargetClient} request. */
export interface TargetResponse {
  status: number;
  headers: IncomingHttpHeaders;
  /** The body as read: at most the request's `maxResponseBytes`. */
  body: Buffer;
  /** False when the body is not all of it: longer than `maxResponseBytes`, or cut short. */
  complete: boolean;
}

export interface TargetRequest {
  method: string;
  headers?: Record<string, string>;
  body?: string;
  /** The whole exchange, connection to last byte; then the request fails. */
  timeoutMs: number;
  /** Read at most this much of the answer; the rest is dropped and the answer is not complete. */
  maxResponseBytes: number;
}

/**
 * HTTP requests that go only where a {@link WebhookTargets} policy allows: each URL is checked
 * before connecting ({@link WebhookTargets.checkBeforeConnect}), and the client's own agents
 * resolve every host name through {@link WebhookTargets.lookup}, so the socket connects only to
 * addresses that were checked (a DNS answer that changes after a URL was set cannot reach an
 * internal address). A refusal rejects with a {@link WebhookTargetBlockedError}. Redirects are not
 * followed: a 3xx is an answer like any other.
 */
export class TargetClient {
  private readonly agents: { http: HttpAgent; https: HttpsAgent };

  constructor(private readonly targets: WebhookTargets) {
    this.agents = { http: new HttpAgent({ lookup: targets.lookup }), https: new HttpsAgent({ lookup: targets.lookup }) };
  }

  request(url: URL, options: TargetRequest): Promise<TargetResponse> {
    const problem = this.targets.checkBeforeConnect(url);
    if (problem) return Promise.reject(new WebhookTargetBlockedError(problem));
    const secure = url.protocol === 'https:';
    const { timeoutMs, maxResponseBytes, body } = options;
    return new Promise((resolve, reject) => {
      const request = (secure ? httpsRequest : httpRequest)(url, {
        method: options.method,
        headers: { ...options.headers, ...(body === undefined ? {} : { 'content-length': String(Buffer.byteLength(body)) }) },
        agent: secure ? this.agents.https : this.agents.http,
      });
      const timer = setTimeout(() => request.destroy(new Error(`no response within ${timeoutMs} ms`)), timeoutMs);
      request.on('response', (response) => {
        const chunks: Buffer[] = [];
        let size = 0;
        let overflow = false;
        response.on('data', (chunk: Buffer) => {
          if (overflow) return;
          if (size + chunk.length > maxResponseBytes) {
            chunks.push(chunk.subarray(0, maxResponseBytes - size));
            size = maxResponseBytes;
            overflow = true;
            response.destroy();
            return;
          }
          chunks.push(chunk);
          size += chunk.length;
        });
        response.on('error', () => undefined); // an answer cut short is reported as not complete
        response.on('close', () => {
          clearTimeout(timer);
          resolve({ status: response.statusCode ?? 0, headers: response.headers, body: Buffer.concat(chunks), complete: response.complete && !overflow });
        });
      });
      request.on('error', (error) => {
        clearTimeout(timer);
        reject(error);
      });
      request.end(body);
    });
  }

  /** Closes the connections the client holds. */
  close(): void {
    this.agents.http.destroy();
    this.agents.https.destroy();
  }
}
