import { CeleryConfig } from './celery/config';
import { CeleryEndpoint } from './celery/model';
import { RabbitMqBrokerSpec } from './rabbitmq';
import { CeleryRole } from './rabbitmq-users';
import { RedisCacheSpec } from './redis';

/**
 * The constructs' members that both targets offer, declared once: each adapter's classes implement these
 * interfaces, so the compiler (not a test) keeps the targets in step. A target names its own types in a
 * `TargetTypes`; a member it cannot offer yet has the type `never` there, which says so in its declarations.
 */
export interface TargetTypes {
  /** A security group made by the library. */
  readonly securityGroup: unknown;
  /** What may be let in: a construct with connections, or a group of the user's. */
  readonly peer: unknown;
  /** The connections of a construct. */
  readonly connections: unknown;
  /** What is granted read access. */
  readonly grantee: unknown;
  /** What a grant returns. */
  readonly grant: unknown;
  /** A Secrets Manager secret. */
  readonly secret: unknown;
  /** The RabbitMQ application users construct (`never` where the target has none yet). */
  readonly applicationUsers: unknown;
}

/** An ElastiCache replication group that Celery can use: made by the library, or imported. */
export interface IRedisCacheContract<T extends TargetTypes> {
  /** The settings it was made with (for an imported cache, those its attributes imply). */
  readonly spec: RedisCacheSpec;
  /** The primary endpoint: connect by this DNS name (the certificate is issued for it). */
  readonly primaryEndpointAddress: string;
  /** The TCP port (a literal number). */
  readonly port: number;
  /** Who may reach it on its TLS port. */
  readonly connections: T['connections'];
  /** The AUTH token's secret, when it uses one. */
  readonly authTokenSecret?: T['secret'];
  /** The Celery endpoint for a role (a rediss:// URL is built from it). */
  celeryEndpoint(options?: { readonly db?: number; readonly role?: CeleryRole }): CeleryEndpoint;
}

/** An Amazon MQ for RabbitMQ broker that Celery can use: made by the library, or imported. */
export interface IRabbitMqBrokerContract<T extends TargetTypes> {
  /** The settings it was made with (for an imported broker, those its attributes imply). */
  readonly spec: RabbitMqBrokerSpec;
  /** DNS name of the AMQPS endpoint (the certificate is issued for it). */
  readonly brokerHost: string;
  /** Always 5671: Amazon MQ for RabbitMQ has no plaintext AMQP listener. */
  readonly amqpsPort: number;
  /** Who may reach it (AMQPS, and the management API for the users function). */
  readonly connections: T['connections'];
  /** JSON secret with `username` and `password` of the admin user. */
  readonly adminSecret: T['secret'];
}

/** A Celery broker and result backend with the settings that connect to them. */
export interface ICeleryTransportContract<T extends TargetTypes> {
  /** Attach to producer services (web apps that call `.delay()`). Reaches the broker and backend TLS ports only. */
  readonly producersSecurityGroup: T['securityGroup'];
  /** Attach to worker services. Reaches the broker and backend TLS ports only. */
  readonly workersSecurityGroup: T['securityGroup'];
  /** The workers' Celery settings (`celeryConfigFor(CeleryRole.PRODUCER)` for producers). */
  readonly celeryConfig: CeleryConfig;
  /** The vhost and application users on a RabbitMQ broker. */
  readonly rabbitMqUsers?: T['applicationUsers'];
  /** The Celery settings of a role: the same endpoints, that role's user and secret. */
  celeryConfigFor(role: CeleryRole): CeleryConfig;
  /** Lets a producer reach the broker and the result backend on their TLS ports. */
  allowProducer(peer: T['peer']): void;
  /** Lets a worker reach the broker and the result backend on their TLS ports. */
  allowWorker(peer: T['peer']): void;
  /** Lets the grantee read one role's broker and result-backend credentials (secrets by ARN, kms:Decrypt through Secrets Manager). */
  grantReadCredentials(grantee: T['grantee'], role?: CeleryRole): T['grant'];
}
