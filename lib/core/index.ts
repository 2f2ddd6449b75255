/**
 * Every core module, for the adapters' and the tests' convenience. Internal: not an entry point of the package (the
 * public one is lib/index.ts); adapters import the modules they need directly.
 */
export * from './types';
export * from './defaults';
export * from './errors';
export * from './ports';
export * from './limits';
export * from './wire';
export * from './choices';
export * from './contracts';
export * from './plan';
export * from './identities';
export * from './transport';
export * from './names';
export * from './secrets';
export * from './windows';
export * from './subnets';
export * from './redis';
export * from './postgres';
export * from './rabbitmq';
export * from './rabbitmq-users';
export * from './rabbitmq-dead-letter';
export * from './redis-rbac';
export * from './rabbitmq-mtls';
export * from './network';
export * from './iam';
export * from './terraform';
export * from './guard';
export * from './version';
export * from './celery/model';
export * from './celery/endpoints';
export * from './celery/environment';
export * from './celery/manifest';
export * from './celery/python';
export * from './celery/config';
export * from './celery/security';
