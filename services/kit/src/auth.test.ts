import { DEFAULT_AUDIENCE, issueToken, safeNext, verifyTokenClaims } from './auth';

/** Where sign-in may lead (the session cookie itself is tested in web.test.ts). */
describe('the pages session', () => {
  it('leads only to a path on this site, else to the fallback', () => {
    expect(safeNext('/faxes/fax-p1?lang=ru', '/faxes')).toBe('/faxes/fax-p1?lang=ru');
    expect(safeNext('/settings', '/faxes')).toBe('/settings');
    for (const next of [
      '//evil.example/x',
      'https://evil.example/',
      '/\\evil.example',
      'javascript:alert(1)',
      '/a\nb',
      '',
      undefined,
      42,
      `/${'x'.repeat(2000)}`,
    ]) {
      expect(safeNext(next, '/settings')).toBe('/settings');
    }
  });
});

describe('bearer and session tokens', () => {
  const options = { secret: 'auth-test-secret-0123456789abcdef' };
  /** A token signed with the right secret, made by hand with or without `aud` and `exp`. */
  const handMade = async (claims: { aud?: string; exp?: string }) => {
    const { SignJWT } = await import('jose');
    const jwt = new SignJWT({}).setProtectedHeader({ alg: 'HS256' }).setSubject('alice').setIssuer('faxnotify').setIssuedAt();
    if (claims.aud) jwt.setAudience(claims.aud);
    if (claims.exp) jwt.setExpirationTime(claims.exp);
    return jwt.sign(new TextEncoder().encode(options.secret));
  };

  it('are issued with our audience and an expiry, and accepted', async () => {
    const token = await issueToken(options, 'alice', 600);
    const payload = JSON.parse(Buffer.from(token.split('.')[1], 'base64url').toString()) as Record<string, unknown>;
    expect(payload).toMatchObject({ sub: 'alice', aud: DEFAULT_AUDIENCE, iss: 'faxnotify' });
    expect(payload.exp).toBe((payload.iat as number) + 600);
    expect(await verifyTokenClaims(options, token)).toMatchObject({ userId: 'alice', expiresAt: payload.exp });
  });

  it('are refused without an audience, with another one, or without an expiry', async () => {
    const withoutAudience = await handMade({ exp: '10m' });
    const otherAudience = await handMade({ exp: '10m', aud: 'someone-else' });
    const withoutExpiry = await handMade({ aud: DEFAULT_AUDIENCE });
    const good = await handMade({ exp: '10m', aud: DEFAULT_AUDIENCE });
    expect(await verifyTokenClaims(options, withoutAudience)).toBeNull();
    expect(await verifyTokenClaims(options, otherAudience)).toBeNull();
    expect(await verifyTokenClaims(options, withoutExpiry)).toBeNull();
    expect(await verifyTokenClaims(options, good)).toMatchObject({ userId: 'alice' });
    // A service configured with its own audience takes only tokens made for it.
    expect(await verifyTokenClaims({ ...options, audience: 'fax-pages' }, good)).toBeNull();
    expect(await verifyTokenClaims({ ...options, audience: 'fax-pages' }, await issueToken({ ...options, audience: 'fax-pages' }, 'alice'))).not.toBeNull();
  });
});
