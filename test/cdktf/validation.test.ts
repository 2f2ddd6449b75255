import { Stack } from 'aws-cdk-lib';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import * as cdk from '../../lib/cdk';
import * as tf from '../../lib/cdktf';
import { BrokerDeploymentMode, CacheEngine, DayOfWeek, ValidationError } from '../../lib/core';
import { stackWithVpc } from '../cdk/helpers';
import { VPC_ID, subnets, tfStack } from './helpers';
import { thrown } from '../thrown';

/**
 * The same invalid input must be refused by both adapters with the same message (the messages come from core).
 * Each case builds its props for each adapter; only framework objects (secrets, VPC) differ.
 */
interface Case {
  readonly name: string;
  readonly construct: 'RedisCache' | 'RabbitMqBroker' | 'CeleryTransport';
  readonly props: (a: 'cdk' | 'tf') => object;
}

const SECRET_ARN = 'arn:aws:secretsmanager:eu-west-1:111122223333:secret:existing-AbCdEf';
const same = (props: object) => () => props;

const CASES: Case[] = [
  { name: 'serverless', construct: 'RedisCache', props: same({ serverless: true }) },
  { name: 'cluster mode', construct: 'RedisCache', props: same({ clusterMode: 'enabled' }) },
  { name: 'two shards', construct: 'RedisCache', props: same({ numNodeGroups: 2 }) },
  { name: 'TLS off', construct: 'RedisCache', props: same({ transitEncryptionEnabled: false }) },
  { name: 'old Redis', construct: 'RedisCache', props: same({ engine: CacheEngine.REDIS, engineVersion: '6.2' }) },
  { name: 'port 80', construct: 'RedisCache', props: same({ port: 80 }) },
  { name: 'one node with Multi-AZ', construct: 'RedisCache', props: same({ numCacheClusters: 1 }) },
  {
    name: 'eviction policy',
    construct: 'RedisCache',
    props: same({ parameters: { 'maxmemory-policy': 'allkeys-lru' } }),
  },
  {
    name: 'overlapping windows',
    construct: 'RedisCache',
    props: same({ snapshotWindow: '05:00-06:00', maintenanceWindow: 'tue:05:30-tue:06:30' }),
  },
  { name: 'bad group id', construct: 'RedisCache', props: same({ replicationGroupId: 'Celery_Backend' }) },
  {
    name: 'several errors at once',
    construct: 'RedisCache',
    props: same({ port: 80, snapshotRetentionDays: 40, nodeType: 'cache.t2.micro' }),
  },
  {
    name: 'short token',
    construct: 'RedisCache',
    props: (a) => ({
      authToken:
        a === 'cdk' ? cdk.RedisAuth.generatedToken({ length: 10 }) : tf.RedisAuth.generatedToken({ length: 10 }),
    }),
  },
  {
    name: 'bad secret field',
    construct: 'RedisCache',
    props: (a) => ({
      authToken:
        a === 'cdk'
          ? cdk.RedisAuth.fromSecret(secretsmanager.Secret.fromSecretCompleteArn(new Stack(), 'S', SECRET_ARN), 'a b')
          : tf.RedisAuth.fromSecretArn(SECRET_ARN, { field: 'a b' }),
    }),
  },
  { name: 'public broker', construct: 'RabbitMqBroker', props: same({ publiclyAccessible: true }) },
  { name: '4.2 on m5', construct: 'RabbitMqBroker', props: same({ hostInstanceType: 'mq.m5.large' }) },
  {
    name: 't3.micro cluster',
    construct: 'RabbitMqBroker',
    props: same({
      engineVersion: '3.13',
      hostInstanceType: 'mq.t3.micro',
      deploymentMode: BrokerDeploymentMode.CLUSTER_MULTI_AZ,
    }),
  },
  { name: 'bad broker name', construct: 'RabbitMqBroker', props: same({ brokerName: 'celery broker' }) },
  { name: 'guest', construct: 'RabbitMqBroker', props: same({ adminUsername: 'guest' }) },
  { name: 'auto minor upgrade off', construct: 'RabbitMqBroker', props: same({ autoMinorVersionUpgrade: false }) },
  {
    name: 'no such day',
    construct: 'RabbitMqBroker',
    props: same({ maintenanceWindow: { dayOfWeek: 'FUNDAY' as DayOfWeek, timeOfDay: '03:00' } }),
  },
  {
    name: 'short password',
    construct: 'RabbitMqBroker',
    props: (a) => ({
      adminCredentials:
        a === 'cdk' ? cdk.BrokerCredentials.generated({ length: 6 }) : tf.BrokerCredentials.generated({ length: 6 }),
    }),
  },
  {
    name: 'shared backend with RabbitMQ',
    construct: 'CeleryTransport',
    props: (a) => ({ resultBackend: (a === 'cdk' ? cdk : tf).CeleryResultBackend.sharedWithRedisBroker() }),
  },
  {
    name: 'bad Celery options',
    construct: 'CeleryTransport',
    props: same({ celeryOptions: { visibilityTimeoutSeconds: -5 } }),
  },
  {
    name: 'bad cache inside a transport',
    construct: 'CeleryTransport',
    props: (a) => ({ resultBackend: (a === 'cdk' ? cdk : tf).CeleryResultBackend.redis({ clusterMode: 'enabled' }) }),
  },
];

function cdkError(c: Case): ValidationError {
  const { stack, vpc } = stackWithVpc();
  const Ctor = cdk[c.construct] as unknown as new (s: unknown, id: string, p: object) => unknown;
  return thrown(() => new Ctor(stack, 'Subject', { vpc, ...c.props('cdk') }));
}

function tfError(c: Case): ValidationError {
  const { stack } = tfStack();
  const Ctor = tf[c.construct] as unknown as new (s: unknown, id: string, p: object) => unknown;
  return thrown(() => new Ctor(stack, 'Subject', { vpcId: VPC_ID, subnets: subnets(), ...c.props('tf') }));
}

describe('the cdktf adapter refuses the same invalid inputs as the CDK adapter, with the same messages', () => {
  test.each(CASES.map((c) => [c.name, c] as const))('%s', (_name, c) => {
    const fromCdk = cdkError(c);
    const fromTf = tfError(c);
    expect(fromCdk.message).toContain('Test/Subject');
    expect(fromCdk.issues.length).toBeGreaterThan(0);
    expect(fromTf.message).toBe(fromCdk.message);
    expect(fromTf.issues).toEqual(fromCdk.issues);
  });

  test('the comparison can fail: a different message is noticed', () => {
    const a = tfError(CASES[0]);
    const b = cdkError(CASES[1]);
    expect(a.message).not.toBe(b.message);
  });
});
