/**
 * Result encryption with the PostgreSQL result backend, for both lanes (security-postgres.e2e.test.ts: Debian 12's
 * PostgreSQL 15, Celery 5.2.6, SQLAlchemy 1.4; security-postgres.current.test.ts: Debian 13's PostgreSQL 17, Celery
 * 5.5.2, SQLAlchemy 2). Celery's database backend pickles the result's value into celery_taskmeta.result and ignores
 * result_serializer, so the settings route results through their encrypting subclass (backend alias celery_tls_db).
 * The raw column is read with the host's psql over verified TLS as the producer role.
 */
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { CeleryConfig } from '../../lib/core';
import { DEFAULTS } from '../../lib/core/defaults';
import { DevEnvironment, DevRole } from '../../lib/dev/environment';
import { ServerStack, hostStack } from '../../lib/dev/stack';
import { Worker, cleanup, devUp, scratch, writeFile } from './harness';
import { ENCRYPTION, python, resultKey, secureRunDir } from './security-helpers';

const PSQL = join(hostStack().postgresBin ?? '/usr/lib/postgresql/15/bin', 'psql');

export function securityPostgresSuite(lane: { stackRoot?: string; celery: RegExp }): void {
  afterAll(cleanup);

  let env: DevEnvironment;
  let stack: ServerStack;
  beforeAll(async () => {
    env = await devUp({ name: 'security-pg', backend: 'postgres', stackRoot: lane.stackRoot });
    stack = env.stack();
    expect(stack.versions.celery).toMatch(lane.celery);
  });

  function settings(role: DevRole, encrypted: boolean): string {
    // The control renders security {} (JSON everywhere, a no-op setup function) so that the same fixtures run.
    const input = { ...env.celeryInput(role, 'rabbitmq'), security: encrypted ? { resultEncryption: ENCRYPTION } : {} };
    return writeFile(
      scratch(`pg-sec-${role}`),
      'celeryconfig.py',
      new CeleryConfig(input).toPythonModule(`pg ${role}`),
    );
  }

  const vars = (role: DevRole, current?: string, previous?: string) => ({
    ...env.secretEnvironment(env.state.broker, role),
    ...(current ? { CELERY_TLS_RESULT_KEY: current } : {}),
    ...(previous ? { CELERY_TLS_RESULT_KEY_PREVIOUS: previous } : {}),
  });

  /** The raw result column of a task as hex, read as the producer role with sslmode=verify-full. */
  function rawResult(taskId: string, table = 'celery_taskmeta', idColumn = 'task_id'): Buffer {
    const s = env.state;
    const dsn = [
      `host=${s.host}`,
      `port=${s.postgres!.port}`,
      `dbname=${DEFAULTS.postgres.database}`,
      `user=${DEFAULTS.postgres.users.producer}`,
      'sslmode=verify-full',
      `sslrootcert=${s.caFile}`,
    ].join(' ');
    const sql = `SELECT encode(result, 'hex') FROM ${DEFAULTS.postgres.schema}.${table} WHERE ${idColumn} = '${taskId}'`;
    const r = spawnSync(PSQL, ['-X', '-A', '-t', '-v', 'ON_ERROR_STOP=1', '-c', sql, dsn], {
      encoding: 'utf8',
      timeout: 30_000,
      env: { PATH: '/usr/bin:/bin', PGPASSWORD: env.password('postgres-producer') },
    });
    if (r.status !== 0) throw new Error(`psql failed: ${r.stderr}`);
    return Buffer.from(r.stdout.trim(), 'hex');
  }

  async function run(encrypted: boolean, name: string, n: number, current?: string, previous?: string) {
    // RabbitMQ 4 (quorum queues): Celery 5.5 declares -Q queues classic, so the worker consumes the default queue.
    const quorum = env.celeryInput('worker', 'rabbitmq').broker.engineVersion?.startsWith('4') ?? false;
    const worker = new Worker(
      secureRunDir(settings('worker', encrypted), `${name}-worker`),
      vars('worker', current, previous),
      quorum ? '' : `q-${name}`,
      { stack, consumeQueue: !quorum },
    ).start();
    try {
      await worker.ready();
      const dir = secureRunDir(settings('producer', encrypted), `${name}-producer`);
      const r = python(
        dir,
        vars('producer', current, previous),
        ['results.py', 'send', String(n), `marker-${name}`, worker.queue, '180'],
        stack,
      );
      return { r, dir, log: worker.log() };
    } finally {
      await worker.stop();
    }
  }

  test('control: without encryption the result column is a pickle holding the result in plaintext', async () => {
    const { r } = await run(false, 'pg-plain', 5);
    expect(r).toMatchObject({ received: 5, wrong: [] });
    const raw = rawResult(r.ids[0]);
    expect(raw[0]).toBe(0x80); // pickle protocol marker
    expect(raw.includes('marker-pg-plain')).toBe(true);
  });

  test('encrypted: 100/100 through the celery_tls_db backend; the column holds ciphertext, no pickle; readable after a key rotation, failing clearly without the old key', async () => {
    const k1 = resultKey();
    const k2 = resultKey();
    const first = await run(true, 'pg-enc', 100, k1);
    expect(first.r).toMatchObject({ received: 100, wrong: [] });
    expect(first.log).toMatch(/results:\s+postgresql\+psycopg2:\/\/celery_worker:\*\*@/); // the URL after the alias
    const raw = rawResult(first.r.ids[0]).toString('latin1');
    expect(raw).toMatch(/^ctls1\.[0-9a-f]{16}\.[A-Za-z0-9_-]+$/);
    expect(raw).not.toContain('marker-pg-enc');
    const keyId = raw.split('.')[1];

    const second = await run(true, 'pg-enc2', 10, k2, k1);
    expect(second.r).toMatchObject({ received: 10, wrong: [] });
    expect(rawResult(second.r.ids[0]).toString('latin1').split('.')[1]).not.toBe(keyId);
    const read = python(
      second.dir,
      vars('producer', k2, k1),
      ['results.py', 'read', first.r.ids[3], second.r.ids[3]],
      stack,
    );
    expect(read.errors).toEqual({});
    expect(read.results[first.r.ids[3]]).toEqual({ marker: 'marker-pg-enc', i: 3 });
    expect(read.results[second.r.ids[3]]).toEqual({ marker: 'marker-pg-enc2', i: 3 });
    const gone = python(second.dir, vars('producer', k2), ['results.py', 'read', first.r.ids[3]], stack);
    expect(gone.errors[first.r.ids[3]]).toContain(`encrypted with key id ${keyId}, which is not in the key ring`);
  });

  test('a group saved and restored through the encrypting backend: the group row is ciphertext too', async () => {
    const key = resultKey();
    const quorum = env.celeryInput('worker', 'rabbitmq').broker.engineVersion?.startsWith('4') ?? false;
    const queue = quorum ? '' : 'q-pg-group';
    const worker = new Worker(secureRunDir(settings('worker', true), 'pg-group-worker'), vars('worker', key), queue, {
      stack,
      consumeQueue: !quorum,
    }).start();
    try {
      await worker.ready();
      const dir = secureRunDir(settings('producer', true), 'pg-group-producer');
      const g = python(dir, vars('producer', key), ['results.py', 'group', '5', 'marker-pg-group', queue], stack);
      expect(g.restored).toEqual(g.saved);
      expect(g.results).toEqual([0, 1, 2, 3, 4].map((i) => ({ marker: 'marker-pg-group', i })));
      const raw = rawResult(g.group_id, 'celery_tasksetmeta', 'taskset_id').toString('latin1');
      expect(raw).toMatch(/^ctls1\.[0-9a-f]{16}\.[A-Za-z0-9_-]+$/);
      expect(raw).not.toContain(g.saved[0]);
    } finally {
      await worker.stop();
    }
  });
}
