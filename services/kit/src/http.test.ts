import { Writable } from 'node:stream';
import pino from 'pino';
import { createHttpServer, redactRequestUrl } from './http';

/** What the HTTP server logs of a request: never a credential its address carries. */
it('redacts link tokens and credential parameters from request addresses', () => {
  expect(redactRequestUrl('/l/oAb_CMOm4aNXFxu8KghBuq2A')).toBe('/l/[redacted]');
  expect(redactRequestUrl('/l/oAb_CMOm4aNXFxu8KghBuq2A?lang=ru')).toBe('/l/[redacted]?lang=ru');
  expect(redactRequestUrl('/login?token=eyJhbGciOi.x.y&next=%2Ffaxes')).toBe('/login?token=[redacted]&next=%2Ffaxes');
  expect(redactRequestUrl('/auth/callback?code=abc&state=def&iss=x')).toBe('/auth/callback?code=[redacted]&state=[redacted]&iss=x');
  expect(redactRequestUrl('/x?TOKEN=1&%74oken=2&tokens=3')).toBe('/x?TOKEN=[redacted]&%74oken=[redacted]&tokens=3');
  expect(redactRequestUrl('/faxes/fax-1?lang=en')).toBe('/faxes/fax-1?lang=en');
  expect(redactRequestUrl('/labels/l/x')).toBe('/labels/l/x');
  expect(redactRequestUrl('/unsubscribe/YWxpY2U.email.0123456789abcdefghijkl')).toBe('/unsubscribe/[redacted]');
  expect(redactRequestUrl('/labels/unsubscribe/x')).toBe('/labels/unsubscribe/x');
});

it("logs a failing request's address without the token in it", async () => {
  const lines: string[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _encoding, done) {
      lines.push(chunk.toString('utf8'));
      done();
    },
  });
  const app = createHttpServer({ host: '127.0.0.1', port: 0, logger: pino({ level: 'trace' }, sink), ready: () => ({}) });
  app.get('/l/:token', async () => {
    throw new Error('the handler failed');
  });
  const response = await app.inject({ method: 'GET', url: '/l/SECRETTOKEN0123456789abc?token=SECRETQUERY' });
  expect(response.statusCode).toBe(500);
  await app.close();
  const log = lines.join('');
  // The failure is logged, with the request it was for...
  expect(log).toContain('the handler failed');
  expect(log).toContain('/l/[redacted]?token=[redacted]');
  // ...and neither credential.
  expect(log).not.toContain('SECRETTOKEN');
  expect(log).not.toContain('SECRETQUERY');
});
