import { safeNext } from './auth';

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
