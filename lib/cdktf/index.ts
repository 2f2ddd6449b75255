/** celery-tls-constructs for CDK for Terraform (cdktf + @cdktf/provider-aws). */
export * from './credentials';
export * from './connections';
export * from './redis-cache';
export * from './rabbitmq-broker';
export * from './celery-transport';
export * from './guard';
export * from './testing';
export { CDKTF_CONTEXT, PlacementProps, SecretSource, AwsFacts, awsFacts, policyDocument } from './common';
// The provider class the constructs are rendered with, so that an app configures the same one.
export { AwsProvider } from './provider';
export * from '../index';
