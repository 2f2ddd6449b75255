/** celery-tls verify against deliberately weakened redis-servers: each weakness is reported, the rest passes. */
import { DevEnvironment } from '../../lib/dev/environment';
import { cleanup, devUp } from './harness';
import { WeakRedis, cli, weakRedis } from './weak';

const DAY = 86_400_000;
afterAll(cleanup);

let env: DevEnvironment;
beforeAll(async () => {
  env = await devUp({ name: 'verify-ca', start: false }); // only its CA is used here
});

async function verify(server: WeakRedis, extra: string[] = []) {
  const r = await cli([
    'verify',
    '--endpoint',
    `rediss://localhost:${server.tlsPort}`,
    '--ca',
    env.state.caFile,
    '--json',
    ...extra,
  ]);
  const report = JSON.parse(r.stdout);
  const statuses: Record<string, string> = Object.fromEntries(
    report.endpoints[0].checks.map((c: any) => [c.id, c.status]),
  );
  const failed = Object.entries(statuses)
    .filter(([, s]) => s === 'fail')
    .map(([id]) => id)
    .sort();
  return { status: r.status, statuses, failed, report };
}

test.each([
  ['TLS 1.0 and 1.1 enabled', { tls11: true }, [], ['refuses-TLSv1', 'refuses-TLSv1.1']],
  [
    'an expired certificate',
    { certificate: { notBefore: new Date(Date.now() - 800 * DAY), notAfter: new Date(Date.now() - 400 * DAY) } },
    [],
    ['chain', 'expiry'],
  ],
  [
    'a certificate for another host',
    { certificate: { dnsNames: ['wrong.example'], ipAddresses: [] } },
    [],
    ['hostname'],
  ],
] as const)('%s: reported, and only that', async (name, weakness, extra, expected) => {
  const server = await weakRedis(env, name.replace(/\W+/g, '-'), weakness);
  const v = await verify(server, [...extra]);
  expect(v.failed).toEqual([...expected].sort());
  expect(v.status).toBe(1);
  expect(v.report.ok).toBe(false);
});

test('a plaintext port open beside the TLS port: reported', async () => {
  const server = await weakRedis(env, 'plaintext', { plaintextPort: true });
  const v = await verify(server, ['--plaintext-port', String(server.plaintextPort)]);
  expect(v.failed).toEqual([`plaintext-${server.plaintextPort}`]);
  expect(v.report.endpoints[0].checks.find((c: any) => c.id === `plaintext-${server.plaintextPort}`).detail).toMatch(
    /answered "-NOAUTH|answered "\+PONG|answered "-ERR/,
  );
  expect(v.status).toBe(1);
});

test('a certificate expiring within the threshold: a warning, exit 0', async () => {
  const server = await weakRedis(env, 'expiring', { certificate: { notAfter: new Date(Date.now() + 10 * DAY) } });
  const v = await verify(server);
  expect(v.failed).toEqual([]);
  expect(v.statuses.expiry).toBe('warn');
  expect(v.status).toBe(0);
});

test('the readable table names each failure', async () => {
  const server = await weakRedis(env, 'table', { certificate: { dnsNames: ['wrong.example'], ipAddresses: [] } });
  const r = await cli(['verify', '--endpoint', `rediss://localhost:${server.tlsPort}`, '--ca', env.state.caFile]);
  expect(r.status).toBe(1);
  expect(r.stdout).toMatch(/Hostname matches certificate\s+FAIL\s+.*localhost/);
  expect(r.stdout).toMatch(/Summary: \d+ checks pass, 1 fail, 0 warn/);
});
