import { EVENT_CATALOGUE, type EventKey } from './events/definitions';

/** Exchanges are API: declared once here. Events go to topic exchanges by routing key (the event key). */
export const EXCHANGES = {
  fax: 'faxnotify.fax',
  delivery: 'faxnotify.delivery',
  notification: 'faxnotify.notification',
  /** Where a consumer puts a message it gives up on, routed by the queue's name to that queue's dead-letter queue. */
  deadLetter: 'faxnotify.dead-letter',
} as const;

/**
 * Delays of the retry tiers. A message that failed transiently waits in tier n (a queue whose
 * messages expire after the delay and dead-letter back to the work queue).
 */
export const RETRY_DELAYS_MS = [1_000, 5_000, 30_000, 120_000, 600_000, 1_800_000] as const;

export interface QueueSpec {
  /** The work queue. */
  name: string;
  /** What it consumes: bindings on the event exchanges. */
  bindings: ReadonlyArray<{ exchange: string; routingKey: string }>;
  /** Upper bound on redeliveries after consumer crashes (quorum queue delivery limit). */
  deliveryLimit: number;
  doc: string;
}

const bind = (...keys: EventKey[]) => keys.map((key) => ({ exchange: EVENT_CATALOGUE[key].exchange, routingKey: key }));

export const QUEUES = {
  trackerFaxEvents: {
    name: 'status-tracker.fax-events',
    bindings: bind('fax.submitted', 'fax.recipient.progress', 'fax.recipient.result', 'fax.received'),
    deliveryLimit: 20,
    doc: 'Everything the transmitter reports (faxes sent and received), for the status tracker.',
  },
  trackerNotificationOutcomes: {
    name: 'status-tracker.notification-outcomes',
    bindings: bind('notification.outcome'),
    deliveryLimit: 20,
    doc: 'Notice outcomes from the notifier, stored beside the fax.',
  },
  notifierRecipientFinal: {
    name: 'notifier.recipient-final',
    bindings: bind('delivery.recipient.final'),
    deliveryLimit: 20,
    doc: "Final per-recipient results, each turned into notices on the owner's channels.",
  },
  notifierFaxFinal: {
    name: 'notifier.fax-final',
    bindings: bind('delivery.fax.final'),
    deliveryLimit: 20,
    doc: 'Faxes whose every recipient is final, each turned into a summary notice on the channels the owner picked for summaries.',
  },
  notifierFaxReceived: {
    name: 'notifier.fax-received',
    bindings: bind('delivery.fax.received'),
    deliveryLimit: 20,
    doc: "Received faxes, each turned into inbound notices on the owner's channels (email with the PDF attached).",
  },
  trackerResendRequests: {
    name: 'status-tracker.resend-requests',
    bindings: bind('fax.resend.requested'),
    deliveryLimit: 20,
    doc: 'Requests to resend a fax to its failed recipients (from Jabber replies and other services), for the status tracker.',
  },
  transmitterResendOrders: {
    name: 'transmitter.resend-orders',
    bindings: bind('fax.resend.ordered'),
    deliveryLimit: 20,
    doc: "The tracker's orders to send a fax's documents again, as a new fax, to the recipients that failed.",
  },
} as const satisfies Record<string, QueueSpec>;

export type QueueName = (typeof QUEUES)[keyof typeof QUEUES]['name'];

export const retryQueueName = (queue: string, tier: number): string => `${queue}.retry.${tier + 1}`;
export const deadLetterQueueName = (queue: string): string => `${queue}.dead`;

/**
 * Quorum queues dead-letter at most once by default: a message dead-lettered (delivery limit
 * reached, retry delay over) is dropped if the target queue does not confirm it. At least once
 * keeps it until the target confirms; RabbitMQ requires the reject-publish overflow for it.
 */
const AT_LEAST_ONCE_DEAD_LETTERING = { 'x-dead-letter-strategy': 'at-least-once', 'x-overflow': 'reject-publish' } as const;

/** A queue already exists on the broker with other arguments than the ones this version declares. */
export class TopologyMismatchError extends Error {
  constructor(
    readonly queue: string,
    brokerMessage: string,
  ) {
    super(
      `queue ${queue} exists on the broker with other arguments than this version declares (${brokerMessage}). ` +
        'Move the deployment first: apply deploy/rabbitmq/definitions.json as a policy, or delete and re-declare the queues ' +
        '(see "Moving an existing broker" in the README).',
    );
    this.name = 'TopologyMismatchError';
  }
}

/** The subset of an AMQP channel the topology needs (amqplib's Channel satisfies it). */
export interface TopologyChannel {
  assertExchange(name: string, type: string, options: Record<string, unknown>): Promise<unknown>;
  assertQueue(name: string, options: Record<string, unknown>): Promise<unknown>;
  bindQueue(queue: string, exchange: string, routingKey: string): Promise<unknown>;
}

/** The whole topology as data: what `declareTopology` declares and what deploy/ definitions must match. */
export function describeTopology() {
  const exchanges = Object.values(EXCHANGES).map((name) => ({ name, type: name === EXCHANGES.deadLetter ? 'direct' : 'topic', durable: true }));
  const queues: Array<{ name: string; arguments: Record<string, unknown> }> = [];
  const bindings: Array<{ queue: string; exchange: string; routingKey: string }> = [];
  for (const spec of Object.values(QUEUES) as QueueSpec[]) {
    queues.push({
      name: spec.name,
      arguments: {
        'x-queue-type': 'quorum',
        'x-delivery-limit': spec.deliveryLimit,
        'x-dead-letter-exchange': EXCHANGES.deadLetter,
        'x-dead-letter-routing-key': spec.name,
        ...AT_LEAST_ONCE_DEAD_LETTERING,
      },
    });
    for (const b of spec.bindings) bindings.push({ queue: spec.name, ...b });
    RETRY_DELAYS_MS.forEach((delay, tier) => {
      queues.push({
        name: retryQueueName(spec.name, tier),
        arguments: {
          'x-queue-type': 'quorum',
          'x-message-ttl': delay,
          'x-dead-letter-exchange': '',
          'x-dead-letter-routing-key': spec.name,
          ...AT_LEAST_ONCE_DEAD_LETTERING,
        },
      });
    });
    const dead = deadLetterQueueName(spec.name);
    queues.push({ name: dead, arguments: { 'x-queue-type': 'quorum' } });
    bindings.push({ queue: dead, exchange: EXCHANGES.deadLetter, routingKey: spec.name });
  }
  return { exchanges, queues, bindings };
}

/** Declares every exchange, queue and binding. Every service calls it on each (re)connect; it is idempotent. */
export async function declareTopology(channel: TopologyChannel): Promise<void> {
  const { exchanges, queues, bindings } = describeTopology();
  for (const e of exchanges) await channel.assertExchange(e.name, e.type, { durable: e.durable });
  for (const q of queues) {
    try {
      await channel.assertQueue(q.name, { durable: true, arguments: q.arguments });
    } catch (error) {
      // 406 PRECONDITION_FAILED: the queue exists with other arguments (an older version declared it).
      if ((error as { code?: unknown }).code === 406) throw new TopologyMismatchError(q.name, (error as Error).message);
      throw error;
    }
  }
  for (const b of bindings) await channel.bindQueue(b.queue, b.exchange, b.routingKey);
}
