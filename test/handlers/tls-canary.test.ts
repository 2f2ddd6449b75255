/**
 * The TLS canary's handler without servers: its EMF lines (parsed back and asserted field by field), its configuration
 * errors (one test per message), and an invocation with an injected verify and secret reader.
 */
import { readFileSync } from 'node:fs';
import type { CheckResult, EndpointReport } from '../../lib/verify/verify';
import { createCertificateAuthority } from '../../lib/dev/pki';
import {
  CANARY_CHECKS,
  type CanaryConfig,
  clientCertificateExpiry,
  createCanaryHandler,
  parseCanaryConfig,
  renderCanaryMetrics,
  secretNameFromArn,
  serverDaysToExpiry,
} from '../../lib/handlers/tls-canary';

const DAY = 86_400_000;
const NOW = Date.parse('2030-01-15T12:00:00Z');
const NS = 'CeleryTls/Canary';
const ARN = 'arn:aws:secretsmanager:eu-west-1:111122223333:secret:celery/worker-cert-AbC123';

const check = (id: string, status: CheckResult['status'], detail = `${id} detail`): CheckResult => ({
  id,
  title: id,
  status,
  detail,
});

/** A report as verifyEndpoint makes it for a healthy endpoint, with overrides by check id. */
function report(
  name: string,
  overrides: Record<string, CheckResult['status']> = {},
  extra: { plaintextPorts?: number[]; mutualTls?: boolean; expiry?: string } = {},
): EndpointReport {
  const s = (id: string) => overrides[id] ?? 'pass';
  return {
    name,
    host: `${name}.example`,
    port: 5671,
    checks: [
      check('handshake', s('handshake'), 'TLSv1.3 TLS_AES_256_GCM_SHA384'),
      check('chain', s('chain')),
      check('hostname', s('hostname')),
      check('protocol', s('protocol'), 'TLSv1.3'),
      check('expiry', s('expiry'), extra.expiry ?? '200 days left (until 2030-08-03T12:00:00.000Z)'),
      check('refuses-TLSv1', s('refuses-TLSv1')),
      check('refuses-TLSv1.1', s('refuses-TLSv1.1')),
      ...[5671, ...(extra.plaintextPorts ?? [])].map((p) => check(`plaintext-${p}`, s(`plaintext-${p}`), `port ${p}`)),
      ...(extra.mutualTls ? [check('client-cert', s('client-cert'))] : []),
    ],
  };
}

/** The lines as CloudWatch Logs would read them: JSON text, parsed back. */
const parsed = (lines: unknown[]) => lines.map((l) => JSON.parse(JSON.stringify(l)));
const checkLines = (lines: any[]) => lines.filter((l) => l._aws.CloudWatchMetrics[0].Dimensions[0].includes('Check'));
const passedByCheck = (lines: any[], endpoint: string) =>
  Object.fromEntries(
    checkLines(lines)
      .filter((l) => l.Endpoint === endpoint)
      .map((l) => [l.Check, l.CheckPassed]),
  );
const healthy = Object.fromEntries(CANARY_CHECKS.map((c) => [c, 1]));

describe('EMF lines', () => {
  test('GIVEN a healthy endpoint WHEN rendered THEN one CheckPassed line per check and one endpoint line', () => {
    const lines = parsed(renderCanaryMetrics({ namespace: NS, timestamp: NOW, endpoints: [report('broker')] }));
    expect(lines).toHaveLength(CANARY_CHECKS.length + 1);
    expect(lines[0]).toEqual({
      _aws: {
        Timestamp: NOW,
        CloudWatchMetrics: [
          { Namespace: NS, Dimensions: [['Endpoint', 'Check']], Metrics: [{ Name: 'CheckPassed', Unit: 'None' }] },
        ],
      },
      Endpoint: 'broker',
      Check: 'handshake',
      Host: 'broker.example',
      Port: 5671,
      Status: 'pass',
      Detail: 'TLSv1.3 TLS_AES_256_GCM_SHA384',
      CheckPassed: 1,
    });
    expect(checkLines(lines).map((l) => l.Check)).toEqual([...CANARY_CHECKS]);
    expect(passedByCheck(lines, 'broker')).toEqual(healthy);
    expect(lines.at(-1)).toEqual({
      _aws: {
        Timestamp: NOW,
        CloudWatchMetrics: [
          {
            Namespace: NS,
            Dimensions: [['Endpoint']],
            Metrics: [
              { Name: 'ChecksFailed', Unit: 'Count' },
              { Name: 'DaysToExpiry', Unit: 'None' },
            ],
          },
        ],
      },
      Endpoint: 'broker',
      Host: 'broker.example',
      Port: 5671,
      ChecksFailed: 0,
      DaysToExpiry: 200,
    });
  });

  test('every line is an EMF document: each metric and dimension it names is a member of the line', () => {
    const lines = parsed(
      renderCanaryMetrics({
        namespace: NS,
        timestamp: NOW,
        endpoints: [report('broker', { handshake: 'fail' }), report('resultBackend', {}, { mutualTls: true })],
        clientCertificates: [{ secret: 'celery/worker-cert', daysToExpiry: 12 }],
      }),
    );
    for (const l of lines) {
      expect(Object.keys(l._aws)).toEqual(['Timestamp', 'CloudWatchMetrics']);
      for (const d of l._aws.CloudWatchMetrics) {
        for (const key of d.Dimensions.flat()) expect(typeof l[key]).toBe('string');
        for (const m of d.Metrics) expect(typeof l[m.Name]).toBe('number');
        expect(d.Metrics.length).toBeGreaterThan(0);
      }
    }
  });

  test('a warning (expiry under the threshold) counts as a pass; DaysToExpiry carries the number', () => {
    const r = report(
      'broker',
      { expiry: 'warn' },
      { expiry: '9 days left (until 2030-01-24T12:00:00.000Z): under 30 days' },
    );
    const lines = parsed(renderCanaryMetrics({ namespace: NS, timestamp: NOW, endpoints: [r] }));
    expect(passedByCheck(lines, 'broker')).toEqual(healthy);
    expect(lines.find((l) => l.Check === 'expiry')).toMatchObject({ Status: 'warn', CheckPassed: 1 });
    expect(lines.at(-1)).toMatchObject({ ChecksFailed: 0, DaysToExpiry: 9 });
  });

  test('an expired certificate: expiry and chain at 0, negative DaysToExpiry, ChecksFailed 2', () => {
    const r = report('broker', { expiry: 'fail', chain: 'fail' }, { expiry: 'expired 401 days ago (Dec 10 2028 GMT)' });
    const lines = parsed(renderCanaryMetrics({ namespace: NS, timestamp: NOW, endpoints: [r] }));
    expect(passedByCheck(lines, 'broker')).toEqual({ ...healthy, chain: 0, expiry: 0 });
    expect(lines.at(-1)).toMatchObject({ ChecksFailed: 2, DaysToExpiry: -401 });
    expect(serverDaysToExpiry(r)).toBe(-401);
  });

  test('plaintext-<port> checks fold into one plaintext check, 0 when any port answers; Detail names the port', () => {
    const r = report('resultBackend', { 'plaintext-6379': 'fail' }, { plaintextPorts: [6379, 16379] });
    const lines = parsed(renderCanaryMetrics({ namespace: NS, timestamp: NOW, endpoints: [r] }));
    expect(passedByCheck(lines, 'resultBackend')).toEqual({ ...healthy, plaintext: 0 });
    expect(lines.filter((l) => /^plaintext/.test(l.Check)).map((l) => l.Check)).toEqual(['plaintext']);
    expect(lines.find((l) => l.Check === 'plaintext')).toMatchObject({ Status: 'fail', Detail: '6379: port 6379' });
    const ok = parsed(
      renderCanaryMetrics({ namespace: NS, timestamp: NOW, endpoints: [report('b', {}, { plaintextPorts: [5672] })] }),
    );
    expect(ok.find((l) => l.Check === 'plaintext')).toMatchObject({
      CheckPassed: 1,
      Detail: '5671: port 5671; 5672: port 5672',
    });
  });

  test('mutual TLS adds client-cert; a server that serves a client without a certificate: client-cert 0 only', () => {
    const r = report('broker', { 'client-cert': 'fail' }, { mutualTls: true });
    const lines = parsed(renderCanaryMetrics({ namespace: NS, timestamp: NOW, endpoints: [r] }));
    expect(checkLines(lines).map((l) => l.Check)).toEqual([...CANARY_CHECKS, 'client-cert']);
    expect(passedByCheck(lines, 'broker')).toEqual({ ...healthy, 'client-cert': 0 });
    expect(lines.at(-1)).toMatchObject({ ChecksFailed: 1 });
  });

  test('a failed handshake: the checks that need it still publish, at 0 (not run), and DaysToExpiry is left out', () => {
    const r: EndpointReport = {
      name: 'broker',
      host: 'broker.example',
      port: 5671,
      checks: [
        check('handshake', 'fail', 'ECONNREFUSED: connect ECONNREFUSED'),
        check('refuses-TLSv1', 'pass'),
        check('refuses-TLSv1.1', 'pass'),
        check('plaintext-5671', 'pass'),
      ],
    };
    const lines = parsed(renderCanaryMetrics({ namespace: NS, timestamp: NOW, endpoints: [r] }));
    expect(passedByCheck(lines, 'broker')).toEqual({
      ...healthy,
      handshake: 0,
      chain: 0,
      hostname: 0,
      protocol: 0,
      expiry: 0,
    });
    expect(lines.find((l) => l.Check === 'chain')).toMatchObject({ Status: 'not-run', CheckPassed: 0 });
    const endpointLine = lines.at(-1);
    expect(endpointLine._aws.CloudWatchMetrics[0].Metrics).toEqual([{ Name: 'ChecksFailed', Unit: 'Count' }]);
    expect(endpointLine).toMatchObject({ ChecksFailed: 5 });
    expect(endpointLine).not.toHaveProperty('DaysToExpiry');
  });

  test('a check id verify adds later is published under its own id, not dropped', () => {
    const r = report('broker');
    const lines = parsed(
      renderCanaryMetrics({
        namespace: NS,
        timestamp: NOW,
        endpoints: [{ ...r, checks: [...r.checks, check('ocsp', 'fail')] }],
      }),
    );
    expect(passedByCheck(lines, 'broker')).toEqual({ ...healthy, ocsp: 0 });
  });

  test('client certificates: one line per secret with a known expiry, dimension Secret = the name; DurationMs is a log field', () => {
    const lines = parsed(
      renderCanaryMetrics({
        namespace: 'Custom/Ns',
        timestamp: NOW,
        endpoints: [report('broker')],
        durationsMs: { broker: 42 },
        clientCertificates: [
          { secret: 'celery/worker-cert', daysToExpiry: 12 },
          { secret: 'celery/producer-cert', error: 'could not read' },
        ],
      }),
    );
    const secretLines = lines.filter((l) => 'Secret' in l);
    expect(secretLines).toEqual([
      {
        _aws: {
          Timestamp: NOW,
          CloudWatchMetrics: [
            {
              Namespace: 'Custom/Ns',
              Dimensions: [['Secret']],
              Metrics: [{ Name: 'ClientCertificateDaysToExpiry', Unit: 'None' }],
            },
          ],
        },
        Secret: 'celery/worker-cert',
        ClientCertificateDaysToExpiry: 12,
      },
    ]);
    const endpointLine = lines.find((l) => l._aws.CloudWatchMetrics[0].Dimensions[0].join() === 'Endpoint');
    expect(endpointLine).toMatchObject({ DurationMs: 42 });
    expect(endpointLine._aws.CloudWatchMetrics[0].Metrics.map((m: any) => m.Name)).not.toContain('DurationMs');
  });
});

describe('configuration', () => {
  const endpoint = { name: 'broker', host: 'b-1.mq.eu-west-1.amazonaws.com', port: 5671, protocol: 'amqp' };
  const env = (over: Record<string, unknown> = {}, endpoints: unknown = [endpoint]) => ({
    CANARY_ENDPOINTS: typeof endpoints === 'string' ? endpoints : JSON.stringify(endpoints),
    ...(over as Record<string, string>),
  });

  test('the defaults: namespace CeleryTls/Canary, no CA (Node roots), verify timeout, no secret, mutual TLS off', () => {
    expect(parseCanaryConfig(env())).toEqual<CanaryConfig>({
      endpoints: [{ ...endpoint, protocol: 'amqp', mutualTls: false, plaintextPorts: [] }],
      caBundle: undefined,
      namespace: 'CeleryTls/Canary',
      timeoutMs: undefined,
      clientCertificateSecrets: [],
    });
  });

  test('every variable read', async () => {
    const ca = await createCertificateAuthority('canary config CA');
    const c = parseCanaryConfig(
      env(
        {
          CANARY_CA_BUNDLE: ca.certPem,
          CANARY_NAMESPACE: 'Team/Celery',
          CANARY_TIMEOUT_MS: '2500',
          CANARY_CLIENT_CERT_SECRET_ARNS: JSON.stringify([ARN]),
        },
        [{ ...endpoint, mutualTls: true, plaintextPorts: [5672] }],
      ),
    );
    expect(c).toMatchObject({
      caBundle: ca.certPem,
      namespace: 'Team/Celery',
      timeoutMs: 2500,
      endpoints: [{ mutualTls: true, plaintextPorts: [5672] }],
      clientCertificateSecrets: [{ arn: ARN, name: 'celery/worker-cert' }],
    });
  });

  test("a PostgreSQL endpoint with its own CA bundle (the runtime's Amazon CAs: RDS chains to the RDS CAs)", () => {
    const pg = {
      name: 'resultBackend',
      host: 'celery.abc.eu-west-1.rds.amazonaws.com',
      port: 5432,
      protocol: 'postgres',
      caFile: '/var/runtime/ca-cert.pem',
    };
    expect(parseCanaryConfig(env({}, [pg])).endpoints).toEqual([{ ...pg, mutualTls: false, plaintextPorts: [] }]);
    expect(() => parseCanaryConfig(env({}, [{ ...pg, caFile: 'ca.pem' }]))).toThrow(
      /^CANARY_ENDPOINTS\[0\]\.caFile is "ca.pem"; expected an absolute path/,
    );
    expect(() => parseCanaryConfig(env({}, [{ ...pg, protocol: 'mysql' }]))).toThrow(
      /^CANARY_ENDPOINTS\[0\]\.protocol is "mysql"; expected "amqp", "redis" or "postgres"/,
    );
  });

  test.each<[string, Record<string, string | undefined>, RegExp]>([
    [
      'CANARY_ENDPOINTS unset',
      { CANARY_ENDPOINTS: undefined },
      /^CANARY_ENDPOINTS is undefined; expected a non-empty JSON list/,
    ],
    ['CANARY_ENDPOINTS not JSON', env({}, '[{name:'), /^CANARY_ENDPOINTS is "\[\{name:"; expected .* \(valid JSON\)/],
    ['CANARY_ENDPOINTS empty', env({}, []), /^CANARY_ENDPOINTS is \[\]; expected a non-empty JSON list/],
    ['an endpoint not an object', env({}, ['broker']), /^CANARY_ENDPOINTS\[0\] is "broker"; expected an object/],
    [
      'an unknown key',
      env({}, [{ ...endpoint, plaintextPort: 5672 }]),
      /^CANARY_ENDPOINTS\[0\] key "plaintextPort" is 5672; expected only the keys name, host, port, protocol, mutualTls, plaintextPorts/,
    ],
    [
      'a name unfit for a dimension',
      env({}, [{ ...endpoint, name: 'my broker' }]),
      /^CANARY_ENDPOINTS\[0\]\.name is "my broker"; expected 1 to 128 characters from/,
    ],
    [
      'no host',
      env({}, [{ ...endpoint, host: '' }]),
      /^CANARY_ENDPOINTS\[0\]\.host is ""; expected a host name or IP address/,
    ],
    [
      'a port out of range',
      env({}, [{ ...endpoint, port: 70000 }]),
      /^CANARY_ENDPOINTS\[0\]\.port is 70000; expected an integer from 1 to 65535/,
    ],
    [
      'a port as a string',
      env({}, [{ ...endpoint, port: '5671' }]),
      /^CANARY_ENDPOINTS\[0\]\.port is "5671"; expected an integer from 1 to 65535/,
    ],
    [
      'an unknown protocol',
      env({}, [{ ...endpoint, protocol: 'amqps' }]),
      /^CANARY_ENDPOINTS\[0\]\.protocol is "amqps"; expected "amqp", "redis" or "postgres"/,
    ],
    [
      'mutualTls not a boolean',
      env({}, [{ ...endpoint, mutualTls: 'yes' }]),
      /^CANARY_ENDPOINTS\[0\]\.mutualTls is "yes"; expected true or false/,
    ],
    [
      'plaintextPorts not ports',
      env({}, [{ ...endpoint, plaintextPorts: [5672, 0] }]),
      /^CANARY_ENDPOINTS\[0\]\.plaintextPorts is \[5672,0\]; expected a list of integers from 1 to 65535/,
    ],
    [
      'two endpoints with one name',
      env({}, [endpoint, { ...endpoint, port: 443 }]),
      /^CANARY_ENDPOINTS is \["broker","broker"\]; expected distinct names \("broker" is the Endpoint dimension twice\)/,
    ],
    [
      'a CA bundle that is not PEM',
      env({ CANARY_CA_BUNDLE: '/etc/ssl/ca.pem' }),
      /^CANARY_CA_BUNDLE is "\/etc\/ssl\/ca.pem"; expected PEM text with at least one -----BEGIN CERTIFICATE----- block/,
    ],
    [
      'a CA bundle OpenSSL cannot read',
      env({ CANARY_CA_BUNDLE: '-----BEGIN CERTIFICATE-----\nnot base64\n-----END CERTIFICATE-----\n' }),
      /^CANARY_CA_BUNDLE is .*; expected PEM text .*, each one readable \(block 1: /,
    ],
    [
      'a namespace reserved for AWS',
      env({ CANARY_NAMESPACE: 'AWS/Canary' }),
      /^CANARY_NAMESPACE is "AWS\/Canary"; expected 1 to 255 printable ASCII characters, not starting with "AWS\/"/,
    ],
    [
      'a timeout that is not a number',
      env({ CANARY_TIMEOUT_MS: '5s' }),
      /^CANARY_TIMEOUT_MS is "5s"; expected an integer number of milliseconds from 100 to 60000/,
    ],
    [
      'secret ARNs not JSON',
      env({ CANARY_CLIENT_CERT_SECRET_ARNS: ARN }),
      /^CANARY_CLIENT_CERT_SECRET_ARNS is "arn:aws:secretsmanager:.*"; expected a JSON list of Secrets Manager secret ARNs .* \(valid JSON\)/,
    ],
    [
      'secret ARNs not a list',
      env({ CANARY_CLIENT_CERT_SECRET_ARNS: JSON.stringify({ worker: ARN }) }),
      /^CANARY_CLIENT_CERT_SECRET_ARNS is \{"worker":.*; expected a JSON list of Secrets Manager secret ARNs/,
    ],
    [
      'a secret ARN of another service',
      env({ CANARY_CLIENT_CERT_SECRET_ARNS: JSON.stringify(['arn:aws:ssm:eu-west-1:111122223333:parameter/x']) }),
      /^CANARY_CLIENT_CERT_SECRET_ARNS\[0\] is "arn:aws:ssm:.*"; expected a JSON list of Secrets Manager secret ARNs/,
    ],
    [
      'two secrets with one name',
      env({ CANARY_CLIENT_CERT_SECRET_ARNS: JSON.stringify([ARN, ARN.replace('AbC123', 'XyZ789')]) }),
      /^CANARY_CLIENT_CERT_SECRET_ARNS is .*; expected secrets with distinct names \("celery\/worker-cert" is the Secret dimension twice\)/,
    ],
  ])('%s: refused with a message naming the variable, the value and what is allowed', (_name, e, message) => {
    expect(() => parseCanaryConfig(e)).toThrow(message);
    expect(() => parseCanaryConfig(e)).toThrow(/The canary's construct sets it/);
  });

  test('a long value is cut short in the message', () => {
    const long = 'x'.repeat(500);
    expect(() => parseCanaryConfig(env({ CANARY_CA_BUNDLE: long }))).toThrow(
      /^CANARY_CA_BUNDLE is "x{76}\.\.\.; expected/,
    );
  });

  test('secret names from ARNs: the random suffix dropped, a partial ARN kept whole', () => {
    expect(secretNameFromArn(ARN)).toBe('celery/worker-cert');
    expect(secretNameFromArn('arn:aws:secretsmanager:eu-west-1:111122223333:secret:celery-worker-cert')).toBe(
      'celery-worker-cert',
    );
    expect(secretNameFromArn('arn:aws-cn:secretsmanager:cn-north-1:111122223333:secret:c_1-abcdef')).toBe('c_1');
    expect(() => secretNameFromArn('celery-worker-cert')).toThrow(
      '"celery-worker-cert" is not a Secrets Manager secret ARN',
    );
  });
});

describe('client-certificate secrets (their celery-tls:not-after tag, read with DescribeSecret)', () => {
  const secret = { arn: ARN, name: 'celery/worker-cert' };
  const tags = (value: Record<string, string>) => async () => value;

  test('days from the tag, rounded down', async () => {
    const now = Date.now();
    const notAfter = new Date(now + 20 * DAY + 3_600_000).toISOString();
    const got = await clientCertificateExpiry(secret, tags({ 'celery-tls:not-after': notAfter, x: 'y' }), now);
    expect(got).toEqual({ secret: 'celery/worker-cert', daysToExpiry: 20 });
    const past = await clientCertificateExpiry(secret, tags({ 'celery-tls:not-after': '2030-01-10T12:00:00Z' }), NOW);
    expect(past).toEqual({ secret: 'celery/worker-cert', daysToExpiry: -5 });
  });

  test.each([
    [
      'a secret it may not describe',
      async () => Promise.reject(Object.assign(new Error('User is not authorized'), { name: 'AccessDeniedException' })),
      /^could not describe arn:.*: AccessDeniedException: User is not authorized$/,
    ],
    ['no tag', tags({ other: 'secret-bytes' }), /has no ISO 8601 "celery-tls:not-after" tag/],
    [
      'a tag that is not a time',
      tags({ 'celery-tls:not-after': 'soon' }),
      /has no ISO 8601 "celery-tls:not-after" tag/,
    ],
  ])('%s: no days, an error without the tags', async (_name, getTags, message) => {
    const got = await clientCertificateExpiry(secret, getTags, NOW);
    expect(got.daysToExpiry).toBeUndefined();
    expect(got.error).toMatch(message);
    expect(got.error).not.toContain('secret-bytes');
  });
});

describe('the handler', () => {
  const endpoints = [
    { name: 'broker', host: 'broker.example', port: 5671, protocol: 'amqp', plaintextPorts: [5672] },
    { name: 'resultBackend', host: 'cache.example', port: 6379, protocol: 'redis', mutualTls: true },
  ];
  const environment = {
    CANARY_ENDPOINTS: JSON.stringify(endpoints),
    CANARY_CLIENT_CERT_SECRET_ARNS: JSON.stringify([ARN]),
    CANARY_TIMEOUT_MS: '1500',
  };

  test('GIVEN a failing check WHEN invoked THEN it publishes it as 0 and returns a summary; it does not throw', async () => {
    const written: string[] = [];
    const seen: unknown[] = [];
    const run = createCanaryHandler({
      env: environment,
      now: () => NOW,
      write: (l) => written.push(l),
      log: () => undefined,
      getTags: async () => ({ 'celery-tls:not-after': '2030-02-14T12:00:00Z', note: 'PRIVATE-KEY-BYTES' }),
      verify: async (t, options) => {
        seen.push({ t, options });
        return t.name === 'broker'
          ? report('broker', { hostname: 'fail' }, { plaintextPorts: [5672] })
          : report('resultBackend', {}, { mutualTls: true });
      },
    });
    const summary = await run();
    expect(seen).toEqual([
      {
        t: {
          name: 'broker',
          host: 'broker.example',
          port: 5671,
          protocol: 'amqp',
          caFile: undefined,
          mutualTls: false,
          plaintextPorts: [5672],
        },
        options: { timeoutMs: 1500 },
      },
      {
        t: expect.objectContaining({ name: 'resultBackend', protocol: 'redis', mutualTls: true, plaintextPorts: [] }),
        options: { timeoutMs: 1500 },
      },
    ]);
    const lines = written.map((l) => JSON.parse(l));
    expect(written.every((l) => !l.includes('\n'))).toBe(true);
    expect(passedByCheck(lines, 'broker')).toEqual({ ...healthy, hostname: 0 });
    expect(passedByCheck(lines, 'resultBackend')).toEqual({ ...healthy, 'client-cert': 1 });
    expect(lines.find((l) => l.Secret)).toMatchObject({
      Secret: 'celery/worker-cert',
      ClientCertificateDaysToExpiry: 30,
    });
    expect(summary).toMatchObject({
      namespace: NS,
      ok: false,
      endpoints: [
        {
          name: 'broker',
          checksFailed: 1,
          daysToExpiry: 200,
          failed: [{ check: 'hostname', detail: 'hostname detail' }],
        },
        { name: 'resultBackend', checksFailed: 0, failed: [] },
      ],
      clientCertificates: [{ secret: 'celery/worker-cert', daysToExpiry: 30 }],
    });
    expect(JSON.stringify(summary) + written.join('')).not.toContain('PRIVATE-KEY-BYTES');
  });

  test('a CA bundle is handed to verify as a file holding exactly that PEM', async () => {
    const ca = await createCertificateAuthority('canary handler CA');
    let caFile: string | undefined;
    await createCanaryHandler({
      env: { ...environment, CANARY_CLIENT_CERT_SECRET_ARNS: '', CANARY_CA_BUNDLE: ca.certPem },
      write: () => undefined,
      log: () => undefined,
      verify: async (t) => {
        caFile = t.caFile;
        return report(t.name);
      },
    })();
    expect(readFileSync(caFile!, 'utf8')).toBe(ca.certPem);
  });

  test('verify throwing unexpectedly: a failed handshake for that endpoint, the others still published', async () => {
    const written: string[] = [];
    const summary = await createCanaryHandler({
      env: { ...environment, CANARY_CLIENT_CERT_SECRET_ARNS: '' },
      write: (l) => written.push(l),
      log: () => undefined,
      verify: async (t) => {
        if (t.name === 'broker') throw new Error('boom\nstack');
        return report(t.name, {}, { mutualTls: true });
      },
    })();
    const lines = written.map((l) => JSON.parse(l));
    expect(passedByCheck(lines, 'broker')).toMatchObject({ handshake: 0, chain: 0 });
    expect(lines.find((l) => l.Endpoint === 'broker' && l.Check === 'handshake').Detail).toBe('canary error: boom');
    expect(passedByCheck(lines, 'resultBackend')).toEqual({ ...healthy, 'client-cert': 1 });
    expect(summary.ok).toBe(false);
  });

  test('a bad configuration throws before any check or line', async () => {
    const written: string[] = [];
    const verify = jest.fn();
    await expect(
      createCanaryHandler({ env: { CANARY_ENDPOINTS: '{}' }, write: (l) => written.push(l), verify })(),
    ).rejects.toThrow(/^CANARY_ENDPOINTS is \{\}; expected a non-empty JSON list/);
    expect(verify).not.toHaveBeenCalled();
    expect(written).toEqual([]);
  });

  test('by default each line goes to stdout as one JSON line, with no prefix', async () => {
    const spy = jest.spyOn(process.stdout, 'write').mockImplementation(() => true);
    try {
      await createCanaryHandler({
        env: { CANARY_ENDPOINTS: JSON.stringify([endpoints[0]]) },
        log: () => undefined,
        verify: async () => report('broker', {}, { plaintextPorts: [5672] }),
      })();
      const out = spy.mock.calls.map(([chunk]) => String(chunk));
      expect(out).toHaveLength(CANARY_CHECKS.length + 1);
      for (const chunk of out) {
        expect(chunk.endsWith('\n')).toBe(true);
        expect(JSON.parse(chunk)._aws.CloudWatchMetrics[0].Namespace).toBe(NS);
      }
    } finally {
      spy.mockRestore();
    }
  });
});
