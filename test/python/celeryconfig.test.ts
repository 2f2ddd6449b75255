import { existsSync, readFileSync } from 'node:fs';
import { CeleryConfig, CeleryConfigInput, ResolveContext } from '../../lib/core';
import { inspect, tempFile } from './harness';

const BROKER_ARN = 'arn:aws:secretsmanager:eu-west-1:111122223333:secret:broker-AbCdEf';
const BACKEND_ARN = 'arn:aws:secretsmanager:eu-west-1:111122223333:secret:backend-GhIjKl';
const amqps = {
  scheme: 'amqps' as const,
  host: 'b-1234.mq.eu-west-1.on.aws',
  port: 5671,
  vhost: '/',
  username: 'celeryadmin',
  secretArn: BROKER_ARN,
  engine: 'rabbitmq',
  engineVersion: '3.13',
};
const rediss = {
  scheme: 'rediss' as const,
  host: 'master.celery.abc123.euw1.cache.amazonaws.com',
  port: 6380,
  db: 0,
  username: '',
  secretArn: BACKEND_ARN,
  engine: 'valkey',
  engineVersion: '8.2',
};
const PASSWORDS = { CELERY_TLS_BROKER_PASSWORD: 'broker-pw', CELERY_TLS_RESULT_BACKEND_PASSWORD: 'backend-token' };

const render = (input: CeleryConfigInput, ctx?: ResolveContext) => new CeleryConfig(input, ctx).toPythonModule('test');

describe('celeryconfig.py imported by python3 with Debian Celery: amqps broker + rediss backend', () => {
  const r = inspect(render({ broker: amqps, resultBackend: rediss }), { env: PASSWORDS });
  const c = r.json;

  test('imports cleanly', () => {
    expect(c.error).toBeUndefined();
    expect(r.status).toBe(0);
  });

  test('broker: amqps URL, py-amqp key family, verification required, hostname named', () => {
    expect(c.broker_parts).toMatchObject({
      scheme: 'amqps',
      hostname: amqps.host,
      port: 5671,
      username: 'celeryadmin',
      password: 'broker-pw',
      path: '/',
    });
    expect(c.broker_use_ssl).toEqual({ cert_reqs: 'CERT_REQUIRED', server_hostname: amqps.host });
    expect(c.broker_url).not.toContain('?');
  });

  test('result backend: rediss URL, ssl_cert_reqs required, hostname checks on, accepted by Celery', () => {
    expect(c.result_backend.startsWith(`rediss://:backend-token@${rediss.host}:6380/0`)).toBe(true);
    expect(c.result_backend).not.toContain('?');
    expect(c.redis_backend_use_ssl).toMatchObject({ ssl_cert_reqs: 'CERT_REQUIRED', ssl_check_hostname: true });
    expect(c.backend_class).toBe('RedisBackend');
    expect(c.backend_connparams).toMatchObject({
      connection_class: 'SSLConnection',
      ssl_cert_reqs: 'CERT_REQUIRED',
      ssl_check_hostname: true,
      host: rediss.host,
      port: 6380,
      db: 0,
      password: 'backend-token',
    });
  });

  test('the Redis backend retries connection errors (and only those) on this Celery', () => {
    expect(c.backend_retries_connection_errors).toBe(true);
    expect(c.backend_retries_other_errors).toBe(false);
  });

  test('reliability settings', () => {
    expect(c).toMatchObject({
      task_acks_late: true,
      task_reject_on_worker_lost: true,
      worker_prefetch_multiplier: 1,
      broker_connection_retry_on_startup: true,
      task_publish_retry: true,
      task_publish_retry_policy: { max_retries: 14, interval_start: 0, interval_step: 1, interval_max: 5 },
      broker_transport_options: { confirm_publish: true },
      result_backend_always_retry: true,
      result_backend_max_retries: 20,
      result_backend_base_sleep_between_retries_ms: 100,
      result_backend_max_sleep_between_retries_ms: 10000,
      redis_socket_keepalive: true,
      redis_retry_on_timeout: true,
      redis_backend_health_check_interval: 25,
      task_serializer: 'json',
      result_serializer: 'json',
      accept_content: ['json'],
      result_accept_content: ['json'],
    });
    expect(c.task_default_queue_type).not.toBe('quorum');
  });
});

describe('credentials are percent-encoded: a round trip through kombu and Celery', () => {
  const nasty = 'p/?#[]%;@:w+!';
  const r = inspect(
    render({ broker: { ...amqps, username: 'cel.ery-user_1' }, resultBackend: { ...rediss, username: 'app' } }),
    {
      env: {
        CELERY_TLS_BROKER_PASSWORD: nasty,
        CELERY_TLS_RESULT_BACKEND_PASSWORD: nasty,
        CELERY_TLS_RESULT_BACKEND_USERNAME: 'app',
      },
    },
  );

  test('kombu parses back the exact user and password', () => {
    expect(r.json.broker_parts).toMatchObject({
      username: 'cel.ery-user_1',
      password: nasty,
      hostname: amqps.host,
      port: 5671,
    });
  });

  test('Celery redis backend parses back the exact password', () => {
    expect(r.json.backend_connparams).toMatchObject({ password: nasty, username: 'app', host: rediss.host });
  });

  test('the raw password never appears unencoded in the URL', () => {
    expect(r.json.broker_url).not.toContain(nasty);
    expect(r.json.broker_url).toContain('p%2F%3F%23%5B%5D%25%3B%40%3Aw%2B%21');
  });
});

describe('Redis as broker', () => {
  const r = inspect(
    render({
      broker: { ...rediss, db: 0 },
      resultBackend: { ...rediss, db: 1 },
      options: { visibilityTimeoutSeconds: 7200 },
    }),
    {
      env: { CELERY_TLS_BROKER_PASSWORD: 'tok', CELERY_TLS_RESULT_BACKEND_PASSWORD: 'tok' },
    },
  );

  test('broker_use_ssl is a dict of redis-py ssl_* keys (never True), no TLS options in the URL', () => {
    expect(r.json.broker_use_ssl).toMatchObject({ ssl_cert_reqs: 'CERT_REQUIRED', ssl_check_hostname: true });
    expect(Object.keys(r.json.broker_use_ssl).every((k) => k.startsWith('ssl_'))).toBe(true);
    expect(r.json.broker_url).toBe(`rediss://:tok@${rediss.host}:6380/0`);
  });

  test('visibility timeout and health checks in broker_transport_options', () => {
    expect(r.json.broker_transport_options).toEqual({
      visibility_timeout: 7200,
      socket_keepalive: true,
      health_check_interval: 25,
      retry_on_timeout: true,
    });
  });

  test('the result backend uses its own database', () => {
    expect(r.json.backend_connparams.db).toBe(1);
  });
});

describe('fail closed at import', () => {
  const source = render({ broker: amqps, resultBackend: rediss });
  const refused = (env: Record<string, string>) => inspect(source, { env: { ...PASSWORDS, ...env } }).json;

  test.each([
    ['CELERY_BROKER_URL', 'amqp://u:p@host:5672//', 'amqp://'],
    ['CELERY_BROKER_URL', 'redis://:p@host:6379/0', 'redis://'],
    ['CELERY_RESULT_BACKEND', 'redis://:p@host:6379/0', 'redis://'],
    ['CELERY_BROKER_READ_URL', 'amqp://host//', 'amqp://'],
    ['CELERY_BROKER_WRITE_URL', 'amqps://host//;amqp://other//', 'amqp://'],
    ['CELERY_RESULT_BACKEND', 'rpc://', 'rpc://'],
  ])('%s=%s raises', (name, value, scheme) => {
    const c = refused({ [name]: value });
    expect(c.error).toBe('CeleryTLSConfigError');
    expect(c.message).toContain(name);
    expect(c.message).toContain(scheme);
    expect(c.message).not.toContain(':p@');
  });

  test('a rediss URL that turns verification off raises', () => {
    const c = refused({ CELERY_RESULT_BACKEND: 'rediss://:p@host:6380/0?ssl_cert_reqs=none' });
    expect(c).toMatchObject({ error: 'CeleryTLSConfigError' });
    expect(c.message).toContain('ssl_cert_reqs=none');
  });

  test('a TLS URL in the environment is accepted', () => {
    expect(refused({ CELERY_BROKER_URL: `amqps://u:p@${amqps.host}:5671//` }).error).toBeUndefined();
  });

  test('no password and no secret ARN raises with both variable names', () => {
    const c = inspect(render({ broker: { ...amqps, secretArn: undefined } }), {}).json;
    expect(c.error).toBe('CeleryTLSConfigError');
    expect(c.message).toContain('CELERY_TLS_BROKER_PASSWORD');
    expect(c.message).toContain('CELERY_TLS_BROKER_SECRET_ARN');
  });

  test('no variable can turn verification off: CA and host overrides keep CERT_REQUIRED and hostname checks', () => {
    const ca = tempFile('ca.pem', '');
    const c = inspect(source, {
      env: { ...PASSWORDS, CELERY_TLS_BROKER_HOST: 'other.example.com', CELERY_TLS_BROKER_CA_CERTS: ca },
    }).json;
    expect(c.broker_use_ssl).toEqual({
      cert_reqs: 'CERT_REQUIRED',
      server_hostname: 'other.example.com',
      ca_certs: ca,
    });
  });

  test('a server name (tunnel): the URL keeps the tunnel host, py-amqp checks the certificate against the name', () => {
    const tunnel = inspect(render({ broker: { ...amqps, serverName: amqps.host }, resultBackend: rediss }), {
      env: { ...PASSWORDS, CELERY_TLS_BROKER_HOST: 'localhost', CELERY_TLS_BROKER_PORT: '15671' },
    }).json;
    expect(tunnel.broker_parts).toMatchObject({ hostname: 'localhost', port: 15671 });
    expect(tunnel.broker_use_ssl).toEqual({ cert_reqs: 'CERT_REQUIRED', server_hostname: amqps.host });
    const fromEnv = inspect(source, {
      env: {
        ...PASSWORDS,
        CELERY_TLS_BROKER_HOST: 'localhost',
        CELERY_TLS_BROKER_SERVER_NAME: 'b-9.mq.eu-west-1.on.aws',
      },
    }).json;
    expect(fromEnv.broker_use_ssl).toEqual({ cert_reqs: 'CERT_REQUIRED', server_hostname: 'b-9.mq.eu-west-1.on.aws' });
  });

  test('a server name for the Redis result backend raises: redis-py checks the host it connects to', () => {
    const c = inspect(source, { env: { ...PASSWORDS, CELERY_TLS_RESULT_BACKEND_SERVER_NAME: rediss.host } }).json;
    expect(c).toMatchObject({ error: 'CeleryTLSConfigError' });
    expect(c.message).toContain('/etc/hosts');
  });

  test('a client certificate without its key raises', () => {
    const c = inspect(source, { env: { ...PASSWORDS, CELERY_TLS_BROKER_CERTFILE: '/tmp/cert.pem' } }).json;
    expect(c).toMatchObject({ error: 'CeleryTLSConfigError' });
    expect(c.message).toContain('CELERY_TLS_BROKER_KEYFILE');
  });

  test('RabbitMQ 4 (quorum queues) on Celery older than 5.5 raises with the reason', () => {
    const c = inspect(render({ broker: { ...amqps, engineVersion: '4.2' } }), { env: PASSWORDS }).json;
    expect(c.error).toBe('CeleryTLSConfigError');
    expect(c.message).toMatch(/Celery 5\.2\.\d+ is too old: .*quorum/);
  });
});

describe('secrets are read at start-up from Secrets Manager when no password variable is set', () => {
  test('boto3 is asked for the ARN in the ARN region and the password field is used', () => {
    const secrets = tempFile(
      'secrets.json',
      JSON.stringify({
        [BROKER_ARN]: JSON.stringify({ username: 'celeryadmin', password: 'from-sm/broker' }),
        [BACKEND_ARN]: JSON.stringify({ password: 'from-sm-token' }),
      }),
    );
    const calls = tempFile('calls.jsonl', '');
    const c = inspect(render({ broker: amqps, resultBackend: rediss }), {
      stubBoto3: true,
      env: { STUB_SECRETS_FILE: secrets, STUB_CALLS_FILE: calls },
    }).json;
    expect(c.error).toBeUndefined();
    expect(c.broker_parts.password).toBe('from-sm/broker');
    expect(c.backend_connparams.password).toBe('from-sm-token');
    const log = readFileSync(calls, 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    expect(log).toEqual([
      { SecretId: BROKER_ARN, region: 'eu-west-1' },
      { SecretId: BACKEND_ARN, region: 'eu-west-1' },
    ]);
  });

  test('a password variable wins over the secret ARN (boto3 is not called)', () => {
    const calls = tempFile('calls.jsonl', '');
    const c = inspect(render({ broker: amqps }), {
      stubBoto3: true,
      env: { CELERY_TLS_BROKER_PASSWORD: 'env-pw', STUB_SECRETS_FILE: '/nonexistent', STUB_CALLS_FILE: calls },
    }).json;
    expect(c.broker_parts.password).toBe('env-pw');
    expect(readFileSync(calls, 'utf8')).toBe('');
  });
});

describe('rotating user names (RabbitMQ application users): the whole secret, its user name wins', () => {
  const rotating = { ...amqps, username: 'celery-worker', secretUsernameField: 'username' };

  test('CELERY_TLS_BROKER_CREDENTIALS (one ECS secret) gives user name and password of one version', () => {
    const c = inspect(render({ broker: rotating }), {
      env: {
        CELERY_TLS_BROKER_CREDENTIALS: JSON.stringify({ username: 'celery-worker.alt', password: 'rot/ated:pw@1' }),
      },
    }).json;
    expect(c.error).toBeUndefined();
    expect(c.broker_parts.username).toBe('celery-worker.alt');
    expect(c.broker_parts.password).toBe('rot/ated:pw@1');
  });

  test("read by ARN at start-up, the secret's user name wins over the rendered one", () => {
    const secrets = tempFile(
      'secrets.json',
      JSON.stringify({ [BROKER_ARN]: JSON.stringify({ username: 'celery-worker.alt', password: 'from-sm' }) }),
    );
    const c = inspect(render({ broker: rotating }), {
      stubBoto3: true,
      env: { STUB_SECRETS_FILE: secrets, STUB_CALLS_FILE: tempFile('calls.jsonl', '') },
    }).json;
    expect(c.broker_parts.username).toBe('celery-worker.alt');
    expect(c.broker_parts.password).toBe('from-sm');
  });

  test('without secretUsernameField a user name in the secret is ignored (the admin-style secret of a fixed user)', () => {
    const c = inspect(render({ broker: amqps }), {
      env: { CELERY_TLS_BROKER_CREDENTIALS: JSON.stringify({ username: 'someone-else', password: 'pw' }) },
    }).json;
    expect(c.broker_parts.username).toBe('celeryadmin');
    expect(c.broker_parts.password).toBe('pw');
  });

  test('CREDENTIALS without the password field fails and names the variable, without echoing the secret', () => {
    const c = inspect(render({ broker: rotating }), {
      env: { CELERY_TLS_BROKER_CREDENTIALS: JSON.stringify({ username: 'u', pass: 'NotShownAnywhere' }) },
    }).json;
    expect(c.error).toBe('CeleryTLSConfigError');
    expect(c.message).toContain('CELERY_TLS_BROKER_CREDENTIALS has no field');
    expect(c.message).not.toContain('NotShownAnywhere');
  });

  test('the rendered module names CREDENTIALS, not USERNAME, for such an endpoint', () => {
    const source = render({ broker: rotating });
    expect(source).toContain('CELERY_TLS_BROKER_CREDENTIALS');
    expect(new CeleryConfig({ broker: rotating }).toEnvironment()).not.toHaveProperty('CELERY_TLS_BROKER_USERNAME');
  });
});

describe('client certificate from a secret (mutual TLS with EXTERNAL login)', () => {
  const CERT_ARN = 'arn:aws:secretsmanager:eu-west-1:111122223333:secret:celery-worker-cert-AbCdEf';
  const mtls = { ...amqps, username: 'celery-worker', loginMethod: 'EXTERNAL' as const, clientCertSecretArn: CERT_ARN };
  const CERT = '-----BEGIN CERTIFICATE-----\nMIIBleaf\n-----END CERTIFICATE-----';
  const CHAIN = '-----BEGIN CERTIFICATE-----\nMIIBca\n-----END CERTIFICATE-----\n';
  const KEY = '-----BEGIN PRIVATE KEY-----\nMIIEvQNotShownAnywhere\n-----END PRIVATE KEY-----\n';
  const secret = JSON.stringify({ certificate: CERT, certificate_chain: CHAIN, private_key: KEY });

  test('CELERY_TLS_BROKER_CLIENT_CERT: certificate + chain and key written to 0600 files in a 0700 directory, removed at exit', () => {
    const c = inspect(render({ broker: mtls }), { env: { CELERY_TLS_BROKER_CLIENT_CERT: secret } }).json;
    expect(c.error).toBeUndefined();
    expect(c.broker_login_method).toBe('EXTERNAL');
    expect(c.broker_use_ssl).toMatchObject({ cert_reqs: 'CERT_REQUIRED', server_hostname: amqps.host });
    expect(c.broker_files.certfile).toMatchObject({ mode: '0o600', dir_mode: '0o700', content: `${CERT}\n${CHAIN}` });
    expect(c.broker_files.keyfile).toMatchObject({ mode: '0o600', content: KEY });
    expect(existsSync(c.broker_files.keyfile.path)).toBe(false);
    // EXTERNAL: no password in the URL, the user name only
    expect(c.broker_parts.password).toBeNull();
  });

  test('read by ARN at start-up when not injected', () => {
    const secrets = tempFile('secrets.json', JSON.stringify({ [CERT_ARN]: secret }));
    const calls = tempFile('calls.jsonl', '');
    const c = inspect(render({ broker: mtls }), {
      stubBoto3: true,
      env: { STUB_SECRETS_FILE: secrets, STUB_CALLS_FILE: calls },
    }).json;
    expect(c.error).toBeUndefined();
    expect(c.broker_files.keyfile.content).toBe(KEY);
    expect(
      readFileSync(calls, 'utf8')
        .trim()
        .split('\n')
        .map((l) => JSON.parse(l)),
    ).toEqual([{ SecretId: CERT_ARN, region: 'eu-west-1' }]);
  });

  test('CERTFILE and KEYFILE win: no secret is read, no file is written', () => {
    const c = inspect(
      render({
        broker: {
          ...mtls,
          clientCertSecretArn: undefined,
          certFile: '/etc/celery/client.crt',
          keyFile: '/etc/celery/client.key',
        },
      }),
      { env: { CELERY_TLS_BROKER_CLIENT_CERT: secret } },
    ).json;
    expect(c.broker_use_ssl).toMatchObject({ certfile: '/etc/celery/client.crt', keyfile: '/etc/celery/client.key' });
  });

  test('an encrypted key or a secret without the key is refused, without echoing it', () => {
    for (const bad of [
      JSON.stringify({
        certificate: CERT,
        private_key: '-----BEGIN ENCRYPTED PRIVATE KEY-----\nMIIENotShownAnywhere\n-----END ENCRYPTED PRIVATE KEY-----',
      }),
      JSON.stringify({ certificate: CERT, key: KEY }),
    ]) {
      const c = inspect(render({ broker: mtls }), { env: { CELERY_TLS_BROKER_CLIENT_CERT: bad } }).json;
      expect(c.error).toBe('CeleryTLSConfigError');
      expect(c.message).toContain('CELERY_TLS_BROKER_CLIENT_CERT');
      expect(c.message).not.toContain('NotShownAnywhere');
    }
  });
});

describe('settings rendered at synth time (deploy-time host names)', () => {
  const TOKEN = '${Token[AmqpHost.12]}';
  const ctx: ResolveContext = { isUnresolved: (v) => typeof v === 'string' && v.includes('${Token[') };
  const source = render({ broker: { ...amqps, host: TOKEN, secretArn: '${Token[Arn.3]}' } }, ctx);

  test('the token is never written into the module', () => {
    expect(source).not.toContain('${Token');
  });

  test('without CELERY_TLS_BROKER_HOST the import fails and names the variable', () => {
    const c = inspect(source, { env: { CELERY_TLS_BROKER_PASSWORD: 'x' } }).json;
    expect(c).toMatchObject({ error: 'CeleryTLSConfigError' });
    expect(c.message).toContain('CELERY_TLS_BROKER_HOST');
  });

  test('with the environment from bindToContainer it resolves', () => {
    const c = inspect(source, {
      env: { CELERY_TLS_BROKER_PASSWORD: 'x', CELERY_TLS_BROKER_HOST: 'b-9.mq.us-east-1.on.aws' },
    }).json;
    expect(c.broker_use_ssl.server_hostname).toBe('b-9.mq.us-east-1.on.aws');
  });
});

describe('Django settings block (CELERY_ namespace)', () => {
  const r = inspect(new CeleryConfig({ broker: amqps, resultBackend: rediss }).toDjangoSettings(), {
    flavor: 'django',
    env: PASSWORDS,
  });

  test('Celery reads the same TLS settings through the namespace', () => {
    expect(r.json.error).toBeUndefined();
    expect(r.json.broker_use_ssl).toEqual({ cert_reqs: 'CERT_REQUIRED', server_hostname: amqps.host });
    expect(r.json.redis_backend_use_ssl).toMatchObject({ ssl_cert_reqs: 'CERT_REQUIRED', ssl_check_hostname: true });
    expect(r.json.task_acks_late).toBe(true);
    expect(r.json.backend_connparams.connection_class).toBe('SSLConnection');
  });

  test('a plaintext CELERY_BROKER_URL makes settings.py fail too', () => {
    const c = inspect(new CeleryConfig({ broker: amqps }).toDjangoSettings(), {
      flavor: 'django',
      env: { ...PASSWORDS, CELERY_BROKER_URL: 'amqp://x//' },
    }).json;
    expect(c.error).toBe('CeleryTLSConfigError');
  });
});

describe('mutual TLS files and EXTERNAL login', () => {
  test('certfile/keyfile in the py-amqp dict and the EXTERNAL login method', () => {
    const c = inspect(
      render({
        broker: {
          ...amqps,
          certFile: '/run/celery/client.pem',
          keyFile: '/run/celery/client.key',
          caCerts: '/run/celery/ca.pem',
          loginMethod: 'EXTERNAL',
          secretArn: undefined,
        },
      }),
      {},
    ).json;
    expect(c.error).toBeUndefined();
    expect(c.broker_use_ssl).toEqual({
      cert_reqs: 'CERT_REQUIRED',
      server_hostname: amqps.host,
      ca_certs: '/run/celery/ca.pem',
      certfile: '/run/celery/client.pem',
      keyfile: '/run/celery/client.key',
    });
    expect(c.broker_login_method).toBe('EXTERNAL');
  });
});
