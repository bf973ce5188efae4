import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createBitmap, type Bitmap } from '@faxnotify/fax-line';
import { EFAX_HEADER_ROWS, letterBitmap, pbmFromBitmap, startEfaxSender, startModemPairs, type EfaxSender, type ModemPairs } from '@faxnotify/fax-line/testing';
import { eventually } from '@faxnotify/peers';
import { startService, type RunningService } from '../support/processes';
import { startStack, type Stack } from '../support/stack';

/**
 * Received faxes end to end on a real fax line, every service its own process: efax calls the
 * transmitter's answering modem (an iaxmodem pair per case) and sends two A4 pages; the fax is in
 * its owner's Inbox and her email carries a PDF whose pages, as Ghostscript renders them, are the
 * pages efax sent. An efax killed during page 2 leaves a partly received fax with page 1, and the
 * email says so.
 */
jest.setTimeout(180_000);

const SENDER_ID = 'EFAX SENDER 1001';

let pairs: ModemPairs;
let stack: Stack;
let transmitter: RunningService;
let files: string[];
const pages = [letterBitmap(1), letterBitmap(2)];

beforeAll(async () => {
  pairs = await startModemPairs(2);
  stack = await startStack('received-line');
  files = pages.map((bitmap, i) => {
    const file = join(stack.dataDir, `page-${i + 1}.pbm`);
    writeFileSync(file, pbmFromBitmap(bitmap));
    return file;
  });
  const line = (i: number, owner: string) => ({
    id: `line-${owner}`,
    kind: 'class1',
    device: pairs.pairs[i].receiverDevice,
    mode: 'receive',
    number: '2002',
    owner,
    answerId: 'FAXNOTIFY RX',
  });
  transmitter = await startService('transmitter', {
    ...stack.env,
    TRANSMITTER_SQLITE_PATH: join(stack.dataDir, 'transmitter.sqlite'),
    TRANSMITTER_FILES_DIR: join(stack.dataDir, 'files'),
    TRANSMITTER_LINES: JSON.stringify([line(0, 'rita'), line(1, 'paolo')]),
  });
  for (const owner of ['rita', 'paolo'])
    await stack.saveSettings(owner, { email: { enabled: true, address: `${owner}@example.test` }, locale: 'en', timeZone: 'UTC', notifyOn: 'failures' });
  // The modems answer once the transmitter's loops have opened them and iaxmodem has settled after their reset.
  await new Promise((resolve) => setTimeout(resolve, 7000));
}, 90_000);

afterAll(async () => {
  await transmitter?.stop();
  await stack?.stop();
  await pairs?.stop();
});

/** What efax puts on the line for a page: its header rows (blank, as it gets no header text), then the page. */
function asSent(bitmap: Bitmap): Bitmap {
  const out = createBitmap(bitmap.width, bitmap.height + EFAX_HEADER_ROWS);
  out.data.set(bitmap.data, EFAX_HEADER_ROWS * bitmap.rowBytes);
  return out;
}

/** Ghostscript renders every page of the PDF at fine fax resolution as packed 1-bit rows. */
function renderPdf(pdf: Buffer): Array<{ width: number; height: number; data: Buffer }> {
  const dir = mkdtempSync(join(stack.dataDir, 'render-'));
  try {
    writeFileSync(join(dir, 'fax.pdf'), pdf);
    execFileSync('gs', ['-q', '-dSAFER', '-dBATCH', '-dNOPAUSE', '-sDEVICE=pbmraw', '-r204x196', '-o', join(dir, 'page-%d.pbm'), join(dir, 'fax.pdf')], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const rendered = [];
    for (let n = 1; ; n += 1) {
      let pbm: Buffer;
      try {
        pbm = readFileSync(join(dir, `page-${n}.pbm`));
      } catch {
        return rendered;
      }
      const header = /^P4\s+(?:#[^\n]*\n\s*)*(\d+)\s+(\d+)\s/.exec(pbm.subarray(0, 100).toString('latin1'))!;
      rendered.push({ width: Number(header[1]), height: Number(header[2]), data: pbm.subarray(header[0].length) });
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Rows of the rendered page unlike the bitmap's (and the difference in height). */
function rowsDiffering(rendered: { width: number; height: number; data: Buffer }, bitmap: Bitmap): number {
  let differing = Math.abs(rendered.height - bitmap.height);
  for (let y = 0; y < Math.min(rendered.height, bitmap.height); y += 1)
    if (
      !rendered.data
        .subarray(y * bitmap.rowBytes, (y + 1) * bitmap.rowBytes)
        .equals(Buffer.from(bitmap.data.subarray(y * bitmap.rowBytes, (y + 1) * bitmap.rowBytes)))
    )
      differing += 1;
  return differing;
}

const textOf = (mail: { text?: string | false }) => (typeof mail.text === 'string' ? mail.text : '');
const mailTo = (address: string) => () => stack.smtp.mails.find((m) => (m.to as { text?: string } | undefined)?.text?.includes(address));

async function inbox(owner: string) {
  const auth = { headers: { authorization: `Bearer ${await stack.token(owner)}` } };
  const { received } = (await (await fetch(`${stack.tracker.url}/v1/received`, auth)).json()) as {
    received: Array<{ id: string; status: string; pages: number; remoteCsid: string; callerNumber: string }>;
  };
  return received;
}

describe('a fax received on a real line, through the transmitter, status tracker and notifier processes', () => {
  test.concurrent("efax's two pages: in the Inbox, and the owner's email carries a PDF Ghostscript renders as the pages efax sent", async () => {
    const pair = pairs.pairs[0];
    const sender = startEfaxSender(pair.senderDevice, { localId: SENDER_ID, dialString: pair.dialString, files });
    try {
      const mail = await eventually(mailTo('rita@example.test'), 150_000);
      expect(await sender.exited).toEqual({ code: 0, signal: null });
      const [fax] = await inbox('rita');
      expect(fax).toMatchObject({ status: 'success', pages: 2, remoteCsid: SENDER_ID, callerNumber: '1001' });
      expect(mail.subject).toMatch(/^Fax received from 1001/);
      expect(textOf(mail)).toContain(`${stack.tracker.url}/inbox/${encodeURIComponent(fax.id)}`);
      expect(mail.attachments).toHaveLength(1);
      expect(mail.attachments[0].contentType).toBe('application/pdf');
      const rendered = renderPdf(mail.attachments[0].content);
      expect(rendered.map((page) => page.width)).toEqual([1728, 1728]);
      expect(rendered.map((page, i) => rowsDiffering(page, asSent(pages[i])))).toEqual([0, 0]);
    } finally {
      sender.kill();
    }
  });

  test.concurrent('efax killed during page 2: partly received, page 1 kept, and the email says so', async () => {
    const pair = pairs.pairs[1];
    let sender: EfaxSender | undefined;
    try {
      sender = startEfaxSender(pair.senderDevice, { localId: SENDER_ID, dialString: pair.dialString, files });
      // Page 1 confirmed (MCF): page 2 is on its way; a fax machine switched off mid-page drops the line.
      await sender.waitForLog(/MCF/, 120_000);
      await new Promise((resolve) => setTimeout(resolve, 3000));
      sender.kill('SIGTERM');
      const mail = await eventually(mailTo('paolo@example.test'), 120_000);
      const [fax] = await inbox('paolo');
      expect(fax).toMatchObject({ status: 'partially_received', pages: 1, remoteCsid: SENDER_ID });
      expect(mail.subject).toMatch(/^Fax partly received from 1001/);
      expect(textOf(mail)).toContain('The call ended before the sender had finished');
      expect(textOf(mail)).toContain(`${stack.tracker.url}/inbox/${encodeURIComponent(fax.id)}`);
      expect(mail.attachments).toHaveLength(1);
      const rendered = renderPdf(mail.attachments[0].content);
      expect(rendered).toHaveLength(1);
      expect(rowsDiffering(rendered[0], asSent(pages[0]))).toBe(0);
    } finally {
      sender?.kill();
    }
  });
});
