import { DEFAULTS } from '../defaults';
import { ValidationError } from '../errors';
import { PORTS } from '../ports';
import { RabbitMqBrokerSpec } from '../rabbitmq';
import { RedisCacheSpec } from '../redis';
import { CeleryEndpoint } from './model';
import { WIRE } from '../wire';

/**
 * The Celery endpoint of a replication group (both adapters call this). Refuses a plaintext cache: the rendered
 * settings never build a redis:// URL.
 */
export function redisCeleryEndpoint(
  spec: RedisCacheSpec,
  where: string,
  args: { host: string; secretArn?: string; secretField: string; db?: number; username?: string },
): CeleryEndpoint {
  if (!spec.transitEncryptionEnabled) {
    throw new ValidationError(where, [
      {
        code: 'redis.transit-encryption-off',
        prop: 'transitEncryptionEnabled',
        message:
          'transitEncryptionEnabled is false: no Celery configuration is rendered for a plaintext cache (the settings refuse redis:// URLs). Turn transit encryption on.',
      },
    ]);
  }
  return {
    scheme: 'rediss',
    host: args.host,
    port: spec.port,
    db: args.db ?? DEFAULTS.redis.db,
    // An RBAC user name, or empty for the AUTH token (redis-py then sends AUTH <token>).
    username: args.username ?? '',
    secretArn: args.secretArn,
    secretField: args.secretField,
    engine: spec.engine,
    engineVersion: spec.engineVersion,
  };
}

/**
 * The Celery endpoint of an Amazon MQ for RabbitMQ broker: AMQPS on 5671 as an application user (never the admin).
 * `rotatingUsername`: the user name is read from the secret too (rotation by alternating users).
 */
export function rabbitMqCeleryEndpoint(
  spec: RabbitMqBrokerSpec,
  args: {
    host: string;
    username: string;
    secretArn: string;
    vhost?: string;
    rotatingUsername?: boolean;
    clientCertSecretArn?: string;
  },
): CeleryEndpoint {
  // The same amqps endpoint either way; the key order is the manifest's.
  const base = {
    scheme: 'amqps' as const,
    host: args.host,
    port: PORTS.AMQPS,
    vhost: args.vhost ?? DEFAULTS.rabbitmq.vhost,
    username: args.username,
  };
  const engine = { engine: 'rabbitmq' as const, engineVersion: spec.engineVersion };
  if (args.clientCertSecretArn) {
    // Mutual TLS: the certificate (common name = user name) is the login; no password is read.
    return { ...base, clientCertSecretArn: args.clientCertSecretArn, loginMethod: 'EXTERNAL', ...engine };
  }
  return {
    ...base,
    secretArn: args.secretArn,
    secretField: WIRE.secretPasswordField,
    ...(args.rotatingUsername ? { secretUsernameField: WIRE.secretUsernameField } : {}),
    ...engine,
  };
}
