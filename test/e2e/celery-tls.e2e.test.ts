/**
 * End to end: real redis-server and rabbitmq-server (TLS only, local CA), real Celery workers (Debian's python3-celery)
 * loaded with the settings this library renders. Every assertion about refusal reads the worker's log: a worker that
 * cannot connect may keep retrying or exit 0.
 */
import { randomBytes } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { CeleryConfig, CeleryConfigInput } from '../../lib/core';
import { DevEnvironment } from '../../lib/dev/environment';
import { createCertificateAuthority, loadCertificateAuthority, writeCertificate } from '../../lib/dev/pki';
import { createCertificateRotationHandler } from '../../lib/handlers/client-certificates';
import { CA_ARN, FakePrivateCa } from '../handlers/fake-private-ca';
import { FakeSecrets } from '../handlers/fake-secrets';
import {
  Capture,
  OLD_TLS,
  TASK_NAME,
  Worker,
  cleanup,
  contains,
  devUp,
  produce,
  relay,
  runDir,
  sClient,
  scratch,
} from './harness';
import { cli, weakRedis } from './weak';

const N = 1000;
const CONNECTED_HOST = '(localhost|127\\.0\\.0\\.1)'; // kombu logs the address it resolved

afterAll(cleanup);

function settingsFile(input: CeleryConfigInput, name: string): string {
  const file = join(scratch(name), 'celeryconfig.py');
  writeFileSync(file, new CeleryConfig(input).toPythonModule(name));
  return file;
}

const settings = (env: DevEnvironment, role: 'worker' | 'producer', broker: 'rabbitmq' | 'redis', name: string) =>
  settingsFile(env.celeryInput(role, broker), `${name}-${role}`);

/** Starts a worker on its own queue, runs `body`, and always stops the worker. */
async function withWorker<T>(
  settings: string,
  env: Record<string, string>,
  name: string,
  body: (w: Worker) => Promise<T>,
): Promise<T> {
  const worker = new Worker(runDir(settings, `${name}-worker`), env, `q-${name}`).start();
  try {
    return await body(worker);
  } finally {
    await worker.stop();
  }
}

// A Redis broker with the default prefetch of 1 and acks-late polls per task on kombu 5.2 (the README's trap 15):
// 1000 tasks took 115-190 s here, so that run gets more time than the 240 s that suit every other.
const REDIS_BROKER_SECONDS = 420;

async function roundTrip(env: DevEnvironment, broker: 'rabbitmq' | 'redis', name: string) {
  const secrets = env.secretEnvironment(broker);
  return withWorker(settings(env, 'worker', broker, name), secrets, name, async (worker) => {
    await worker.ready();
    const seconds = broker === 'redis' ? REDIS_BROKER_SECONDS : undefined;
    const result = await produce(
      runDir(settings(env, 'producer', broker, name), `${name}-producer`),
      secrets,
      worker.queue,
      N,
      `marker-${name}`,
      seconds,
    );
    return { result, log: worker.log(), executions: worker.executions() };
  });
}

describe('TLS broker and backend with the rendered settings', () => {
  let env: DevEnvironment;
  beforeAll(async () => {
    env = await devUp({ name: 'tls' });
  });

  test(`amqps broker + rediss backend: ${N} tasks, every result arrives`, async () => {
    const { result, log, executions } = await roundTrip(env, 'rabbitmq', 'amqps');
    expect(result).toMatchObject({ sent: N, received: N, missing_count: 0, wrong: [] });
    expect(executions.size).toBe(N);
    expect(log).toMatch(new RegExp(`Connected to amqps://celery:\\*\\*@${CONNECTED_HOST}:\\d+/celery`));
    console.log(`amqps + rediss: ${N} tasks in ${result.total_seconds}s`);
  });

  test(
    `rediss broker + rediss backend: ${N} tasks, every result arrives`,
    async () => {
      const { result, log, executions } = await roundTrip(env, 'redis', 'rediss');
      expect(result).toMatchObject({ sent: N, received: N, missing_count: 0, wrong: [] });
      expect(executions.size).toBe(N);
      expect(log).toMatch(new RegExp(`Connected to rediss://celery:\\*\\*@${CONNECTED_HOST}:\\d+/0`));
      console.log(`rediss + rediss: ${N} tasks in ${result.total_seconds}s`);
    },
    (REDIS_BROKER_SECONDS + 60) * 1000,
  );

  describe('refused', () => {
    test('a server certificate from a rogue CA (both transports)', async () => {
      const rogue = writeCertificate(
        join(scratch('rogue'), 'rogue-ca'),
        await createCertificateAuthority('rogue CA'),
      ).certFile;
      for (const broker of ['rabbitmq', 'redis'] as const) {
        const env2 = {
          ...env.secretEnvironment(broker),
          CELERY_TLS_BROKER_CA_CERTS: rogue,
          CELERY_TLS_RESULT_BACKEND_CA_CERTS: rogue,
        };
        const log = await withWorker(settings(env, 'worker', broker, `rogue-${broker}`), env2, `rogue-${broker}`, (w) =>
          w.logMatches(/CERTIFICATE_VERIFY_FAILED/),
        );
        expect(log).toMatch(
          /certificate verify failed: (self[- ]signed certificate in certificate chain|unable to get local issuer certificate)/,
        );
        expect(log).not.toMatch(/ready\.\s*$/m);
      }
    });

    test('a plaintext CELERY_BROKER_URL in the environment: the settings refuse to load', async () => {
      const env2 = {
        ...env.secretEnvironment('rabbitmq'),
        CELERY_BROKER_URL: `amqp://celery:x@localhost:${env.state.rabbitmq!.tlsPort}/celery`,
      };
      const log = await withWorker(settings(env, 'worker', 'rabbitmq', 'plaintext'), env2, 'plaintext', (w) =>
        w.logMatches(/CeleryTLSConfigError/),
      );
      expect(log).toContain('The environment variable CELERY_BROKER_URL uses amqp://');
      expect(log).not.toMatch(/Connected to/);
    });

    test('a host name that is not in the certificate (py-amqp server_hostname, redis-py ssl_check_hostname)', async () => {
      for (const broker of ['rabbitmq', 'redis'] as const) {
        const target = broker === 'rabbitmq' ? env.state.rabbitmq!.tlsPort : env.state.redis!.tlsPort;
        const port = await relay('127.0.0.2', target);
        const env2 = {
          ...env.secretEnvironment(broker),
          CELERY_TLS_BROKER_HOST: '127.0.0.2',
          CELERY_TLS_BROKER_PORT: String(port),
        };
        const log = await withWorker(settings(env, 'worker', broker, `host-${broker}`), env2, `host-${broker}`, (w) =>
          w.logMatches(/CERTIFICATE_VERIFY_FAILED/),
        );
        expect(log).toMatch(/IP address mismatch, certificate is not valid for '127\.0\.0\.2'/);
        // Through the same relay the chain is fine: what refuses the connection is the host name check.
        const report = JSON.parse(
          (
            await cli([
              'verify',
              '--endpoint',
              `${broker === 'rabbitmq' ? 'amqps' : 'rediss'}://127.0.0.2:${port}`,
              '--ca',
              env.state.caFile,
              '--json',
            ])
          ).stdout,
        );
        const checks = Object.fromEntries(report.endpoints[0].checks.map((c: any) => [c.id, c.status]));
        expect(checks).toMatchObject({ handshake: 'pass', chain: 'pass', hostname: 'fail' });
      }
    });

    test('TLS 1.0 and 1.1: openssl s_client cannot negotiate them with either server; TLS 1.2 works', () => {
      for (const port of [env.state.rabbitmq!.tlsPort, env.state.redis!.tlsPort]) {
        for (const flags of OLD_TLS) {
          const r = sClient(port, env.state.caFile, flags);
          // s_client prints the offered protocol in its session block even when nothing was negotiated.
          expect(r.status).not.toBe(0);
          expect(r.stdout).toMatch(/Cipher is \(NONE\)/);
          expect(r.stderr).toMatch(/alert protocol version|no protocols available|unsupported protocol/);
        }
        const ok = sClient(port, env.state.caFile, ['-tls1_2', '-verify_return_error']);
        expect(ok.stdout).toMatch(/Protocol\s*:\s*TLSv1\.2/);
        expect(ok.stdout).toMatch(/Verify return code: 0 \(ok\)/);
      }
    });
  });

  test('celery-tls verify passes against the dev environment', async () => {
    const r = await cli(['verify', '--manifest', join(env.dir, 'worker', 'manifest.json'), '--json']);
    const report = JSON.parse(r.stdout);
    expect(r.status).toBe(0);
    expect(report.ok).toBe(true);
    const ids = report.endpoints.flatMap((e: any) => e.checks.map((c: any) => `${e.name}:${c.id}:${c.status}`));
    for (const name of ['broker', 'resultBackend']) {
      for (const id of ['handshake', 'chain', 'hostname', 'protocol', 'expiry', 'refuses-TLSv1', 'refuses-TLSv1.1'])
        expect(ids).toContain(`${name}:${id}:pass`);
    }
  });

  test('capture: no task payload, password or task name on the wire with TLS; all three visible in a plaintext control', async () => {
    const marker = `E2E-MARKER-${randomBytes(6).toString('hex')}`;
    const secrets = env.secretEnvironment('rabbitmq');
    const tlsCapture = new Capture([env.state.rabbitmq!.tlsPort, env.state.redis!.tlsPort]);
    await tlsCapture.start();
    const result = await withWorker(settings(env, 'worker', 'rabbitmq', 'cap'), secrets, 'cap', async (w) => {
      await w.ready();
      return produce(
        runDir(settings(env, 'producer', 'rabbitmq', 'cap'), 'cap-producer'),
        secrets,
        w.queue,
        200,
        marker,
      );
    });
    const tlsBytes = await tlsCapture.stop();
    expect(result.received).toBe(200);
    expect(tlsBytes.length).toBeGreaterThan(10_000);
    for (const secret of [marker, TASK_NAME, env.password('rabbitmq'), env.password('redis')])
      expect(contains(tlsBytes, secret)).toBe(false);
    const hellos = tlsCapture.clientHellos();
    console.log(`TLS handshakes during 200 tasks (worker and producer, broker and backend): ${hellos}`);
    expect(hellos).toBeGreaterThan(0);
    expect(hellos).toBeLessThanOrEqual(20);

    // Control: the same capture against a plaintext Redis proves that the capture would have seen them.
    const plain = await weakRedis(env, 'control', { plaintextPort: true });
    const control = join(scratch('control'), 'celeryconfig.py');
    writeFileSync(
      control,
      [
        `broker_url = "redis://celery:${plain.password}@127.0.0.1:${plain.plaintextPort}/0"`,
        `result_backend = "redis://celery:${plain.password}@127.0.0.1:${plain.plaintextPort}/1"`,
        'task_serializer = "json"',
        'accept_content = ["json"]',
        '',
      ].join('\n'),
    );
    const plainCapture = new Capture([plain.plaintextPort!]);
    await plainCapture.start();
    const controlResult = await withWorker(control, {}, 'control', async (w) => {
      await w.ready();
      return produce(runDir(control, 'control-producer'), {}, w.queue, 20, marker);
    });
    const plainBytes = await plainCapture.stop();
    expect(controlResult.received).toBe(20);
    for (const secret of [marker, TASK_NAME, plain.password]) expect(contains(plainBytes, secret)).toBe(true);
  });

  describe('faults: a server restarts in the middle of a run', () => {
    async function runWithRestart(name: string, restart: () => Promise<void>) {
      const secrets = env.secretEnvironment('rabbitmq');
      return withWorker(settings(env, 'worker', 'rabbitmq', name), secrets, name, async (worker) => {
        await worker.ready();
        const running = produce(
          runDir(settings(env, 'producer', 'rabbitmq', name), `${name}-producer`),
          secrets,
          worker.queue,
          N,
          `marker-${name}`,
          280,
        );
        running.catch(() => undefined); // awaited below; keep an early failure from going unhandled
        const deadline = Date.now() + 120_000;
        while (worker.executions().size < 250) {
          if (Date.now() > deadline) throw new Error('the run never reached 250 tasks');
          await new Promise((r) => setTimeout(r, 100));
        }
        const before = worker.executions().size;
        await restart();
        const result = await running;
        const executions = worker.executions();
        const duplicates = [...executions.values()].filter((c) => c > 1).length;
        console.log(
          `${name}: restarted after ${before} tasks; ${result.received}/${N} results, ${duplicates} tasks executed twice (acks-late redelivery), ${result.backend_errors} backend errors waited out, ${result.total_seconds}s`,
        );
        return { result, executions, log: worker.log() };
      });
    }

    test('rabbitmq-server restart: no task lost', async () => {
      const { result, executions, log } = await runWithRestart('rabbit-restart', async () => {
        const r = env.rabbitMqServer();
        await r.restart();
        env.savePids({ rabbitmq: r.pid });
      });
      expect(result).toMatchObject({ received: N, missing_count: 0, wrong: [] });
      expect(executions.size).toBe(N);
      expect(log).toMatch(/Connection to broker lost|Cannot connect to amqps/);
    });

    test('redis-server restart: no result lost', async () => {
      const { result, executions } = await runWithRestart('redis-restart', async () => {
        const r = env.redisServer();
        await r.restart();
        env.savePids({ redis: r.pid });
      });
      expect(result).toMatchObject({ received: N, missing_count: 0, wrong: [] });
      expect(executions.size).toBe(N);
    });
  });
});

describe('mutual TLS: client certificates and EXTERNAL login to RabbitMQ', () => {
  let env: DevEnvironment;
  beforeAll(async () => {
    env = await devUp({ name: 'mtls', mutualTls: true });
  });

  test(`${N} tasks with certificate login (no broker password), every result arrives`, async () => {
    expect(env.secretEnvironment('rabbitmq').CELERY_TLS_BROKER_PASSWORD).toBeUndefined();
    const { result, log } = await roundTrip(env, 'rabbitmq', 'mtls');
    expect(result).toMatchObject({ sent: N, received: N, missing_count: 0, wrong: [] });
    expect(log).toMatch(new RegExp(`Connected to amqps://celery-worker(:\\*\\*)?@${CONNECTED_HOST}:\\d+/celery`));
  });

  test('200 tasks with certificates issued by the rotation function, delivered as the secret (CLIENT_CERT) and written to 0600 files by the settings', async () => {
    // The certificate function of RabbitMqApplicationUsers, run against a stand-in for AWS Private CA that signs with
    // the CA this RabbitMQ trusts: its secret is what ECS injects as CELERY_TLS_BROKER_CLIENT_CERT.
    const devCa = await loadCertificateAuthority(
      readFileSync(env.state.caFile, 'utf8'),
      readFileSync(env.state.caFile.replace(/\.pem$/, '.key'), 'utf8'),
    );
    const issue = async (cn: string) => {
      const secrets = new FakeSecrets();
      const arn = `arn:aws:secretsmanager:eu-west-1:111122223333:secret:${cn}-cert`;
      secrets.create(arn, { common_name: cn });
      const rotate = createCertificateRotationHandler(
        { caArn: CA_ARN, signingAlgorithm: 'SHA256WITHECDSA', validityDays: 30, waitSeconds: 5, pollMilliseconds: 1 },
        secrets,
        new FakePrivateCa(devCa),
        () => undefined,
      );
      const token = secrets.start(arn);
      for (const Step of ['createSecret', 'setSecret', 'testSecret', 'finishSecret'] as const)
        await rotate({ SecretId: arn, ClientRequestToken: token, Step });
      return { arn, value: (await secrets.get(arn, { stage: 'AWSCURRENT' }))! };
    };
    const fromSecret = async (role: 'worker' | 'producer') => {
      const input = env.celeryInput(role, 'rabbitmq');
      const cert = await issue(env.state.clients[role].commonName);
      const broker = { ...input.broker, certFile: undefined, keyFile: undefined, clientCertSecretArn: cert.arn };
      return {
        file: settingsFile({ ...input, broker }, `mtls-secret-${role}`),
        env: { ...env.secretEnvironment('rabbitmq'), CELERY_TLS_BROKER_CLIENT_CERT: cert.value },
      };
    };
    const worker = await fromSecret('worker');
    const producer = await fromSecret('producer');
    expect(readFileSync(worker.file, 'utf8')).not.toContain('BEGIN');
    const { result, log } = await withWorker(worker.file, worker.env, 'mtls-secret', async (w) => {
      await w.ready();
      const r = await produce(
        runDir(producer.file, 'mtls-secret-producer'),
        producer.env,
        w.queue,
        200,
        'marker-mtls-secret',
      );
      return { result: r, log: w.log() };
    });
    expect(result).toMatchObject({ sent: 200, received: 200, missing_count: 0, wrong: [] });
    expect(log).toMatch(new RegExp(`Connected to amqps://celery-worker(:\\*\\*)?@${CONNECTED_HOST}:\\d+/celery`));
  });

  test('a worker without a client certificate is refused', async () => {
    const input = env.celeryInput('worker', 'rabbitmq');
    const noCert = {
      ...input,
      broker: { ...input.broker, certFile: undefined, keyFile: undefined, loginMethod: undefined, username: 'celery' },
    };
    const secrets = {
      CELERY_TLS_BROKER_PASSWORD: env.password('rabbitmq'),
      CELERY_TLS_RESULT_BACKEND_PASSWORD: env.password('redis'),
    };
    const log = await withWorker(settingsFile(noCert, 'nocert'), secrets, 'nocert', (w) =>
      w.logMatches(/Cannot connect to amqps|Unrecoverable error|CeleryTLSConfigError: start-up check/),
    );
    expect(log).toMatch(
      /CERTIFICATE_REQUIRED|certificate required|handshake failure|Connection reset|EOF occurred|Socket closed|Server unexpectedly closed/i,
    );
    expect(log).not.toMatch(/ready\.\s*$/m);
  });

  test('celery-tls verify confirms that a client certificate is required', async () => {
    const r = await cli(['verify', '--manifest', join(env.dir, 'worker', 'manifest.json'), '--json']);
    const report = JSON.parse(r.stdout);
    expect(r.status).toBe(0);
    for (const e of report.endpoints)
      expect(e.checks.find((c: any) => c.id === 'client-cert')).toMatchObject({ status: 'pass' });
  });
});
