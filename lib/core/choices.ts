import { BrokerClientCertificateOptions, SubordinateCaOptions } from './rabbitmq-mtls';
import { RedisRbacOptions } from './redis-rbac';

/**
 * The choices a user makes with a static factory (`RedisAuth.rbacUsers()`, `CeleryBroker.redis()`, ...), as one
 * discriminated union each. `S` is the target's way to name an existing secret (an `ISecret` on the CDK, an ARN on
 * Terraform). The adapters' choice classes hold one of these privately and bind it to their construct.
 */

const HELD = new WeakMap<object, unknown>();

/** Attaches a choice to the adapter object that stands for it, out of sight of its users (no member holds it). */
export function holdChoice<T>(owner: object, choice: T): void {
  HELD.set(owner, choice);
}

/** The choice an adapter object stands for. */
export function heldChoice<T>(owner: object): T {
  if (!HELD.has(owner))
    throw new TypeError('celery-tls-constructs: not a choice made with one of the static factories');
  return HELD.get(owner) as T;
}

/** How a cache authenticates clients. */
export type RedisAuthChoice<S> =
  | { readonly kind: 'generatedToken'; readonly length?: number }
  | { readonly kind: 'existingToken'; readonly secret: S; readonly field?: string }
  | { readonly kind: 'rbacUsers'; readonly options: RedisRbacOptions };

/** The admin credentials of an Amazon MQ broker. */
export type BrokerCredentialsChoice<S> =
  { readonly kind: 'generated'; readonly length?: number } | { readonly kind: 'existing'; readonly secret: S };

/** Where the client certificates of a broker come from. */
export type BrokerClientCertificatesChoice =
  | { readonly kind: 'privateCa'; readonly caArn: string; readonly options: BrokerClientCertificateOptions }
  | {
      readonly kind: 'subordinateCa';
      readonly subordinate: SubordinateCaOptions;
      readonly options: BrokerClientCertificateOptions;
    };

/** Which broker a transport provisions, with that broker's options (`R` RabbitMQ, `D` Redis, per target). */
export type CeleryBrokerChoice<R, D> =
  { readonly kind: 'rabbitmq'; readonly options: R } | { readonly kind: 'redis'; readonly options: D };

/** Where a transport stores task results (`D`: the target's Redis options, `P`: its PostgreSQL options). */
export type CeleryResultBackendChoice<D, P = never> =
  | { readonly kind: 'redis'; readonly options: D }
  | { readonly kind: 'postgres'; readonly options: P }
  | { readonly kind: 'sharedWithRedisBroker'; readonly db: number }
  | { readonly kind: 'none' };

/**
 * The broker factory of a target: `CeleryBroker.rabbitMq()` or `CeleryBroker.redis()`. One generic class, bound to
 * each target's option types by its adapter.
 */
export class CeleryBrokerFactory<R, D> {
  /** Amazon MQ for RabbitMQ (the default): AMQPS, quorum queues on RabbitMQ 4. */
  public rabbitMq(options?: R): CeleryBrokerChoice<R, D> {
    return Object.freeze({ kind: 'rabbitmq', options: options ?? ({} as R) });
  }

  /** An ElastiCache Valkey/Redis replication group used as broker (kombu's Redis transport over TLS). */
  public redis(options?: D): CeleryBrokerChoice<R, D> {
    return Object.freeze({ kind: 'redis', options: options ?? ({} as D) });
  }
}

/**
 * The result-backend factory of a target: `CeleryResultBackend.redis()`, `.postgres()`, `.sharedWithRedisBroker()`
 * or `.none()`.
 */
export class CeleryResultBackendFactory<D, P = never> {
  /** A dedicated ElastiCache Valkey/Redis replication group (the default). */
  public redis(options?: D): CeleryResultBackendChoice<D, P> {
    return Object.freeze({ kind: 'redis', options: options ?? ({} as D) });
  }

  /**
   * A PostgreSQL database (RDS for PostgreSQL by default, Aurora PostgreSQL, or an existing one) through Celery's
   * SQLAlchemy backend: TLS forced, verified against the RDS CA bundle, one login role per Celery role.
   */
  public postgres(options?: P): CeleryResultBackendChoice<D, P> {
    return Object.freeze({ kind: 'postgres', options: options ?? ({} as P) });
  }

  /** The broker's own cache, in another logical database (only with `CeleryBroker.redis()`). @param db @default 1 */
  public sharedWithRedisBroker(db: number = 1): CeleryResultBackendChoice<D, P> {
    return Object.freeze({ kind: 'sharedWithRedisBroker', db });
  }

  /** No result backend: tasks are fire-and-forget. */
  public none(): CeleryResultBackendChoice<D, P> {
    return Object.freeze({ kind: 'none' });
  }
}
