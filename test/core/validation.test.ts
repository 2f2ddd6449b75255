import {
  BrokerDeploymentMode,
  CacheEngine,
  DayOfWeek,
  IssueCollector,
  LITERAL_CONTEXT,
  RabbitMqBrokerOptions,
  RedisCacheOptions,
  ResolveContext,
  TransitEncryptionMode,
  ValidationIssue,
  chooseSubnets,
  resolveCeleryConfig,
  resolveRabbitMqBrokerSpec,
  resolveRedisCacheSpec,
  CeleryConfigInput,
} from '../../lib/core';

/** A fake token marker, the way each adapter's isUnresolved recognises its own tokens. */
const TOKEN = '${Token[TOKEN.1]}';
const TOKEN_CTX: ResolveContext = {
  isUnresolved: (v) => v === TOKEN || (typeof v === 'number' && v === -1.8881545897087626e289),
};

interface Case {
  readonly name: string;
  readonly run: () => { errors: ValidationIssue[]; warnings: ValidationIssue[] };
  readonly code: string;
  readonly prop: string;
  /** Every one of these must appear in the message (the value received and what is allowed). */
  readonly mentions: string[];
  readonly severity?: 'error' | 'warning';
}

const redis =
  (props: RedisCacheOptions, auth = {}, ctx = LITERAL_CONTEXT) =>
  () =>
    resolveRedisCacheSpec(props, auth, ctx);
const mq =
  (props: RabbitMqBrokerOptions, creds = {}, ctx = LITERAL_CONTEXT) =>
  () =>
    resolveRabbitMqBrokerSpec(props, creds, ctx);
const amqps = { scheme: 'amqps' as const, host: 'b-1.mq.eu-west-1.on.aws', port: 5671, engine: 'rabbitmq' };
const rediss = { scheme: 'rediss' as const, host: 'master.c.cache.amazonaws.com', port: 6380, engine: 'valkey' };
const celery = (input: CeleryConfigInput) => () => resolveCeleryConfig(input, LITERAL_CONTEXT);
const subnets = (facts: { subnetId: string; availabilityZone: string; type?: string }[], min: number) => () => ({
  ...chooseSubnets(LITERAL_CONTEXT, 'vpcSubnets', facts, {
    min,
    max: 6,
    service: 'An ElastiCache replication group',
    why: 'for Multi-AZ',
  }),
  warnings: [],
});

const CASES: Case[] = [
  // ElastiCache: what Celery cannot use
  {
    name: 'serverless',
    run: redis({ serverless: true }),
    code: 'redis.serverless',
    prop: 'serverless',
    mentions: ['true', 'cluster mode', 'volatile-lru', 'replication group'],
  },
  {
    name: 'cluster mode enabled',
    run: redis({ clusterMode: 'enabled' }),
    code: 'redis.cluster-mode',
    prop: 'clusterMode',
    mentions: ['"enabled"', 'CROSSSLOT', 'Allowed: "disabled"'],
  },
  {
    name: 'cluster mode compatible',
    run: redis({ clusterMode: 'compatible' }),
    code: 'redis.cluster-mode',
    prop: 'clusterMode',
    mentions: ['"compatible"', 'Allowed: "disabled"'],
  },
  {
    name: 'several shards',
    run: redis({ numNodeGroups: 3 }),
    code: 'redis.cluster-mode',
    prop: 'numNodeGroups',
    mentions: ['3', 'Allowed: 1'],
  },
  // ElastiCache: TLS
  {
    name: 'transit encryption off',
    run: redis({ transitEncryptionEnabled: false }),
    code: 'redis.transit-encryption-off',
    prop: 'transitEncryptionEnabled',
    mentions: ['false', 'clear text', 'unsafeAllowPlaintext'],
  },
  {
    name: 'transit off with opt-in warns',
    run: redis({ transitEncryptionEnabled: false, unsafeAllowPlaintext: true }),
    code: 'redis.transit-encryption-off',
    prop: 'transitEncryptionEnabled',
    mentions: ['unsafeAllowPlaintext', 'readable on the network'],
    severity: 'warning',
  },
  {
    name: 'mode with transit off',
    run: redis({
      transitEncryptionEnabled: false,
      unsafeAllowPlaintext: true,
      transitEncryptionMode: TransitEncryptionMode.REQUIRED,
    }),
    code: 'redis.conflict',
    prop: 'transitEncryptionMode',
    mentions: ['"required"', 'transitEncryptionEnabled false'],
  },
  {
    name: 'opt-in without transit off',
    run: redis({ unsafeAllowPlaintext: true }),
    code: 'redis.conflict',
    prop: 'unsafeAllowPlaintext',
    mentions: ['remove unsafeAllowPlaintext'],
  },
  {
    name: 'unknown transit mode',
    run: redis({ transitEncryptionMode: 'optional' as TransitEncryptionMode }),
    code: 'redis.transit-encryption-mode',
    prop: 'transitEncryptionMode',
    mentions: ['"optional"', '"required"', '"preferred"'],
  },
  {
    name: 'preferred warns',
    run: redis({ transitEncryptionMode: TransitEncryptionMode.PREFERRED }),
    code: 'redis.transit-preferred',
    prop: 'transitEncryptionMode',
    mentions: ['PREFERRED', 'plaintext', 'REQUIRED'],
    severity: 'warning',
  },
  // ElastiCache: engines and nodes
  {
    name: 'Redis 6.2',
    run: redis({ engine: CacheEngine.REDIS, engineVersion: '6.2' }),
    code: 'redis.engine-version',
    prop: 'engineVersion',
    mentions: ['"6.2"', 'TransitEncryptionMode', 'Redis OSS 7.0', '"7.0", "7.1"'],
  },
  {
    name: 'Valkey 7.0',
    run: redis({ engineVersion: '7.0' }),
    code: 'redis.engine-version',
    prop: 'engineVersion',
    mentions: ['"7.0"', 'Valkey 7.2', '"8.2"'],
  },
  {
    name: 'patch version',
    run: redis({ engineVersion: '8.2.1' }),
    code: 'redis.engine-version',
    prop: 'engineVersion',
    mentions: ['"8.2.1"', 'Allowed:'],
  },
  {
    name: 'memcached',
    run: redis({ engine: 'memcached' as CacheEngine }),
    code: 'redis.engine',
    prop: 'engine',
    mentions: ['"memcached"', '"valkey"', '"redis"'],
  },
  {
    name: 'engine version token',
    run: redis({ engineVersion: TOKEN }, {}, TOKEN_CTX),
    code: 'redis.engine-version-token',
    prop: 'engineVersion',
    mentions: ['literal', 'parameter-group family'],
  },
  {
    name: 'previous-generation node',
    run: redis({ nodeType: 'cache.t2.micro' }),
    code: 'redis.node-type',
    prop: 'nodeType',
    mentions: ['"cache.t2.micro"', 'previous-generation', 'cache.m7g'],
  },
  {
    name: 'not a node type',
    run: redis({ nodeType: 'm5.large' }),
    code: 'redis.node-type',
    prop: 'nodeType',
    mentions: ['"m5.large"', 'cache.<family>.<size>'],
  },
  {
    name: 'one node with Multi-AZ',
    run: redis({ numCacheClusters: 1 }),
    code: 'redis.num-cache-clusters',
    prop: 'numCacheClusters',
    mentions: ['1', 'allowed 2 to 6', 'replica'],
  },
  {
    name: 'seven nodes',
    run: redis({ numCacheClusters: 7 }),
    code: 'redis.num-cache-clusters',
    prop: 'numCacheClusters',
    mentions: ['7', 'allowed 2 to 6'],
  },
  {
    name: 'fractional nodes',
    run: redis({ numCacheClusters: 2.5 }),
    code: 'redis.num-cache-clusters',
    prop: 'numCacheClusters',
    mentions: ['2.5', 'allowed 2 to 6'],
  },
  {
    name: 'Multi-AZ off warns',
    run: redis({ multiAz: false, numCacheClusters: 1 }),
    code: 'redis.multi-az-off',
    prop: 'multiAz',
    mentions: ['multiAz is false', 'unavailable'],
    severity: 'warning',
  },
  // ElastiCache: port
  {
    name: 'port 80',
    run: redis({ port: 80 }),
    code: 'redis.port',
    prop: 'port',
    mentions: ['80', 'allowed 1024 to 65535'],
  },
  {
    name: 'port 70000',
    run: redis({ port: 70000 }),
    code: 'redis.port',
    prop: 'port',
    mentions: ['70000', 'allowed 1024 to 65535'],
  },
  {
    name: 'port 6379 warns',
    run: redis({ port: 6379 }),
    code: 'redis.default-port',
    prop: 'port',
    mentions: ['6379', 'AEC5', '6380'],
    severity: 'warning',
  },
  {
    name: 'port token',
    run: redis({ port: -1.8881545897087626e289 }, {}, TOKEN_CTX),
    code: 'redis.port-token',
    prop: 'port',
    mentions: ['literal number', 'create-only'],
  },
  // ElastiCache: names and lengths
  {
    name: 'uppercase id',
    run: redis({ replicationGroupId: 'Celery_Backend' }),
    code: 'name.replicationGroupId',
    prop: 'replicationGroupId',
    mentions: ['"Celery_Backend"', 'lowercase letters, digits and hyphens'],
  },
  {
    name: 'id too long',
    run: redis({ replicationGroupId: 'a'.repeat(41) }),
    code: 'name.replicationGroupId',
    prop: 'replicationGroupId',
    mentions: ['41 characters', '1 to 40'],
  },
  {
    name: 'id ends with hyphen',
    run: redis({ replicationGroupId: 'celery-' }),
    code: 'name.replicationGroupId',
    prop: 'replicationGroupId',
    mentions: ['"celery-"', 'end with a hyphen'],
  },
  {
    name: 'id with double hyphen',
    run: redis({ replicationGroupId: 'celery--results' }),
    code: 'name.replicationGroupId',
    prop: 'replicationGroupId',
    mentions: ['"celery--results"', 'two consecutive hyphens'],
  },
  {
    name: 'id starting with a digit',
    run: redis({ replicationGroupId: '1celery' }),
    code: 'name.replicationGroupId',
    prop: 'replicationGroupId',
    mentions: ['"1celery"', 'starting with a letter'],
  },
  {
    name: 'description too long',
    run: redis({ description: 'x'.repeat(256) }),
    code: 'redis.description',
    prop: 'description',
    mentions: ['256 characters', '1 to 255'],
  },
  // ElastiCache: snapshots and windows
  {
    name: 'retention 36',
    run: redis({ snapshotRetentionDays: 36 }),
    code: 'redis.snapshot-retention',
    prop: 'snapshotRetentionDays',
    mentions: ['36', 'allowed 0 to 35'],
  },
  {
    name: 'retention -1',
    run: redis({ snapshotRetentionDays: -1 }),
    code: 'redis.snapshot-retention',
    prop: 'snapshotRetentionDays',
    mentions: ['-1', 'allowed 0 to 35'],
  },
  {
    name: 'retention 7 warns',
    run: redis({ snapshotRetentionDays: 7 }),
    code: 'redis.snapshot-retention',
    prop: 'snapshotRetentionDays',
    mentions: ['7', '15 days'],
    severity: 'warning',
  },
  {
    name: 'bad snapshot window',
    run: redis({ snapshotWindow: '3-4' }),
    code: 'window.format',
    prop: 'snapshotWindow',
    mentions: ['"3-4"', 'hh24:mi-hh24:mi'],
  },
  {
    name: 'short snapshot window',
    run: redis({ snapshotWindow: '03:00-03:30' }),
    code: 'window.length',
    prop: 'snapshotWindow',
    mentions: ['"03:00-03:30"', '30 minutes', 'at least 60'],
  },
  {
    name: 'bad maintenance window',
    run: redis({ maintenanceWindow: 'sunday:05:00-sunday:06:00' }),
    code: 'window.format',
    prop: 'maintenanceWindow',
    mentions: ['"sunday:05:00-sunday:06:00"', 'ddd:hh24:mi-ddd:hh24:mi'],
  },
  {
    name: 'overlapping windows',
    run: redis({ snapshotWindow: '05:00-06:00', maintenanceWindow: 'tue:05:30-tue:06:30' }),
    code: 'window.overlap',
    prop: 'snapshotWindow',
    mentions: ['"05:00-06:00"', '"tue:05:30-tue:06:30"', 'overlap'],
  },
  {
    name: 'overlap across midnight',
    run: redis({ snapshotWindow: '23:30-00:30', maintenanceWindow: 'sun:00:00-sun:01:00' }),
    code: 'window.overlap',
    prop: 'snapshotWindow',
    mentions: ['overlap'],
  },
  // ElastiCache: parameters and secrets
  {
    name: 'eviction policy',
    run: redis({ parameters: { 'maxmemory-policy': 'allkeys-lru' } }),
    code: 'redis.maxmemory-policy',
    prop: 'parameters.maxmemory-policy',
    mentions: ['"allkeys-lru"', '_kombu.binding', 'Allowed: "noeviction"'],
  },
  {
    name: 'AUTH token too short',
    run: redis({}, { generatedLength: 8 }),
    code: 'secret.length',
    prop: 'authToken.length',
    mentions: ['8', '16 to 128'],
  },
  {
    name: 'AUTH token too long',
    run: redis({}, { generatedLength: 129 }),
    code: 'secret.length',
    prop: 'authToken.length',
    mentions: ['129', '16 to 128'],
  },
  {
    name: 'auto minor upgrade off warns',
    run: redis({ autoMinorVersionUpgrade: false }),
    code: 'redis.auto-minor-upgrade-off',
    prop: 'autoMinorVersionUpgrade',
    mentions: ['false', 'ElastiCache.2'],
    severity: 'warning',
  },
  // Subnets
  {
    name: 'one AZ for Multi-AZ',
    run: subnets(
      [
        { subnetId: 's-1', availabilityZone: 'eu-west-1a' },
        { subnetId: 's-2', availabilityZone: 'eu-west-1a' },
      ],
      2,
    ),
    code: 'subnets.too-few',
    prop: 'vpcSubnets',
    mentions: ['1 Availability Zone', 'eu-west-1a', 'at least 2'],
  },
  {
    name: 'public subnets',
    run: subnets(
      [
        { subnetId: 's-1', availabilityZone: 'a', type: 'Public' },
        { subnetId: 's-2', availabilityZone: 'b', type: 'Public' },
      ],
      2,
    ),
    code: 'subnets.public',
    prop: 'vpcSubnets',
    mentions: ['"s-1"', 'private or isolated', 'PRIVATE_ISOLATED'],
  },
  // Amazon MQ
  {
    name: 'public broker',
    run: mq({ publiclyAccessible: true }),
    code: 'rabbitmq.public',
    prop: 'publiclyAccessible',
    mentions: ['true', 'inside the VPC', 'Allowed: false'],
  },
  {
    name: 'public broker as token',
    run: mq({ publiclyAccessible: TOKEN as unknown as boolean }, {}, TOKEN_CTX),
    code: 'rabbitmq.public',
    prop: 'publiclyAccessible',
    mentions: ['Allowed: false'],
  },
  {
    name: 'RabbitMQ 3.11',
    run: mq({ engineVersion: '3.11' }),
    code: 'rabbitmq.engine-version',
    prop: 'engineVersion',
    mentions: ['"3.11"', '"3.13", "4.2" and "4.3"', 'out of support'],
  },
  {
    name: 'RabbitMQ version token',
    run: mq({ engineVersion: TOKEN }, {}, TOKEN_CTX),
    code: 'rabbitmq.engine-version-token',
    prop: 'engineVersion',
    mentions: ['literal', '"4.2"'],
  },
  {
    name: 'RabbitMQ 4 on m5',
    run: mq({ hostInstanceType: 'mq.m5.large' }),
    code: 'rabbitmq.instance-type',
    prop: 'hostInstanceType',
    mentions: ['"mq.m5.large"', 'RabbitMQ 4.2', 'mq.m7g.*'],
  },
  {
    name: 'RabbitMQ 4 on t3',
    run: mq({
      engineVersion: '4.2',
      hostInstanceType: 'mq.t3.micro',
      deploymentMode: BrokerDeploymentMode.SINGLE_INSTANCE,
    }),
    code: 'rabbitmq.instance-type',
    prop: 'hostInstanceType',
    mentions: ['"mq.t3.micro"', 'mq.m7g.*'],
  },
  {
    name: 't3.micro cluster',
    run: mq({ engineVersion: '3.13', hostInstanceType: 'mq.t3.micro' }),
    code: 'rabbitmq.instance-type',
    prop: 'hostInstanceType',
    mentions: ['"mq.t3.micro"', 'SINGLE_INSTANCE'],
  },
  {
    name: 'not an MQ instance type',
    run: mq({ hostInstanceType: 'm7g.large' }),
    code: 'rabbitmq.instance-type',
    prop: 'hostInstanceType',
    mentions: ['"m7g.large"', 'mq.<family>.<size>'],
  },
  {
    name: 'ActiveMQ deployment mode',
    run: mq({ deploymentMode: 'ACTIVE_STANDBY_MULTI_AZ' as BrokerDeploymentMode }),
    code: 'rabbitmq.deployment-mode',
    prop: 'deploymentMode',
    mentions: ['"ACTIVE_STANDBY_MULTI_AZ"', '"CLUSTER_MULTI_AZ"', '"SINGLE_INSTANCE"'],
  },
  {
    name: 'single instance warns',
    run: mq({ deploymentMode: BrokerDeploymentMode.SINGLE_INSTANCE }),
    code: 'rabbitmq.single-instance',
    prop: 'deploymentMode',
    mentions: ['SINGLE_INSTANCE', 'MQ.6'],
    severity: 'warning',
  },
  {
    name: 'broker name with spaces',
    run: mq({ brokerName: 'my broker!' }),
    code: 'name.brokerName',
    prop: 'brokerName',
    mentions: ['"my broker!"', 'letters, digits, hyphens and underscores'],
  },
  {
    name: 'broker name too long',
    run: mq({ brokerName: 'b'.repeat(51) }),
    code: 'name.brokerName',
    prop: 'brokerName',
    mentions: ['51 characters', '1 to 50'],
  },
  {
    name: 'guest user',
    run: mq({ adminUsername: 'guest' }),
    code: 'name.adminUsername',
    prop: 'adminUsername',
    mentions: ['"guest"', 'reserved'],
  },
  {
    name: 'one-letter user',
    run: mq({ adminUsername: 'a' }),
    code: 'name.adminUsername',
    prop: 'adminUsername',
    mentions: ['"a"', '2 to 100'],
  },
  {
    name: 'user with a colon',
    run: mq({ adminUsername: 'celery:admin' }),
    code: 'name.adminUsername',
    prop: 'adminUsername',
    mentions: ['"celery:admin"', 'hyphens, periods and underscores'],
  },
  {
    name: 'password too short',
    run: mq({}, { generatedLength: 8 }),
    code: 'secret.length',
    prop: 'adminCredentials.length',
    mentions: ['8', '12 to 250', 'no , : ='],
  },
  {
    name: 'auto minor upgrade off',
    run: mq({ autoMinorVersionUpgrade: false }),
    code: 'rabbitmq.auto-minor-upgrade',
    prop: 'autoMinorVersionUpgrade',
    mentions: ['false', '3.13 and later'],
  },
  {
    name: 'no such day',
    run: mq({ maintenanceWindow: { dayOfWeek: 'FUNDAY' as DayOfWeek, timeOfDay: '03:00' } }),
    code: 'rabbitmq.maintenance-window',
    prop: 'maintenanceWindow.dayOfWeek',
    mentions: ['"FUNDAY"', 'MONDAY'],
  },
  {
    name: 'no such time',
    run: mq({ maintenanceWindow: { dayOfWeek: DayOfWeek.MONDAY, timeOfDay: '25:00' } }),
    code: 'rabbitmq.maintenance-window',
    prop: 'maintenanceWindow.timeOfDay',
    mentions: ['"25:00"', 'hh:mm'],
  },
  // Celery configuration
  {
    name: 'plaintext amqp',
    run: celery({ broker: { ...amqps, scheme: 'amqp' as 'amqps' } }),
    code: 'celery.scheme',
    prop: 'broker.scheme',
    mentions: ['"amqp"', 'plaintext', '"amqps", "rediss"'],
  },
  {
    name: 'plaintext redis backend',
    run: celery({ broker: amqps, resultBackend: { ...rediss, scheme: 'redis' as 'rediss' } }),
    code: 'celery.scheme',
    prop: 'resultBackend.scheme',
    mentions: ['"redis"', 'plaintext', 'Allowed: "rediss"'],
  },
  {
    name: 'amqps result backend',
    run: celery({ broker: amqps, resultBackend: { ...amqps } }),
    code: 'celery.scheme',
    prop: 'resultBackend.scheme',
    mentions: ['"amqps"', 'Allowed: "rediss"'],
  },
  {
    name: 'engine mismatch',
    run: celery({ broker: { ...amqps, engine: 'valkey' } }),
    code: 'celery.engine',
    prop: 'broker.engine',
    mentions: ['"valkey"', '"rabbitmq"'],
  },
  {
    name: 'db 16',
    run: celery({ broker: { ...rediss, db: 16 } }),
    code: 'celery.db',
    prop: 'broker.db',
    mentions: ['16', '0 to 15'],
  },
  {
    name: 'vhost on redis',
    run: celery({ broker: { ...rediss, vhost: '/' } }),
    code: 'celery.vhost',
    prop: 'broker.vhost',
    mentions: ['"/"', 'amqps endpoints'],
  },
  {
    name: 'host with a path',
    run: celery({ broker: { ...amqps, host: 'b-1/x' } }),
    code: 'celery.host',
    prop: 'broker.host',
    mentions: ['"b-1/x"', 'not a host name'],
  },
  {
    name: 'IP host warns',
    run: celery({ broker: { ...amqps, host: '10.0.0.5' } }),
    code: 'celery.host-ip',
    prop: 'broker.host',
    mentions: ['"10.0.0.5"', 'DNS name'],
    severity: 'warning',
  },
  {
    name: 'PLAIN login',
    run: celery({ broker: { ...amqps, loginMethod: 'PLAIN' as 'EXTERNAL' } }),
    code: 'celery.login-method',
    prop: 'broker.loginMethod',
    mentions: ['"PLAIN"', '"EXTERNAL"'],
  },
  {
    name: 'EXTERNAL without certificate',
    run: celery({ broker: { ...amqps, loginMethod: 'EXTERNAL' } }),
    code: 'celery.login-method',
    prop: 'broker.loginMethod',
    mentions: ['certFile', 'keyFile'],
  },
  {
    name: 'certificate without key',
    run: celery({ broker: { ...amqps, certFile: '/c.pem' } }),
    code: 'celery.client-cert',
    prop: 'broker.certFile',
    mentions: ['go together'],
  },
  {
    name: 'bad secret field',
    run: celery({ broker: { ...amqps, secretField: 'pass word' } }),
    code: 'secret.field',
    prop: 'broker.secretField',
    mentions: ['"pass word"', 'letters, digits'],
  },
  {
    name: 'visibility timeout 0',
    run: celery({ broker: rediss, options: { visibilityTimeoutSeconds: 0 } }),
    code: 'celery.option',
    prop: 'options.visibilityTimeoutSeconds',
    mentions: ['0', 'allowed 1 to 604800'],
  },
  {
    name: 'prefetch multiplier 0',
    run: celery({ broker: rediss, options: { prefetchMultiplier: 0 } }),
    code: 'celery.option',
    prop: 'options.prefetchMultiplier',
    mentions: ['0', 'allowed 1 to 100'],
  },
  {
    name: 'quorum on redis',
    run: celery({ broker: rediss, options: { quorumQueues: true } }),
    code: 'celery.option',
    prop: 'options.quorumQueues',
    mentions: ['RabbitMQ'],
  },
  {
    name: 'delayed delivery on redis',
    run: celery({ broker: rediss, options: { nativeDelayedDelivery: true } }),
    code: 'celery.option',
    prop: 'options.nativeDelayedDelivery',
    mentions: ['true', 'RabbitMQ'],
  },
  {
    name: 'delayed delivery without quorum queues',
    run: celery({ broker: { ...amqps, engineVersion: '3.13' }, options: { nativeDelayedDelivery: true } }),
    code: 'celery.option',
    prop: 'options.nativeDelayedDelivery',
    mentions: ['quorum queue'],
  },
  {
    name: 'transient queues on RabbitMQ 4.3',
    run: celery({ broker: { ...amqps, engineVersion: '4.3' }, options: { transientQueues: true } }),
    code: 'celery.option',
    prop: 'options.transientQueues',
    mentions: ['"4.3"', 'never becomes ready'],
  },
  {
    name: 'no transient queues on redis',
    run: celery({ broker: rediss, options: { transientQueues: false } }),
    code: 'celery.option',
    prop: 'options.transientQueues',
    mentions: ['false', 'RabbitMQ'],
  },
  {
    name: 'start-up check 0 s',
    run: celery({ broker: amqps, options: { startupCheckSeconds: 0 } }),
    code: 'celery.option',
    prop: 'options.startupCheckSeconds',
    mentions: ['0', 'allowed 1 to 600'],
  },
  {
    name: 'server name on rediss',
    run: celery({ broker: { ...rediss, serverName: 'x.cache.amazonaws.com' } }),
    code: 'celery.server-name',
    prop: 'broker.serverName',
    mentions: ['amqps', '/etc/hosts'],
  },
  {
    name: 'server name not a DNS name',
    run: celery({ broker: { ...amqps, serverName: 'b-1 mq' } }),
    code: 'celery.server-name',
    prop: 'broker.serverName',
    mentions: ['"b-1 mq"', 'DNS name'],
  },
  {
    name: 'port out of range',
    run: celery({ broker: { ...amqps, port: 0 } }),
    code: 'celery.port',
    prop: 'broker.port',
    mentions: ['0', '1 to 65535'],
  },
];

describe('invalid input is refused with a message naming the prop, the value and what is allowed', () => {
  test('the table covers at least 60 cases', () => {
    expect(CASES.length).toBeGreaterThanOrEqual(60);
  });

  test.each(CASES.map((c) => [c.name, c] as const))('%s', (_name, c) => {
    const result = c.run();
    const list = c.severity === 'warning' ? result.warnings : result.errors;
    const issue = list.find((i) => i.code === c.code && i.prop === c.prop);
    expect({ found: issue !== undefined, all: list }).toMatchObject({ found: true });
    expect(issue!.message).toContain(c.prop.split('.')[0]);
    for (const m of c.mentions) expect(issue!.message).toContain(m);
    if (c.severity === 'warning') expect(result.errors).toEqual([]);
  });
});

describe('tokens are skipped where a deploy-time value is fine', () => {
  test('a token replication group id and subnets with token AZs', () => {
    expect(resolveRedisCacheSpec({ replicationGroupId: TOKEN, description: TOKEN }, {}, TOKEN_CTX).errors).toEqual([]);
    const r = chooseSubnets(
      TOKEN_CTX,
      'vpcSubnets',
      [
        { subnetId: 'a', availabilityZone: TOKEN },
        { subnetId: 'b', availabilityZone: TOKEN },
      ],
      { min: 2, max: 6, service: 's', why: 'w' },
    );
    expect(r.errors).toEqual([]);
    expect(r.subnets).toHaveLength(2);
  });

  test('one subnet per AZ, capped', () => {
    const facts = ['a', 'a', 'b', 'c', 'd'].map((az, i) => ({ subnetId: `s-${i}`, availabilityZone: az }));
    expect(
      chooseSubnets(LITERAL_CONTEXT, 'p', facts, { min: 1, max: 3, service: 's', why: 'w' }).subnets.map(
        (s) => s.subnetId,
      ),
    ).toEqual(['s-0', 's-2', 's-3']);
  });

  test('IssueCollector.known treats tokens as unknown', () => {
    const c = new IssueCollector(TOKEN_CTX);
    expect([c.known(TOKEN), c.known('x'), c.known(undefined)]).toEqual([false, true, false]);
  });
});
