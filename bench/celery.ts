/**
 * Celery over TLS against plaintext on the same servers, in one run: tasks per second with the rendered TLS settings
 * and with plaintext listeners of the same rabbitmq-server/valkey-server (or redis-server), plus the TLS handshakes
 * per 1,000 tasks (connections must be reused). Needs scripts/install-e2e-deps; --stack for the current stack.
 *   npx tsx bench/celery.ts [--tasks 2000] [--rounds 2] [--broker rabbitmq|redis] [--stack DIR]
 * (npm run bench:celery -- --stack /var/cache/celery-tls-constructs/debian13 --broker redis)
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { CeleryConfig } from '../lib';
import { Capture, Worker, cleanup, devUp, produce, runDir, scratch } from '../test/e2e/harness';

const { values } = parseArgs({
  options: {
    tasks: { type: 'string', default: '2000' },
    rounds: { type: 'string', default: '2' },
    broker: { type: 'string', default: 'rabbitmq' },
    stack: { type: 'string' },
  },
});
const TASKS = Number(values.tasks);
const ROUNDS = Number(values.rounds);
const BROKER = values.broker as 'rabbitmq' | 'redis';

async function main() {
  const env = await devUp({ name: 'bench', plaintextListeners: true, stackRoot: values.stack });
  const stack = env.stack();
  const s = env.state;
  const input = env.celeryInput('worker', BROKER);
  const config = new CeleryConfig(input);
  const tls = join(scratch('bench-tls'), 'celeryconfig.py');
  writeFileSync(tls, config.toPythonModule('bench'));
  const secrets = env.secretEnvironment(BROKER);
  // The same reliability and queue settings, minus TLS: a fair control.
  const q = (v: string) => encodeURIComponent(v);
  const o = config.model.options;
  const plain = join(scratch('bench-plain'), 'celeryconfig.py');
  const backend = `redis://celery:${q(env.password('redis'))}@127.0.0.1:${s.redis!.plaintextPort}/${BROKER === 'redis' ? 1 : 0}`;
  writeFileSync(
    plain,
    [
      BROKER === 'rabbitmq'
        ? `broker_url = "amqp://celery:${q(env.password('rabbitmq'))}@127.0.0.1:${s.rabbitmq!.plaintextPort}/celery"`
        : `broker_url = "redis://celery:${q(env.password('redis'))}@127.0.0.1:${s.redis!.plaintextPort}/0"`,
      `result_backend = "${backend}"`,
      BROKER === 'rabbitmq' ? 'broker_transport_options = {"confirm_publish": True}' : '',
      'task_acks_late = True',
      'task_reject_on_worker_lost = True',
      `worker_prefetch_multiplier = ${o.prefetchMultiplier}`,
      'task_serializer = "json"',
      'result_serializer = "json"',
      'accept_content = ["json"]',
      ...(o.quorumQueues ? ['task_default_queue_type = "quorum"'] : []),
      ...(o.nativeDelayedDelivery ? ['task_default_exchange_type = "topic"'] : []),
      '',
    ].join('\n'),
  );

  // Celery 5.5 creates the queues named with -Q as classic ones: with quorum queues, use the default queue.
  const ownQueue = !o.quorumQueues;
  const run = async (name: string, settings: string, env2: Record<string, string>, capture?: Capture) => {
    const queue = ownQueue ? `q-bench-${name}-${Date.now()}` : '';
    const worker = new Worker(runDir(settings, `bench-${name}`), env2, queue, {
      stack,
      consumeQueue: ownQueue,
    }).start();
    try {
      await worker.ready();
      if (capture) await capture.start();
      const r = await produce(runDir(settings, `bench-${name}-p`), env2, queue, TASKS, `bench-${name}`, 600, stack);
      if (capture) await capture.stop();
      if (r.received !== TASKS) throw new Error(`${name}: ${r.received}/${TASKS} results`);
      return TASKS / r.total_seconds;
    } finally {
      await worker.stop();
    }
  };

  const rates: Record<'tls' | 'plaintext', number[]> = { tls: [], plaintext: [] };
  for (let i = 0; i < ROUNDS; i++) {
    rates.tls.push(await run('tls', tls, secrets));
    rates.plaintext.push(await run('plaintext', plain, {}));
  }
  const capture = new Capture(BROKER === 'rabbitmq' ? [s.rabbitmq!.tlsPort, s.redis!.tlsPort] : [s.redis!.tlsPort]);
  await run('tls-captured', tls, secrets, capture);
  const hellos = capture.clientHellos();
  const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
  const result = {
    stack: `${stack.root ?? 'host'}: rabbitmq ${stack.versions.rabbitmq}, ${stack.redisEngine} ${stack.versions.redis}, celery ${stack.versions.celery}`,
    broker: BROKER,
    tasks: TASKS,
    rounds: ROUNDS,
    tasksPerSecond: { tls: Math.round(mean(rates.tls)), plaintext: Math.round(mean(rates.plaintext)) },
    ratio: Number((mean(rates.tls) / mean(rates.plaintext)).toFixed(3)),
    ratioBudget: 0.8,
    tlsHandshakesPer1000Tasks: Number(((hellos * 1000) / TASKS).toFixed(1)),
    handshakeBudget: 10,
  };
  console.log(JSON.stringify(result, null, 2));
}

main()
  .catch((e) => {
    console.error(e);
    process.exitCode = 1;
  })
  .finally(cleanup);
