/**
 * The TLS canary's handler (lib/handlers/tls-canary) against real TLS servers: the dev environment's RabbitMQ and
 * Redis pass every check, and each weakened redis-server that verify's e2e builds makes exactly the matching
 * CheckPassed metric 0. The EMF lines it writes are parsed and asserted. Client certificates come from an injected
 * secret reader, so the AWS SDK is never loaded.
 */
import { execFileSync } from 'node:child_process';
import { readFileSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { DevEnvironment } from '../../lib/dev/environment';
import { issueCertificate, loadCertificateAuthority } from '../../lib/dev/pki';
import { freePort } from '../../lib/dev/process';
import { CANARY_CHECKS, createCanaryHandler } from '../../lib/handlers/tls-canary';
import type { CanaryDependencies, CanarySummary } from '../../lib/handlers/tls-canary';
import { cleanup, devUp } from './harness';
import { weakRedis } from './weak';

const ROOT = join(__dirname, '..', '..');
const DAY = 86_400_000;
const NAMESPACE = 'CeleryTls/Canary';
const WORKER_CERT_ARN = 'arn:aws:secretsmanager:eu-west-1:111122223333:secret:celery/worker-cert-AbC123';
const PRODUCER_CERT_ARN = 'arn:aws:secretsmanager:eu-west-1:111122223333:secret:celery/producer-cert-XyZ789';

afterAll(cleanup);

let env: DevEnvironment;
let caPem: string;
/**
 * What the injected DescribeSecret serves: each client-certificate secret's tags, as the certificate function sets
 * them when a certificate becomes current (`celery-tls:not-after`). The canary never reads a secret's value.
 */
const secretTags: Record<string, Record<string, string>> = {};
beforeAll(async () => {
  env = await devUp({ name: 'canary' });
  caPem = readFileSync(env.state.caFile, 'utf8');
  const ca = await loadCertificateAuthority(caPem, readFileSync(env.state.caFile.replace(/\.pem$/, '.key'), 'utf8'));
  for (const [arn, cn, days] of [
    [WORKER_CERT_ARN, 'celery-worker', 20],
    [PRODUCER_CERT_ARN, 'celery-producer', 200],
  ] as const) {
    const notAfter = new Date(Date.now() + days * DAY + 3_600_000);
    const cert = await issueCertificate(ca, { commonName: cn, usage: 'client', notAfter });
    expect(cert.certPem).toContain('BEGIN CERTIFICATE');
    secretTags[arn] = { 'celery-tls:not-after': notAfter.toISOString(), other: 'tag' };
  }
});

interface Run {
  readonly summary: CanarySummary;
  /** Every line written, parsed. */
  readonly lines: any[];
  /** CheckPassed by endpoint and check. */
  readonly passed: Record<string, Record<string, number>>;
  /** The checks at 0, by endpoint. */
  readonly failed: Record<string, string[]>;
  /** The endpoint lines (ChecksFailed, DaysToExpiry), by endpoint. */
  readonly perEndpoint: Record<string, any>;
  readonly output: string;
}

/** Runs a canary handler (the source's, or the bundle's) and reads back what it wrote. */
async function canary(
  endpoints: object[],
  extra: Record<string, string> = {},
  create: (deps: CanaryDependencies) => () => Promise<CanarySummary> = createCanaryHandler,
): Promise<Run> {
  const written: string[] = [];
  const summary = await create({
    env: { CANARY_ENDPOINTS: JSON.stringify(endpoints), CANARY_CA_BUNDLE: caPem, CANARY_TIMEOUT_MS: '3000', ...extra },
    write: (l) => written.push(l),
    log: (l) => written.push(l),
    getTags: async (arn: string) => {
      if (!(arn in secretTags))
        throw Object.assign(new Error(`no secret ${arn}`), { name: 'ResourceNotFoundException' });
      return secretTags[arn];
    },
  })();
  const lines = written.filter((l) => l.startsWith('{')).map((l) => JSON.parse(l));
  const passed: Record<string, Record<string, number>> = {};
  const perEndpoint: Record<string, any> = {};
  for (const l of lines) {
    // Every line is an EMF document in the canary's namespace, with one directive and one dimension set.
    const directives = l._aws.CloudWatchMetrics;
    expect(directives).toHaveLength(1);
    expect(directives[0].Namespace).toBe(NAMESPACE);
    expect(typeof l._aws.Timestamp).toBe('number');
    const [dimensions] = directives[0].Dimensions;
    for (const d of dimensions) expect(typeof l[d]).toBe('string');
    for (const m of directives[0].Metrics) expect(typeof l[m.Name]).toBe('number');
    if (dimensions.join() === 'Endpoint,Check') {
      expect(directives[0].Metrics).toEqual([{ Name: 'CheckPassed', Unit: 'None' }]);
      expect([0, 1]).toContain(l.CheckPassed);
      (passed[l.Endpoint] ??= {})[l.Check] = l.CheckPassed;
    } else if (dimensions.join() === 'Endpoint') {
      expect(directives[0].Metrics.map((m: any) => `${m.Name}/${m.Unit}`)).toEqual(
        l.DaysToExpiry === undefined ? ['ChecksFailed/Count'] : ['ChecksFailed/Count', 'DaysToExpiry/None'],
      );
      perEndpoint[l.Endpoint] = l;
    } else {
      expect(dimensions).toEqual(['Secret']);
      expect(directives[0].Metrics).toEqual([{ Name: 'ClientCertificateDaysToExpiry', Unit: 'None' }]);
    }
  }
  const failed = Object.fromEntries(
    Object.entries(passed).map(([e, checks]) => [
      e,
      Object.keys(checks)
        .filter((c) => checks[c] === 0)
        .sort(),
    ]),
  );
  for (const [e, ids] of Object.entries(failed)) expect(perEndpoint[e].ChecksFailed).toBe(ids.length);
  return { summary, lines, passed, failed, perEndpoint, output: written.join('\n') };
}

const allPass = (mutualTls = false) =>
  Object.fromEntries([...CANARY_CHECKS, ...(mutualTls ? ['client-cert'] : [])].map((c) => [c, 1]));
/** The validity the dev PKI gives a certificate: 398 days from a day ago. */
const DEV_CERT_DAYS = [396, 397];

describe('the healthy environment', () => {
  let endpoints: object[];
  beforeAll(async () => {
    endpoints = [
      // A port with nothing on it stands for the plaintext port a broker must not open (5672 on RabbitMQ).
      {
        name: 'broker',
        host: env.state.host,
        port: env.state.rabbitmq!.tlsPort,
        protocol: 'amqp',
        plaintextPorts: [await freePort()],
      },
      { name: 'resultBackend', host: env.state.host, port: env.state.redis!.tlsPort, protocol: 'redis' },
    ];
  });

  test('RabbitMQ and Redis: every check metric 1, days to expiry of the servers and the client certificates', async () => {
    const started = performance.now();
    const run = await canary(endpoints, {
      CANARY_CLIENT_CERT_SECRET_ARNS: JSON.stringify([WORKER_CERT_ARN, PRODUCER_CERT_ARN]),
    });
    const total = Math.round(performance.now() - started);
    expect(run.passed).toEqual({ broker: allPass(), resultBackend: allPass() });
    for (const e of ['broker', 'resultBackend']) {
      expect(run.perEndpoint[e]).toMatchObject({ ChecksFailed: 0 });
      expect(DEV_CERT_DAYS).toContain(run.perEndpoint[e].DaysToExpiry);
    }
    const certLines = run.lines.filter((l) => l.Secret);
    expect(certLines.map((l) => [l.Secret, l.ClientCertificateDaysToExpiry])).toEqual([
      ['celery/worker-cert', 20],
      ['celery/producer-cert', 200],
    ]);
    // It reads tags only: no private key ever reaches it.
    expect(run.output).not.toContain('PRIVATE KEY');
    expect(JSON.stringify(run.summary)).not.toContain('PRIVATE KEY');
    expect(run.summary.ok).toBe(true);
    for (const e of run.summary.endpoints) expect(e.durationMs).toBeLessThan(5000);
    console.log(
      `canary on the healthy environment: ${run.summary.endpoints.map((e) => `${e.name} ${e.durationMs} ms`).join(', ')} (checked in parallel; the whole invocation ${total} ms); ${run.lines.length} EMF lines`,
    );
  });

  test('one endpoint, timed alone: under 5 s', async () => {
    for (const e of endpoints) {
      const started = performance.now();
      const run = await canary([e]);
      const ms = Math.round(performance.now() - started);
      expect(run.summary.ok).toBe(true);
      expect(ms).toBeLessThan(5000);
      console.log(`canary, one endpoint (${(e as { name: string }).name}): ${ms} ms`);
    }
  });

  test('an unreadable client-certificate secret: no datapoint for it, the rest published, no throw', async () => {
    const missing = WORKER_CERT_ARN.replace('worker', 'retired');
    const run = await canary([endpoints[1]], { CANARY_CLIENT_CERT_SECRET_ARNS: JSON.stringify([missing]) });
    expect(run.passed).toEqual({ resultBackend: allPass() });
    expect(run.lines.filter((l) => l.Secret)).toEqual([]);
    expect(run.summary.clientCertificates).toEqual([
      { secret: 'celery/retired-cert', error: expect.stringMatching(/ResourceNotFoundException/) },
    ]);
    expect(run.summary.ok).toBe(false);
  });

  test('the bundle Lambda runs (assets/handlers/tls-canary/index.js) does the same, without the SDK', async () => {
    execFileSync(process.execPath, [join(ROOT, 'scripts', 'bundle-handlers.mjs')], { cwd: ROOT });
    const file = join(ROOT, 'assets', 'handlers', 'tls-canary', 'index.js');
    const zip = join(ROOT, 'assets', 'handlers', 'tls-canary.zip');
    console.log(`tls-canary bundle: index.js ${statSync(file).size} bytes, tls-canary.zip ${statSync(zip).size} bytes`);
    const bundle = createRequire(__filename)(file);
    expect(typeof bundle.handler).toBe('function');
    const run = await canary(endpoints, {}, bundle.createCanaryHandler);
    expect(run.passed).toEqual({ broker: allPass(), resultBackend: allPass() });
  });
});

describe('weakened servers: exactly the matching metric is 0', () => {
  test('mutual TLS required: every check 1, client-cert included (the canary itself sends no certificate)', async () => {
    const server = await weakRedis(env, 'canary-mtls', { mutualTls: true });
    const run = await canary([
      { name: 'cache', host: 'localhost', port: server.tlsPort, protocol: 'redis', mutualTls: true },
    ]);
    expect(run.passed).toEqual({ cache: allPass(true) });
  });

  test.each([
    ['TLS 1.0 and 1.1 enabled', { tls11: true }, {}, ['refuses-TLSv1', 'refuses-TLSv1.1']],
    [
      'an expired certificate',
      { certificate: { notBefore: new Date(Date.now() - 800 * DAY), notAfter: new Date(Date.now() - 400 * DAY) } },
      {},
      // OpenSSL judges an expired certificate's chain invalid too (CERT_HAS_EXPIRED), as verify's e2e expects.
      ['chain', 'expiry'],
    ],
    [
      'a certificate for another host',
      { certificate: { dnsNames: ['wrong.example'], ipAddresses: [] } },
      {},
      ['hostname'],
    ],
    ['a plaintext port open beside the TLS port', { plaintextPort: true }, { plaintext: true }, ['plaintext']],
    ['no client certificate required under mutual TLS', {}, { mutualTls: true }, ['client-cert']],
    [
      'a certificate expiring within 30 days (a warning: still 1)',
      { certificate: { notAfter: new Date(Date.now() + 10 * DAY) } },
      {},
      [],
    ],
  ] as const)('%s', async (name, weakness, canaryOptions, expected) => {
    const server = await weakRedis(env, `canary-${name.replace(/\W+/g, '-')}`, weakness);
    const mutualTls = 'mutualTls' in canaryOptions;
    const started = performance.now();
    const run = await canary([
      {
        name: 'cache',
        host: 'localhost',
        port: server.tlsPort,
        protocol: 'redis',
        mutualTls,
        ...('plaintext' in canaryOptions ? { plaintextPorts: [server.plaintextPort] } : {}),
      },
    ]);
    const ms = Math.round(performance.now() - started);
    expect(run.failed.cache).toEqual([...expected].sort());
    expect(Object.keys(run.passed.cache).sort()).toEqual(Object.keys(allPass(mutualTls)).sort());
    expect(run.perEndpoint.cache.ChecksFailed).toBe(expected.length);
    const days = run.perEndpoint.cache.DaysToExpiry;
    if (name.startsWith('an expired')) expect(days).toBeLessThanOrEqual(-400);
    else if (name.startsWith('a certificate expiring')) expect(days).toBe(9);
    else expect(DEV_CERT_DAYS).toContain(days);
    expect(run.summary.ok).toBe(expected.length === 0);
    expect(ms).toBeLessThan(5000);
    console.log(`canary, ${name}: CheckPassed 0 for [${run.failed.cache.join(', ')}] in ${ms} ms`);
  });
});
