/**
 * celery-tls-constructs: what users of either target write or read. The Celery configuration (also from a manifest,
 * without any infrastructure library), the enumerations, the defaults, the errors and the guard's options.
 * Framework-free: imports nothing from aws-cdk-lib, cdktf or constructs. The adapters are `celery-tls-constructs/cdk`
 * and `celery-tls-constructs/cdktf`; their test helpers `.../cdk/testing` and `.../cdktf/testing`.
 */
export type {
  BrokerClientCertificatesChoice,
  BrokerCredentialsChoice,
  CeleryBrokerChoice,
  CeleryBrokerFactory,
  CeleryResultBackendChoice,
  CeleryResultBackendFactory,
  RedisAuthChoice,
} from './core/choices';
export { CELERY_CONFIG_FORMATS, CeleryConfig } from './core/celery/config';
export type { CeleryConfigFormat } from './core/celery/config';
export type { CeleryManifest } from './core/celery/manifest';
export type {
  CeleryConfigInput,
  CeleryConfigModel,
  CeleryEndpoint,
  CeleryOptions,
  PostgresSslMode,
  TlsScheme,
} from './core/celery/model';
export type {
  CelerySecurityModel,
  CelerySecurityOptions,
  CelerySigningOptions,
  CeleryResultEncryptionOptions,
} from './core/celery/security';
export { SECURITY_ENV_NAMES } from './core/celery/security';
export type {
  ICeleryTransportContract,
  IRabbitMqBrokerContract,
  IRedisCacheContract,
  TargetTypes,
} from './core/contracts';
export { DEFAULTS } from './core/defaults';
export { LIMITS } from './core/limits';
export { WIRE } from './core/wire';
export { ValidationError } from './core/errors';
export type { ResolveContext, ValidationIssue } from './core/errors';
export { CeleryEncryptionGuardError } from './core/guard';
export type { CeleryEncryptionGuardOptions, EncryptionFindings, GuardResult, GuardViolation } from './core/guard';
export type { IamStatementModel } from './core/iam';
export type { LengthLimit } from './core/limits';
export type {
  AlarmPlan,
  CeleryAlarmKey,
  CeleryAlarmOverride,
  CeleryAlarmSettings,
  CeleryMonitoringOptions,
  CeleryMonitoringSpec,
  MetricModel,
  MonitoredResource,
} from './core/monitoring';
export { PORTS } from './core/ports';
export { PostgresDatabaseKind } from './core/postgres';
export type { PostgresBackendOptions, PostgresBackendSpec, PostgresRoleSpec } from './core/postgres';
export type { MaintenanceWindowStart, RabbitMqBrokerOptions, RabbitMqBrokerSpec } from './core/rabbitmq';
export type {
  BrokerClientCertificateOptions,
  RabbitMqMutualTlsSpec,
  SubordinateCaOptions,
  SubordinateCaSpec,
} from './core/rabbitmq-mtls';
export { CeleryRole } from './core/rabbitmq-users';
export type {
  RabbitMqApplicationUserSpec,
  RabbitMqApplicationUsersOptions,
  RabbitMqApplicationUsersSpec,
  RabbitMqPermissions,
} from './core/rabbitmq-users';
export type { RedisCacheOptions, RedisCacheSpec } from './core/redis';
export type { RedisRbacOptions, RedisRbacSpec, RedisRbacUserSpec } from './core/redis-rbac';
export type { GeneratedSecretShape } from './core/secrets';
export type { SubnetFact } from './core/subnets';
export type { BrokerPlan, CachePlan } from './core/plan';
export type { PostgresPlan } from './core/postgres';
export type { DeadLetterModel } from './core/rabbitmq-dead-letter';
export type { TerraformRedisOptions, TerraformRedisSpec } from './core/terraform';
export type { CeleryTransportChoices, MonitoringPlan } from './core/transport';
export {
  AuthTokenUpdateStrategy,
  BrokerDeploymentMode,
  CacheEngine,
  DayOfWeek,
  NetworkRole,
  TransitEncryptionMode,
} from './core/types';
export { VERSION } from './core/version';
