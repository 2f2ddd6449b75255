/**
 * celery-tls-constructs core: specs, defaults, validation, network and IAM models, and the Celery configuration.
 * Framework-free: imports nothing from aws-cdk-lib, cdktf or constructs.
 */
export * from './core/types';
export * from './core/defaults';
export * from './core/errors';
export * from './core/ports';
export * from './core/names';
export * from './core/secrets';
export * from './core/windows';
export * from './core/subnets';
export * from './core/redis';
export * from './core/rabbitmq';
export * from './core/rabbitmq-users';
export * from './core/rabbitmq-dead-letter';
export * from './core/redis-rbac';
export * from './core/rabbitmq-mtls';
export * from './core/network';
export * from './core/iam';
export * from './core/terraform';
export * from './core/guard';
export * from './core/version';
export * from './core/celery/model';
export * from './core/celery/endpoints';
export * from './core/celery/environment';
export * from './core/celery/manifest';
export * from './core/celery/python';
export * from './core/celery/config';
