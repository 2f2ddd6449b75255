import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CeleryConfig, CeleryConfigInput, CeleryEndpoint, ValidationError } from '../../lib/core';
import { PYTHON, tempFile } from './harness';

const FIXTURES = join(__dirname, '..', 'fixtures');

/**
 * The rendered settings with a PostgreSQL result backend, imported by Debian's Celery, SQLAlchemy and psycopg2:
 * what Celery's database backend is configured with and what psycopg2 would be called with (nothing connects; the
 * end-to-end suite runs them against a real TLS-only PostgreSQL).
 */

const CA = tempFile(
  'rds-ca.pem',
  '-----BEGIN CERTIFICATE-----\nnot parsed before a connection\n-----END CERTIFICATE-----\n',
);
const broker: CeleryEndpoint = {
  scheme: 'amqps',
  host: 'b-1234.mq.eu-west-1.on.aws',
  port: 5671,
  username: 'celery',
  secretArn: 'arn:aws:secretsmanager:eu-west-1:111122223333:secret:broker-AbCdEf',
  engine: 'rabbitmq',
  engineVersion: '3.13',
};
const postgres: CeleryEndpoint = {
  scheme: 'postgresql',
  engine: 'postgresql',
  host: 'celery.abc123.eu-west-1.rds.amazonaws.com',
  port: 5432,
  database: 'celery',
  username: 'celery_worker',
  secretArn: 'arn:aws:secretsmanager:eu-west-1:111122223333:secret:pg-worker-GhIjKl',
  secretUsernameField: 'username',
  caCerts: CA,
};
const PASSWORD = 'p/w+%@:!?#x';
const ENV = {
  CELERY_TLS_BROKER_PASSWORD: 'broker-pw',
  CELERY_TLS_RESULT_BACKEND_CREDENTIALS: JSON.stringify({ username: 'celery_worker', password: PASSWORD }),
};

function inspectPostgres(
  input: CeleryConfigInput,
  env: Record<string, string>,
  flavor: 'module' | 'django' = 'module',
) {
  const config = new CeleryConfig(input);
  const dir = mkdtempSync(join(tmpdir(), 'celery-tls-pg-'));
  writeFileSync(join(dir, 'rendered_pg.py'), flavor === 'django' ? config.toDjangoSettings() : config.toPythonModule());
  const r = spawnSync(
    PYTHON,
    [join(__dirname, '..', 'fixtures', 'inspect_postgres_config.py'), dir, 'rendered_pg', flavor],
    {
      env: { PATH: '/usr/bin:/bin', LANG: 'C.UTF-8', PYTHONDONTWRITEBYTECODE: '1', ...env },
      encoding: 'utf8',
      timeout: 60_000,
    },
  );
  const last = r.stdout.trim().split('\n').pop() ?? '';
  try {
    return { status: r.status, json: JSON.parse(last) as Record<string, any>, stderr: r.stderr };
  } catch {
    throw new Error(
      `python3 printed no JSON (status ${r.status}); are python3-sqlalchemy and python3-psycopg2 installed (scripts/install-test-deps)?\n${r.stdout}\n${r.stderr}`,
    );
  }
}

describe('PostgreSQL result backend: what Celery, SQLAlchemy and psycopg2 get', () => {
  const { json: c, status } = inspectPostgres({ broker, resultBackend: postgres }, ENV);

  test('imports cleanly; Celery picks its database backend through the db+ alias', () => {
    expect(c.error).toBeUndefined();
    expect(status).toBe(0);
    expect(c.backend_class).toBe('DatabaseBackend');
    expect(c.result_backend_scheme).toBe('db+postgresql+psycopg2');
    expect(c.drivername).toBe('postgresql+psycopg2');
  });

  test('host, port, database and the role from the secret; the password survives the URL exactly', () => {
    expect(c).toMatchObject({ host: postgres.host, port: 5432, database: 'celery', username: 'celery_worker' });
    expect(c.password).toBe(PASSWORD);
    expect(c.connect_password).toBe(PASSWORD);
  });

  test('psycopg2 is called with verify-full, the CA bundle and TLS 1.2 at least (URL and connect_args agree)', () => {
    const tls = { sslmode: 'verify-full', sslrootcert: CA, ssl_min_protocol_version: 'TLSv1.2' };
    expect(c.query).toEqual(tls);
    expect(c.engine_options.connect_args).toMatchObject(tls);
    expect(c.connect_kwargs).toMatchObject({ ...tls, host: postgres.host, port: 5432, database: 'celery' });
    expect(c.connect_kwargs.connect_timeout).toBe(10);
    expect(c.engine_options.pool_pre_ping).toBe(true);
  });

  test("Celery's tables in schema celery, no table creation, short-lived sessions, retries always", () => {
    expect(c.table_schemas).toEqual({ task: 'celery', group: 'celery' });
    expect(c.task_table).toBe('celery.celery_taskmeta');
    expect(c.create_tables_at_setup).toBe(false);
    expect(c.short_lived_sessions).toBe(true);
    expect(c.always_retry).toBe(true);
  });

  test('the result columns are read as JSON-like values only: a row naming any class is refused, not run', () => {
    expect(c.read_json_like).toEqual({ value: { status: 'SUCCESS', result: [1, 'two', 3.0, null, true], t: [1, 2] } });
    expect(c.read_group_tuple).toEqual({ value: [['group-id', null], [[['task-id', null], null]]] });
    expect(c.read_planted.refused).toMatch(/UnpicklingError: a stored result names builtins\.print/);
    expect(c.read_datetime.refused).toMatch(/names datetime\.datetime/);
  });

  test('a lost connection is retried with backoff; TLS, login, constraint and permission errors are not', () => {
    expect(c.retries_lost_connection).toBe(true);
    expect(c.retries_tls_failure).toBe(false);
    expect(c.retries_login_failure).toBe(false);
    expect(c.retries_integrity_error).toBe(false);
    expect(c.retries_permission_error).toBe(false);
  });
});

describe('PostgreSQL result backend: fail closed at import', () => {
  test.each([
    ['no sslmode', 'db+postgresql://u:p@h/celery', 'no sslmode'],
    ['sslmode=require', 'db+postgresql+psycopg2://u:p@h/celery?sslmode=require', 'sslmode=require'],
    ['sslmode=verify-ca', 'db+postgresql://u:p@h/celery?sslmode=verify-ca', 'sslmode=verify-ca'],
    ['sslmode=prefer', 'db+postgresql://u:p@h/celery?sslmode=prefer', 'sslmode=prefer'],
    [
      'sslmode twice',
      'db+postgresql://u:p@h/celery?sslmode=verify-full&sslmode=disable',
      'sslmode=verify-full,disable',
    ],
    ['another database', 'db+mysql://u:p@h/celery', 'db+mysql://'],
    ['sqlite', 'db+sqlite:///results.db', 'db+sqlite://'],
    [
      'a socket path as host in the query',
      'db+postgresql://u:p@h/celery?sslmode=verify-full&host=/run/pg',
      'host in its query',
    ],
    [
      'an address in the query',
      'db+postgresql://u:p@h/celery?hostaddr=10.0.0.1&sslmode=verify-full',
      'hostaddr in its query',
    ],
  ])('CELERY_RESULT_BACKEND with %s is refused, without echoing the URL', (_what, url, named) => {
    const { json } = inspectPostgres({ broker, resultBackend: postgres }, { ...ENV, CELERY_RESULT_BACKEND: url });
    expect(json.error).toBe('CeleryTLSConfigError');
    expect(json.message).toContain(named);
    expect(json.message).not.toContain('u:p@');
  });

  test('a db+postgresql override with sslmode=verify-full is accepted (TLS options still come from connect_args)', () => {
    const { json } = inspectPostgres(
      { broker, resultBackend: postgres },
      { ...ENV, CELERY_RESULT_BACKEND: 'db+postgresql://u:p@other.example.com/celery?sslmode=verify-full' },
    );
    expect(json.error).toBeUndefined();
    expect(json.host).toBe('other.example.com');
    expect(json.connect_kwargs).toMatchObject({ sslmode: 'verify-full', sslrootcert: CA });
  });

  test('a db+postgresql URL is refused as the broker', () => {
    const { json } = inspectPostgres(
      { broker, resultBackend: postgres },
      { ...ENV, CELERY_BROKER_URL: 'db+postgresql://u:p@h/celery?sslmode=verify-full' },
    );
    expect(json.error).toBe('CeleryTLSConfigError');
    expect(json.message).toContain('CELERY_BROKER_URL');
  });

  test('a missing CA bundle fails and says how the image gets the RDS bundle', () => {
    const { json } = inspectPostgres(
      { broker, resultBackend: { ...postgres, caCerts: undefined } },
      { ...ENV, CELERY_TLS_RESULT_BACKEND_CA_CERTS: '/nonexistent/rds.pem' },
    );
    expect(json.error).toBe('CeleryTLSConfigError');
    expect(json.message).toContain('/nonexistent/rds.pem');
    expect(json.message).toContain('truststore.pki.rds.amazonaws.com');
  });

  test.each(['/var/run/postgresql', 'a.example.com,b.example.com'])('HOST %j is refused: not one DNS name', (host) => {
    const { json } = inspectPostgres(
      { broker, resultBackend: postgres },
      { ...ENV, CELERY_TLS_RESULT_BACKEND_HOST: host },
    );
    expect(json.error).toBe('CeleryTLSConfigError');
    expect(json.message).toContain('is not a DNS name');
  });

  test.each(['SERVER_NAME', 'CERTFILE', 'CLIENT_CERT'])('CELERY_TLS_RESULT_BACKEND_%s is refused', (name) => {
    const { json } = inspectPostgres(
      { broker, resultBackend: postgres },
      { ...ENV, [`CELERY_TLS_RESULT_BACKEND_${name}`]: 'x' },
    );
    expect(json.error).toBe('CeleryTLSConfigError');
    expect(json.message).toContain(`CELERY_TLS_RESULT_BACKEND_${name}`);
  });
});

describe('PostgreSQL result backend: Django', () => {
  const { json: c } = inspectPostgres({ broker, resultBackend: postgres }, ENV, 'django');

  test('Celery reads the same backend through the CELERY_ namespace', () => {
    expect(c.error).toBeUndefined();
    expect(c.backend_class).toBe('DatabaseBackend');
    expect(c.connect_kwargs).toMatchObject({ sslmode: 'verify-full', sslrootcert: CA });
  });

  test('CELERY_TLS_RESULT_DATABASE: a DATABASES entry for django-celery-results with the TLS options', () => {
    expect(c.django_database).toMatchObject({
      ENGINE: 'django.db.backends.postgresql',
      NAME: 'celery',
      USER: 'celery_worker',
      HOST: postgres.host,
      PORT: '5432',
      OPTIONS: { sslmode: 'verify-full', sslrootcert: CA, ssl_min_protocol_version: 'TLSv1.2' },
    });
    expect(c.django_password).toBe(PASSWORD);
  });
});

describe('PostgreSQL endpoints: synth-time checks name the prop', () => {
  const issues = (resultBackend: Partial<CeleryEndpoint>) => {
    try {
      new CeleryConfig({ broker, resultBackend: { ...postgres, ...resultBackend } as CeleryEndpoint });
      return [];
    } catch (e) {
      return (e as ValidationError).issues.map((i) => `${i.prop}: ${i.message}`);
    }
  };

  test.each([
    [{ sslMode: 'require' }, 'resultBackend.sslMode', '"require" is not allowed'],
    [{ sslMode: 'disable' }, 'resultBackend.sslMode', 'only "verify-full"'],
    [{ database: 'Celery-Results' }, 'resultBackend.database', 'lower-case PostgreSQL identifier'],
    [{ db: 1 }, 'resultBackend.db', 'give database'],
    [{ certFile: '/c', keyFile: '/k' }, 'resultBackend.certFile', 'RDS does not authenticate clients by certificate'],
    [{ serverName: 'x.example.com' }, 'resultBackend.serverName', 'does not apply'],
    [{ engine: 'redis' }, 'resultBackend.engine', 'does not match scheme "postgresql"'],
    [{ username: '', secretUsernameField: undefined }, 'resultBackend.username', 'needs a role name'],
  ])('%j is refused', (change, prop, text) => {
    const found = issues(change as Partial<CeleryEndpoint>);
    expect(found.some((m) => m.startsWith(`${prop}:`) && m.includes(text))).toBe(true);
  });

  test('PostgreSQL is refused as the broker', () => {
    expect(() => new CeleryConfig({ broker: postgres })).toThrow(
      /broker.scheme "postgresql" is not allowed: PostgreSQL is a result backend/,
    );
  });

  test('database and sslMode are refused on a Redis endpoint', () => {
    expect(
      () =>
        new CeleryConfig({
          broker,
          resultBackend: { scheme: 'rediss', engine: 'valkey', host: 'h.example.com', port: 6380, database: 'celery' },
        }),
    ).toThrow(/resultBackend.database "celery" applies only to postgresql endpoints/);
  });

  test('the environment names DATABASE and the default CA path (RDS bundle)', () => {
    const env = new CeleryConfig({ broker, resultBackend: { ...postgres, caCerts: undefined } }).toEnvironment();
    expect(env).toMatchObject({
      CELERY_TLS_RESULT_BACKEND_DATABASE: 'celery',
      CELERY_TLS_RESULT_BACKEND_CA_CERTS: '/etc/ssl/certs/rds-global-bundle.pem',
    });
    expect(env).not.toHaveProperty('CELERY_TLS_RESULT_BACKEND_DB');
  });
});

describe('PostgreSQL result backend: a role secret read by ARN is re-read for new connections (rotation)', () => {
  const arn = 'arn:aws:secretsmanager:eu-west-1:111122223333:secret:pg-worker-GhIjKl';
  const run = (refreshSeconds: string) => {
    const dir = mkdtempSync(join(tmpdir(), 'celery-tls-pg-refresh-'));
    const config = new CeleryConfig({ broker, resultBackend: { ...postgres, host: 'db.example.com', secretArn: arn } });
    writeFileSync(join(dir, 'rendered_refresh.py'), config.toPythonModule());
    const secrets = join(dir, 'secrets.json');
    writeFileSync(
      secrets,
      JSON.stringify({ [arn]: JSON.stringify({ username: 'celery_worker', password: 'first-pw' }) }),
    );
    const r = spawnSync(
      PYTHON,
      [
        join(FIXTURES, 'postgres_refresh.py'),
        dir,
        'rendered_refresh',
        JSON.stringify({ username: 'celery_worker_alt', password: 'rotated-pw' }),
      ],
      {
        env: {
          PATH: '/usr/bin:/bin',
          LANG: 'C.UTF-8',
          PYTHONDONTWRITEBYTECODE: '1',
          PYTHONPATH: join(FIXTURES, 'stub-boto3'),
          STUB_SECRETS_FILE: secrets,
          STUB_CALLS_FILE: join(dir, 'calls.jsonl'),
          CELERY_TLS_BROKER_PASSWORD: 'broker-pw',
          CELERY_TLS_RESULT_BACKEND_SECRET_REFRESH_SECONDS: refreshSeconds,
        },
        encoding: 'utf8',
        timeout: 60_000,
      },
    );
    if (r.status !== 0) throw new Error(`${r.stdout}\n${r.stderr}`);
    return JSON.parse(r.stdout.trim().split('\n').pop()!);
  };

  test('after the refresh interval a new connection logs in as the rotated role with its new password', () => {
    expect(run('0')).toEqual({
      first: ['celery_worker', 'first-pw'],
      after: ['celery_worker_alt', 'rotated-pw'],
      // The URL's own credentials go to any other host: the refresh is for this database only.
      other_host: ['celery_worker', 'first-pw'],
      // And for Celery's connections only: another engine on the same server keeps its own login.
      other_engine: ['app_owner', 'app-pw'],
    });
  });

  test('within the interval the value read at start-up is kept (no Secrets Manager call per connection)', () => {
    expect(run('300').after).toEqual(['celery_worker', 'first-pw']);
  });
});
