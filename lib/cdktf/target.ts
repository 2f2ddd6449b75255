import { TargetTypes } from '../core/contracts';
import type { SecretSource } from './common';
import type { CelerySecurityGroup, Connections, IConnectable, ISecurityGroupPeer } from './connections';
import type { IamStatementModel } from '../core/iam';
import type { IRoleGrantee } from './celery-transport';
import type { RabbitMqApplicationUsers } from './rabbitmq-users';

/** CDK for Terraform's types in the core's construct contracts. */
export interface TerraformTarget extends TargetTypes {
  /** A security group made by the library. */
  readonly securityGroup: CelerySecurityGroup;
  /** A construct with connections, or a security group of yours (`{ securityGroupId }`). */
  readonly peer: ISecurityGroupPeer | IConnectable;
  /** The library's connections (ingress and egress rule resources). */
  readonly connections: Connections;
  /** An `aws_iam_role` of yours. */
  readonly grantee: IRoleGrantee;
  /** The statements granted. */
  readonly grant: IamStatementModel[];
  /** A secret read at apply time. */
  readonly secret: SecretSource;
  /** The broker's vhost and application users (Celery never logs in as the admin). */
  readonly applicationUsers: RabbitMqApplicationUsers;
}
