/** celery-tls-constructs for the AWS CDK (aws-cdk-lib): the constructs, their props and choices, and the core's public names. */
export * from '../index';
export * from './celery-transport';
export { BrokerClientCertificates, BrokerCredentials, RedisAuth } from './credentials';
export type {
  BrokerClientCertificatesBinding,
  BrokerCredentialsBinding,
  RedisAuthBinding,
  RedisRbacUser,
} from './credentials';
export { CeleryEncryptionGuard } from './guard';
export type { CeleryEncryptionGuardProps } from './guard';
export type { PlacementProps } from './common';
export type { CdkTarget } from './target';
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
