import type { DeliveryFaxFinal, FinalStatus } from '@faxnotify/contracts';

/**
 * A delivery.fax.final as the status tracker publishes it: `count` recipients of alice's two-page
 * fax, every tenth partly sent and every seventh not answered, the rest delivered to "ACME n".
 */
export function faxFinal(faxId: string, count: number, overrides: Partial<DeliveryFaxFinal> = {}): DeliveryFaxFinal {
  const recipients = Array.from({ length: count }, (_, i) => {
    const status: FinalStatus = i % 10 === 9 ? 'partially_sent' : i % 7 === 6 ? 'failed_no_answer' : 'success';
    return {
      recipientId: `r${i + 1}`,
      number: `+1202555${String(1000 + i).padStart(4, '0')}`,
      status,
      pagesSent: status === 'success' ? 2 : status === 'partially_sent' ? 1 : 0,
      pagesTotal: 2,
      remoteCsid: status === 'failed_no_answer' ? null : `ACME ${i + 1}`,
      endedAt: new Date(Date.parse('2026-11-22T09:01:00.000Z') + i * 60_000).toISOString(),
      attempts: status === 'failed_no_answer' ? 3 : 1,
    };
  });
  const delivered = recipients.every((r) => r.status === 'success');
  return {
    faxId,
    ownerId: 'alice',
    subject: 'Q3 report',
    state: delivered ? 'delivered' : recipients.some((r) => r.pagesSent > 0) ? 'partial' : 'failed',
    completedAt: recipients[recipients.length - 1].endedAt,
    recipients,
    links: { fax: `http://127.0.0.1:8082/faxes/${faxId}` },
    ...overrides,
  };
}
