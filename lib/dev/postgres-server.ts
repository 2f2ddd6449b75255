import {
  chmodSync,
  chownSync,
  copyFileSync,
  existsSync,
  mkdirSync,
  readFileSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { userInfo } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { DEFAULTS } from '../core/defaults';
import { postgresSetupStatements, quoteIdent, quoteLiteral, scramSha256Verifier } from '../core/postgres-users';
import { isAlive, run, startDetached, stopProcess, waitFor } from './process';
import { tail } from './redis-server';
import { ServerStack, hostStack } from './stack';

export interface PostgresServerOptions {
  /** Directory for the data directory, configuration, socket, certificate copy and log. */
  readonly dir: string;
  /** The loopback address it listens on. */
  readonly host: string;
  readonly port: number;
  /** Server certificate and key (PEM); copied into `dir`, owned by the server's user as PostgreSQL requires. */
  readonly certFile: string;
  readonly keyFile: string;
  /**
   * Also accept plaintext TCP (`host` lines beside the `hostssl` ones): benchmarks only, never for development.
   * @default false
   */
  readonly plaintext?: boolean;
  /** `ssl_min_protocol_version`. @default "TLSv1.2" */
  readonly minTlsVersion?: string;
}

/** The user the server runs as: PostgreSQL refuses to run as root. */
export interface ServerUser {
  readonly name: string;
  readonly uid: number;
  readonly gid: number;
}

/** The layout Celery's database backend needs (issue 14's contract), with one login role per Celery role. */
export interface CeleryDatabaseLayout {
  /** @default DEFAULTS.postgres.database */
  readonly database?: string;
  /** @default DEFAULTS.postgres.schema */
  readonly schema?: string;
  /** The master user's counterpart: owns the database, the schema, the tables and sequences; may create roles. */
  readonly admin: { readonly username: string; readonly password: string };
  readonly worker: { readonly username: string; readonly password: string };
  readonly producer: { readonly username: string; readonly password: string };
}

/** postgresql.conf for a TLS-only server on one loopback address. */
export function postgresConf(
  o: PostgresServerOptions,
  paths: { socketDir: string; cert: string; key: string },
): string {
  return (
    [
      '# celery-tls dev: TLS-only PostgreSQL',
      `listen_addresses = '${o.host}'`,
      `port = ${o.port}`,
      `unix_socket_directories = '${paths.socketDir}'`,
      'unix_socket_permissions = 0700',
      'ssl = on',
      `ssl_cert_file = '${paths.cert}'`,
      `ssl_key_file = '${paths.key}'`,
      `ssl_min_protocol_version = '${o.minTlsVersion ?? 'TLSv1.2'}'`,
      "password_encryption = 'scram-sha-256'",
      'max_connections = 100',
      // bubblewrap's /dev/shm is root's and read-only to others: System V segments work under both stacks.
      "dynamic_shared_memory_type = 'sysv'",
      "log_destination = 'stderr'",
      'logging_collector = off',
      'log_connections = on',
      'log_disconnections = off',
      "log_line_prefix = '%m [%p] %q%u@%d '",
      "lc_messages = 'C'",
      "timezone = 'UTC'",
    ].join('\n') + '\n'
  );
}

/**
 * pg_hba.conf: TCP only with TLS (`hostssl`) and SCRAM passwords; no `host` line, so that a plaintext connection
 * finds no entry and is refused. The only socket line is the harness's own superuser, by peer (OS user) identity.
 */
export function pgHbaConf(o: Pick<PostgresServerOptions, 'plaintext'>, superuser: string): string {
  const tcp = (type: string) => [`${type} all all 127.0.0.1/32 scram-sha-256`, `${type} all all ::1/128 scram-sha-256`];
  return (
    [
      '# celery-tls dev: TLS only over TCP',
      '# TYPE DATABASE USER ADDRESS METHOD',
      `local all ${superuser} peer`,
      ...tcp('hostssl'),
      ...(o.plaintext ? ['# plaintext too: benchmarks only', ...tcp('host')] : []),
    ].join('\n') + '\n'
  );
}

/**
 * The database layout of the contract, made as on RDS: the superuser makes the master user's counterpart (LOGIN,
 * CREATEROLE, CREATEDB; not a superuser) and the database it owns, as RDS does at creation; then, as that user, the
 * users function's own statements (lib/core/postgres-users.ts) make the schema, tables, sequences, roles and grants.
 */
export function celeryLayoutStatements(l: CeleryDatabaseLayout): { asSuperuser: string[]; asAdmin: string[] } {
  const database = l.database ?? DEFAULTS.postgres.database;
  const admin = quoteIdent(l.admin.username);
  return {
    asSuperuser: [
      `CREATE ROLE ${admin} LOGIN CREATEROLE CREATEDB PASSWORD ${quoteLiteral(scramSha256Verifier(l.admin.password))}`,
      `CREATE DATABASE ${quoteIdent(database)} OWNER ${admin}`,
    ],
    asAdmin: postgresSetupStatements({
      database,
      schema: l.schema ?? DEFAULTS.postgres.schema,
      users: {
        worker: { name: l.worker.username, password: l.worker.password },
        producer: { name: l.producer.username, password: l.producer.password },
      },
    }),
  };
}

/** The unprivileged user a stack's PostgreSQL runs as: Debian's `postgres` when we are root, else ourselves. */
export function serverUser(stack: ServerStack): ServerUser | undefined {
  if (process.getuid?.() !== 0) return undefined;
  const passwd = readFileSync(join(stack.root ?? '/', 'etc/passwd'), 'utf8');
  const line = passwd.split('\n').find((l) => l.startsWith('postgres:'));
  if (!line)
    throw new Error(
      `no postgres user in ${stack.root ?? 'this machine'}'s /etc/passwd: PostgreSQL refuses to run as root (apt-get install postgresql)`,
    );
  const [name, , uid, gid] = line.split(':');
  return { name, uid: Number(uid), gid: Number(gid) };
}

/**
 * A TLS-only PostgreSQL on a loopback port from the stack's packages (Debian 12: 15, the current stack: 17), run as an
 * unprivileged user with its data directory owned by that user. Stopped by pid; nothing is left running.
 */
export class PostgresServer {
  public pid?: number;
  public readonly user?: ServerUser;
  /** The bootstrap superuser: the socket's only user (peer). */
  public readonly superuser: string;

  constructor(
    public readonly options: PostgresServerOptions,
    private readonly stack: ServerStack = hostStack(),
  ) {
    if (!stack.postgresBin) throw new Error(`no PostgreSQL server in ${stack.name} (apt-get install postgresql)`);
    this.user = serverUser(stack);
    this.superuser = this.user?.name ?? userInfo().username;
    const socket = join(this.socketDir, `.s.PGSQL.${options.port}`);
    // sockaddr_un.sun_path holds 107 bytes and a NUL.
    if (Buffer.byteLength(socket) > 107)
      throw new Error(`the PostgreSQL socket path ${socket} is longer than 107 bytes: use a shorter --dir`);
  }

  get dir(): string {
    return resolve(this.options.dir);
  }
  get dataDir(): string {
    return join(this.dir, 'data');
  }
  get socketDir(): string {
    return join(this.dir, 'run');
  }
  get logFile(): string {
    return join(this.dir, 'postgres.log');
  }
  get version(): string | undefined {
    return this.stack.postgresVersion;
  }

  /** `command` (a path inside the stack) as the server's user. */
  private asServerUser(command: string, args: string[]) {
    const u = this.user;
    return u
      ? this.stack.command('/usr/bin/setpriv', [
          `--reuid=${u.uid}`,
          `--regid=${u.gid}`,
          '--clear-groups',
          '--',
          command,
          ...args,
        ])
      : this.stack.command(command, args);
  }

  private bin(name: string): string {
    return join(this.stack.postgresBin!, name);
  }

  private own(path: string, mode: number): void {
    chmodSync(path, mode);
    if (this.user) chownSync(path, this.user.uid, this.user.gid);
  }

  /**
   * The directories above `dir` must let the server's user pass (0711: traverse, not list): a temporary directory is
   * 0700. Only our own directories are changed; secrets/ and pki/ are siblings and stay 0700.
   */
  private allowTraverse(): void {
    if (!this.user) return;
    const me = process.getuid?.();
    for (let d = dirname(this.dir); ; d = dirname(d)) {
      const st = statSync(d);
      if ((st.mode & 0o001) === 0) {
        if (st.uid !== me)
          throw new Error(
            `${d} does not let the ${this.user.name} user through (mode ${(st.mode & 0o777).toString(8)})`,
          );
        chmodSync(d, (st.mode & 0o7777) | 0o001);
      }
      if (d === dirname(d)) break;
    }
  }

  /** Makes the data directory (initdb, once), the TLS copies and the configuration. */
  public init(): void {
    mkdirSync(this.dir, { recursive: true });
    this.own(this.dir, 0o700);
    this.allowTraverse();
    for (const sub of ['run', 'tls']) {
      mkdirSync(join(this.dir, sub), { recursive: true });
      this.own(join(this.dir, sub), 0o700);
    }
    const cert = join(this.dir, 'tls', 'server.pem');
    const key = join(this.dir, 'tls', 'server.key');
    copyFileSync(this.options.certFile, cert);
    copyFileSync(this.options.keyFile, key);
    this.own(cert, 0o644);
    // PostgreSQL refuses a key that its group or others can read.
    this.own(key, 0o600);
    if (!existsSync(join(this.dataDir, 'PG_VERSION'))) {
      const c = this.asServerUser(this.bin('initdb'), [
        '-D',
        this.dataDir,
        '-U',
        this.superuser,
        '--auth-local=peer',
        '--auth-host=reject',
        '-E',
        'UTF8',
        '--locale=C.UTF-8',
      ]);
      run(c.command, c.args, { env: this.env, timeoutMs: 120_000 });
    }
    for (const [name, text] of [
      ['postgresql.conf', postgresConf(this.options, { socketDir: this.socketDir, cert, key })],
      ['pg_hba.conf', pgHbaConf(this.options, this.superuser)],
    ]) {
      writeFileSync(join(this.dataDir, name), text);
      this.own(join(this.dataDir, name), 0o600);
    }
  }

  private get env(): NodeJS.ProcessEnv {
    return { PATH: '/usr/bin:/bin', LANG: 'C.UTF-8', LC_ALL: 'C.UTF-8' };
  }

  public async start(): Promise<void> {
    this.init();
    if (!existsSync(this.logFile)) writeFileSync(this.logFile, '');
    const from = statSync(this.logFile).size;
    const { command, args } = this.asServerUser(this.bin('postgres'), ['-D', this.dataDir]);
    this.pid = startDetached(command, args, { env: this.env, logFile: this.logFile });
    const started = () => readFileSync(this.logFile).subarray(from).toString('utf8');
    await waitFor(
      `PostgreSQL on ${this.options.host}:${this.options.port} (see ${this.logFile})`,
      () => {
        if (this.pid && !isAlive(this.pid)) throw new Error(`postgres exited: ${tail(this.logFile)}`);
        return /database system is ready to accept connections/.test(started());
      },
      60_000,
    );
  }

  /** The postmaster's pid (under bubblewrap the pid we started is bwrap's). */
  private postmasterPid(): number | undefined {
    try {
      const pid = Number(readFileSync(join(this.dataDir, 'postmaster.pid'), 'utf8').split('\n')[0]);
      return pid > 0 ? pid : undefined;
    } catch {
      return undefined;
    }
  }

  /** Fast shutdown (SIGINT: clients are disconnected, a checkpoint is written), then the process group. */
  public async stop(): Promise<void> {
    const postmaster = this.postmasterPid();
    if (postmaster && this.runs(postmaster)) {
      process.kill(postmaster, 'SIGINT');
      try {
        await waitFor(`postgres (pid ${postmaster}) to shut down`, () => !isAlive(postmaster), 30_000);
      } catch {
        process.kill(postmaster, 'SIGQUIT');
        await waitFor(`postgres (pid ${postmaster}) to quit`, () => !isAlive(postmaster), 10_000);
      }
    }
    // What we started (bwrap or setpriv) ends with the postmaster; a recorded pid is signalled only while it is still
    // ours (its command line names our data directory), never a process that reused the number.
    const pid = this.pid;
    if (pid && this.runs(pid)) await stopProcess(pid, 5_000);
    this.pid = undefined;
  }

  private runs(pid: number): boolean {
    try {
      return readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').includes(this.dataDir);
    } catch {
      return false;
    }
  }

  public async restart(): Promise<void> {
    await this.stop();
    await this.start();
  }

  /**
   * Runs SQL through the socket as the bootstrap superuser (psql, ON_ERROR_STOP) and returns its unaligned, tuples-only
   * output. The SQL goes through stdin, never the command line.
   */
  public psql(sql: string, database = 'postgres'): string {
    const c = this.asServerUser(this.bin('psql'), [
      '-X',
      '-q',
      '-A',
      '-t',
      '-v',
      'ON_ERROR_STOP=1',
      '-h',
      this.socketDir,
      '-p',
      String(this.options.port),
      '-U',
      this.superuser,
      '-d',
      database,
      '-f',
      '-',
    ]);
    return run(c.command, c.args, { env: this.env, input: sql, timeoutMs: 60_000 });
  }

  /** The database, schema, tables, sequences, roles and grants Celery's backend uses, made as the admin role. */
  public setUpCelery(layout: CeleryDatabaseLayout): void {
    const { asSuperuser, asAdmin } = celeryLayoutStatements(layout);
    this.psql(asSuperuser.map((s) => `${s};\n`).join(''));
    this.psql(
      [`SET ROLE ${quoteIdent(layout.admin.username)}`, ...asAdmin].map((s) => `${s};\n`).join(''),
      layout.database ?? DEFAULTS.postgres.database,
    );
  }
}
