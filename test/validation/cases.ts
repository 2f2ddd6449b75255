import { CfnParameter, Stack, Token } from 'aws-cdk-lib';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import { TerraformVariable } from 'cdktf';
import * as cdk from '../../lib/cdk';
import * as tf from '../../lib/cdktf';
import {
  AuthTokenUpdateStrategy,
  BrokerDeploymentMode,
  CacheEngine,
  DayOfWeek,
  TransitEncryptionMode,
  ValidationError,
} from '../../lib/core';
import { stackWithVpc } from '../cdk/helpers';
import { VPC_ID, subnets, tfStack } from '../cdktf/helpers';
import { thrown } from '../thrown';

/**
 * Invalid configurations of the constructs, on both targets. Each case builds one construct named "Subject" in a
 * stack named "Test" and returns the ValidationError it throws.
 */
export interface BadInput {
  readonly name: string;
  readonly target: 'cdk' | 'cdktf';
  readonly build: () => unknown;
}

const SECRET_ARN = 'arn:aws:secretsmanager:eu-west-1:111122223333:secret:existing-AbCdEf';

function cdkCase(
  name: string,
  construct: 'RedisCache' | 'RabbitMqBroker' | 'CeleryTransport',
  props: (stack: Stack) => object,
  opts: { azs?: number; public?: boolean } = {},
): BadInput {
  return {
    name,
    target: 'cdk',
    build: () => {
      const { stack, vpc } = stackWithVpc(opts);
      const Ctor = cdk[construct] as unknown as new (s: unknown, id: string, p: object) => unknown;
      return new Ctor(stack, 'Subject', { vpc, ...props(stack) });
    },
  };
}

function tfCase(
  name: string,
  construct: 'RedisCache' | 'RabbitMqBroker' | 'CeleryTransport',
  props: (stack: import('cdktf').TerraformStack) => object,
  azs = 3,
): BadInput {
  return {
    name,
    target: 'cdktf',
    build: () => {
      const { stack } = tfStack();
      const Ctor = tf[construct] as unknown as new (s: unknown, id: string, p: object) => unknown;
      return new Ctor(stack, 'Subject', { vpcId: VPC_ID, subnets: subnets(azs), ...props(stack) });
    },
  };
}

/** RabbitMqApplicationUsers on a default broker of the same stack. */
function usersCase(name: string, props: object): BadInput {
  return {
    name,
    target: 'cdk',
    build: () => {
      const { stack, vpc } = stackWithVpc();
      const broker = new cdk.RabbitMqBroker(stack, 'Broker', { vpc });
      return new cdk.RabbitMqApplicationUsers(stack, 'Subject', { broker, ...props });
    },
  };
}

export const BAD_INPUTS: BadInput[] = [
  // CDK: names, lengths, characters
  cdkCase('replication group id too long', 'RedisCache', () => ({ replicationGroupId: 'a'.repeat(41) })),
  cdkCase('replication group id with an underscore', 'RedisCache', () => ({ replicationGroupId: 'celery_results' })),
  cdkCase('broker name too long', 'RabbitMqBroker', () => ({ brokerName: 'b'.repeat(51) })),
  cdkCase('one-letter admin user', 'RabbitMqBroker', () => ({ adminUsername: 'a' })),
  cdkCase('admin user with a space', 'RabbitMqBroker', () => ({ adminUsername: 'celery admin' })),
  // CDK: engine and instance combinations
  cdkCase('Redis OSS with a Valkey version', 'RedisCache', () => ({ engine: CacheEngine.REDIS, engineVersion: '8.2' })),
  cdkCase('previous-generation node', 'RedisCache', () => ({ nodeType: 'cache.t2.micro' })),
  cdkCase('t3.micro as a cluster', 'RabbitMqBroker', () => ({
    engineVersion: '3.13',
    hostInstanceType: 'mq.t3.micro',
  })),
  cdkCase('RabbitMQ 3.8', 'RabbitMqBroker', () => ({ engineVersion: '3.8' })),
  cdkCase('consumer timeout of 30 s', 'RabbitMqBroker', () => ({ consumerTimeoutSeconds: 30 })),
  // CDK: TLS off, public broker, cluster mode, serverless
  cdkCase('TLS off', 'RedisCache', () => ({ transitEncryptionEnabled: false })),
  cdkCase('public broker', 'RabbitMqBroker', () => ({ publiclyAccessible: true })),
  cdkCase('cluster mode', 'RedisCache', () => ({ clusterMode: 'enabled' })),
  cdkCase('two shards', 'RedisCache', () => ({ numNodeGroups: 2 })),
  cdkCase('serverless', 'RedisCache', () => ({ serverless: true })),
  // CDK: subnets
  cdkCase('one Availability Zone for Multi-AZ', 'RedisCache', () => ({}), { azs: 1 }),
  cdkCase(
    'public subnets for a broker',
    'RabbitMqBroker',
    () => ({ vpcSubnets: { subnetType: ec2.SubnetType.PUBLIC } }),
    { public: true },
  ),
  // CDK: secret shapes
  cdkCase('AUTH token of 129 characters', 'RedisCache', () => ({
    authToken: cdk.RedisAuth.generatedToken({ length: 129 }),
  })),
  cdkCase('admin password of 11 characters', 'RabbitMqBroker', () => ({
    adminCredentials: cdk.BrokerCredentials.generated({ length: 11 }),
  })),
  cdkCase('AUTH token field with a space', 'RedisCache', (s) => ({
    authToken: cdk.RedisAuth.fromSecret(
      secretsmanager.Secret.fromSecretCompleteArn(s, 'Existing', SECRET_ARN),
      'pass word',
    ),
  })),
  // CDK: conflicting props
  cdkCase('unsafeAllowPlaintext with TLS on', 'RedisCache', () => ({ unsafeAllowPlaintext: true })),
  cdkCase('a transit mode with TLS off', 'RedisCache', () => ({
    transitEncryptionEnabled: false,
    unsafeAllowPlaintext: true,
    transitEncryptionMode: TransitEncryptionMode.REQUIRED,
  })),
  cdkCase('results on a RabbitMQ broker', 'CeleryTransport', () => ({
    resultBackend: cdk.CeleryResultBackend.sharedWithRedisBroker(),
  })),
  // CDK: negative and out-of-range numbers
  cdkCase('negative snapshot retention', 'RedisCache', () => ({ snapshotRetentionDays: -1 })),
  cdkCase('seven nodes', 'RedisCache', () => ({ numCacheClusters: 7 })),
  cdkCase('port 70000', 'RedisCache', () => ({ port: 70000 })),
  cdkCase('negative visibility timeout', 'CeleryTransport', () => ({
    broker: cdk.CeleryBroker.redis(),
    celeryOptions: { visibilityTimeoutSeconds: -5 },
  })),
  cdkCase('maintenance at 25:00', 'RabbitMqBroker', () => ({
    maintenanceWindow: { dayOfWeek: DayOfWeek.MONDAY, timeOfDay: '25:00' },
  })),
  // CDK: tokens where literals are required
  cdkCase('port from a parameter', 'RedisCache', (s) => ({
    port: Token.asNumber(new CfnParameter(s, 'Port', { type: 'Number' }).valueAsNumber),
  })),
  cdkCase('engine version from a parameter', 'RedisCache', (s) => ({
    engineVersion: new CfnParameter(s, 'Version').valueAsString,
  })),
  cdkCase('publiclyAccessible from a parameter', 'RabbitMqBroker', (s) => ({
    publiclyAccessible: Token.asAny(new CfnParameter(s, 'Public').valueAsString),
  })),

  // cdktf: Terraform-only props
  // CDK: ElastiCache RBAC users
  cdkCase('RBAC user named default', 'RedisCache', () => ({
    authToken: cdk.RedisAuth.rbacUsers({ producerUsername: 'default' }),
  })),
  cdkCase('RBAC access string with a password', 'RedisCache', () => ({
    authToken: cdk.RedisAuth.rbacUsers({ accessString: 'on >secret ~* +@all' }),
  })),
  // CDK: RabbitMQ application users
  usersCase('application user named like the admin', { workerUsername: 'celeryadmin' }),
  usersCase('same user name for both roles', { producerUsername: 'celery', workerUsername: 'celery' }),
  usersCase('user name ending in the rotation suffix', { producerUsername: 'celery.alt' }),
  usersCase('shared user name without sharedUser', { sharedUsername: 'celery-app' }),
  usersCase('permission that is not a regular expression', {
    producerPermissions: { configure: '(', write: '.*', read: '.*' },
  }),
  usersCase('rotation every 120 days', { rotationDays: 120 }),
  usersCase('delivery limit 0', { deliveryLimit: 0 }),
  usersCase('an amq.* exchange to replace', { directExchangesToReplace: ['amq.direct'] }),
  tfCase('AUTH token version 0', 'RedisCache', () => ({ authTokenVersion: 0 })),
  tfCase('AUTH token update strategy DELETE', 'RedisCache', () => ({
    authTokenUpdateStrategy: 'DELETE' as AuthTokenUpdateStrategy,
  })),
  tfCase('AUTH token version with an existing secret', 'RedisCache', () => ({
    authToken: tf.RedisAuth.fromSecretArn(SECRET_ARN),
    authTokenVersion: 2,
  })),
  tfCase('AUTH token update strategy with TLS off', 'RedisCache', () => ({
    transitEncryptionEnabled: false,
    unsafeAllowPlaintext: true,
    authTokenUpdateStrategy: AuthTokenUpdateStrategy.SET,
  })),
  // cdktf: subnets
  tfCase('one Availability Zone for Multi-AZ', 'RedisCache', () => ({}), 1),
  tfCase('a public subnet for a broker', 'RabbitMqBroker', () => ({
    subnets: [{ subnetId: 'subnet-0public', availabilityZone: 'eu-west-1a', type: 'Public' }],
  })),
  // cdktf: tokens where literals are required
  tfCase('port from a variable', 'RedisCache', (s) => ({
    port: new TerraformVariable(s, 'port', { type: 'number' }).numberValue,
  })),
  tfCase('engine version from a variable', 'RedisCache', (s) => ({
    engineVersion: new TerraformVariable(s, 'version', { type: 'string' }).stringValue,
  })),
  // cdktf: names, lengths, numbers, shapes, combinations
  tfCase('replication group id starting with a hyphen', 'RedisCache', () => ({ replicationGroupId: '-celery' })),
  tfCase('broker name with a period', 'RabbitMqBroker', () => ({ brokerName: 'celery.broker' })),
  tfCase('consumer timeout of 30 s', 'RabbitMqBroker', () => ({ consumerTimeoutSeconds: 30 })),
  tfCase('empty description', 'RedisCache', () => ({ description: '' })),
  tfCase('snapshot retention 36', 'RedisCache', () => ({ snapshotRetentionDays: 36 })),
  tfCase('empty AUTH token field', 'RedisCache', () => ({
    authToken: tf.RedisAuth.fromSecretArn(SECRET_ARN, { field: '' }),
  })),
  tfCase('RabbitMQ 4.2 on an m5 single instance', 'RabbitMqBroker', () => ({
    deploymentMode: BrokerDeploymentMode.SINGLE_INSTANCE,
    hostInstanceType: 'mq.m5.large',
  })),
  tfCase('fractional prefetch multiplier', 'CeleryTransport', () => ({ celeryOptions: { prefetchMultiplier: 1.5 } })),
];

/** Runs a case and returns its error (anything else is a failure of the case). */
export function errorOf(c: BadInput): ValidationError {
  try {
    return thrown(() => c.build());
  } catch (e) {
    throw new Error(`${c.target} "${c.name}": ${(e as Error).message}`);
  }
}
