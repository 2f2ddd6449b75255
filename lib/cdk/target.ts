import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import { TargetTypes } from '../core/contracts';
import type { RabbitMqApplicationUsers } from './rabbitmq-users';

/** The AWS CDK's types in the core's construct contracts. */
export interface CdkTarget extends TargetTypes {
  /** An aws-cdk-lib security group. */
  readonly securityGroup: ec2.SecurityGroup;
  /** Anything with connections (an ECS service, a security group, a function). */
  readonly peer: ec2.IConnectable;
  /** aws-cdk-lib connections. */
  readonly connections: ec2.Connections;
  /** A principal that can be granted permissions. */
  readonly grantee: iam.IGrantable;
  /** The grant, which can be combined with others or asserted on. */
  readonly grant: iam.Grant;
  /** A secret (made here, or imported with `Secret.fromSecretCompleteArn`). */
  readonly secret: secretsmanager.ISecret;
  /** The vhost and application users. */
  readonly applicationUsers: RabbitMqApplicationUsers;
}
