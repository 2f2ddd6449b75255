import { readFileSync, readdirSync, mkdtempSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { App } from 'aws-cdk-lib';
import { CeleryTlsExampleStack } from '../../examples/cdk/stack';
import { CeleryRole } from '../../lib/core';
import {
  Template,
  allFindings,
  brokerFindings,
  cacheFindings,
  ingressPorts,
  isSecretsManagerReference,
  keyAndSecretFindings,
  networkFindings,
} from './security';

// GIVEN the example app exactly as `npx cdk synth` builds it (environment-agnostic, no AWS account)
const outdir = mkdtempSync(join(tmpdir(), 'celery-tls-example-'));
const app = new App({ outdir });
const stack = new CeleryTlsExampleStack(app, 'CeleryTlsExample');
const assembly = app.synth();
const template = assembly.getStackByName('CeleryTlsExample').template as Template;
const ofType = (type: string) => Object.entries(template.Resources).filter(([, r]) => r.Type === type);

describe('example stack: security properties', () => {
  test('it has one broker, one replication group, seven security groups (four Celery, the users functions, their Secrets Manager endpoint, the TLS canary)', () => {
    expect(ofType('AWS::AmazonMQ::Broker')).toHaveLength(1);
    expect(ofType('AWS::ElastiCache::ReplicationGroup')).toHaveLength(1);
    expect(ofType('AWS::EC2::SecurityGroup')).toHaveLength(7);
  });

  test('replication groups: TLS required, CMK at rest, RBAC users with passwords from Secrets Manager, Multi-AZ, noeviction, logs, snapshots', () => {
    expect(cacheFindings(template)).toEqual([]);
    const [, rg] = ofType('AWS::ElastiCache::ReplicationGroup')[0];
    expect(rg.Properties.UserGroupIds).toHaveLength(1);
    expect(rg.Properties.AuthToken).toBeUndefined();
  });

  test('brokers: RabbitMQ, private, Multi-AZ cluster, general logs, password from Secrets Manager', () => {
    expect(brokerFindings(template)).toEqual([]);
  });

  test('secrets use customer-managed keys; keys rotate and are retained', () => {
    expect(keyAndSecretFindings(template)).toEqual([]);
    // broker admin, broker producer and worker, cache producer and worker; each one rotates
    expect(ofType('AWS::SecretsManager::Secret')).toHaveLength(5);
    const rotated = ofType('AWS::SecretsManager::RotationSchedule')
      .map(([, r]) => r.Properties.SecretId.Ref)
      .sort();
    expect(rotated).toEqual(
      ofType('AWS::SecretsManager::Secret')
        .map(([id]) => id)
        .sort(),
    );
    for (const [, r] of ofType('AWS::SecretsManager::RotationSchedule'))
      expect(r.Properties.RotationRules.ScheduleExpression).toBe('rate(30 days)');
  });

  test('network: no open ingress, no protocol -1, no allow-all egress, descriptions everywhere', () => {
    expect(networkFindings(template)).toEqual([]);
  });

  test('broker ingress only on 5671 from producers, workers and the canary and on 443 from the users functions; backend ingress only on its port', () => {
    const id = (c: any) => stack.getLogicalId(c.node.defaultChild as any);
    const brokerSg = id(stack.transport.rabbitMqBroker!.securityGroup);
    const backendSg = id(stack.transport.resultBackendCache!.securityGroup);
    const producers = id(stack.transport.producersSecurityGroup);
    const workers = id(stack.transport.workersSecurityGroup);
    const usersFunctions = id(stack.transport.rabbitMqUsers!.securityGroup);
    const endpointSg = id((stack.transport.rabbitMqUsers!.secretsManagerEndpoint as any).connections.securityGroups[0]);
    const rules = (group: string) =>
      ofType('AWS::EC2::SecurityGroupIngress')
        .filter(([, r]) => r.Properties.GroupId['Fn::GetAtt'][0] === group)
        .map(
          ([, r]) =>
            `${r.Properties.FromPort}-${r.Properties.ToPort} from ${r.Properties.SourceSecurityGroupId['Fn::GetAtt'][0]}`,
        )
        .sort();
    const canary = id(stack.transport.monitoring!.canary!.securityGroup);
    expect(rules(brokerSg)).toEqual(
      [
        `443-443 from ${usersFunctions}`,
        `5671-5671 from ${producers}`,
        `5671-5671 from ${workers}`,
        `5671-5671 from ${canary}`,
      ].sort(),
    );
    expect(rules(backendSg)).toEqual(
      [`6380-6380 from ${producers}`, `6380-6380 from ${workers}`, `6380-6380 from ${canary}`].sort(),
    );
    expect(rules(endpointSg)).toEqual([`443-443 from ${usersFunctions}`]);
    expect(ingressPorts(template, usersFunctions)).toEqual([]);
  });

  test('the worker container gets its credentials as ECS secrets (the worker user, never the admin), never as environment values', () => {
    const [, task] = ofType('AWS::ECS::TaskDefinition')[0];
    const c = task.Properties.ContainerDefinitions[0];
    expect(c.Secrets.map((s: any) => s.Name).sort()).toEqual([
      'CELERY_TLS_BROKER_CREDENTIALS',
      'CELERY_TLS_RESULT_BACKEND_PASSWORD',
    ]);
    const worker = stack.getLogicalId(
      stack.transport.rabbitMqUsers!.userFor(CeleryRole.WORKER).secret.node.defaultChild as any,
    );
    expect(c.Secrets.find((s: any) => s.Name === 'CELERY_TLS_BROKER_CREDENTIALS').ValueFrom).toEqual({ Ref: worker });
    const names = c.Environment.map((e: any) => e.Name);
    for (const n of ['CELERY_TLS_BROKER_PASSWORD', 'CELERY_TLS_BROKER_CREDENTIALS', 'CELERY_TLS_BROKER_USERNAME'])
      expect(names).not.toContain(n);
    expect(JSON.stringify(task)).not.toContain(
      stack.getLogicalId(stack.transport.rabbitMqBroker!.adminSecret.node.defaultChild as any),
    );
    expect(c.Environment.find((e: any) => e.Name === 'CELERY_TLS_BROKER_PORT').Value).toBe('5671');
  });
});

function walk(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const p = join(dir, name);
    return statSync(p).isDirectory() ? walk(p) : [p];
  });
}

describe('no secret value anywhere in cdk.out', () => {
  const files = walk(outdir);
  const all = files.map((f) => readFileSync(f, 'utf8')).join('\n');

  test('the assembly was written', () => {
    expect(files.some((f) => f.endsWith('CeleryTlsExample.template.json'))).toBe(true);
  });

  test('every password-like property is a dynamic reference or a generator spec', () => {
    const offenders: string[] = [];
    const visit = (node: any, path: string) => {
      if (node && typeof node === 'object') {
        for (const [k, v] of Object.entries(node)) {
          if (/^(Password|AuthToken|SecretString|password|authToken)$/.test(k) && !isSecretsManagerReference(v))
            offenders.push(`${path}.${k}`);
          visit(v, `${path}.${k}`);
        }
      }
    };
    visit(template, 'template');
    expect(offenders).toEqual([]);
  });

  test('secrets are generated by Secrets Manager at deploy time', () => {
    for (const [, s] of ofType('AWS::SecretsManager::Secret')) {
      expect(s.Properties.GenerateSecretString).toMatchObject({
        ExcludePunctuation: true,
        IncludeSpace: false,
        GenerateStringKey: 'password',
      });
      expect(s.Properties.SecretString).toBeUndefined();
    }
  });

  test('no environment value or output carries a credential', () => {
    expect(all).not.toMatch(/"Name":\s*"CELERY_TLS_[A-Z_]*PASSWORD",\s*"Value"/);
    for (const o of Object.values(template.Outputs ?? {}))
      expect(JSON.stringify(o)).not.toMatch(/[Pp]assword"\s*:\s*"[^{]/);
  });
});

describe('published manifest', () => {
  test('SSM parameter and output carry the same JSON with hosts, ARNs and no secrets', () => {
    const [, param] = ofType('AWS::SSM::Parameter')[0];
    const output = Object.values(template.Outputs!).find((o: any) =>
      String(o.Description).startsWith('Celery TLS manifest:'),
    );
    expect(output.Value).toEqual(param.Properties.Value);
    const text = JSON.stringify(param.Properties.Value);
    expect(text).toContain('celery-tls-constructs/manifest@1');
    expect(text).toContain('\\"scheme\\":\\"amqps\\"');
    expect(text).toContain('\\"scheme\\":\\"rediss\\"');
    expect(text).toContain('AmqpEndpoints');
    expect(text).toContain('PrimaryEndPoint.Address');
  });
});

describe('id-churn guard', () => {
  test('logical ids and types of the example stack', () => {
    // Reviewed by hand: renaming any of these replaces a broker, a cache, a key or a secret on the next deploy.
    const ids = Object.fromEntries(Object.entries(template.Resources).map(([id, r]) => [id, r.Type]));
    expect(ids).toMatchSnapshot();
  });
});

test('the checks can fail: a weakened template is reported', () => {
  const weak = JSON.parse(JSON.stringify(template)) as Template;
  const [rgId] = ofType('AWS::ElastiCache::ReplicationGroup')[0];
  weak.Resources[rgId].Properties.TransitEncryptionMode = 'preferred';
  // The cache uses RBAC: a literal password on one of its users, and the default user switched on.
  const users = ofType('AWS::ElastiCache::User');
  const [workerId] = users.find(([, u]) => u.Properties.UserName === 'celery-worker')!;
  const [defaultId] = users.find(([, u]) => u.Properties.UserName === 'default')!;
  weak.Resources[workerId].Properties.AuthenticationMode.Passwords = ['literal-password-value'];
  weak.Resources[defaultId].Properties.AccessString = 'on ~* +@all';
  const [mqId] = ofType('AWS::AmazonMQ::Broker')[0];
  weak.Resources[mqId].Properties.PubliclyAccessible = true;
  weak.Resources.Open = {
    Type: 'AWS::EC2::SecurityGroupIngress',
    Properties: { GroupId: 'sg-1', IpProtocol: '-1', CidrIp: '0.0.0.0/0' },
  };
  expect(allFindings(weak)).toEqual(
    expect.arrayContaining([
      `${rgId}: TransitEncryptionMode is "preferred"`,
      `${rgId}: user ${workerId} has no password from Secrets Manager`,
      `${rgId}: the default user of ${defaultId} is not off`,
      `${mqId}: PubliclyAccessible is not false`,
      'Open: in rule without a description',
      'Open: in rule with protocol -1',
      'Open: in rule open to 0.0.0.0/0',
    ]),
  );
});
