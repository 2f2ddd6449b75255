/**
 * The PostgreSQL result backend's database layout as data: the idempotent statements that the users function
 * (lib/handlers/postgres-users) runs as the master user, and those it runs on delete. Celery never runs DDL: the
 * schema, its two tables and two sequences are made here, exactly as Celery's SQLAlchemy models declare them
 * (celery/backends/database/models.py, 5.2.6 and 5.5.2), and the two login roles get only what the backend uses.
 * Pure: node:crypto only.
 */
import { createHash, createHmac, pbkdf2Sync, randomBytes } from 'node:crypto';
import { DEFAULTS } from './defaults';
import { IamStatementModel, rotateSecretsStatement, viaSecretsManager } from './iam';

/** One login role (and its rotation twin) and the password its secret holds. */
export interface PostgresRoleCredentials {
  /** The role's name (`DEFAULTS.postgres.users`); its twin is `<name>_alt` (`postgresAlternateRole`). */
  readonly name: string;
  /** The password of the role the secret names (`current`). */
  readonly password: string;
  /**
   * The role the secret names, `name` or its twin (rotation alternates them): it gets the password, the other keeps
   * its own (clients may still use it until the next rotation). @default name
   */
  readonly current?: string;
}

/** What the statements are made of: the names (`DEFAULTS.postgres`) and the roles' passwords. */
export interface PostgresUsersLayout {
  /** The database Celery's tables live in (the statements run connected to it). */
  readonly database: string;
  /** The schema of the tables and sequences, owned by the master user. */
  readonly schema: string;
  readonly users: { readonly worker: PostgresRoleCredentials; readonly producer: PostgresRoleCredentials };
  /**
   * Other databases whose CONNECT and TEMPORARY privileges PUBLIC loses (every instance has these two), so that the
   * Celery roles reach their database only. A database the master user does not own is left as it is (PostgreSQL
   * warns "no privileges could be revoked"). @default ["postgres", "template1"]
   */
  readonly otherDatabases?: readonly string[];
  /** Salts of the SCRAM verifiers (tests). @default 16 random bytes each */
  readonly salts?: { readonly worker?: Buffer; readonly producer?: Buffer };
}

/** The names only: what teardown needs. */
export type PostgresUsersNames = Omit<PostgresUsersLayout, 'users' | 'salts' | 'otherDatabases'> & {
  readonly users: { readonly worker: { readonly name: string }; readonly producer: { readonly name: string } };
};

/** Celery's tables and sequences (models.py: `Task`/`TaskExtended` and `TaskSet`). */
export const CELERY_TABLES = {
  task: { table: 'celery_taskmeta', sequence: 'task_id_sequence' },
  group: { table: 'celery_tasksetmeta', sequence: 'taskset_id_sequence' },
} as const;

// TaskExtended's columns (result_extended), beyond Task's.
const EXTENDED_COLUMNS = [
  ['name', 'VARCHAR(155)'],
  ['args', 'BYTEA'],
  ['kwargs', 'BYTEA'],
  ['worker', 'VARCHAR(155)'],
  ['retries', 'INTEGER'],
  ['queue', 'VARCHAR(155)'],
] as const;

const DEFAULT_OTHER_DATABASES = ['postgres', 'template1'];

/** The rotation twin of a role name: `<role>` and `<role>_alt` alternate (`DEFAULTS.postgres.alternateSuffix`). */
export function postgresAlternateRole(name: string): string {
  const suffix = DEFAULTS.postgres.alternateSuffix;
  return name.endsWith(suffix) ? name.slice(0, -suffix.length) : name + suffix;
}

/** A role and its twin, the role first. */
export function postgresRolePair(name: string): [string, string] {
  return [name, postgresAlternateRole(name)];
}

// PostgreSQL truncates identifiers to NAMEDATALEN - 1 bytes: a longer name would silently name another object.
const MAX_IDENTIFIER_BYTES = 63;

/** A double-quoted identifier (quote_ident): `"` doubled; empty, NUL or longer than 63 bytes refused. */
export function quoteIdent(name: string): string {
  if (typeof name !== 'string' || name === '' || name.includes('\0'))
    throw new Error(`identifier ${JSON.stringify(name)} must be a non-empty string without NUL`);
  if (Buffer.byteLength(name, 'utf8') > MAX_IDENTIFIER_BYTES)
    throw new Error(`identifier ${JSON.stringify(name)} is longer than ${MAX_IDENTIFIER_BYTES} bytes`);
  return `"${name.replace(/"/g, '""')}"`;
}

/**
 * A string literal (quote_literal): `'` doubled, and with a backslash the E'' form with backslashes doubled, so the
 * value is the same whatever standard_conforming_strings says.
 */
export function quoteLiteral(value: string): string {
  if (value.includes('\0')) throw new Error('a literal cannot contain NUL');
  const body = value.replace(/'/g, "''");
  return value.includes('\\') ? `E'${body.replace(/\\/g, '\\\\')}'` : `'${body}'`;
}

// The iteration count PostgreSQL uses (scram_iterations' default) and its salt length (SCRAM_DEFAULT_SALT_LEN).
const SCRAM_ITERATIONS = 4096;
const SCRAM_SALT_BYTES = 16;

/**
 * The SCRAM-SHA-256 verifier PostgreSQL stores for a password (RFC 5802 / RFC 7677, PostgreSQL's
 * `SCRAM-SHA-256$<iterations>:<salt>$<StoredKey>:<ServerKey>`): sent in `ALTER ROLE ... PASSWORD`, the server stores it
 * as is, so the password itself never reaches the server, its logs or pg_stat_statements.
 * PostgreSQL runs SASLprep on the password first; for ASCII it is the identity (or fails on control characters, and
 * then PostgreSQL uses the raw bytes too), so only ASCII passwords are taken (generated secrets are ASCII).
 */
export function scramSha256Verifier(password: string, salt: Buffer = randomBytes(SCRAM_SALT_BYTES)): string {
  if (typeof password !== 'string' || password === '') throw new Error('the password must be a non-empty string');
  // eslint-disable-next-line no-control-regex
  if (!/^[\x00-\x7f]*$/.test(password))
    throw new Error(
      'the password has non-ASCII characters: SASLprep is not implemented here; generate ASCII passwords',
    );
  if (salt.length === 0) throw new Error('the salt must not be empty');
  const salted = pbkdf2Sync(Buffer.from(password, 'utf8'), salt, SCRAM_ITERATIONS, 32, 'sha256');
  const clientKey = createHmac('sha256', salted).update('Client Key').digest();
  const storedKey = createHash('sha256').update(clientKey).digest();
  const serverKey = createHmac('sha256', salted).update('Server Key').digest();
  const b64 = (b: Buffer) => b.toString('base64');
  return `SCRAM-SHA-256$${SCRAM_ITERATIONS}:${b64(salt)}$${b64(storedKey)}:${b64(serverKey)}`;
}

/**
 * Where the Lambda Node.js runtimes keep the Amazon CA certificates, RDS's among them; from Node.js 20 on they are no
 * longer loaded unless NODE_EXTRA_CA_CERTS names this file (https://docs.aws.amazon.com/lambda/latest/dg/lambda-nodejs.html,
 * "CA certificate loading"). The users function reads it as its only trust store.
 */
export const LAMBDA_AMAZON_CA_FILE = '/var/runtime/ca-cert.pem';

// DO blocks are dollar-quoted with this tag; no generated body may contain it.
const DOLLAR_TAG = '$celery_tls$';

/** An anonymous PL/pgSQL block (for what has no IF [NOT] EXISTS form). */
function doBlock(body: string): string {
  if (body.includes(DOLLAR_TAG)) throw new Error(`a name contains ${DOLLAR_TAG}`);
  return `DO ${DOLLAR_TAG} BEGIN ${body} END ${DOLLAR_TAG}`;
}

function roleExists(name: string): string {
  return `EXISTS (SELECT FROM pg_catalog.pg_roles WHERE rolname = ${quoteLiteral(name)})`;
}

/** A role name that can have a twin: not itself a twin's name, and short enough for the suffix. */
export function checkRoleName(name: string): void {
  const suffix = DEFAULTS.postgres.alternateSuffix;
  quoteIdent(name);
  if (name.endsWith(suffix))
    throw new Error(
      `role ${JSON.stringify(name)} ends with ${JSON.stringify(suffix)}, which names the rotation twin of each role`,
    );
  try {
    quoteIdent(name + suffix);
  } catch {
    throw new Error(
      `role ${JSON.stringify(name)} is too long for its rotation twin "<role>${suffix}" (${MAX_IDENTIFIER_BYTES} bytes at most)`,
    );
  }
}

function checkLayout(names: PostgresUsersNames): void {
  const { worker, producer } = names.users;
  for (const n of [names.database, names.schema]) quoteIdent(n);
  for (const n of [worker.name, producer.name]) checkRoleName(n);
  if (worker.name === producer.name) throw new Error(`the worker and producer roles are both ${worker.name}`);
  if (names.schema.toLowerCase().startsWith('pg_') || names.schema === 'public')
    throw new Error(`schema ${JSON.stringify(names.schema)} is reserved: Celery's tables get their own schema`);
}

/**
 * The statements that make the layout, each idempotent (run them again, or after a password change, and the result is
 * the same), in order, connected to `database` as the master user:
 * PUBLIC loses every privilege on the database and CREATE on `public`; the schema, the sequences and the tables
 * (extended-result columns added when missing); the two login roles and their rotation twins (`<role>_alt`), the
 * one each secret names with its SCRAM verifier; and the grants of the contract, the same to a role and its twin (worker: read/write both tables and both sequences; producer: read and forget results, save and delete
 * groups). Nothing else: no CREATE anywhere, no TEMPORARY.
 */
export function postgresSetupStatements(layout: PostgresUsersLayout): string[] {
  checkLayout(layout);
  const db = quoteIdent(layout.database);
  const s = quoteIdent(layout.schema);
  const task = `${s}.${quoteIdent(CELERY_TABLES.task.table)}`;
  const group = `${s}.${quoteIdent(CELERY_TABLES.group.table)}`;
  const taskSeq = `${s}.${quoteIdent(CELERY_TABLES.task.sequence)}`;
  const groupSeq = `${s}.${quoteIdent(CELERY_TABLES.group.sequence)}`;
  const others = (layout.otherDatabases ?? DEFAULT_OTHER_DATABASES).filter((d) => d !== layout.database);

  // Each role and its twin: the one the secret names gets the secret's password, the other keeps its own.
  const role = (which: 'worker' | 'producer') => {
    const { name, password, current = name } = layout.users[which];
    if (!postgresRolePair(name).includes(current))
      throw new Error(`the ${which} secret names ${JSON.stringify(current)}, neither ${name} nor its rotation twin`);
    const verifier = scramSha256Verifier(password, layout.salts?.[which]);
    return postgresRolePair(name).flatMap((r) => roleDefinition(r, r === current ? verifier : undefined));
  };

  return [
    `REVOKE ALL ON DATABASE ${db} FROM PUBLIC`,
    ...others.map((d) =>
      doBlock(
        `IF EXISTS (SELECT FROM pg_catalog.pg_database WHERE datname = ${quoteLiteral(d)}) THEN ` +
          `REVOKE CONNECT, TEMPORARY ON DATABASE ${quoteIdent(d)} FROM PUBLIC; END IF;`,
      ),
    ),
    // Before PostgreSQL 15 (and in databases upgraded from it) PUBLIC may create objects in `public`.
    doBlock(
      `IF EXISTS (SELECT FROM pg_catalog.pg_namespace WHERE nspname = 'public') THEN ` +
        `REVOKE CREATE ON SCHEMA public FROM PUBLIC; END IF;`,
    ),
    `CREATE SCHEMA IF NOT EXISTS ${s}`,
    `REVOKE ALL ON SCHEMA ${s} FROM PUBLIC`,
    // sa.Sequence('task_id_sequence') / ('taskset_id_sequence'), schema-qualified by Task.configure(schema).
    `CREATE SEQUENCE IF NOT EXISTS ${taskSeq}`,
    `CREATE SEQUENCE IF NOT EXISTS ${groupSeq}`,
    // What SQLAlchemy's create_all emits for Task/TaskExtended (PickleType and LargeBinary are bytea, DateTime a
    // timestamp without time zone; the id comes from nextval() in Celery's INSERT, not from a column default).
    `CREATE TABLE IF NOT EXISTS ${task} (` +
      'id INTEGER NOT NULL, task_id VARCHAR(155), status VARCHAR(50), result BYTEA, ' +
      'date_done TIMESTAMP WITHOUT TIME ZONE, traceback TEXT, name VARCHAR(155), args BYTEA, kwargs BYTEA, ' +
      'worker VARCHAR(155), retries INTEGER, queue VARCHAR(155), PRIMARY KEY (id), UNIQUE (task_id))',
    // A table made earlier by create_all without result_extended lacks these columns. ALTER TABLE takes an ACCESS
    // EXCLUSIVE lock even when each column exists (blocking every worker behind it), so it runs only when one is missing.
    doBlock(
      EXTENDED_COLUMNS.map(
        ([column, type]) =>
          `IF NOT EXISTS (SELECT FROM pg_catalog.pg_attribute WHERE attrelid = to_regclass(${quoteLiteral(task)}) ` +
          `AND attname = ${quoteLiteral(column)} AND NOT attisdropped) THEN ALTER TABLE ${task} ADD COLUMN ${column} ${type}; END IF;`,
      ).join(' '),
    ),
    `CREATE TABLE IF NOT EXISTS ${group} (` +
      'id INTEGER NOT NULL, taskset_id VARCHAR(155), result BYTEA, date_done TIMESTAMP WITHOUT TIME ZONE, ' +
      'PRIMARY KEY (id), UNIQUE (taskset_id))',
    ...role('worker'),
    ...role('producer'),
    ...grantStatements(layout, {
      worker: postgresRolePair(layout.users.worker.name),
      producer: postgresRolePair(layout.users.producer.name),
    }),
  ];
}

/** A login role made when missing, then its attributes (and, when given, its password verifier) set. */
function roleDefinition(name: string, verifier: string | undefined): string[] {
  return [
    doBlock(`IF NOT ${roleExists(name)} THEN CREATE ROLE ${quoteIdent(name)} LOGIN; END IF;`),
    // SUPERUSER, REPLICATION and BYPASSRLS are off by default and only a real superuser may name them (RDS's
    // master is not one); CREATEDB and CREATEROLE are set off in case the role existed with them. A twin made here
    // has no password (no password login works) until its first rotation sets one.
    `ALTER ROLE ${quoteIdent(name)} WITH LOGIN NOCREATEDB NOCREATEROLE` +
      (verifier === undefined ? '' : ` PASSWORD ${quoteLiteral(verifier)}`),
  ];
}

/** The grants of the contract to the worker's and the producer's roles (either list may be empty). */
function grantStatements(
  names: { readonly database: string; readonly schema: string },
  roles: { readonly worker: readonly string[]; readonly producer: readonly string[] },
): string[] {
  const db = quoteIdent(names.database);
  const s = quoteIdent(names.schema);
  const task = `${s}.${quoteIdent(CELERY_TABLES.task.table)}`;
  const group = `${s}.${quoteIdent(CELERY_TABLES.group.table)}`;
  const taskSeq = `${s}.${quoteIdent(CELERY_TABLES.task.sequence)}`;
  const groupSeq = `${s}.${quoteIdent(CELERY_TABLES.group.sequence)}`;
  const w = roles.worker.map(quoteIdent).join(', ');
  const p = roles.producer.map(quoteIdent).join(', ');
  const both = [...roles.worker, ...roles.producer].map(quoteIdent).join(', ');
  return [
    `GRANT CONNECT ON DATABASE ${db} TO ${both}`,
    `GRANT USAGE ON SCHEMA ${s} TO ${both}`,
    ...(w
      ? [
          `GRANT SELECT, INSERT, UPDATE, DELETE ON ${task}, ${group} TO ${w}`,
          `GRANT USAGE, SELECT ON SEQUENCE ${taskSeq}, ${groupSeq} TO ${w}`,
        ]
      : []),
    // AsyncResult.get/forget read and delete; GroupResult.save/restore/delete write, read and delete groups.
    ...(p
      ? [
          `GRANT SELECT, DELETE ON ${task} TO ${p}`,
          `GRANT SELECT, INSERT, DELETE ON ${group} TO ${p}`,
          `GRANT USAGE, SELECT ON SEQUENCE ${groupSeq} TO ${p}`,
        ]
      : []),
  ];
}

/**
 * The statements of a rotation's setSecret, connected to `database` as the master user, in one transaction: the
 * pending role (a role or its twin) made when missing (a database made before twins existed), its verifier set, and
 * its grants, the same as its twin's. Nothing else is touched: the role the secret named until now keeps its
 * password, so its clients keep working until the next rotation.
 */
export function postgresRotationStatements(args: {
  readonly database: string;
  readonly schema: string;
  /** Which Celery role's grants. */
  readonly role: 'worker' | 'producer';
  /** The role's name (`DEFAULTS.postgres.users`). */
  readonly name: string;
  /** The role the pending version names: `name` or its twin. */
  readonly pending: string;
  readonly password: string;
  /** The verifier's salt (tests). @default 16 random bytes */
  readonly salt?: Buffer;
}): string[] {
  for (const n of [args.database, args.schema]) quoteIdent(n);
  checkRoleName(args.name);
  if (!postgresRolePair(args.name).includes(args.pending))
    throw new Error(
      `the pending version names ${JSON.stringify(args.pending)}, neither ${args.name} nor its rotation twin`,
    );
  const verifier = scramSha256Verifier(args.password, args.salt);
  return [
    ...roleDefinition(args.pending, verifier),
    ...grantStatements(args, { worker: [], producer: [], [args.role]: [args.pending] }),
  ];
}

/**
 * The statements that remove the two roles and their twins (on delete), connected to `database` as the master user: their grants
 * revoked, then the roles dropped. The schema, tables and sequences stay (results are data); a role that still owns
 * or holds something elsewhere makes DROP ROLE fail rather than take anything with it.
 */
export function postgresTeardownStatements(names: PostgresUsersNames): string[] {
  checkLayout(names);
  return [names.users.worker.name, names.users.producer.name]
    .flatMap(postgresRolePair)
    .map((name) => postgresDropRoleStatement(names, name));
}

/** The statement that removes one role (when it exists): its grants on the layout revoked, then the role dropped. */
export function postgresDropRoleStatement(names: { readonly database: string; readonly schema: string }, name: string) {
  const db = quoteIdent(names.database);
  const s = quoteIdent(names.schema);
  const r = quoteIdent(name);
  const qualified = (n: string) => `${s}.${quoteIdent(n)}`;
  const objects = [
    { kind: 'TABLE', name: qualified(CELERY_TABLES.task.table) },
    { kind: 'TABLE', name: qualified(CELERY_TABLES.group.table) },
    { kind: 'SEQUENCE', name: qualified(CELERY_TABLES.task.sequence) },
    { kind: 'SEQUENCE', name: qualified(CELERY_TABLES.group.sequence) },
  ];
  return doBlock(
    [
      `IF ${roleExists(name)} THEN`,
      `REVOKE ALL ON DATABASE ${db} FROM ${r};`,
      `IF EXISTS (SELECT FROM pg_catalog.pg_namespace WHERE nspname = ${quoteLiteral(names.schema)}) THEN`,
      `REVOKE ALL ON SCHEMA ${s} FROM ${r}; END IF;`,
      ...objects.map(
        (o) =>
          `IF to_regclass(${quoteLiteral(o.name)}) IS NOT NULL THEN REVOKE ALL ON ${o.kind} ${o.name} FROM ${r}; END IF;`,
      ),
      `DROP ROLE ${r};`,
      'END IF;',
    ].join(' '),
  );
}

/**
 * What the users function may do besides its logs: rotate exactly the two role secrets (read, describe, put the
 * pending version, move the stages), read the master's secret, generate passwords, and use the keys only through
 * Secrets Manager in the region (the role secrets' key to decrypt and encrypt, the master's to decrypt).
 * `GetRandomPassword` acts on no resource, so its statement names "*"
 * (https://docs.aws.amazon.com/secretsmanager/latest/userguide/reference_iam-permissions.html).
 */
export function postgresUsersFunctionStatements(args: {
  readonly masterSecretArn: string;
  readonly masterKeyArn?: string;
  readonly workerSecretArn: string;
  readonly producerSecretArn: string;
  readonly userKeyArn: string;
  readonly region: string;
}): IamStatementModel[] {
  const condition = viaSecretsManager(args.region);
  return [
    rotateSecretsStatement([args.workerSecretArn, args.producerSecretArn]),
    { effect: 'Allow', actions: ['secretsmanager:GetSecretValue'], resources: [args.masterSecretArn] },
    { effect: 'Allow', actions: ['secretsmanager:GetRandomPassword'], resources: ['*'] },
    {
      effect: 'Allow',
      actions: ['kms:Decrypt', 'kms:GenerateDataKey'],
      resources: [args.userKeyArn],
      conditions: condition,
    },
    // The master secret's own key, when it has another (an existing database's); RDS rotates that secret itself.
    ...(args.masterKeyArn && args.masterKeyArn !== args.userKeyArn
      ? [
          {
            effect: 'Allow' as const,
            actions: ['kms:Decrypt'],
            resources: [args.masterKeyArn],
            conditions: condition,
          },
        ]
      : []),
  ];
}
