/**
 * Celery over TLS against plaintext on the same servers, in one run: tasks per second with the rendered TLS settings
 * (amqps broker, rediss backend) and with plaintext listeners of the same rabbitmq-server and redis-server, plus the
 * TLS handshakes per 1,000 tasks (connections must be reused). Needs scripts/install-e2e-deps.
 *   npx tsx bench/celery.ts [tasks=2000] [rounds=2]
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { CeleryConfig } from '../lib';
import { Capture, Worker, cleanup, devUp, produce, runDir, scratch } from '../test/e2e/harness';

const TASKS = Number(process.argv[2] ?? 2000);
const ROUNDS = Number(process.argv[3] ?? 2);

async function main() {
  const env = await devUp({ name: 'bench', plaintextListeners: true });
  const s = env.state;
  const tls = join(scratch('bench-tls'), 'celeryconfig.py');
  writeFileSync(tls, new CeleryConfig(env.celeryInput('worker', 'rabbitmq')).toPythonModule('bench'));
  const secrets = env.secretEnvironment('rabbitmq');
  // The same reliability settings, minus TLS: a fair control.
  const q = (v: string) => encodeURIComponent(v);
  const plain = join(scratch('bench-plain'), 'celeryconfig.py');
  writeFileSync(plain, [
    `broker_url = "amqp://celery:${q(env.password('rabbitmq'))}@127.0.0.1:${s.rabbitmq!.plaintextPort}/celery"`,
    `result_backend = "redis://celery:${q(env.password('redis'))}@127.0.0.1:${s.redis!.plaintextPort}/0"`,
    'broker_transport_options = {"confirm_publish": True}', 'task_acks_late = True', 'task_reject_on_worker_lost = True',
    'worker_prefetch_multiplier = 1', 'task_serializer = "json"', 'result_serializer = "json"', 'accept_content = ["json"]', '',
  ].join('\n'));

  const run = async (name: string, settings: string, env2: Record<string, string>, capture?: Capture) => {
    const worker = new Worker(runDir(settings, `bench-${name}`), env2, `q-bench-${name}-${Date.now()}`).start();
    try {
      await worker.ready();
      if (capture) await capture.start();
      const r = await produce(runDir(settings, `bench-${name}-p`), env2, worker.queue, TASKS, `bench-${name}`, 600);
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
  const capture = new Capture([s.rabbitmq!.tlsPort, s.redis!.tlsPort]);
  await run('tls-captured', tls, secrets, capture);
  const hellos = capture.clientHellos();
  const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
  const result = {
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
