/** Enumerations shared by the core and both adapters. */

/** ElastiCache engine of a replication group. */
export enum CacheEngine {
  /** Valkey (the default; AWS's recommended engine for new caches). */
  VALKEY = 'valkey',
  /** Redis OSS. */
  REDIS = 'redis',
}

/**
 * ElastiCache `TransitEncryptionMode`.
 * @see https://docs.aws.amazon.com/AmazonElastiCache/latest/dg/in-transit-encryption-enable-existing.html
 */
export enum TransitEncryptionMode {
  /** Only TLS connections are accepted (the default). */
  REQUIRED = 'required',
  /**
   * TLS and plaintext connections are both accepted. Only as the first of two deployments that turn TLS on for an
   * existing cluster (`preferred`, move every client to TLS, then `required`).
   */
  PREFERRED = 'preferred',
}

/** Amazon MQ deployment mode for RabbitMQ. */
export enum BrokerDeploymentMode {
  /** Three nodes in three Availability Zones behind a Network Load Balancer (the default). */
  CLUSTER_MULTI_AZ = 'CLUSTER_MULTI_AZ',
  /** One node in one Availability Zone: no broker redundancy. */
  SINGLE_INSTANCE = 'SINGLE_INSTANCE',
}

/** Days of the week as Amazon MQ spells them in `MaintenanceWindowStartTime`. */
export enum DayOfWeek {
  /** Monday. */
  MONDAY = 'MONDAY',
  /** Tuesday. */
  TUESDAY = 'TUESDAY',
  /** Wednesday. */
  WEDNESDAY = 'WEDNESDAY',
  /** Thursday. */
  THURSDAY = 'THURSDAY',
  /** Friday. */
  FRIDAY = 'FRIDAY',
  /** Saturday. */
  SATURDAY = 'SATURDAY',
  /** Sunday. */
  SUNDAY = 'SUNDAY',
}

/** The four network roles of a Celery deployment. */
export enum NetworkRole {
  /** The clients that publish tasks (the producers security group). */
  PRODUCERS = 'producers',
  /** The Celery workers that consume tasks and store results (the workers security group). */
  WORKERS = 'workers',
  /** The message broker (Amazon MQ for RabbitMQ or an ElastiCache replication group). */
  BROKER = 'broker',
  /** The result backend (an ElastiCache replication group). */
  RESULT_BACKEND = 'resultBackend',
}

/**
 * How ElastiCache applies a changed AUTH token (`AuthTokenUpdateStrategy` of ModifyReplicationGroup). Terraform
 * exposes it as `auth_token_update_strategy`; CloudFormation does not. DELETE (moving to RBAC) is not offered.
 * @see https://docs.aws.amazon.com/AmazonElastiCache/latest/dg/auth.html
 */
export enum AuthTokenUpdateStrategy {
  /** The new token is added and the previous one stays valid: clients can move over without downtime. */
  ROTATE = 'ROTATE',
  /** Only the current token stays valid; allowed after a ROTATE, once every client uses the new token. */
  SET = 'SET',
}
