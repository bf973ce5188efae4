import { startSmtpSink, type SmtpSink } from '@faxnotify/peers';
import { noticeContext, renderNotice } from '../../render';
import { sampleResult } from '../../testing/notices';
import { EmailAdapter } from './adapter';
import { subjectHeader } from './subject';

/** Subjects a stranger may give a fax, each meant to make a mail client show something else. */
const HOSTILE_SUBJECTS = [
  // A Q encoded-word hiding a line break and a header.
  '=?utf-8?q?a=0D=0ABcc:_evil@example.com?=',
  // A base64 one hiding other text ("Your account is locked").
  '=?UTF-8?B?WW91ciBhY2NvdW50IGlzIGxvY2tlZA==?=',
  // Encoded-words between ordinary words, in lower case, and one split over two words.
  'Invoice =?iso-8859-1?q?pay=20now?= today',
  '=?utf-8?b?UGF5?= =?utf-8?b?IG5vdw==?=',
  // Joiners that emoji sequences and Persian words need, with an encoded-word beside them.
  'family 👩\u200d👩\u200d👧 می\u200cخواهم =?utf-8?q?x?=',
];

describe('the Subject of an email notice, read by a real MIME parser', () => {
  let sink: SmtpSink;
  let adapter: EmailAdapter;

  beforeAll(async () => {
    sink = await startSmtpSink();
    adapter = new EmailAdapter({
      host: '127.0.0.1',
      port: sink.port,
      secure: false,
      requireTls: false,
      user: '',
      password: '',
      from: '"faxnotify" <fax@localhost>',
      maxConnections: 1,
      maxMessages: 100,
      timeoutMs: 10_000,
    });
  });

  afterAll(async () => {
    await adapter.close();
    await sink.close();
  });

  it.each(HOSTILE_SUBJECTS)('shows exactly the fax subject %j', async (subject) => {
    const before = sink.mails.length;
    const rendered = renderNotice(
      'email',
      'en',
      noticeContext(sampleResult({ subject }), { locale: 'en', timeZone: 'Europe/Rome', settingsUrl: 'http://127.0.0.1/settings' }),
    );
    expect(rendered.title).toBe(`Delivered: ${subject}`);
    await adapter.send(
      {
        channel: 'email',
        locale: 'en',
        noticeId: `n-${before}`,
        title: rendered.title,
        text: rendered.text,
        html: rendered.html,
        messageId: `<n-${before}@test>`,
        threadId: '<fax-1@test>',
      },
      'owner@example.test',
    );
    const mail = sink.mails[before];
    expect(mail.subject).toBe(`Delivered: ${subject}`);
    // One line and no header of the sender's choosing.
    expect(mail.subject).not.toMatch(/[\r\n]/);
    expect(mail.headers.has('bcc')).toBe(false);
    expect(mail.bcc).toBeUndefined();
  });

  it('leaves an ordinary subject to nodemailer, which encodes non-ASCII text itself', async () => {
    expect(subjectHeader('Delivered: Q3 report')).toBe('Delivered: Q3 report');
    expect(subjectHeader('Доставлено: отчёт')).toBe('Доставлено: отчёт');
  });
});
