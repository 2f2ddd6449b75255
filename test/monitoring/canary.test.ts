/**
 * The TLS canary on both targets: a VPC function of the tls-canary bundle whose group reaches only the endpoints'
 * TLS ports (and, with client certificates, the Secrets Manager endpoint), configured with the endpoints it checks,
 * run every 15 minutes by EventBridge, with no wildcard permission but the network-interface actions, and holding no
 * broker credential.
 */
import { CfnElement } from 'aws-cdk-lib';
import { TerraformElement, Testing } from 'cdktf';
import * as cdk from '../../lib/cdk';
import * as tf from '../../lib/cdktf';
import { stackWithVpc, templateOf } from '../cdk/helpers';
import { VPC_ID, subnets, tfStack } from '../cdktf/helpers';
import { STAR_ACTIONS } from '../cdktf/security';

const CA = 'arn:aws:acm-pca:eu-west-1:111122223333:certificate-authority/11111111-2222-3333-4444-555555555555';

interface CanaryModel {
  handler: string;
  inVpc: boolean;
  endpoints: { name: string; port: number; protocol: string; mutualTls: boolean; plaintextPorts: number[] }[];
  certificateSecrets: number;
  egress: string[];
  schedule: string;
  invokedBy: string[];
  starActions: string[];
  secretResources: string[];
  secretActions: string[];
  alarms: string[];
}

const short = (p: string) => p.replace(/^Test\//, '').replace(/\/Resource$/, '');

function cdkCanary(props: object = {}): CanaryModel {
  const { stack, vpc } = stackWithVpc();
  new cdk.CeleryTransport(stack, 'Celery', { vpc, ...props });
  const R = templateOf(stack).json.Resources as Record<string, any>;
  const paths = new Map<string, string>();
  for (const c of stack.node.findAll())
    if (c instanceof CfnElement) paths.set(stack.getLogicalId(c), short(c.node.path));
  const pathOf = (lid: string) => paths.get(lid) ?? `?${lid}`;
  const [fnId, fn] = Object.entries(R).find(([lid]) => pathOf(lid) === 'Celery/CanaryFunction')!;
  const env = fn.Properties.Environment.Variables;
  const endpoints = JSON.parse(
    (env.CANARY_ENDPOINTS['Fn::Join']?.[1] ?? [env.CANARY_ENDPOINTS])
      .map((x: unknown) => (typeof x === 'string' ? x : 'host'))
      .join(''),
  ).map(({ host: _host, ...rest }: any) => rest);
  const sgId = fn.Properties.VpcConfig.SecurityGroupIds[0]['Fn::GetAtt'][0];
  const egress = Object.values(R)
    .filter((r) => r.Type === 'AWS::EC2::SecurityGroupEgress' && r.Properties.GroupId['Fn::GetAtt'][0] === sgId)
    .map(
      (r) =>
        `${r.Properties.IpProtocol}:${r.Properties.FromPort} to ${pathOf(r.Properties.DestinationSecurityGroupId['Fn::GetAtt'][0])}`,
    )
    .concat(
      (R[sgId].Properties.SecurityGroupEgress ?? [])
        .filter((e: any) => e.CidrIp !== '255.255.255.255/32')
        .map((e: any) => `${e.IpProtocol}:${e.FromPort} to ${e.CidrIp}`),
    )
    .sort();
  const [, rule] = Object.entries(R).find(
    ([lid, r]) => r.Type === 'AWS::Events::Rule' && pathOf(lid) === 'Celery/CanarySchedule',
  )!;
  const policy = Object.values(R).find(
    (r) => r.Type === 'AWS::IAM::ManagedPolicy' && r.Properties.Roles[0].Ref === fn.Properties.Role['Fn::GetAtt'][0],
  )!;
  const statements = policy.Properties.PolicyDocument.Statement as any[];
  return {
    handler: fn.Properties.Handler,
    inVpc: fn.Properties.VpcConfig !== undefined,
    endpoints,
    certificateSecrets: env.CANARY_CLIENT_CERT_SECRET_ARNS
      ? JSON.stringify(env.CANARY_CLIENT_CERT_SECRET_ARNS).split('Certificate').length - 1
      : 0,
    egress,
    schedule: rule.Properties.ScheduleExpression,
    invokedBy: Object.values(R)
      .filter((r) => r.Type === 'AWS::Lambda::Permission' && r.Properties.FunctionName['Fn::GetAtt']?.[0] === fnId)
      .map((r) => r.Properties.Principal),
    starActions: statements.filter((s) => s.Resource === '*').flatMap((s) => [s.Action].flat()),
    secretResources: statements
      .filter((s) => [s.Action].flat().some((a: string) => a.startsWith('secretsmanager:')))
      .flatMap((s) => [s.Resource].flat().map((x: any) => pathOf(x.Ref))),
    secretActions: [
      ...new Set(statements.flatMap((s) => [s.Action].flat()).filter((a: string) => /^(secretsmanager|kms):/.test(a))),
    ].sort(),
    alarms: Object.keys(R)
      .filter((lid) => R[lid].Type === 'AWS::CloudWatch::Alarm' && pathOf(lid).startsWith('Celery/AlarmCanary'))
      .map((lid) => pathOf(lid).replace('Celery/', ''))
      .sort(),
  };
}

function tfCanary(props: object = {}): CanaryModel {
  const { stack } = tfStack();
  new tf.CeleryTransport(stack, 'Celery', { vpcId: VPC_ID, subnets: subnets(), ...props });
  const json = JSON.parse(Testing.synth(stack));
  const paths = new Map<string, string>();
  for (const c of stack.node.findAll())
    if (c instanceof TerraformElement) paths.set(c.friendlyUniqueId, short(c.node.path));
  const pathOf = (name: string) => paths.get(name) ?? `?${name}`;
  const ref = (v: string) => /^\$\{aws_[a-z0-9_]+\.([A-Za-z0-9_]+)\.[a-z_]+\}$/.exec(v)?.[1] ?? v;
  const [fnName, fn] = Object.entries<any>(json.resource.aws_lambda_function).find(
    ([n]) => pathOf(n) === 'Celery/CanaryFunction',
  )!;
  const env = fn.environment.variables;
  const endpoints = JSON.parse(String(env.CANARY_ENDPOINTS).replace(/\$\{[^}]*\}/g, 'host')).map(
    ({ host: _host, ...rest }: any) => rest,
  );
  const sg = ref(fn.vpc_config.security_group_ids[0]);
  const egress = Object.values<any>(json.resource.aws_vpc_security_group_egress_rule)
    .filter((r) => ref(r.security_group_id) === sg)
    .map(
      (r) =>
        `${r.ip_protocol}:${r.from_port} to ${pathOf(ref(r.referenced_security_group_id)).replace(/\/Resource$/, '')}`,
    )
    .sort();
  const [, rule] = Object.entries<any>(json.resource.aws_cloudwatch_event_rule).find(
    ([n]) => pathOf(n) === 'Celery/CanarySchedule',
  )!;
  const role = ref(fn.role);
  const attachment = Object.values<any>(json.resource.aws_iam_role_policy_attachment).find(
    (a) => ref(a.role) === role,
  )!;
  const statements = JSON.parse(json.resource.aws_iam_policy[ref(attachment.policy_arn)].policy).Statement as any[];
  return {
    handler: fn.handler,
    inVpc: fn.vpc_config !== undefined,
    endpoints,
    certificateSecrets: env.CANARY_CLIENT_CERT_SECRET_ARNS
      ? JSON.stringify(env.CANARY_CLIENT_CERT_SECRET_ARNS).split('Certificate').length - 1
      : 0,
    egress,
    schedule: rule.schedule_expression,
    invokedBy: Object.values<any>(json.resource.aws_lambda_permission)
      .filter((p) => ref(p.function_name) === fnName)
      .map((p) => p.principal),
    starActions: statements.filter((s) => s.Resource.includes('*')).flatMap((s) => s.Action),
    secretResources: statements
      .filter((s) => s.Action.some((a: string) => a.startsWith('secretsmanager:')))
      .flatMap((s) => s.Resource.map((x: string) => pathOf(ref(x)).replace(/\/Resource$/, ''))),
    secretActions: [
      ...new Set(statements.flatMap((s) => s.Action).filter((a: string) => /^(secretsmanager|kms):/.test(a))),
    ].sort(),
    alarms: Object.keys(json.resource.aws_cloudwatch_metric_alarm)
      .filter((n) => pathOf(n).startsWith('Celery/AlarmCanary'))
      .map((n) => pathOf(n).replace('Celery/', ''))
      .sort(),
  };
}

const ENDPOINTS = [
  { name: 'broker', port: 5671, protocol: 'amqp', mutualTls: false, plaintextPorts: [] },
  { name: 'resultBackend', port: 6380, protocol: 'redis', mutualTls: false, plaintextPorts: [] },
];

describe.each([
  ['CDK', cdkCanary, cdk],
  ['Terraform', tfCanary, tf],
] as const)('%s: the TLS canary', (_target, canary, m) => {
  test('a default transport: both endpoints, TLS ports only, every 15 minutes, no credential, no wildcard but ENIs', () => {
    expect(canary()).toEqual({
      handler: 'index.handler',
      inVpc: true,
      endpoints: ENDPOINTS,
      certificateSecrets: 0,
      egress: ['tcp:5671 to Celery/Broker/SecurityGroup', 'tcp:6380 to Celery/ResultBackend/SecurityGroup'],
      schedule: 'rate(15 minutes)',
      invokedBy: ['events.amazonaws.com'],
      starActions: expect.any(Array),
      secretResources: [],
      secretActions: [],
      alarms: [
        'AlarmCanaryBrokerCertificateExpiry',
        'AlarmCanaryBrokerChecks',
        'AlarmCanaryResultBackendCertificateExpiry',
        'AlarmCanaryResultBackendChecks',
      ],
    });
    expect(canary().starActions.filter((a) => !STAR_ACTIONS.includes(a))).toEqual([]);
  });

  test('with client certificates: mutual TLS expected, both certificates reported through the Secrets Manager endpoint, an expiry alarm each', () => {
    const c = canary({
      // Each adapter's own choice class (the union of the two types is not one type).
      broker: m.CeleryBroker.rabbitMq({ clientCertificates: m.BrokerClientCertificates.fromPrivateCa(CA) as never }),
    });
    expect(c.endpoints[0]).toMatchObject({ name: 'broker', mutualTls: true });
    expect(c.certificateSecrets).toBe(2);
    expect(c.egress).toEqual([
      'tcp:443 to Celery/BrokerUsers/SecretsManagerEndpointSecurityGroup',
      'tcp:5671 to Celery/Broker/SecurityGroup',
      'tcp:6380 to Celery/ResultBackend/SecurityGroup',
    ]);
    // It describes the certificate secrets (their not-after tag) and reads no secret value: no key, no password.
    expect(c.secretActions).toEqual(['secretsmanager:DescribeSecret']);
    expect(c.secretResources.sort()).toEqual([
      'Celery/BrokerUsers/ProducerCertificate',
      'Celery/BrokerUsers/WorkerCertificate',
    ]);
    expect(c.alarms).toEqual(
      expect.arrayContaining(['AlarmCanaryClientCertificate1Expiry', 'AlarmCanaryClientCertificate2Expiry']),
    );
  });

  test('a shared Redis cache is one endpoint', () => {
    const shared = canary({
      broker: m.CeleryBroker.redis(),
      resultBackend: m.CeleryResultBackend.sharedWithRedisBroker(),
    });
    expect(shared.endpoints).toEqual([
      { name: 'broker', port: 6380, protocol: 'redis', mutualTls: false, plaintextPorts: [] },
    ]);
  });
});

test('canary: false leaves the function, its schedule and its alarms out, with a warning, on both targets', () => {
  const { stack, vpc } = stackWithVpc();
  const c = new cdk.CeleryTransport(stack, 'Celery', { vpc, monitoring: { canary: false } });
  const R = templateOf(stack).json.Resources as Record<string, any>;
  expect(Object.values(R).filter((r) => r.Type === 'AWS::Events::Rule')).toEqual([]);
  expect(c.monitoring!.canary).toBeUndefined();
  expect(Object.keys(c.monitoring!.alarms).filter((id) => id.startsWith('AlarmCanary'))).toEqual([]);
  const t = tfStack();
  const f = new tf.CeleryTransport(t.stack, 'Celery', {
    vpcId: VPC_ID,
    subnets: subnets(),
    monitoring: { canary: false },
  });
  expect(JSON.parse(Testing.synth(t.stack)).resource.aws_cloudwatch_event_rule).toBeUndefined();
  expect(f.monitoring!.canary).toBeUndefined();
  for (const construct of [c, f])
    expect(
      construct.node.metadata.map((x) => String(x.data)).filter((d) => d.includes('monitoring.canary is false')),
    ).toHaveLength(1);
});
