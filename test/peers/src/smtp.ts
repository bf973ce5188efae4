import { SMTPServer, type SMTPServerDataStream, type SMTPServerSession } from 'smtp-server';
import { simpleParser, type ParsedMail } from 'mailparser';

/**
 * A real SMTP server in the test process that parses what it receives. `respond` lets a test make
 * it answer like a failing server (451 transient, 550 permanent) for chosen messages.
 */
export interface SmtpSink {
  port: number;
  mails: ParsedMail[];
  /** Server errors other than clients hanging up. */
  errors: Error[];
  /** Raw messages as received, for header checks. */
  raw: string[];
  /** Decides the reply to each DATA: return undefined to accept, or an SMTP code and text to refuse. */
  respond?: (mail: ParsedMail, index: number) => { code: number; message: string } | undefined;
  /** Called for each accepted message, when it was accepted (for latency measurements). */
  onAccepted?: (mail: ParsedMail, acceptedAt: number) => void;
  close(): Promise<void>;
}

export async function startSmtpSink(port = 0): Promise<SmtpSink> {
  const sink: SmtpSink = { port: 0, mails: [], raw: [], errors: [], close: async () => undefined };
  let seen = 0;
  const server = new SMTPServer({
    authOptional: true,
    disabledCommands: ['STARTTLS', 'AUTH'],
    logger: false,
    size: 10 * 1024 * 1024,
    onData(stream: SMTPServerDataStream, _session: SMTPServerSession, callback: (error?: Error | null) => void) {
      const chunks: Buffer[] = [];
      stream.on('data', (chunk: Buffer) => chunks.push(chunk));
      stream.on('end', () => {
        const raw = Buffer.concat(chunks).toString('utf8');
        simpleParser(raw)
          .then((mail) => {
            const refusal = sink.respond?.(mail, seen++);
            if (refusal) {
              const error = new Error(refusal.message) as Error & { responseCode: number };
              error.responseCode = refusal.code;
              callback(error);
              return;
            }
            sink.raw.push(raw);
            sink.mails.push(mail);
            sink.onAccepted?.(mail, performance.now());
            callback();
          })
          .catch((error: unknown) => callback(error instanceof Error ? error : new Error(String(error))));
      });
    },
  });
  // A client that dies mid-session (the chaos tests kill the notifier) resets its connection;
  // that is the client's failure, not the server's.
  server.on('error', (error: Error & { code?: string }) => {
    if (error.code !== 'ECONNRESET' && error.code !== 'EPIPE') sink.errors.push(error);
  });
  await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', () => resolve()));
  const address = server.server.address();
  sink.port = typeof address === 'object' && address ? address.port : port;
  sink.close = () => new Promise<void>((resolve) => server.close(() => resolve()));
  return sink;
}
