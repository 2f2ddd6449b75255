/** celery-tls-constructs for the AWS CDK (aws-cdk-lib). */
export * from './credentials';
export * from './redis-cache';
export * from './rabbitmq-broker';
export * from './rabbitmq-users';
export * from './celery-transport';
export * from './guard';
export * from './testing';
export { CDK_CONTEXT, PlacementProps } from './common';
export * from '../index';
