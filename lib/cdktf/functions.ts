import { Construct } from 'constructs';
import { handlerArchivePath } from '../core/assets';
import { DEFAULTS } from '../core/defaults';
import { logWriteStatement, VPC_FUNCTION_NETWORK_STATEMENT } from '../core/iam';
import type { HandlerAsset, LibraryFunctionPlan, RotationPlan } from '../core/identities';
import { NAME_RULES } from '../core/names';
import { physicalNameFromPath } from '../core/terraform';
import { createLogGroup, policyDocument } from './common';
import { AssetType, CloudwatchLogGroup, Fn, IamPolicy, IamRole, IamRolePolicyAttachment } from './provider';
import {
  LambdaFunction,
  LambdaPermission,
  SecretsmanagerSecretRotation,
  TerraformAsset,
  TerraformStack,
} from './provider';
import type { ITerraformDependable } from './provider';

/** How a planned function is placed and encrypted on Terraform. */
export interface LibraryFunctionProps {
  /** Encrypts the log group. */
  readonly keyArn: string;
  /** Added to the plan's environment (target-specific values, such as an endpoint URL). */
  readonly environment?: Record<string, string>;
  /** Inside a VPC, with these subnets and groups; required when the plan says `inVpc`. */
  readonly vpc?: { readonly subnetIds: readonly string[]; readonly securityGroupIds: readonly string[] };
}

/** A library function on Terraform and what it was made with. */
export interface LibraryFunction {
  /** The `aws_lambda_function`. */
  readonly function: LambdaFunction;
  /** Its execution role (the Lambda service only). */
  readonly role: IamRole;
  /** The customer-managed policy; the function depends on its attachment. */
  readonly policy: IamPolicy;
  /** Attaches the policy to the role: depend on it for anything that invokes the function. */
  readonly attachment: IamRolePolicyAttachment;
  /** Its log group (`/aws/lambda/<name>`, CMK-encrypted, kept on destroy). */
  readonly logGroup: CloudwatchLogGroup;
}

/**
 * The bundle of a handler as a zip archive, once per stack (`CeleryTlsHandler<bundle>`), copied into the stack's
 * assets at synth: `assets/handlers/<bundle>.zip`, which holds the very `index.js` the CDK side deploys (zipped at
 * build time, so that no synth spawns cdktf's archiver).
 */
export function handlerArchive(scope: Construct, asset: HandlerAsset): TerraformAsset {
  const stack = TerraformStack.of(scope);
  const id = `CeleryTlsHandler${asset
    .split('-')
    .map((w) => w.charAt(0).toUpperCase() + w.slice(1))
    .join('')}`;
  return (
    (stack.node.tryFindChild(id) as TerraformAsset | undefined) ??
    new TerraformAsset(stack, id, { path: handlerArchivePath(asset), type: AssetType.FILE })
  );
}

const LAMBDA_TRUST_POLICY = JSON.stringify({
  Version: '2012-10-17',
  Statement: [{ Effect: 'Allow', Principal: { Service: 'lambda.amazonaws.com' }, Action: 'sts:AssumeRole' }],
});

/**
 * A function of this library on Terraform, the same way as on the CDK: the current Node.js runtime, its own role with
 * one customer-managed policy (no inline policy, no AWS-managed policy), a CMK-encrypted log group with the default
 * retention, and the bundled handler. Ids: `<id>`, `<id>Role`, `<id>Policy`, `<id>PolicyAttachment`, `<id>Logs`.
 */
export function createLibraryFunction(
  scope: Construct,
  plan: LibraryFunctionPlan,
  props: LibraryFunctionProps,
): LibraryFunction {
  const d = DEFAULTS.functions;
  const id = plan.id;
  if (plan.inVpc && !props.vpc)
    throw new Error(`${scope.node.path}/${id}: the function runs in a VPC, and none was given`);
  // Terraform requires the name (CloudFormation generates one); the log group is named after it.
  const functionName = physicalNameFromPath(
    [...scope.node.scopes.slice(1).map((s) => s.node.id), id],
    NAME_RULES.lambdaFunctionName,
  );
  const description = `${scope.node.path}: ${plan.purpose}`.slice(0, 1000);
  const role = new IamRole(scope, `${id}Role`, { assumeRolePolicy: LAMBDA_TRUST_POLICY, description });
  const logGroup = createLogGroup(scope, `${id}Logs`, props.keyArn, `/aws/lambda/${functionName}`);
  const policy = new IamPolicy(scope, `${id}Policy`, {
    description,
    policy: policyDocument([
      ...plan.statements,
      logWriteStatement(`${logGroup.arn}:*`),
      ...(props.vpc ? [VPC_FUNCTION_NETWORK_STATEMENT] : []),
    ]),
  });
  const attachment = new IamRolePolicyAttachment(scope, `${id}PolicyAttachment`, {
    role: role.name,
    policyArn: policy.arn,
  });
  const archive = handlerArchive(scope, plan.asset);
  const environment = { ...plan.environment, ...props.environment };
  const fn = new LambdaFunction(scope, id, {
    functionName,
    description: `celery-tls-constructs: ${plan.purpose}`.slice(0, 256),
    runtime: d.runtime,
    handler: plan.handler,
    filename: archive.path,
    // Terraform hashes the copied zip at plan time: cdk.tf.json names the file, not its content (stable snapshots).
    sourceCodeHash: Fn.filebase64sha256(archive.path),
    timeout: plan.timeoutSeconds,
    memorySize: d.memoryMiB,
    role: role.arn,
    loggingConfig: { logFormat: 'Text', logGroup: logGroup.name },
    environment: Object.keys(environment).length ? { variables: environment } : undefined,
    vpcConfig: props.vpc
      ? { subnetIds: [...props.vpc.subnetIds], securityGroupIds: [...props.vpc.securityGroupIds] }
      : undefined,
    // The role must hold its permissions before the function runs (and keep them until it is gone).
    dependsOn: [attachment, logGroup],
  });
  return { function: fn, role, policy, attachment, logGroup };
}

/**
 * Rotation of secrets by a library function: Secrets Manager may invoke it (`<fn id>InvokeBySecretsManager`, once per
 * function) and each secret gets an `aws_secretsmanager_secret_rotation` (`<secret>/Rotation`) on the plan's schedule,
 * created after `dependsOn` (the first rotation runs when the schedule is created).
 */
export function rotateSecrets(
  fn: LibraryFunction,
  secrets: readonly { readonly scope: Construct; readonly secretArn: string }[],
  schedule: RotationPlan,
  dependsOn: readonly ITerraformDependable[],
): SecretsmanagerSecretRotation[] {
  const fnScope = fn.function.node.scope!;
  const permissionId = `${fn.function.node.id}InvokeBySecretsManager`;
  const permission =
    (fnScope.node.tryFindChild(permissionId) as LambdaPermission | undefined) ??
    new LambdaPermission(fnScope, permissionId, {
      action: 'lambda:InvokeFunction',
      functionName: fn.function.functionName,
      principal: 'secretsmanager.amazonaws.com',
    });
  return secrets.map(
    (secret) =>
      new SecretsmanagerSecretRotation(secret.scope, 'Rotation', {
        secretId: secret.secretArn,
        rotationLambdaArn: fn.function.arn,
        // The same schedule expression as the CDK side (aws-cdk-lib renders automaticallyAfter as a rate).
        rotationRules: { scheduleExpression: `rate(${schedule.days} days)` },
        dependsOn: [permission, fn.attachment, ...dependsOn],
      }),
  );
}
