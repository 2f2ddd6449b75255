import { TerraformOutput, TerraformStack, Testing } from 'cdktf';
import 'cdktf/lib/testing/adapters/jest';
import {
  AuthTokenUpdateStrategy,
  BrokerCredentials,
  BrokerDeploymentMode,
  CacheEngine,
  CeleryRole,
  CelerySecurityGroup,
  CeleryBroker,
  CeleryResultBackend,
  CeleryTransport,
  RabbitMqBroker,
  RedisAuth,
  RedisCache,
  TransitEncryptionMode,
} from '../../lib/cdktf';
import {
  DataAwsSecretsmanagerSecretVersion,
  ElasticacheReplicationGroup,
  MqBroker,
  SecretsmanagerSecretVersion,
  SecurityGroup,
  VpcSecurityGroupEgressRule,
  VpcSecurityGroupIngressRule,
} from '../../lib/cdktf/provider';
import { VPC_ID, nameOf, subnets, synthJson, tfStack, warningsOf } from './helpers';
import { allFindings, ingressRules, networkFindings, ofType } from './security';
import { thrown } from '../thrown';

Testing.setupJest();

const placement = { vpcId: VPC_ID, subnets: subnets() };

describe('RedisCache (cdktf)', () => {
  test('GIVEN defaults THEN a TLS-only Valkey replication group with its own key, secret, logs and group', () => {
    const { stack } = tfStack();
    const cache = new RedisCache(stack, 'Cache', placement);
    const { text, json } = synthJson(stack);
    expect(text).toHaveResourceWithProperties(ElasticacheReplicationGroup, {
      engine: 'valkey',
      engine_version: '8.2',
      transit_encryption_enabled: true,
      transit_encryption_mode: 'required',
      port: 6380,
      cluster_mode: 'disabled',
      auth_token_update_strategy: 'ROTATE',
      replication_group_id: cache.resource.replicationGroupIdInput,
      final_snapshot_identifier: `${cache.resource.replicationGroupIdInput}-final`,
    });
    expect(text).toHaveResourceWithProperties(SecretsmanagerSecretVersion, { secret_string_wo_version: 1 });
    expect(ofType(json, 'aws_elasticache_subnet_group')[0][1].subnet_ids).toHaveLength(3);
    expect(ofType(json, 'aws_elasticache_replication_group')[0][1].lifecycle).toBeUndefined();
    expect(allFindings(json)).toEqual([]);
    expect(cache.connections.defaultPort).toBe(6380);
    expect(ingressRules(json, nameOf(stack, cache.securityGroup.resource))).toEqual([]);
    expect(warningsOf(cache)).toEqual([]);
  });

  test('GIVEN a key policy THEN CloudWatch Logs of this account and region may use the key', () => {
    const { stack } = tfStack();
    new RedisCache(stack, 'Cache', placement);
    const [, key] = ofType(synthJson(stack).json, 'aws_kms_key')[0];
    const logs = JSON.parse(key.policy).Statement.find((s: any) => s.Sid === 'AllowCloudWatchLogsForThisAccount');
    expect(logs.Principal.Service).toMatch(/^logs\.\$\{data\.aws_region\.[A-Za-z0-9_]+\.region\}\.amazonaws\.com$/);
    expect(logs.Condition.ArnLike['kms:EncryptionContext:aws:logs:arn']).toMatch(
      /^arn:\$\{data\.aws_partition\..*\}:logs:\$\{data\.aws_region\..*\}:\$\{data\.aws_caller_identity\..*account_id\}:log-group:\*$/,
    );
  });

  test('GIVEN Redis OSS, a port, a key ARN, an existing secret and preventDestroy THEN they are used and nothing is generated', () => {
    const { stack } = tfStack();
    const keyArn = 'arn:aws:kms:eu-west-1:111122223333:key/11111111-2222-3333-4444-555555555555';
    const secretArn = 'arn:aws:secretsmanager:eu-west-1:111122223333:secret:celery-token-AbCdEf';
    const cache = new RedisCache(stack, 'Cache', {
      ...placement,
      engine: CacheEngine.REDIS,
      port: 7000,
      encryptionKeyArn: keyArn,
      authToken: RedisAuth.fromSecretArn(secretArn, { field: 'token', encryptionKeyArn: keyArn }),
      preventDestroy: true,
      replicationGroupId: 'celery-results',
    });
    const { text, json } = synthJson(stack);
    expect(text).toHaveResourceWithProperties(ElasticacheReplicationGroup, {
      engine: 'redis',
      engine_version: '7.1',
      port: 7000,
      replication_group_id: 'celery-results',
      kms_key_id: keyArn,
      lifecycle: { prevent_destroy: true },
    });
    expect(text).toHaveDataSourceWithProperties(DataAwsSecretsmanagerSecretVersion, { secret_id: secretArn });
    expect(ofType(json, 'aws_elasticache_replication_group')[0][1].auth_token).toMatch(
      /^\$\{jsondecode\(data\.aws_secretsmanager_secret_version\.[A-Za-z0-9_]+\.secret_string\)\.token\}$/,
    );
    expect(ofType(json, 'aws_kms_key')).toHaveLength(0);
    expect(ofType(json, 'aws_secretsmanager_secret')).toHaveLength(0);
    expect(json.data!.aws_secretsmanager_random_password).toBeUndefined();
    expect(cache.authTokenReadStatements().map((s) => s.resources)).toEqual([[secretArn], [keyArn]]);
  });

  test('GIVEN the PREFERRED migration step THEN the mode is rendered and a warning names the risk', () => {
    const { stack } = tfStack();
    const cache = new RedisCache(stack, 'Cache', {
      ...placement,
      transitEncryptionMode: TransitEncryptionMode.PREFERRED,
    });
    expect(synthJson(stack).text).toHaveResourceWithProperties(ElasticacheReplicationGroup, {
      transit_encryption_enabled: true,
      transit_encryption_mode: 'preferred',
    });
    expect(warningsOf(cache)).toEqual([
      expect.stringMatching(/^\[celery-tls-constructs:redis\.transit-preferred\] .*PREFERRED.*plaintext/),
    ]);
  });

  test('GIVEN token rotation (a new version, then SET) THEN the secret version and strategy are rendered', () => {
    const { stack } = tfStack();
    new RedisCache(stack, 'Cache', {
      ...placement,
      authTokenVersion: 2,
      authTokenUpdateStrategy: AuthTokenUpdateStrategy.SET,
    });
    const { text } = synthJson(stack);
    expect(text).toHaveResourceWithProperties(SecretsmanagerSecretVersion, { secret_string_wo_version: 2 });
    expect(text).toHaveResourceWithProperties(ElasticacheReplicationGroup, { auth_token_update_strategy: 'SET' });
  });

  test('GIVEN unsafe plaintext THEN no AUTH token, no strategy, a warning, and no Celery endpoint', () => {
    const { stack } = tfStack();
    const cache = new RedisCache(stack, 'Cache', {
      ...placement,
      transitEncryptionEnabled: false,
      unsafeAllowPlaintext: true,
    });
    const [, rg] = ofType(synthJson(stack).json, 'aws_elasticache_replication_group')[0];
    expect([
      rg.transit_encryption_enabled,
      rg.transit_encryption_mode,
      rg.auth_token,
      rg.auth_token_update_strategy,
    ]).toEqual([false, undefined, undefined, undefined]);
    expect(warningsOf(cache).join('\n')).toContain('unsafeAllowPlaintext');
    expect(thrown(() => cache.celeryEndpoint()).message).toContain(
      'no Celery configuration is rendered for a plaintext cache',
    );
  });

  test.each([
    [
      'DELETE strategy',
      { authTokenUpdateStrategy: 'DELETE' as AuthTokenUpdateStrategy },
      'authTokenUpdateStrategy "DELETE" is not allowed: DELETE removes the AUTH token',
    ],
    [
      'unknown strategy',
      { authTokenUpdateStrategy: 'rotate' as AuthTokenUpdateStrategy },
      'Allowed: "ROTATE" (the default) or "SET"',
    ],
    [
      'strategy without TLS',
      {
        transitEncryptionEnabled: false,
        unsafeAllowPlaintext: true,
        authTokenUpdateStrategy: AuthTokenUpdateStrategy.SET,
      },
      'conflicts with transitEncryptionEnabled false',
    ],
    ['version 0', { authTokenVersion: 0 }, 'authTokenVersion 0 is out of range'],
    ['fractional version', { authTokenVersion: 1.5 }, 'authTokenVersion 1.5 is out of range'],
    [
      'version with an existing secret',
      {
        authTokenVersion: 2,
        authToken: RedisAuth.fromSecretArn('arn:aws:secretsmanager:eu-west-1:111122223333:secret:x-AbCdEf'),
      },
      'applies only to a generated token',
    ],
    ['one AZ', { subnets: subnets(1) }, 'subnets gives 1 Availability Zone (eu-west-1a)'],
    ['public subnets', { subnets: subnets(3, { type: 'Public' }) }, 'subnets selects public subnets'],
  ])('GIVEN %s THEN synth is refused with the construct path and the prop', (_n, props, message) => {
    const { stack } = tfStack();
    const e = thrown(() => new RedisCache(stack, 'Cache', { ...placement, ...(props as object) }));
    expect(e.message).toContain('Test/Cache: invalid configuration');
    expect(e.message).toContain(message);
  });
});

describe('RabbitMqBroker (cdktf)', () => {
  test('GIVEN a single instance on 3.13 THEN one subnet, a warning, and the m5 instance', () => {
    const { stack } = tfStack();
    const broker = new RabbitMqBroker(stack, 'Broker', {
      ...placement,
      deploymentMode: BrokerDeploymentMode.SINGLE_INSTANCE,
      engineVersion: '3.13',
      hostInstanceType: 'mq.m5.large',
    });
    expect(synthJson(stack).text).toHaveResourceWithProperties(MqBroker, {
      deployment_mode: 'SINGLE_INSTANCE',
      engine_version: '3.13',
      host_instance_type: 'mq.m5.large',
      subnet_ids: [subnets()[0].subnetId],
    });
    expect(warningsOf(broker).join('\n')).toContain('SINGLE_INSTANCE');
  });

  test('GIVEN a cluster THEN three subnets, the admin user, a protected broker and only a 5671 default port', () => {
    const { stack } = tfStack();
    const broker = new RabbitMqBroker(stack, 'Broker', placement);
    const { text, json } = synthJson(stack);
    expect(text).toHaveResourceWithProperties(MqBroker, {
      subnet_ids: subnets().map((s) => s.subnetId),
      lifecycle: { prevent_destroy: true },
    });
    const [, mq] = ofType(json, 'aws_mq_broker')[0];
    expect(mq.user).toEqual([
      {
        username: 'celeryadmin',
        password: expect.stringMatching(
          /^\$\{jsondecode\(data\.aws_secretsmanager_secret_version\..*\.secret_string\)\.password\}$/,
        ),
      },
    ]);
    expect(mq.broker_name).toMatch(/^Test-Broker-[0-9a-f]{8}$/);
    expect(broker.connections.defaultPort).toBe(5671);
  });

  test('GIVEN any broker THEN an aws_mq_configuration with consumer_timeout an hour, applied at its latest revision', () => {
    const { stack } = tfStack();
    new RabbitMqBroker(stack, 'Broker', { ...placement, consumerTimeoutSeconds: 7200 });
    const { json } = synthJson(stack);
    const [[name, cfg]] = ofType(json, 'aws_mq_configuration');
    expect(cfg).toMatchObject({ engine_type: 'RabbitMQ', engine_version: '4.2' });
    expect(cfg.data).toMatch(/^consumer_timeout = 7200000$/m);
    const [, mq] = ofType(json, 'aws_mq_broker')[0];
    expect(mq.configuration).toEqual({
      id: `\${aws_mq_configuration.${name}.id}`,
      revision: `\${aws_mq_configuration.${name}.latest_revision}`,
    });
  });

  test('GIVEN an existing admin secret THEN no key or secret is created and the password is read from it', () => {
    const { stack } = tfStack();
    const arn = 'arn:aws:secretsmanager:eu-west-1:111122223333:secret:mq-admin-AbCdEf';
    new RabbitMqBroker(stack, 'Broker', {
      ...placement,
      adminCredentials: BrokerCredentials.fromSecretArn(arn),
      adminUsername: 'ops.admin',
      preventDestroy: false,
    });
    const { text, json } = synthJson(stack);
    expect(ofType(json, 'aws_kms_key')).toHaveLength(0);
    expect(ofType(json, 'aws_secretsmanager_secret')).toHaveLength(0);
    expect(text).toHaveDataSourceWithProperties(DataAwsSecretsmanagerSecretVersion, { secret_id: arn });
    const [, mq] = ofType(json, 'aws_mq_broker')[0];
    expect([mq.user[0].username, mq.lifecycle]).toEqual(['ops.admin', undefined]);
  });

  test('brokerHost is cut out of the first AMQPS endpoint', () => {
    const { stack } = tfStack();
    const broker = new RabbitMqBroker(stack, 'Broker', placement);
    new TerraformOutput(stack, 'Host', { value: broker.brokerHost });
    const host = synthJson(stack).json.output!.Host.value;
    expect(host).toBe(
      `\${element(split(":", element(split("://", element(aws_mq_broker.${nameOf(stack, broker.resource)}.instances[0].endpoints, 0)), 1)), 0)}`,
    );
  });
});

describe('CeleryTransport (cdktf)', () => {
  test('GIVEN a Redis broker and a Redis backend THEN two caches, segmented by port, no broker on 5671', () => {
    const { stack } = tfStack();
    const t = new CeleryTransport(stack, 'Celery', {
      ...placement,
      broker: CeleryBroker.redis({ port: 6390 }),
      resultBackend: CeleryResultBackend.redis(),
    });
    const { json } = synthJson(stack);
    expect(ofType(json, 'aws_elasticache_replication_group')).toHaveLength(2);
    expect(ofType(json, 'aws_mq_broker')).toHaveLength(0);
    expect(
      ingressRules(json, nameOf(stack, t.brokerCache!.securityGroup.resource)).map((r) => r.split(' ')[0]),
    ).toEqual(['tcp:6390-6390', 'tcp:6390-6390']);
    expect(
      ingressRules(json, nameOf(stack, t.resultBackendCache!.securityGroup.resource)).map((r) => r.split(' ')[0]),
    ).toEqual(['tcp:6380-6380', 'tcp:6380-6380']);
    expect(allFindings(json)).toEqual([]);
    expect(t.celeryConfig.model.broker.scheme).toBe('rediss');
    expect(t.celeryConfig.model.options.quorumQueues).toBe(false);
    // The two caches get distinct physical names.
    const ids = ofType(json, 'aws_elasticache_replication_group').map(([, r]) => r.replication_group_id);
    expect(new Set(ids).size).toBe(2);
  });

  test('GIVEN a shared Redis backend THEN one cache, results in db 1', () => {
    const { stack } = tfStack();
    const t = new CeleryTransport(stack, 'Celery', {
      ...placement,
      broker: CeleryBroker.redis(),
      resultBackend: CeleryResultBackend.sharedWithRedisBroker(),
    });
    const { json } = synthJson(stack);
    expect(ofType(json, 'aws_elasticache_replication_group')).toHaveLength(1);
    expect(t.celeryConfig.model.resultBackend?.db).toBe(1);
    expect(ingressRules(json, nameOf(stack, t.brokerCache!.securityGroup.resource))).toHaveLength(2);
  });

  test('GIVEN no result backend THEN only the broker', () => {
    const { stack } = tfStack();
    const t = new CeleryTransport(stack, 'Celery', { ...placement, resultBackend: CeleryResultBackend.none() });
    expect(ofType(synthJson(stack).json, 'aws_elasticache_replication_group')).toHaveLength(0);
    expect(t.celeryConfig.model.resultBackend).toBeUndefined();
    expect(t.celeryConfig.model.options.quorumQueues).toBe(true);
    expect(t.containerEnvironment().secrets.map((s) => s.name)).toEqual(['CELERY_TLS_BROKER_PASSWORD']);
  });

  test('allowProducer/allowWorker open only the TLS ports from the peer, with descriptions; repeating adds nothing', () => {
    const { stack } = tfStack();
    const t = new CeleryTransport(stack, 'Celery', placement);
    const web = new SecurityGroup(stack, 'Web', { vpcId: VPC_ID, description: 'web' });
    t.allowProducer({ securityGroupId: web.id });
    t.allowProducer({ securityGroupId: web.id });
    t.allowWorker({ securityGroupId: 'sg-0123456789abcdef0' });
    const { text, json } = synthJson(stack);
    expect(ingressRules(json, nameOf(stack, t.rabbitMqBroker!.securityGroup.resource))).toHaveLength(4);
    expect(ingressRules(json, nameOf(stack, t.resultBackendCache!.securityGroup.resource))).toHaveLength(4);
    expect(text).toHaveResourceWithProperties(VpcSecurityGroupIngressRule, {
      description: 'Celery producer to broker on 5671/tcp (AMQPS)',
      referenced_security_group_id: '${aws_security_group.Web.id}',
      from_port: 5671,
      to_port: 5671,
      ip_protocol: 'tcp',
    });
    expect(text).toHaveResourceWithProperties(VpcSecurityGroupIngressRule, {
      description: 'Celery worker to result backend on 6380/tcp (Redis over TLS)',
      referenced_security_group_id: 'sg-0123456789abcdef0',
      from_port: 6380,
    });
    // A group the library does not manage gets no egress rule from it: its owner decides its egress.
    expect(
      ofType(json, 'aws_vpc_security_group_egress_rule').filter(
        ([, r]) => r.security_group_id === '${aws_security_group.Web.id}',
      ),
    ).toHaveLength(0);
    expect(networkFindings(json)).toEqual([]);
  });

  test('connections: allowDefaultPortFrom a managed group adds the ingress rule and the matching egress rule', () => {
    const { stack } = tfStack();
    const cache = new RedisCache(stack, 'Cache', placement);
    const app = new CelerySecurityGroup(stack, 'App', { vpcId: VPC_ID, description: 'app' });
    cache.connections.allowDefaultPortFrom(app, 'app to cache');
    const { text } = synthJson(stack);
    expect(text).toHaveResourceWithProperties(VpcSecurityGroupIngressRule, {
      from_port: 6380,
      to_port: 6380,
      description: 'app to cache',
      referenced_security_group_id: `\${aws_security_group.${nameOf(stack, app.resource)}.id}`,
    });
    expect(text).toHaveResourceWithProperties(VpcSecurityGroupEgressRule, {
      from_port: 6380,
      security_group_id: `\${aws_security_group.${nameOf(stack, app.resource)}.id}`,
      referenced_security_group_id: `\${aws_security_group.${nameOf(stack, cache.securityGroup.resource)}.id}`,
    });
    expect(() => app.connections.allowDefaultPortFrom(cache)).toThrow('Test/App has no default port');
  });

  test('containerEnvironment and credentialsReadPolicyJson: passwords as ECS secrets, reads by ARN with kms:ViaService', () => {
    const { stack } = tfStack();
    const t = new CeleryTransport(stack, 'Celery', placement);
    const env = t.containerEnvironment();
    expect(env.environment).toEqual(
      expect.arrayContaining([
        { name: 'CELERY_TLS_BROKER_PORT', value: '5671' },
        { name: 'CELERY_TLS_BROKER_USERNAME', value: 'celeryadmin' },
        { name: 'CELERY_TLS_RESULT_BACKEND_PORT', value: '6380' },
      ]),
    );
    expect(env.secrets).toEqual([
      { name: 'CELERY_TLS_BROKER_PASSWORD', valueFrom: `${t.rabbitMqBroker!.adminSecret.secretArn}:password::` },
      {
        name: 'CELERY_TLS_RESULT_BACKEND_PASSWORD',
        valueFrom: `${t.resultBackendCache!.authTokenSecret!.secretArn}:password::`,
      },
    ]);
    const policy = JSON.parse(t.credentialsReadPolicyJson());
    expect(policy.Statement).toHaveLength(4);
    expect(policy.Statement.flatMap((s: any) => s.Resource)).not.toContain('*');
    expect(
      policy.Statement.filter((s: any) => s.Action.includes('kms:Decrypt')).every(
        (s: any) => Object.keys(s.Condition.StringEquals)[0] === 'kms:ViaService',
      ),
    ).toBe(true);
  });

  test('grantReadCredentials puts the read statements on the given role as one aws_iam_role_policy; a second call adds nothing', () => {
    const { stack } = tfStack();
    const t = new CeleryTransport(stack, 'Celery', placement);
    const statements = t.grantReadCredentials({ name: 'celery-worker-execution' });
    t.grantReadCredentials({ name: 'celery-worker-execution' });
    expect(statements).toEqual(t.credentialsReadStatements());
    const policies = ofType(synthJson(stack).json, 'aws_iam_role_policy');
    expect(policies).toHaveLength(1);
    expect(policies[0][1].role).toBe('celery-worker-execution');
    const policy = JSON.parse(policies[0][1].policy);
    expect(policy.Statement).toHaveLength(4);
    expect(policy.Statement.flatMap((x: any) => x.Resource)).toEqual(
      expect.arrayContaining([
        '${aws_secretsmanager_secret.Celery_Broker_AdminCredentials_602F9F36.arn}',
        '${aws_secretsmanager_secret.Celery_ResultBackend_AuthToken_4D4D6EC5.arn}',
      ]),
    );
    // Both roles read the same credentials on Terraform, so both get the same settings.
    expect(t.celeryConfigFor(CeleryRole.PRODUCER).toManifest()).toEqual(t.celeryConfig.toManifest());
  });

  test('one set of account/partition/region data sources per stack', () => {
    const { stack } = tfStack();
    new CeleryTransport(stack, 'Celery', placement);
    new CeleryTransport(stack, 'Other', { ...placement, broker: CeleryBroker.redis() });
    const { json } = synthJson(stack);
    expect(Object.keys(json.data!.aws_caller_identity)).toHaveLength(1);
    expect(Object.keys(json.data!.aws_region)).toHaveLength(1);
  });

  test('GIVEN two stacks THEN the generated physical names differ', () => {
    const { app } = tfStack();
    const names = ['One', 'Two'].map((n) => {
      const s = new TerraformStack(app, n);
      new RedisCache(s, 'Cache', placement);
      return ofType(synthJson(s).json, 'aws_elasticache_replication_group')[0][1].replication_group_id;
    });
    expect(names[0]).not.toBe(names[1]);
  });
});
