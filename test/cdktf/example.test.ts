import { mkdtempSync, readFileSync, readdirSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { App, Testing } from 'cdktf';
import 'cdktf/lib/testing/adapters/jest';
import { CeleryTlsExampleStack } from '../../examples/cdktf/stack';
import { CeleryConfig, CeleryRole } from '../../lib/core';
import {
  DataAwsSecretsmanagerRandomPassword,
  ElasticacheParameterGroup,
  ElasticacheReplicationGroup,
  KmsKey,
  MqBroker,
  SecurityGroup,
  VpcSecurityGroupIngressRule,
} from '../../lib/cdktf/provider';
import {
  TfJson,
  allFindings,
  brokerFindings,
  cacheFindings,
  identityFindings,
  ingressRules,
  keyAndSecretFindings,
  networkFindings,
  ofType,
  reference,
  secretFindings,
} from './security';

Testing.setupJest();

// GIVEN the example app exactly as `npm run synth:cdktf` builds it (offline, no AWS account)
const CA_ARN = 'arn:aws:acm-pca:eu-west-1:111122223333:certificate-authority/11111111-2222-3333-4444-555555555555';

function synthExample(props: { clientCaArn?: string } = {}) {
  const outdir = mkdtempSync(join(tmpdir(), 'celery-tls-cdktf-example-'));
  const app = new App({ outdir });
  const stack = new CeleryTlsExampleStack(app, 'celery-tls-example', props);
  app.synth();
  const text = readFileSync(join(outdir, 'stacks', 'celery-tls-example', 'cdk.tf.json'), 'utf8');
  return { outdir, stack, text, tf: JSON.parse(text) as TfJson };
}
const { outdir, stack, text, tf } = synthExample();
const nameIn = (t: TfJson, path: string) =>
  Object.values(t.resource!)
    .flatMap((r) => Object.entries(r))
    .find(([, b]) => b['//'].metadata.path === `celery-tls-example/${path}`)![0];
const nameAt = (path: string) => nameIn(tf, path);

describe('cdktf example: security properties of cdk.tf.json', () => {
  test('it has one broker, one replication group, seven security groups, three keys, five rotated secrets, four functions', () => {
    expect(ofType(tf, 'aws_mq_broker')).toHaveLength(1);
    expect(ofType(tf, 'aws_elasticache_replication_group')).toHaveLength(1);
    // Broker, backend, producers, workers, the users functions, their Secrets Manager endpoint, the TLS canary.
    expect(ofType(tf, 'aws_security_group')).toHaveLength(7);
    // The broker's, the result backend's and the alarm topic's.
    expect(ofType(tf, 'aws_kms_key')).toHaveLength(3);
    // The admin, two broker users, two cache users.
    expect(ofType(tf, 'aws_secretsmanager_secret')).toHaveLength(5);
    expect(ofType(tf, 'aws_secretsmanager_secret_rotation')).toHaveLength(5);
    // Users, their rotation, the cache users' rotation, the TLS canary (no certificate function without a CA).
    expect(ofType(tf, 'aws_lambda_function')).toHaveLength(4);
    expect(identityFindings(tf)).toEqual([]);
  });

  test('replication group: TLS required, CMK at rest, RBAC users from Secrets Manager, Multi-AZ, noeviction, logs, snapshots', () => {
    expect(cacheFindings(tf)).toEqual([]);
    expect(text).toHaveResourceWithProperties(ElasticacheReplicationGroup, {
      transit_encryption_enabled: true,
      transit_encryption_mode: 'required',
      at_rest_encryption_enabled: 'true',
      kms_key_id: `\${aws_kms_key.${nameAt('Celery/ResultBackend/Key')}.arn}`,
      user_group_ids: [`\${aws_elasticache_user_group.${nameAt('Celery/ResultBackend/UserGroup')}.user_group_id}`],
      multi_az_enabled: true,
      automatic_failover_enabled: true,
      cluster_mode: 'disabled',
      num_cache_clusters: 2,
      port: 6380,
      snapshot_retention_limit: 15,
      engine: 'valkey',
    });
    expect(text).toHaveResourceWithProperties(ElasticacheParameterGroup, {
      family: 'valkey8',
      parameter: [{ name: 'maxmemory-policy', value: 'noeviction' }],
    });
  });

  test('broker: RabbitMQ, private, Multi-AZ cluster, general logs, password from Secrets Manager', () => {
    expect(brokerFindings(tf)).toEqual([]);
    expect(text).toHaveResourceWithProperties(MqBroker, {
      engine_type: 'RabbitMQ',
      engine_version: '4.2',
      publicly_accessible: false,
      deployment_mode: 'CLUSTER_MULTI_AZ',
      logs: { general: true },
      subnet_ids: ['subnet-0example0private0a', 'subnet-0example0private0b', 'subnet-0example0private0c'],
    });
  });

  test('keys rotate, have explicit policies and are protected; secrets and log groups use them', () => {
    expect(keyAndSecretFindings(tf)).toEqual([]);
    expect(text).toHaveResourceWithProperties(KmsKey, {
      enable_key_rotation: true,
      deletion_window_in_days: 30,
      lifecycle: { prevent_destroy: true },
    });
    expect(text).toHaveDataSourceWithProperties(DataAwsSecretsmanagerRandomPassword, {
      password_length: 64,
      exclude_punctuation: true,
      include_space: false,
    });
  });

  test('network: no inline rules, no open ingress, no protocol -1, no allow-all egress, descriptions everywhere', () => {
    expect(networkFindings(tf)).toEqual([]);
    expect(text).toHaveResourceWithProperties(SecurityGroup, { vpc_id: 'vpc-0example0celery01' });
    expect(text).toHaveResourceWithProperties(VpcSecurityGroupIngressRule, {
      ip_protocol: 'tcp',
      from_port: 5671,
      to_port: 5671,
      description: 'Celery workers to broker on 5671/tcp (AMQPS)',
    });
  });

  test('broker ingress on 5671 from producers, workers and the canary and on 443 from the users function only; backend on its port', () => {
    const producers = nameAt('Celery/ProducersSecurityGroup/Resource');
    const workers = nameAt('Celery/WorkersSecurityGroup/Resource');
    const canary = nameAt('Celery/CanarySecurityGroup/Resource');
    const usersFn = nameAt('Celery/BrokerUsers/SecurityGroup/Resource');
    const endpoint = nameAt('Celery/BrokerUsers/SecretsManagerEndpointSecurityGroup/Resource');
    expect(ingressRules(tf, nameAt('Celery/Broker/SecurityGroup/Resource'))).toEqual(
      [
        `tcp:443-443 from ${usersFn}`,
        `tcp:5671-5671 from ${producers}`,
        `tcp:5671-5671 from ${workers}`,
        `tcp:5671-5671 from ${canary}`,
      ].sort(),
    );
    expect(ingressRules(tf, nameAt('Celery/ResultBackend/SecurityGroup/Resource'))).toEqual(
      [`tcp:6380-6380 from ${producers}`, `tcp:6380-6380 from ${workers}`, `tcp:6380-6380 from ${canary}`].sort(),
    );
    expect(ingressRules(tf, endpoint)).toEqual([`tcp:443-443 from ${usersFn}`]);
    // Egress: producers and workers to the TLS ports, the users functions to the broker's and the endpoint's 443.
    expect(
      ofType(tf, 'aws_vpc_security_group_egress_rule')
        .map(([, r]) => `${r.security_group_id.split('.')[1]}:${r.from_port}`)
        .sort(),
    ).toEqual(
      [
        `${producers}:5671`,
        `${workers}:5671`,
        `${producers}:6380`,
        `${workers}:6380`,
        `${usersFn}:443`,
        `${usersFn}:443`,
        `${canary}:5671`,
        `${canary}:6380`,
      ].sort(),
    );
  });

  test("each role's environment carries its own secrets as ECS secrets only, never the admin's", () => {
    const users = stack.transport.rabbitMqUsers!;
    const cache = stack.transport.resultBackendCache!;
    for (const role of [CeleryRole.PRODUCER, CeleryRole.WORKER]) {
      const env = stack.transport.containerEnvironment(role);
      // Whole secrets: the user names alternate with rotation (the broker) and come with the password (RBAC).
      expect(env.secrets).toEqual([
        { name: 'CELERY_TLS_BROKER_CREDENTIALS', valueFrom: users.userFor(role).secret.secretArn },
        {
          name: 'CELERY_TLS_RESULT_BACKEND_PASSWORD',
          valueFrom: `${cache.rbacUserFor(role)!.secret.secretArn}:password::`,
        },
      ]);
      expect(env.environment.map((e) => e.name)).not.toContain('CELERY_TLS_BROKER_PASSWORD');
      expect(env.environment.find((e) => e.name === 'CELERY_TLS_BROKER_PORT')!.value).toBe('5671');
      expect(env.environment.find((e) => e.name === 'CELERY_TLS_RESULT_BACKEND_USERNAME')!.value).toBe(
        `celery-${role}`,
      );
      expect(JSON.stringify(env)).not.toContain(stack.transport.rabbitMqBroker!.adminSecret.secretArn);
    }
  });

  test('the application users: an aws_lambda_invocation (CRUD) of the users function with the vhost, users, permissions and secret ARNs, no password', () => {
    const [, invocation] = ofType(tf, 'aws_lambda_invocation')[0];
    expect(invocation.lifecycle_scope).toBe('CRUD');
    expect(invocation.function_name).toBe(
      `\${aws_lambda_function.${nameAt('Celery/BrokerUsers/Function')}.function_name}`,
    );
    const input = JSON.parse(String(invocation.input).replace(/\$\{[^}]*\}/g, (e) => (e.includes('"') ? 'expr' : e)));
    expect(input).toMatchObject({
      Vhost: 'celery',
      DefaultQueueType: 'quorum',
      DeadLetterQueue: 'celery.dead-letter',
      Users: [
        { Name: 'celery-producer', Configure: '.*', Write: '.*', Read: '.*' },
        { Name: 'celery-worker', Configure: '.*', Write: '.*', Read: '.*' },
      ],
    });
    expect(input.ManagementUrl).toMatch(/^https:\/\//);
    expect(input.Users[1].PasswordSecretArn).toBe(
      `\${aws_secretsmanager_secret.${nameAt('Celery/BrokerUsers/WorkerCredentials/Resource')}.arn}`,
    );
    const [, fn] = ofType(tf, 'aws_lambda_function').find(([n]) => n === nameAt('Celery/BrokerUsers/Function'))!;
    expect(fn.handler).toBe('index.onInvocation');
    expect(fn.vpc_config.security_group_ids).toEqual([
      `\${aws_security_group.${nameAt('Celery/BrokerUsers/SecurityGroup/Resource')}.id}`,
    ]);
    // The clients read the vhost from the invocation's result: they are configured after the users exist.
    expect(stack.transport.celeryConfig.model.broker.vhost).toBeDefined();
  });

  test('state goes to an encrypted backend on Terraform >= 1.11 (write-only arguments)', () => {
    expect(tf.terraform!.backend.s3).toMatchObject({ encrypt: true });
    expect(tf.terraform!.required_version).toBe('>= 1.11.0');
  });
});

function walk(dir: string): string[] {
  return readdirSync(dir).flatMap((name) =>
    statSync(join(dir, name)).isDirectory() ? walk(join(dir, name)) : [join(dir, name)],
  );
}

describe('no secret value anywhere in cdktf.out', () => {
  const files = walk(outdir);
  const all = files.map((f) => readFileSync(f, 'utf8')).join('\n');

  test('every password-like argument is an apply-time expression; outputs and the SSM value read no secret', () => {
    expect(secretFindings(tf)).toEqual([]);
  });

  test('generated values exist only as a data source feeding the write-only secret_string_wo', () => {
    const uses = [...all.matchAll(/data\.aws_secretsmanager_random_password\.[A-Za-z0-9_]+\.random_password/g)].length;
    expect(uses).toBe(5);
    expect(all).not.toMatch(/"secret_string"\s*:/);
    expect(all).not.toMatch(/"(password|auth_token)"\s*:\s*"[^$]/);
  });
});

describe('what the state can hold', () => {
  test('only the secrets a Terraform resource needs are read back: the admin and the cache users, never the broker users', () => {
    // Each data source of a secret's value lands in the state; the broker users' and the certificates' have none.
    const m = synthExample({ clientCaArn: CA_ARN });
    const readBack = Object.values<any>(m.tf.data!.aws_secretsmanager_secret_version).map((d) => d['//'].metadata.path);
    expect(readBack.sort()).toEqual(
      [
        'celery-tls-example/Celery/Broker/AdminCredentials/Current',
        'celery-tls-example/Celery/ResultBackend/ProducerCredentials/Current',
        'celery-tls-example/Celery/ResultBackend/WorkerCredentials/Current',
      ].sort(),
    );
    // And each is pinned to the version Terraform wrote, not to whatever a rotation made current.
    for (const d of Object.values<any>(m.tf.data!.aws_secretsmanager_secret_version))
      expect(d.version_id).toMatch(/^\$\{aws_secretsmanager_secret_version\.[A-Za-z0-9_]+\.version_id\}$/);
  });
});

describe('published manifest', () => {
  test('SSM parameter and output carry the same JSON with hosts, ARNs and no secrets', () => {
    const [, param] = ofType(tf, 'aws_ssm_parameter')[0];
    const output = Object.values(tf.output!).find((o) => String(o.description).startsWith('Celery TLS manifest:'))!;
    expect(output.value).toEqual(param.value);
    // Apply-time values are `${...}` templates inside the JSON string (their quotes are HCL, not JSON).
    const expressions: string[] = [];
    const manifest = JSON.parse(String(param.value).replace(/\$\{[^}]*\}/g, (e) => `@${expressions.push(e) - 1}`));
    const at = (v: string) => expressions[Number(v.slice(1))];
    expect(manifest).toMatchObject({
      schema: 'celery-tls-constructs/manifest@1',
      broker: { scheme: 'amqps', port: 5671 },
      resultBackend: { scheme: 'rediss', port: 6380 },
    });
    expect(at(manifest.broker.host)).toContain('aws_mq_broker.');
    expect(at(manifest.resultBackend.host)).toContain('.primary_endpoint_address');
    expect(at(manifest.broker.secretArn)).toMatch(/^\$\{aws_secretsmanager_secret\.[A-Za-z0-9_]+\.arn\}$/);
  });

  test('`terraform output -json` after apply is a document `celery-tls render --manifest` reads', () => {
    // Simulate the applied values: each `${...}` becomes what Terraform would put there.
    const [name, output] = Object.entries(tf.output!).find(([, o]) =>
      String(o.description).startsWith('Celery TLS manifest:'),
    )!;
    const applied = String(output.value)
      .replace(/\$\{[^}]*aws_mq_broker[^}]*\}/, 'b-1234.mq.eu-west-1.on.aws')
      .replace(/\$\{[^}]*primary_endpoint_address\}/, 'master.celery.abc123.euw1.cache.amazonaws.com')
      .replace(/\$\{[^}]*\.arn\}/g, 'arn:aws:secretsmanager:eu-west-1:111122223333:secret:celery-AbCdEf');
    const outputsFile = JSON.stringify({ [name]: { sensitive: false, type: 'string', value: applied } });
    const config = CeleryConfig.fromManifest(outputsFile);
    expect(config.model.broker).toMatchObject({ scheme: 'amqps', host: 'b-1234.mq.eu-west-1.on.aws', port: 5671 });
    expect(config.toPythonModule()).toContain('rediss');
  });
});

describe('id-churn guard', () => {
  test('resource and data source addresses of the example stack', () => {
    // Reviewed by hand: renaming any of these replaces a broker, a cache, a key or a secret on the next apply.
    const addresses = [
      ...Object.entries(tf.resource!).flatMap(([type, byName]) => Object.keys(byName).map((n) => `${type}.${n}`)),
      ...Object.entries(tf.data!).flatMap(([type, byName]) => Object.keys(byName).map((n) => `data.${type}.${n}`)),
    ].sort();
    expect(addresses).toMatchSnapshot();
  });
});

describe('cdktf example with client certificates (CLIENT_CA_ARN)', () => {
  const m = synthExample({ clientCaArn: CA_ARN });
  const at = (path: string) => nameIn(m.tf, path);

  test('every check holds, and two certificate secrets rotate by re-issue from the CA', () => {
    expect(allFindings(m.tf)).toEqual([]);
    expect(ofType(m.tf, 'aws_secretsmanager_secret')).toHaveLength(7);
    const [, fn] = ofType(m.tf, 'aws_lambda_function').find(
      ([n]) => n === at('Celery/BrokerUsers/CertificateFunction'),
    )!;
    expect(fn.environment.variables.CA_ARN).toBe(CA_ARN);
    expect(fn.vpc_config).toBeUndefined();
    for (const role of ['Producer', 'Worker']) {
      const [, rotation] = ofType(m.tf, 'aws_secretsmanager_secret_rotation').find(
        ([n]) => n === at(`Celery/BrokerUsers/${role}Certificate/Rotation`),
      )!;
      expect(rotation.rotation_lambda_arn).toBe(
        `\${aws_lambda_function.${at('Celery/BrokerUsers/CertificateFunction')}.arn}`,
      );
      expect(rotation.rotation_rules.schedule_expression).toBe('rate(30 days)');
    }
  });

  test('the broker configuration requires client certificates through the role Amazon MQ assumes for this broker only', () => {
    const [, conf] = ofType(m.tf, 'aws_mq_configuration')[0];
    expect(conf.name).toMatch(/-mtls$/);
    expect(conf.data).toContain('ssl_options.fail_if_no_peer_cert = true');
    expect(conf.data).toContain(`aws.arns.ssl_options.cacertfile = ${CA_ARN}`);
    expect(conf.data).toContain(
      `aws.arns.assume_role_arn = \${aws_iam_role.${at('Celery/Broker/ConfigurationRole')}.arn}`,
    );
    const [, role] = ofType(m.tf, 'aws_iam_role').find(([n]) => n === at('Celery/Broker/ConfigurationRole'))!;
    const trust = JSON.parse(role.assume_role_policy).Statement[0];
    expect(trust.Principal).toEqual({ Service: 'mq.amazonaws.com' });
    expect(Object.keys(trust.Condition).sort()).toEqual(['ArnLike', 'StringEquals']);
    const [, broker] = ofType(m.tf, 'aws_mq_broker')[0];
    expect(broker.depends_on).toContain(
      `aws_iam_role_policy_attachment.${at('Celery/Broker/ConfigurationPolicyAttachment')}`,
    );
  });

  test('each role reads its certificate as ..._CLIENT_CERT and logs in by it', () => {
    const users = m.stack.transport.rabbitMqUsers!;
    for (const role of [CeleryRole.PRODUCER, CeleryRole.WORKER]) {
      const env = m.stack.transport.containerEnvironment(role);
      expect(env.secrets[0]).toEqual({
        name: 'CELERY_TLS_BROKER_CLIENT_CERT',
        valueFrom: users.userFor(role).certificateSecret!.secretArn,
      });
      expect(m.stack.transport.celeryConfigFor(role).toPythonModule()).toContain('EXTERNAL');
    }
  });
});

test('the checks can fail: a weakened cdk.tf.json is reported', () => {
  const weak = JSON.parse(text) as TfJson;
  const [rg, rgBlock] = ofType(weak, 'aws_elasticache_replication_group')[0];
  rgBlock.transit_encryption_mode = 'preferred';
  rgBlock.auth_token = 'literal-token-value';
  const [, defaultUser] = ofType(weak, 'aws_elasticache_user').find(([, u]) => u.user_name === 'default')!;
  defaultUser.access_string = 'on ~* +@all';
  const [, worker] = ofType(weak, 'aws_elasticache_user').find(([, u]) => u.user_name === 'celery-worker')!;
  worker.authentication_mode.passwords = ['a-literal-password-of-the-worker'];
  const [policy, policyBlock] = ofType(weak, 'aws_iam_policy')[0];
  policyBlock.policy = JSON.stringify({
    Version: '2012-10-17',
    Statement: [{ Effect: 'Allow', Action: 'secretsmanager:GetSecretValue', Resource: '*' }],
  });
  const rotations = ofType(weak, 'aws_secretsmanager_secret_rotation');
  const [, slow] = rotations[0];
  slow.rotation_rules.schedule_expression = 'rate(365 days)';
  const slowSecret = reference(slow.secret_id)![1];
  const [gone, goneBlock] = rotations[1];
  const unrotated = reference(goneBlock.secret_id)![1];
  delete weak.resource!.aws_secretsmanager_secret_rotation[gone];
  const [mq, mqBlock] = ofType(weak, 'aws_mq_broker')[0];
  mqBlock.publicly_accessible = true;
  mqBlock.user[0].password = '${var.password}';
  const [sg, sgBlock] = ofType(weak, 'aws_security_group')[0];
  sgBlock.egress = [{ protocol: '-1', cidr_blocks: ['0.0.0.0/0'] }];
  weak.resource!.aws_vpc_security_group_ingress_rule.Open = {
    security_group_id: '${aws_security_group.x.id}',
    ip_protocol: '-1',
    cidr_ipv4: '0.0.0.0/0',
  };
  const [version, versionBlock] = ofType(weak, 'aws_secretsmanager_secret_version')[0];
  versionBlock.secret_string = 'hunter2hunter2hunter2';
  weak.output!.Leak = { value: `\${${'aws_elasticache_replication_group'}.${rg}.auth_token}` };
  expect(allFindings(weak)).toEqual(
    expect.arrayContaining([
      `${rg}: transit_encryption_mode is "preferred"`,
      `${rg}: auth_token next to RBAC user groups`,
      `${rg}: RBAC the default user is not switched off (on ~* +@all, no-password-required)`,
      `${rg}: RBAC celery-worker: passwords not read from Secrets Manager at apply time`,
      `${policy}: "*" resource for secretsmanager:GetSecretValue`,
      `${slowSecret}: rotation every rate(365 days)`,
      `${unrotated}: secret without rotation`,
      `${mq}: publicly_accessible is not false`,
      `${mq}: a user password is not read from Secrets Manager at apply time`,
      `${sg}: inline egress`,
      'Open: in rule without a description',
      'Open: in rule with protocol -1',
      'Open: in rule open to 0.0.0.0/0',
      `${version}: secret value in the configuration (secret_string/secret_binary)`,
      `resource.aws_elasticache_replication_group.${rg}.auth_token: a literal`,
      'output Leak: reads a secret',
      `resource.aws_elasticache_user.${ofType(weak, 'aws_elasticache_user').find(([, u]) => u.user_name === 'celery-worker')![0]}.authentication_mode.passwords: a literal`,
    ]),
  );
});
