import { mkdtempSync, readFileSync, readdirSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { App, Testing } from 'cdktf';
import 'cdktf/lib/testing/adapters/jest';
import { CeleryTlsExampleStack } from '../../examples/cdktf/stack';
import { CeleryConfig } from '../../lib/core';
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
  ingressRules,
  keyAndSecretFindings,
  networkFindings,
  ofType,
  secretFindings,
} from './security';

Testing.setupJest();

// GIVEN the example app exactly as `npm run synth:cdktf` builds it (offline, no AWS account)
const outdir = mkdtempSync(join(tmpdir(), 'celery-tls-cdktf-example-'));
const app = new App({ outdir });
const stack = new CeleryTlsExampleStack(app, 'celery-tls-example');
app.synth();
const text = readFileSync(join(outdir, 'stacks', 'celery-tls-example', 'cdk.tf.json'), 'utf8');
const tf = JSON.parse(text) as TfJson;
const nameAt = (path: string) =>
  Object.values(tf.resource!)
    .flatMap((r) => Object.entries(r))
    .find(([, b]) => b['//'].metadata.path === `celery-tls-example/${path}`)![0];

describe('cdktf example: security properties of cdk.tf.json', () => {
  test('it has one broker, one replication group, four security groups, two keys, two secrets', () => {
    expect(ofType(tf, 'aws_mq_broker')).toHaveLength(1);
    expect(ofType(tf, 'aws_elasticache_replication_group')).toHaveLength(1);
    expect(ofType(tf, 'aws_security_group')).toHaveLength(4);
    expect(ofType(tf, 'aws_kms_key')).toHaveLength(2);
    expect(ofType(tf, 'aws_secretsmanager_secret')).toHaveLength(2);
  });

  test('replication group: TLS required, CMK at rest, AUTH from Secrets Manager, Multi-AZ, noeviction, logs, snapshots', () => {
    expect(cacheFindings(tf)).toEqual([]);
    expect(text).toHaveResourceWithProperties(ElasticacheReplicationGroup, {
      transit_encryption_enabled: true,
      transit_encryption_mode: 'required',
      at_rest_encryption_enabled: 'true',
      kms_key_id: `\${aws_kms_key.${nameAt('Celery/ResultBackend/Key')}.arn}`,
      auth_token: `\${jsondecode(data.aws_secretsmanager_secret_version.${Object.keys(tf.data!.aws_secretsmanager_secret_version).find((n) => n.startsWith('Celery_ResultBackend_AuthToken_Current'))}.secret_string).password}`,
      auth_token_update_strategy: 'ROTATE',
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

  test('broker ingress only on 5671, backend ingress only on its port, each from producers and workers', () => {
    const producers = nameAt('Celery/ProducersSecurityGroup/Resource');
    const workers = nameAt('Celery/WorkersSecurityGroup/Resource');
    expect(ingressRules(tf, nameAt('Celery/Broker/SecurityGroup/Resource'))).toEqual(
      [`tcp:5671-5671 from ${producers}`, `tcp:5671-5671 from ${workers}`].sort(),
    );
    expect(ingressRules(tf, nameAt('Celery/ResultBackend/SecurityGroup/Resource'))).toEqual(
      [`tcp:6380-6380 from ${producers}`, `tcp:6380-6380 from ${workers}`].sort(),
    );
    expect(
      ofType(tf, 'aws_vpc_security_group_egress_rule')
        .map(([, r]) => `${r.from_port}`)
        .sort(),
    ).toEqual(['5671', '5671', '6380', '6380']);
  });

  test('the worker environment carries passwords as ECS secrets only', () => {
    const env = stack.transport.containerEnvironment();
    expect(env.secrets.map((s) => s.name)).toEqual([
      'CELERY_TLS_BROKER_PASSWORD',
      'CELERY_TLS_RESULT_BACKEND_PASSWORD',
    ]);
    expect(env.secrets.every((s) => s.valueFrom.endsWith(':password::'))).toBe(true);
    expect(env.environment.map((e) => e.name)).not.toContain('CELERY_TLS_BROKER_PASSWORD');
    expect(env.environment.find((e) => e.name === 'CELERY_TLS_BROKER_PORT')!.value).toBe('5671');
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
    expect(uses).toBe(2);
    expect(all).not.toMatch(/"secret_string"\s*:/);
    expect(all).not.toMatch(/"(password|auth_token)"\s*:\s*"[^$]/);
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

test('the checks can fail: a weakened cdk.tf.json is reported', () => {
  const weak = JSON.parse(text) as TfJson;
  const [rg, rgBlock] = ofType(weak, 'aws_elasticache_replication_group')[0];
  rgBlock.transit_encryption_mode = 'preferred';
  rgBlock.auth_token = 'literal-token-value';
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
      `${rg}: auth_token is not read from Secrets Manager at apply time`,
      `${mq}: publicly_accessible is not false`,
      `${mq}: a user password is not read from Secrets Manager at apply time`,
      `${sg}: inline egress`,
      'Open: in rule without a description',
      'Open: in rule with protocol -1',
      'Open: in rule open to 0.0.0.0/0',
      `${version}: secret value in the configuration (secret_string/secret_binary)`,
      `resource.aws_elasticache_replication_group.${rg}.auth_token: a literal`,
      'output Leak: reads a secret',
    ]),
  );
});
