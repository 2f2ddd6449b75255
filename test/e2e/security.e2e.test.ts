/**
 * End to end, Debian 12's lane (Celery 5.2.6, kombu 5.2.4, cryptography 38): message signing (Celery's auth
 * serializer) and result encryption (the celery_tls_aesgcm serializer) with the settings this library renders,
 * against the dev environment's TLS-only RabbitMQ and Redis and real workers. Refusals are read from the worker's log,
 * and a refused task is shown not to have run (the worker's execution log).
 */
import { DevEnvironment } from '../../lib/dev/environment';
import { Worker, cleanup, devUp, scratch } from './harness';
import {
  ENCRYPTION,
  SIGNING,
  Signer,
  python,
  redisCli,
  resultKey,
  secureRunDir,
  secureSettings,
  signer,
  signingEnvironment,
} from './security-helpers';

afterAll(cleanup);

const N = 200;
let env: DevEnvironment;
let workerKey: Signer;
let producerKey: Signer;
let foreignKey: Signer;

beforeAll(async () => {
  env = await devUp({ name: 'security' });
  workerKey = signer('celery-worker');
  producerKey = signer('celery-producer');
  foreignKey = signer('not-in-the-store');
});

async function withWorker<T>(
  settings: string,
  vars: Record<string, string>,
  name: string,
  body: (w: Worker) => Promise<T>,
  setup = true,
): Promise<T> {
  const worker = new Worker(secureRunDir(settings, `${name}-worker`, setup), vars, `q-${name}`).start();
  try {
    return await body(worker);
  } finally {
    await worker.stop();
  }
}

const backendDb = () => env.celeryInput('worker', 'rabbitmq').resultBackend!.db ?? 0;

describe('message signing (auth serializer)', () => {
  const store = () => [workerKey, producerKey];
  const workerEnv = () => ({ ...env.secretEnvironment('rabbitmq'), ...signingEnvironment(workerKey, store()) });
  const producerEnv = () => ({ ...env.secretEnvironment('rabbitmq'), ...signingEnvironment(producerKey, store()) });

  test(`${N} signed tasks run and every result arrives; unsigned, tampered and foreign-signed messages are refused and never run`, async () => {
    const producerDir = secureRunDir(secureSettings(env, 'producer', { signing: SIGNING }), 'signed-producer');
    await withWorker(secureSettings(env, 'worker', { signing: SIGNING }), workerEnv(), 'signed', async (worker) => {
      await worker.ready();
      const run = python(producerDir, producerEnv(), [
        'results.py',
        'send',
        String(N),
        'marker-signed',
        worker.queue,
        '240',
      ]);
      expect(run).toMatchObject({ received: N, wrong: [] });
      expect(worker.executions().size).toBe(N);
      console.log(`signed: ${N} tasks in ${run.total_seconds}s`);

      // Three messages a sender without the producer's key could put on the queue, marked 9001-9003.
      const foreign = { ...producerEnv(), SIGNER_KEY: foreignKey.keyFile, SIGNER_CERT: foreignKey.certFile };
      python(producerDir, producerEnv(), ['publish.py', 'unsigned', worker.queue, 'marker-signed', '9001']);
      const tampered = python(producerDir, producerEnv(), [
        'publish.py',
        'tampered',
        worker.queue,
        'marker-signed',
        '9002',
      ]);
      const stranger = python(producerDir, foreign, ['publish.py', 'foreign', worker.queue, 'marker-signed', '9003']);
      // A good task after them: once its result is back, the worker has taken the three before it (prefetch 1).
      const after = python(producerDir, producerEnv(), ['results.py', 'send', '1', 'marker-after', worker.queue, '60']);
      expect(after.received).toBe(1);
      const log = await worker.logMatches(new RegExp(`Can't decode message body.*${stranger.id}`));
      const refusal = (id: string) => log.split('\n').find((l) => l.includes(id) && /ERROR|CRITICAL/.test(l)) ?? '';
      // kombu refuses content outside accept_content ["auth"] before anything is decoded.
      expect(log).toMatch(
        /Received invalid task message: Refusing to deserialize untrusted content of type json \(application\/json\)/,
      );
      // The RSA-PSS check fails on the changed bit. Celery's reraise_errors then trips over its own except clause
      // (it names the cryptography.exceptions module, not a class: celery/security/utils.py), so the refusal reads
      // "Unable to deserialize: TypeError(...)" after cryptography's InvalidSignature; the message is dropped either way.
      expect(refusal(tampered.id)).toMatch(
        /Can't decode message body: DecodeError\(SecurityError\("Unable to deserialize/,
      );
      expect(log).toMatch(/cryptography\.exceptions\.InvalidSignature/);
      // A signer missing from the store is unknown.
      expect(refusal(stranger.id)).toMatch(/Unknown certificate: b.{1,2}not-in-the-store \d+/);
      // Control for the encrypted runs below: without encryption the worker logs each result.
      expect(log).toContain("'marker': 'marker-signed'");
      const executions = worker.executions();
      for (const i of [9001, 9002, 9003]) expect(executions.has(i)).toBe(false);
      expect(executions.size).toBe(N); // 0..N-1 (the marker-after task is another 0)
    });
  });

  test('a worker whose application never calls celery_tls_setup_security(app) stops with the reason', async () => {
    const settings = secureSettings(env, 'worker', { signing: SIGNING });
    const log = await withWorker(settings, workerEnv(), 'no-setup', (w) => w.logMatches(/CeleryTLSConfigError/), false);
    expect(log).toContain('did not call celery_tls_setup_security(app)');
    expect(log).not.toMatch(/ready\.\s*$/m);
  });

  test('a signing key that is not RSA, or a store missing, fails at import and names what to fix', () => {
    const ec = signer('ec-worker', ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256']);
    const dir = secureRunDir(secureSettings(env, 'producer', { signing: SIGNING }), 'bad-key');
    const bad = (vars: Record<string, string>) =>
      python(dir, { ...env.secretEnvironment('rabbitmq'), ...vars }, ['publish.py', 'unsigned', 'q-none', 'm', '1']);
    expect(() => bad(signingEnvironment(ec, [ec]))).toThrow(/needs RSA/);
    expect(() =>
      bad({ CELERY_TLS_SIGNING_KEYPAIR: producerKey.secret, CELERY_TLS_SIGNING_CERT_STORE: scratch('empty-store') }),
    ).toThrow(/The certificate store .*empty-store.* holds no certificate/);
    // No secret in the error: the key never appears.
    try {
      bad(signingEnvironment(ec, [ec]));
    } catch (e) {
      expect(String(e)).not.toContain('PRIVATE KEY');
    }
  });
});

describe('result encryption at rest (Redis result backend)', () => {
  const k1 = resultKey();
  const k2 = resultKey();
  const vars = (current: string, previous?: string) => ({
    ...env.secretEnvironment('rabbitmq'),
    CELERY_TLS_RESULT_KEY: current,
    ...(previous ? { CELERY_TLS_RESULT_KEY_PREVIOUS: previous } : {}),
  });
  const security = { resultEncryption: ENCRYPTION };

  test('results are ciphertext in Redis, read back through Celery, and stay readable across a key rotation', async () => {
    const producerDir = secureRunDir(secureSettings(env, 'producer', security), 'enc-producer');
    const workerSettings = secureSettings(env, 'worker', security);
    const raw = (id: string) => redisCli(env, backendDb(), ['GET', `celery-task-meta-${id}`]);

    // Before the rotation: key 1.
    const before = await withWorker(workerSettings, vars(k1), 'enc-1', async (w) => {
      await w.ready();
      const r = python(producerDir, vars(k1), ['results.py', 'send', '50', 'marker-secret-result', w.queue, '120']);
      expect(w.log()).not.toContain('marker-secret-result'); // the success line no longer logs the value
      return r;
    });
    expect(before).toMatchObject({ received: 50, wrong: [] });
    const stored = raw(before.ids[0]);
    expect(stored).toMatch(/^ctls1\.[0-9a-f]{16}\.[A-Za-z0-9_-]+$/);
    expect(stored).not.toContain('marker-secret-result');
    expect(stored).not.toContain('SUCCESS');
    expect(() => JSON.parse(stored)).toThrow();
    const oldKeyId = stored.split('.')[1];

    // The rotation: key 2 is current, key 1 previous (AWSCURRENT / AWSPREVIOUS), for the worker and the producer.
    const after = await withWorker(workerSettings, vars(k2, k1), 'enc-2', async (w) => {
      await w.ready();
      return python(producerDir, vars(k2, k1), ['results.py', 'send', '50', 'marker-after-rotation', w.queue, '120']);
    });
    expect(after).toMatchObject({ received: 50, wrong: [] });
    const newKeyId = raw(after.ids[0]).split('.')[1];
    expect(newKeyId).not.toBe(oldKeyId);
    const both = python(producerDir, vars(k2, k1), ['results.py', 'read', before.ids[7], after.ids[7]]);
    expect(both.errors).toEqual({});
    expect(both.results[before.ids[7]]).toEqual({ marker: 'marker-secret-result', i: 7 });
    expect(both.results[after.ids[7]]).toEqual({ marker: 'marker-after-rotation', i: 7 });

    // After a second rotation key 1 is gone: its results fail, naming the key id and the ring.
    const k3 = resultKey();
    const gone = python(producerDir, vars(k3, k2), ['results.py', 'read', before.ids[7], after.ids[7]]);
    expect(gone.results[after.ids[7]]).toEqual({ marker: 'marker-after-rotation', i: 7 });
    expect(gone.errors[before.ids[7]]).toContain(`encrypted with key id ${oldKeyId}, which is not in the key ring`);
    for (const text of Object.values<string>(gone.errors)) for (const k of [k1, k2, k3]) expect(text).not.toContain(k);

    // A stored value changed by one character fails authentication instead of reading back altered.
    const id = before.ids[3];
    const value = raw(id);
    const last = value.slice(-2, -1) === 'A' ? 'B' : 'A';
    redisCli(env, backendDb(), ['SET', `celery-task-meta-${id}`, value.slice(0, -2) + last + value.slice(-1)]);
    const tampered = python(producerDir, vars(k2, k1), ['results.py', 'read', id]);
    expect(tampered.errors[id]).toContain('failed authentication');
  });
});

describe('what a task message carries on the broker', () => {
  const store = () => [workerKey, producerKey];
  const peek = (security: object, key: string, name: string) =>
    python(
      secureRunDir(secureSettings(env, 'producer', security), `peek-${name}`),
      { ...env.secretEnvironment('rabbitmq'), ...signingEnvironment(producerKey, store()), CELERY_TLS_RESULT_KEY: key },
      ['peek.py', `q-peek-${name}`, `marker-peek-${name}`],
    );

  test('signed only: the body is signed JSON, the arguments readable in it and in argsrepr (signing does not hide them)', () => {
    const m = peek({ signing: SIGNING }, resultKey(), 'signed');
    expect(m.content_type).toBe('application/data');
    expect(m.argsrepr).toContain('marker-peek-signed');
    expect(m.body_has_marker).toBe(false); // the auth frame is base64
    expect(m.unframed_has_marker).toBe(true); // and holds the JSON body as it is
  });

  test('signed with encrypted arguments: ciphertext body, argsrepr and kwargsrepr blanked', () => {
    const m = peek(
      { signing: SIGNING, resultEncryption: { ...ENCRYPTION, arguments: true } },
      resultKey(),
      'encrypted',
    );
    expect(m).toEqual({
      content_type: 'application/data',
      argsrepr: '(encrypted)',
      kwargsrepr: '(encrypted)',
      body_has_marker: false,
      unframed_has_marker: false,
    });
  });
});

describe('signing with encrypted arguments and results', () => {
  test('100 tasks: arguments encrypted then signed, results encrypted; neither argument nor result in the worker log', async () => {
    const key = resultKey();
    const security = { signing: SIGNING, resultEncryption: { ...ENCRYPTION, arguments: true } };
    const store = [workerKey, producerKey];
    const base = { ...env.secretEnvironment('rabbitmq'), CELERY_TLS_RESULT_KEY: key };
    const producerDir = secureRunDir(secureSettings(env, 'producer', security), 'all-producer');
    const r = await withWorker(
      secureSettings(env, 'worker', security),
      { ...base, ...signingEnvironment(workerKey, store) },
      'all',
      async (w) => {
        await w.ready();
        const run = python(producerDir, { ...base, ...signingEnvironment(producerKey, store) }, [
          'results.py',
          'send',
          '100',
          'marker-private-argument',
          w.queue,
          '120',
        ]);
        return { run, log: w.log(), executions: w.executions() };
      },
    );
    expect(r.run).toMatchObject({ received: 100, wrong: [] });
    expect(r.executions.size).toBe(100);
    expect(r.log).not.toContain('marker-private-argument');
  });
});
