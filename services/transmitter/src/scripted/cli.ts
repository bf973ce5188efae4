import { parseArgs } from 'node:util';
import { MessageBus, createLogger, runMain } from '@faxnotify/kit';
import { sampleFax, scriptFaxEvents } from './scenario';

/**
 * `faxnotify-transmitter script`: publishes a scripted fax's events (submitted, progress,
 * results) with publisher confirms, as the modem path will. Prints the fax id.
 */
runMain('faxnotify-transmitter', async () => {
  const { values } = parseArgs({
    options: {
      owner: { type: 'string', default: 'demo' },
      subject: { type: 'string', default: 'Q3 report' },
      'amqp-url': { type: 'string', default: process.env.AMQP_URL ?? 'amqp://guest:guest@127.0.0.1:5672' },
    },
  });
  const logger = createLogger('transmitter', process.env.LOG_LEVEL ?? 'warn');
  const bus = new MessageBus({ url: values['amqp-url'], source: '/faxnotify/transmitter', logger });
  await bus.start();
  const { faxId, events } = scriptFaxEvents(sampleFax(values.owner, values.subject));
  for (const e of events) await bus.publish(e.key, e.data, { subject: e.subject, time: e.time });
  await bus.close();
  process.stdout.write(`${faxId}\n`);
});
