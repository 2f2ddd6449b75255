import { differencesFromProduction, minorVersion } from '../../lib/dev/stack';

const production = { rabbitmq: '4.2', valkey: '8.2', celery: '5.5' };
const versions = (v: Partial<Record<'rabbitmq' | 'redis' | 'celery' | 'kombu' | 'redisPy', string>>) => ({
  rabbitmq: undefined,
  redis: undefined,
  celery: undefined,
  kombu: undefined,
  redisPy: undefined,
  ...v,
});

describe('celery-tls dev: how the local stack differs from production', () => {
  test('Debian 13 (RabbitMQ 4.0, Valkey 8.1, Celery 5.5.2) mirrors it: no line', () => {
    expect(
      differencesFromProduction(
        { redisEngine: 'valkey', versions: versions({ rabbitmq: '4.0.5', redis: '8.1.1', celery: '5.5.2' }) },
        production,
      ),
    ).toEqual([]);
  });

  test('Debian 12 (RabbitMQ 3.10, Redis 7.0, Celery 5.2.6): one line per server and for Celery, with what changes', () => {
    expect(
      differencesFromProduction(
        { redisEngine: 'redis', versions: versions({ rabbitmq: '3.10.8', redis: '7.0.15', celery: '5.2.6' }) },
        production,
      ),
    ).toEqual([
      'RabbitMQ 3.10 here, 4.2 in production: classic queues and in-worker ETAs here, quorum queues and native delayed delivery there',
      'Redis 7.0 here, Valkey 8.2 in production',
      "Celery 5.2 here; production needs Celery 5.5 or later for RabbitMQ 4's quorum queues",
    ]);
  });

  test('nothing installed: says what production runs', () => {
    expect(differencesFromProduction({ redisEngine: 'redis', versions: versions({}) }, production)).toEqual([
      'no rabbitmq-server here; production runs RabbitMQ 4.2',
      'no valkey-server or redis-server here; production runs Valkey 8.2',
      'no python3-celery here; the settings are written for Celery 5.5',
    ]);
  });

  test('minorVersion keeps major.minor of a Debian version', () => {
    expect([minorVersion('4.0.5'), minorVersion('8.1.1'), minorVersion(undefined), minorVersion('x')]).toEqual([
      '4.0',
      '8.1',
      undefined,
      undefined,
    ]);
  });
});
