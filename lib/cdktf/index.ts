/** celery-tls-constructs for CDK for Terraform (cdktf + @cdktf/provider-aws): the constructs, their props and choices, and the core's public names. */
export * from '../index';
export * from './celery-transport';
export { CelerySecurityGroup, Connections } from './connections';
export type { CelerySecurityGroupRule, IConnectable, ISecurityGroupPeer } from './connections';
export { BrokerClientCertificates, BrokerCredentials, RedisAuth } from './credentials';
export type { BrokerClientCertificatesBinding, RedisAuthBinding, RedisRbacUser } from './credentials';
export { CeleryEncryptionGuard } from './guard';
export type { CeleryEncryptionGuardProps } from './guard';
export type { AwsFacts, ExistingSecret, GeneratedSecret, PlacementProps, SecretSource } from './common';
export type { LibraryFunction } from './functions';
export type { TerraformTarget } from './target';
// The provider class the constructs are rendered with, so that an app configures the same one.
export { AwsProvider } from './provider';
export * from './rabbitmq-broker';
export * from './rabbitmq-users';
export * from './redis-cache';
export * from './postgres-database';
export type { CeleryMonitoring, CeleryTransportMonitoringOptions } from './monitoring';
export { CelerySecurityKeys } from './security-keys';
export type { CelerySecurityKeysProps } from './security-keys';
export type {
  CelerySecurityKeysOptions,
  CelerySecurityKeysSpec,
  CelerySigningKeysOptions,
  CeleryResultKeyOptions,
} from '../core/security-keys';
