import { Annotations, RemovalPolicy, Stack, Token } from 'aws-cdk-lib';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import { Construct } from 'constructs';
import { DEFAULTS } from '../core/defaults';
import { ResolveContext, ValidationIssue, ValidationResult, settle } from '../core/errors';
import { IamStatementModel, logsKeyPolicyStatement, readSecretStatements } from '../core/iam';
import type { KeyServiceStatement } from '../core/iam';
import { GeneratedSecretShape } from '../core/secrets';
import { SubnetFact } from '../core/subnets';

/** A removal policy of `DEFAULTS.removal` (its values are aws-cdk-lib's `RemovalPolicy` strings). */
export function defaultRemovalPolicy(of: keyof typeof DEFAULTS.removal): RemovalPolicy {
  return DEFAULTS.removal[of] as RemovalPolicy;
}

/** Tells the core which values are CDK tokens. */
export const CDK_CONTEXT: ResolveContext = { isUnresolved: (value: unknown) => Token.isUnresolved(value) };

/** Throws the core's errors at synth time and records its warnings as acknowledgeable annotations. */
export function applyIssues<T>(scope: Construct, result: ValidationResult<T>): T {
  return settle(scope.node.path, result, (warnings) => warn(scope, warnings));
}

/** Records the core's warnings on a construct, acknowledgeable by code (`celery-tls-constructs:<code>`). */
export function warn(scope: Construct, warnings: readonly ValidationIssue[]): void {
  for (const w of warnings) Annotations.of(scope).addWarningV2(`celery-tls-constructs:${w.code}`, w.message);
}

/** A neutral IAM statement as an aws-cdk-lib statement. */
export function toPolicyStatement(s: IamStatementModel): iam.PolicyStatement {
  return new iam.PolicyStatement({
    actions: [...s.actions],
    resources: [...s.resources],
    conditions: s.conditions as Record<string, Record<string, unknown>> | undefined,
  });
}

/**
 * Lets the grantee read one secret: the secret by ARN, and kms:Decrypt of its key through Secrets Manager only
 * (readSecretStatements, in the scope's region).
 */
export function grantSecretRead(scope: Construct, grantee: iam.IGrantable, secret: secretsmanager.ISecret): iam.Grant {
  const statements = readSecretStatements({
    secretArn: secret.secretArn,
    keyArn: secret.encryptionKey?.keyArn,
    region: Stack.of(scope).region,
  });
  return grantStatements(grantee, statements);
}

/** Renders neutral IAM statements onto a grantee's principal policy. */
export function grantStatements(grantee: iam.IGrantable, statements: readonly IamStatementModel[]): iam.Grant {
  let grant: iam.Grant | undefined;
  for (const s of statements) {
    const g = iam.Grant.addToPrincipal({
      grantee,
      actions: [...s.actions],
      resourceArns: [...s.resources],
      conditions: s.conditions as Record<string, Record<string, unknown>> | undefined,
    });
    grant = grant ? grant.combine(g) : g;
  }
  return grant ?? iam.Grant.drop(grantee, 'no statements');
}

/**
 * A customer-managed key with rotation, retained on delete, whose policy also lets CloudWatch Logs of this account
 * and region use it (for the construct's log groups).
 */
export function createKey(
  scope: Construct,
  id: string,
  description: string,
  services: readonly KeyServiceStatement[] = [],
): kms.Key {
  const key = new kms.Key(scope, id, {
    description,
    enableKeyRotation: DEFAULTS.kms.enableKeyRotation,
    removalPolicy: defaultRemovalPolicy('keys'),
  });
  const stack = Stack.of(scope);
  const logs = logsKeyPolicyStatement({ region: stack.region, account: stack.account, partition: stack.partition });
  for (const s of [logs, ...services])
    key.addToResourcePolicy(
      new iam.PolicyStatement({
        sid: s.sid,
        principals: [new iam.ServicePrincipal(s.principalService)],
        actions: [...s.actions],
        resources: ['*'],
        conditions: s.conditions,
      }),
    );
  return key;
}

/** A log group encrypted with the key, retained on delete, with the default retention. */
export function createLogGroup(scope: Construct, id: string, key: kms.IKey): logs.LogGroup {
  return new logs.LogGroup(scope, id, {
    encryptionKey: key,
    retention: DEFAULTS.logs.retentionDays as logs.RetentionDays,
    removalPolicy: defaultRemovalPolicy('logGroups'),
  });
}

/** A Secrets Manager secret generated to the core's shape, encrypted with the key, retained on delete. */
export function createGeneratedSecret(
  scope: Construct,
  id: string,
  shape: GeneratedSecretShape,
  key: kms.IKey,
): secretsmanager.Secret {
  return new secretsmanager.Secret(scope, id, {
    description: shape.description,
    encryptionKey: key,
    removalPolicy: defaultRemovalPolicy('secrets'),
    generateSecretString: {
      passwordLength: shape.length,
      excludePunctuation: shape.excludePunctuation,
      includeSpace: shape.includeSpace,
      requireEachIncludedType: shape.requireEachIncludedType,
      generateStringKey: shape.generateStringKey,
      secretStringTemplate: JSON.stringify(shape.template),
    },
  });
}

/** Where a cache or broker is placed. */
export interface PlacementProps {
  /** The VPC the cache or broker is placed in. */
  readonly vpc: ec2.IVpc;
  /**
   * Private or isolated subnets for the nodes.
   * @default - the VPC's isolated subnets, or its private subnets with egress when it has no isolated ones
   */
  readonly vpcSubnets?: ec2.SubnetSelection;
}

/** Subnet facts for the core's checks. */
export function subnetFacts(vpc: ec2.IVpc, selection: ec2.SubnetSelection): SubnetFact[] {
  const selected = vpc.selectSubnets(selection);
  const publicIds = new Set(vpc.publicSubnets.map((s) => s.subnetId));
  return selected.subnets.map((s) => ({
    subnetId: s.subnetId,
    availabilityZone: s.availabilityZone,
    type: publicIds.has(s.subnetId) ? 'Public' : undefined,
  }));
}

/** The default placement: isolated subnets when the VPC has them, else private subnets with egress. */
export function defaultSubnets(vpc: ec2.IVpc): ec2.SubnetSelection {
  return {
    subnetType: vpc.isolatedSubnets.length > 0 ? ec2.SubnetType.PRIVATE_ISOLATED : ec2.SubnetType.PRIVATE_WITH_EGRESS,
  };
}
