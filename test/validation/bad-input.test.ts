import { ValidationIssue } from '../../lib/core';
import { BAD_INPUTS, errorOf } from './cases';

/**
 * The bad-input table: every invalid configuration of test/validation/cases.ts, on the CDK and cdktf adapters, with
 * the exact issues (code, prop, full message) it must be refused with. A changed word in a message fails here: update
 * the table on purpose.
 */
const EXPECTED: [target: 'cdk' | 'cdktf', name: string, issues: ValidationIssue[]][] = [
  [
    'cdk',
    'replication group id too long',
    [
      {
        code: 'name.replicationGroupId',
        prop: 'replicationGroupId',
        message:
          'replicationGroupId "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa" is not a valid ElastiCache replication group id: it is 41 characters long; allowed: 1 to 40 (https://docs.aws.amazon.com/AmazonElastiCache/latest/APIReference/API_CreateReplicationGroup.html).',
      },
    ],
  ],
  [
    'cdk',
    'replication group id with an underscore',
    [
      {
        code: 'name.replicationGroupId',
        prop: 'replicationGroupId',
        message:
          'replicationGroupId "celery_results" is not a valid ElastiCache replication group id: allowed characters: lowercase letters, digits and hyphens, starting with a letter (https://docs.aws.amazon.com/AmazonElastiCache/latest/APIReference/API_CreateReplicationGroup.html).',
      },
    ],
  ],
  [
    'cdk',
    'broker name too long',
    [
      {
        code: 'name.brokerName',
        prop: 'brokerName',
        message:
          'brokerName "bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb" is not a valid Amazon MQ broker name: it is 51 characters long; allowed: 1 to 50 (https://docs.aws.amazon.com/amazon-mq/latest/api-reference/brokers.html).',
      },
    ],
  ],
  [
    'cdk',
    'one-letter admin user',
    [
      {
        code: 'name.adminUsername',
        prop: 'adminUsername',
        message:
          'adminUsername "a" is not a valid Amazon MQ for RabbitMQ user name: it is 1 character long; allowed: 2 to 100 (https://docs.aws.amazon.com/amazon-mq/latest/developer-guide/rabbitmq-basic-elements-user.html).',
      },
    ],
  ],
  [
    'cdk',
    'admin user with a space',
    [
      {
        code: 'name.adminUsername',
        prop: 'adminUsername',
        message:
          'adminUsername "celery admin" is not a valid Amazon MQ for RabbitMQ user name: allowed characters: letters, digits, hyphens, periods and underscores (https://docs.aws.amazon.com/amazon-mq/latest/developer-guide/rabbitmq-basic-elements-user.html).',
      },
    ],
  ],
  [
    'cdk',
    'Redis OSS with a Valkey version',
    [
      {
        code: 'redis.engine-version',
        prop: 'engineVersion',
        message:
          'engineVersion "8.2" is not supported for engine "redis": TransitEncryptionMode and in-place AUTH token rotation need Redis OSS 7.0 or later. Allowed: "7.0", "7.1".',
      },
    ],
  ],
  [
    'cdk',
    'previous-generation node',
    [
      {
        code: 'redis.node-type',
        prop: 'nodeType',
        message:
          'nodeType "cache.t2.micro" is a previous-generation node type that Valkey and current Redis OSS versions do not run on: use a current family such as cache.t4g, cache.m7g or cache.r7g.',
      },
    ],
  ],
  [
    'cdk',
    't3.micro as a cluster',
    [
      {
        code: 'rabbitmq.instance-type',
        prop: 'hostInstanceType',
        message:
          'hostInstanceType "mq.t3.micro" is only for SINGLE_INSTANCE brokers: a CLUSTER_MULTI_AZ broker needs mq.m5.large, mq.m7g.medium or larger.',
      },
    ],
  ],
  [
    'cdk',
    'RabbitMQ 3.8',
    [
      {
        code: 'rabbitmq.engine-version',
        prop: 'engineVersion',
        message:
          'engineVersion "3.8" is not supported: Amazon MQ for RabbitMQ runs "3.13", "4.2" and "4.3" (major.minor; minor upgrades are automatic). Earlier versions are out of support.',
      },
    ],
  ],
  [
    'cdk',
    'consumer timeout of 30 s',
    [
      {
        code: 'rabbitmq.consumer-timeout',
        prop: 'consumerTimeoutSeconds',
        message:
          "consumerTimeoutSeconds 30 is out of range: allowed 60 to 2147483 seconds (Amazon MQ's limit of 2^31-1 ms), or 0 for none. It must exceed Celery's longest task.",
      },
    ],
  ],
  [
    'cdk',
    'TLS off',
    [
      {
        code: 'redis.transit-encryption-off',
        prop: 'transitEncryptionEnabled',
        message:
          'transitEncryptionEnabled false would send tasks, results and credentials in clear text. Keep it on (the default); to adopt an existing plaintext cluster, also set unsafeAllowPlaintext: true and move to transitEncryptionMode PREFERRED, then REQUIRED.',
      },
    ],
  ],
  [
    'cdk',
    'public broker',
    [
      {
        code: 'rabbitmq.public',
        prop: 'publiclyAccessible',
        message:
          'publiclyAccessible true is not allowed: a Celery broker must be reachable only from producers and workers inside the VPC. Allowed: false (the default); reach it through the VPC, a VPN or PrivateLink.',
      },
    ],
  ],
  [
    'cdk',
    'cluster mode',
    [
      {
        code: 'redis.cluster-mode',
        prop: 'clusterMode',
        message:
          'clusterMode "enabled" is not supported: Celery and kombu do not support Redis Cluster: multi-key commands fail with CROSSSLOT/MOVED and only db 0 exists (celery/celery#2852, #9019). Allowed: "disabled" (the default).',
      },
    ],
  ],
  [
    'cdk',
    'two shards',
    [
      {
        code: 'redis.cluster-mode',
        prop: 'numNodeGroups',
        message:
          'numNodeGroups 2 is not supported: more than one shard means cluster mode, and Celery and kombu do not support Redis Cluster: multi-key commands fail with CROSSSLOT/MOVED and only db 0 exists (celery/celery#2852, #9019). Allowed: 1.',
      },
    ],
  ],
  [
    'cdk',
    'serverless',
    [
      {
        code: 'redis.serverless',
        prop: 'serverless',
        message:
          "serverless true is not supported: ElastiCache Serverless always runs in cluster mode, allows only RBAC/IAM users and fixes maxmemory-policy to volatile-lru, so Celery and kombu do not support Redis Cluster: multi-key commands fail with CROSSSLOT/MOVED and only db 0 exists (celery/celery#2852, #9019) and evictions drop Celery's queue bindings. Use a RedisCache replication group (the default).",
      },
    ],
  ],
  [
    'cdk',
    'one Availability Zone for Multi-AZ',
    [
      {
        code: 'subnets.too-few',
        prop: 'vpcSubnets',
        message:
          'vpcSubnets gives 1 Availability Zone (eu-west-1a): An ElastiCache replication group needs subnets in at least 2 different Availability Zones for Multi-AZ with automatic failover. Select more subnets, or a VPC with more Availability Zones.',
      },
    ],
  ],
  [
    'cdk',
    'public subnets for a broker',
    [
      {
        code: 'subnets.public',
        prop: 'vpcSubnets',
        message:
          'vpcSubnets selects public subnets (3 subnets of this stack): An Amazon MQ broker must sit on private or isolated subnets with no route from the internet. Select private or isolated subnets (SubnetType.PRIVATE_ISOLATED or PRIVATE_WITH_EGRESS on the CDK).',
      },
    ],
  ],
  [
    'cdk',
    'AUTH token of 129 characters',
    [
      {
        code: 'secret.length',
        prop: 'authToken.length',
        message:
          'authToken.length 129 is not allowed: use a whole number from 16 to 128. ElastiCache accepts AUTH tokens of 16 to 128 characters (https://docs.aws.amazon.com/AmazonElastiCache/latest/dg/auth.html).',
      },
    ],
  ],
  [
    'cdk',
    'admin password of 11 characters',
    [
      {
        code: 'secret.length',
        prop: 'adminCredentials.length',
        message:
          'adminCredentials.length 11 is not allowed: use a whole number from 12 to 250. Amazon MQ accepts passwords of 12 to 250 characters with at least 4 unique characters and no , : = (https://docs.aws.amazon.com/amazon-mq/latest/api-reference/brokers-broker-id-users-username.html).',
      },
    ],
  ],
  [
    'cdk',
    'AUTH token field with a space',
    [
      {
        code: 'secret.field',
        prop: 'authToken.field',
        message:
          'authToken.field "pass word" is not a usable JSON field name: use 1 to 128 letters, digits, "_", "." or "-".',
      },
    ],
  ],
  [
    'cdk',
    'unsafeAllowPlaintext with TLS on',
    [
      {
        code: 'redis.conflict',
        prop: 'unsafeAllowPlaintext',
        message: 'unsafeAllowPlaintext is set but transitEncryptionEnabled is not false: remove unsafeAllowPlaintext.',
      },
    ],
  ],
  [
    'cdk',
    'a transit mode with TLS off',
    [
      {
        code: 'redis.conflict',
        prop: 'transitEncryptionMode',
        message:
          'transitEncryptionMode "required" conflicts with transitEncryptionEnabled false: a mode needs transit encryption on.',
      },
    ],
  ],
  [
    'cdk',
    'results on a RabbitMQ broker',
    [
      {
        code: 'transport.shared-backend',
        prop: 'resultBackend',
        message:
          'resultBackend CeleryResultBackend.sharedWithRedisBroker() needs broker CeleryBroker.redis(): a RabbitMQ broker cannot store results. Use CeleryResultBackend.redis() instead.',
      },
    ],
  ],
  [
    'cdk',
    'negative snapshot retention',
    [
      {
        code: 'redis.snapshot-retention',
        prop: 'snapshotRetentionDays',
        message: 'snapshotRetentionDays -1 is out of range: allowed 0 to 35 (15 or more recommended).',
      },
    ],
  ],
  [
    'cdk',
    'seven nodes',
    [
      {
        code: 'redis.num-cache-clusters',
        prop: 'numCacheClusters',
        message:
          'numCacheClusters 7 is out of range: allowed 2 to 6 (Multi-AZ with automatic failover needs a primary and at least one replica).',
      },
    ],
  ],
  [
    'cdk',
    'port 70000',
    [{ code: 'redis.port', prop: 'port', message: 'port 70000 is out of range: allowed 1024 to 65535.' }],
  ],
  [
    'cdk',
    'negative visibility timeout',
    [
      {
        code: 'celery.option',
        prop: 'celeryOptions.visibilityTimeoutSeconds',
        message: 'celeryOptions.visibilityTimeoutSeconds -5 is out of range: allowed 1 to 604800.',
      },
    ],
  ],
  [
    'cdk',
    'maintenance at 25:00',
    [
      {
        code: 'rabbitmq.maintenance-window',
        prop: 'maintenanceWindow.timeOfDay',
        message: 'maintenanceWindow.timeOfDay "25:00" is not a time: use 24-hour "hh:mm", e.g. "03:00".',
      },
    ],
  ],
  [
    'cdk',
    'port from a parameter',
    [
      {
        code: 'redis.port-token',
        prop: 'port',
        message:
          'port must be a literal number: it is create-only on ElastiCache and the security group rules and Celery settings are derived from it.',
      },
    ],
  ],
  [
    'cdk',
    'engine version from a parameter',
    [
      {
        code: 'redis.engine-version-token',
        prop: 'engineVersion',
        message:
          'engineVersion must be a literal (e.g. "8.2"): the parameter-group family and the TLS support check are derived from it at synth time.',
      },
    ],
  ],
  [
    'cdk',
    'publiclyAccessible from a parameter',
    [
      {
        code: 'rabbitmq.public',
        prop: 'publiclyAccessible',
        message:
          'publiclyAccessible from a deploy-time value is not allowed: a Celery broker must be reachable only from producers and workers inside the VPC. Allowed: false (the default); reach it through the VPC, a VPN or PrivateLink.',
      },
    ],
  ],
  [
    'cdk',
    'RBAC user named default',
    [
      {
        code: 'redis.rbac-user',
        prop: 'authToken.producerUsername',
        message:
          'authToken.producerUsername "default" is reserved: it names the group\'s mandatory default user, which this library switches off.',
      },
    ],
  ],
  [
    'cdk',
    'RBAC access string with a password',
    [
      {
        code: 'redis.access-string',
        prop: 'authToken.accessString',
        message:
          'authToken.accessString "on >secret ~* +@all" is not allowed: it must switch the user "on" and hold no password rules (>, <, #, !, nopass, resetpass, reset); ElastiCache sets passwords itself. Default: "on ~* &* +@all -@dangerous".',
      },
    ],
  ],
  [
    'cdk',
    'application user named like the admin',
    [
      {
        code: 'rabbitmq.application-user',
        prop: 'workerUsername',
        message:
          'workerUsername "celeryadmin" is the broker\'s admin user: application users are separate identities, so that a leaked worker or producer password cannot administer the broker. Choose another name.',
      },
    ],
  ],
  [
    'cdk',
    'same user name for both roles',
    [
      {
        code: 'rabbitmq.application-user',
        prop: 'workerUsername',
        message:
          'workerUsername "celery" is also producerUsername: each role needs its own user (or set sharedUser true).',
      },
    ],
  ],
  [
    'cdk',
    'user name ending in the rotation suffix',
    [
      {
        code: 'rabbitmq.application-user',
        prop: 'producerUsername',
        message:
          'producerUsername "celery.alt" ends with ".alt", which names each user\'s rotation twin (rotation alternates between "<user>" and "<user>.alt"). Choose another name.',
      },
    ],
  ],
  [
    'cdk',
    'shared user name without sharedUser',
    [
      {
        code: 'rabbitmq.shared-user',
        prop: 'sharedUsername',
        message:
          'sharedUsername "celery-app" applies only with sharedUser true; per-role users are named by producerUsername and workerUsername.',
      },
    ],
  ],
  [
    'cdk',
    'permission that is not a regular expression',
    [
      {
        code: 'rabbitmq.permissions',
        prop: 'producerPermissions.configure',
        message:
          'producerPermissions.configure "(" is not allowed: it is not a regular expression (Invalid regular expression: /(/: Unterminated group). Use a RabbitMQ permission regular expression, e.g. ".*" (everything on the vhost) or "^$" (nothing).',
      },
    ],
  ],
  [
    'cdk',
    'rotation every 120 days',
    [
      {
        code: 'secret.rotation-days',
        prop: 'rotationDays',
        message:
          'rotationDays 120 is not allowed: use a whole number of days from 1 to 90 (Security Hub SecretsManager.4 and the NIST/HIPAA packs expect rotation within 90 days).',
      },
    ],
  ],
  [
    'cdk',
    'delivery limit 0',
    [
      {
        code: 'rabbitmq.delivery-limit',
        prop: 'deliveryLimit',
        message:
          'deliveryLimit 0 is out of range: allowed 1 to 1000 deliveries before a task goes to the dead-letter queue.',
      },
    ],
  ],
  [
    'cdk',
    'an amq.* exchange to replace',
    [
      {
        code: 'rabbitmq.exchange',
        prop: 'directExchangesToReplace',
        message:
          'directExchangesToReplace holds "amq.direct": give Celery exchange names (not "", not amq.*, no spaces or slashes).',
      },
    ],
  ],
  [
    'cdktf',
    'AUTH token version 0',
    [
      {
        code: 'terraform.auth-token-version',
        prop: 'authTokenVersion',
        message:
          'authTokenVersion 0 is out of range: allowed a whole number from 1 to 1000000; raise it by one to generate a new AUTH token.',
      },
    ],
  ],
  [
    'cdktf',
    'AUTH token update strategy DELETE',
    [
      {
        code: 'terraform.auth-token-update-strategy',
        prop: 'authTokenUpdateStrategy',
        message:
          'authTokenUpdateStrategy "DELETE" is not allowed: DELETE removes the AUTH token, which ElastiCache allows only when moving to RBAC user groups, and this library keeps AUTH on. Allowed: "ROTATE" (the default) or "SET" (after a ROTATE, once every client uses the new token).',
      },
    ],
  ],
  [
    'cdktf',
    'AUTH token version with an existing secret',
    [
      {
        code: 'terraform.conflict',
        prop: 'authTokenVersion',
        message:
          'authTokenVersion 2 applies only to a generated token (RedisAuth.generatedToken()): with RedisAuth.fromSecretArn() put the new token into that secret and apply; with RedisAuth.rbacUsers() the passwords rotate by function; without transit encryption there is no token.',
      },
    ],
  ],
  [
    'cdktf',
    'AUTH token update strategy with TLS off',
    [
      {
        code: 'terraform.conflict',
        prop: 'authTokenUpdateStrategy',
        message:
          'authTokenUpdateStrategy "SET" conflicts with transitEncryptionEnabled false: a cache without transit encryption has no AUTH token. Remove authTokenUpdateStrategy.',
      },
    ],
  ],
  [
    'cdktf',
    'one Availability Zone for Multi-AZ',
    [
      {
        code: 'subnets.too-few',
        prop: 'subnets',
        message:
          'subnets gives 1 Availability Zone (eu-west-1a): An ElastiCache replication group needs subnets in at least 2 different Availability Zones for Multi-AZ with automatic failover. Select more subnets, or a VPC with more Availability Zones.',
      },
    ],
  ],
  [
    'cdktf',
    'a public subnet for a broker',
    [
      {
        code: 'subnets.public',
        prop: 'subnets',
        message:
          'subnets selects public subnets ("subnet-0public"): An Amazon MQ broker must sit on private or isolated subnets with no route from the internet. Select private or isolated subnets (SubnetType.PRIVATE_ISOLATED or PRIVATE_WITH_EGRESS on the CDK).',
      },
    ],
  ],
  [
    'cdktf',
    'port from a variable',
    [
      {
        code: 'redis.port-token',
        prop: 'port',
        message:
          'port must be a literal number: it is create-only on ElastiCache and the security group rules and Celery settings are derived from it.',
      },
    ],
  ],
  [
    'cdktf',
    'engine version from a variable',
    [
      {
        code: 'redis.engine-version-token',
        prop: 'engineVersion',
        message:
          'engineVersion must be a literal (e.g. "8.2"): the parameter-group family and the TLS support check are derived from it at synth time.',
      },
    ],
  ],
  [
    'cdktf',
    'replication group id starting with a hyphen',
    [
      {
        code: 'name.replicationGroupId',
        prop: 'replicationGroupId',
        message:
          'replicationGroupId "-celery" is not a valid ElastiCache replication group id: allowed characters: lowercase letters, digits and hyphens, starting with a letter (https://docs.aws.amazon.com/AmazonElastiCache/latest/APIReference/API_CreateReplicationGroup.html).',
      },
    ],
  ],
  [
    'cdktf',
    'broker name with a period',
    [
      {
        code: 'name.brokerName',
        prop: 'brokerName',
        message:
          'brokerName "celery.broker" is not a valid Amazon MQ broker name: allowed characters: letters, digits, hyphens and underscores (https://docs.aws.amazon.com/amazon-mq/latest/api-reference/brokers.html).',
      },
    ],
  ],
  [
    'cdktf',
    'consumer timeout of 30 s',
    [
      {
        code: 'rabbitmq.consumer-timeout',
        prop: 'consumerTimeoutSeconds',
        message:
          "consumerTimeoutSeconds 30 is out of range: allowed 60 to 2147483 seconds (Amazon MQ's limit of 2^31-1 ms), or 0 for none. It must exceed Celery's longest task.",
      },
    ],
  ],
  [
    'cdktf',
    'empty description',
    [
      {
        code: 'redis.description',
        prop: 'description',
        message: 'description is 0 characters long: allowed 1 to 255.',
      },
    ],
  ],
  [
    'cdktf',
    'snapshot retention 36',
    [
      {
        code: 'redis.snapshot-retention',
        prop: 'snapshotRetentionDays',
        message: 'snapshotRetentionDays 36 is out of range: allowed 0 to 35 (15 or more recommended).',
      },
    ],
  ],
  [
    'cdktf',
    'empty AUTH token field',
    [
      {
        code: 'secret.field',
        prop: 'authToken.field',
        message: 'authToken.field "" is not a usable JSON field name: use 1 to 128 letters, digits, "_", "." or "-".',
      },
    ],
  ],
  [
    'cdktf',
    'RabbitMQ 4.2 on an m5 single instance',
    [
      {
        code: 'rabbitmq.instance-type',
        prop: 'hostInstanceType',
        message: 'hostInstanceType "mq.m5.large" cannot run RabbitMQ 4.2: allowed families mq.m7g.*.',
      },
    ],
  ],
  [
    'cdktf',
    'fractional prefetch multiplier',
    [
      {
        code: 'celery.option',
        prop: 'celeryOptions.prefetchMultiplier',
        message: 'celeryOptions.prefetchMultiplier 1.5 is out of range: allowed 1 to 100.',
      },
    ],
  ],
];

describe('bad-input table', () => {
  test('at least 30 invalid configurations, on both targets, each with an expectation', () => {
    expect(BAD_INPUTS.length).toBeGreaterThanOrEqual(30);
    expect(new Set(BAD_INPUTS.map((c) => c.target))).toEqual(new Set(['cdk', 'cdktf']));
    expect(EXPECTED.map(([t, n]) => `${t}: ${n}`)).toEqual(BAD_INPUTS.map((c) => `${c.target}: ${c.name}`));
  });

  test.each(BAD_INPUTS.map((c, i) => [`${c.target}: ${c.name}`, c, EXPECTED[i]?.[2]] as const))(
    '%s',
    (_name, c, issues) => {
      const e = errorOf(c);
      expect(e.issues).toEqual(issues);
      // The thrown message carries the construct path and every issue.
      expect(e.message.split('\n')[0]).toBe('Test/Subject: invalid configuration');
      for (const i of e.issues) expect(e.message).toContain(`[${i.code}] ${i.message}`);
    },
  );

  test.each(EXPECTED.flatMap(([t, n, issues]) => issues.map((i) => [`${t}: ${n}: ${i.prop}`, i] as const)))(
    'the message names the prop: %s',
    (_name, issue) => {
      // Props are named as the user wrote them, and the message starts with that name.
      expect(issue.message.startsWith(issue.prop)).toBe(true);
    },
  );
});
