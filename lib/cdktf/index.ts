/** celery-tls-constructs for CDK for Terraform (cdktf + @cdktf/provider-aws): the constructs, their props and choices, and the core's public names. */
export * from '../index';
export * from './celery-transport';
export { CelerySecurityGroup, Connections } from './connections';
export type { IConnectable, ISecurityGroupPeer } from './connections';
export { BrokerCredentials, RedisAuth } from './credentials';
export type { RedisAuthBinding } from './credentials';
export { CeleryEncryptionGuard } from './guard';
export type { CeleryEncryptionGuardProps } from './guard';
export type { AwsFacts, PlacementProps, SecretSource } from './common';
export type { TerraformTarget } from './target';
// The provider class the constructs are rendered with, so that an app configures the same one.
export { AwsProvider } from './provider';
export * from './rabbitmq-broker';
export * from './redis-cache';
