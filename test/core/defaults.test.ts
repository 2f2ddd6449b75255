import {
  BrokerDeploymentMode,
  CacheEngine,
  LITERAL_CONTEXT,
  TransitEncryptionMode,
  resolveRabbitMqBrokerSpec,
  resolveRedisCacheSpec,
} from '../../lib/core';

describe('RedisCache defaults', () => {
  const result = resolveRedisCacheSpec({}, {}, LITERAL_CONTEXT);
  const spec = result.value;

  test('no issues for empty props', () => {
    expect(result.errors).toEqual([]);
    expect(result.warnings).toEqual([]);
  });

  test.each([
    ['engine', CacheEngine.VALKEY],
    ['engineVersion', '8.2'],
    ['parameterGroupFamily', 'valkey8'],
    ['nodeType', 'cache.m7g.large'],
    ['numCacheClusters', 2],
    ['port', 6380],
    ['transitEncryptionEnabled', true],
    ['transitEncryptionMode', TransitEncryptionMode.REQUIRED],
    ['atRestEncryptionEnabled', true],
    ['multiAzEnabled', true],
    ['automaticFailoverEnabled', true],
    ['clusterMode', 'disabled'],
    ['snapshotRetentionLimit', 15],
    ['snapshotWindow', '03:00-04:00'],
    ['preferredMaintenanceWindow', 'sun:05:00-sun:06:00'],
    ['autoMinorVersionUpgrade', true],
    ['authEnabled', true],
  ] as const)('%s is %p', (key, expected) => {
    expect(spec[key]).toEqual(expected);
  });

  test('parameter group forces noeviction and logs both types', () => {
    expect(spec.parameters).toEqual({ 'maxmemory-policy': 'noeviction' });
    expect(spec.logTypes).toEqual(['slow-log', 'engine-log']);
  });

  test('AUTH token is 64 alphanumerics in a JSON password field', () => {
    expect(spec.authToken).toEqual({
      length: 64,
      excludePunctuation: true,
      includeSpace: false,
      requireEachIncludedType: true,
      generateStringKey: 'password',
      template: {},
      description: 'ElastiCache AUTH token for Celery',
    });
  });

  test('Redis OSS defaults to 7.1 with the redis7 family', () => {
    const r = resolveRedisCacheSpec({ engine: CacheEngine.REDIS }, {}, LITERAL_CONTEXT).value;
    expect([r.engineVersion, r.parameterGroupFamily]).toEqual(['7.1', 'redis7']);
  });

  test('an existing secret means no generated token', () => {
    expect(resolveRedisCacheSpec({}, { existingSecret: true }, LITERAL_CONTEXT).value.authToken).toBeUndefined();
  });
});

describe('RabbitMqBroker defaults', () => {
  const result = resolveRabbitMqBrokerSpec({}, {}, LITERAL_CONTEXT);
  const spec = result.value;

  test('no issues for empty props', () => {
    expect(result.errors).toEqual([]);
    expect(result.warnings).toEqual([]);
  });

  test.each([
    ['engineType', 'RABBITMQ'],
    ['engineVersion', '4.2'],
    ['hostInstanceType', 'mq.m7g.large'],
    ['deploymentMode', BrokerDeploymentMode.CLUSTER_MULTI_AZ],
    ['publiclyAccessible', false],
    ['autoMinorVersionUpgrade', true],
    ['generalLogs', true],
    ['adminUsername', 'celeryadmin'],
    ['quorumQueues', true],
    ['maxSubnets', 3],
  ] as const)('%s is %p', (key, expected) => {
    expect(spec[key]).toEqual(expected);
  });

  test('maintenance window is Sunday 03:00 UTC', () => {
    expect(spec.maintenanceWindow).toEqual({ dayOfWeek: 'SUNDAY', timeOfDay: '03:00', timeZone: 'UTC' });
  });

  test('admin secret: 32 alphanumerics with the user name beside them', () => {
    expect(spec.adminSecret).toMatchObject({
      length: 32,
      excludePunctuation: true,
      generateStringKey: 'password',
      template: { username: 'celeryadmin' },
    });
  });

  test('RabbitMQ 3.13 does not declare quorum queues by default', () => {
    expect(
      resolveRabbitMqBrokerSpec({ engineVersion: '3.13', hostInstanceType: 'mq.m5.large' }, {}, LITERAL_CONTEXT).value
        .quorumQueues,
    ).toBe(false);
  });

  test('a single instance uses one subnet', () => {
    expect(
      resolveRabbitMqBrokerSpec({ deploymentMode: BrokerDeploymentMode.SINGLE_INSTANCE }, {}, LITERAL_CONTEXT).value
        .maxSubnets,
    ).toBe(1);
  });
});
