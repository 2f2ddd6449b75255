/**
 * celery-tls verify against real PostgreSQL servers (the stack's postgresql, hostssl only unless weakened): TLS is
 * started after an SSLRequest, every check runs on that connection, and a server that serves plaintext sessions is
 * reported by what it answers to a plaintext startup message.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  CertificateRequest,
  IssuedCertificate,
  createCertificateAuthority,
  issueCertificate,
  writeCertificate,
} from '../../lib/dev/pki';
import { PostgresServer } from '../../lib/dev/postgres-server';
import { freePort } from '../../lib/dev/process';
import { cleanup, onCleanup, scratch } from './harness';
import { cli } from './weak';

const DAY = 86_400_000;
afterAll(cleanup);

let ca: IssuedCertificate;
let caFile: string;
beforeAll(async () => {
  ca = await createCertificateAuthority('celery-tls verify-postgres CA');
  caFile = join(scratch('verify-pg-ca'), 'ca.pem');
  writeFileSync(caFile, ca.certPem);
});

async function server(name: string, weakness: { certificate?: Partial<CertificateRequest>; plaintext?: boolean } = {}) {
  const dir = scratch(`vpg-${name}`);
  const cert = writeCertificate(
    join(dir, 'server'),
    await issueCertificate(ca, {
      commonName: 'localhost',
      dnsNames: ['localhost'],
      ipAddresses: ['127.0.0.1'],
      usage: 'server',
      ...weakness.certificate,
    }),
  );
  const pg = new PostgresServer({
    dir: join(dir, 'pg'),
    host: '127.0.0.1',
    port: await freePort(),
    ...cert,
    plaintext: weakness.plaintext,
  });
  pg.init();
  await pg.start();
  onCleanup(() => pg.stop());
  return pg;
}

async function verify(pg: PostgresServer, extra: string[] = []) {
  const r = await cli([
    'verify',
    '--endpoint',
    `postgresql://localhost:${pg.options.port}`,
    '--ca',
    caFile,
    '--json',
    ...extra,
  ]);
  const report = JSON.parse(r.stdout);
  const checks: { id: string; status: string; detail: string }[] = report.endpoints[0].checks;
  const failed = checks
    .filter((c) => c.status === 'fail')
    .map((c) => c.id)
    .sort();
  return { status: r.status, checks, failed, report };
}

test('a TLS-only PostgreSQL passes every check: handshake after SSLRequest, chain, name, TLS 1.0/1.1 refused, plaintext refused', async () => {
  const pg = await server('healthy');
  const v = await verify(pg);
  expect(v.failed).toEqual([]);
  expect(v.status).toBe(0);
  expect(v.checks.map((c) => c.id)).toEqual([
    'handshake',
    'chain',
    'hostname',
    'protocol',
    'expiry',
    'refuses-TLSv1',
    'refuses-TLSv1.1',
    `plaintext-${pg.options.port}`,
  ]);
  const plaintext = v.checks.find((c) => c.id.startsWith('plaintext-'))!;
  // The server's own refusal of an unencrypted session, read from its ErrorResponse.
  expect(plaintext.detail).toMatch(/plaintext session refused: .*no encryption/);
  expect(v.checks.find((c) => c.id === 'handshake')!.detail).toMatch(/^TLSv1\.[23] /);
});

test('a server with host lines beside hostssl (plaintext sessions served): reported, and only that', async () => {
  const pg = await server('plaintext', { plaintext: true });
  const v = await verify(pg);
  expect(v.failed).toEqual([`plaintext-${pg.options.port}`]);
  expect(v.status).toBe(1);
});

test.each([
  ['a certificate for another host', { dnsNames: ['wrong.example'], ipAddresses: [] }, ['hostname']],
  [
    'an expired certificate',
    { notBefore: new Date(Date.now() - 800 * DAY), notAfter: new Date(Date.now() - 400 * DAY) },
    ['chain', 'expiry'],
  ],
] as const)('%s: reported, and only that', async (name, certificate, expected) => {
  const pg = await server(name.replace(/\W+/g, '-'), { certificate });
  const v = await verify(pg);
  expect(v.failed).toEqual([...expected].sort());
  expect(v.status).toBe(1);
});

test('a rogue CA: the chain check fails', async () => {
  const pg = await server('rogue');
  const rogue = await createCertificateAuthority('rogue');
  const rogueFile = join(scratch('vpg-rogue-ca'), 'rogue.pem');
  writeFileSync(rogueFile, rogue.certPem);
  const r = await cli([
    'verify',
    '--endpoint',
    `postgresql://localhost:${pg.options.port}`,
    '--ca',
    rogueFile,
    '--json',
  ]);
  const failed = JSON.parse(r.stdout)
    .endpoints[0].checks.filter((c: any) => c.status === 'fail')
    .map((c: any) => c.id);
  expect(failed).toEqual(['chain']);
  expect(r.status).toBe(1);
});
