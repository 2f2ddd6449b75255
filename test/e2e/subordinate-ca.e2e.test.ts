/**
 * Which CA a RabbitMQ broker must trust for client certificates from a subordinate CA (the library's
 * `trustAnchorCaArn`). Amazon MQ loads a CA's certificate without its chain; this checks Erlang's answer with a real
 * rabbitmq-server: only a self-signed anchor is accepted, and a client that sends its chain is accepted with the root
 * trusted. The client side is the rendered settings: the certificate secret (with its chain) written by them to files.
 */
import { spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { CeleryConfig } from '../../lib/core';
import {
  createCertificateAuthority,
  createSubordinateCertificateAuthority,
  issueCertificate,
  writeCertificate,
  type IssuedCertificate,
} from '../../lib/dev/pki';
import { freePort } from '../../lib/dev/process';
import { RabbitMqServer } from '../../lib/dev/rabbitmq-server';
import { PYTHON } from '../python/harness';
import { cleanup, scratch } from './harness';

afterAll(cleanup);

let root: IssuedCertificate;
let subordinate: IssuedCertificate;
let dir: string;
let server: { certFile: string; keyFile: string };
let clientSecret: string;

beforeAll(async () => {
  dir = scratch('subordinate-ca');
  root = await createCertificateAuthority('celery-tls e2e root', 30, 1);
  subordinate = await createSubordinateCertificateAuthority(root, 'celery-tls e2e subordinate');
  server = writeCertificate(
    join(dir, 'server'),
    await issueCertificate(root, { commonName: 'localhost', dnsNames: ['localhost'], usage: 'server' }),
  );
  const client = await issueCertificate(subordinate, { commonName: 'celery-worker', usage: 'client' });
  // The shape the certificate function stores: the chain is the subordinate (AWS Private CA returns it with the root).
  clientSecret = JSON.stringify({
    certificate: client.certPem,
    certificate_chain: subordinate.certPem,
    private_key: client.keyPem,
  });
  writeFileSync(join(dir, 'root.pem'), root.certPem);
  writeFileSync(join(dir, 'subordinate.pem'), subordinate.certPem);
});

/** Connects with the rendered settings; returns what the client printed or raised, and the broker's log. */
async function connectWithTrust(trusted: string): Promise<{ client: string; serverLog: string }> {
  const rmq = new RabbitMqServer({
    dir: join(dir, `rabbitmq-${trusted}`),
    host: '127.0.0.1',
    tlsPort: await freePort(),
    distPort: await freePort(),
    epmdPort: await freePort(),
    ...server,
    caFile: join(dir, `${trusted}.pem`),
    mutualTls: true,
  });
  rmq.writeConfig();
  await rmq.start();
  try {
    rmq.setUp('celery', [{ name: 'celery-worker' }]);
    const settings = new CeleryConfig({
      broker: {
        scheme: 'amqps',
        host: 'localhost',
        port: rmq.options.tlsPort,
        vhost: 'celery',
        username: 'celery-worker',
        engine: 'rabbitmq',
        engineVersion: '3.10',
        caCerts: join(dir, 'root.pem'),
        loginMethod: 'EXTERNAL',
        clientCertSecretArn: 'arn:aws:secretsmanager:eu-west-1:111122223333:secret:celery-worker-cert',
      },
    }).toPythonModule('subordinate-ca e2e');
    const run = scratch(`subordinate-ca-${trusted}`);
    writeFileSync(join(run, 'celeryconfig.py'), settings);
    const py =
      'import celeryconfig as c\nfrom kombu import Connection\nwith Connection(c.broker_url, ssl=c.broker_use_ssl, login_method=c.broker_login_method, connect_timeout=10) as conn:\n    conn.connect()\n    print("CONNECTED")\n';
    const r = spawnSync(PYTHON, ['-c', py], {
      cwd: run,
      encoding: 'utf8',
      timeout: 60_000,
      env: { PATH: '/usr/bin:/bin', PYTHONPATH: run, CELERY_TLS_BROKER_CLIENT_CERT: clientSecret },
    });
    const client = r.status === 0 ? r.stdout.trim() : r.stderr.trim().split('\n').slice(-1)[0];
    return { client, serverLog: readFileSync(join(rmq.options.dir, 'log', 'rabbit.log'), 'utf8') };
  } finally {
    await rmq.stop();
  }
}

test('trusting only the subordinate CA refuses its clients (Erlang wants a self-signed anchor)', async () => {
  const { client, serverLog } = await connectWithTrust('subordinate');
  // The client sees the alert or, under TLS 1.3, the closed socket; the broker says why.
  expect(client).toMatch(/UNKNOWN_CA|EOF occurred|Connection reset/i);
  expect(serverLog).toMatch(/SERVER ALERT: Fatal - Unknown CA/);
});

test('trusting the root accepts a client of the subordinate that sends its chain, as the rendered settings do', async () => {
  const { client, serverLog } = await connectWithTrust('root');
  expect(client).toBe('CONNECTED');
  expect(serverLog).not.toMatch(/Unknown CA/);
});
