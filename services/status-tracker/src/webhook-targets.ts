import type { LookupAddress, LookupAllOptions } from 'node:dns';
import { lookup as resolveAll } from 'node:dns/promises';
import { isIP, type LookupFunction } from 'node:net';
import ipaddr from 'ipaddr.js';

type Address = ipaddr.IPv4 | ipaddr.IPv6;
type Range = [Address, number];

/** A webhook target that is not allowed; a delivery that meets one fails for good. */
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

const PUBLIC_ONLY = 'webhooks are sent only to public addresses';

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
 * Where webhooks may go. An owner names the URL, and the service POSTs to it from inside the
 * deployment, so a URL pointing at loopback, link-local (cloud metadata at 169.254.169.254),
 * private or other special-purpose addresses would let any user make the service call its own
 * neighbours. Only public unicast addresses are allowed, plus the ranges the operator lists.
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
  private readonly resolve: AddressResolver;

  /**
   * @param allowedPrivateRanges CIDR ranges allowed although they are not public (an operator's
   *   own receivers on an internal network); throws on an entry that is not a range.
   * @param resolve name resolution, the system's (getaddrinfo) unless a test gives its own.
   */
  constructor(allowedPrivateRanges: readonly string[] = [], resolve: AddressResolver = (hostname, options) => resolveAll(hostname, options)) {
    this.allowed = parseAddressRanges(allowedPrivateRanges);
    this.resolve = resolve;
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
   * The check when a webhook URL is set: an http(s) URL without a user name or password whose
   * host, when it is an address or `localhost`, is allowed. Returns the problem in words, or null.
   * Other host names are judged by what they resolve to, at every delivery.
   */
  checkUrl(url: URL): string | null {
    const problem = this.checkBeforeConnect(url);
    if (problem || !isLocalhostName(url.hostname) || !this.blockedAddress('127.0.0.1')) return problem;
    return `url's host ${url.hostname} is a loopback name; ${PUBLIC_ONLY}`;
  }

  /**
   * The check before each POST: scheme, credentials and a literal address. A host name is left to
   * {@link lookup}, which judges the addresses it really resolves to when the socket connects.
   */
  checkBeforeConnect(url: URL): string | null {
    if (url.protocol !== 'http:' && url.protocol !== 'https:') return `url must use http or https, not ${url.protocol.replace(/:$/, '')}`;
    if (url.username !== '' || url.password !== '') return 'url must not carry a user name or password: receivers check the X-Faxnotify-Signature header instead';
    const literal = literalAddress(url.hostname);
    const blocked = literal === undefined ? null : this.blockedAddress(literal);
    return blocked ? `url's host ${url.hostname} is ${blocked}; ${PUBLIC_ONLY}` : null;
  }

  /**
   * A `lookup` for the agent that makes the POSTs: it resolves the name to all its addresses,
   * fails with a {@link WebhookTargetBlockedError} if any of them is not allowed, and otherwise
   * hands exactly those addresses to the socket, which connects to one of them.
   */
  readonly lookup: LookupFunction = (hostname, options, callback) => {
    this.resolve(hostname, { family: options.family, hints: options.hints, all: true }).then(
      (addresses) => {
        for (const { address } of addresses) {
          const blocked = this.blockedAddress(address);
          if (blocked) {
            callback(new WebhookTargetBlockedError(`${hostname} resolves to ${address}, ${blocked}; ${PUBLIC_ONLY}`), options.all ? [] : '');
            return;
          }
        }
        if (addresses.length === 0) {
          const error: NodeJS.ErrnoException = new Error(`getaddrinfo ENOTFOUND ${hostname}`);
          error.code = 'ENOTFOUND';
          callback(error, options.all ? [] : '');
        } else if (options.all) callback(null, addresses);
        else callback(null, addresses[0]!.address, addresses[0]!.family);
      },
      (error: NodeJS.ErrnoException) => callback(error, options.all ? [] : ''),
    );
  };
}
