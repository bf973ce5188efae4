import type { startStack } from '../support/stack';

type Stack = Awaited<ReturnType<typeof startStack>>;

const LINK = /http:\/\/127\.0\.0\.1:\d+\/l\/[A-Za-z0-9_-]{24}/;

/**
 * The link of the sample fax's first email, followed as a browser that never signed in follows
 * it: the link token gives that browser the fax page (and nothing else), no token pasted anywhere.
 */
export async function showNoticeLink(stack: Stack, faxId: string, say: (text: string) => void): Promise<string> {
  const mail = stack.smtp.mails.find((m) => typeof m.text === 'string' && LINK.test(m.text));
  const link = mail && typeof mail.text === 'string' ? LINK.exec(mail.text)?.[0] : undefined;
  if (!link) throw new Error('no email carried a link to its fax');
  say('\n──────── the link in the first email, followed by a browser that never signed in ────────');
  const opened = await fetch(link, { redirect: 'manual' });
  const grant = opened.headers
    .getSetCookie()
    .map((c) => c.split(';')[0])
    .join('; ');
  const location = opened.headers.get('location') ?? '';
  say(`GET ${link} -> ${opened.status} to ${location}, with a cookie granting that one fax (HttpOnly, SameSite=Lax)`);
  const page = await fetch(`${stack.tracker.url}${location}`, { headers: { cookie: grant }, redirect: 'manual' });
  const html = await page.text();
  const title = /<title>([^<]*)<\/title>/.exec(html)?.[1] ?? '';
  if (page.status !== 200 || location !== `/faxes/${faxId}`) throw new Error(`the link did not open the fax page (${page.status} at ${location})`);
  say(
    `GET ${location} -> ${page.status}: the fax page "${title}", recipients +12025550101, +12025550102, +12025550103 listed: ${html.includes('+12025550103') ? 'yes' : 'NO'}`,
  );
  const folder = await fetch(`${stack.tracker.url}/faxes`, { headers: { cookie: grant }, redirect: 'manual' });
  say(`GET /faxes with the same cookie -> ${folder.status}: the Sent folder and every other page still ask for a sign-in`);
  say(`Open the fax in a browser, no sign-in: ${link}`);
  return link;
}
