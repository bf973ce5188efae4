import type { LookupAddress, LookupOptions } from 'node:dns';
import { PROVIDER_BASE_URLS, WebhookTargetBlockedError, WebhookTargets, parseAddressRanges } from './webhook-targets';

/** What the agent's lookup hands the socket, or the error it fails with. */
const lookUp = (targets: WebhookTargets, hostname: string, options: LookupOptions) =>
  new Promise<{ address: string | LookupAddress[]; family?: number }>((resolve, reject) =>
    targets.lookup(hostname, options, (error, address, family) => (error ? reject(error) : resolve({ address, family }))),
  );

/** A resolver answering from a table, as DNS would for these names. */
const fakeDns = (table: Record<string, LookupAddress[]>) => async (hostname: string) => {
  const answer = table[hostname];
  if (!answer) throw Object.assign(new Error(`getaddrinfo ENOTFOUND ${hostname}`), { code: 'ENOTFOUND' });
  return answer;
};

describe('webhook targets', () => {
  it('allows public unicast addresses and names what is wrong with every other kind', () => {
    const targets = new WebhookTargets();
    expect(targets.blockedAddress('93.184.216.34')).toBeNull();
    expect(targets.blockedAddress('2606:4700:4700::1111')).toBeNull();
    const blocked: Array<[string, string]> = [
      ['127.0.0.1', 'a loopback address'],
      ['127.8.9.10', 'a loopback address'],
      ['::1', 'a loopback address'],
      ['169.254.169.254', 'a link-local address'],
      ['fe80::1', 'a link-local address'],
      ['10.0.0.5', 'a private (RFC 1918) address'],
      ['172.16.0.1', 'a private (RFC 1918) address'],
      ['192.168.1.1', 'a private (RFC 1918) address'],
      ['fd12:3456::1', 'a private (unique local, fc00::/7) address'],
      ['100.64.0.1', 'a shared (carrier-grade NAT) address'],
      ['0.0.0.0', 'an unspecified address'],
      ['::', 'an unspecified address'],
      ['224.0.0.1', 'a multicast address'],
      // IPv4 reached through IPv6 forms is judged as the IPv4 address.
      ['::ffff:127.0.0.1', 'a loopback address'],
      ['::ffff:a9fe:a9fe', 'a link-local address'],
      ['64:ff9b::a00:5', 'a special-purpose address (rfc6052)'],
      ['2002:a00:5::1', 'a special-purpose address (6to4)'],
      ['not-an-address', 'not an IP address'],
    ];
    for (const [address, why] of blocked) expect([address, targets.blockedAddress(address)]).toEqual([address, why]);
  });

  it('allows the ranges an operator lists, and nothing next to them', () => {
    const targets = new WebhookTargets(['10.20.0.0/16', ' fd00:1::/64 ', '192.168.1.7', '']);
    expect(targets.blockedAddress('10.20.255.1')).toBeNull();
    expect(targets.blockedAddress('::ffff:10.20.0.1')).toBeNull();
    expect(targets.blockedAddress('fd00:1::9')).toBeNull();
    expect(targets.blockedAddress('192.168.1.7')).toBeNull();
    expect(targets.blockedAddress('10.21.0.1')).toBe('a private (RFC 1918) address');
    expect(targets.blockedAddress('fd00:2::9')).toBe('a private (unique local, fc00::/7) address');
    expect(targets.blockedAddress('192.168.1.8')).toBe('a private (RFC 1918) address');
    expect(targets.blockedAddress('127.0.0.1')).toBe('a loopback address');
  });

  it('reads ranges and names the entry that is not one', () => {
    expect(parseAddressRanges(['127.0.0.0/8', '::1', ' '])).toHaveLength(2);
    expect(() => parseAddressRanges(['10.0.0.0/8', 'intranet'])).toThrow('"intranet" is not a CIDR range');
    expect(() => parseAddressRanges(['10.0.0.0/33'])).toThrow('"10.0.0.0/33" is not a CIDR range');
    expect(() => new WebhookTargets(['256.0.0.0/8'])).toThrow('"256.0.0.0/8" is not a CIDR range');
  });

  it('checks the scheme, credentials and a literal host of a URL', () => {
    const targets = new WebhookTargets();
    const check = (url: string) => targets.checkUrl(new URL(url));
    expect(check('https://hooks.example.test/fax')).toBeNull();
    expect(check('http://93.184.216.34:8080/fax')).toBeNull();
    expect(check('ftp://x/')).toBe('url must use http or https, not ftp');
    expect(check('http://user:pw@example.test/')).toMatch(/^url must not carry a user name or password/);
    expect(check('http://127.0.0.1/')).toBe("url's host 127.0.0.1 is a loopback address; webhooks are sent only to public addresses");
    // The URL parser's normal forms of other spellings of 127.0.0.1 and 169.254.169.254.
    expect(check('http://2130706433/')).toMatch(/^url's host 127\.0\.0\.1 is a loopback address/);
    expect(check('http://0x7f.1/')).toMatch(/^url's host 127\.0\.0\.1 is a loopback address/);
    expect(check('http://[::ffff:169.254.169.254]/')).toMatch(/^url's host \[::ffff:a9fe:a9fe\] is a link-local address/);
    expect(check('http://LocalHost./')).toMatch(/^url's host localhost\. is a loopback name/);
    expect(check('http://api.localhost:3000/')).toMatch(/is a loopback name/);
    expect(new WebhookTargets(['127.0.0.0/8']).checkUrl(new URL('http://localhost:3000/'))).toBeNull();
  });

  it('keeps the ranges and name resolution for provider base URLs, and says so in their words', async () => {
    const providers = new WebhookTargets(['10.20.0.0/16'], fakeDns({ 'replix.internal.test': [{ address: '127.0.0.1', family: 4 }] })).forUse(
      PROVIDER_BASE_URLS,
    );
    const check = (url: string) => providers.checkUrl(new URL(url));
    expect(check('http://10.20.0.7/restapi/v1')).toBeNull();
    expect(check('http://10.0.0.1/')).toBe("baseUrl's host 10.0.0.1 is a private (RFC 1918) address; provider APIs are called only at public addresses");
    expect(check('http://localhost/')).toBe("baseUrl's host localhost is a loopback name; provider APIs are called only at public addresses");
    expect(check('file:///etc/passwd')).toBe('baseUrl must use http or https, not file');
    expect(check('https://u:p@api.example.test/')).toBe('baseUrl must not carry a user name or password: give them as username and password');
    await expect(lookUp(providers, 'replix.internal.test', {})).rejects.toThrow(
      'replix.internal.test resolves to 127.0.0.1, a loopback address; provider APIs are called only at public addresses',
    );
  });

  it('hands the socket the addresses it checked, and refuses a name if any of its addresses is not allowed', async () => {
    const targets = new WebhookTargets(
      [],
      fakeDns({
        'hooks.example.test': [
          { address: '93.184.216.34', family: 4 },
          { address: '2606:4700:4700::1111', family: 6 },
        ],
        'mixed.example.test': [
          { address: '93.184.216.34', family: 4 },
          { address: '10.0.0.5', family: 4 },
        ],
        'metadata.example.test': [{ address: '169.254.169.254', family: 4 }],
      }),
    );
    expect(await lookUp(targets, 'hooks.example.test', { all: true })).toEqual({
      address: [
        { address: '93.184.216.34', family: 4 },
        { address: '2606:4700:4700::1111', family: 6 },
      ],
    });
    expect(await lookUp(targets, 'hooks.example.test', {})).toEqual({ address: '93.184.216.34', family: 4 });
    const mixed = lookUp(targets, 'mixed.example.test', { all: true });
    await expect(mixed).rejects.toBeInstanceOf(WebhookTargetBlockedError);
    await expect(mixed).rejects.toThrow('mixed.example.test resolves to 10.0.0.5, a private (RFC 1918) address; webhooks are sent only to public addresses');
    await expect(lookUp(targets, 'metadata.example.test', {})).rejects.toThrow('resolves to 169.254.169.254, a link-local address');
    await expect(lookUp(targets, 'nowhere.example.test', {})).rejects.toMatchObject({ code: 'ENOTFOUND' });
  });
});
