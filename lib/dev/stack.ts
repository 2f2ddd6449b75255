import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import { join, resolve } from 'node:path';

/**
 * Where the local servers and Celery come from: the host's packages, or a Debian root built by
 * `scripts/current-stack` (Debian 13: RabbitMQ 4, Valkey 8, PostgreSQL 17, Celery 5.5), whose programs run through bubblewrap with
 * the root as `/` and the host's `/tmp`, the environment directory, `/proc`, `/dev` and loopback network.
 */
export interface ServerStack {
  /** "host", or the root's directory. */
  readonly name: string;
  /** The root's directory; undefined for the host. */
  readonly root?: string;
  /** Paths as seen by the stack's programs (inside the root). */
  readonly python: string;
  readonly rabbitMqBin?: string;
  /** valkey-server where installed, else redis-server. */
  readonly redisServer?: string;
  readonly redisEngine: 'valkey' | 'redis';
  /** PostgreSQL's versioned bin directory (/usr/lib/postgresql/<major>/bin), the newest installed. */
  readonly postgresBin?: string;
  /** The server package's version ("15.18", "17.12"). */
  readonly postgresVersion?: string;
  /** Package versions, e.g. { rabbitmq: "4.0.5", redis: "8.1.1", celery: "5.5.2" }. */
  readonly versions: Readonly<Record<'rabbitmq' | 'redis' | 'celery' | 'kombu' | 'redisPy', string | undefined>>;
  /** The command line that runs `command` (a path inside the stack) on this machine. */
  command(command: string, args: readonly string[]): { command: string; args: string[] };
}

/** The root `scripts/current-stack` builds by default. */
export const DEFAULT_STACK_ROOT = '/var/cache/celery-tls-constructs/debian13';
const RABBITMQ_BIN = '/usr/lib/rabbitmq/bin';
const MARKER = '.celery-tls-stack';

function packageVersion(admindir: string, name: string): string | undefined {
  const r = spawnSync('dpkg-query', [`--admindir=${admindir}`, '-W', '-f=${Status} ${Version}', name], {
    encoding: 'utf8',
  });
  const m = /install ok installed (?:\d+:)?([0-9][0-9.]*)/.exec(r.stdout ?? '');
  return r.status === 0 && m ? m[1].replace(/\.$/, '') : undefined;
}

function versionsOf(root: string) {
  const admindir = join(root, 'var/lib/dpkg');
  const valkey = packageVersion(admindir, 'valkey-server');
  return {
    valkey,
    versions: {
      rabbitmq: packageVersion(admindir, 'rabbitmq-server'),
      redis: valkey ?? packageVersion(admindir, 'redis-server'),
      celery: packageVersion(admindir, 'python3-celery'),
      kombu: packageVersion(admindir, 'python3-kombu'),
      redisPy: packageVersion(admindir, 'python3-redis'),
    },
  };
}

const POSTGRES_LIB = '/usr/lib/postgresql';

/** The newest PostgreSQL server under <root>/usr/lib/postgresql (Debian installs one directory per major version). */
function postgresOf(root: string): { postgresBin?: string; postgresVersion?: string } {
  const lib = join(root, POSTGRES_LIB);
  const majors = existsSync(lib)
    ? readdirSync(lib)
        .filter((m) => /^\d+$/.test(m) && existsSync(join(lib, m, 'bin', 'postgres')))
        .sort((a, b) => Number(b) - Number(a))
    : [];
  if (majors.length === 0) return {};
  return {
    postgresBin: join(POSTGRES_LIB, majors[0], 'bin'),
    postgresVersion: packageVersion(join(root, 'var/lib/dpkg'), `postgresql-${majors[0]}`) ?? majors[0],
  };
}

/** The host's own packages (Debian 12 here: RabbitMQ 3.10, Redis 7.0, Celery 5.2). */
export function hostStack(): ServerStack {
  const { valkey, versions } = versionsOf('/');
  const redisServer = ['/usr/bin/valkey-server', '/usr/bin/redis-server'].find((p) => existsSync(p));
  return {
    name: 'host',
    python: '/usr/bin/python3',
    rabbitMqBin: existsSync(join(RABBITMQ_BIN, 'rabbitmq-server')) ? RABBITMQ_BIN : undefined,
    redisServer,
    redisEngine: valkey && redisServer?.endsWith('valkey-server') ? 'valkey' : 'redis',
    ...postgresOf('/'),
    versions,
    command: (command, args) => ({ command, args: [...args] }),
  };
}

/**
 * A root made by `scripts/current-stack`. `binds` are host directories its programs must see at the same path (the
 * environment directory; `/tmp` always).
 */
export function rootStack(rootDir: string, binds: readonly string[] = []): ServerStack {
  const root = resolve(rootDir);
  if (!isStackRoot(root))
    throw new Error(
      `${root} is not a stack root made by scripts/current-stack (no ${MARKER}): run bash scripts/current-stack ${rootDir}`,
    );
  const bwrap = ['/usr/bin/bwrap', '/bin/bwrap'].find((p) => existsSync(p));
  if (!bwrap)
    throw new Error('bubblewrap (bwrap) is not installed: apt-get install bubblewrap, or run scripts/current-stack');
  const { valkey, versions } = versionsOf(root);
  const mounts = [
    '--bind',
    root,
    '/',
    '--proc',
    '/proc',
    '--dev',
    '/dev',
    '--ro-bind',
    '/etc/hosts',
    '/etc/hosts',
    '--bind',
    '/tmp',
    '/tmp',
  ];
  for (const b of binds) {
    const dir = resolve(b);
    if (dir !== '/tmp' && !dir.startsWith('/tmp/')) mounts.push('--bind', dir, dir);
  }
  return {
    name: root,
    root,
    python: '/usr/bin/python3',
    rabbitMqBin: versions.rabbitmq ? RABBITMQ_BIN : undefined,
    redisServer: valkey ? '/usr/bin/valkey-server' : versions.redis ? '/usr/bin/redis-server' : undefined,
    redisEngine: valkey ? 'valkey' : 'redis',
    ...postgresOf(root),
    versions,
    // The process keeps its group (no --new-session), so stopping the group stops what runs inside.
    command: (command, args) => ({ command: bwrap, args: [...mounts, '--', command, ...args] }),
  };
}

/** major.minor of a package version ("4.0.5" -> "4.0"). */
export function minorVersion(version: string | undefined): string | undefined {
  const m = /^(\d+)\.(\d+)/.exec(version ?? '');
  return m ? `${m[1]}.${m[2]}` : undefined;
}

/** Whether `dir` holds a root made by scripts/current-stack. */
export function isStackRoot(dir: string): boolean {
  return existsSync(join(dir, MARKER));
}

/**
 * How a local stack differs from what the library deploys by default (Amazon MQ's RabbitMQ, ElastiCache's Valkey,
 * and the Celery the settings are written for): one line per difference, none when it mirrors production.
 */
export function differencesFromProduction(
  stack: Pick<ServerStack, 'versions' | 'redisEngine'>,
  production: { rabbitmq: string; valkey: string; celery: string },
): string[] {
  const out: string[] = [];
  const major = (v: string | undefined) => Number(minorVersion(v)?.split('.')[0] ?? NaN);
  const { rabbitmq, redis, celery } = stack.versions;
  if (!rabbitmq) out.push(`no rabbitmq-server here; production runs RabbitMQ ${production.rabbitmq}`);
  else if (major(rabbitmq) !== major(production.rabbitmq)) {
    out.push(
      `RabbitMQ ${minorVersion(rabbitmq)} here, ${production.rabbitmq} in production: ${major(rabbitmq) < 4 ? 'classic queues and in-worker ETAs here, quorum queues and native delayed delivery there' : 'queue defaults differ'}`,
    );
  }
  if (!redis) out.push(`no valkey-server or redis-server here; production runs Valkey ${production.valkey}`);
  else if (stack.redisEngine !== 'valkey' || major(redis) !== major(production.valkey)) {
    out.push(
      `${stack.redisEngine === 'valkey' ? 'Valkey' : 'Redis'} ${minorVersion(redis)} here, Valkey ${production.valkey} in production`,
    );
  }
  if (!celery) out.push(`no python3-celery here; the settings are written for Celery ${production.celery}`);
  else if (
    major(celery) !== major(production.celery) ||
    Number(minorVersion(celery)?.split('.')[1]) < Number(production.celery.split('.')[1])
  ) {
    out.push(
      `Celery ${minorVersion(celery)} here; production needs Celery ${production.celery} or later for RabbitMQ 4's quorum queues`,
    );
  }
  return out;
}
