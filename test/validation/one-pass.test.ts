import { SubnetType } from 'aws-cdk-lib/aws-ec2';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import * as cdk from '../../lib/cdk';
import * as tf from '../../lib/cdktf';
import { stackWithVpc } from '../cdk/helpers';
import { VPC_ID, subnets, tfStack } from '../cdktf/helpers';
import { thrown } from '../thrown';

/**
 * One validation pass per construct: a user with several independent mistakes sees all of them in one error, each
 * naming the prop as the user wrote it (on a transport, under the prop that holds the choice).
 */
describe('several independent mistakes are reported together', () => {
  // A broker version that does not exist, a negative snapshot retention on the result backend, a nonsense
  // visibility timeout and a shared backend without a Redis broker: four mistakes in four places.
  const transportProps = {
    broker: { engineVersion: '9.9' },
    resultBackend: { snapshotRetentionDays: -1 },
    celeryOptions: { visibilityTimeoutSeconds: -5, prefetchMultiplier: 0 },
  };
  const EXPECTED = [
    { code: 'rabbitmq.engine-version', prop: 'broker.engineVersion' },
    { code: 'redis.snapshot-retention', prop: 'resultBackend.snapshotRetentionDays' },
    { code: 'celery.option', prop: 'celeryOptions.visibilityTimeoutSeconds' },
    { code: 'celery.option', prop: 'celeryOptions.prefetchMultiplier' },
  ];

  test.each(['cdk', 'cdktf'] as const)('%s CeleryTransport: every mistake, in one ValidationError', (target) => {
    const e = thrown(() => {
      if (target === 'cdk') {
        const { stack, vpc } = stackWithVpc();
        new cdk.CeleryTransport(stack, 'Celery', {
          vpc,
          broker: cdk.CeleryBroker.rabbitMq(transportProps.broker),
          resultBackend: cdk.CeleryResultBackend.redis(transportProps.resultBackend),
          celeryOptions: transportProps.celeryOptions,
        });
      } else {
        const { stack } = tfStack();
        new tf.CeleryTransport(stack, 'Celery', {
          vpcId: VPC_ID,
          subnets: subnets(),
          broker: tf.CeleryBroker.rabbitMq(transportProps.broker),
          resultBackend: tf.CeleryResultBackend.redis(transportProps.resultBackend),
          celeryOptions: transportProps.celeryOptions,
        });
      }
    });
    expect(e.issues.map(({ code, prop }) => ({ code, prop }))).toEqual(EXPECTED);
    // Each message starts with the prop as the user wrote it, and all are in the one thrown message.
    for (const i of e.issues) {
      expect(i.message.startsWith(i.prop)).toBe(true);
      expect(e.message).toContain(`[${i.code}] ${i.message}`);
    }
    expect(e.message.split('\n')[0]).toBe('Test/Celery: invalid configuration');
  });

  test('cdk CeleryTransport: the shared-backend rule and a broker mistake together', () => {
    const { stack, vpc } = stackWithVpc();
    const e = thrown(
      () =>
        new cdk.CeleryTransport(stack, 'Celery', {
          vpc,
          broker: cdk.CeleryBroker.rabbitMq({ hostInstanceType: 'mq.t2.micro' }),
          resultBackend: cdk.CeleryResultBackend.sharedWithRedisBroker(),
        }),
    );
    expect(e.issues.map((i) => i.prop)).toEqual(['broker.hostInstanceType', 'resultBackend']);
  });

  test.each(['cdk', 'cdktf'] as const)(
    '%s RedisCache: the secret field, the cache and the placement at once',
    (target) => {
      const props = { port: 80, snapshotRetentionDays: 99 };
      const e = thrown(() => {
        if (target === 'cdk') {
          const { stack, vpc } = stackWithVpc({ azs: 1 });
          const secret = cdk.RedisAuth.fromSecret(
            secretsmanager.Secret.fromSecretCompleteArn(
              stack,
              'S',
              'arn:aws:secretsmanager:eu-west-1:111122223333:secret:tok-AbCdEf',
            ),
            '',
          );
          new cdk.RedisCache(stack, 'Cache', { vpc, authToken: secret, ...props });
        } else {
          const { stack } = tfStack();
          new tf.RedisCache(stack, 'Cache', {
            vpcId: VPC_ID,
            subnets: subnets(1),
            authToken: tf.RedisAuth.fromSecretArn('arn:aws:secretsmanager:eu-west-1:111122223333:secret:tok-AbCdEf', {
              field: '',
            }),
            ...props,
          });
        }
      });
      expect(e.issues.map((i) => i.prop)).toEqual([
        'authToken.field',
        'port',
        'snapshotRetentionDays',
        target === 'cdk' ? 'vpcSubnets' : 'subnets',
      ]);
    },
  );

  test('cdk RabbitMqBroker: the broker, its client certificates and the placement at once', () => {
    const { stack, vpc } = stackWithVpc({ public: true });
    const e = thrown(
      () =>
        new cdk.RabbitMqBroker(stack, 'Broker', {
          vpc,
          vpcSubnets: { subnetType: SubnetType.PUBLIC },
          engineVersion: '3.13',
          maintenanceWindow: { dayOfWeek: cdk.DayOfWeek.MONDAY, timeOfDay: '25:00' },
          clientCertificates: cdk.BrokerClientCertificates.fromPrivateCa('not-an-arn', { renewDays: 400 }),
        }),
    );
    expect(e.issues.map((i) => i.code)).toEqual([
      'rabbitmq.maintenance-window',
      'rabbitmq.mtls-ca',
      'rabbitmq.mtls-version',
      'rabbitmq.mtls-days',
      'rabbitmq.mtls-days',
      'subnets.public',
    ]);
    expect(e.issues.map((i) => i.prop)).toEqual([
      'maintenanceWindow.timeOfDay',
      'clientCertificates',
      'clientCertificates',
      'clientCertificates.renewDays',
      'clientCertificates.renewDays',
      'vpcSubnets',
    ]);
  });
});
