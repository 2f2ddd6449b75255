/**
 * The per-task cost of message signing and of result encryption, against the same rendered TLS settings without
 * them, in one run: tasks per second through a real worker (TLS RabbitMQ broker, TLS Redis/Valkey result backend)
 * and the serializer cost alone (sign + verify a task body, encrypt + decrypt a result meta) measured in-process.
 * Needs scripts/install-e2e-deps; --stack for the current stack.
 *   npx tsx bench/celery-security.ts [--tasks 1000] [--rounds 2] [--stack DIR]
 */
import { parseArgs } from 'node:util';
import { CelerySecurityOptions } from '../lib/core/celery/security';
import { Worker, cleanup, devUp, writeFile } from '../test/e2e/harness';
import {
  ENCRYPTION,
  SIGNING,
  python,
  resultKey,
  secureRunDir,
  secureSettings,
  signer,
  signingEnvironment,
} from '../test/e2e/security-helpers';

const { values } = parseArgs({
  options: {
    tasks: { type: 'string', default: '1000' },
    rounds: { type: 'string', default: '2' },
    stack: { type: 'string' },
  },
});
const TASKS = Number(values.tasks);
const ROUNDS = Number(values.rounds);

const MICRO = `
import json, sys, time
from celery import Celery
import celeryconfig
from kombu.serialization import dumps, loads
app = Celery("bench"); app.config_from_object("celeryconfig"); celeryconfig.celery_tls_setup_security(app)
n = int(sys.argv[1]); conf = app.conf
body = [["bench-marker", 123], {}, {"callbacks": None, "errbacks": None, "chain": None, "chord": None}]
ct, enc, payload = dumps(body, serializer=conf.task_serializer)
accept = {"application/data", "application/json", "application/x-celery-tls-aesgcm"}
t = time.perf_counter()
for _ in range(n):
    ct, enc, payload = dumps(body, serializer=conf.task_serializer)
    loads(payload, ct, enc, accept=accept)
task_us = (time.perf_counter() - t) / n * 1e6
meta = {"status": "SUCCESS", "result": {"marker": "bench-marker", "i": 123}, "traceback": None, "children": [],
        "date_done": "2026-12-01T00:00:00", "task_id": "0f8e6c3a-8d6e-4a3c-9a57-0d7c1b1e2f3a"}
backend = app.backend
t = time.perf_counter()
for _ in range(n):
    backend.decode(backend.encode(meta))
result_us = (time.perf_counter() - t) / n * 1e6
print(json.dumps({"task_body_us": round(task_us, 1), "result_meta_us": round(result_us, 1),
                  "task_body_bytes": len(payload), "result_meta_bytes": len(backend.encode(meta))}))
`;

async function main() {
  const env = await devUp({ name: 'bench-security', stackRoot: values.stack });
  const stack = env.stack();
  const quorum = env.celeryInput('worker', 'rabbitmq').broker.engineVersion?.startsWith('4');
  const workerKey = signer('bench-worker');
  const producerKey = signer('bench-producer');
  const store = [workerKey, producerKey];
  const key = resultKey();
  const variants: Record<string, CelerySecurityOptions> = {
    plain: {},
    signing: { signing: SIGNING },
    encryption: { resultEncryption: ENCRYPTION },
    both: { signing: SIGNING, resultEncryption: ENCRYPTION },
  };
  const vars = (name: string, own: typeof workerKey) => ({
    ...env.secretEnvironment('rabbitmq'),
    ...(variants[name].signing ? signingEnvironment(own, store) : {}),
    CELERY_TLS_RESULT_KEY: key,
  });
  const rates: Record<string, number[]> = {};
  const micro: Record<string, unknown> = {};
  for (let round = 0; round < ROUNDS; round++) {
    for (const name of Object.keys(variants)) {
      const workerDir = secureRunDir(secureSettings(env, 'worker', variants[name]), `bench-${name}-worker`);
      const producerDir = secureRunDir(secureSettings(env, 'producer', variants[name]), `bench-${name}-producer`);
      // Quorum queues (RabbitMQ 4): Celery 5.5 declares -Q queues classic, so the default queue is used.
      const queue = quorum ? '' : `q-bench-security-${name}-${round}`;
      const worker = new Worker(workerDir, vars(name, workerKey), queue, { stack, consumeQueue: !quorum }).start();
      try {
        await worker.ready();
        const r = python(
          producerDir,
          vars(name, producerKey),
          ['results.py', 'send', String(TASKS), name, queue, '600'],
          stack,
        );
        if (r.received !== TASKS) throw new Error(`${name}: ${r.received}/${TASKS} results`);
        (rates[name] ??= []).push(TASKS / r.total_seconds);
      } finally {
        await worker.stop();
      }
      if (round === 0) {
        writeFile(producerDir, 'micro.py', MICRO);
        micro[name] = python(producerDir, vars(name, producerKey), ['micro.py', '2000'], stack);
      }
    }
  }
  const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
  const perTaskMs = (name: string) => 1000 / mean(rates[name]);
  const result = {
    stack: `${stack.root ?? 'host'}: rabbitmq ${stack.versions.rabbitmq}, ${stack.redisEngine} ${stack.versions.redis}, celery ${stack.versions.celery}`,
    tasks: TASKS,
    rounds: ROUNDS,
    tasksPerSecond: Object.fromEntries(Object.keys(variants).map((n) => [n, Math.round(mean(rates[n]))])),
    addedMsPerTask: Object.fromEntries(
      Object.keys(variants)
        .filter((n) => n !== 'plain')
        .map((n) => [n, Number((perTaskMs(n) - perTaskMs('plain')).toFixed(3))]),
    ),
    serializerMicroseconds: micro,
  };
  console.log(JSON.stringify(result, null, 2));
}

main()
  .catch((e) => {
    console.error(e);
    process.exitCode = 1;
  })
  .finally(cleanup);
