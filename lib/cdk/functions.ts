import { Duration } from 'aws-cdk-lib';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as logs from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';
import { DEFAULTS } from '../core/defaults';
import { logWriteStatement, VPC_FUNCTION_NETWORK_STATEMENT } from '../core/iam';
import { LibraryFunctionPlan } from '../core/identities';
import { handlerAssetDir } from '../core/assets';
import { createLogGroup, toPolicyStatement } from './common';

/** How the construct places and encrypts a planned function. */
export interface LibraryFunctionProps {
  /** Encrypts the log group. */
  readonly key: kms.IKey;
  /** Added to the plan's environment (target-specific values, such as an endpoint URL). */
  readonly environment?: Record<string, string>;
  /** Inside a VPC, with these groups; required when the plan says `inVpc`. */
  readonly vpc?: {
    readonly vpc: ec2.IVpc;
    readonly subnets: ec2.SubnetSelection;
    readonly securityGroups: ec2.ISecurityGroup[];
  };
}

export interface LibraryFunction {
  readonly function: lambda.Function;
  readonly role: iam.Role;
  /** Created before the function (it depends on it): depend on it for anything that invokes the function. */
  readonly policy: iam.ManagedPolicy;
}

/**
 * A function of this library, the same way every time: current Node.js runtime, its own role with one
 * customer-managed policy (no inline policy, no AWS-managed policy), a CMK-encrypted log group with the default
 * retention, and the bundled handler. Ids: `<id>`, `<id>Role`, `<id>Policy`, `<id>Logs`.
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
  const role = new iam.Role(scope, `${id}Role`, {
    assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com'),
    description: `${scope.node.path}: ${plan.purpose}`.slice(0, 1000),
  });
  const logGroup = createLogGroup(scope, `${id}Logs`, props.key);
  const policy = new iam.ManagedPolicy(scope, `${id}Policy`, {
    description: `${scope.node.path}: ${plan.purpose}`.slice(0, 1000),
    roles: [role],
    statements: [
      ...plan.statements,
      logWriteStatement(logGroup.logGroupArn),
      ...(props.vpc ? [VPC_FUNCTION_NETWORK_STATEMENT] : []),
    ].map(toPolicyStatement),
  });
  const fn = new lambda.Function(scope, id, {
    description: `celery-tls-constructs: ${plan.purpose}`.slice(0, 256),
    runtime: new lambda.Runtime(d.runtime, lambda.RuntimeFamily.NODEJS),
    handler: plan.handler,
    code: lambda.Code.fromAsset(handlerAssetDir(plan.asset)),
    timeout: Duration.seconds(plan.timeoutSeconds),
    memorySize: d.memoryMiB,
    // The grants of aws-cdk-lib would go to an inline policy: the managed policy above holds everything.
    role: role.withoutPolicyUpdates(),
    logGroup,
    environment: { ...plan.environment, ...props.environment },
    ...(props.vpc
      ? { vpc: props.vpc.vpc, vpcSubnets: props.vpc.subnets, securityGroups: props.vpc.securityGroups }
      : {}),
  });
  fn.node.addDependency(policy);
  return { function: fn, role, policy };
}

/** A role of aws-cdk-lib's provider framework with a customer-managed policy: invoke one function, write own logs. */
export function createProviderRole(
  scope: Construct,
  id: string,
  onEvent: lambda.IFunction,
  what: string,
  logGroup: logs.ILogGroup,
): { role: iam.Role; policy: iam.ManagedPolicy } {
  const role = new iam.Role(scope, `${id}Role`, {
    assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com'),
    description: `${scope.node.path}: custom-resource provider framework, invokes ${what}`,
  });
  const policy = new iam.ManagedPolicy(scope, `${id}Policy`, {
    description: `${scope.node.path}: invoke ${what}, write own logs`,
    roles: [role],
    statements: [
      new iam.PolicyStatement({
        actions: ['lambda:InvokeFunction', 'lambda:GetFunction'],
        resources: [onEvent.functionArn],
      }),
      toPolicyStatement(logWriteStatement(logGroup.logGroupArn)),
    ],
  });
  return { role, policy };
}
