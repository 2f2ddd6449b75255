/**
 * Custom-resource handler that makes the PostgreSQL result backend's layout as the RDS master user: the Celery
 * database (when missing), its schema, Celery's tables and sequences, and the two least-privilege login roles with
 * their grants, each with its rotation twin `<role>_alt` (lib/core/postgres-users.ts holds the statements). Delete
 * drops the roles and keeps the tables. The same function rotates the two role secrets (`onRotate`, and rotation
 * events reaching `onEvent`/`onInvocation`) by alternating roles: the new password goes to the twin of the role the
 * secret names, the secret then names the twin, and clients holding the previous password keep working until the
 * next rotation.
 *
 * TLS only, with certificate and host-name verification against a CA bundle given to it (never the Node.js store):
 * RDS certificates chain to the RDS CAs, which the Lambda Node.js runtimes carry in /var/runtime/ca-cert.pem but,
 * from Node.js 20 on, no longer load (https://docs.aws.amazon.com/lambda/latest/dg/lambda-nodejs.html, "CA
 * certificate loading"); this handler reads that file itself, only when it connects.
 * @see https://www.postgresql.org/docs/current/sql-alterrole.html
 */
import { readFileSync } from 'node:fs';
import { isIP } from 'node:net';
import { Client } from 'pg';
import type { ClientConfig } from 'pg';
import { DEFAULTS } from '../../core/defaults';
import { LIMITS } from '../../core/limits';
import {
  LAMBDA_AMAZON_CA_FILE,
  checkRoleName,
  postgresAlternateRole,
  postgresDropRoleStatement,
  postgresRolePair,
  postgresRotationStatements,
  postgresSetupStatements,
  quoteIdent,
} from '../../core/postgres-users';
import type { PostgresUsersLayout } from '../../core/postgres-users';
import { WIRE } from '../../core/wire';
import { defaultGetSecret, parseSecret } from '../rabbitmq-users/management';
import { CURRENT, PENDING, redact, rotationHandler, sdkRotationSecrets } from '../shared/rotation';
import type { RotationEvent, RotationSecrets } from '../shared/rotation';
import { isRotationEvent, requestFromInvocation } from '../shared/invocation';
import type { TerraformInvocation } from '../shared/invocation';

export type { RotationEvent, RotationSecrets } from '../shared/rotation';

/** The custom resource's properties (CloudFormation passes every value as a string). */
export interface PostgresUsersProperties {
  /** The endpoint's DNS name: the certificate must name it. */
  readonly Host: string;
  /** @default 5432 */
  readonly Port?: number | string;
  /** @default "celery" (DEFAULTS.postgres.database) */
  readonly Database?: string;
  /** @default "celery" (DEFAULTS.postgres.schema) */
  readonly Schema?: string;
  /** Secret with the master user's `{"username", "password"}` (the RDS-managed secret's shape). */
  readonly MasterSecretArn: string;
  /** Secret with the worker role's `{"username", "password"}` (the username is the role or its twin). */
  readonly WorkerSecretArn: string;
  /** Secret with the producer role's `{"username", "password"}`. */
  readonly ProducerSecretArn: string;
  /** @default "celery_worker" (DEFAULTS.postgres.users.worker) */
  readonly WorkerUsername?: string;
  /** @default "celery_producer" (DEFAULTS.postgres.users.producer) */
  readonly ProducerUsername?: string;
  /** PEM bundle of the CAs the server's certificate must chain to (local CAs in tests). @default - CaFile's */
  readonly CaBundle?: string;
  /** File holding that bundle. @default "/var/runtime/ca-cert.pem" (the Lambda runtime's Amazon CAs, RDS's among them) */
  readonly CaFile?: string;
  /** The database the master user connects to first (to create the Celery one). @default "postgres" */
  readonly MaintenanceDatabase?: string;
  /** Connection, statement and lock time limit (a lock held by busy workers fails the change, never queues them). @default 15000 */
  readonly TimeoutMs?: number | string;
}

export interface PostgresUsersEvent {
  readonly RequestType: 'Create' | 'Update' | 'Delete';
  readonly ResourceProperties: PostgresUsersProperties;
  readonly OldResourceProperties?: PostgresUsersProperties;
  readonly PhysicalResourceId?: string;
}

export interface PostgresUsersResponse {
  readonly PhysicalResourceId: string;
  /** Non-secret facts only. */
  readonly Data: {
    readonly Database: string;
    readonly Schema: string;
    readonly WorkerUsername: string;
    readonly ProducerUsername: string;
  };
}

export interface PostgresUsersDependencies {
  /** Returns a secret's string value. @default Secrets Manager GetSecretValue */
  readonly getSecret?: (arn: string) => Promise<string>;
  /** Receives progress lines (connections, statement counts, server notices: never a secret). @default console.log */
  readonly log?: (line: string) => void;
}

const DEFAULT_TIMEOUT_MS = 15_000;
const DEFAULT_MAINTENANCE_DATABASE = 'postgres';

interface Resolved {
  readonly host: string;
  readonly port: number;
  readonly database: string;
  readonly schema: string;
  readonly worker: string;
  readonly producer: string;
  readonly maintenance: string;
  readonly timeoutMs: number;
}

function resolve(props: PostgresUsersProperties | undefined): Resolved {
  if (!props) throw new Error('ResourceProperties are missing');
  if (typeof props.Host !== 'string' || props.Host === '' || /[\s/]/.test(props.Host))
    throw new Error(`Host ${JSON.stringify(props.Host)} must be the endpoint's DNS name`);
  for (const key of ['MasterSecretArn', 'WorkerSecretArn', 'ProducerSecretArn'] as const) {
    if (typeof props[key] !== 'string' || props[key] === '') throw new Error(`${key} must be a secret ARN`);
  }
  const port = props.Port === undefined ? DEFAULTS.postgres.port : Number(props.Port);
  if (!Number.isInteger(port) || port < 1 || port > 65535)
    throw new Error(`Port ${JSON.stringify(props.Port)} must be a port number`);
  const timeoutMs = props.TimeoutMs === undefined ? DEFAULT_TIMEOUT_MS : Number(props.TimeoutMs);
  if (!Number.isFinite(timeoutMs) || timeoutMs <= 0)
    throw new Error(`TimeoutMs ${JSON.stringify(props.TimeoutMs)} must be a positive number`);
  const r: Resolved = {
    host: props.Host,
    port,
    database: props.Database ?? DEFAULTS.postgres.database,
    schema: props.Schema ?? DEFAULTS.postgres.schema,
    worker: props.WorkerUsername ?? DEFAULTS.postgres.users.worker,
    producer: props.ProducerUsername ?? DEFAULTS.postgres.users.producer,
    maintenance: props.MaintenanceDatabase ?? DEFAULT_MAINTENANCE_DATABASE,
    timeoutMs,
  };
  for (const [key, value] of Object.entries({
    Database: r.database,
    Schema: r.schema,
    WorkerUsername: r.worker,
    ProducerUsername: r.producer,
    MaintenanceDatabase: r.maintenance,
  })) {
    try {
      if (key === 'WorkerUsername' || key === 'ProducerUsername') checkRoleName(value);
      else quoteIdent(value);
    } catch (e) {
      throw new Error(`${key}: ${(e as Error).message}`);
    }
  }
  return r;
}

function caBundle(props: Pick<PostgresUsersProperties, 'CaBundle' | 'CaFile'>): string {
  if (props.CaBundle !== undefined) {
    if (!props.CaBundle.includes('-----BEGIN CERTIFICATE-----')) throw new Error('CaBundle must hold PEM certificates');
    return props.CaBundle;
  }
  const file = props.CaFile ?? LAMBDA_AMAZON_CA_FILE;
  try {
    return readFileSync(file, 'utf8');
  } catch (e) {
    throw new Error(
      `cannot read the CA bundle ${file} (${(e as NodeJS.ErrnoException).code ?? (e as Error).message}): pass CaBundle or CaFile`,
    );
  }
}

/** A statement as it may be shown: the password verifier masked. */
function shown(statement: string): string {
  return statement.replace(/PASSWORD '[^']*'/g, "PASSWORD '***'");
}

/** One TLS connection as the master user; every error carries the step and no secret. */
class Session {
  private constructor(
    private readonly client: Client,
    private readonly where: string,
    private readonly known: readonly string[],
    private readonly log: (line: string) => void,
  ) {}

  static async open(
    r: Resolved,
    database: string,
    user: { username: string; password: string },
    ca: string,
    known: readonly string[],
    log: (line: string) => void,
  ): Promise<Session> {
    const where = `${r.host}:${r.port}/${database}`;
    const config: ClientConfig = {
      host: r.host,
      port: r.port,
      database,
      user: user.username,
      password: user.password,
      // Verified TLS or nothing: pg refuses a server that answers the SSLRequest with 'N'.
      ssl: {
        ca,
        rejectUnauthorized: true,
        minVersion: 'TLSv1.2',
        // SNI and the identity check use the DNS name (pg leaves servername unset for an IP address, per RFC 6066).
        ...(isIP(r.host) === 0 ? { servername: r.host } : {}),
      },
      connectionTimeoutMillis: r.timeoutMs,
      statement_timeout: r.timeoutMs,
      lock_timeout: r.timeoutMs,
      application_name: 'celery-tls postgres-users',
    };
    const client = new Client(config);
    // A broken connection after connect() is reported through the query that fails; this keeps it from crashing.
    client.on('error', () => undefined);
    client.on('notice', (n) => log(`${where}: ${n.severity ?? 'NOTICE'}: ${redact(n.message ?? '', known)}`));
    try {
      await client.connect();
    } catch (e) {
      await client.end().catch(() => undefined);
      throw new Error(redact(`cannot connect to ${where} as ${user.username} over verified TLS: ${explain(e)}`, known));
    }
    const session = new Session(client, where, known, log);
    const tls = await session.query('SELECT version FROM pg_stat_ssl WHERE pid = pg_backend_pid()');
    log(`connected to ${where} as ${user.username} (${tls.rows[0]?.version ?? 'TLS'})`);
    return session;
  }

  async query(text: string, values?: unknown[]) {
    try {
      return await this.client.query(text, values);
    } catch (e) {
      throw new Error(redact(`${this.where}: ${shown(text).slice(0, 160)}: ${explain(e)}`, this.known));
    }
  }

  /** Runs the statements in one transaction: all of them or none. */
  async transaction(statements: readonly string[]): Promise<void> {
    await this.query('BEGIN');
    try {
      for (const s of statements) await this.query(s);
      await this.query('COMMIT');
    } catch (e) {
      await this.client.query('ROLLBACK').catch(() => undefined);
      throw e;
    }
    this.log(`${this.where}: ${statements.length} statements committed`);
  }

  async close(): Promise<void> {
    await this.client.end().catch(() => undefined);
  }
}

function explain(e: unknown): string {
  const err = e as Error & { code?: string };
  return err.code ? `${err.message} (${err.code})` : String(err?.message ?? e);
}

/** Builds the handler with injectable secret access (tests) or the Secrets Manager default (Lambda). */
export function createHandler(
  deps: PostgresUsersDependencies = {},
): (event: PostgresUsersEvent) => Promise<PostgresUsersResponse> {
  const getSecret = deps.getSecret ?? defaultGetSecret;
  const log = deps.log ?? ((line: string) => console.log(line));

  return async (event) => {
    const props = event?.ResourceProperties;
    const r = resolve(props);
    if (!['Create', 'Update', 'Delete'].includes(event.RequestType))
      throw new Error(`RequestType ${JSON.stringify(event.RequestType)} is not Create, Update or Delete`);
    const known: string[] = [];
    const credentials = async (arn: string, role: string) => {
      const c = parseSecret(arn, await getSecret(arn));
      known.push(c.password);
      if (!c.username) throw new Error(`secret ${arn} has no "${WIRE.secretUsernameField}" field`);
      if (role && !postgresRolePair(role).includes(c.username))
        throw new Error(
          `secret ${arn} names user ${JSON.stringify(c.username)}, not ${JSON.stringify(role)} or its rotation twin`,
        );
      return { username: c.username, password: c.password };
    };
    const master = await credentials(props.MasterSecretArn, '');
    if ([r.worker, r.producer].flatMap(postgresRolePair).includes(master.username))
      throw new Error(`the master user ${JSON.stringify(master.username)} cannot be a Celery role`);
    const ca = caBundle(props);
    const response: PostgresUsersResponse = {
      // Stable across updates: a new id would make CloudFormation delete the old resource, dropping live roles.
      PhysicalResourceId: event.PhysicalResourceId ?? `postgres-users:${r.database}`,
      Data: { Database: r.database, Schema: r.schema, WorkerUsername: r.worker, ProducerUsername: r.producer },
    };

    const names = { database: r.database, schema: r.schema };
    if (event.RequestType === 'Delete') {
      await teardown(r, master, ca, known, log, [r.worker, r.producer]);
      return response;
    }

    const worker = await credentials(props.WorkerSecretArn, r.worker);
    const producer = await credentials(props.ProducerSecretArn, r.producer);
    const layout: PostgresUsersLayout = {
      ...names,
      users: {
        // The role the secret names (after a rotation, the twin) gets its password; the other keeps its own.
        worker: { name: r.worker, password: worker.password, current: worker.username },
        producer: { name: r.producer, password: producer.password, current: producer.username },
      },
    };
    const statements = postgresSetupStatements(layout);

    const admin = await Session.open(r, r.maintenance, master, ca, known, log);
    try {
      const exists = await admin.query('SELECT 1 FROM pg_catalog.pg_database WHERE datname = $1', [r.database]);
      if (exists.rowCount === 0) {
        // CREATE DATABASE cannot run in a transaction; the master user owns the new database.
        await admin.query(`CREATE DATABASE ${quoteIdent(r.database)}`);
        log(`created database ${r.database}`);
      }
    } finally {
      await admin.close();
    }
    const session = await Session.open(r, r.database, master, ca, known, log);
    try {
      await session.transaction(statements);
    } finally {
      await session.close();
    }

    if (event.RequestType === 'Update' && event.OldResourceProperties) {
      // Roles renamed away are dropped only once the new ones work, so a failed update never leaves Celery locked out.
      let old: Resolved | undefined;
      try {
        old = resolve({ ...event.OldResourceProperties, Host: r.host });
      } catch {
        old = undefined;
      }
      const gone = old ? [old.worker, old.producer].filter((n) => n !== r.worker && n !== r.producer) : [];
      if (old && gone.length)
        await teardown({ ...r, database: old.database, schema: old.schema }, master, ca, known, log, gone);
    }
    return response;
  };
}

/** Drops roles and their twins (grants first), keeping the tables; a missing database leaves only the roles. */
async function teardown(
  r: Resolved,
  master: { username: string; password: string },
  ca: string,
  known: readonly string[],
  log: (line: string) => void,
  names: readonly string[],
): Promise<void> {
  const roles = names.flatMap(postgresRolePair);
  const admin = await Session.open(r, r.maintenance, master, ca, known, log);
  let databaseExists: boolean;
  try {
    databaseExists =
      ((await admin.query('SELECT 1 FROM pg_catalog.pg_database WHERE datname = $1', [r.database])).rowCount ?? 0) > 0;
    if (!databaseExists) {
      await admin.transaction(roles.map((name) => `DROP ROLE IF EXISTS ${quoteIdent(name)}`));
      return;
    }
  } finally {
    await admin.close();
  }
  const statements = roles.map((name) => postgresDropRoleStatement(r, name));
  const session = await Session.open(r, r.database, master, ca, known, log);
  try {
    await session.transaction(statements);
  } finally {
    await session.close();
  }
}

/**
 * The custom-resource entry point (`index.onEvent`). The same function is the rotation function of the two role
 * secrets: Secrets Manager's events (SecretId, ClientRequestToken, Step) go to `onRotate`.
 */
export const onEvent = (event: PostgresUsersEvent | RotationEvent): Promise<PostgresUsersResponse | void> =>
  isRotationEvent(event) ? onRotate(event) : createHandler()(event);

/** What Terraform's `aws_lambda_invocation` sends with `lifecycle_scope = "CRUD"` (the input plus `tf`). */
export type PostgresUsersInvocation = TerraformInvocation<PostgresUsersProperties>;

/** The same handler for Terraform; the result (names only, no secret) is stored in the state. */
export function createInvocationHandler(
  deps: PostgresUsersDependencies = {},
): (invocation: PostgresUsersInvocation) => Promise<PostgresUsersResponse> {
  const handle = createHandler(deps);
  return async (invocation) =>
    handle(requestFromInvocation(invocation, (p) => `postgres-users:${p.Database ?? DEFAULTS.postgres.database}`));
}

/**
 * The Terraform entry point (`index.onInvocation`), for `aws_lambda_invocation` with `lifecycle_scope = "CRUD"`;
 * rotation events go to `onRotate`, as with `onEvent`.
 */
export const onInvocation = (
  invocation: PostgresUsersInvocation | RotationEvent,
): Promise<PostgresUsersResponse | void> =>
  isRotationEvent(invocation) ? onRotate(invocation) : createInvocationHandler()(invocation);

/** What the rotation needs besides the event: the database, the master secret, and the two role secrets. */
export interface PostgresRotationConfig {
  /** The endpoint's DNS name: the certificate must name it. */
  readonly host: string;
  readonly port: number;
  readonly database: string;
  readonly schema: string;
  /** The master user's secret (RDS-managed): setSecret connects as it. */
  readonly masterSecretArn: string;
  /** The secrets this function rotates, each with its Celery role and its role's name; any other is refused. */
  readonly roles: readonly {
    readonly secretArn: string;
    readonly role: 'worker' | 'producer';
    readonly name: string;
  }[];
  /** Length of a generated password (`[A-Za-z0-9]`). */
  readonly passwordLength: number;
  readonly timeoutMs: number;
  /** PEM bundle of the CAs the server's certificate must chain to. @default - caFile's */
  readonly caBundle?: string;
  /** @default "/var/runtime/ca-cert.pem" */
  readonly caFile?: string;
}

/**
 * The rotation of a role secret by alternating roles (Secrets Manager's four steps, each safe to repeat):
 * createSecret puts AWSPENDING naming the twin of the role AWSCURRENT names, with a new `[A-Za-z0-9]` password;
 * setSecret, as the master user over verified TLS, makes the twin when missing and sets its SCRAM verifier and
 * grants; testSecret logs in as the twin over verified TLS and runs `SELECT 1`; finishSecret moves AWSCURRENT.
 */
export function createRotationHandler(
  config: PostgresRotationConfig,
  secrets: RotationSecrets,
  log: (line: string) => void = (line) => console.log(line),
): (event: RotationEvent) => Promise<void> {
  const r: Resolved = resolve({
    Host: config.host,
    Port: config.port,
    Database: config.database,
    Schema: config.schema,
    MasterSecretArn: config.masterSecretArn,
    WorkerSecretArn: config.roles.find((x) => x.role === 'worker')?.secretArn ?? '',
    ProducerSecretArn: config.roles.find((x) => x.role === 'producer')?.secretArn ?? '',
    WorkerUsername: config.roles.find((x) => x.role === 'worker')?.name,
    ProducerUsername: config.roles.find((x) => x.role === 'producer')?.name,
    TimeoutMs: config.timeoutMs,
  });
  const { min, max } = LIMITS.postgresPassword;
  if (!Number.isInteger(config.passwordLength) || config.passwordLength < min || config.passwordLength > max)
    throw new Error(
      `PASSWORD_LENGTH ${JSON.stringify(config.passwordLength)} must be a whole number from ${min} to ${max}`,
    );

  const roleOf = (arn: string) => {
    const found = config.roles.find((x) => x.secretArn === arn);
    if (!found)
      throw new Error(
        `secret ${arn} is not a role secret of this function (${config.roles.map((x) => x.secretArn).join(', ')})`,
      );
    return found;
  };

  async function read(arn: string, select: { stage: string; versionId?: string }, known: string[]) {
    const value = await secrets.get(arn, select);
    if (value === undefined)
      throw new Error(`secret ${arn} has no ${select.stage} version${select.versionId ? ` ${select.versionId}` : ''}`);
    const c = parseSecret(arn, value);
    known.push(c.password);
    if (!c.username) throw new Error(`secret ${arn} has no "${WIRE.secretUsernameField}" field`);
    return { username: c.username, password: c.password, document: JSON.parse(value) as Record<string, unknown> };
  }

  /** The role version names (its name or its twin; anything else is refused). */
  const named = (arn: string, name: string, username: string, stage: string) => {
    if (!postgresRolePair(name).includes(username))
      throw new Error(
        `${stage} of secret ${arn} names ${JSON.stringify(username)}, not ${name} or its twin ${postgresAlternateRole(name)}`,
      );
    return username;
  };

  return rotationHandler(
    secrets,
    {
      async createSecret({ arn, token, known }) {
        const role = roleOf(arn);
        const current = await read(arn, { stage: CURRENT }, known);
        named(arn, role.name, current.username, CURRENT);
        if ((await secrets.get(arn, { stage: PENDING, versionId: token })) !== undefined) {
          log(`createSecret: ${PENDING} exists`);
          return;
        }
        const password = await secrets.randomPassword(config.passwordLength);
        known.push(password);
        // A generated password goes into a SQLAlchemy URL and through SASLprep: [A-Za-z0-9] only, as the first one.
        if (!new RegExp(`^[A-Za-z0-9]{${config.passwordLength}}$`).test(password))
          throw new Error(`GetRandomPassword returned a password that is not ${config.passwordLength} of [A-Za-z0-9]`);
        const username = postgresAlternateRole(current.username);
        await secrets.putPending(
          arn,
          token,
          JSON.stringify({
            ...current.document,
            [WIRE.secretUsernameField]: username,
            [WIRE.secretPasswordField]: password,
          }),
        );
        log(`createSecret: ${PENDING} names ${username}`);
      },
      async setSecret({ arn, token, known }) {
        const role = roleOf(arn);
        const current = await read(arn, { stage: CURRENT }, known);
        const pending = await read(arn, { stage: PENDING, versionId: token }, known);
        named(arn, role.name, pending.username, PENDING);
        if (pending.username !== postgresAlternateRole(current.username))
          throw new Error(
            `${PENDING} of secret ${arn} names ${pending.username}, not the twin of ${current.username} (${CURRENT}): the role in use would lose its password`,
          );
        const master = await read(config.masterSecretArn, { stage: CURRENT }, known);
        if (postgresRolePair(role.name).includes(master.username))
          throw new Error(`the master user ${JSON.stringify(master.username)} cannot be a Celery role`);
        const statements = postgresRotationStatements({
          database: r.database,
          schema: r.schema,
          role: role.role,
          name: role.name,
          pending: pending.username,
          password: pending.password,
        });
        const session = await Session.open(r, r.database, master, rotationCa(), known, log);
        try {
          await session.transaction(statements);
        } finally {
          await session.close();
        }
        log(`setSecret: password of ${pending.username} set`);
      },
      async testSecret({ arn, token, known }) {
        const role = roleOf(arn);
        const pending = await read(arn, { stage: PENDING, versionId: token }, known);
        named(arn, role.name, pending.username, PENDING);
        const session = await Session.open(r, r.database, pending, rotationCa(), known, log);
        try {
          const res = await session.query('SELECT 1 AS one');
          if (res.rows[0]?.one !== 1) throw new Error(`SELECT 1 as ${pending.username} returned no 1`);
        } finally {
          await session.close();
        }
        log(`testSecret: ${pending.username} logged in over verified TLS`);
      },
    },
    log,
  );

  function rotationCa(): string {
    return caBundle({ CaBundle: config.caBundle, CaFile: config.caFile });
  }
}

/** The rotation entry point (`index.onRotate`), configured by the construct through the environment. */
export async function onRotate(event: RotationEvent): Promise<void> {
  const env = (name: string) => {
    const v = process.env[name];
    if (v === undefined || v === '') throw new Error(`${name} is not set: the construct configures the rotation`);
    return v;
  };
  const handler = createRotationHandler(
    {
      host: env('DB_HOST'),
      port: Number(env('DB_PORT')),
      database: env('DB_NAME'),
      schema: env('DB_SCHEMA'),
      masterSecretArn: env('MASTER_SECRET_ARN'),
      roles: [
        { role: 'worker', secretArn: env('WORKER_SECRET_ARN'), name: env('WORKER_USERNAME') },
        { role: 'producer', secretArn: env('PRODUCER_SECRET_ARN'), name: env('PRODUCER_USERNAME') },
      ],
      passwordLength: Number(env('PASSWORD_LENGTH')),
      timeoutMs: Number(process.env.TIMEOUT_MS ?? DEFAULT_TIMEOUT_MS),
      caFile: process.env.CA_FILE || undefined,
    },
    sdkRotationSecrets(),
  );
  return handler(event);
}
