/**
 * The PostgreSQL result backend end to end, for both lanes (postgres.e2e.test.ts: Debian 12's PostgreSQL 15, Celery
 * 5.2.6, SQLAlchemy 1.4; postgres.current.test.ts: Debian 13's PostgreSQL 17, Celery 5.5.2, SQLAlchemy 2): a
 * TLS-only PostgreSQL (hostssl lines only), the database layout the users function makes, the settings the library
 * renders for each role, and a real Celery worker. Refusals are read from logs and error texts, never from exit
 * statuses alone. One PostgreSQL (and one RabbitMQ broker) per file.
 */
import { execFile, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { CeleryConfig } from '../../lib/core';
import { DEFAULTS } from '../../lib/core/defaults';
import { DevEnvironment, DevRole } from '../../lib/dev/environment';
import { createCertificateAuthority, writeCertificate } from '../../lib/dev/pki';
import { waitFor } from '../../lib/dev/process';
import { ServerStack, hostStack } from '../../lib/dev/stack';
import { OLD_TLS, Worker, cleanup, devUp, produce, pythonEnv, relay, runDir, scratch } from './harness';
import { cli } from './weak';

const N = 1000;
// The host's psql (15) for both lanes: a client of the same protocol.
const PSQL = join(hostStack().postgresBin ?? '/usr/lib/postgresql/15/bin', 'psql');

export interface PostgresLane {
  /** A stack root (scripts/current-stack); undefined for the host's packages. */
  readonly stackRoot?: string;
  /** PostgreSQL's major version there. */
  readonly postgresMajor: string;
  readonly celery: RegExp;
  readonly sqlalchemy: RegExp;
}

export function postgresSuite(lane: PostgresLane): void {
  afterAll(cleanup);

  let env: DevEnvironment;
  let stack: ServerStack;
  const settings: Partial<Record<DevRole, string>> = {};
  const settingsFile = (role: DevRole) => {
    if (!settings[role]) {
      const file = join(scratch(`pg-${role}`), 'celeryconfig.py');
      writeFileSync(file, new CeleryConfig(env.celeryInput(role)).toPythonModule(`postgres e2e (${role})`));
      settings[role] = file;
    }
    return settings[role]!;
  };
  const secrets = (role: DevRole, extra: Record<string, string> = {}) => ({
    ...new CeleryConfig(env.celeryInput(role)).toEnvironment(),
    ...env.secretEnvironment(env.state.broker, role),
    ...extra,
  });
  const pg = () => env.postgresServer();
  const port = () => env.state.postgres!.port;

  /** psql over TCP, with libpq's own sslmode; the password through the environment. */
  function psqlCommand(user: string, password: string, sql: string, conninfo: Record<string, string>) {
    const info = {
      host: env.state.host,
      port: String(port()),
      dbname: DEFAULTS.postgres.database,
      user,
      sslmode: 'verify-full',
      sslrootcert: env.state.caFile,
      connect_timeout: '10',
      ...conninfo,
    };
    const dsn = Object.entries(info)
      .map(([k, v]) => `${k}=${v}`)
      .join(' ');
    return {
      args: ['-X', '-A', '-t', '-v', 'ON_ERROR_STOP=1', '-c', sql, dsn],
      options: { encoding: 'utf8' as const, timeout: 30_000, env: { PATH: '/usr/bin:/bin', PGPASSWORD: password } },
    };
  }
  function psql(user: string, password: string, sql: string, conninfo: Record<string, string> = {}) {
    const c = psqlCommand(user, password, sql, conninfo);
    const r = spawnSync(PSQL, c.args, c.options);
    return { status: r.status, stdout: r.stdout, stderr: r.stderr };
  }
  /** psql without blocking this process: a relay in it must keep forwarding. */
  function psqlAsync(user: string, password: string, sql: string, conninfo: Record<string, string> = {}) {
    const c = psqlCommand(user, password, sql, conninfo);
    return new Promise<{ status: number | null; stdout: string; stderr: string }>((resolve) =>
      execFile(PSQL, c.args, c.options, (error, stdout, stderr) =>
        resolve({ status: error ? (typeof error.code === 'number' ? error.code : 1) : 0, stdout, stderr }),
      ),
    );
  }
  const admin = (sql: string) => {
    const r = psql(env.state.postgres!.adminUsername, env.password('postgres-admin'), sql);
    if (r.status !== 0) throw new Error(`psql as the admin: ${r.stderr}`);
    return r.stdout.trim();
  };
  /** Rows of celery_taskmeta whose pickled result holds the marker (pickle stores str as UTF-8). */
  const storedRows = (marker: string) =>
    Number(
      admin(
        `SELECT count(*) FROM ${DEFAULTS.postgres.schema}.celery_taskmeta WHERE status = 'SUCCESS' AND position(convert_to('${marker}', 'UTF8') in result) > 0`,
      ),
    );

  /** The server's log from now on (log_connections is on). */
  function logFrom(): () => string {
    const from = statSync(pg().logFile).size;
    return () => readFileSync(pg().logFile).subarray(from).toString('utf8');
  }

  /** No password of the environment, raw or percent-encoded, in a log. */
  function noPassword(text: string): void {
    for (const name of ['postgres-worker', 'postgres-producer', 'postgres-admin', 'rabbitmq'] as const) {
      expect(text).not.toContain(env.password(name));
      expect(text).not.toContain(encodeURIComponent(env.password(name)));
    }
  }

  async function withWorker<T>(
    name: string,
    environment: Record<string, string>,
    body: (w: Worker) => Promise<T>,
    file = settingsFile('worker'),
  ): Promise<T> {
    // With quorum queues (RabbitMQ 4) the default queue, as production runs (Celery 5.5 declares -Q queues classic,
    // and its delayed-delivery setup fails while the default exchange does not exist); else a queue per run.
    const own = !new CeleryConfig(env.celeryInput('worker')).model.options.quorumQueues;
    const w = new Worker(runDir(file, `${name}-worker`), environment, own ? `q-${name}` : '', {
      stack,
      consumeQueue: own,
    }).start();
    try {
      return await body(w);
    } finally {
      await w.stop();
    }
  }

  beforeAll(async () => {
    env = await devUp({ name: 'postgres', backend: 'postgres', stackRoot: lane.stackRoot });
    stack = env.stack();
    const probe = stack.command(stack.python, [
      '-c',
      'import celery, sqlalchemy, psycopg2; print(celery.__version__, sqlalchemy.__version__, psycopg2.__version__.split()[0])',
    ]);
    const versions = spawnSync(probe.command, probe.args, { encoding: 'utf8' }).stdout.trim();
    const [celery, sqlalchemy, psycopg2] = versions.split(' ');
    expect(env.state.postgres!.version).toMatch(new RegExp(`^${lane.postgresMajor}\\.`));
    expect(celery).toMatch(lane.celery);
    expect(sqlalchemy).toMatch(lane.sqlalchemy);
    console.log(
      `postgres lane: PostgreSQL ${env.state.postgres!.version}, celery ${celery}, SQLAlchemy ${sqlalchemy}, psycopg2 ${psycopg2}, rabbitmq ${stack.versions.rabbitmq}`,
    );
  });

  test(`${N}/${N} results stored in PostgreSQL over verified TLS, each role as its own login role, rows in celery.celery_taskmeta`, async () => {
    const marker = `pg-${randomBytes(4).toString('hex')}`;
    const log = logFrom();
    const { result, executions, workerLog } = await withWorker('pg', secrets('worker'), async (w) => {
      await w.ready();
      const result = await produce(
        runDir(settingsFile('producer'), 'pg-producer'),
        secrets('producer'),
        w.queue,
        N,
        marker,
        240,
        stack,
      );
      return { result, executions: w.executions(), workerLog: w.log() };
    });
    expect(result).toMatchObject({ sent: N, received: N, missing_count: 0, wrong: [] });
    noPassword(workerLog);
    expect(executions.size).toBe(N);
    expect(storedRows(marker)).toBe(N);
    // Every connection of the two roles was authorized over TLS (PostgreSQL 15 and 17 log "SSL enabled (protocol=").
    const authorized = log()
      .split('\n')
      .filter((l) => /connection authorized: user=celery_(worker|producer) /.test(l));
    expect(authorized.some((l) => l.includes('user=celery_worker'))).toBe(true);
    expect(authorized.some((l) => l.includes('user=celery_producer'))).toBe(true);
    for (const l of authorized) expect(l).toMatch(/SSL enabled \(protocol=TLSv1\.[23],/);
    console.log(
      `postgres backend: ${N} tasks in ${result.total_seconds}s, ${authorized.length} TLS connections of the two roles`,
    );
  });

  test('the roles have the grants of the contract and no more (the producer cannot write a result, neither can create)', () => {
    const worker = (sql: string) => psql(DEFAULTS.postgres.users.worker, env.password('postgres-worker'), sql);
    const producer = (sql: string) => psql(DEFAULTS.postgres.users.producer, env.password('postgres-producer'), sql);
    const t = `${DEFAULTS.postgres.schema}.celery_taskmeta`;
    const insert = `INSERT INTO ${t} (id, task_id, status) VALUES (nextval('${DEFAULTS.postgres.schema}.task_id_sequence'), '${randomBytes(8).toString('hex')}', 'SUCCESS')`;
    expect(worker(insert)).toMatchObject({ status: 0 });
    expect(producer(insert).stderr).toMatch(/permission denied for (table celery_taskmeta|sequence task_id_sequence)/);
    expect(producer(`SELECT count(*) FROM ${t}`)).toMatchObject({ status: 0 });
    for (const run of [worker, producer])
      expect(run(`CREATE TABLE ${DEFAULTS.postgres.schema}.x (i int)`).stderr).toMatch(
        /permission denied for schema celery/,
      );
  });

  describe('refused', () => {
    test('a server certificate from a rogue CA: the worker stops before ready, with libpq\'s "certificate verify failed"', async () => {
      const rogue = writeCertificate(
        join(scratch('pg-rogue'), 'rogue-ca'),
        await createCertificateAuthority('rogue CA'),
      ).certFile;
      const log = await withWorker(
        'pg-rogue',
        secrets('worker', { CELERY_TLS_RESULT_BACKEND_CA_CERTS: rogue }),
        async (w) => {
          await w.logMatches(/certificate verify failed/, 90_000);
          await w.exitCode(60_000);
          return w.log();
        },
      );
      expect(log).toMatch(
        /CeleryTLSConfigError: start-up check: the result backend cannot be reached over verified TLS/,
      );
      expect(log).not.toMatch(/ready\.\s*$/m);
    });

    test('a host name the certificate does not name (127.0.0.2 through a relay): libpq refuses it with verify-full', async () => {
      const relayed = await relay('127.0.0.2', port());
      const log = await withWorker(
        'pg-host',
        secrets('worker', {
          CELERY_TLS_RESULT_BACKEND_HOST: '127.0.0.2',
          CELERY_TLS_RESULT_BACKEND_PORT: String(relayed),
        }),
        async (w) => {
          await w.logMatches(/does not match host name/, 90_000);
          await w.exitCode(60_000);
          return w.log();
        },
      );
      expect(log).toMatch(
        /server certificate for "localhost" \(and \d+ other names?\) does not match host name "127\.0\.0\.2"/,
      );
      expect(log).not.toMatch(/ready\.\s*$/m);
      // Through the same relay verify-ca (the chain checked, not the name) connects: what refused was the name check.
      const through = await psqlAsync(DEFAULTS.postgres.users.worker, env.password('postgres-worker'), 'SELECT 1', {
        host: '127.0.0.2',
        port: String(relayed),
        sslmode: 'verify-ca',
      });
      expect(through).toMatchObject({ status: 0, stdout: '1\n' });
    });

    test('plaintext: the server has no pg_hba.conf entry without encryption (psql, and psycopg2 with sslmode=disable)', () => {
      const password = env.password('postgres-worker');
      const plain = psql(DEFAULTS.postgres.users.worker, password, 'SELECT 1', { sslmode: 'disable' });
      expect(plain.status).not.toBe(0);
      expect(plain.stderr).toMatch(
        /no pg_hba\.conf entry for host "127\.0\.0\.1", user "celery_worker", database "celery", no encryption/,
      );
      // The same role and password over verified TLS: what the server refused is the plaintext.
      expect(
        psql(DEFAULTS.postgres.users.worker, password, 'SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()'),
      ).toMatchObject({
        status: 0,
        stdout: 't\n',
      });
      const dir = scratch('pg-psycopg2');
      const c = stack.command(stack.python, [
        '-c',
        [
          'import os, psycopg2',
          'try:',
          '    psycopg2.connect(host="localhost", port=int(os.environ["PORT"]), dbname="celery", user="celery_worker", password=os.environ["PW"], sslmode=os.environ["MODE"], sslrootcert=os.environ["CA"])',
          '    print("connected")',
          'except psycopg2.OperationalError as e:',
          '    print("refused:", e)',
        ].join('\n'),
      ]);
      for (const [mode, expected] of [
        [
          'disable',
          /refused: .*no pg_hba\.conf entry for host "127\.0\.0\.1", user "celery_worker", database "celery", no encryption/,
        ],
        ['verify-full', /^connected$/m],
      ] as const) {
        const r = spawnSync(c.command, c.args, {
          encoding: 'utf8',
          env: pythonEnv(dir, { PORT: String(port()), PW: password, MODE: mode, CA: env.state.caFile }),
        });
        expect(r.stdout).toMatch(expected);
      }
    });

    test('TLS 1.0 and 1.1: the server refuses them (openssl s_client -starttls postgres); TLS 1.2 verifies', () => {
      const sClient = (flags: string[]) =>
        spawnSync(
          'openssl',
          [
            's_client',
            '-connect',
            `127.0.0.1:${port()}`,
            '-starttls',
            'postgres',
            ...flags,
            '-CAfile',
            env.state.caFile,
          ],
          { input: '', encoding: 'utf8', timeout: 20_000 },
        );
      for (const flags of OLD_TLS) {
        const r = sClient(flags);
        expect(r.status).not.toBe(0);
        expect(r.stderr).toMatch(/alert protocol version|no protocols available|unsupported protocol/);
      }
      const ok = sClient(['-tls1_2', '-verify_return_error', '-verify_hostname', 'localhost']);
      expect(ok.stdout).toMatch(/Protocol\s*:\s*TLSv1\.2/);
      expect(ok.stdout).toMatch(/Verify return code: 0 \(ok\)/);
    });

    test('CELERY_RESULT_BACKEND with sslmode=disable, require, verify-ca or none: the settings refuse to import', () => {
      const dir = runDir(settingsFile('worker'), 'pg-override');
      const importSettings = (extra: Record<string, string>) => {
        const c = stack.command(stack.python, ['-c', 'import celeryconfig; print(celeryconfig.result_backend[:22])']);
        return spawnSync(c.command, c.args, {
          cwd: dir,
          encoding: 'utf8',
          env: pythonEnv(dir, { ...secrets('worker'), ...extra }),
        });
      };
      // Control: the settings themselves import, with a db+postgresql+psycopg2 URL.
      expect(importSettings({})).toMatchObject({ status: 0, stdout: 'db+postgresql+psycopg2\n' });
      const url = `db+postgresql://celery_worker:x@localhost:${port()}/celery`;
      for (const override of [`${url}?sslmode=disable`, url, `${url}?sslmode=require`, `${url}?sslmode=verify-ca`]) {
        const r = importSettings({ CELERY_RESULT_BACKEND: override });
        expect(r.status).not.toBe(0);
        expect(r.stderr).toMatch(/CeleryTLSConfigError/);
        expect(r.stderr).toContain('CELERY_RESULT_BACKEND');
        expect(r.stderr).not.toContain(':x@');
      }
    });
  });

  test(`${N}/${N} results through a PostgreSQL restart (stopped for 3 s in the middle of the run)`, async () => {
    const marker = `pg-restart-${randomBytes(4).toString('hex')}`;
    const { result, executions, log } = await withWorker(
      'pg-restart',
      secrets('worker', { E2E_TASK_SECONDS: '0.02' }),
      async (w) => {
        await w.ready();
        const running = produce(
          runDir(settingsFile('producer'), 'pg-restart-producer'),
          secrets('producer'),
          w.queue,
          N,
          marker,
          280,
          stack,
        );
        running.catch(() => undefined); // awaited below
        await waitFor('250 executions', () => w.executions().size >= 250, 120_000);
        const before = w.executions().size;
        const server = pg();
        await server.stop();
        await new Promise((r) => setTimeout(r, 3000));
        await server.start();
        env.savePids({ postgres: server.pid });
        const result = await running;
        console.log(
          `postgres restart after ${before} executions: ${result.received}/${N} results, ${result.backend_errors} backend errors waited out by the producer, ${result.total_seconds}s`,
        );
        return { result, executions: w.executions(), log: w.log() };
      },
    );
    // The outage was hit: stores failed and were retried (Celery's own three immediate attempts, then the settings').
    expect(log).toMatch(/OperationalError/);
    const lost = log.split('\n').filter((l) => /OperationalError|Failed operation|raised unexpected/.test(l));
    if (result.received < N) console.log(`worker log during the outage:\n${lost.slice(0, 20).join('\n')}`);
    expect(result).toMatchObject({ received: N, missing_count: 0, wrong: [] });
    expect(executions.size).toBe(N);
    expect(storedRows(marker)).toBe(N);
    noPassword(log);
    noPassword(readFileSync(pg().logFile, 'utf8'));
  });

  test('celery-tls dev env prints the result backend variables of each role, its own login role and password', async () => {
    for (const role of ['worker', 'producer'] as const) {
      const r = await cli(['dev', 'env', '--dir', env.dir, '--role', role]);
      expect(r.status).toBe(0);
      const vars = Object.fromEntries(
        [...r.stdout.matchAll(/^export (CELERY_TLS_RESULT_BACKEND_\w+)='([^']*)'$/gm)].map((m) => [m[1], m[2]]),
      );
      expect(vars).toMatchObject({
        CELERY_TLS_RESULT_BACKEND_HOST: 'localhost',
        CELERY_TLS_RESULT_BACKEND_PORT: String(port()),
        CELERY_TLS_RESULT_BACKEND_DATABASE: 'celery',
        CELERY_TLS_RESULT_BACKEND_USERNAME: DEFAULTS.postgres.users[role],
        CELERY_TLS_RESULT_BACKEND_CA_CERTS: env.state.caFile,
      });
      // The role's own password (development passwords hold no quote, so shellQuote leaves them whole).
      expect(r.stdout).toContain(`export CELERY_TLS_RESULT_BACKEND_PASSWORD='${env.password(`postgres-${role}`)}'`);
    }
    // The manifest the environment wrote names the PostgreSQL endpoint (no password in it).
    const manifest = readFileSync(join(env.dir, 'producer', 'manifest.json'), 'utf8');
    expect(JSON.parse(manifest).resultBackend).toMatchObject({
      scheme: 'postgresql',
      engine: 'postgresql',
      host: 'localhost',
      port: port(),
      database: 'celery',
      username: DEFAULTS.postgres.users.producer,
      caCerts: env.state.caFile,
    });
    noPassword(manifest);
  });
}
