import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { MessageBus, createLogger } from '@faxnotify/kit';
import { CHROMIUM_LAUNCH, collectCspViolations, eventually, type CspViolation } from '@faxnotify/peers';
import { scriptFaxEvents, type ScriptedFax, type ScriptedRecipient } from '@faxnotify/transmitter';
import { chromium, type BrowserContext, type Page } from 'playwright-core';
import { startStack, type Stack } from '../support/stack';

/**
 * The fax summary end to end, as separate processes: a 40-recipient fax goes from the
 * transmitter's events through RabbitMQ, the status tracker and the notifier to a real SMTP
 * server as one summary email; its rows, read in Chromium, are the rows of the fax page its link opens.
 */
jest.setTimeout(240_000);

const LINK = /http:\/\/127\.0\.0\.1:\d+\/l\/[A-Za-z0-9_-]{24}/;
const violations: CspViolation[] = [];
let stack: Stack;
let bus: MessageBus;
let context: BrowserContext;
let profile: string;

/** Forty recipients: most delivered (each with its own CSID), every seventh busy (no CSID), every tenth partly sent. */
function fortyRecipients(): ScriptedRecipient[] {
  return Array.from({ length: 40 }, (_, i): ScriptedRecipient => {
    const number = `+1202555${String(2000 + i)}`;
    if (i % 10 === 9)
      return {
        number,
        attempts: [
          { csid: `BRANCH ${i + 1}`, pagesConfirmed: 1, status: 'partially_sent', reason: { code: 'NO_CARRIER', detail: 'NO CARRIER during page 2 of 2' } },
        ],
      };
    if (i % 7 === 6) return { number, attempts: [{ pagesConfirmed: 0, status: 'failed_user_busy', reason: { code: 'BUSY', detail: `ATD${number} -> BUSY` } }] };
    return { number, attempts: [{ csid: `ACME ${i + 1}`, pagesConfirmed: 2, status: 'success', reason: { code: 'OK', detail: 'MCF after EOP; DCN' } }] };
  });
}

/** A row as both the summary and the fax page show it: number, CSID, status, pages sent and total. */
interface Row {
  number: string;
  csid: string;
  status: string;
  pages: string;
}

const digits = (text: string) => (text.match(/\d+/g) ?? []).join('/');

/** The summary email's HTML, rendered in Chromium (no network: it is a file of the email), its recipient rows read off the page. */
async function summaryRows(page: Page, html: string): Promise<Row[]> {
  await page.setContent(html);
  const rows: Row[] = [];
  for (const row of await page.locator('tr.recipient').all()) {
    const [recipient = '', status = '', pages = ''] = (await row.locator('td').allTextContents()).map((cell) => cell.trim());
    const match = /^(\+\d+)(?: \((.*)\))?$/.exec(recipient);
    rows.push({ number: match?.[1] ?? recipient, csid: match?.[2] ?? '', status, pages });
  }
  return rows;
}

/** The fax page's recipient rows. */
async function faxPageRows(page: Page): Promise<Row[]> {
  const rows: Row[] = [];
  for (const row of await page.locator('table.recipients tbody tr').all()) {
    const text = async (selector: string) => ((await row.locator(selector).first().textContent()) ?? '').trim();
    rows.push({
      // The number cell may say below the number that it is not listed: the number is its first line.
      number: (await row.locator('th.number').innerText()).split('\n')[0].trim(),
      csid: await text('td.csid'),
      status: await text('.status-line strong'),
      pages: await text('td.num'),
    });
  }
  return rows;
}

beforeAll(async () => {
  stack = await startStack('fax-summary');
  bus = new MessageBus({ url: stack.vhost.amqpUrl, source: '/faxnotify/transmitter', logger: createLogger('e2e', 'silent') });
  await bus.start();
  profile = mkdtempSync(join(tmpdir(), 'faxnotify-summary-'));
  context = await chromium.launchPersistentContext(profile, { ...CHROMIUM_LAUNCH, locale: 'en-GB' });
  await collectCspViolations(context, violations);
});

afterAll(async () => {
  await context?.close().catch(() => undefined);
  if (profile) rmSync(profile, { recursive: true, force: true });
  await bus?.close().catch(() => undefined);
  await stack?.stop();
});

it('sends one summary email for a 40-recipient fax, whose rows match the fax page', async () => {
  // The defaults: one summary above 5 recipients, on every channel.
  await stack.saveSettings('alice', { email: { enabled: true, address: 'alice@example.test' }, locale: 'en', timeZone: 'Europe/Rome', notifyOn: 'all' });
  const fax: ScriptedFax = { ownerId: 'alice', subject: 'Price list <2027>', pages: 2, recipients: fortyRecipients() };
  const { faxId, events } = scriptFaxEvents(fax);
  for (const e of events) await bus.publish(e.key, e.data, { subject: e.subject, time: e.time });

  const aboutFax = () => stack.smtp.mails.filter((m) => String(m.references ?? '').includes(`<fax.${faxId}@`));
  const [mail] = await eventually(() => (aboutFax().length > 0 ? aboutFax() : undefined), 120_000);
  expect(mail.subject).toBe('Partially delivered: Price list <2027> (31/40)');
  // Time for any per-recipient notice still on its way: there is none, the summary stands for them.
  await new Promise((resolve) => setTimeout(resolve, 3000));
  expect(aboutFax()).toHaveLength(1);

  const page = context.pages()[0] ?? (await context.newPage());
  const rows = await summaryRows(page, String(mail.html));
  expect(rows).toHaveLength(40);
  expect(await page.locator('h1').textContent()).toBe('Partially delivered: Price list <2027>');

  // The link opens the fax page (a link token: no sign-in), whose table has the same rows.
  const link = LINK.exec(typeof mail.text === 'string' ? mail.text : '')?.[0];
  expect(link).toBeDefined();
  expect(mail.html).toContain(`href="${link}"`);
  await page.goto(link!);
  expect(page.url()).toBe(`${stack.tracker.url}/faxes/${faxId}`);
  const pageRows = await faxPageRows(page);
  expect(pageRows).toHaveLength(40);
  const comparable = (row: Row) => ({ number: row.number, csid: row.csid === '—' ? '' : row.csid, status: row.status, pages: digits(row.pages) });
  const sentOf = (row: Row) => digits(row.pages).split('/').slice(0, 1).join('');
  expect(rows.map((r) => ({ ...comparable(r), pages: sentOf(r) }))).toEqual(pageRows.map((r) => ({ ...comparable(r), pages: sentOf(r) })));
  expect(rows.filter((r) => r.status === 'Delivered')).toHaveLength(31);
  expect(rows.find((r) => r.number === '+12025552009')).toEqual({ number: '+12025552009', csid: 'BRANCH 10', status: 'Partially sent', pages: '1 of 2 pages' });
  expect(violations).toEqual([]);
});
