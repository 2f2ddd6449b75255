import { createHash, randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { isAlive, run, startDetached, stopProcess, waitFor } from './process';
import { tail } from './redis-server';
import { DeadLetterModel } from '../core/rabbitmq-dead-letter';
import { ServerStack, hostStack } from './stack';

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
  /**
   * Deny the features RabbitMQ 4.3 (and Amazon MQ's 4.3 brokers) removed: transient non-exclusive queues and global
   * QoS, so that a 4.0 server behaves like 4.3 for Celery. @default false
   */
  readonly denyDeprecatedFeatures?: boolean;
  /**
   * The management HTTP API over HTTPS only (as Amazon MQ serves it), with the server certificate: the users custom
   * resource's handler runs against it in the end-to-end suite. @default none
   */
  readonly managementPort?: number;
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
    // https://www.rabbitmq.com/docs/deprecated-features: 4.3 removes both (Amazon MQ's RabbitMQ 4.3 page).
    ...(o.denyDeprecatedFeatures
      ? ['deprecated_features.permit.transient_nonexcl_queues = false', 'deprecated_features.permit.global_qos = false']
      : []),
    ...(o.managementPort
      ? [
          `management.ssl.ip = ${o.host}`,
          `management.ssl.port = ${o.managementPort}`,
          `management.ssl.cacertfile = ${o.caFile}`,
          `management.ssl.certfile = ${o.certFile}`,
          `management.ssl.keyfile = ${o.keyFile}`,
        ]
      : []),
    `log.file = ${join(o.dir, 'log', 'rabbit.log')}`,
    'log.file.level = info',
    'log.console = false',
  ];
  return lines.join('\n') + '\n';
}

export class RabbitMqServer {
  public pid?: number;
  public readonly nodeName: string;

  /** Debian's scripts in <bin> (/usr/lib/rabbitmq/bin) run as the caller; the ones in /usr/sbin switch user. */
  constructor(
    public readonly options: RabbitMqServerOptions,
    private readonly stack: ServerStack = hostStack(),
  ) {
    if (!stack.rabbitMqBin) throw new Error(`no rabbitmq-server in ${stack.name} (apt-get install rabbitmq-server)`);
    this.nodeName = `celery-tls-${options.tlsPort}@localhost`;
  }

  private bin(name: string, args: string[]) {
    return this.stack.command(join(this.stack.rabbitMqBin!, name), args);
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
    const plugins = [
      ...(this.options.mutualTls ? ['rabbitmq_auth_mechanism_ssl'] : []),
      ...(this.options.managementPort ? ['rabbitmq_management'] : []),
    ];
    writeFileSync(join(d, 'enabled_plugins'), `[${plugins.join(',')}].\n`);
  }

  public async start(): Promise<void> {
    this.writeConfig();
    const { command, args } = this.bin('rabbitmq-server', []);
    this.pid = startDetached(command, args, { env: this.env, logFile: join(this.options.dir, 'server.stdout') });
    await waitFor(
      `rabbitmq-server node ${this.nodeName} (see ${this.logFile})`,
      () => {
        if (this.pid && !isAlive(this.pid))
          throw new Error(
            `rabbitmq-server exited: ${tail(join(this.options.dir, 'server.stdout'))}\n${tail(this.logFile)}`,
          );
        return existsSync(this.logFile) && /Server startup complete/.test(readFileSync(this.logFile, 'utf8'));
      },
      90_000,
      250,
    );
  }

  public ctl(...args: string[]): string {
    return this.tool('rabbitmqctl', args);
  }

  /** rabbitmqctl, rabbitmq-queues, rabbitmq-diagnostics, ... against this node. */
  public tool(name: string, args: string[], input?: string): string {
    const c = this.bin(name, ['-n', this.nodeName, ...args]);
    return run(c.command, c.args, { env: this.env, timeoutMs: 60_000, input });
  }

  /**
   * A vhost, a password user and (for mutual TLS) certificate users, each with permissions on the vhost only, and the
   * dead-letter queue and policy the library sets on Amazon MQ (quorum queues only). Users arrive as definitions with
   * salted SHA-256 password hashes (RabbitMQ's default scheme), so that no password shows in a process list;
   * rabbitmqctl 4's password prompt does not read a pipe.
   */
  public setUp(
    vhost: string,
    users: { name: string; password?: string; tags?: string[] }[],
    deadLetter?: DeadLetterModel,
  ): void {
    this.importDefinitions({
      users: users.map((u) => ({
        name: u.name,
        password_hash: u.password === undefined ? '' : passwordHash(u.password),
        hashing_algorithm: 'rabbit_password_hashing_sha256',
        tags: u.tags ?? [],
      })),
      ...vhostDefinitions(
        vhost,
        users.map((u) => u.name),
        deadLetter,
      ),
    });
    this.ctl('delete_user', 'guest');
  }

  private importDefinitions(definitions: object): void {
    const file = join(this.options.dir, 'definitions.json');
    writeFileSync(file, JSON.stringify(definitions), { mode: 0o600 });
    try {
      this.ctl('import_definitions', file);
    } finally {
      rmSync(file, { force: true });
    }
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
      const epmd = this.stack.command('epmd', ['-port', String(this.options.epmdPort), '-kill']);
      run(epmd.command, epmd.args, { env: this.env, timeoutMs: 10_000 });
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

function vhostDefinitions(vhost: string, users: string[], deadLetter?: DeadLetterModel) {
  return {
    vhosts: [{ name: vhost }],
    permissions: users.map((user) => ({ user, vhost, configure: '.*', write: '.*', read: '.*' })),
    queues: deadLetter
      ? [{ name: deadLetter.queue, vhost, durable: true, auto_delete: false, arguments: deadLetter.queueArguments }]
      : [],
    policies: deadLetter
      ? [
          {
            vhost,
            name: deadLetter.policyName,
            pattern: deadLetter.pattern,
            'apply-to': deadLetter.applyTo,
            definition: deadLetter.definition,
            priority: deadLetter.priority,
          },
        ]
      : [],
  };
}

/** rabbit_password_hashing_sha256: base64(salt + SHA-256(salt + password)) with a 4-byte salt. */
export function passwordHash(password: string): string {
  const salt = randomBytes(4);
  return Buffer.concat([
    salt,
    createHash('sha256')
      .update(Buffer.concat([salt, Buffer.from(password, 'utf8')]))
      .digest(),
  ]).toString('base64');
}
