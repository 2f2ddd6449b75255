import { RemovalPolicy, Stack } from 'aws-cdk-lib';
import { Annotations, Match } from 'aws-cdk-lib/assertions';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as ecs from 'aws-cdk-lib/aws-ecs';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import {
  BrokerCredentials,
  BrokerDeploymentMode,
  CacheEngine,
  CeleryBroker,
  CeleryResultBackend,
  CeleryRole,
  CeleryTransport,
  RabbitMqBroker,
  RedisAuth,
  RedisCache,
  TransitEncryptionMode,
} from '../../lib/cdk';
import { stackWithVpc, templateOf } from './helpers';
import { allFindings, ingressPorts, networkFindings } from './security';
import { thrown } from '../thrown';

const idOf = (stack: Stack, c: { node: { defaultChild?: any } }) => stack.getLogicalId(c.node.defaultChild);

describe('RedisCache', () => {
  test('GIVEN defaults THEN a TLS-only Valkey replication group with its own key, secret, logs and group', () => {
    const { stack, vpc } = stackWithVpc();
    const cache = new RedisCache(stack, 'Cache', { vpc });
    const { assert, json } = templateOf(stack);
    assert.hasResourceProperties('AWS::ElastiCache::ReplicationGroup', {
      Engine: 'valkey',
      EngineVersion: '8.2',
      TransitEncryptionEnabled: true,
      TransitEncryptionMode: 'required',
      Port: 6380,
      ClusterMode: 'disabled',
      SubnetGroupName: Match.absent(),
    });
    assert.hasResourceProperties('AWS::ElastiCache::ParameterGroup', {
      CacheParameterGroupFamily: 'valkey8',
      Properties: { 'maxmemory-policy': 'noeviction' },
    });
    assert.resourceCountIs('AWS::ElastiCache::SubnetGroup', 1);
    const [subnetGroup] = Object.values(json.Resources).filter((r) => r.Type === 'AWS::ElastiCache::SubnetGroup');
    expect(subnetGroup.Properties.SubnetIds).toHaveLength(3);
    assert.hasResource('AWS::KMS::Key', { DeletionPolicy: 'Retain', Properties: { EnableKeyRotation: true } });
    expect(allFindings(json)).toEqual([]);
    expect(cache.connections.defaultPort?.toString()).toBe('6380');
    expect(ingressPorts(json, idOf(stack, cache.securityGroup))).toEqual([]);
  });

  test('GIVEN a key policy THEN CloudWatch Logs of this account and region may use the key', () => {
    const { stack, vpc } = stackWithVpc();
    new RedisCache(stack, 'Cache', { vpc });
    templateOf(stack).assert.hasResourceProperties('AWS::KMS::Key', {
      KeyPolicy: {
        Statement: Match.arrayWith([
          Match.objectLike({
            Principal: { Service: 'logs.eu-west-1.amazonaws.com' },
            Condition: {
              ArnLike: {
                'kms:EncryptionContext:aws:logs:arn': stack.resolve(
                  `arn:${stack.partition}:logs:eu-west-1:111122223333:log-group:*`,
                ),
              },
            },
          }),
        ]),
      },
    });
  });

  test('GIVEN Redis OSS, a port, a shared key, an existing secret and RETAIN THEN they are used', () => {
    const { stack, vpc } = stackWithVpc();
    const key = new kms.Key(stack, 'SharedKey', { enableKeyRotation: true });
    const secret = new secretsmanager.Secret(stack, 'Existing', { encryptionKey: key });
    new RedisCache(stack, 'Cache', {
      vpc,
      engine: CacheEngine.REDIS,
      port: 7000,
      encryptionKey: key,
      authToken: RedisAuth.fromSecret(secret, 'token'),
      removalPolicy: RemovalPolicy.RETAIN,
      replicationGroupId: 'celery-results',
    });
    const { assert } = templateOf(stack);
    assert.hasResource('AWS::ElastiCache::ReplicationGroup', {
      DeletionPolicy: 'Retain',
      Properties: Match.objectLike({
        Engine: 'redis',
        EngineVersion: '7.1',
        Port: 7000,
        ReplicationGroupId: 'celery-results',
        KmsKeyId: { 'Fn::GetAtt': [stack.getLogicalId(key.node.defaultChild as any), 'Arn'] },
        AuthToken: {
          'Fn::Join': [
            '',
            [
              '{{resolve:secretsmanager:',
              { Ref: stack.getLogicalId(secret.node.defaultChild as any) },
              ':SecretString:token::}}',
            ],
          ],
        },
      }),
    });
    assert.resourceCountIs('AWS::KMS::Key', 1);
    assert.resourceCountIs('AWS::SecretsManager::Secret', 1);
  });

  test('GIVEN the PREFERRED migration step THEN the mode is rendered and a warning names the risk', () => {
    const { stack, vpc } = stackWithVpc();
    new RedisCache(stack, 'Cache', { vpc, transitEncryptionMode: TransitEncryptionMode.PREFERRED });
    templateOf(stack).assert.hasResourceProperties('AWS::ElastiCache::ReplicationGroup', {
      TransitEncryptionEnabled: true,
      TransitEncryptionMode: 'preferred',
    });
    Annotations.fromStack(stack).hasWarning('/Test/Cache', Match.stringLikeRegexp('PREFERRED.*plaintext'));
  });

  test('GIVEN unsafe plaintext THEN no AUTH token, a warning, and no Celery endpoint', () => {
    const { stack, vpc } = stackWithVpc();
    const cache = new RedisCache(stack, 'Cache', { vpc, transitEncryptionEnabled: false, unsafeAllowPlaintext: true });
    templateOf(stack).assert.hasResourceProperties('AWS::ElastiCache::ReplicationGroup', {
      TransitEncryptionEnabled: false,
      TransitEncryptionMode: Match.absent(),
      AuthToken: Match.absent(),
    });
    Annotations.fromStack(stack).hasWarning('/Test/Cache', Match.stringLikeRegexp('unsafeAllowPlaintext'));
    expect(thrown(() => cache.celeryEndpoint()).message).toContain(
      'no Celery configuration is rendered for a plaintext cache',
    );
  });

  test.each([
    ['serverless', { serverless: true }, 'serverless true is not supported'],
    ['cluster mode', { clusterMode: 'enabled' }, 'clusterMode "enabled" is not supported'],
    ['TLS off', { transitEncryptionEnabled: false }, 'transitEncryptionEnabled false would send'],
    ['old Redis', { engine: CacheEngine.REDIS, engineVersion: '6.2' }, 'engineVersion "6.2" is not supported'],
    ['short token', { authToken: RedisAuth.generatedToken({ length: 10 }) }, 'authToken.length 10 is not allowed'],
    [
      'bad secret field',
      { authToken: RedisAuth.fromSecret(secretsmanager.Secret.fromSecretNameV2(new Stack(), 'S', 'x'), 'a b') },
      'authToken.field "a b"',
    ],
  ])('GIVEN %s THEN synth is refused with the construct path and the prop', (_n, props, message) => {
    const { stack, vpc } = stackWithVpc();
    const e = thrown(() => new RedisCache(stack, 'Cache', { vpc, ...(props as object) }));
    expect(e.message).toContain('Test/Cache');
    expect(e.message).toContain(message);
  });

  test('GIVEN a one-AZ VPC THEN Multi-AZ is refused', () => {
    const { stack, vpc } = stackWithVpc({ azs: 1 });
    expect(thrown(() => new RedisCache(stack, 'Cache', { vpc })).message).toMatch(
      /vpcSubnets gives 1 Availability Zone \(eu-west-1a\).*at least 2/,
    );
  });

  test('GIVEN public subnets THEN they are refused', () => {
    const { stack, vpc } = stackWithVpc({ public: true });
    expect(
      thrown(() => new RedisCache(stack, 'Cache', { vpc, vpcSubnets: { subnetType: ec2.SubnetType.PUBLIC } })).message,
    ).toContain('selects public subnets');
  });

  test('grantReadAuthToken names the secret ARN and decrypts only through Secrets Manager', () => {
    const { stack, vpc } = stackWithVpc();
    const cache = new RedisCache(stack, 'Cache', { vpc });
    const role = new iam.Role(stack, 'Role', { assumedBy: new iam.ServicePrincipal('ecs-tasks.amazonaws.com') });
    cache.grantReadAuthToken(role);
    templateOf(stack).assert.hasResourceProperties('AWS::IAM::Policy', {
      PolicyDocument: {
        Statement: [
          {
            Action: ['secretsmanager:GetSecretValue', 'secretsmanager:DescribeSecret'],
            Effect: 'Allow',
            Resource: { Ref: idOf(stack, cache.authTokenSecret as any) },
          },
          {
            Action: 'kms:Decrypt',
            Effect: 'Allow',
            Resource: { 'Fn::GetAtt': [idOf(stack, cache.encryptionKey as any), 'Arn'] },
            Condition: { StringEquals: { 'kms:ViaService': 'secretsmanager.eu-west-1.amazonaws.com' } },
          },
        ],
      },
    });
  });

  test('metrics use the node id dimension', () => {
    const { stack, vpc } = stackWithVpc();
    const cache = new RedisCache(stack, 'Cache', { vpc });
    const m = cache.metricDatabaseMemoryUsagePercentage({ nodeIndex: 2 });
    expect([m.namespace, m.metricName, m.statistic]).toEqual([
      'AWS/ElastiCache',
      'DatabaseMemoryUsagePercentage',
      'Maximum',
    ]);
    expect(stack.resolve(m.dimensions!.CacheClusterId)).toEqual({
      'Fn::Join': ['-', [{ Ref: idOf(stack, cache) }, '002']],
    });
  });
});

describe('RabbitMqBroker', () => {
  test('GIVEN a single instance on 3.13 THEN one subnet, a warning, and the m5 instance', () => {
    const { stack, vpc } = stackWithVpc();
    new RabbitMqBroker(stack, 'Broker', {
      vpc,
      deploymentMode: BrokerDeploymentMode.SINGLE_INSTANCE,
      engineVersion: '3.13',
      hostInstanceType: 'mq.m5.large',
    });
    templateOf(stack).assert.hasResourceProperties('AWS::AmazonMQ::Broker', {
      DeploymentMode: 'SINGLE_INSTANCE',
      EngineVersion: '3.13',
      HostInstanceType: 'mq.m5.large',
      SubnetIds: [Match.anyValue()],
    });
    Annotations.fromStack(stack).hasWarning('/Test/Broker', Match.stringLikeRegexp('SINGLE_INSTANCE'));
  });

  test('GIVEN a cluster in a three-AZ VPC THEN three subnets and only a 5671 default port', () => {
    const { stack, vpc } = stackWithVpc();
    const broker = new RabbitMqBroker(stack, 'Broker', { vpc });
    templateOf(stack).assert.hasResourceProperties('AWS::AmazonMQ::Broker', {
      SubnetIds: [Match.anyValue(), Match.anyValue(), Match.anyValue()],
      Users: [{ Username: 'celeryadmin', Password: Match.anyValue() }],
    });
    expect(broker.connections.defaultPort?.toString()).toBe('5671');
  });

  test('GIVEN any broker THEN a configuration with consumer_timeout an hour (acks-late tasks), applied to the broker', () => {
    const { stack, vpc } = stackWithVpc();
    const broker = new RabbitMqBroker(stack, 'Broker', { vpc });
    const cfg = stack.resolve(broker.configuration.data);
    expect(cfg['Fn::Base64']).toMatch(/^consumer_timeout = 3600000$/m);
    expect(stack.resolve(broker.resource.configuration)).toEqual({
      id: { Ref: stack.getLogicalId(broker.configuration) },
      revision: { 'Fn::GetAtt': [stack.getLogicalId(broker.configuration), 'Revision'] },
    });
    const { stack: s2, vpc: v2 } = stackWithVpc();
    const off = new RabbitMqBroker(s2, 'Broker', { vpc: v2, consumerTimeoutSeconds: 0 });
    expect(s2.resolve(off.configuration.data)['Fn::Base64']).toMatch(/^consumer_timeout = 0$/m);
    Annotations.fromStack(s2).hasWarning('/Test/Broker', Match.stringLikeRegexp('consumerTimeoutSeconds is 0'));
  });

  test('GIVEN an existing admin secret THEN no key or secret is created and the password comes from it', () => {
    const { stack, vpc } = stackWithVpc();
    const secret = secretsmanager.Secret.fromSecretCompleteArn(
      stack,
      'S',
      'arn:aws:secretsmanager:eu-west-1:111122223333:secret:mq-admin-AbCdEf',
    );
    new RabbitMqBroker(stack, 'Broker', {
      vpc,
      adminCredentials: BrokerCredentials.fromSecret(secret),
      adminUsername: 'ops.admin',
    });
    const { assert } = templateOf(stack);
    assert.resourceCountIs('AWS::KMS::Key', 0);
    assert.resourceCountIs('AWS::SecretsManager::Secret', 0);
    assert.hasResourceProperties('AWS::AmazonMQ::Broker', {
      Users: [
        {
          Username: 'ops.admin',
          Password:
            '{{resolve:secretsmanager:arn:aws:secretsmanager:eu-west-1:111122223333:secret:mq-admin-AbCdEf:SecretString:password::}}',
        },
      ],
    });
  });

  test('brokerHost is cut out of the first AMQP endpoint', () => {
    const { stack, vpc } = stackWithVpc();
    const broker = new RabbitMqBroker(stack, 'Broker', { vpc });
    const id = idOf(stack, broker);
    expect(stack.resolve(broker.brokerHost)).toEqual({
      'Fn::Select': [
        0,
        {
          'Fn::Split': [
            ':',
            {
              'Fn::Select': [
                1,
                { 'Fn::Split': ['://', { 'Fn::Select': [0, { 'Fn::GetAtt': [id, 'AmqpEndpoints'] }] }] },
              ],
            },
          ],
        },
      ],
    });
  });

  test.each([
    ['public', { publiclyAccessible: true }, 'publiclyAccessible true is not allowed'],
    ['4.2 on m5', { hostInstanceType: 'mq.m5.large' }, 'cannot run RabbitMQ 4.2'],
    ['bad name', { brokerName: 'celery broker' }, 'brokerName "celery broker"'],
    ['guest', { adminUsername: 'guest' }, 'reserved'],
    ['short password', { adminCredentials: BrokerCredentials.generated({ length: 6 }) }, 'adminCredentials.length 6'],
  ])('GIVEN %s THEN synth is refused', (_n, props, message) => {
    const { stack, vpc } = stackWithVpc();
    const e = thrown(() => new RabbitMqBroker(stack, 'Broker', { vpc, ...(props as object) }));
    expect(e.message).toContain('Test/Broker');
    expect(e.message).toContain(message);
  });
});

describe('CeleryTransport', () => {
  test('GIVEN a Redis broker and a Redis backend THEN two caches, segmented by port, no broker on 5671', () => {
    const { stack, vpc } = stackWithVpc();
    const t = new CeleryTransport(stack, 'Celery', {
      vpc,
      broker: CeleryBroker.redis({ port: 6390 }),
      resultBackend: CeleryResultBackend.redis(),
    });
    const { assert, json } = templateOf(stack);
    assert.resourceCountIs('AWS::ElastiCache::ReplicationGroup', 2);
    assert.resourceCountIs('AWS::AmazonMQ::Broker', 0);
    // From producers, workers and the TLS canary.
    expect(ingressPorts(json, idOf(stack, t.brokerCache!.securityGroup))).toEqual([
      'tcp:6390-6390',
      'tcp:6390-6390',
      'tcp:6390-6390',
    ]);
    expect(ingressPorts(json, idOf(stack, t.resultBackendCache!.securityGroup))).toEqual([
      'tcp:6380-6380',
      'tcp:6380-6380',
      'tcp:6380-6380',
    ]);
    expect(allFindings(json)).toEqual([]);
    expect(t.celeryConfig.model.broker.scheme).toBe('rediss');
    expect(t.celeryConfig.model.options.quorumQueues).toBe(false);
  });

  test('GIVEN a shared Redis backend THEN one cache, results in db 1', () => {
    const { stack, vpc } = stackWithVpc();
    const t = new CeleryTransport(stack, 'Celery', {
      vpc,
      broker: CeleryBroker.redis(),
      resultBackend: CeleryResultBackend.sharedWithRedisBroker(),
    });
    templateOf(stack).assert.resourceCountIs('AWS::ElastiCache::ReplicationGroup', 1);
    expect(t.celeryConfig.model.resultBackend?.db).toBe(1);
    // Producers, workers and the TLS canary.
    expect(ingressPorts(templateOf(stack).json, idOf(stack, t.brokerCache!.securityGroup))).toHaveLength(3);
  });

  test('GIVEN no result backend THEN only the broker', () => {
    const { stack, vpc } = stackWithVpc();
    const t = new CeleryTransport(stack, 'Celery', { vpc, resultBackend: CeleryResultBackend.none() });
    templateOf(stack).assert.resourceCountIs('AWS::ElastiCache::ReplicationGroup', 0);
    expect(t.celeryConfig.model.resultBackend).toBeUndefined();
    expect(t.celeryConfig.model.options.quorumQueues).toBe(true);
  });

  test('GIVEN a shared backend with RabbitMQ THEN it is refused', () => {
    const { stack, vpc } = stackWithVpc();
    expect(
      thrown(
        () => new CeleryTransport(stack, 'Celery', { vpc, resultBackend: CeleryResultBackend.sharedWithRedisBroker() }),
      ).message,
    ).toContain('needs broker CeleryBroker.redis()');
  });

  test('GIVEN bad Celery options THEN the error names the construct and the option', () => {
    const { stack, vpc } = stackWithVpc();
    const e = thrown(
      () => new CeleryTransport(stack, 'Celery', { vpc, celeryOptions: { visibilityTimeoutSeconds: -5 } }),
    );
    expect(e.message).toContain('Test/Celery');
    expect(e.message).toContain('celeryOptions.visibilityTimeoutSeconds -5 is out of range');
  });

  test('allowProducer/allowWorker open only the TLS ports from the peer, with descriptions, and egress from a closed peer', () => {
    const { stack, vpc } = stackWithVpc();
    const t = new CeleryTransport(stack, 'Celery', { vpc });
    const web = new ec2.SecurityGroup(stack, 'Web', { vpc, allowAllOutbound: false, description: 'web' });
    const workers = new ec2.SecurityGroup(stack, 'Workers', { vpc, allowAllOutbound: false, description: 'workers' });
    t.allowProducer(web);
    t.allowWorker(workers);
    const { assert, json } = templateOf(stack);
    // 5671 from producers, workers, the two peers and the TLS canary; 443 from the users functions only.
    expect(ingressPorts(json, idOf(stack, t.rabbitMqBroker!.securityGroup)).sort()).toEqual([
      'tcp:443-443',
      'tcp:5671-5671',
      'tcp:5671-5671',
      'tcp:5671-5671',
      'tcp:5671-5671',
      'tcp:5671-5671',
    ]);
    assert.hasResourceProperties('AWS::EC2::SecurityGroupIngress', {
      Description: 'Celery producer to broker on 5671/tcp (AMQPS)',
      SourceSecurityGroupId: { 'Fn::GetAtt': [idOf(stack, web), 'GroupId'] },
      FromPort: 5671,
      ToPort: 5671,
      IpProtocol: 'tcp',
    });
    assert.hasResourceProperties('AWS::EC2::SecurityGroupIngress', {
      Description: 'Celery worker to result backend on 6380/tcp (Redis over TLS)',
      SourceSecurityGroupId: { 'Fn::GetAtt': [idOf(stack, workers), 'GroupId'] },
      FromPort: 6380,
    });
    assert.hasResourceProperties('AWS::EC2::SecurityGroupEgress', {
      GroupId: { 'Fn::GetAtt': [idOf(stack, web), 'GroupId'] },
      FromPort: 6380,
      DestinationSecurityGroupId: Match.anyValue(),
    });
    expect(networkFindings(json)).toEqual([]);
  });

  test("bindToContainer: a role's broker user (never the admin) as one ECS secret, the backend token by field, no user name in the environment", () => {
    const { stack, vpc } = stackWithVpc();
    const t = new CeleryTransport(stack, 'Celery', { vpc });
    const worker = new ecs.FargateTaskDefinition(stack, 'Task');
    t.bindToContainer(worker.addContainer('app', { image: ecs.ContainerImage.fromRegistry('python:3.12-slim') }));
    const web = new ecs.FargateTaskDefinition(stack, 'Web');
    t.bindToContainer(
      web.addContainer('app', { image: ecs.ContainerImage.fromRegistry('python:3.12-slim') }),
      CeleryRole.PRODUCER,
    );
    const { json } = templateOf(stack);
    const container = (task: ecs.TaskDefinition) =>
      json.Resources[idOf(stack, task)].Properties.ContainerDefinitions[0];
    const users = t.rabbitMqUsers!;
    for (const [task, role] of [
      [worker, CeleryRole.WORKER],
      [web, CeleryRole.PRODUCER],
    ] as const) {
      const c = container(task);
      const env = Object.fromEntries(c.Environment.map((e: any) => [e.Name, e.Value]));
      expect(env.CELERY_TLS_BROKER_PORT).toBe('5671');
      // The vhost comes from the custom resource: the task is deployed after the users exist.
      expect(env.CELERY_TLS_BROKER_VHOST).toEqual({ 'Fn::GetAtt': [idOf(stack, users.resource as any), 'Vhost'] });
      expect(env.CELERY_TLS_BROKER_SECRET_ARN).toEqual({ Ref: idOf(stack, users.userFor(role).secret as any) });
      expect(env.CELERY_TLS_BROKER_USERNAME).toBeUndefined();
      expect(JSON.stringify(c.Environment)).not.toContain('AdminCredentials');
      expect(c.Secrets).toEqual([
        { Name: 'CELERY_TLS_BROKER_CREDENTIALS', ValueFrom: { Ref: idOf(stack, users.userFor(role).secret as any) } },
        {
          Name: 'CELERY_TLS_RESULT_BACKEND_PASSWORD',
          ValueFrom: {
            'Fn::Join': ['', [{ Ref: idOf(stack, t.resultBackendCache!.authTokenSecret as any) }, ':password::']],
          },
        },
      ]);
    }
    expect(users.userFor(CeleryRole.WORKER).username).toBe('celery-worker');
    expect(users.userFor(CeleryRole.PRODUCER).username).toBe('celery-producer');
  });

  test("grantReadCredentials grants one role's secrets by ARN (no wildcard), never the admin secret", () => {
    const { stack, vpc } = stackWithVpc();
    const t = new CeleryTransport(stack, 'Celery', { vpc });
    const role = new iam.Role(stack, 'Role', { assumedBy: new iam.ServicePrincipal('ec2.amazonaws.com') });
    t.grantReadCredentials(role, CeleryRole.PRODUCER);
    const { json } = templateOf(stack);
    const statements =
      json.Resources[idOf(stack, role.node.findChild('DefaultPolicy') as any)].Properties.PolicyDocument.Statement;
    const resources = statements.map((s: any) => JSON.stringify(s.Resource));
    expect(resources.some((r: string) => r.includes('"*"'))).toBe(false);
    expect(resources.join()).toContain('ProducerCredentials');
    expect(resources.join()).toContain('AuthToken');
    expect(resources.join()).not.toContain('WorkerCredentials');
    expect(resources.join()).not.toContain('AdminCredentials');
  });
});
