/**
 * The PostgreSQL result backend over verified TLS against plaintext, side by side in one run: tasks per second with
 * the rendered settings (db+postgresql+psycopg2, sslmode=verify-full) and with the same module whose result backend
 * is switched to sslmode=disable on the same server (which, for this run only, also has `host` lines in pg_hba.conf).
 * The broker (amqps) and every other setting are the same in both, so the ratio is the backend's TLS cost. Also the
 * backend connections per 1,000 tasks (from the server's log_connections lines), and what one connection and one query
 * cost apart (psycopg2 in-process), which tells how much of the gap the producer's connection per result read makes.
 * Needs scripts/install-e2e-deps; --stack for the current stack.
 *   npx tsx bench/postgres.ts [--tasks 2000] [--rounds 1] [--stack DIR]
 */
import { spawnSync } from 'node:child_process';
import { readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { CeleryConfig } from '../lib';
import { ServerStack } from '../lib/dev/stack';
import { Worker, cleanup, devUp, produce, runDir, scratch } from '../test/e2e/harness';

const { values } = parseArgs({
  options: {
    tasks: { type: 'string', default: '2000' },
    rounds: { type: 'string', default: '1' },
    stack: { type: 'string' },
  },
});
const TASKS = Number(values.tasks);
const ROUNDS = Number(values.rounds);

async function main() {
  const env = await devUp({
    name: 'bench-pg',
    backend: 'postgres',
    broker: 'rabbitmq',
    plaintextListeners: true,
    stackRoot: values.stack,
  });
  const stack = env.stack();
  const pg = env.state.postgres!;
  const module = (role: 'worker' | 'producer', plaintext: boolean) => {
    const file = join(scratch(`bench-pg-${plaintext ? 'plain' : 'tls'}-${role}`), 'celeryconfig.py');
    const text = new CeleryConfig(env.celeryInput(role)).toPythonModule(`bench (${role})`);
    const user = pg.users[role];
    // After the module's own checks: only the result backend's URL and libpq options change.
    const control = [
      '',
      '# bench control: the result backend in plaintext (sslmode=disable), everything else as rendered',
      'import os as _bench_os, urllib.parse as _bench_parse',
      `result_backend = "db+postgresql+psycopg2://${user}:%s@127.0.0.1:${pg.port}/${pg.database}?sslmode=disable" % _bench_parse.quote(_bench_os.environ["CELERY_TLS_RESULT_BACKEND_PASSWORD"], safe="")`,
      'database_engine_options = dict(database_engine_options, connect_args=dict(' +
        '{k: v for k, v in database_engine_options.get("connect_args", {}).items() if not k.startswith("ssl")}, ' +
        'sslmode="disable"))',
      '',
    ].join('\n');
    writeFileSync(file, plaintext ? text + control : text);
    return file;
  };
  const secrets = (role: 'worker' | 'producer') => ({
    ...new CeleryConfig(env.celeryInput(role)).toEnvironment(),
    ...env.secretEnvironment('rabbitmq', role),
  });
  const logFile = env.postgresServer().logFile;

  // Celery 5.5 creates the queues named with -Q as classic ones: with quorum queues, use the default queue.
  const ownQueue = !new CeleryConfig(env.celeryInput('worker')).model.options.quorumQueues;
  const run = async (name: string, plaintext: boolean) => {
    const queue = ownQueue ? `q-bench-${name}-${Date.now()}` : '';
    const worker = new Worker(runDir(module('worker', plaintext), `bench-pg-${name}`), secrets('worker'), queue, {
      stack,
      consumeQueue: ownQueue,
    }).start();
    try {
      await worker.ready();
      const from = statSync(logFile).size;
      const r = await produce(
        runDir(module('producer', plaintext), `bench-pg-${name}-p`),
        secrets('producer'),
        queue,
        TASKS,
        `bench-${name}`,
        600,
        stack,
      );
      if (r.received !== TASKS) throw new Error(`${name}: ${r.received}/${TASKS} results`);
      const lines = readFileSync(logFile)
        .subarray(from)
        .toString('utf8')
        .split('\n')
        .filter((l) => /connection authorized: user=celery_(worker|producer) /.test(l));
      const tls = lines.filter((l) => l.includes('SSL enabled')).length;
      if (plaintext ? tls > 0 : tls !== lines.length)
        throw new Error(`${name}: ${tls} of ${lines.length} backend connections used TLS`);
      const byWorker = lines.filter((l) => l.includes('user=celery_worker ')).length;
      return {
        rate: TASKS / r.total_seconds,
        connections: lines.length,
        worker: byWorker,
        producer: lines.length - byWorker,
      };
    } finally {
      await worker.stop();
    }
  };

  type Run = { rate: number; connections: number; worker: number; producer: number };
  const runs: Record<'tls' | 'plaintext', Run[]> = { tls: [], plaintext: [] };
  for (let i = 0; i < ROUNDS; i++) {
    runs.tls.push(await run('tls', false));
    runs.plaintext.push(await run('plaintext', true));
  }
  const connection = connectionCost(stack, env.state.caFile, pg.port, env.password('postgres-producer'));
  const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
  const rate = (k: 'tls' | 'plaintext') => mean(runs[k].map((r) => r.rate));
  const per1000 = (k: 'tls' | 'plaintext', f: 'connections' | 'worker' | 'producer' = 'connections') =>
    Math.round((mean(runs[k].map((r) => r[f])) * 1000) / TASKS);
  console.log(
    JSON.stringify(
      {
        stack: `${stack.root ?? 'host'}: postgresql ${pg.version}, rabbitmq ${stack.versions.rabbitmq}, celery ${stack.versions.celery}`,
        broker: 'rabbitmq (amqps, the same in both runs)',
        tasks: TASKS,
        rounds: ROUNDS,
        tasksPerSecond: { tls: Math.round(rate('tls')), plaintext: Math.round(rate('plaintext')) },
        ratio: Number((rate('tls') / rate('plaintext')).toFixed(3)),
        // Celery's SessionManager pools connections only in forked processes (the worker's pool children); anywhere
        // else (the producer) it uses NullPool: a new connection, TLS handshake and SCRAM login per result read
        // (celery/backends/database/session.py).
        backendConnectionsPer1000Tasks: Object.fromEntries(
          (['tls', 'plaintext'] as const).map((k) => [
            k,
            { all: per1000(k), worker: per1000(k, 'worker'), producer: per1000(k, 'producer') },
          ]),
        ),
        // What one of those connections costs, measured apart: psycopg2 connect + SCRAM login + SELECT 1 + close.
        connectionMilliseconds: connection,
      },
      null,
      2,
    ),
  );
}

/** Milliseconds per psycopg2 connection (connect, SCRAM login, SELECT 1, close) and per query on an open one. */
function connectionCost(stack: ServerStack, caFile: string, port: number, password: string) {
  const script = [
    'import json, os, time, psycopg2',
    'def connect(mode):',
    '    return psycopg2.connect(host="localhost", port=int(os.environ["PORT"]), dbname="celery",',
    '        user="celery_producer", password=os.environ["PW"], sslmode=mode, sslrootcert=os.environ["CA"])',
    'def per_connection(mode, n=300):',
    '    t = time.perf_counter()',
    '    for _ in range(n):',
    '        c = connect(mode); cur = c.cursor(); cur.execute("SELECT 1"); cur.fetchall(); c.close()',
    '    return round((time.perf_counter() - t) / n * 1000, 2)',
    'def per_query(mode, n=2000):',
    '    c = connect(mode); cur = c.cursor(); t = time.perf_counter()',
    '    for _ in range(n):',
    '        cur.execute("SELECT 1"); cur.fetchall()',
    '    c.close()',
    '    return round((time.perf_counter() - t) / n * 1000, 3)',
    'print(json.dumps({"connect": {"tls": per_connection("verify-full"), "plaintext": per_connection("disable")},',
    '    "queryOnOpenConnection": {"tls": per_query("verify-full"), "plaintext": per_query("disable")}}))',
  ].join('\n');
  const c = stack.command(stack.python, ['-c', script]);
  const r = spawnSync(c.command, c.args, {
    encoding: 'utf8',
    env: { PATH: '/usr/bin:/bin', PORT: String(port), PW: password, CA: caFile },
  });
  if (r.status !== 0) throw new Error(`connection cost: ${r.stderr}`);
  return JSON.parse(r.stdout);
}

main()
  .catch((e) => {
    console.error(e);
    process.exitCode = 1;
  })
  .finally(cleanup);
