import { AuthTokenUpdateStrategy, BrokerDeploymentMode, CacheEngine, DayOfWeek, TransitEncryptionMode } from './types';

/**
 * Every default of the library, in one place: what applies when a prop is left out. Adapters read these; they never
 * restate a value. Names the library and its handlers agree on are in `WIRE` (wire.ts); what AWS allows is in
 * `LIMITS` (limits.ts).
 */
export const DEFAULTS = {
  redis: {
    engine: CacheEngine.VALKEY,
    /** Default engine version per engine. */
    engineVersion: { [CacheEngine.VALKEY]: '8.2', [CacheEngine.REDIS]: '7.1' } as Record<CacheEngine, string>,
    nodeType: 'cache.m7g.large',
    /** Primary plus one replica: the least that Multi-AZ with automatic failover accepts. */
    numCacheClusters: 2,
    /** Not 6379 (cdk-nag AwsSolutions-AEC5); 6380 is the customary TLS port for Redis. */
    port: 6380,
    transitEncryptionMode: TransitEncryptionMode.REQUIRED,
    multiAz: true,
    autoMinorVersionUpgrade: true,
    /** HIPAA/NIST ElastiCacheRedisClusterAutomaticBackup asks for at least 15 days. */
    snapshotRetentionDays: 15,
    /** `hh24:mi-hh24:mi`, UTC. */
    snapshotWindow: '03:00-04:00',
    /** `ddd:hh24:mi-ddd:hh24:mi`, UTC; does not overlap the snapshot window. */
    maintenanceWindow: 'sun:05:00-sun:06:00',
    /** AUTH token length; tokens are `[A-Za-z0-9]` only. */
    authTokenLength: 64,
    /** Celery loses its `_kombu.binding.*` keys under eviction. */
    maxmemoryPolicy: 'noeviction',
    /** Logical database used by Celery. */
    db: 0,
    /** RBAC users (`RedisAuth.rbacUsers()`), the alternative to the AUTH token that rotates without a CloudFormation change. */
    rbac: {
      producerUsername: 'celery-producer',
      workerUsername: 'celery-worker',
      sharedUsername: 'celery-app',
      /**
       * Access string of the Celery users: every key and channel (kombu PSUBSCRIBEs to "/<db>.<exchange>" patterns,
       * which Redis compares literally against channel rules, so only "&*" admits them), every command but the
       * `@dangerous` ones (FLUSHALL, KEYS, CONFIG, DEBUG, ...). The local TLS environment runs its Redis user with this
       * same string, so the end-to-end suite proves Celery works with it.
       */
      accessString: 'on ~* &* +@all -@dangerous',
      /** The group's mandatory "default" user: switched off, no command. */
      defaultUserAccessString: 'off -@all',
      /** Password length (ElastiCache accepts 16 to 128); `[A-Za-z0-9]` only. */
      passwordLength: 64,
      /** User and group resources use the "redis" engine: accepted by Valkey and Redis OSS replication groups alike. */
      engine: 'redis',
      rotationDays: 30,
      /** How long the rotation function waits for a user to become active again after a change. */
      rotationWaitSeconds: 600,
      /** The rotation function's limit: the wait above twice at most (AWS asks for at least 12 minutes). */
      rotationFunctionTimeoutSeconds: 900,
    },
  },
  rabbitmq: {
    engineVersion: '4.2',
    hostInstanceType: 'mq.m7g.large',
    deploymentMode: BrokerDeploymentMode.CLUSTER_MULTI_AZ,
    autoMinorVersionUpgrade: true,
    adminUsername: 'celeryadmin',
    /** Admin password length; passwords are `[A-Za-z0-9]` only (valid for Amazon MQ and safe in URLs). */
    passwordLength: 32,
    vhost: '/',
    maintenanceWindow: { dayOfWeek: DayOfWeek.SUNDAY, timeOfDay: '03:00', timeZone: 'UTC' },
    /** `consumer_timeout`: an hour, like the Redis broker's visibility timeout (Amazon MQ's own default is 30 minutes). */
    consumerTimeoutSeconds: 3600,
    /** Celery's default exchange (task_default_exchange), topic with native delayed delivery. */
    celeryExchange: 'celery',
    /** Poison tasks: a quorum queue's delivery limit, then a dead-letter queue instead of a silent drop. */
    deadLetter: {
      /** RabbitMQ 4's own default (20), now set on purpose and with somewhere to go. */
      deliveryLimit: 20,
      queue: 'celery.dead-letter',
      policyName: 'celery-tls-dead-letter',
      /** Above Amazon MQ's own default policies (priority 0 and 1). */
      policyPriority: 10,
    },
    /** Per-request limit of the management-API custom resource: long enough for a busy broker, well inside a Lambda's run. */
    managementApiTimeoutMs: 10_000,
    /** Client certificates for mutual TLS (RabbitMQ 4.2, `clientCertificates`). */
    clientCertificates: {
      validityDays: 60,
      renewDays: 30,
      /** The CA signs with its own key family: RSA 2048 is AWS Private CA's default (`caSigningAlgorithm` to change). */
      caSigningAlgorithm: 'SHA256WITHRSA',
      /** How long the issuing function waits for AWS Private CA to sign. */
      issueWaitSeconds: 60,
      /** `BrokerClientCertificates.newSubordinateCa()`. */
      subordinateCa: {
        commonName: 'Celery client CA',
        validityYears: 5,
        usageMode: 'GENERAL_PURPOSE',
        parentSigningAlgorithm: 'SHA256WITHRSA',
      },
    },
    /** Application identities created through the management API (CloudFormation creates only the admin). */
    applicationUsers: {
      /** A dedicated vhost: the application users have no permission on "/", which Amazon MQ's monitoring uses. */
      vhost: 'celery',
      producerUsername: 'celery-producer',
      workerUsername: 'celery-worker',
      /** The one user when `sharedUser` is set. */
      sharedUsername: 'celery-app',
      /** Days between rotations of the user and admin passwords (compliance packs ask for 90 at most). */
      rotationDays: 30,
      /**
       * Permission regular expressions on the vhost, for every role. Celery declares its queues and exchanges on
       * first use (producers too, through kombu's maybe_declare), binds queues (read on the exchange), and its
       * default exchange and queue share the name "celery", so names cannot separate the roles: the vhost does.
       */
      permissions: { configure: '.*', write: '.*', read: '.*' },
      /** CloudFormation waits this long for the custom resource before it fails the deployment. */
      serviceTimeoutSeconds: 300,
    },
  },
  /** The library's Lambda functions (custom resource and rotation functions). */
  /** A PostgreSQL result backend (`CeleryResultBackend.postgres()`): Celery's SQLAlchemy backend over verified TLS. */
  postgres: {
    /** The database Celery's tables live in. */
    database: 'celery',
    /** The schema of Celery's two tables and their sequences, owned by the master user (Celery runs no DDL). */
    schema: 'celery',
    /** PostgreSQL's port. */
    port: 5432,
    /** The login roles of the two Celery roles; each has its own generated secret `{"username", "password"}`. */
    users: { worker: 'celery_worker', producer: 'celery_producer' },
    /**
     * Each login role has a rotation twin `<role>_alt` with the same grants; rotation alternates the secret between
     * them, so clients holding the previous password keep working until the next rotation. An unquoted identifier
     * (PostgreSQL folds it, and `.` would need quoting in every client's tooling). Changing it strands deployed twins.
     */
    alternateSuffix: '_alt',
    /** Days between rotations of each role secret (alternating roles), like the library's other secrets. */
    rotationDays: 30,
    /**
     * Where the image carries the RDS CA bundle (https://truststore.pki.rds.amazonaws.com/global/global-bundle.pem):
     * libpq has no system trust store before PostgreSQL 16, and RDS certificates chain to the RDS CAs only.
     */
    caCerts: '/etc/ssl/certs/rds-global-bundle.pem',
    /** The lowest TLS version the client offers (libpq `ssl_min_protocol_version`). */
    minTlsVersion: 'TLSv1.2',
    /** Seconds libpq waits for a connection before it fails (then Celery's retries take over). */
    connectTimeoutSeconds: 10,
    /** What is provisioned (`PostgresDatabaseKind`): an RDS for PostgreSQL instance. */
    kind: 'instance',
    /**
     * 17.7 exists on both engines: RDS for PostgreSQL (the minimum RDS upgraded 17.x instances to in 2026) and Aurora
     * PostgreSQL (released December 2025). Automatic minor upgrades move it on in the maintenance window.
     */
    engineVersion: { instance: '17.7', aurora: '17.7' },
    /** Graviton general purpose for an instance; Aurora has no m classes, so its Graviton memory-optimized one. */
    instanceClass: { instance: 'db.m7g.large', aurora: 'db.r7g.large' },
    /** gp3's minimum; results are small rows, and storage autoscaling takes over. */
    allocatedStorageGiB: 20,
    maxAllocatedStorageGiB: 100,
    multiAz: true,
    /** As the cache's snapshots (HIPAA/NIST backup rules); Security Hub RDS.11's minimum is 7, RDS's maximum 35. */
    backupRetentionDays: 15,
    backupWindow: '03:00-04:00',
    maintenanceWindow: 'sun:05:00-sun:06:00',
    deletionProtection: true,
    autoMinorVersionUpgrade: true,
    /** The master user (its password generated and kept by RDS in Secrets Manager); Celery never logs in as it. */
    masterUsername: 'celeryadmin',
    /** Role passwords are `[A-Za-z0-9]` only (safe in a SQLAlchemy URL). */
    passwordLength: 32,
    /** The RDS default CA since 2024 (RSA 2048, valid to 2061), in the global bundle of `caCerts`. */
    caCertificateIdentifier: 'rds-ca-rsa2048-g1',
    /**
     * IAM database authentication on: it satisfies AwsSolutions-RDS6 and opens no login by itself (a role logs in
     * with a token only once granted rds_iam, which no role here is); Celery's roles log in with their passwords.
     */
    iamAuthentication: true,
    /**
     * The (cluster) parameter group: every connection TLS, 1.2 at least.
     * @see https://docs.aws.amazon.com/AmazonRDS/latest/UserGuide/PostgreSQL.Concepts.General.SSL.html
     */
    parameters: { 'rds.force_ssl': '1', ssl_min_protocol_version: 'TLSv1.2' },
    /** Every log type cdk-nag's RDSLoggingEnabled asks for (instances: postgresql and upgrade; Aurora: postgresql). */
    logExports: { instance: ['postgresql', 'upgrade'], aurora: ['postgresql'] },
    /** CloudFormation waits this long for the users custom resource before it fails the deployment. */
    usersServiceTimeoutSeconds: 300,
  },
  functions: {
    /** The newest Node.js runtime that aws-cdk-lib 2.276 knows (cdk-nag AwsSolutions-L1 wants the latest). */
    runtime: 'nodejs24.x',
    memoryMiB: 256,
    /** Enough for a few management-API or AWS API calls with their own time limits. */
    timeoutSeconds: 120,
  },
  /**
   * The alarms of a transport (`monitoring.alarms.<key>` overrides each). Periods of 60 s: Amazon MQ and ElastiCache
   * publish these metrics every minute (Amazon MQ developer guide, "Accessing CloudWatch metrics"; ElastiCache,
   * "Host-level metrics": "published for each cache node in 60-second intervals"). Where AWS's recommended alarms give
   * a figure (CloudWatch "Recommended alarms", ElastiCache: EngineCPUUtilization about 90 %, 5 of 5 minutes;
   * CurrConnections 10 of 10; ReplicationLag 15 of 15) it is used; the other thresholds are this library's, chosen
   * for Celery and documented in docs/operating.md.
   */
  monitoring: {
    /** The TLS canary: a scheduled function that runs `celery-tls verify`'s checks against each endpoint. */
    canary: {
      scheduleMinutes: 15,
      /** Per connection attempt; an endpoint that does not answer takes a few of these. */
      connectTimeoutMs: 5000,
      /** Covers an endpoint that never answers (about 6 attempts of connectTimeoutMs) with room to spare. */
      timeoutSeconds: 60,
      /** A failed run is a missing datapoint, which the canary alarm counts as breaching: no retry of the event. */
      retryAttempts: 0,
      /** An event older than this (EventBridge could not deliver it) is dropped: the next run replaces it. */
      maxEventAgeSeconds: 3600,
    },
    alarms: {
      /** RabbitMQMemUsed / RabbitMQMemLimit (Broker: the cluster's aggregate), %: at 100 RabbitMQ blocks publishers. */
      brokerMemory: { threshold: 80, periodSeconds: 60, evaluationPeriods: 5, datapointsToAlarm: 5 },
      /** RabbitMQDiskFree / RabbitMQDiskFreeLimit: at 1 RabbitMQ blocks publishing on the whole cluster. */
      brokerDiskFree: { threshold: 2, periodSeconds: 60, evaluationPeriods: 5, datapointsToAlarm: 5 },
      /** SystemCpuUtilization, %. */
      brokerCpu: { threshold: 85, periodSeconds: 60, evaluationPeriods: 5, datapointsToAlarm: 5 },
      /** ConnectionCount below 1: no worker or producer is connected (missing data counts as breaching). */
      brokerConnections: { threshold: 1, periodSeconds: 60, evaluationPeriods: 5, datapointsToAlarm: 5 },
      /** ConsumerCount of Celery's queue below 1: no worker consumes (missing data counts as breaching). */
      queueConsumers: { threshold: 1, periodSeconds: 60, evaluationPeriods: 5, datapointsToAlarm: 5 },
      /** MessageReadyCount of Celery's queue: a backlog that lasts a quarter of an hour. */
      queueBacklog: { threshold: 1000, periodSeconds: 60, evaluationPeriods: 15, datapointsToAlarm: 15 },
      /** MessageUnacknowledgedCount of Celery's queue: tasks held and not finished for a quarter of an hour. */
      queueUnacknowledged: { threshold: 1000, periodSeconds: 60, evaluationPeriods: 15, datapointsToAlarm: 15 },
      /** DatabaseMemoryUsagePercentage per node, %: with noeviction, writes fail at 100. */
      cacheMemory: { threshold: 80, periodSeconds: 60, evaluationPeriods: 5, datapointsToAlarm: 5 },
      /** EngineCPUUtilization per node, % (AWS: about 90 % of the available CPU). */
      cacheEngineCpu: { threshold: 90, periodSeconds: 60, evaluationPeriods: 5, datapointsToAlarm: 5 },
      /** CurrConnections per node (AWS: 10 of 10 datapoints; the number is the user's). */
      cacheConnections: { threshold: 2000, periodSeconds: 60, evaluationPeriods: 10, datapointsToAlarm: 10 },
      /** ReplicationLag per replica, seconds (AWS: 15 of 15 datapoints; the number is the user's). */
      cacheReplicationLag: { threshold: 10, periodSeconds: 60, evaluationPeriods: 15, datapointsToAlarm: 15 },
      /** CPUUtilization of a PostgreSQL instance (each Aurora instance), %: the library's choice, as the cache's engine CPU. */
      databaseCpu: { threshold: 90, periodSeconds: 60, evaluationPeriods: 5, datapointsToAlarm: 5 },
      /**
       * FreeStorageSpace of an RDS for PostgreSQL instance below 2 GiB, in bytes (the figure cloudposse's RDS alarms
       * use): storage autoscaling grows it while it can, so this means the maximum is reached (Aurora's volume grows on
       * its own: no such alarm there).
       */
      databaseFreeStorage: { threshold: 2_147_483_648, periodSeconds: 60, evaluationPeriods: 5, datapointsToAlarm: 5 },
      /** DatabaseConnections per instance: a connection leak or a retry storm (10 of 10; the number is the user's). */
      databaseConnections: { threshold: 500, periodSeconds: 60, evaluationPeriods: 10, datapointsToAlarm: 10 },
      /** The canary's ChecksFailed per endpoint above 0, over one run (a missing run counts as breaching). */
      canaryChecks: { threshold: 0, periodSeconds: 900, evaluationPeriods: 1, datapointsToAlarm: 1 },
      /** The server certificate's DaysToExpiry below 30 (Amazon renews its certificates; this catches a miss). */
      certificateExpiry: { threshold: 30, periodSeconds: 900, evaluationPeriods: 1, datapointsToAlarm: 1 },
      /**
       * ClientCertificateDaysToExpiry below 20: certificates are re-issued every 30 days with 60 days of validity, so
       * below 20 the re-issue has failed for ten days (docs/operating.md).
       */
      clientCertificateExpiry: { threshold: 20, periodSeconds: 900, evaluationPeriods: 1, datapointsToAlarm: 1 },
    },
  },
  logs: {
    /** HIPAA/NIST/PCI ask for at least 365 days. */
    retentionDays: 365,
  },
  kms: {
    enableKeyRotation: true,
  },
  /**
   * What happens to stateful resources when they leave the stack (CDK removal policies; the Terraform side's
   * `prevent_destroy` and final snapshots are in `terraform`).
   */
  removal: {
    /** Queued tasks live on the broker. */
    broker: 'retain',
    /** A final snapshot of a replication group. */
    cache: 'snapshot',
    /** A final snapshot of a PostgreSQL result backend (instance or Aurora cluster; Aurora's instances hold no data). */
    database: 'snapshot',
    /** Keys, secrets and log groups: deleting a key makes its secrets and snapshots unreadable. */
    keys: 'retain',
    secrets: 'retain',
    logGroups: 'retain',
    /** Deleting a CA invalidates every certificate it issued. */
    certificateAuthority: 'retain',
  },
  /** `CeleryEncryptionGuard` (both targets). */
  guard: {
    /** `TransitEncryptionMode: preferred` is refused unless the migration flag is set on the guard. */
    allowTransitEncryptionPreferred: false,
  },
  /** Terraform-only settings (CDK for Terraform adapter); CloudFormation has no equivalent. */
  terraform: {
    /** `auth_token_update_strategy`: a changed token is added next to the previous one (no client is cut off). */
    authTokenUpdateStrategy: AuthTokenUpdateStrategy.ROTATE,
    /** `secret_string_wo_version` of a generated secret; raising it generates and stores a new value. */
    generatedSecretVersion: 1,
    /** `deletion_window_in_days` of a key: the longest (30), so that a scheduled deletion can be cancelled. */
    kmsDeletionWindowDays: 30,
    /** `recovery_window_in_days` of a secret: the longest (30), so that a deleted secret can be restored. */
    secretRecoveryWindowDays: 30,
    /** `prevent_destroy` on the broker: queued tasks live on it (the CDK side retains it). */
    brokerPreventDestroy: true,
    /** `prevent_destroy` on a replication group: off, a final snapshot is taken instead (the CDK side snapshots). */
    cachePreventDestroy: false,
    /** `prevent_destroy` on a PostgreSQL result backend: off, deletion protection and a final snapshot guard it. */
    databasePreventDestroy: false,
    /** `prevent_destroy` on a key: its secrets, cache and snapshots are unreadable without it. */
    keyPreventDestroy: true,
  },
  celery: {
    /** Redis broker only: must exceed the longest task runtime or ETA, or acks-late tasks run twice. */
    visibilityTimeoutSeconds: 3600,
    /** Redis health checks (broker transport options and result backend). */
    healthCheckIntervalSeconds: 25,
    /**
     * `result_backend_max_retries` when `result_backend_always_retry` is on. With 100 ms base and full-jitter
     * exponential backoff capped at 10 s, 20 retries wait out about a minute: an ElastiCache failover.
     */
    resultBackendMaxRetries: 20,
    resultBackendRetryBaseMs: 100,
    resultBackendRetryMaxSleepMs: 10_000,
    /**
     * One reserved task per worker process with acks-late. With a Redis broker, kombu then adds a polling delay per
     * task (celery/celery#4378, #7718; measured on kombu 5.2.4: 200 tasks 25-30 s against 0.9 s with 4).
     */
    prefetchMultiplier: 1,
    /**
     * `task_publish_retry_policy`: Celery's default gives up after 3 tries in 0.6 s, shorter than a broker restart or
     * failover (seen in the e2e fault test). 0 + 1 + 2 + 3 + 4 + 5 * 10 = 60 s of retries.
     */
    publishRetryPolicy: { max_retries: 14, interval_start: 0, interval_step: 1, interval_max: 5 },
    /** Workers check the broker and the result backend over verified TLS before they report ready. */
    startupCheck: true,
    /** Long enough for a broker or cache that is still starting; TLS failures end the check at once. */
    startupCheckSeconds: 20,
  },
} as const;
