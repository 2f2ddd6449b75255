import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { App, Stack, Validations } from 'aws-cdk-lib';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import { compliancePacks } from '../../examples/cdk/compliance';
import { CeleryBroker, CeleryResultBackend, CeleryTransport } from '../../lib/cdk';

/**
 * A PostgreSQL result backend against the four cdk-nag packs and the built-in CloudFormation validation in strict
 * mode. The rest of a transport is held to them by compliance.test.ts (the example); here only the findings on the
 * backend's subtree count, and each one left is acknowledged below with its reason (none missing, none stale).
 */

const ROOT = join(__dirname, '..', '..');
const STRICT = {
  ...JSON.parse(readFileSync(join(ROOT, 'cdk.json'), 'utf8')).context,
  '@aws-cdk/core:strictCfnValidateErrors': true,
  '@aws-cdk/core:validateAgainstDefaultRules': true,
};
const DB = 'Celery/ResultBackend';

const VPC_LAMBDA_STAR =
  'The only "*" resources are the EC2 network-interface actions a VPC-attached Lambda function needs (the Describe actions have no resource-level permissions; https://docs.aws.amazon.com/lambda/latest/dg/configuration-vpc.html), and secretsmanager:GetRandomPassword for the role rotation, which acts on no resource. The master secret, the two role secrets it rotates and the key are named by ARN.';
const DEFAULT_PORT =
  'The port is the PostgreSQL default by the library contract (DEFAULTS.postgres.port, what the rendered settings and the users function assume); the database is in isolated subnets, its group admits 5432 only from the producer, worker and users-function groups, and every connection is TLS with verify-full, so the obscurity of another port adds nothing the segmentation does not.';
const ENHANCED_MONITORING =
  "Enhanced Monitoring needs a role with the AWS-managed AmazonRDSEnhancedMonitoringRole and writes OS metrics to the account-wide RDSOSMetrics log group that RDS creates without a customer-managed key; RDS's standard CloudWatch metrics (CPU, memory, storage, connections, replica lag) cover a result backend.";
const BACKUP_PLAN =
  "Automated backups are on (15 days, point-in-time recovery, DeleteAutomatedBackups false), deletion protection is on and a final snapshot is taken on delete or replacement; an AWS Backup plan and vault (with their own key and retention policy) are the account owner's choice, not a result backend's.";
const CONCURRENCY =
  'A function that runs at deployment time only: reserved concurrency would limit no real load, and reserving any fails the deployment in accounts at the default quota of 10 concurrent executions.';
const DLQ_USERS =
  'The provider framework invokes this function synchronously and reports its error to CloudFormation, which fails the deployment with the message; a dead-letter queue only receives failed asynchronous invocations. Its logs go to a CMK-encrypted log group.';
const DLQ_PROVIDER =
  'aws-cdk-lib custom-resource provider framework: when it fails without answering, CloudFormation fails the resource after its ServiceTimeout (300 s) and the error is in the CMK-encrypted log group; a dead-letter queue would hold the event with nobody to replay it.';
const PROVIDER_OUTSIDE_VPC =
  'aws-cdk-lib custom-resource provider framework: it only invokes the users function (which runs inside the VPC) and answers the pre-signed S3 URL of CloudFormation; it holds no credentials and reaches nothing in the VPC.';

type Ack = { pack: string; id: string; path: string; reason: string };
const both = (id: string, path: string, reason: string): Ack[] =>
  ['HIPAA.Security', 'NIST.800.53.R5'].map((pack) => ({ pack, id: `${pack}-${id}`, path, reason }));
const three = (id: string, path: string, reason: string): Ack[] => [
  ...both(id, path, reason),
  { pack: 'PCI.DSS.321', id: `PCI.DSS.321-${id}`, path, reason },
];

function acknowledgements(kind: 'instance' | 'aurora'): Ack[] {
  const instances = kind === 'aurora' ? [`${DB}/Writer`, `${DB}/Reader1`] : [`${DB}/Resource`];
  const fn = `${DB}/Users/Function/Resource`;
  const provider = `${DB}/Users/Provider/framework-onEvent/Resource`;
  return [
    ...(kind === 'instance'
      ? [{ pack: 'AwsSolutions', id: 'AwsSolutions-RDS11', path: `${DB}/Resource`, reason: DEFAULT_PORT }]
      : []),
    ...instances.flatMap((p) => [
      ...both('RDSEnhancedMonitoringEnabled', p, ENHANCED_MONITORING),
      ...both('RDSInBackupPlan', p, BACKUP_PLAN),
    ]),
    {
      pack: 'AwsSolutions',
      id: 'AwsSolutions-IAM5[Resource::*]',
      path: `${DB}/Users/FunctionPolicy/Resource`,
      reason: VPC_LAMBDA_STAR,
    },
    ...both('LambdaConcurrency', fn, CONCURRENCY),
    ...both('LambdaDLQ', fn, DLQ_USERS),
    ...both('LambdaConcurrency', provider, CONCURRENCY),
    ...both('LambdaDLQ', provider, DLQ_PROVIDER),
    ...three('LambdaInsideVPC', provider, PROVIDER_OUTSIDE_VPC),
  ];
}

function build(kind: 'instance' | 'aurora', context: Record<string, unknown> = {}) {
  const app = new App({ outdir: mkdtempSync(join(tmpdir(), `celery-tls-pg-${kind}-`)), context });
  const stack = new Stack(app, 'Pg', { env: { account: '111122223333', region: 'eu-west-1' } });
  const vpc = new ec2.Vpc(stack, 'Vpc', {
    availabilityZones: ['eu-west-1a', 'eu-west-1b', 'eu-west-1c'],
    natGateways: 0,
    subnetConfiguration: [{ name: 'isolated', subnetType: ec2.SubnetType.PRIVATE_ISOLATED, cidrMask: 24 }],
  });
  new CeleryTransport(stack, 'Celery', {
    vpc,
    broker: CeleryBroker.redis(),
    resultBackend: CeleryResultBackend.postgres({ kind }),
  });
  return { app, stack };
}

const key = (a: { pack: string; id: string; path: string }) => `${a.pack} | ${a.id} | ${a.path}`;

function backendFindings(app: App): string[] {
  return [
    ...new Set(
      compliancePacks().flatMap((pack) =>
        pack
          .validateScope(app)
          .violations.flatMap((v) =>
            v.violatingResources.map((r) => ({
              pack: pack.name,
              id: v.ruleName,
              path: String(r.constructPath).replace('Pg/', ''),
            })),
          )
          .filter((f) => f.path.startsWith(`${DB}/`))
          .map(key),
      ),
    ),
  ].sort();
}

describe.each(['instance', 'aurora'] as const)('a PostgreSQL result backend (%s) and the compliance packs', (kind) => {
  test('every finding on the backend is acknowledged with a reason, and every acknowledgement is a real finding', () => {
    const { app } = build(kind);
    app.synth();
    expect(backendFindings(app)).toEqual(acknowledgements(kind).map(key).sort());
  });

  test('acknowledged, the backend has no finding left; strict built-in validation has none either', () => {
    const { app, stack } = build(kind, STRICT);
    for (const a of acknowledgements(kind)) {
      const target = stack.node.findAll().find((c) => c.node.path === `Pg/${a.path}`);
      expect(target).toBeDefined();
      Validations.of(target!).acknowledge({ id: a.id, reason: a.reason });
    }
    const saved = process.env.CDK_VALIDATION;
    process.env.CDK_VALIDATION = 'true';
    try {
      app.synth();
    } finally {
      process.env.CDK_VALIDATION = saved;
    }
    const report = JSON.parse(readFileSync(join(app.outdir, 'validation-report.json'), 'utf8'));
    const open: string[] = [];
    (function walk(o: any): void {
      if (Array.isArray(o)) o.forEach(walk);
      else if (o && typeof o === 'object') {
        if (o.ruleName && o.violatingConstructs && !o.acknowledgedId) open.push(o.ruleName);
        Object.values(o).forEach(walk);
      }
    })(report);
    expect(open).toEqual([]);
    const left = compliancePacks()
      .flatMap((pack) => pack.validateScope(app).violations)
      .flatMap((v) => v.violatingResources.map((r) => String(r.constructPath)))
      .filter((p) => p.startsWith(`Pg/${DB}/`));
    expect(left).toEqual([]);
  });
});
