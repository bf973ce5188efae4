import { createTransport } from 'nodemailer';
import { startSmtpSink, type SmtpSink } from './smtp';

describe('SMTP sink', () => {
  let sink: SmtpSink;

  beforeEach(async () => {
    sink = await startSmtpSink();
  });

  afterEach(async () => {
    await sink.close();
  });

  const send = (subject: string) =>
    createTransport({ host: '127.0.0.1', port: sink.port, secure: false, ignoreTLS: true }).sendMail({
      from: 'fax@example.test',
      to: 'owner@example.test',
      subject,
      text: 'Доставлено: 3 стр.',
    });

  it('keeps each accepted message parsed and raw, and says when it was accepted', async () => {
    const accepted: string[] = [];
    sink.onAccepted = (mail) => accepted.push(mail.subject ?? '');
    await send('Delivered: Q3 report');
    expect(sink.mails).toHaveLength(1);
    expect(sink.mails[0]).toMatchObject({ subject: 'Delivered: Q3 report', text: 'Доставлено: 3 стр.' });
    expect(sink.raw[0]).toContain('Subject: Delivered: Q3 report');
    expect(accepted).toEqual(['Delivered: Q3 report']);
    expect(sink.errors).toEqual([]);
  });

  it('refuses the messages a test chooses with the reply it gives', async () => {
    sink.respond = (_mail, index) =>
      index === 0 ? { code: 451, message: 'try again later' } : index === 1 ? { code: 550, message: 'no such user' } : undefined;
    await expect(send('first')).rejects.toMatchObject({ responseCode: 451 });
    await expect(send('second')).rejects.toMatchObject({ responseCode: 550 });
    await send('third');
    expect(sink.mails.map((mail) => mail.subject)).toEqual(['third']);
  });
});
