/**
 * The current-stack lane (Debian 13's root: Celery 5.5.2, kombu 5.5.3, cryptography 43, RabbitMQ 4.0 with quorum
 * queues, Valkey 8.1): message signing and result encryption with the settings this library renders. Celery 5.5
 * frames signed messages differently from 5.2.6 (signer and signature base64-encoded), and refuses non-RSA keys itself.
 */
import { DevEnvironment } from '../../lib/dev/environment';
import { DEFAULT_STACK_ROOT, ServerStack } from '../../lib/dev/stack';
import { Worker, cleanup, devUp } from './harness';
import {
  ENCRYPTION,
  SIGNING,
  python,
  redisCli,
  resultKey,
  secureRunDir,
  secureSettings,
  signer,
  signingEnvironment,
} from './security-helpers';

const ROOT = process.env.CELERY_TLS_STACK_ROOT ?? DEFAULT_STACK_ROOT;
afterAll(cleanup);

let env: DevEnvironment;
let stack: ServerStack;
beforeAll(async () => {
  env = await devUp({ name: 'security-current', stackRoot: ROOT });
  stack = env.stack();
  expect(stack.versions.celery).toMatch(/^5\.5\./);
});

test('signed tasks with encrypted results: 200/200, ciphertext in Valkey, readable after a key rotation; unsigned and tampered messages refused and never run', async () => {
  const workerKey = signer('current-worker');
  const producerKey = signer('current-producer');
  const store = [workerKey, producerKey];
  const k1 = resultKey();
  const k2 = resultKey();
  const security = { signing: SIGNING, resultEncryption: ENCRYPTION };
  const vars = (own: typeof workerKey, current: string, previous?: string) => ({
    ...env.secretEnvironment('rabbitmq'),
    ...signingEnvironment(own, store),
    CELERY_TLS_RESULT_KEY: current,
    ...(previous ? { CELERY_TLS_RESULT_KEY_PREVIOUS: previous } : {}),
  });
  const producerDir = secureRunDir(secureSettings(env, 'producer', security), 'current-sec-producer');
  const workerDir = secureRunDir(secureSettings(env, 'worker', security), 'current-sec-worker');
  // RabbitMQ 4: quorum queues; Celery 5.5 declares -Q queues classic, so the worker consumes the default queue.
  const start = (v: Record<string, string>) => new Worker(workerDir, v, '', { stack, consumeQueue: false }).start();

  const w1 = start(vars(workerKey, k1));
  let first: any;
  try {
    await w1.ready();
    first = python(
      producerDir,
      vars(producerKey, k1),
      ['results.py', 'send', '200', 'marker-current', '', '240'],
      stack,
    );
    expect(first).toMatchObject({ received: 200, wrong: [] });
    python(producerDir, vars(producerKey, k1), ['publish.py', 'unsigned', '', 'marker-current', '9001'], stack);
    const tampered = python(
      producerDir,
      vars(producerKey, k1),
      ['publish.py', 'tampered', '', 'marker-current', '9002'],
      stack,
    );
    const after = python(
      producerDir,
      vars(producerKey, k1),
      ['results.py', 'send', '1', 'marker-after', '', '60'],
      stack,
    );
    expect(after.received).toBe(1);
    const log = await w1.logMatches(new RegExp(`Can't decode message body.*${tampered.id}`));
    expect(log).toMatch(/Refusing to deserialize untrusted content of type json \(application\/json\)/);
    expect(log).toMatch(/cryptography\.exceptions\.InvalidSignature/);
    expect(log).not.toContain("'marker': 'marker-current'"); // results encrypted: the success line does not log them
    const executions = w1.executions();
    expect(executions.has(9001)).toBe(false);
    expect(executions.has(9002)).toBe(false);
    expect(executions.size).toBe(200);
  } finally {
    await w1.stop();
  }
  const db = env.celeryInput('worker', 'rabbitmq').resultBackend!.db ?? 0;
  const stored = redisCli(env, db, ['GET', `celery-task-meta-${first.ids[0]}`]);
  expect(stored).toMatch(/^ctls1\.[0-9a-f]{16}\.[A-Za-z0-9_-]+$/);
  expect(stored).not.toContain('marker-current');
  expect(() => JSON.parse(stored)).toThrow();

  // Rotation: the worker and the producer restart with k2 current and k1 previous.
  const w2 = start(vars(workerKey, k2, k1));
  try {
    await w2.ready();
    const second = python(
      producerDir,
      vars(producerKey, k2, k1),
      ['results.py', 'send', '20', 'marker-k2', '', '120'],
      stack,
    );
    expect(second).toMatchObject({ received: 20, wrong: [] });
    const read = python(
      producerDir,
      vars(producerKey, k2, k1),
      ['results.py', 'read', first.ids[5], second.ids[5]],
      stack,
    );
    expect(read.errors).toEqual({});
    expect(read.results[first.ids[5]]).toEqual({ marker: 'marker-current', i: 5 });
    expect(read.results[second.ids[5]]).toEqual({ marker: 'marker-k2', i: 5 });
    const gone = python(producerDir, vars(producerKey, k2), ['results.py', 'read', first.ids[5]], stack);
    expect(gone.errors[first.ids[5]]).toContain('which is not in the key ring');
  } finally {
    await w2.stop();
  }
});
