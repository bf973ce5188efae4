/**
 * The whole transmitter on a real fax line: a PDF through the API to three recipients,
 * dialled in parallel on three iaxmodem pairs with efax answering at the far ends.
 */
import { join } from 'node:path';
import type { CreatedView } from './api';
import { makeSamplePdf } from './documents/testing/sample-documents';
import { type EfaxReceiver, type ModemPairs, startEfaxReceiver, startModemPairs } from '@faxnotify/fax-line/testing';
import { api, faxIdOf, finalFax, startTestTransmitter, upload, type TestTransmitter } from './testing/harness';

jest.setTimeout(120_000);

let pairs: ModemPairs;
let receivers: EfaxReceiver[] = [];
let t: TestTransmitter;

beforeAll(async () => {
  pairs = await startModemPairs(3);
  receivers = await Promise.all(
    pairs.pairs.map((pair) =>
      startEfaxReceiver(pair.receiverDevice, { localId: `RECEIVER ${pair.index}`, outputDir: join(pairs.dir, `received-${pair.index}`) }),
    ),
  );
  t = await startTestTransmitter('real-line', {
    localId: '+12025550100',
    lines: pairs.pairs.map((pair) => ({ id: `pair-${pair.index}`, kind: 'class1', device: pair.senderDevice })),
    // Every number of this test reaches the far modem of whichever pair dials it.
    'dial.rules': [{ match: '^\\+1202555010\\d$', dial: '2002' }],
    'scheduler.pollMs': 200,
    'outbox.pollMs': 200,
  });
});

afterAll(async () => {
  for (const receiver of receivers) receiver.kill();
  await t?.close();
  await pairs?.stop();
});

describe('transmitter on a real line', () => {
  it('sends a PDF to three recipients at once, each confirmed by its receiver with its CSID', async () => {
    const token = await t.token('alice');
    // One page keeps the test short; the driver's own real-line tests send more.
    const pdf = makeSamplePdf(t.dir, 'one-page', [['faxnotify transmitter', 'three lines at once']]);
    const path = (await upload(t.service.url, token, pdf)).body.path;
    const created = await api<CreatedView>(t.service.url, token, 'POST', '/v3/accounts/self/outbox', {
      to: ['+12025550101', '+12025550102', '+12025550103'],
      files: [path],
      comment: { text: 'Real line' },
      retry: { count: 1 },
    });
    expect(created.status).toBe(201);
    const faxId = await faxIdOf(t.service.url, token, created.body.id);
    const fax = await finalFax(t.service.url, token, faxId, 100_000);

    expect(fax.status).toBe('delivered');
    const lines = new Set<string>();
    for (const recipient of fax.recipients) {
      expect(recipient).toMatchObject({ status: 'success', attempt: 1, page: { n: 1, of: 1 } });
      const line = recipient.line!;
      const pair = /^pair-(\d)$/.exec(line)![1];
      expect(recipient.remote_csid).toBe(`RECEIVER ${pair}`);
      lines.add(line);
    }
    expect(lines.size).toBe(3);
    // The three calls overlapped: each started before any other ended.
    const spans = fax.recipients.map((r) => r.attempts[0]);
    const lastStart = Math.max(...spans.map((s) => Date.parse(s.started_at!)));
    const firstEnd = Math.min(...spans.map((s) => Date.parse(s.ended_at)));
    expect(lastStart).toBeLessThan(firstEnd);

    for (const receiver of receivers) {
      await receiver.exited;
      expect(receiver.receivedFiles()).toHaveLength(1);
      expect(receiver.log()).toMatch(/remote ID -> +\+12025550100/);
    }
    // Each number is now known to reach a fax machine, for the call-ahead of fax ATAs.
    const known = await t.service.db.selectFrom('ata_called_numbers').select(['number_key', 'faxes', 'voice_answered_at']).orderBy('number_key').execute();
    expect(known).toEqual(['+12025550101', '+12025550102', '+12025550103'].map((number_key) => ({ number_key, faxes: 1, voice_answered_at: null })));
    const results = t.events.of(faxId, 'fax.recipient.result');
    expect(results).toHaveLength(3);
    for (const result of results) expect(result.data).toMatchObject({ status: 'success', pagesSent: 1, pagesTotal: 1, attempts: 1, reason: { code: 'OK' } });
  });
});
