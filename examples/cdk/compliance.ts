import { App, IPolicyValidationPlugin, Stack, Validations } from 'aws-cdk-lib';
import { AwsSolutionsChecks, HIPAASecurityChecks, NIST80053R5Checks, NagPack, PCIDSS321Checks } from 'cdk-nag';

/**
 * How the example is held to the cdk-nag packs (v3): the four packs, and every finding that the constructs cannot fix,
 * acknowledged one by one on the resource it concerns, with the reason. docs/compliance.md lists the same entries and
 * test/compliance/compliance.test.ts checks that the two agree and that each entry silences a real finding.
 */

/** The cdk-nag packs, as they name themselves in the validation report. */
export const COMPLIANCE_PACKS = ['AwsSolutions', 'HIPAA.Security', 'NIST.800.53.R5', 'PCI.DSS.321'] as const;
export type CompliancePack = (typeof COMPLIANCE_PACKS)[number];

/** New instances of the four packs (a pack keeps the findings of its last run, so share none between apps). */
export function compliancePacks(scope?: App): NagPack[] {
  return [
    new AwsSolutionsChecks(scope),
    new HIPAASecurityChecks(scope),
    new NIST80053R5Checks(scope),
    new PCIDSS321Checks(scope),
  ];
}

/** Registers the four packs on an app: synthesis then fails on any unacknowledged finding. */
export function addCompliancePacks(app: App): void {
  Validations.of(app).addPlugins(...(compliancePacks(app) as IPolicyValidationPlugin[]));
}

export interface ComplianceAcknowledgement {
  readonly pack: CompliancePack;
  /** The rule id as the pack reports it. */
  readonly id: string;
  /** Construct path of the resource, relative to the stack. */
  readonly path: string;
  readonly reason: string;
}

const INLINE_EXECUTION_POLICY =
  "aws-cdk-lib's ECS task definition writes the execution role's grants (reading the two Celery secrets by ARN) into this DefaultPolicy, attached to that one role; the statement names each secret, and kms:Decrypt is granted in the keys' own policies.";
const ENVIRONMENT =
  'The environment variables are the non-secret Celery settings (host names, ports, vhost, the result backend user name, TLS options, secret ARNs); the broker credentials and the result backend password reach the container as ECS secrets from Secrets Manager (CeleryTransport.bindToContainer), never as environment values.';

const VPC_LAMBDA_STAR =
  'The only "*" resources are the EC2 network-interface actions a VPC-attached Lambda function needs (ec2:CreateNetworkInterface, DescribeNetworkInterfaces, DescribeSubnets, DeleteNetworkInterface, AssignPrivateIpAddresses, UnassignPrivateIpAddresses: the Describe actions have no resource-level permissions; https://docs.aws.amazon.com/lambda/latest/dg/configuration-vpc.html)';
const USERS_POLICY = `${VPC_LAMBDA_STAR}. Every secret and key the function reads is named by ARN.`;
const ROTATION_POLICY = `${VPC_LAMBDA_STAR}, and secretsmanager:GetRandomPassword, which acts on no resource. Every secret and key the function rotates or reads is named by ARN.`;
const CONCURRENCY =
  'A function that runs at deployment or rotation time, a few times a month: reserved concurrency would limit no real load, and reserving any fails the deployment in accounts at the default quota of 10 concurrent executions (Lambda keeps 10 unreserved).';
const DLQ_USERS =
  'The provider framework invokes this function synchronously and reports its error to CloudFormation, which fails the deployment with the message; a dead-letter queue only receives failed asynchronous invocations, which this function never gets. Its logs go to a CMK-encrypted log group.';
const DLQ_ROTATION =
  'Secrets Manager runs each rotation step and, when one fails, marks the rotation failed (RotationFailed in CloudTrail) and leaves AWSCURRENT unchanged, so nothing is lost; the error is in the CMK-encrypted log group. A dead-letter queue would hold a copy of the event with nobody to replay it.';
const DLQ_PROVIDER =
  'aws-cdk-lib custom-resource provider framework: when it fails without answering, CloudFormation fails the resource after its ServiceTimeout (300 s) and the error is in the CMK-encrypted log group; a dead-letter queue would hold the event with nobody to replay it.';
const PROVIDER_OUTSIDE_VPC =
  'aws-cdk-lib custom-resource provider framework: it only invokes the users function (which runs inside the VPC) and answers the pre-signed S3 URL of CloudFormation; it holds no credentials and reaches nothing in the VPC, and inside an isolated VPC it would need a route to S3.';

const RBAC =
  'The result backend authenticates with ElastiCache RBAC (UserGroupIds: a producer and a worker user with rotating passwords, the default user off), which AWS recommends over the AUTH token; cdk-nag AEC6 only recognizes AuthToken. The guard and the tests assert the user group directly.';
const REDIS_ROTATION_POLICY =
  'The only "*" resource is secretsmanager:GetRandomPassword, which acts on no resource; the secrets, the two ElastiCache users and the key are named by ARN.';
const REDIS_ROTATION_OUTSIDE_VPC =
  'The ElastiCache user rotation function calls only the ElastiCache and Secrets Manager APIs (ModifyUser, DescribeUsers, the secret versions), never the cache itself; inside the isolated VPC it would need interface endpoints for both services to reach the same TLS, IAM-authenticated APIs.';
const CANARY_POLICY = `${VPC_LAMBDA_STAR}. With mutual TLS it may only describe the client-certificate secrets (their not-after tag, never their value), each named by ARN.`;
const CONCURRENCY_CANARY =
  'The TLS canary runs once per schedule (every 15 minutes) for a few seconds: reserved concurrency would limit no real load, and reserving any fails the deployment in accounts at the default quota of 10 concurrent executions (Lambda keeps 10 unreserved).';
const DLQ_CANARY =
  'EventBridge invokes the canary on its schedule with no retry; a failed run publishes no datapoint, which the canary alarms treat as breaching (the alarm fires), and its error is in the CMK-encrypted log group. A dead-letter queue would keep a schedule event with nothing to replay.';
const USERS_FN = 'Celery/BrokerUsers/Function/Resource';
const CANARY_FN = 'Celery/CanaryFunction/Resource';
const REDIS_ROTATION_FN = 'Celery/ResultBackend/RotationFunction/Resource';
const ROTATION_FN = 'Celery/BrokerUsers/RotationFunction/Resource';
const PROVIDER_FN = 'Celery/BrokerUsers/Provider/framework-onEvent/Resource';
const EXECUTION_POLICY = 'WorkerTask/ExecutionRole/DefaultPolicy/Resource';

/** A function of the constructs, with why it has no dead-letter queue and, when it runs outside the VPC, why. */
interface FunctionFacts {
  readonly path: string;
  readonly dlq: string;
  readonly outsideVpc?: string;
  /** Why no reserved concurrency. @default CONCURRENCY */
  readonly concurrency?: string;
}

/** The Lambda rules of HIPAA, NIST and PCI, for each function (same reasons in each pack). */
function lambdaAcknowledgements(functions: readonly FunctionFacts[]): ComplianceAcknowledgement[] {
  const out: ComplianceAcknowledgement[] = [];
  for (const pack of ['HIPAA.Security', 'NIST.800.53.R5'] as const) {
    for (const f of functions)
      out.push(
        { pack, id: `${pack}-LambdaConcurrency`, path: f.path, reason: f.concurrency ?? CONCURRENCY },
        { pack, id: `${pack}-LambdaDLQ`, path: f.path, reason: f.dlq },
      );
    for (const f of functions)
      if (f.outsideVpc) out.push({ pack, id: `${pack}-LambdaInsideVPC`, path: f.path, reason: f.outsideVpc });
  }
  for (const f of functions)
    if (f.outsideVpc)
      out.push({ pack: 'PCI.DSS.321', id: 'PCI.DSS.321-LambdaInsideVPC', path: f.path, reason: f.outsideVpc });
  return out;
}

/** Every acknowledgement of the example stack. Keep docs/compliance.md in step (a test compares them). */
export const COMPLIANCE_ACKNOWLEDGEMENTS: readonly ComplianceAcknowledgement[] = [
  { pack: 'AwsSolutions', id: 'AwsSolutions-ECS2', path: 'WorkerTask/Resource', reason: ENVIRONMENT },
  {
    pack: 'AwsSolutions',
    id: 'AwsSolutions-IAM5[Resource::*]',
    path: 'Celery/BrokerUsers/FunctionPolicy/Resource',
    reason: USERS_POLICY,
  },
  {
    pack: 'AwsSolutions',
    id: 'AwsSolutions-IAM5[Resource::*]',
    path: 'Celery/BrokerUsers/RotationFunctionPolicy/Resource',
    reason: ROTATION_POLICY,
  },
  {
    pack: 'AwsSolutions',
    id: 'AwsSolutions-IAM5[Resource::*]',
    path: 'Celery/ResultBackend/RotationFunctionPolicy/Resource',
    reason: REDIS_ROTATION_POLICY,
  },
  {
    pack: 'AwsSolutions',
    id: 'AwsSolutions-IAM5[Resource::*]',
    path: 'Celery/CanaryFunctionPolicy/Resource',
    reason: CANARY_POLICY,
  },
  { pack: 'AwsSolutions', id: 'AwsSolutions-AEC6', path: 'Celery/ResultBackend/Resource', reason: RBAC },
  ...(['HIPAA.Security', 'NIST.800.53.R5', 'PCI.DSS.321'] as const).map((pack) => ({
    pack,
    id: `${pack}-IAMNoInlinePolicy`,
    path: EXECUTION_POLICY,
    reason: INLINE_EXECUTION_POLICY,
  })),
  ...lambdaAcknowledgements([
    { path: USERS_FN, dlq: DLQ_USERS },
    { path: ROTATION_FN, dlq: DLQ_ROTATION },
    { path: PROVIDER_FN, dlq: DLQ_PROVIDER, outsideVpc: PROVIDER_OUTSIDE_VPC },
    { path: REDIS_ROTATION_FN, dlq: DLQ_ROTATION, outsideVpc: REDIS_ROTATION_OUTSIDE_VPC },
    { path: CANARY_FN, dlq: DLQ_CANARY, concurrency: CONCURRENCY_CANARY },
  ]),
];

const CERTIFICATE_FN = 'Celery/BrokerUsers/CertificateFunction/Resource';
const CERTIFICATE_OUTSIDE_VPC =
  'The client-certificate function calls only the AWS Private CA and Secrets Manager APIs (IssueCertificate, GetCertificate, the secret versions), never the broker; inside the isolated VPC it would need interface endpoints for both services to reach the same TLS, IAM-authenticated APIs.';

/** The further acknowledgements of the example with client certificates (`clientCaArn`): the certificate function. */
export const MTLS_ACKNOWLEDGEMENTS: readonly ComplianceAcknowledgement[] = lambdaAcknowledgements([
  { path: CERTIFICATE_FN, dlq: DLQ_ROTATION, outsideVpc: CERTIFICATE_OUTSIDE_VPC },
]);

/** Records each acknowledgement on its resource (`Validations.of(resource).acknowledge`), never on a whole subtree. */
export function acknowledgeComplianceFindings(
  stack: Stack,
  acknowledgements: readonly ComplianceAcknowledgement[] = COMPLIANCE_ACKNOWLEDGEMENTS,
): void {
  for (const a of acknowledgements) {
    const full = `${stack.node.path}/${a.path}`;
    const target = stack.node.findAll().find((c) => c.node.path === full);
    if (!target) throw new Error(`acknowledgeComplianceFindings: no construct at ${full} (renamed?) for ${a.id}`);
    Validations.of(target).acknowledge({ id: a.id, reason: a.reason });
  }
}

/** A finding that only a scan of the synthesized template reports (the construct-level run above does not). */
export interface TemplateScanFinding {
  readonly pack: CompliancePack;
  readonly id: string;
  /** Logical id of the resource in the synthesized template (what a template scanner names). */
  readonly logicalId: string;
  /** Why it is safe, or why it cannot be changed from the constructs. */
  readonly reason: string;
}

const RDSG_HANDLER = 'CustomVpcRestrictDefaultSGCustomResourceProviderHandlerDC833E5E';
const RDSG_ROLE = 'CustomVpcRestrictDefaultSGCustomResourceProviderRole26592FE0';
const EXAMPLE_VPC = 'Vpc8378EB38';
const RDSG_PROVIDER =
  "aws-cdk-lib's singleton provider Lambda of restrictDefaultSecurityGroup (Custom::VpcRestrictDefaultSGCustomResourceProvider, a plain CfnResource with no option for this)";
const RDSG_CONCURRENCY = `${RDSG_PROVIDER} runs only when the VPC's default group is created, replaced or deleted: reserved concurrency would limit no load, and reserving any fails the deployment in accounts at the default quota of 10 concurrent executions.`;
const RDSG_DLQ = `${RDSG_PROVIDER} answers CloudFormation itself: its entrypoint catches any error and sends FAILED to the pre-signed response URL, so the deployment fails with the message; a dead-letter queue would hold an event nobody replays.`;
const RDSG_OUTSIDE_VPC = `${RDSG_PROVIDER} only calls the EC2 API (revoking the default group's rules) and answers CloudFormation's pre-signed S3 URL; the example's VPC is isolated (no NAT, no endpoints), so inside it the function could reach neither.`;
const RDSG_INLINE = `${RDSG_PROVIDER} writes its one statement inline on its own role: ec2:Authorize/RevokeSecurityGroupIngress/Egress on the ARN of this VPC's default security group only, for no other principal.`;
const RDSG_BASIC_EXECUTION = `${RDSG_PROVIDER} attaches AWSLambdaBasicExecutionRole to its own role, so that the function writes to its own /aws/lambda log group; it grants only logs:CreateLogGroup, CreateLogStream and PutLogEvents.`;
const VPC_CLOSED_TEMPLATE =
  "False positive of the template view: cdk-nag passes a CfnVPC when its L2 Vpc has a RestrictDefaultSecurityGroupCustomResource child construct, which a template has no tree for; the template holds that resource (VpcRestrictDefaultSecurityGroupCustomResourceC73DA2BE, Custom::VpcRestrictDefaultSG on this VPC's DefaultSecurityGroup), which the test asserts.";

/**
 * The findings that the four packs report on the synthesized template (loaded with CfnInclude) beyond the
 * construct-level run, with the reason each is left. docs/compliance.md ("Template-level scan") lists the same
 * entries and test/compliance/template-scan.test.ts checks that this list is exactly the template-only findings.
 */
export const TEMPLATE_SCAN_FINDINGS: readonly TemplateScanFinding[] = [
  {
    pack: 'AwsSolutions',
    id: 'AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole]',
    logicalId: RDSG_ROLE,
    reason: RDSG_BASIC_EXECUTION,
  },
  ...(['HIPAA.Security', 'NIST.800.53.R5'] as const).flatMap((pack): TemplateScanFinding[] => [
    { pack, id: `${pack}-VPCDefaultSecurityGroupClosed`, logicalId: EXAMPLE_VPC, reason: VPC_CLOSED_TEMPLATE },
    { pack, id: `${pack}-IAMNoInlinePolicy`, logicalId: RDSG_ROLE, reason: RDSG_INLINE },
    { pack, id: `${pack}-LambdaConcurrency`, logicalId: RDSG_HANDLER, reason: RDSG_CONCURRENCY },
    { pack, id: `${pack}-LambdaDLQ`, logicalId: RDSG_HANDLER, reason: RDSG_DLQ },
    { pack, id: `${pack}-LambdaInsideVPC`, logicalId: RDSG_HANDLER, reason: RDSG_OUTSIDE_VPC },
  ]),
  {
    pack: 'PCI.DSS.321',
    id: 'PCI.DSS.321-VPCDefaultSecurityGroupClosed',
    logicalId: EXAMPLE_VPC,
    reason: VPC_CLOSED_TEMPLATE,
  },
  { pack: 'PCI.DSS.321', id: 'PCI.DSS.321-IAMNoInlinePolicy', logicalId: RDSG_ROLE, reason: RDSG_INLINE },
  { pack: 'PCI.DSS.321', id: 'PCI.DSS.321-LambdaInsideVPC', logicalId: RDSG_HANDLER, reason: RDSG_OUTSIDE_VPC },
];
