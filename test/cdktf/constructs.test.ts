import { TerraformOutput, TerraformStack, Testing } from 'cdktf';
import 'cdktf/lib/testing/adapters/jest';
import {
  AuthTokenUpdateStrategy,
  BrokerClientCertificates,
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
    // From producers, workers and the TLS canary.
    expect(
      ingressRules(json, nameOf(stack, t.brokerCache!.securityGroup.resource)).map((r) => r.split(' ')[0]),
    ).toEqual(['tcp:6390-6390', 'tcp:6390-6390', 'tcp:6390-6390']);
    expect(
      ingressRules(json, nameOf(stack, t.resultBackendCache!.securityGroup.resource)).map((r) => r.split(' ')[0]),
    ).toEqual(['tcp:6380-6380', 'tcp:6380-6380', 'tcp:6380-6380']);
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
    // Producers, workers and the TLS canary.
    expect(ingressRules(json, nameOf(stack, t.brokerCache!.securityGroup.resource))).toHaveLength(3);
  });

  test('GIVEN no result backend THEN only the broker', () => {
    const { stack } = tfStack();
    const t = new CeleryTransport(stack, 'Celery', { ...placement, resultBackend: CeleryResultBackend.none() });
    expect(ofType(synthJson(stack).json, 'aws_elasticache_replication_group')).toHaveLength(0);
    expect(t.celeryConfig.model.resultBackend).toBeUndefined();
    expect(t.celeryConfig.model.options.quorumQueues).toBe(true);
    // The broker user's whole secret: the user name alternates with rotation.
    expect(t.containerEnvironment().secrets.map((s) => s.name)).toEqual(['CELERY_TLS_BROKER_CREDENTIALS']);
  });

  test('allowProducer/allowWorker open only the TLS ports from the peer, with descriptions; repeating adds nothing', () => {
    const { stack } = tfStack();
    const t = new CeleryTransport(stack, 'Celery', placement);
    const web = new SecurityGroup(stack, 'Web', { vpcId: VPC_ID, description: 'web' });
    t.allowProducer({ securityGroupId: web.id });
    t.allowProducer({ securityGroupId: web.id });
    t.allowWorker({ securityGroupId: 'sg-0123456789abcdef0' });
    const { text, json } = synthJson(stack);
    // Producers, workers, the two peers and the TLS canary on 5671, and the users function on the management API (443).
    expect(ingressRules(json, nameOf(stack, t.rabbitMqBroker!.securityGroup.resource))).toHaveLength(6);
    expect(ingressRules(json, nameOf(stack, t.resultBackendCache!.securityGroup.resource))).toHaveLength(5);
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

  test("containerEnvironment(role) and credentialsReadPolicyJson(role): the role's secrets as ECS secrets, reads by ARN with kms:ViaService, never the admin", () => {
    const { stack } = tfStack();
    const t = new CeleryTransport(stack, 'Celery', placement);
    const users = t.rabbitMqUsers!;
    for (const role of [CeleryRole.PRODUCER, CeleryRole.WORKER]) {
      const env = t.containerEnvironment(role);
      expect(env.environment).toEqual(
        expect.arrayContaining([
          { name: 'CELERY_TLS_BROKER_PORT', value: '5671' },
          { name: 'CELERY_TLS_RESULT_BACKEND_PORT', value: '6380' },
        ]),
      );
      expect(env.environment.map((e) => e.value)).not.toContain('celeryadmin');
      // The whole credentials secret (user name and password rotate together), and the AUTH token's field.
      expect(env.secrets).toEqual([
        { name: 'CELERY_TLS_BROKER_CREDENTIALS', valueFrom: users.userFor(role).secret.secretArn },
        {
          name: 'CELERY_TLS_RESULT_BACKEND_PASSWORD',
          valueFrom: `${t.resultBackendCache!.authTokenSecret!.secretArn}:password::`,
        },
      ]);
      const policy = JSON.parse(t.credentialsReadPolicyJson(role));
      expect(policy.Statement).toHaveLength(4);
      const resources = policy.Statement.flatMap((s: any) => s.Resource);
      expect(resources).not.toContain('*');
      expect(resources).toContain(users.userFor(role).secret.secretArn);
      expect(resources).not.toContain(t.rabbitMqBroker!.adminSecret.secretArn);
      expect(
        policy.Statement.filter((s: any) => s.Action.includes('kms:Decrypt')).every(
          (s: any) => Object.keys(s.Condition.StringEquals)[0] === 'kms:ViaService',
        ),
      ).toBe(true);
    }
    expect(t.containerEnvironment().secrets).toEqual(t.containerEnvironment(CeleryRole.WORKER).secrets);
    expect(users.userFor(CeleryRole.PRODUCER).secret.secretArn).not.toBe(
      users.userFor(CeleryRole.WORKER).secret.secretArn,
    );
  });

  test("grantReadCredentials(role) puts the role's read statements on the given role as one aws_iam_role_policy; a second call adds nothing", () => {
    const { stack } = tfStack();
    const t = new CeleryTransport(stack, 'Celery', placement);
    const statements = t.grantReadCredentials({ name: 'celery-worker-execution' });
    t.grantReadCredentials({ name: 'celery-worker-execution' });
    t.grantReadCredentials({ name: 'celery-web-execution' }, CeleryRole.PRODUCER);
    expect(statements).toEqual(t.credentialsReadStatements(CeleryRole.WORKER));
    const policies = ofType(synthJson(stack).json, 'aws_iam_role_policy');
    // The worker's address is the one earlier releases gave the single policy; the producer's has a suffix.
    expect(Object.fromEntries(policies.map(([name, p]) => [p.role, name]))).toEqual({
      'celery-worker-execution': 'Celery_ReadCredentialsceleryworkerexecution_8752FEDC',
      'celery-web-execution': 'Celery_ReadCredentialscelerywebexecutionProducer_457C8DE7',
    });
    const byRole = (role: string) => policies.find(([, p]) => p.role === role)![1];
    const resourcesOf = (i: number) =>
      JSON.parse(byRole(['celery-worker-execution', 'celery-web-execution'][i]).policy).Statement.flatMap(
        (x: any) => x.Resource,
      );
    expect(resourcesOf(0)).toEqual(
      expect.arrayContaining([
        '${aws_secretsmanager_secret.Celery_BrokerUsers_WorkerCredentials_4E4288EF.arn}',
        '${aws_secretsmanager_secret.Celery_ResultBackend_AuthToken_4D4D6EC5.arn}',
      ]),
    );
    expect(resourcesOf(1)).toContain(
      '${aws_secretsmanager_secret.Celery_BrokerUsers_ProducerCredentials_000AF63C.arn}',
    );
    for (const i of [0, 1])
      expect(resourcesOf(i)).not.toContain('${aws_secretsmanager_secret.Celery_Broker_AdminCredentials_602F9F36.arn}');
    // Each role logs in as its own broker user.
    expect(t.celeryConfigFor(CeleryRole.PRODUCER).model.broker.username).toBe('celery-producer');
    expect(t.celeryConfigFor(CeleryRole.WORKER).model.broker.username).toBe('celery-worker');
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

describe('identities on Terraform: RBAC users, application users, client certificates', () => {
  const CA = 'arn:aws:acm-pca:eu-west-1:111122223333:certificate-authority/11111111-2222-3333-4444-555555555555';
  const CHAIN = '-----BEGIN CERTIFICATE-----\nMIIBparent\n-----END CERTIFICATE-----\n';

  test('RBAC users: the default user off, a user per role with its password from Secrets Manager, a group, rotation by a function outside the VPC', () => {
    const { stack } = tfStack();
    const cache = new RedisCache(stack, 'Cache', { ...placement, authToken: RedisAuth.rbacUsers() });
    const { json } = synthJson(stack);
    expect(allFindings(json)).toEqual([]);
    const [, group] = ofType(json, 'aws_elasticache_replication_group')[0];
    expect(group.auth_token).toBeUndefined();
    expect(group.auth_token_update_strategy).toBeUndefined();
    const users = ofType(json, 'aws_elasticache_user').map(([, u]) => [
      u.user_name,
      u.access_string,
      u.authentication_mode.type,
    ]);
    expect(users).toEqual([
      ['default', 'off -@all', 'no-password-required'],
      ['celery-producer', 'on ~* &* +@all -@dangerous', 'password'],
      ['celery-worker', 'on ~* &* +@all -@dangerous', 'password'],
    ]);
    // The rotation function owns the passwords after the first: Terraform does not set them back.
    expect(ofType(json, 'aws_elasticache_user')[1][1].lifecycle).toEqual({ ignore_changes: ['authentication_mode'] });
    const [, fn] = ofType(json, 'aws_lambda_function')[0];
    expect(fn.handler).toBe('index.onRotate');
    expect(fn.vpc_config).toBeUndefined();
    expect(
      ofType(json, 'aws_secretsmanager_secret_rotation').map(([, r]) => r.rotation_rules.schedule_expression),
    ).toEqual(['rate(30 days)', 'rate(30 days)']);
    expect(cache.celeryEndpoint({ role: CeleryRole.PRODUCER }).username).toBe('celery-producer');
    expect(cache.secretFor(CeleryRole.PRODUCER)).toBe(cache.rbacUserFor(CeleryRole.PRODUCER)!.secret);
    expect(cache.authTokenReadStatements()).toEqual([]);
  });

  test('RBAC users refuse the AUTH-token props, each named', () => {
    const { stack } = tfStack();
    const e = thrown(
      () =>
        new RedisCache(stack, 'Cache', {
          ...placement,
          authToken: RedisAuth.rbacUsers(),
          authTokenVersion: 2,
          authTokenUpdateStrategy: AuthTokenUpdateStrategy.SET,
        }),
    );
    expect(e.issues.map((i) => i.prop)).toEqual(['authTokenUpdateStrategy', 'authTokenVersion']);
    expect(e.message).toContain('conflicts with RedisAuth.rbacUsers(): a cache with RBAC users has no AUTH token');
    expect(e.message).toContain('with RedisAuth.rbacUsers() the passwords rotate by function');
  });

  test('an existing Secrets Manager endpoint: no endpoint is made, the functions reach its group on 443 and use its private name', () => {
    const { stack } = tfStack();
    const t = new CeleryTransport(stack, 'Celery', {
      ...placement,
      resultBackend: CeleryResultBackend.none(),
      broker: CeleryBroker.rabbitMq({
        applicationUsers: { secretsManagerEndpoint: { securityGroupId: 'sg-0endpoint0000000' } },
      }),
    });
    const { json } = synthJson(stack);
    expect(ofType(json, 'aws_vpc_endpoint')).toHaveLength(0);
    expect(t.rabbitMqUsers!.secretsManagerEndpoint).toBeUndefined();
    const usersGroup = `\${aws_security_group.${nameOf(stack, t.rabbitMqUsers!.securityGroup.resource)}.id}`;
    expect(
      ofType(json, 'aws_vpc_security_group_egress_rule')
        .filter(([, r]) => r.security_group_id === usersGroup)
        .map(([, r]) => `${r.referenced_security_group_id}:${r.from_port}`)
        .sort(),
    ).toEqual([
      `\${aws_security_group.${nameOf(stack, t.rabbitMqBroker!.securityGroup.resource)}.id}:443`,
      'sg-0endpoint0000000:443',
    ]);
    for (const [, f] of ofType(json, 'aws_lambda_function'))
      expect(f.environment?.variables?.SECRETS_MANAGER_ENDPOINT).toBeUndefined();
    // The endpoint's group admits the functions on 443.
    expect(
      ofType(json, 'aws_vpc_security_group_ingress_rule')
        .filter(([, r]) => r.security_group_id === 'sg-0endpoint0000000')
        .map(([, r]) => `${r.referenced_security_group_id}:${r.from_port}`),
    ).toEqual([`${usersGroup}:443`]);
  });

  test('a subordinate CA: created, signed by the parent, installed, protected; the broker trusts the parent', () => {
    const { stack } = tfStack();
    const t = new CeleryTransport(stack, 'Celery', {
      ...placement,
      resultBackend: CeleryResultBackend.none(),
      broker: CeleryBroker.rabbitMq({
        clientCertificates: BrokerClientCertificates.newSubordinateCa({
          parentCaArn: CA,
          parentCertificateChain: CHAIN,
        }),
      }),
    });
    const { json } = synthJson(stack);
    const [caName, ca] = ofType(json, 'aws_acmpca_certificate_authority')[0];
    expect(ca).toMatchObject({
      type: 'SUBORDINATE',
      usage_mode: 'GENERAL_PURPOSE',
      certificate_authority_configuration: { key_algorithm: 'EC_prime256v1', signing_algorithm: 'SHA256WITHECDSA' },
      lifecycle: { prevent_destroy: true },
    });
    const [, cert] = ofType(json, 'aws_acmpca_certificate')[0];
    expect(cert.certificate_authority_arn).toBe(CA);
    expect(cert.certificate_signing_request).toBe(
      `\${aws_acmpca_certificate_authority.${caName}.certificate_signing_request}`,
    );
    const [installedName, installed] = ofType(json, 'aws_acmpca_certificate_authority_certificate')[0];
    expect(installed).toMatchObject({ certificate_chain: CHAIN, lifecycle: { prevent_destroy: true } });
    const [, conf] = ofType(json, 'aws_mq_configuration')[0];
    expect(conf.data).toContain(`aws.arns.ssl_options.cacertfile = ${CA}`);
    // Certificates are issued from the subordinate, after it is installed.
    const [, issuer] = ofType(json, 'aws_lambda_function').find(([, f]) => f.environment?.variables?.CA_ARN)!;
    expect(issuer.environment.variables.CA_ARN).toBe(`\${aws_acmpca_certificate_authority.${caName}.arn}`);
    for (const [, r] of ofType(json, 'aws_secretsmanager_secret_rotation').filter(([n]) => n.includes('Certificate')))
      expect(r.depends_on).toContain(`aws_acmpca_certificate_authority_certificate.${installedName}`);
    expect(t.rabbitMqBroker!.mutualTls!.trustAnchorCaArn).toBe(CA);
  });

  test('application users: their own errors, named as the transport prop', () => {
    const { stack } = tfStack();
    const e = thrown(
      () =>
        new CeleryTransport(stack, 'Celery', {
          ...placement,
          broker: CeleryBroker.rabbitMq({ applicationUsers: { rotationDays: 365, vhost: 'has space' } }),
        }),
    );
    expect(e.issues.map((i) => i.prop).sort()).toEqual([
      'broker.applicationUsers.rotationDays',
      'broker.applicationUsers.vhost',
    ]);
  });
});
