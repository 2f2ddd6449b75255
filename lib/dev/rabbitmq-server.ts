import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { isAlive, run, startDetached, stopProcess, waitFor } from './process';
import { tail } from './redis-server';

/** Debian's rabbitmq scripts: the ones in /usr/sbin switch to the rabbitmq user; these run as the caller. */
const RABBITMQ_BIN = '/usr/lib/rabbitmq/bin';

export interface RabbitMqServerOptions {
  readonly dir: string;
  readonly host: string;
  readonly tlsPort: number;
  /** Plaintext AMQP too (benchmarks and capture controls only). @default none (`listeners.tcp = none`) */
  readonly plaintextPort?: number;
  /** Erlang distribution and epmd ports: own ones, so that nothing else on the machine is touched. */
  readonly distPort: number;
  readonly epmdPort: number;
  readonly certFile: string;
  readonly keyFile: string;
  readonly caFile: string;
  /** Require client certificates and enable EXTERNAL (certificate) login. @default false */
  readonly mutualTls?: boolean;
}

export function rabbitMqServerBinary(): string | undefined {
  const p = join(RABBITMQ_BIN, 'rabbitmq-server');
  return existsSync(p) ? p : undefined;
}

export function rabbitMqConf(o: RabbitMqServerOptions): string {
  const lines = [
    '# celery-tls dev: TLS-only RabbitMQ',
    o.plaintextPort ? `listeners.tcp.1 = ${o.host}:${o.plaintextPort}` : 'listeners.tcp = none',
    `listeners.ssl.1 = ${o.host}:${o.tlsPort}`,
    `ssl_options.cacertfile = ${o.caFile}`,
    `ssl_options.certfile = ${o.certFile}`,
    `ssl_options.keyfile = ${o.keyFile}`,
    'ssl_options.versions.1 = tlsv1.3',
    'ssl_options.versions.2 = tlsv1.2',
    'ssl_options.verify = verify_peer',
    `ssl_options.fail_if_no_peer_cert = ${o.mutualTls ? 'true' : 'false'}`,
    'auth_mechanisms.1 = PLAIN',
    'auth_mechanisms.2 = AMQPLAIN',
    ...(o.mutualTls ? ['auth_mechanisms.3 = EXTERNAL', 'ssl_cert_login_from = common_name'] : []),
    'loopback_users = none',
    `log.file = ${join(o.dir, 'log', 'rabbit.log')}`,
    'log.file.level = info',
    'log.console = false',
  ];
  return lines.join('\n') + '\n';
}

export class RabbitMqServer {
  public pid?: number;
  public readonly nodeName: string;

  constructor(public readonly options: RabbitMqServerOptions) {
    this.nodeName = `celery-tls-${options.tlsPort}@localhost`;
  }

  get logFile(): string {
    return join(this.options.dir, 'log', 'rabbit.log');
  }

  /** The environment rabbitmq-server and rabbitmqctl share: own HOME (cookie), node, directories and ports. */
  get env(): NodeJS.ProcessEnv {
    const d = this.options.dir;
    return {
      PATH: process.env.PATH,
      LANG: 'C.UTF-8',
      HOME: d,
      RABBITMQ_NODENAME: this.nodeName,
      RABBITMQ_CONFIG_FILE: join(d, 'rabbitmq.conf'),
      RABBITMQ_ENABLED_PLUGINS_FILE: join(d, 'enabled_plugins'),
      RABBITMQ_MNESIA_BASE: join(d, 'mnesia'),
      RABBITMQ_LOG_BASE: join(d, 'log'),
      RABBITMQ_DIST_PORT: String(this.options.distPort),
      ERL_EPMD_PORT: String(this.options.epmdPort),
      RABBITMQ_ALLOW_INPUT: '',
    };
  }

  public writeConfig(): void {
    const d = this.options.dir;
    for (const sub of ['mnesia', 'log']) mkdirSync(join(d, sub), { recursive: true });
    writeFileSync(join(d, 'rabbitmq.conf'), rabbitMqConf(this.options), { mode: 0o600 });
    writeFileSync(join(d, 'enabled_plugins'), this.options.mutualTls ? '[rabbitmq_auth_mechanism_ssl].\n' : '[].\n');
  }

  public async start(): Promise<void> {
    this.writeConfig();
    this.pid = startDetached(join(RABBITMQ_BIN, 'rabbitmq-server'), [], { env: this.env, logFile: join(this.options.dir, 'server.stdout') });
    await waitFor(`rabbitmq-server node ${this.nodeName} (see ${this.logFile})`, () => {
      if (this.pid && !isAlive(this.pid)) throw new Error(`rabbitmq-server exited: ${tail(join(this.options.dir, 'server.stdout'))}\n${tail(this.logFile)}`);
      return existsSync(this.logFile) && /Server startup complete/.test(readFileSync(this.logFile, 'utf8'));
    }, 90_000, 250);
  }

  public ctl(...args: string[]): string {
    return run(join(RABBITMQ_BIN, 'rabbitmqctl'), ['-n', this.nodeName, ...args], { env: this.env, timeoutMs: 60_000 });
  }

  /** A vhost, a password user and (for mutual TLS) certificate users, each with permissions on the vhost only. */
  public setUp(vhost: string, users: { name: string; password?: string }[]): void {
    this.ctl('add_vhost', vhost);
    for (const u of users) {
      // rabbitmqctl reads the password from standard input when it is omitted: it never shows in a process list.
      run(join(RABBITMQ_BIN, 'rabbitmqctl'), ['-n', this.nodeName, 'add_user', u.name], { env: this.env, input: u.password ?? randomFiller() });
      if (u.password === undefined) this.ctl('clear_password', u.name);
      this.ctl('set_permissions', '-p', vhost, u.name, '.*', '.*', '.*');
    }
    this.ctl('delete_user', 'guest');
  }

  public async stop(): Promise<void> {
    if (this.pid && isAlive(this.pid)) {
      try {
        this.ctl('stop');
      } catch {
        /* fall back to signals */
      }
      await stopProcess(this.pid, 30_000);
    }
    this.pid = undefined;
    try {
      run('epmd', ['-port', String(this.options.epmdPort), '-kill'], { env: this.env, timeoutMs: 10_000 });
    } catch {
      /* epmd was not running */
    }
  }

  /** Stops the node and starts it again on the same ports and data (queued messages are durable). */
  public async restart(): Promise<void> {
    await this.stop();
    writeFileSync(this.logFile, '');
    await this.start();
  }
}

function randomFiller(): string {
  return randomBytes(24).toString('base64url');
}
