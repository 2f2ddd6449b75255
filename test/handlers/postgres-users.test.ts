/**
 * The PostgreSQL users function against a real TLS-only PostgreSQL (Debian's postgresql, run as its unprivileged
 * `postgres` user when we are root): one server for the file, `hostssl` lines only, log_statement = all. The master
 * user is RDS's counterpart (LOGIN CREATEROLE CREATEDB, not a superuser, owner of postgres and template1). What the
 * roles may do is asserted by connecting as them; Celery's own DatabaseBackend then stores and reads a result.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { chownSync, existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client } from 'pg';
import { createCertificateAuthority, issueCertificate, type IssuedCertificate } from '../../lib/dev/pki';
import { handlerAssetDir } from '../../lib/core/assets';
import { postgresDropRoleStatement, scramSha256Verifier } from '../../lib/core/postgres-users';
import {
  createHandler,
  createInvocationHandler,
  createRotationHandler,
  onEvent as entryOnEvent,
  onInvocation as entryOnInvocation,
} from '../../lib/handlers/postgres-users';
import type {
  PostgresRotationConfig,
  PostgresUsersEvent,
  PostgresUsersProperties,
  RotationEvent,
} from '../../lib/handlers/postgres-users';
import { FakeSecrets } from './fake-secrets';

// Long, distinctive passwords: a leak into any log, message or response is found by a substring search.
const SUPERUSER_PASSWORD = 'SuperuserPassw0rdHarnessZ';
const MASTER = { username: 'rds_master', password: 'MasterPassw0rdSecretM' };
const WORKER = { username: 'celery_worker', password: 'WorkerPassw0rdSecretW1' };
const WORKER_ROTATED = { username: 'celery_worker', password: 'WorkerPassw0rdRotatedW2' };
const PRODUCER = { username: 'celery_producer', password: 'ProducerPassw0rdSecretP1' };
const ALL_PASSWORDS = [
  SUPERUSER_PASSWORD,
  MASTER.password,
  WORKER.password,
  WORKER_ROTATED.password,
  PRODUCER.password,
];

const ARN = {
  master: 'arn:aws:secretsmanager:eu-west-1:111122223333:secret:rds!db-master',
  worker: 'arn:aws:secretsmanager:eu-west-1:111122223333:secret:celery/pg-worker',
  workerRotated: 'arn:aws:secretsmanager:eu-west-1:111122223333:secret:celery/pg-worker-2',
  rotatedWorker: 'arn:aws:secretsmanager:eu-west-1:111122223333:secret:celery/pg-worker-rotating',
  rotatedProducer: 'arn:aws:secretsmanager:eu-west-1:111122223333:secret:celery/pg-producer-rotating',
  producer: 'arn:aws:secretsmanager:eu-west-1:111122223333:secret:celery/pg-producer',
};

/** The newest PostgreSQL server installed the Debian way; the suite fails (never skips) without one. */
function postgresBin(): string {
  const base = '/usr/lib/postgresql';
  const versions = existsSync(base)
    ? readdirSync(base)
        .filter((v) => existsSync(join(base, v, 'bin', 'postgres')))
        .sort((a, b) => Number(b) - Number(a))
    : [];
  if (!versions.length)
    throw new Error(
      `no PostgreSQL server under ${base}/<version>/bin: install it (apt-get install postgresql, or scripts/install-e2e-deps)`,
    );
  return join(base, versions[0], 'bin');
}

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address() as { port: number };
      s.close(() => resolve(port));
    });
  });
}

/** Debian's postgres user when we are root (PostgreSQL refuses to run as root), else ourselves. */
function serverUser(): { uid: number; gid: number } | undefined {
  if (process.getuid?.() !== 0) return undefined;
  const line = readFileSync('/etc/passwd', 'utf8')
    .split('\n')
    .find((l) => l.startsWith('postgres:'));
  if (!line) throw new Error('running as root needs the postgres user (apt-get install postgresql)');
  const [, , uid, gid] = line.split(':');
  return { uid: Number(uid), gid: Number(gid) };
}

class TlsPostgres {
  readonly dir = mkdtempSync(join(tmpdir(), 'pgu-'));
  readonly data = join(this.dir, 'data');
  readonly log = join(this.dir, 'server.log');
  readonly user = serverUser();
  port = 0;

  constructor(private readonly bin: string) {}

  private run(cmd: string, args: string[]): string {
    const full = this.user
      ? ['/usr/bin/setpriv', [`--reuid=${this.user.uid}`, `--regid=${this.user.gid}`, '--clear-groups', cmd, ...args]]
      : [cmd, args];
    const r = spawnSync(full[0] as string, full[1] as string[], { encoding: 'utf8', timeout: 60_000 });
    if (r.status !== 0) throw new Error(`${cmd} failed (${r.status}): ${r.stderr}${r.stdout}`);
    return r.stdout;
  }

  private own(path: string): void {
    if (this.user) chownSync(path, this.user.uid, this.user.gid);
  }

  async start(server: IssuedCertificate): Promise<void> {
    this.own(this.dir);
    this.port = await freePort();
    const pw = join(this.dir, 'pw');
    writeFileSync(pw, SUPERUSER_PASSWORD, { mode: 0o600 });
    this.own(pw);
    this.run(join(this.bin, 'initdb'), [
      '-D',
      this.data,
      '-U',
      'postgres',
      '--pwfile',
      pw,
      '-A',
      'scram-sha-256',
      '-E',
      'UTF8',
      '--locale=C.UTF-8',
    ]);
    rmSync(pw);
    for (const [name, text, mode] of [
      ['server.crt', server.certPem, 0o644],
      ['server.key', server.keyPem, 0o600],
    ] as const) {
      writeFileSync(join(this.data, name), text, { mode });
      this.own(join(this.data, name));
    }
    const conf = [
      "listen_addresses = 'localhost'",
      `port = ${this.port}`,
      `unix_socket_directories = '${this.dir}'`,
      'ssl = on',
      "ssl_cert_file = 'server.crt'",
      "ssl_key_file = 'server.key'",
      "ssl_min_protocol_version = 'TLSv1.2'",
      "password_encryption = 'scram-sha-256'",
      "log_statement = 'all'",
      "log_line_prefix = '%m %u@%d '",
      "dynamic_shared_memory_type = 'sysv'",
      "lc_messages = 'C'",
    ];
    writeFileSync(join(this.data, 'postgresql.conf'), conf.join('\n') + '\n', { flag: 'a' });
    // TCP with TLS only: no `host` and no `local` line, so plaintext finds no entry.
    writeFileSync(
      join(this.data, 'pg_hba.conf'),
      'hostssl all all 127.0.0.1/32 scram-sha-256\nhostssl all all ::1/128 scram-sha-256\n',
    );
    this.run(join(this.bin, 'pg_ctl'), ['-D', this.data, '-l', this.log, '-w', '-t', '60', 'start']);
  }

  async stop(): Promise<void> {
    if (existsSync(join(this.data, 'postmaster.pid')))
      this.run(join(this.bin, 'pg_ctl'), ['-D', this.data, '-m', 'fast', '-w', 'stop']);
    rmSync(this.dir, { recursive: true, force: true });
  }

  serverLog(): string {
    return readFileSync(this.log, 'utf8');
  }
}

let ca: IssuedCertificate;
let rogueCa: IssuedCertificate;
let pg: TlsPostgres;
const secrets = new FakeSecrets();
const logs: string[] = [];
const deps = {
  getSecret: async (arn: string) => {
    const value = await secrets.get(arn, { stage: 'AWSCURRENT' });
    if (value === undefined) throw new Error(`no secret ${arn}`);
    return value;
  },
  log: (line: string) => logs.push(line),
};
const onEvent = createHandler(deps);
const onInvocation = createInvocationHandler(deps);

/** A client over verified TLS (the test's own CA), as `user`. */
async function connect(user: { username: string; password: string }, database = 'celery'): Promise<Client> {
  const c = new Client({
    host: 'localhost',
    port: pg.port,
    database,
    user: user.username,
    password: user.password,
    ssl: { ca: ca.certPem, rejectUnauthorized: true, minVersion: 'TLSv1.2' },
    connectionTimeoutMillis: 5000,
  });
  c.on('error', () => undefined);
  await c.connect();
  return c;
}

const SUPERUSER = { username: 'postgres', password: SUPERUSER_PASSWORD };

async function asUser<T>(
  user: { username: string; password: string },
  fn: (c: Client) => Promise<T>,
  database = 'celery',
): Promise<T> {
  const c = await connect(user, database);
  try {
    return await fn(c);
  } finally {
    await c.end();
  }
}

/** The SQLSTATE a statement fails with as `user` (undefined when it succeeds). */
async function sqlState(user: { username: string; password: string }, sql: string): Promise<string | undefined> {
  return asUser(user, (c) =>
    c.query(sql).then(
      () => undefined,
      (e: { code?: string }) => e.code ?? 'no code',
    ),
  );
}

/** A role's privileges on the database, the schema, the tables and the sequences, comparable between roles. */
async function grantsOf(role: string): Promise<string[]> {
  return asUser(SUPERUSER, async (c) => {
    const r = await c.query(
      `SELECT x.what || ':' || x.privilege AS p FROM (
         SELECT 'database' AS what, p AS privilege FROM unnest(ARRAY['CONNECT','TEMPORARY','CREATE']) p
           WHERE has_database_privilege($1, 'celery', p)
         UNION ALL SELECT 'schema', p FROM unnest(ARRAY['USAGE','CREATE']) p WHERE has_schema_privilege($1, 'celery', p)
         UNION ALL SELECT c.relname, p FROM pg_class c, unnest(ARRAY['SELECT','INSERT','UPDATE','DELETE','TRUNCATE','REFERENCES','TRIGGER']) p
           WHERE c.relnamespace = 'celery'::regnamespace AND c.relkind = 'r' AND has_table_privilege($1, c.oid, p)
         UNION ALL SELECT c.relname, p FROM pg_class c, unnest(ARRAY['USAGE','SELECT','UPDATE']) p
           WHERE c.relnamespace = 'celery'::regnamespace AND c.relkind = 'S' AND has_sequence_privilege($1, c.oid, p)
       ) x ORDER BY 1`,
      [role],
    );
    return r.rows.map((row) => row.p as string);
  });
}

/** The SQLSTATE (or error code) of a login, undefined when it works. */
async function loginError(user: { username: string; password: string }, database = 'celery') {
  return connect(user, database).then(
    async (c) => {
      await c.end();
      return undefined;
    },
    (e: { code?: string; message: string }) => e.code ?? e.message,
  );
}

function props(overrides: Partial<PostgresUsersProperties> = {}): PostgresUsersProperties {
  return {
    Host: 'localhost',
    Port: String(pg.port), // CloudFormation sends strings
    MasterSecretArn: ARN.master,
    WorkerSecretArn: ARN.worker,
    ProducerSecretArn: ARN.producer,
    CaBundle: ca.certPem,
    TimeoutMs: '5000',
    ...overrides,
  };
}
const create = (p = props()): PostgresUsersEvent => ({ RequestType: 'Create', ResourceProperties: p });

function expectNoPassword(text: string): void {
  // The rotation's generated passwords too.
  for (const p of [...ALL_PASSWORDS, ...secrets.generated]) expect(text).not.toContain(p);
}

async function failure(event: PostgresUsersEvent): Promise<string> {
  const err = await onEvent(event).then(
    () => undefined,
    (e: Error) => e,
  );
  expect(err).toBeInstanceOf(Error);
  expectNoPassword(err!.message);
  return err!.message;
}

beforeAll(async () => {
  const bin = postgresBin();
  ca = await createCertificateAuthority('postgres-users test CA');
  rogueCa = await createCertificateAuthority('postgres-users test CA'); // same name, other key
  const server = await issueCertificate(ca, { commonName: 'localhost', dnsNames: ['localhost'], usage: 'server' });
  pg = new TlsPostgres(bin);
  await pg.start(server);
  // RDS's master user: may create roles and databases, is no superuser, owns the maintenance databases.
  await asUser(
    SUPERUSER,
    async (c) => {
      await c.query(
        `CREATE ROLE rds_master LOGIN CREATEROLE CREATEDB PASSWORD '${scramSha256Verifier(MASTER.password)}'`,
      );
      await c.query('ALTER DATABASE postgres OWNER TO rds_master');
      await c.query('ALTER DATABASE template1 OWNER TO rds_master');
      await c.query('CREATE DATABASE sqlalchemy_reference');
    },
    'postgres',
  );
  secrets.create(ARN.master, MASTER);
  secrets.create(ARN.worker, WORKER);
  secrets.create(ARN.workerRotated, WORKER_ROTATED);
  secrets.create(ARN.producer, PRODUCER);
}, 60_000);

afterAll(async () => {
  await pg?.stop();
});

beforeEach(() => {
  logs.length = 0;
});

test('scramSha256Verifier computes what this server stores for the same password and salt', async () => {
  const stored = await asUser(
    SUPERUSER,
    async (c) => {
      await c.query("SET password_encryption = 'scram-sha-256'");
      await c.query("CREATE ROLE verifier_probe PASSWORD 'probe-password-42'");
      const r = await c.query("SELECT rolpassword FROM pg_authid WHERE rolname = 'verifier_probe'");
      await c.query('DROP ROLE verifier_probe');
      return r.rows[0].rolpassword as string;
    },
    'postgres',
  );
  const salt = Buffer.from(stored.split('$')[1].split(':')[1], 'base64');
  expect(scramSha256Verifier('probe-password-42', salt)).toBe(stored);
});

describe('Create', () => {
  beforeAll(async () => {
    await onEvent(create());
  }, 30_000);

  test('answers with names only, and logs no secret', async () => {
    const res = await onEvent(create());
    expect(res).toEqual({
      PhysicalResourceId: 'postgres-users:celery',
      Data: {
        Database: 'celery',
        Schema: 'celery',
        WorkerUsername: 'celery_worker',
        ProducerUsername: 'celery_producer',
      },
    });
    expect(logs.join('\n')).toMatch(/connected to localhost:\d+\/celery as rds_master \(TLSv1\.[23]\)/);
    expectNoPassword(JSON.stringify(res) + logs.join('\n'));
  });

  test('the worker reads and writes both tables and uses both sequences', async () => {
    await asUser(WORKER, async (c) => {
      await c.query(
        "INSERT INTO celery.celery_taskmeta (id, task_id, status) VALUES (nextval('celery.task_id_sequence'), 'w-1', 'PENDING')",
      );
      await c.query("UPDATE celery.celery_taskmeta SET status = 'SUCCESS' WHERE task_id = 'w-1'");
      expect((await c.query("SELECT status FROM celery.celery_taskmeta WHERE task_id = 'w-1'")).rows).toEqual([
        { status: 'SUCCESS' },
      ]);
      await c.query(
        "INSERT INTO celery.celery_tasksetmeta (id, taskset_id) VALUES (nextval('celery.taskset_id_sequence'), 'g-1')",
      );
      await c.query("UPDATE celery.celery_tasksetmeta SET date_done = now() WHERE taskset_id = 'g-1'");
      expect((await c.query("DELETE FROM celery.celery_tasksetmeta WHERE taskset_id = 'g-1'")).rowCount).toBe(1);
      expect((await c.query("DELETE FROM celery.celery_taskmeta WHERE task_id = 'w-1'")).rowCount).toBe(1);
    });
  });

  test('the producer reads and forgets results and saves groups, but cannot write results', async () => {
    await asUser(WORKER, (c) =>
      c.query(
        "INSERT INTO celery.celery_taskmeta (id, task_id, status) VALUES (nextval('celery.task_id_sequence'), 'p-1', 'SUCCESS')",
      ),
    );
    expect(await sqlState(PRODUCER, "SELECT status FROM celery.celery_taskmeta WHERE task_id = 'p-1'")).toBeUndefined();
    expect(await sqlState(PRODUCER, "INSERT INTO celery.celery_taskmeta (id, task_id) VALUES (999999, 'forged')")).toBe(
      '42501',
    );
    expect(await sqlState(PRODUCER, "UPDATE celery.celery_taskmeta SET status = 'FORGED' WHERE task_id = 'p-1'")).toBe(
      '42501',
    );
    expect(await sqlState(PRODUCER, "SELECT nextval('celery.task_id_sequence')")).toBe('42501');
    expect(await sqlState(PRODUCER, "DELETE FROM celery.celery_taskmeta WHERE task_id = 'p-1'")).toBeUndefined();
    expect(
      await sqlState(
        PRODUCER,
        "INSERT INTO celery.celery_tasksetmeta (id, taskset_id) VALUES (nextval('celery.taskset_id_sequence'), 'pg-1')",
      ),
    ).toBeUndefined();
    expect(await sqlState(PRODUCER, 'UPDATE celery.celery_tasksetmeta SET result = NULL')).toBe('42501');
    expect(await sqlState(PRODUCER, "DELETE FROM celery.celery_tasksetmeta WHERE taskset_id = 'pg-1'")).toBeUndefined();
  });

  test.each([
    ['CREATE TABLE celery.own (x int)'],
    ['CREATE TABLE public.own (x int)'],
    ['CREATE TEMP TABLE own (x int)'],
    ['CREATE SCHEMA own'],
    ['CREATE SEQUENCE celery.own'],
    ['ALTER TABLE celery.celery_taskmeta ADD COLUMN own int'],
    ['TRUNCATE celery.celery_taskmeta'],
  ])('neither role may run %s', async (sql) => {
    expect(await sqlState(WORKER, sql)).toBe('42501');
    expect(await sqlState(PRODUCER, sql)).toBe('42501');
  });

  test.each([['postgres'], ['template1']])('neither role may connect to the %s database', async (database) => {
    expect(await loginError(WORKER, database)).toBe('42501');
    expect(await loginError(PRODUCER, database)).toBe('42501');
    // The master user still can (it owns them).
    expect(await loginError(MASTER, database)).toBeUndefined();
  });

  test('the roles are plain login roles: no superuser, database or role creation, no membership', async () => {
    const rows = await asUser(
      SUPERUSER,
      async (c) =>
        (
          await c.query(
            `SELECT rolname, rolsuper, rolcreatedb, rolcreaterole, rolreplication, rolbypassrls, rolcanlogin,
                  left(rolpassword, 19) AS verifier,
                  (SELECT count(*) FROM pg_auth_members m WHERE m.member = r.oid)::int AS memberships
             FROM pg_authid r WHERE rolname LIKE 'celery_%' ORDER BY rolname`,
          )
        ).rows,
    );
    const role = { rolsuper: false, rolcreatedb: false, rolcreaterole: false, rolreplication: false };
    const rest = { rolbypassrls: false, rolcanlogin: true, verifier: 'SCRAM-SHA-256$4096:', memberships: 0 };
    // Each twin exists, LOGIN, and has no password until its first rotation sets one (no password login works).
    expect(rows).toEqual([
      { rolname: 'celery_producer', ...role, ...rest },
      { rolname: 'celery_producer_alt', ...role, ...rest, verifier: null },
      { rolname: 'celery_worker', ...role, ...rest },
      { rolname: 'celery_worker_alt', ...role, ...rest, verifier: null },
    ]);
  });

  test('each twin has exactly the grants of its role (tables, sequences, schema, database)', async () => {
    for (const [name, twin] of [
      ['celery_worker', 'celery_worker_alt'],
      ['celery_producer', 'celery_producer_alt'],
    ]) {
      const [a, b] = [await grantsOf(name), await grantsOf(twin)];
      expect(a.length).toBeGreaterThan(3);
      expect(b).toEqual(a);
    }
  });

  test("the tables are the ones SQLAlchemy's create_all makes from Celery's models (columns, keys, sequences)", async () => {
    // GIVEN Celery's own models created by SQLAlchemy in another database
    python(
      `
import os, sqlalchemy as sa
from celery.backends.database.models import Task, TaskExtended, TaskSet
from celery.backends.database.session import ResultModelBase
for m in (Task, TaskExtended, TaskSet): m.configure(schema='celery')
url = sa.engine.URL.create('postgresql+psycopg2', username='postgres', password=os.environ['PGPASSWORD'], host='localhost',
    port=int(os.environ['PGPORT']), database='sqlalchemy_reference',
    query={'sslmode': 'verify-full', 'sslrootcert': os.environ['CA_FILE']})
e = sa.create_engine(url)
with e.begin() as c: c.execute(sa.text('CREATE SCHEMA IF NOT EXISTS celery'))
ResultModelBase.metadata.create_all(e)
`,
      { PGPASSWORD: SUPERUSER_PASSWORD },
    );
    // WHEN both catalogs are read
    const catalog = (database: string) =>
      asUser(
        SUPERUSER,
        async (c) => ({
          columns: (
            await c.query(
              `SELECT table_name, column_name, data_type, character_maximum_length, is_nullable, column_default
                 FROM information_schema.columns WHERE table_schema = 'celery' ORDER BY table_name, ordinal_position`,
            )
          ).rows,
          constraints: (
            await c.query(
              `SELECT conrelid::regclass::text AS tbl, contype, pg_get_constraintdef(oid) AS def
                 FROM pg_constraint WHERE connamespace = 'celery'::regnamespace ORDER BY 1, 2, 3`,
            )
          ).rows,
          sequences: (
            await c.query(
              `SELECT sequencename, data_type::text, start_value, increment_by FROM pg_sequences
                WHERE schemaname = 'celery' ORDER BY 1`,
            )
          ).rows,
        }),
        database,
      );
    const reference = await catalog('sqlalchemy_reference');
    // THEN they are the same
    expect(reference.columns).toHaveLength(16);
    expect(await catalog('celery')).toEqual(reference);
  });

  test('the server logged every statement, and no password', () => {
    const log = pg.serverLog();
    expect(log).toContain('CREATE ROLE "celery_worker" LOGIN');
    expect(log).toContain(
      'ALTER ROLE "celery_worker" WITH LOGIN NOCREATEDB NOCREATEROLE PASSWORD \'SCRAM-SHA-256$4096:',
    );
    expectNoPassword(log);
  });
});

/** Runs Python with Debian's Celery, SQLAlchemy and psycopg2; the suite fails if they are missing. */
function python(code: string, env: Record<string, string>): string {
  const caFile = join(pg.dir, 'ca.pem');
  writeFileSync(caFile, ca.certPem);
  try {
    return execFileSync('/usr/bin/python3', ['-c', code], {
      encoding: 'utf8',
      env: { PATH: '/usr/bin:/bin', PGPORT: String(pg.port), CA_FILE: caFile, ...env },
      timeout: 60_000,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
  } catch (e) {
    const err = e as { stderr?: string; message: string };
    throw new Error(
      `python3 failed (needs python3-celery, python3-sqlalchemy, python3-psycopg2: scripts/install-e2e-deps): ${err.stderr ?? err.message}`,
    );
  }
}

describe("Celery's DatabaseBackend on the tables the plan made", () => {
  beforeAll(async () => {
    await onEvent(create());
  }, 30_000);

  const celery = (user: { username: string; password: string }, body: string, conf = '') =>
    python(
      `
import json, os, sqlalchemy as sa
from celery import Celery
url = sa.engine.URL.create('postgresql+psycopg2', username=os.environ['PG_USER'], password=os.environ['PG_PASSWORD'],
    host='localhost', port=int(os.environ['PGPORT']), database='celery',
    query={'sslmode': 'verify-full', 'sslrootcert': os.environ['CA_FILE']})
app = Celery('t', backend='db+' + url.render_as_string(hide_password=False))
app.conf.database_table_schemas = {'task': 'celery', 'group': 'celery'}
app.conf.database_short_lived_sessions = True
app.conf.database_create_tables_at_setup = False
${conf}
b = app.backend
${body}
`,
      { PG_USER: user.username, PG_PASSWORD: user.password },
    );

  test('as celery_worker it stores a result and reads it back; as celery_producer it reads and forgets it', () => {
    // Celery 5.2.6 runs create_all (checkfirst) at its first session: with the tables present it only reads catalogs.
    const stored = celery(
      WORKER,
      `b.store_result('celery-1', {'answer': 42}, 'SUCCESS')
print(json.dumps(b.get_task_meta('celery-1')['result']))`,
    );
    expect(JSON.parse(stored)).toEqual({ answer: 42 });
    const read = celery(
      PRODUCER,
      `meta = b.get_task_meta('celery-1')
b.forget('celery-1')
print(json.dumps([meta['status'], meta['result'], b.get_task_meta('celery-1')['status']]))`,
    );
    expect(JSON.parse(read)).toEqual(['SUCCESS', { answer: 42 }, 'PENDING']);
  });

  test('with result_extended the worker fills the extended columns (name, args, worker, retries, queue)', async () => {
    celery(
      WORKER,
      `from types import SimpleNamespace
request = SimpleNamespace(task='tasks.add', args=[1, 2], kwargs={}, hostname='w1@host', retries=0,
    delivery_info={'routing_key': 'celery'}, group=None, parent_id=None, children=[], ignore_result=False)
b.store_result('celery-ext', 3, 'SUCCESS', request=request)`,
      'app.conf.result_extended = True',
    );
    const row = await asUser(
      WORKER,
      async (c) =>
        (
          await c.query(
            "SELECT name, worker, retries, queue, args IS NOT NULL AS has_args FROM celery.celery_taskmeta WHERE task_id = 'celery-ext'",
          )
        ).rows,
    );
    expect(row).toEqual([{ name: 'tasks.add', worker: 'w1@host', retries: 0, queue: 'celery', has_args: true }]);
  });

  test('as celery_producer it cannot store a result', () => {
    expect(() => celery(PRODUCER, `b.store_result('celery-2', 1, 'SUCCESS')`)).toThrow(
      /permission denied for table celery_taskmeta/,
    );
  });
});

describe('idempotence and updates', () => {
  test('Create twice keeps the rows and the roles working', async () => {
    await onEvent(create());
    await asUser(WORKER, (c) =>
      c.query("INSERT INTO celery.celery_taskmeta (id, task_id) VALUES (nextval('celery.task_id_sequence'), 'kept-1')"),
    );
    // WHEN
    await onEvent(create());
    // THEN
    expect(
      await asUser(
        WORKER,
        async (c) => (await c.query("SELECT task_id FROM celery.celery_taskmeta WHERE task_id = 'kept-1'")).rowCount,
      ),
    ).toBe(1);
    expect(await loginError(PRODUCER)).toBeUndefined();
  });

  test('Update with a new worker password: the new one logs in, the old one no longer does', async () => {
    await onEvent(create());
    // WHEN
    await onEvent({
      RequestType: 'Update',
      ResourceProperties: props({ WorkerSecretArn: ARN.workerRotated }),
      OldResourceProperties: props(),
      PhysicalResourceId: 'postgres-users:celery',
    });
    // THEN
    expect(await loginError(WORKER_ROTATED)).toBeUndefined();
    expect(await loginError(WORKER)).toBe('28P01');
    expect(await loginError(PRODUCER)).toBeUndefined();
    expectNoPassword(pg.serverLog() + logs.join('\n'));
    // AND back
    await onEvent(create());
    expect(await loginError(WORKER)).toBeUndefined();
  });

  test('Update that renames a role drops the old one once the new one exists', async () => {
    await onEvent(create());
    secrets.create('arn:renamed', { username: 'celery_producer_v2', password: PRODUCER.password });
    // WHEN
    await onEvent({
      RequestType: 'Update',
      ResourceProperties: props({ ProducerUsername: 'celery_producer_v2', ProducerSecretArn: 'arn:renamed' }),
      OldResourceProperties: props(),
      PhysicalResourceId: 'postgres-users:celery',
    });
    // THEN
    expect(await loginError({ username: 'celery_producer_v2', password: PRODUCER.password })).toBeUndefined();
    expect(await loginError(PRODUCER)).toBe('28P01');
    // AND back (the original names again)
    await onEvent({
      RequestType: 'Update',
      ResourceProperties: props(),
      OldResourceProperties: props({ ProducerUsername: 'celery_producer_v2', ProducerSecretArn: 'arn:renamed' }),
      PhysicalResourceId: 'postgres-users:celery',
    });
    expect(await loginError({ username: 'celery_producer_v2', password: PRODUCER.password })).toBe('28P01');
  });
});

describe('Delete', () => {
  test('drops both roles and keeps the schema, the tables and their rows; a second Delete is a no-op', async () => {
    await onEvent(create());
    await asUser(WORKER, (c) =>
      c.query(
        "INSERT INTO celery.celery_taskmeta (id, task_id) VALUES (nextval('celery.task_id_sequence'), 'survives-1')",
      ),
    );
    const del: PostgresUsersEvent = {
      RequestType: 'Delete',
      ResourceProperties: props(),
      PhysicalResourceId: 'postgres-users:celery',
    };
    // WHEN
    await onEvent(del);
    await onEvent(del);
    // THEN
    const state = await asUser(SUPERUSER, async (c) => ({
      roles: (await c.query("SELECT rolname FROM pg_roles WHERE rolname LIKE 'celery_%'")).rows,
      kept: (await c.query("SELECT task_id FROM celery.celery_taskmeta WHERE task_id = 'survives-1'")).rows,
      tables: (await c.query("SELECT tablename FROM pg_tables WHERE schemaname = 'celery' ORDER BY 1")).rows,
    }));
    expect(state).toEqual({
      roles: [],
      kept: [{ task_id: 'survives-1' }],
      tables: [{ tablename: 'celery_taskmeta' }, { tablename: 'celery_tasksetmeta' }],
    });
    expect(await loginError(WORKER)).toBe('28P01');
  });
});

describe('Terraform invocation (lifecycle_scope CRUD)', () => {
  test('create makes the roles, delete drops them; the result holds names only', async () => {
    const res = await onInvocation({ ...props(), tf: { action: 'create' } });
    expect(res.Data.WorkerUsername).toBe('celery_worker');
    expect(await loginError(WORKER)).toBeUndefined();
    await onInvocation({ ...props(), tf: { action: 'delete', prev_input: props() } });
    expect(await loginError(WORKER)).toBe('28P01');
    expectNoPassword(JSON.stringify(res));
  });

  test('an invocation without tf.action is refused', async () => {
    await expect(onInvocation({ ...props() })).rejects.toThrow(/lifecycle_scope = "CRUD"/);
  });
});

describe('refusals', () => {
  test('a server that answers the SSLRequest with "N" (no TLS): refused, nothing sent in plaintext', async () => {
    // GIVEN a listener that declines TLS as a PostgreSQL without ssl does, and records what it receives
    const received: Buffer[] = [];
    const plain = createServer((socket) => {
      socket.on('data', (d) => {
        received.push(d);
        socket.write('N');
      });
    });
    await new Promise<void>((resolve) => plain.listen(0, '127.0.0.1', resolve));
    try {
      const port = (plain.address() as { port: number }).port;
      // WHEN
      const message = await failure(create(props({ Host: 'localhost', Port: String(port) })));
      // THEN only the 8-byte SSLRequest (length 8, code 80877103) went out
      expect(message).toMatch(/over verified TLS: The server does not support SSL connections/);
      expect(Buffer.concat(received).toString('hex')).toBe('0000000804d2162f');
    } finally {
      await new Promise((resolve) => plain.close(resolve));
    }
  });

  test('a CA the server certificate does not chain to: refused, and the error names the check (no password)', async () => {
    const message = await failure(create(props({ CaBundle: rogueCa.certPem })));
    expect(message).toMatch(
      /cannot connect to localhost:\d+\/postgres as rds_master over verified TLS: .*(signature|verify|self.signed)/i,
    );
  });

  test('a host name the certificate does not name: refused', async () => {
    const message = await failure(create(props({ Host: '127.0.0.1' })));
    expect(message).toMatch(/over verified TLS: .*(IP: 127\.0\.0\.1 is not in the cert's list|does not match)/);
  });

  test('a wrong master password: refused by the server, the password in no message', async () => {
    secrets.create('arn:bad-master', { username: 'rds_master', password: 'NotTheMasterPassw0rd' });
    const message = await failure(create(props({ MasterSecretArn: 'arn:bad-master' })));
    expect(message).toMatch(/password authentication failed for user "rds_master"/);
    expect(message).not.toContain('NotTheMasterPassw0rd');
  });

  test('no CA bundle: the default file is missing outside Lambda, and the error says what to pass', async () => {
    const message = await failure(create(props({ CaBundle: undefined, CaFile: join(pg.dir, 'absent.pem') })));
    expect(message).toMatch(/cannot read the CA bundle .*absent\.pem \(ENOENT\): pass CaBundle or CaFile/);
  });

  test('a role secret naming another user, or the master as a Celery role: refused before any connection', async () => {
    secrets.create('arn:other-user', { username: 'someone_else', password: 'SomeoneElsePassw0rd' });
    expect(await failure(create(props({ WorkerSecretArn: 'arn:other-user' })))).toMatch(
      /names user "someone_else", not "celery_worker"/,
    );
    expect(await failure(create(props({ WorkerUsername: 'rds_master' })))).toMatch(
      /master user "rds_master" cannot be a Celery role/,
    );
  });
});

describe('atomicity', () => {
  test('a statement that fails rolls back the whole plan: no role is left half made, the error shows no verifier', async () => {
    // GIVEN no Celery roles, and a superuser squatting the producer's name (the master may not alter it)
    await onEvent({ RequestType: 'Delete', ResourceProperties: props(), PhysicalResourceId: 'postgres-users:celery' });
    await asUser(SUPERUSER, (c) => c.query('CREATE ROLE celery_producer SUPERUSER'), 'postgres');
    try {
      // WHEN
      const message = await failure(create());
      // THEN
      expect(message).toMatch(
        /ALTER ROLE "celery_producer" .*PASSWORD '\*\*\*'.*(must be superuser|permission denied)/,
      );
      expect(message).not.toMatch(/SCRAM-SHA-256/);
      const roles = await asUser(
        SUPERUSER,
        async (c) => (await c.query("SELECT rolname FROM pg_roles WHERE rolname LIKE 'celery_%' ORDER BY 1")).rows,
      );
      expect(roles).toEqual([{ rolname: 'celery_producer' }]);
    } finally {
      await asUser(SUPERUSER, (c) => c.query('DROP ROLE celery_producer'), 'postgres');
    }
  });
});

describe('the bundle Lambda runs (assets/handlers/postgres-users/index.js)', () => {
  test('pg is inside it, and its handler makes the roles over verified TLS like the source', async () => {
    // GIVEN the bundled file, loaded as the Node.js runtime loads it (CommonJS); it requires no pg of node_modules
    const file = join(handlerAssetDir('postgres-users'), 'index.js');
    const text = readFileSync(file, 'utf8');
    expect(text).not.toMatch(/require\("pg"\)/);
    const bundle = createRequire(__filename)(file) as typeof import('../../lib/handlers/postgres-users');
    expect(typeof bundle.onEvent).toBe('function');
    expect(typeof bundle.onInvocation).toBe('function');
    expect(typeof bundle.onRotate).toBe('function');
    // WHEN
    await onEvent({ RequestType: 'Delete', ResourceProperties: props(), PhysicalResourceId: 'postgres-users:celery' });
    await bundle.createHandler(deps)(create());
    // THEN
    expect(await loginError(WORKER)).toBeUndefined();
    expect(await loginError(PRODUCER)).toBeUndefined();
  });
});

describe('rotation by alternating roles (Secrets Manager steps against the real server)', () => {
  const config = (): PostgresRotationConfig => ({
    host: 'localhost',
    port: pg.port,
    database: 'celery',
    schema: 'celery',
    masterSecretArn: ARN.master,
    roles: [
      { role: 'worker', secretArn: ARN.rotatedWorker, name: 'celery_worker' },
      { role: 'producer', secretArn: ARN.rotatedProducer, name: 'celery_producer' },
    ],
    passwordLength: 32,
    timeoutMs: 5000,
    caBundle: ca.certPem,
  });
  const rotation = () => createRotationHandler(config(), secrets, (line) => logs.push(line));
  const STEPS = ['createSecret', 'setSecret', 'testSecret', 'finishSecret'] as const;

  /** What Secrets Manager does: a new version id, then the steps in order, stopping at the first that fails. */
  async function rotate(arn: string, steps: readonly RotationEvent['Step'][] = STEPS): Promise<string> {
    const token = secrets.start(arn);
    const handle = rotation();
    for (const Step of steps) await handle({ SecretId: arn, ClientRequestToken: token, Step });
    return token;
  }
  const stage = (arn: string, label: string) =>
    [...secrets.versions.get(arn)!.values()]
      .filter((v) => v.stages.includes(label))
      .map((v) => JSON.parse(v.value) as { username: string; password: string });

  beforeAll(async () => {
    // GIVEN the roles made by the custom resource from secrets that rotate, and no twin of the worker (a database
    // made before twins existed: setSecret must make it)
    secrets.create(ARN.rotatedWorker, WORKER);
    secrets.create(ARN.rotatedProducer, PRODUCER);
    await onEvent(create(props({ WorkerSecretArn: ARN.rotatedWorker, ProducerSecretArn: ARN.rotatedProducer })));
    await asUser(SUPERUSER, (c) =>
      c.query(postgresDropRoleStatement({ database: 'celery', schema: 'celery' }, 'celery_worker_alt')),
    );
  }, 30_000);

  test('a rotation makes the twin (same grants), names it with a new password; the previous password keeps working', async () => {
    const roles = () =>
      asUser(SUPERUSER, async (c) =>
        (await c.query("SELECT rolname FROM pg_roles WHERE rolname LIKE 'celery_%' ORDER BY 1")).rows.map(
          (r) => r.rolname,
        ),
      );
    expect(await roles()).toEqual(['celery_producer', 'celery_producer_alt', 'celery_worker']);
    // WHEN
    await rotate(ARN.rotatedWorker);
    // THEN the secret names the twin, with a new generated password of the plan's length
    const current = secrets.current(ARN.rotatedWorker);
    expect(current.username).toBe('celery_worker_alt');
    expect(current.password).toMatch(/^[A-Za-z0-9]{32}$/);
    expect(current.password).not.toBe(WORKER.password);
    expect(stage(ARN.rotatedWorker, 'AWSPREVIOUS')).toEqual([WORKER]);
    // AND both logins work: the twin with the new password, the role with the previous one
    expect(await loginError(current)).toBeUndefined();
    expect(await loginError(WORKER)).toBeUndefined();
    expect(await grantsOf('celery_worker_alt')).toEqual(await grantsOf('celery_worker'));
    await asUser(current, (c) =>
      c.query("INSERT INTO celery.celery_taskmeta (id, task_id) VALUES (nextval('celery.task_id_sequence'), 'alt-1')"),
    );
    // AND the server received a verifier, never the password; no log line or message holds one
    const log = pg.serverLog();
    expect(log).toContain(
      'ALTER ROLE "celery_worker_alt" WITH LOGIN NOCREATEDB NOCREATEROLE PASSWORD \'SCRAM-SHA-256$4096:',
    );
    expect(logs.join('\n')).toMatch(/testSecret: celery_worker_alt logged in over verified TLS/);
    expect(logs.join('\n')).toMatch(/connected to localhost:\d+\/celery as celery_worker_alt \(TLSv1\.[23]\)/);
    expectNoPassword(log + logs.join('\n'));
  });

  test('the custom resource after a rotation sets the password of the role the secret names and leaves the other', async () => {
    const current = secrets.current(ARN.rotatedWorker);
    await onEvent(create(props({ WorkerSecretArn: ARN.rotatedWorker, ProducerSecretArn: ARN.rotatedProducer })));
    expect(await loginError(current)).toBeUndefined();
    expect(await loginError(WORKER)).toBeUndefined();
  });

  test('a second rotation switches back to the role with another password; the twin keeps working until the next', async () => {
    const previous = secrets.current(ARN.rotatedWorker);
    // WHEN
    await rotate(ARN.rotatedWorker);
    // THEN
    const current = secrets.current(ARN.rotatedWorker);
    expect(current.username).toBe('celery_worker');
    expect(current.password).toMatch(/^[A-Za-z0-9]{32}$/);
    expect([WORKER.password, previous.password]).not.toContain(current.password);
    expect(await loginError(current)).toBeUndefined();
    expect(await loginError(previous)).toBeUndefined();
    // The first password was the role's; the role now has the new one.
    expect(await loginError(WORKER)).toBe('28P01');
    expectNoPassword(pg.serverLog() + logs.join('\n'));
  });

  test("the producer's secret rotates to its own twin, with the producer's grants only", async () => {
    await rotate(ARN.rotatedProducer);
    const current = secrets.current(ARN.rotatedProducer);
    expect(current.username).toBe('celery_producer_alt');
    expect(await grantsOf('celery_producer_alt')).toEqual(await grantsOf('celery_producer'));
    expect(await sqlState(current, "INSERT INTO celery.celery_taskmeta (id, task_id) VALUES (999998, 'forged')")).toBe(
      '42501',
    );
    expect(await loginError(PRODUCER)).toBeUndefined();
  });

  test('a secret that is not one of the two role secrets (the master) is refused before anything is written', async () => {
    const token = secrets.start(ARN.master);
    await expect(rotation()({ SecretId: ARN.master, ClientRequestToken: token, Step: 'createSecret' })).rejects.toThrow(
      /createSecret of .*rds!db-master failed: secret .* is not a role secret of this function/,
    );
    expect(await secrets.get(ARN.master, { stage: 'AWSPENDING', versionId: token })).toBeUndefined();
    secrets.versions.get(ARN.master)!.delete(token);
  });

  test('testSecret fails when the pending password does not log in, so finishSecret never runs', async () => {
    const before = secrets.current(ARN.rotatedWorker);
    // GIVEN createSecret and setSecret done, then the twin's password changed behind the function's back
    const token = await rotate(ARN.rotatedWorker, ['createSecret', 'setSecret']);
    await asUser(SUPERUSER, (c) =>
      c.query(`ALTER ROLE celery_worker_alt PASSWORD '${scramSha256Verifier('NotThePendingPassw0rd')}'`),
    );
    // WHEN Secrets Manager runs testSecret (and would run finishSecret only if it succeeded)
    const err = await rotation()({ SecretId: ARN.rotatedWorker, ClientRequestToken: token, Step: 'testSecret' }).then(
      () => undefined,
      (e: Error) => e,
    );
    // THEN
    expect(err?.message).toMatch(
      /testSecret of .* failed: cannot connect to localhost:\d+\/celery as celery_worker_alt over verified TLS: password authentication failed for user "celery_worker_alt"/,
    );
    expectNoPassword(err!.message);
    expect(secrets.current(ARN.rotatedWorker)).toEqual(before);
    expect(stage(ARN.rotatedWorker, 'AWSPENDING').map((v) => v.username)).toEqual(['celery_worker_alt']);
    expect(await loginError(before)).toBeUndefined();
    // AND a repeated setSecret (Secrets Manager retries the rotation with the same token) mends it
    await rotation()({ SecretId: ARN.rotatedWorker, ClientRequestToken: token, Step: 'setSecret' });
    await rotation()({ SecretId: ARN.rotatedWorker, ClientRequestToken: token, Step: 'testSecret' });
    await rotation()({ SecretId: ARN.rotatedWorker, ClientRequestToken: token, Step: 'finishSecret' });
    expect(secrets.current(ARN.rotatedWorker).username).toBe('celery_worker_alt');
    expect(await loginError(secrets.current(ARN.rotatedWorker))).toBeUndefined();
    expect(await loginError(before)).toBeUndefined();
    expectNoPassword(pg.serverLog() + logs.join('\n'));
  });

  test('a pending version that names the role in use is refused by setSecret (its clients would lose the password)', async () => {
    const token = secrets.start(ARN.rotatedWorker);
    await secrets.putPending(
      ARN.rotatedWorker,
      token,
      JSON.stringify({ ...secrets.current(ARN.rotatedWorker), password: 'SameRolePassw0rdForbiddenZ' }),
    );
    const err = await rotation()({ SecretId: ARN.rotatedWorker, ClientRequestToken: token, Step: 'setSecret' }).then(
      () => undefined,
      (e: Error) => e,
    );
    expect(err?.message).toMatch(/AWSPENDING of secret .* names celery_worker_alt, not the twin of celery_worker_alt/);
    expect(err?.message).not.toContain('SameRolePassw0rdForbiddenZ');
    expect(await loginError(secrets.current(ARN.rotatedWorker))).toBeUndefined();
    secrets.versions.get(ARN.rotatedWorker)!.delete(token);
  });

  test("the Lambda entry points hand Secrets Manager's events to the rotation (configured by the environment)", async () => {
    const event = { SecretId: ARN.rotatedWorker, ClientRequestToken: 'token-1', Step: 'createSecret' as const };
    for (const name of ['DB_HOST', 'MASTER_SECRET_ARN']) expect(process.env[name]).toBeUndefined();
    await expect(entryOnEvent(event)).rejects.toThrow(/^DB_HOST is not set: the construct configures the rotation/);
    await expect(entryOnInvocation(event)).rejects.toThrow(/^DB_HOST is not set/);
  });
});
