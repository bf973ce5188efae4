import { SESSION_COOKIE, issueToken, signedCookieValue } from '@faxnotify/kit';
import { TEST_SECRET, startTestApp, type TestApp } from '../testing/app';
import { received } from '../testing/received';

/** The Inbox pages as served (complete without JavaScript): sign-in first, each language, the sender's text escaped, images in scope only. */
let service: TestApp;

beforeAll(async () => {
  service = await startTestApp('inbox-pages', {});
  await service.tracker.handle(received('rx-html-1', 'vera', { remoteCsid: '<img src=x onerror=alert(1)>' }));
});

afterAll(async () => {
  await service?.close();
});

const cookieFor = async (user: string) =>
  `${SESSION_COOKIE}=${encodeURIComponent(signedCookieValue(TEST_SECRET, await issueToken({ secret: TEST_SECRET }, user, 3600)))}`;
const page = async (path: string, headers: Record<string, string> = {}) => {
  const response = await fetch(`${service.url}${path}`, { headers, redirect: 'manual' });
  return { status: response.status, type: response.headers.get('content-type'), html: await response.text(), headers: response.headers };
};

it('answers a signed-out visitor as every page does without an identity provider: the 401 page, nothing of the fax', async () => {
  for (const path of ['/inbox', '/inbox/rx-html-1']) {
    const answer = await page(path);
    expect(answer.status).toBe(401);
    expect(answer.html).not.toContain('rx-html-1/pages');
  }
  expect((await page('/inbox/rx-html-1/pages/1.png')).status).toBe(401);
});

it.each([
  ['en', 'Inbox', 'Received', 'Download PDF'],
  ['ru', 'Входящие', 'Получен', 'Скачать PDF'],
  ['it', 'In arrivo', 'Ricevuto', 'Scarica PDF'],
])('shows the Inbox and the fax in %s, the CSID as text', async (lang, inbox, status, download) => {
  const cookie = await cookieFor('vera');
  const list = await page(`/inbox?lang=${lang}`, { cookie });
  expect(list.status).toBe(200);
  expect(list.html).toContain(`<h1>${inbox}</h1>`);
  expect(list.html).toContain(status);
  expect(list.html).toContain('[&lt;img src&#x3D;x onerror&#x3D;alert(1)&gt;]');
  expect(list.html).not.toContain('<img src=x');
  const fax = await page(`/inbox/rx-html-1?lang=${lang}`, { cookie });
  expect(fax.status).toBe(200);
  expect(fax.html).toContain(download);
  expect(fax.html).toContain('src="/inbox/rx-html-1/pages/1.png"');
  expect(fax.html).toContain('href="/v1/received/rx-html-1/pdf"');
});

it('serves the page images to the owner only', async () => {
  const png = await page('/inbox/rx-html-1/pages/2.png', { cookie: await cookieFor('vera') });
  expect(png.status).toBe(200);
  expect(png.type).toBe('image/png');
  expect((await page('/inbox/rx-html-1/pages/3.png', { cookie: await cookieFor('vera') })).status).toBe(404);
  expect((await page('/inbox/rx-html-1/pages/1.png', { cookie: await cookieFor('walt') })).status).toBe(404);
  expect((await page('/inbox/rx-html-1', { cookie: await cookieFor('walt') })).status).toBe(404);
});
