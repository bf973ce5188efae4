import { OutboxRelay, publishStoredEvent, type Logger, type MessageBus } from '@faxnotify/kit';
import type { Kysely } from 'kysely';
import { Counter, Gauge } from 'prom-client';
import type { TransmitterDatabase } from './db/schema';

const metrics = {
  published: new Counter({ name: 'faxnotify_transmitter_events_published_total', help: 'Outbox events confirmed by the broker.' }),
  failures: new Counter({ name: 'faxnotify_transmitter_event_publish_failures_total', help: 'Outbox publishes that failed (retried later).' }),
  pending: new Gauge({ name: 'faxnotify_transmitter_events_unpublished', help: 'Outbox events not yet confirmed by the broker, as of the last relay pass.' }),
};

export interface EventRelayOptions {
  db: Kysely<TransmitterDatabase>;
  bus: Pick<MessageBus, 'publishEvent'>;
  logger: Logger;
  pollMs: number;
  batchSize?: number;
}

/**
 * Hands the event outbox to the broker in the order it was written (the kit's relay). A batch
 * with a failure stops the pass there, so a later event never overtakes an earlier one of the same
 * recipient for long; the tracker orders by (attempt, sequence) in any case.
 */
export class EventRelay extends OutboxRelay<TransmitterDatabase, 'event_outbox'> {
  constructor(options: EventRelayOptions) {
    const { db, bus, ...timing } = options;
    super({ db, table: 'event_outbox', key: 'seq', publish: publishStoredEvent(bus), metrics, ...timing, name: 'event relay' });
  }
}
