/** Well-known ports. */
export const PORTS = {
  /** AMQP over TLS. Amazon MQ for RabbitMQ listens only on this for AMQP (no plaintext 5672). */
  AMQPS: 5671,
  /** Plaintext AMQP: never opened by this library; named so that checks can refuse it. */
  AMQP_PLAINTEXT: 5672,
  /** Amazon MQ for RabbitMQ management API and console over HTTPS. */
  RABBITMQ_MANAGEMENT_HTTPS: 443,
  /** RabbitMQ management API over HTTPS on its own port (also open on Amazon MQ). */
  RABBITMQ_MANAGEMENT_HTTPS_ALT: 15671,
  /** The Redis/Valkey default port; cdk-nag AwsSolutions-AEC5 flags it. */
  REDIS_DEFAULT: 6379,
  /** AWS API endpoints (Secrets Manager, ElastiCache) reached through interface VPC endpoints. */
  AWS_API_HTTPS: 443,
} as const;
