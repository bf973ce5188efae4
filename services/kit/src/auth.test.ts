import { SESSION_COOKIE, clearedSessionCookie, issueToken, safeNext, sessionCookie, verifyTokenClaims } from './auth';

/** The session cookie both the fax pages and the settings page set, and where sign-in may lead. */
describe('the pages session', () => {
  it('leads only to a path on this site, else to the fallback', () => {
    expect(safeNext('/faxes/fax-p1?lang=ru', '/faxes')).toBe('/faxes/fax-p1?lang=ru');
    expect(safeNext('/settings', '/faxes')).toBe('/settings');
    for (const next of ['//evil.example/x', 'https://evil.example/', '/\\evil.example', 'javascript:alert(1)', '/a\nb', '', undefined, 42, `/${'x'.repeat(2000)}`]) {
      expect(safeNext(next, '/settings')).toBe('/settings');
    }
  });

  it('holds the token for as long as it lasts, HttpOnly and SameSite=Lax, Secure on HTTPS', async () => {
    const options = { secret: 'session-test-secret' };
    const token = await issueToken(options, 'paula', 600);
    const claims = await verifyTokenClaims(options, token);
    const cookie = sessionCookie(token, claims!.expiresAt, false);
    expect(cookie).toMatch(new RegExp(`^${SESSION_COOKIE}=[^;]+; Path=/; Max-Age=(59\\d|600); HttpOnly; SameSite=Lax$`));
    const value = decodeURIComponent(cookie.slice(SESSION_COOKIE.length + 1, cookie.indexOf(';')));
    expect((await verifyTokenClaims(options, value))?.userId).toBe('paula');
    expect(sessionCookie(token, undefined, true)).toMatch(/; Max-Age=3600; HttpOnly; SameSite=Lax; Secure$/);
    expect(clearedSessionCookie(true)).toBe(`${SESSION_COOKIE}=; Path=/; Max-Age=0; HttpOnly; SameSite=Lax; Secure`);
    expect(clearedSessionCookie(false)).toBe(`${SESSION_COOKIE}=; Path=/; Max-Age=0; HttpOnly; SameSite=Lax`);
  });
});
