import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { CeleryConfig, CeleryConfigInput, CeleryEndpoint } from '../index';
import { DEFAULTS } from '../core/defaults';
import { deadLetterModel } from '../core/rabbitmq-dead-letter';
import { createCertificateAuthority, issueCertificate, writeCertificate } from './pki';
import { PostgresServer } from './postgres-server';
import { freePort, isAlive } from './process';
import { RabbitMqServer } from './rabbitmq-server';
import { RedisServer } from './redis-server';
import { ServerStack, hostStack, minorVersion, rootStack } from './stack';

export type DevBroker = 'rabbitmq' | 'redis';
/** The result backend of the rendered settings: Valkey/Redis, or PostgreSQL through Celery's database backend. */
export type DevBackend = 'redis' | 'postgres';
export type DevRole = 'producer' | 'worker';

export interface DevOptions {
  /** State directory: certificates, configs, data, logs, rendered settings. */
  readonly dir: string;
  /** Require client certificates on both servers; RabbitMQ logs clients in with EXTERNAL. @default false */
  readonly mutualTls?: boolean;
  /** Broker of the rendered settings. @default "rabbitmq" when rabbitmq-server is installed, else "redis" */
  readonly broker?: DevBroker;
  /**
   * Result backend of the rendered settings. "postgres" starts a TLS-only PostgreSQL with the database, schema,
   * tables and the two login roles a deployment has (`DEFAULTS.postgres`). @default "redis"
   */
  readonly backend?: DevBackend;
  /** Also open plaintext listeners (benchmarks and capture controls only; never for development). @default false */
  readonly plaintextListeners?: boolean;
  /** Start the servers (when installed). @default true */
  readonly start?: boolean;
  /**
   * A Debian root made by `scripts/current-stack` (RabbitMQ 4, Valkey 8, Celery 5.5): its servers run instead of the
   * host's. @default - the host's packages
   */
  readonly stackRoot?: string;
  /**
   * Administrators, as a deployment has them (passwords in secrets/): RabbitMQ's management HTTP API over HTTPS with
   * an administrator, as on Amazon MQ, for the users custom resource's handler; a Valkey/Redis user that may run ACL
   * commands, for password rotation. @default false
   */
  readonly adminUsers?: boolean;
  /** RabbitMQ: deny what 4.3 removed (transient non-exclusive queues, global QoS) and render 4.3 settings. @default false */
  readonly rabbitMq43?: boolean;
  /** Progress lines. @default - silent */
  readonly log?: (line: string) => void;
}

/** Everything `dev down` and the tests need to find again; written to state.json (no secrets). */
export interface DevState {
  readonly version: 1;
  readonly dir: string;
  readonly host: string;
  readonly mutualTls: boolean;
  readonly broker: DevBroker;
  /** Undefined in environments written before PostgreSQL: "redis". */
  readonly backend?: DevBackend;
  readonly caFile: string;
  /** The stack root the servers came from; undefined for the host's packages. */
  readonly stackRoot?: string;
  readonly redis?: {
    pid?: number;
    tlsPort: number;
    plaintextPort?: number;
    username: string;
    engine: 'valkey' | 'redis';
    version?: string;
    adminUsername?: string;
  };
  readonly rabbitmq?: {
    pid?: number;
    tlsPort: number;
    plaintextPort?: number;
    distPort: number;
    epmdPort: number;
    vhost: string;
    username: string;
    nodeName: string;
    version?: string;
    rabbitMq43?: boolean;
    managementPort?: number;
    adminUsername?: string;
  };
  readonly postgres?: {
    pid?: number;
    port: number;
    /** Plaintext TCP accepted too (benchmarks only). */
    plaintext?: boolean;
    database: string;
    schema: string;
    version?: string;
    adminUsername: string;
    users: Record<DevRole, string>;
  };
  readonly clients: Record<DevRole, { certFile: string; keyFile: string; commonName: string }>;
}

const HOST = 'localhost';
const BIND = '127.0.0.1';
const VHOST = 'celery';
const USER = 'celery';
const ADMIN = 'celery-tls-admin';
/** PostgreSQL's counterpart of RDS's master user (an unquoted identifier: no hyphen). */
const POSTGRES_ADMIN = 'celery_tls_admin';

export type DevSecret =
  'redis' | 'rabbitmq' | 'redis-admin' | 'rabbitmq-admin' | 'postgres-admin' | 'postgres-worker' | 'postgres-producer';

/** Development passwords: awkward characters on purpose, so that URL encoding is exercised in development too. */
function devPassword(): string {
  return `${randomBytes(12).toString('base64url')}/+%@:!`;
}

export class DevEnvironment {
  /** Reads a running environment back from its directory. */
  public static load(dir: string): DevEnvironment {
    const file = join(resolve(dir), 'state.json');
    if (!existsSync(file))
      throw new Error(`no celery-tls dev environment in ${resolve(dir)} (state.json missing): run celery-tls dev up`);
    return new DevEnvironment(JSON.parse(readFileSync(file, 'utf8')) as DevState);
  }

  /** Creates the CA and certificates, writes TLS-only configs, starts the servers, creates users, renders settings. */
  public static async up(options: DevOptions): Promise<DevEnvironment> {
    const log = options.log ?? (() => undefined);
    const dir = resolve(options.dir);
    if (existsSync(join(dir, 'state.json')))
      throw new Error(`${dir} already holds a dev environment: run celery-tls dev down first`);
    mkdirSync(join(dir, 'pki'), { recursive: true, mode: 0o700 });
    mkdirSync(join(dir, 'secrets'), { recursive: true, mode: 0o700 });
    const start = options.start ?? true;
    const stack = options.stackRoot ? rootStack(options.stackRoot, [dir]) : hostStack();
    const broker = options.broker ?? (stack.rabbitMqBin ? 'rabbitmq' : 'redis');
    const backend = options.backend ?? 'redis';
    if (backend === 'postgres' && !stack.postgresBin)
      throw new Error(`--backend postgres needs PostgreSQL in ${stack.name}: apt-get install postgresql`);
    const mutualTls = options.mutualTls ?? false;

    log(`creating a local CA and certificates in ${join(dir, 'pki')}`);
    const ca = await createCertificateAuthority('celery-tls dev CA');
    const caFile = writeCertificate(join(dir, 'pki', 'ca'), ca).certFile;
    const server = writeCertificate(
      join(dir, 'pki', 'server'),
      await issueCertificate(ca, { commonName: HOST, dnsNames: [HOST], ipAddresses: [BIND], usage: 'server' }),
    );
    const clients = {} as DevState['clients'];
    for (const role of ['producer', 'worker'] as const) {
      const commonName = `celery-${role}`;
      clients[role] = {
        ...writeCertificate(join(dir, 'pki', role), await issueCertificate(ca, { commonName, usage: 'client' })),
        commonName,
      };
    }

    let redis: DevState['redis'];
    if (stack.redisServer) {
      const password = devPassword();
      writeFileSync(join(dir, 'secrets', 'redis-password'), password, { mode: 0o600 });
      const admin = options.adminUsers ? ADMIN : undefined;
      if (admin) writeFileSync(join(dir, 'secrets', 'redis-admin-password'), devPassword(), { mode: 0o600 });
      const tlsPort = await freePort(BIND);
      const plaintextPort = options.plaintextListeners ? await freePort(BIND) : undefined;
      const r = new RedisServer(
        {
          dir: join(dir, 'redis'),
          host: BIND,
          tlsPort,
          plaintextPort,
          certFile: server.certFile,
          keyFile: server.keyFile,
          caFile,
          mutualTls,
          username: USER,
          password,
          ...(admin ? { admin: { username: admin, password: DevEnvironment.readSecret(dir, 'redis-admin') } } : {}),
        },
        stack,
      );
      r.writeConfig();
      if (start) {
        log(`starting ${stack.redisEngine}-server ${stack.versions.redis ?? ''} (TLS only) on ${BIND}:${tlsPort}`);
        await r.start();
      }
      redis = {
        pid: r.pid,
        tlsPort,
        plaintextPort,
        username: USER,
        engine: stack.redisEngine,
        version: stack.versions.redis,
        adminUsername: admin,
      };
    } else {
      log('redis-server is not installed: wrote no Redis config (apt-get install redis-server)');
    }

    let rabbitmq: DevState['rabbitmq'];
    if (stack.rabbitMqBin) {
      const password = devPassword();
      writeFileSync(join(dir, 'secrets', 'rabbitmq-password'), password, { mode: 0o600 });
      const ports = {
        tlsPort: await freePort(BIND),
        distPort: await freePort(BIND),
        epmdPort: await freePort(BIND),
        plaintextPort: options.plaintextListeners ? await freePort(BIND) : undefined,
        managementPort: options.adminUsers ? await freePort(BIND) : undefined,
      };
      const admin = options.adminUsers ? { name: ADMIN, password: devPassword(), tags: ['administrator'] } : undefined;
      if (admin) writeFileSync(join(dir, 'secrets', 'rabbitmq-admin-password'), admin.password, { mode: 0o600 });
      // RabbitMQ 4 declares quorum queues, as Amazon MQ does: the same dead-letter policy the library sets there.
      const quorum = Number(minorVersion(stack.versions.rabbitmq)?.split('.')[0] ?? 0) >= 4;
      const r = new RabbitMqServer(
        {
          dir: join(dir, 'rabbitmq'),
          host: BIND,
          ...ports,
          certFile: server.certFile,
          keyFile: server.keyFile,
          caFile,
          mutualTls,
          denyDeprecatedFeatures: options.rabbitMq43,
        },
        stack,
      );
      r.writeConfig();
      if (start) {
        log(
          `starting rabbitmq-server ${stack.versions.rabbitmq ?? ''} node ${r.nodeName} (TLS only${options.rabbitMq43 ? ', 4.3 behaviour' : ''}) on ${BIND}:${ports.tlsPort}`,
        );
        await r.start();
        log(`creating vhost "${VHOST}" and users`);
        r.setUp(
          VHOST,
          [
            { name: USER, password },
            ...(admin ? [admin] : []),
            ...(mutualTls ? Object.values(clients).map((c) => ({ name: c.commonName })) : []),
          ],
          quorum ? deadLetterModel() : undefined,
        );
      }
      rabbitmq = {
        pid: r.pid,
        ...ports,
        vhost: VHOST,
        username: USER,
        nodeName: r.nodeName,
        version: stack.versions.rabbitmq,
        rabbitMq43: options.rabbitMq43,
        adminUsername: admin?.name,
      };
    } else {
      log('rabbitmq-server is not installed: wrote no RabbitMQ config (apt-get install rabbitmq-server)');
    }

    let postgres: DevState['postgres'];
    if (backend === 'postgres') {
      const users = DEFAULTS.postgres.users;
      for (const name of ['admin', 'worker', 'producer'])
        writeFileSync(join(dir, 'secrets', `postgres-${name}-password`), devPassword(), { mode: 0o600 });
      const port = await freePort(BIND);
      const p = new PostgresServer(
        {
          dir: join(dir, 'postgres'),
          host: BIND,
          port,
          plaintext: options.plaintextListeners,
          certFile: server.certFile,
          keyFile: server.keyFile,
        },
        stack,
      );
      p.init();
      if (start) {
        log(`starting PostgreSQL ${stack.postgresVersion ?? ''} (TLS only) on ${BIND}:${port}`);
        await p.start();
        log(
          `creating database "${DEFAULTS.postgres.database}", its tables and the roles ${users.worker}, ${users.producer}`,
        );
        const secret = (name: string) => DevEnvironment.readSecret(dir, `postgres-${name}`);
        try {
          p.setUpCelery({
            admin: { username: POSTGRES_ADMIN, password: secret('admin') },
            worker: { username: users.worker, password: secret('worker') },
            producer: { username: users.producer, password: secret('producer') },
          });
        } catch (e) {
          // No state.json yet, so `dev down` could not find this server: stop it here.
          await p.stop();
          throw e;
        }
      }
      postgres = {
        pid: p.pid,
        port,
        plaintext: options.plaintextListeners,
        database: DEFAULTS.postgres.database,
        schema: DEFAULTS.postgres.schema,
        version: stack.postgresVersion,
        adminUsername: POSTGRES_ADMIN,
        users: { worker: users.worker, producer: users.producer },
      };
    }

    const env = new DevEnvironment({
      version: 1,
      dir,
      host: HOST,
      mutualTls,
      broker,
      backend,
      caFile,
      stackRoot: stack.root,
      redis,
      rabbitmq,
      postgres,
      clients,
    });
    writeFileSync(join(dir, 'state.json'), JSON.stringify(env.state, null, 2) + '\n');
    env.render();
    log(
      `rendered settings in ${join(dir, 'worker')} and ${join(dir, 'producer')}; load the passwords with: eval "$(celery-tls dev env --dir ${options.dir})"`,
    );
    return env;
  }

  private constructor(public readonly state: DevState) {}

  public get dir(): string {
    return this.state.dir;
  }

  public password(server: DevSecret): string {
    return DevEnvironment.readSecret(this.dir, server);
  }

  private static readSecret(dir: string, name: string): string {
    return readFileSync(join(dir, 'secrets', `${name}-password`), 'utf8');
  }

  /** The Celery settings for a role, pointing at localhost with the local CA. */
  public celeryInput(role: DevRole, broker: DevBroker = this.state.broker): CeleryConfigInput {
    const s = this.state;
    const client = s.mutualTls ? { certFile: s.clients[role].certFile, keyFile: s.clients[role].keyFile } : {};
    const redisEndpoint = (db: number): CeleryEndpoint => {
      if (!s.redis) throw new Error('redis-server is not part of this environment');
      return {
        scheme: 'rediss',
        host: s.host,
        port: s.redis.tlsPort,
        db,
        username: s.redis.username,
        engine: s.redis.engine ?? 'redis',
        engineVersion: minorVersion(s.redis.version) ?? '7.0',
        caCerts: s.caFile,
        ...client,
      };
    };
    let brokerEndpoint: CeleryEndpoint;
    if (broker === 'rabbitmq') {
      if (!s.rabbitmq) throw new Error('rabbitmq-server is not part of this environment');
      brokerEndpoint = {
        scheme: 'amqps',
        host: s.host,
        port: s.rabbitmq.tlsPort,
        vhost: s.rabbitmq.vhost,
        engine: 'rabbitmq',
        engineVersion: s.rabbitmq.rabbitMq43 ? '4.3' : (minorVersion(s.rabbitmq.version) ?? '3.10'),
        caCerts: s.caFile,
        ...(s.mutualTls
          ? { ...client, username: s.clients[role].commonName, loginMethod: 'EXTERNAL' as const }
          : { username: s.rabbitmq.username }),
      };
    } else {
      brokerEndpoint = redisEndpoint(0);
    }
    if (s.backend === 'postgres') return { broker: brokerEndpoint, resultBackend: this.postgresEndpoint(role) };
    return { broker: brokerEndpoint, resultBackend: s.redis ? redisEndpoint(broker === 'redis' ? 1 : 0) : undefined };
  }

  /** The PostgreSQL result backend as a role logs in to it: its own login role, the local CA, verify-full. */
  public postgresEndpoint(role: DevRole): CeleryEndpoint {
    const p = this.state.postgres;
    if (!p) throw new Error('PostgreSQL is not part of this environment (celery-tls dev up --backend postgres)');
    return {
      scheme: 'postgresql',
      engine: 'postgresql',
      ...(p.version ? { engineVersion: minorVersion(p.version) } : {}),
      host: this.state.host,
      port: p.port,
      database: p.database,
      username: p.users[role],
      caCerts: this.state.caFile,
    };
  }

  /**
   * Environment variables with the development passwords of a role (development only: they never leave this
   * machine). With PostgreSQL each role has its own login role and password.
   */
  public secretEnvironment(broker: DevBroker = this.state.broker, role: DevRole = 'worker'): Record<string, string> {
    const env: Record<string, string> = {};
    if (broker === 'rabbitmq' && !this.state.mutualTls) env.CELERY_TLS_BROKER_PASSWORD = this.password('rabbitmq');
    if (broker === 'redis') env.CELERY_TLS_BROKER_PASSWORD = this.password('redis');
    if (this.state.backend === 'postgres') env.CELERY_TLS_RESULT_BACKEND_PASSWORD = this.password(`postgres-${role}`);
    else if (this.state.redis) env.CELERY_TLS_RESULT_BACKEND_PASSWORD = this.password('redis');
    return env;
  }

  /** Writes celeryconfig.py, a Django block, a .env file and the manifest for producers and workers. */
  public render(): void {
    for (const role of ['worker', 'producer'] as const) {
      const out = join(this.dir, role);
      mkdirSync(out, { recursive: true });
      const config = new CeleryConfig(this.celeryInput(role));
      writeFileSync(join(out, 'celeryconfig.py'), config.toPythonModule(`celery-tls dev (${role})`));
      writeFileSync(join(out, 'django_settings.py'), config.toDjangoSettings(`celery-tls dev (${role})`));
      writeFileSync(join(out, 'manifest.json'), JSON.stringify(config.toManifest(), null, 2) + '\n');
      const secrets = Object.entries(this.secretEnvironment(this.state.broker, role))
        .map(([k, v]) => `${k}=${JSON.stringify(v)}`)
        .join('\n');
      writeFileSync(join(out, 'celery.env'), `${config.toDotenv()}# development passwords\n${secrets}\n`, {
        mode: 0o600,
      });
    }
  }

  /** Where this environment's servers and Celery come from. */
  public stack(binds: readonly string[] = []): ServerStack {
    return this.state.stackRoot ? rootStack(this.state.stackRoot, [this.dir, ...binds]) : hostStack();
  }

  public redisServer(): RedisServer {
    const s = this.state;
    if (!s.redis) throw new Error('no redis-server in this environment');
    const server = { certFile: join(this.dir, 'pki', 'server.pem'), keyFile: join(this.dir, 'pki', 'server.key') };
    const r = new RedisServer(
      {
        dir: join(this.dir, 'redis'),
        host: BIND,
        tlsPort: s.redis.tlsPort,
        plaintextPort: s.redis.plaintextPort,
        ...server,
        caFile: s.caFile,
        mutualTls: s.mutualTls,
        username: s.redis.username,
        password: this.password('redis'),
        ...(s.redis.adminUsername
          ? { admin: { username: s.redis.adminUsername, password: this.password('redis-admin') } }
          : {}),
      },
      this.stack(),
    );
    r.pid = s.redis.pid;
    return r;
  }

  public postgresServer(): PostgresServer {
    const s = this.state;
    if (!s.postgres) throw new Error('no PostgreSQL in this environment');
    const p = new PostgresServer(
      {
        dir: join(this.dir, 'postgres'),
        host: BIND,
        port: s.postgres.port,
        plaintext: s.postgres.plaintext,
        certFile: join(this.dir, 'pki', 'server.pem'),
        keyFile: join(this.dir, 'pki', 'server.key'),
      },
      this.stack(),
    );
    p.pid = s.postgres.pid;
    return p;
  }

  public rabbitMqServer(): RabbitMqServer {
    const s = this.state;
    if (!s.rabbitmq) throw new Error('no rabbitmq-server in this environment');
    const r = new RabbitMqServer(
      {
        dir: join(this.dir, 'rabbitmq'),
        host: BIND,
        tlsPort: s.rabbitmq.tlsPort,
        plaintextPort: s.rabbitmq.plaintextPort,
        distPort: s.rabbitmq.distPort,
        epmdPort: s.rabbitmq.epmdPort,
        managementPort: s.rabbitmq.managementPort,
        certFile: join(this.dir, 'pki', 'server.pem'),
        keyFile: join(this.dir, 'pki', 'server.key'),
        caFile: s.caFile,
        mutualTls: s.mutualTls,
        denyDeprecatedFeatures: s.rabbitmq.rabbitMq43,
      },
      this.stack(),
    );
    r.pid = s.rabbitmq.pid;
    return r;
  }

  /** Records new pids after a restart (tests restart servers on purpose). */
  public savePids(pids: { redis?: number; rabbitmq?: number; postgres?: number }): void {
    const s = this.state as { -readonly [K in keyof DevState]: DevState[K] };
    if (s.redis && pids.redis) s.redis = { ...s.redis, pid: pids.redis };
    if (s.postgres && pids.postgres) s.postgres = { ...s.postgres, pid: pids.postgres };
    if (s.rabbitmq && pids.rabbitmq) s.rabbitmq = { ...s.rabbitmq, pid: pids.rabbitmq };
    writeFileSync(join(this.dir, 'state.json'), JSON.stringify(s, null, 2) + '\n');
  }

  /** Stops everything it started (by pid) and removes the state directory. */
  public async down(log: (line: string) => void = () => undefined): Promise<void> {
    if (this.state.rabbitmq) {
      log(`stopping rabbitmq-server node ${this.state.rabbitmq.nodeName}`);
      await this.rabbitMqServer().stop();
    }
    if (this.state.redis?.pid && isAlive(this.state.redis.pid)) {
      log(`stopping redis-server (pid ${this.state.redis.pid})`);
      await this.redisServer().stop();
    }
    if (this.state.postgres) {
      log(`stopping PostgreSQL on port ${this.state.postgres.port}`);
      await this.postgresServer().stop();
    }
    rmSync(this.dir, { recursive: true, force: true });
    log(`removed ${this.dir}`);
  }
}
