import { ChildProcess, spawn, spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, openSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer, connect as netConnect, Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DevEnvironment, DevOptions } from '../../lib/dev/environment';
import { isAlive, stopProcess, waitFor } from '../../lib/dev/process';
import { ServerStack, hostStack } from '../../lib/dev/stack';

export const PYTHON = '/usr/bin/python3';
const FIXTURES = join(__dirname, 'fixtures');
export const TASK_NAME = 'e2e.tls_probe_task_7f3a9c';

/** Everything started here, stopped by cleanup() whatever the outcome. */
const started: {
  envs: DevEnvironment[];
  processes: ChildProcess[];
  servers: Server[];
  cleanups: (() => Promise<void> | void)[];
} = { envs: [], processes: [], servers: [], cleanups: [] };

export function scratch(prefix: string): string {
  return mkdtempSync(join(tmpdir(), `celery-tls-e2e-${prefix}-`));
}

export async function devUp(options: Omit<DevOptions, 'dir'> & { name: string }): Promise<DevEnvironment> {
  const env = await DevEnvironment.up({ ...options, dir: join(scratch(options.name), 'env') });
  started.envs.push(env);
  return env;
}

export function onCleanup(fn: () => Promise<void> | void): void {
  started.cleanups.push(fn);
}

export async function cleanup(): Promise<void> {
  for (const p of started.processes.splice(0)) if (p.pid && isAlive(p.pid)) await stopProcess(p.pid, 5_000);
  for (const s of started.servers.splice(0)) s.close();
  for (const fn of started.cleanups.splice(0)) await fn();
  for (const e of started.envs.splice(0)) await e.down();
}

/** A directory with the rendered settings and the e2e task module, ready for python3 -m celery. */
export function runDir(settingsFile: string, name: string): string {
  const dir = scratch(name);
  copyFileSync(settingsFile, join(dir, 'celeryconfig.py'));
  copyFileSync(join(FIXTURES, 'e2etasks.py'), join(dir, 'e2etasks.py'));
  copyFileSync(join(FIXTURES, 'producer.py'), join(dir, 'producer.py'));
  copyFileSync(join(FIXTURES, 'send.py'), join(dir, 'send.py'));
  return dir;
}

export function pythonEnv(dir: string, extra: Record<string, string>): NodeJS.ProcessEnv {
  return { PATH: '/usr/bin:/bin', LANG: 'C.UTF-8', HOME: dir, PYTHONPATH: dir, PYTHONDONTWRITEBYTECODE: '1', ...extra };
}

/** The flags Debian 12's lane starts workers with (reference/celery.md: the solo and threads pools stall there). */
export const QUIET_WORKER_FLAGS = ['--without-gossip', '--without-mingle', '--without-heartbeat'];

export interface WorkerOptions {
  /** @default 2 */
  readonly concurrency?: number;
  /** Where Python and Celery come from. @default the host's */
  readonly stack?: ServerStack;
  /** Flags after `worker -P prefork -c N`. @default QUIET_WORKER_FLAGS */
  readonly flags?: readonly string[];
  /** Consume only this queue (-Q); the current-stack lane uses the default queue in a vhost of its own instead. */
  readonly consumeQueue?: boolean;
}

export class Worker {
  public readonly logFile: string;
  public readonly execLog: string;
  private child?: ChildProcess;

  /** Each run consumes its own queue, so that a failed run's leftovers never reach the next one. */
  constructor(
    private readonly dir: string,
    private readonly env: Record<string, string>,
    public readonly queue: string,
    private readonly options: WorkerOptions = {},
  ) {
    this.logFile = join(dir, 'worker.log');
    this.execLog = join(dir, 'executions.log');
  }

  /** prefork: the solo and threads pools stall on Debian 12's kombu (reference/celery.md). */
  public start(): this {
    const out = openSync(this.logFile, 'a');
    writeFileSync(this.execLog, '');
    const o = this.options;
    const stack = o.stack ?? hostStack();
    const args = [
      '-m',
      'celery',
      '-A',
      'e2etasks',
      'worker',
      '-P',
      'prefork',
      '-c',
      String(o.concurrency ?? 2),
      ...(o.flags ?? QUIET_WORKER_FLAGS),
      ...(o.consumeQueue === false ? [] : ['-Q', this.queue]),
      '--loglevel=INFO',
    ];
    const c = stack.command(stack.python, args);
    this.child = spawn(c.command, c.args, {
      cwd: this.dir,
      env: pythonEnv(this.dir, { ...this.env, E2E_EXEC_LOG: this.execLog }),
      detached: true,
      stdio: ['ignore', out, out],
    });
    started.processes.push(this.child);
    return this;
  }

  public log(): string {
    return existsSync(this.logFile) ? readFileSync(this.logFile, 'utf8') : '';
  }

  public async ready(timeoutMs = 60_000): Promise<void> {
    await waitFor(
      `worker ready (log ${this.logFile})`,
      () => {
        if (/ready\.\s*$/m.test(this.log())) return true;
        if (this.child?.exitCode !== null && this.child?.exitCode !== undefined)
          throw new Error(`worker exited ${this.child.exitCode}:\n${this.log().slice(-3000)}`);
        return false;
      },
      timeoutMs,
      200,
    );
  }

  /** Waits until the log matches (the worker may keep retrying, or exit 0, after a refused connection). */
  public async logMatches(pattern: RegExp, timeoutMs = 45_000): Promise<string> {
    await waitFor(
      `worker log to match ${pattern} (log ${this.logFile})`,
      () => pattern.test(this.log()),
      timeoutMs,
      200,
    );
    return this.log();
  }

  public exited(): boolean {
    return this.child?.exitCode !== null && this.child?.exitCode !== undefined;
  }

  /** Resolves with the exit code once the worker has exited. */
  public async exitCode(timeoutMs: number): Promise<number> {
    await waitFor(`worker to exit (log ${this.logFile})`, () => this.exited(), timeoutMs, 100);
    return this.child!.exitCode!;
  }

  public executions(): Map<number, number> {
    const counts = new Map<number, number>();
    for (const line of readFileSync(this.execLog, 'utf8').split('\n'))
      if (line) counts.set(Number(line), (counts.get(Number(line)) ?? 0) + 1);
    return counts;
  }

  public async stop(): Promise<void> {
    if (this.child?.pid && isAlive(this.child.pid)) await stopProcess(this.child.pid, 15_000);
  }
}

export interface ProducerResult {
  sent: number;
  received: number;
  missing: number[];
  missing_count: number;
  wrong: number[];
  backend_errors: number;
  send_seconds: number;
  total_seconds: number;
}

/**
 * Runs producer.py in the background; resolves with its JSON line. `queue` "" sends to the default queue;
 * `countdown` delays every task of the run.
 */
export function produce(
  dir: string,
  env: Record<string, string>,
  queue: string,
  n: number,
  marker: string,
  timeoutSeconds = 240,
  stack: ServerStack = hostStack(),
  countdown?: number,
): Promise<ProducerResult> {
  return new Promise((resolve, reject) => {
    const c = stack.command(stack.python, [
      join(dir, 'producer.py'),
      String(n),
      marker,
      String(timeoutSeconds),
      queue,
      ...(countdown === undefined ? [] : [String(countdown)]),
    ]);
    const child = spawn(c.command, c.args, { cwd: dir, env: pythonEnv(dir, env), stdio: ['ignore', 'pipe', 'pipe'] });
    started.processes.push(child);
    let out = '';
    let err = '';
    child.stdout.on('data', (d) => (out += d));
    child.stderr.on('data', (d) => (err += d));
    child.on('close', (code) => {
      try {
        resolve(JSON.parse(out.trim().split('\n').pop() ?? ''));
      } catch {
        reject(new Error(`producer exited ${code} without a result:\n${out}\n${err.slice(-3000)}`));
      }
    });
  });
}

/** A TCP relay on another loopback address, so that a client reaches the server under a name not in its certificate. */
export function relay(listenHost: string, targetPort: number): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer((inbound) => {
      const outbound = netConnect({ host: '127.0.0.1', port: targetPort });
      inbound.pipe(outbound).pipe(inbound);
      const close = () => {
        inbound.destroy();
        outbound.destroy();
      };
      inbound.on('error', close);
      outbound.on('error', close);
    });
    started.servers.push(server);
    server.on('error', reject);
    server.listen(0, listenHost, () => resolve((server.address() as { port: number }).port));
  });
}

/** tshark on the loopback interface, limited to the given ports. */
export class Capture {
  private child?: ChildProcess;
  public readonly file: string;

  constructor(private readonly ports: number[]) {
    this.file = join(scratch('pcap'), 'capture.pcapng');
  }

  public async start(): Promise<void> {
    const filter = this.ports.map((p) => `tcp port ${p}`).join(' or ');
    const log = join(this.file + '.log');
    const out = openSync(log, 'a');
    this.child = spawn('tshark', ['-i', 'lo', '-f', filter, '-w', this.file, '-q'], {
      stdio: ['ignore', out, out],
      detached: true,
    });
    started.processes.push(this.child);
    await waitFor(`tshark to capture (${log})`, () => readFileSync(log, 'utf8').includes('Capturing on'), 30_000, 100);
  }

  /** Stops the capture and returns the raw bytes of the capture file. */
  public async stop(): Promise<Buffer> {
    await new Promise((r) => setTimeout(r, 1000)); // let the last packets reach the file
    if (this.child?.pid) {
      try {
        process.kill(-this.child.pid, 'SIGINT');
      } catch {
        /* gone */
      }
      await waitFor('tshark to stop', () => !isAlive(this.child!.pid!), 15_000);
    }
    return readFileSync(this.file);
  }

  /** Number of TLS ClientHello messages in the capture (ports decoded as TLS). */
  public clientHellos(): number {
    const decode = this.ports.flatMap((p) => ['-d', `tcp.port==${p},tls`]);
    const r = spawnSync(
      'tshark',
      ['-r', this.file, ...decode, '-Y', 'tls.handshake.type == 1', '-T', 'fields', '-e', 'frame.number'],
      { encoding: 'utf8' },
    );
    return r.stdout.split('\n').filter(Boolean).length;
  }
}

/** openssl s_client with one protocol flag against a loopback TLS port (a bad chain fails with -verify_return_error). */
export function sClient(
  port: number,
  caFile: string,
  flags: string[],
): { status: number | null; stdout: string; stderr: string } {
  const r = spawnSync('openssl', ['s_client', '-connect', `127.0.0.1:${port}`, ...flags, '-CAfile', caFile], {
    input: '',
    encoding: 'utf8',
    timeout: 20_000,
  });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

/** The flags that ask s_client for TLS 1.0 / 1.1 with every cipher allowed, so that only the server can refuse. */
export const OLD_TLS = [
  ['-tls1', '-cipher', 'DEFAULT:@SECLEVEL=0'],
  ['-tls1_1', '-cipher', 'DEFAULT:@SECLEVEL=0'],
];

export function contains(haystack: Buffer, needle: string): boolean {
  return haystack.indexOf(Buffer.from(needle, 'utf8')) >= 0;
}

export function writeFile(dir: string, name: string, content: string): string {
  mkdirSync(dir, { recursive: true });
  const p = join(dir, name);
  writeFileSync(p, content);
  return p;
}
