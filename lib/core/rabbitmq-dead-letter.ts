import { DEFAULTS } from './defaults';
import { WIRE } from './wire';

/**
 * Where a poison task goes: quorum queues redeliver a message at most `delivery-limit` times (RabbitMQ 4 defaults
 * to 20) and then drop it unless a dead-letter target is set. The library sets one on the Celery vhost: a policy on
 * its quorum queues that sends such messages, through the default exchange, to a quorum queue kept for inspection.
 * The same model feeds the management-API custom resource (Amazon MQ) and `celery-tls dev` (rabbitmqctl).
 * @see https://www.rabbitmq.com/docs/quorum-queues#poison-message-handling
 * @see https://docs.aws.amazon.com/amazon-mq/latest/developer-guide/rabbitmq-4.html (recommends a dead-letter target)
 */
export interface DeadLetterModel {
  /** The quorum queue that keeps dead-lettered tasks. */
  readonly queue: string;
  /** The name of the RabbitMQ policy that routes dead letters there. */
  readonly policyName: string;
  /** Every queue but the dead-letter queue and Celery's native-delayed-delivery queues (they dead-letter by design). */
  readonly pattern: string;
  /** The policy applies to quorum queues only (where delivery limits exist). */
  readonly applyTo: 'quorum_queues';
  /** The policy's priority: above Amazon MQ's own default policies. */
  readonly priority: number;
  /** The policy's definition, as RabbitMQ reads it. */
  readonly definition: Readonly<Record<string, string | number>>;
  /** The queue's declaration arguments. */
  readonly queueArguments: Readonly<Record<string, string>>;
}

/** Escapes a literal for a RabbitMQ (PCRE) pattern. */
function literal(name: string): string {
  return name.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

export function deadLetterModel(options: { deliveryLimit?: number; queue?: string } = {}): DeadLetterModel {
  const d = DEFAULTS.rabbitmq.deadLetter;
  const queue = options.queue ?? d.queue;
  return {
    queue,
    policyName: d.policyName,
    pattern: `^(?!${literal(WIRE.delayedDeliveryQueuePrefix)}|${literal(queue)}$)`,
    applyTo: 'quorum_queues',
    priority: d.policyPriority,
    definition: {
      'delivery-limit': options.deliveryLimit ?? d.deliveryLimit,
      'dead-letter-exchange': '',
      'dead-letter-routing-key': queue,
    },
    queueArguments: { 'x-queue-type': 'quorum' },
  };
}

/** The management-API requests that set the model up on a vhost (idempotent PUTs), in order. */
export function deadLetterRequests(vhost: string, m: DeadLetterModel): { path: string; body: object }[] {
  const enc = encodeURIComponent;
  return [
    {
      path: `/api/queues/${enc(vhost)}/${enc(m.queue)}`,
      body: { durable: true, auto_delete: false, arguments: m.queueArguments },
    },
    {
      path: `/api/policies/${enc(vhost)}/${enc(m.policyName)}`,
      body: { pattern: m.pattern, definition: m.definition, priority: m.priority, 'apply-to': m.applyTo },
    },
  ];
}
