import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { letterBitmap, pbmFromBitmap, startEfaxSender, startModemPairs } from '@faxnotify/fax-line/testing';
import { eventually } from '@faxnotify/peers';
import { startService } from '../support/processes';
import type { Stack } from '../support/stack';

const INBOX_LINK = /http:\/\/127\.0\.0\.1:\d+\/inbox\/\S+/;

/**
 * A fax received on a real line: the transmitter answers on one modem of an iaxmodem pair (a line
 * that receives, the demo user's), efax calls from the other and sends two A4 pages; the owner's
 * email about it (its PDF attached) and the Inbox as the owner sees it.
 */
export async function showReceivedFax(stack: Stack, say: (text: string) => void): Promise<void> {
  say('\n──────── a fax received on a real line (efax calling ⇄ the transmitter answering) ────────');
  const pairs = await startModemPairs(1);
  const pair = pairs.pairs[0];
  const transmitter = await startService('transmitter', {
    ...stack.env,
    TRANSMITTER_SQLITE_PATH: join(stack.dataDir, 'transmitter.sqlite'),
    TRANSMITTER_FILES_DIR: join(stack.dataDir, 'files'),
    TRANSMITTER_LINES: JSON.stringify([
      { id: 'demo-inbound', kind: 'class1', device: pair.receiverDevice, mode: 'receive', number: '2002', owner: 'demo', answerId: 'FAXNOTIFY DEMO' },
    ]),
  });
  const files = [1, 2].map((seed) => {
    const file = join(pairs.dir, `letter-${seed}.pbm`);
    writeFileSync(file, pbmFromBitmap(letterBitmap(seed)));
    return file;
  });
  try {
    // The answering modem takes calls once iaxmodem has settled after the line's reset.
    await new Promise((resolve) => setTimeout(resolve, 7000));
    say(`$ efax -l "EFAX SENDER" -t ${pair.dialString} letter-1.pbm letter-2.pbm   (the transmitter answers as FAXNOTIFY DEMO, ${transmitter.url})`);
    const sender = startEfaxSender(pair.senderDevice, { localId: 'EFAX SENDER', dialString: pair.dialString, files });
    const sent = await sender.exited;
    say(`(efax exited with ${sent.code ?? sent.signal})`);
    const mail = await eventually(
      () => stack.smtp.mails.find((m) => m.attachments.some((a) => a.contentType === 'application/pdf') && /EFAX SENDER/.test(m.subject ?? '')),
      90_000,
    );
    const text = typeof mail.text === 'string' ? mail.text.trim() : '';
    say(`\nThe owner's email about it:\nSubject: ${mail.subject ?? ''}\n`);
    say(text);
    for (const attachment of mail.attachments) say(`Attachment: ${attachment.filename ?? '(unnamed)'} (${attachment.contentType}, ${attachment.size} bytes)`);

    const token = await stack.token('demo');
    const auth = { headers: { authorization: `Bearer ${token}` } };
    const { received } = (await (await fetch(`${stack.tracker.url}/v1/received`, auth)).json()) as {
      received: Array<{ id: string; status: string; pages: number; remoteCsid: string; callerNumber: string }>;
    };
    say(`\nInbox (${stack.tracker.url}/inbox):`);
    for (const fax of received) say(`  ${fax.id}: from ${fax.callerNumber} (${fax.remoteCsid}), ${fax.pages} page(s), ${fax.status}`);
    const link = INBOX_LINK.exec(text)?.[0];
    if (!link) throw new Error('the email about the received fax carried no Inbox link');
    const page = await fetch(link, auth);
    say(`The email's Inbox link ${link} opens for the owner: ${page.status}`);
  } finally {
    await transmitter.stop();
    await pairs.stop();
  }
}
