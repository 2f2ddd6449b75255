import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { DEFAULTS } from '../core/defaults';
import { isAlive, startDetached, stopProcess, waitFor } from './process';
import { ServerStack, hostStack } from './stack';

export interface RedisServerOptions {
  /** Directory for config, data, log and pid. */
  readonly dir: string;
  readonly host: string;
  readonly tlsPort: number;
  /** A plaintext port too (benchmarks and capture controls only). @default none (port 0) */
  readonly plaintextPort?: number;
  readonly certFile: string;
  readonly keyFile: string;
  readonly caFile: string;
  /** Require client certificates. @default false */
  readonly mutualTls?: boolean;
  /** The application user (an ACL user; the default user is switched off). */
  readonly username: string;
  readonly password: string;
  /** A user that may run every command (ACL SETUSER, CLIENT KILL), for tests that rotate passwords. @default none */
  readonly admin?: { readonly username: string; readonly password: string };
  /** @default "TLSv1.2 TLSv1.3" */
  readonly tlsProtocols?: string;
  /** @default - OpenSSL's default cipher list */
  readonly tlsCiphers?: string;
  /** Extra environment (e.g. OPENSSL_CONF for deliberately weakened test servers). */
  readonly env?: NodeJS.ProcessEnv;
}

/** redis.conf for a TLS-only server. redis.conf has no trailing comments, so every comment is a line of its own. */
export function redisConf(o: RedisServerOptions): string {
  const lines = [
    '# celery-tls dev: TLS-only Redis',
    `bind ${o.host}`,
    'protected-mode yes',
    `port ${o.plaintextPort ?? 0}`,
    `tls-port ${o.tlsPort}`,
    `tls-cert-file ${o.certFile}`,
    `tls-key-file ${o.keyFile}`,
    `tls-ca-cert-file ${o.caFile}`,
    `tls-auth-clients ${o.mutualTls ? 'yes' : 'no'}`,
    `tls-protocols "${o.tlsProtocols ?? 'TLSv1.2 TLSv1.3'}"`,
    ...(o.tlsCiphers ? [`tls-ciphers ${o.tlsCiphers}`] : []),
    'tls-prefer-server-ciphers yes',
    `dir ${join(o.dir, 'data')}`,
    `pidfile ${join(o.dir, 'redis.pid')}`,
    `logfile ${join(o.dir, 'redis.log')}`,
    'daemonize no',
    '# Celery keeps queue bindings and unacknowledged messages in keys without TTL',
    'maxmemory-policy noeviction',
    '# Persist so that a restart loses no queued task or stored result',
    'appendonly yes',
    'appendfsync everysec',
    'save ""',
    '# Only the application user, with the access string RedisAuth.rbacUsers() gives ElastiCache users;',
    '# the passwordless default user is off',
    'user default off',
    `user ${o.username} >${o.password} ${DEFAULTS.redis.rbac.accessString}`,
    ...(o.admin ? [`user ${o.admin.username} >${o.admin.password} on ~* &* +@all`] : []),
  ];
  return lines.join('\n') + '\n';
}

export class RedisServer {
  public pid?: number;

  /** Runs the stack's valkey-server (or redis-server): both read this configuration. */
  constructor(
    public readonly options: RedisServerOptions,
    private readonly stack: ServerStack = hostStack(),
  ) {
    if (!stack.redisServer)
      throw new Error(`no valkey-server or redis-server in ${stack.name} (apt-get install redis-server)`);
  }

  get logFile(): string {
    return join(this.options.dir, 'redis.log');
  }

  public writeConfig(): string {
    mkdirSync(join(this.options.dir, 'data'), { recursive: true });
    if ([this.options.password, this.options.username, this.options.admin?.password ?? ''].some((x) => /\s/.test(x)))
      throw new Error('Redis ACL user names and passwords cannot contain spaces');
    const file = join(this.options.dir, 'redis.conf');
    writeFileSync(file, redisConf(this.options), { mode: 0o600 });
    return file;
  }

  public async start(): Promise<void> {
    const conf = this.writeConfig();
    const { command, args } = this.stack.command(this.stack.redisServer!, [conf]);
    this.pid = startDetached(command, args, {
      logFile: join(this.options.dir, 'redis.stdout'),
      env: { ...process.env, ...this.options.env },
    });
    await waitFor(
      `redis-server on ${this.options.host}:${this.options.tlsPort} (see ${this.logFile})`,
      () => {
        if (this.pid && !isAlive(this.pid)) throw new Error(`redis-server exited: ${tail(this.logFile)}`);
        return existsSync(this.logFile) && readFileSync(this.logFile, 'utf8').includes('Ready to accept connections');
      },
      20_000,
    );
  }

  public async stop(): Promise<void> {
    if (this.pid) await stopProcess(this.pid);
    this.pid = undefined;
  }

  public async restart(): Promise<void> {
    await this.stop();
    writeFileSync(this.logFile, '');
    await this.start();
  }
}

export function tail(file: string, lines = 15): string {
  try {
    return readFileSync(file, 'utf8').trim().split('\n').slice(-lines).join('\n');
  } catch {
    return '(no log)';
  }
}
