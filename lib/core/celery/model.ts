import { DEFAULTS } from '../defaults';
import { IssueCollector, ResolveContext, ValidationResult, show } from '../errors';
import { NAME_RULES, checkName } from '../names';
import { checkSecretField } from '../secrets';
import { CelerySecurityModel, CelerySecurityOptions, resolveCelerySecurity } from './security';

/**
 * URL schemes the library emits. Plaintext `amqp`/`redis` are refused everywhere. "postgresql" is a result backend
 * only: Celery's SQLAlchemy backend (`db+postgresql+psycopg2://`) with libpq's `sslmode=verify-full`.
 */
export type TlsScheme = 'amqps' | 'rediss' | 'postgresql';

/** The only libpq `sslmode` the settings use: TLS, the chain checked against `caCerts`, and the host name checked. */
export type PostgresSslMode = 'verify-full';

/** One connection of Celery: the broker or the result backend. Strings may be deploy-time tokens. */
export interface CeleryEndpoint {
  /** "amqps" for RabbitMQ, "rediss" for Valkey/Redis, "postgresql" for a PostgreSQL result backend. */
  readonly scheme: TlsScheme;
  /** DNS name the server certificate is issued for (never an IP address or CNAME). */
  readonly host: string;
  /** The TCP port: a number, or a string such as a deploy-time token. */
  readonly port: number | string;
  /** amqps only. @default "/" */
  readonly vhost?: string;
  /** rediss only. @default 0 */
  readonly db?: number;
  /** postgresql only: the database that holds Celery's tables. @default "celery" */
  readonly database?: string;
  /**
   * postgresql only: libpq's `sslmode`. Only "verify-full" is accepted (TLS, chain and host name checked); anything
   * weaker is refused, here and in the rendered settings.
   * @default "verify-full"
   */
  readonly sslMode?: PostgresSslMode;
  /** User name; empty for an ElastiCache AUTH token. @default "" */
  readonly username?: string;
  /** Secret holding the password as JSON; read at start-up when no password variable is set. */
  readonly secretArn?: string;
  /** JSON field of the secret that holds the password. @default "password" */
  readonly secretField?: string;
  /**
   * JSON field of the secret that holds the user name, which then wins over `username` (rotation by alternating
   * users changes both in one secret version). Clients get the whole secret (`*_CREDENTIALS` or by ARN).
   * @default - the user name is `username`
   */
  readonly secretUsernameField?: string;
  /** "rabbitmq", "valkey", "redis" or "postgresql". */
  readonly engine: string;
  /** Engine version, major.minor; for an amqps broker it sets the quorum-queue and transient-queue defaults. */
  readonly engineVersion?: string;
  /**
   * CA bundle path.
   * @default - the system trust store (ElastiCache and Amazon MQ use public CAs); for postgresql the RDS CA bundle
   * at `DEFAULTS.postgres.caCerts`, which the image must carry (libpq has no system trust store before 16)
   */
  readonly caCerts?: string;
  /** Client certificate and key (PEM, unencrypted: py-amqp cannot load encrypted keys) for mutual TLS. */
  readonly certFile?: string;
  /** Path of the client's private key (PEM, unencrypted) for mutual TLS; given together with `certFile`. */
  readonly keyFile?: string;
  /**
   * amqps only: secret `{"certificate", "certificate_chain", "private_key"}` (PEM) with this client's certificate;
   * the settings write it to 0600 files at start-up (or take it whole from `*_CLIENT_CERT`).
   */
  readonly clientCertSecretArn?: string;
  /** amqps only: "EXTERNAL" logs in with the client certificate instead of a password. */
  readonly loginMethod?: 'EXTERNAL';
  /**
   * amqps only: the name the server certificate is checked against (and sent as SNI) when `host` is another name for
   * the same server (an SSH or SSM tunnel, a VPC endpoint). Hostname verification stays on. redis-py checks the
   * host it connects to, so a rediss endpoint reached through a tunnel keeps the certificate's name as `host` and
   * resolves it locally instead (see the README).
   * @default - `host`
   */
  readonly serverName?: string;
}

/** Celery settings the library renders; every one has a default. */
export interface CeleryOptions {
  /** Redis broker only. @default 3600 */
  readonly visibilityTimeoutSeconds?: number;
  /** Seconds between Redis connection health checks (Redis broker and result backend), 1 to 3600. @default 25 */
  readonly healthCheckIntervalSeconds?: number;
  /** `result_backend_max_retries`: retries of a failed result-backend operation, 1 to 1000. @default 20 */
  readonly resultBackendMaxRetries?: number;
  /**
   * `worker_prefetch_multiplier`. Raise it for many short tasks on a Redis broker (see the README's traps).
   * @default 1
   */
  readonly prefetchMultiplier?: number;
  /** RabbitMQ 4: declare quorum queues (`task_default_queue_type = 'quorum'`, Celery >= 5.5). @default - from the engine version */
  readonly quorumQueues?: boolean;
  /**
   * Countdown and ETA tasks through RabbitMQ's native delayed delivery (Celery >= 5.5 with quorum queues): task
   * exchanges of type topic, which Celery needs to route delayed messages (celery/app/base.py `send_task`), instead of
   * the worker holding them unacknowledged where they block its fixed prefetch.
   * @default - on with quorum queues
   */
  readonly nativeDelayedDelivery?: boolean;
  /**
   * Whether the broker accepts transient non-exclusive queues, which Celery 5.5 declares for remote control, mingle
   * and gossip. RabbitMQ 4.3 refuses them: the settings then turn those three off (Celery < 5.6) or declare the
   * queues exclusive (Celery >= 5.6: `control_queue_exclusive`, `event_queue_exclusive`).
   * @default - true below RabbitMQ 4.3, false from 4.3
   */
  readonly transientQueues?: boolean;
  /**
   * Workers check at start-up, before they report ready, that the broker and the result backend answer over verified
   * TLS, and exit non-zero with the reason when they do not (a rogue CA is otherwise found task by task, after the
   * backend's retries). `CELERY_TLS_STARTUP_CHECK=0` skips it at run time.
   * @default true
   */
  readonly startupCheck?: boolean;
  /** How long the start-up check waits for an endpoint that does not answer (TLS failures end it at once). @default 20 */
  readonly startupCheckSeconds?: number;
}

/** What a Celery configuration is made from: the endpoints and the options. */
export interface CeleryConfigInput {
  /** The broker endpoint (amqps or rediss). */
  readonly broker: CeleryEndpoint;
  /** The result backend endpoint (rediss or postgresql); none when results are not stored. */
  readonly resultBackend?: CeleryEndpoint;
  /** Celery options; each one left out takes its default. */
  readonly options?: CeleryOptions;
  /** Message signing and result encryption (security.ts). @default - neither */
  readonly security?: CelerySecurityOptions;
}

/** A validated Celery configuration with every option's default applied. */
export interface CeleryConfigModel {
  /** The broker endpoint, as given. */
  readonly broker: CeleryEndpoint;
  /** The result backend endpoint, as given; undefined when there is none. */
  readonly resultBackend?: CeleryEndpoint;
  /** Every option, resolved: the given value or its default. */
  readonly options: Required<CeleryOptions>;
  /** Message signing and result encryption, resolved; undefined when neither is on. */
  readonly security?: CelerySecurityModel;
}

const IPV4 = /^\d{1,3}(\.\d{1,3}){3}$/;

function checkEndpoint(
  issues: IssueCollector,
  prop: string,
  e: CeleryEndpoint | undefined,
  role: 'broker' | 'resultBackend',
): void {
  if (!e || typeof e !== 'object') {
    issues.error(
      'celery.endpoint',
      prop,
      `${prop} ${show(e)} is missing: give the ${role === 'broker' ? 'broker' : 'result backend'} endpoint.`,
    );
    return;
  }
  const allowed: TlsScheme[] = role === 'broker' ? ['amqps', 'rediss'] : ['rediss', 'postgresql'];
  if (!allowed.includes(e.scheme)) {
    const plaintext = e.scheme === ('amqp' as string) || e.scheme === ('redis' as string);
    const why = plaintext
      ? ': it is plaintext'
      : e.scheme === 'postgresql'
        ? ': PostgreSQL is a result backend, not a broker'
        : '';
    issues.error(
      'celery.scheme',
      `${prop}.scheme`,
      `${prop}.scheme ${show(e.scheme)} is not allowed${why}. Allowed: ${allowed.map((s) => show(s)).join(', ')}. This library never emits a plaintext or unverified connection.`,
    );
  }
  const expected =
    e.scheme === 'amqps' ? ['rabbitmq'] : e.scheme === 'postgresql' ? ['postgresql'] : ['valkey', 'redis'];
  if (issues.known(e.engine) && allowed.includes(e.scheme) && !expected.includes(e.engine)) {
    issues.error(
      'celery.engine',
      `${prop}.engine`,
      `${prop}.engine ${show(e.engine)} does not match scheme ${show(e.scheme)}: allowed ${expected.map((x) => show(x)).join(', ')}.`,
    );
  }
  if (issues.known(e.host)) {
    if (typeof e.host !== 'string' || e.host.length === 0 || /[\s/@?#]/.test(e.host)) {
      issues.error('celery.host', `${prop}.host`, `${prop}.host ${show(e.host)} is not a host name.`);
    } else if (IPV4.test(e.host) || e.host.includes(':')) {
      issues.warn(
        'celery.host-ip',
        `${prop}.host`,
        `${prop}.host ${show(e.host)} is an IP address: hostname verification then needs the IP in the certificate, which AWS endpoints never have. Use the endpoint's DNS name.`,
      );
    }
  }
  if (
    issues.known(e.port) &&
    typeof e.port === 'number' &&
    (!Number.isInteger(e.port) || e.port < 1 || e.port > 65535)
  ) {
    issues.error('celery.port', `${prop}.port`, `${prop}.port ${show(e.port)} is out of range: allowed 1 to 65535.`);
  }
  if (e.scheme !== 'postgresql') {
    for (const [name, value] of [
      ['database', e.database],
      ['sslMode', e.sslMode],
    ] as const) {
      if (value !== undefined)
        issues.error(
          'celery.postgres-only',
          `${prop}.${name}`,
          `${prop}.${name} ${show(value)} applies only to postgresql endpoints.`,
        );
    }
  }
  if (e.scheme === 'postgresql') checkPostgresEndpoint(issues, prop, e);
  if (e.scheme === 'amqps') {
    checkName(issues, NAME_RULES.rabbitMqVhost, `${prop}.vhost`, e.vhost);
    if (e.db !== undefined)
      issues.error(
        'celery.db',
        `${prop}.db`,
        `${prop}.db ${show(e.db)} applies only to rediss endpoints; RabbitMQ uses vhost.`,
      );
  } else if (e.scheme === 'rediss') {
    if (issues.known(e.db) && (!Number.isInteger(e.db) || e.db < 0 || e.db > 15)) {
      issues.error(
        'celery.db',
        `${prop}.db`,
        `${prop}.db ${show(e.db)} is out of range: allowed 0 to 15 (ElastiCache, cluster mode disabled).`,
      );
    }
    if (e.vhost !== undefined)
      issues.error(
        'celery.vhost',
        `${prop}.vhost`,
        `${prop}.vhost ${show(e.vhost)} applies only to amqps endpoints; Redis uses db.`,
      );
    if (e.loginMethod !== undefined)
      issues.error(
        'celery.login-method',
        `${prop}.loginMethod`,
        `${prop}.loginMethod ${show(e.loginMethod)} applies only to amqps endpoints.`,
      );
  }
  if (e.loginMethod !== undefined && e.loginMethod !== 'EXTERNAL') {
    issues.error(
      'celery.login-method',
      `${prop}.loginMethod`,
      `${prop}.loginMethod ${show(e.loginMethod)} is not allowed: omit it (password login) or use "EXTERNAL" (client certificate).`,
    );
  }
  if (e.loginMethod === 'EXTERNAL' && !(e.certFile && e.keyFile) && !e.clientCertSecretArn) {
    issues.error(
      'celery.login-method',
      `${prop}.loginMethod`,
      `${prop}.loginMethod "EXTERNAL" needs ${prop}.certFile and ${prop}.keyFile, or ${prop}.clientCertSecretArn (the client certificate is the login).`,
    );
  }
  if (e.clientCertSecretArn !== undefined && e.scheme !== 'amqps') {
    issues.error(
      'celery.client-cert',
      `${prop}.clientCertSecretArn`,
      `${prop}.clientCertSecretArn applies only to amqps endpoints: ${e.scheme === 'postgresql' ? 'RDS has' : 'ElastiCache has'} no client certificates.`,
    );
  }
  if (e.clientCertSecretArn !== undefined && e.certFile !== undefined) {
    issues.error(
      'celery.client-cert',
      `${prop}.clientCertSecretArn`,
      `${prop}.clientCertSecretArn and ${prop}.certFile are two sources of one certificate: give one.`,
    );
  }
  if ((e.certFile === undefined) !== (e.keyFile === undefined)) {
    issues.error(
      'celery.client-cert',
      `${prop}.certFile`,
      `${prop}.certFile and ${prop}.keyFile go together: give both for mutual TLS, or neither.`,
    );
  }
  if (e.serverName !== undefined) {
    if (e.scheme !== 'amqps') {
      issues.error(
        'celery.server-name',
        `${prop}.serverName`,
        `${prop}.serverName applies only to amqps endpoints: redis-py checks the certificate against the host it connects to, so connect by the certificate's name (resolved locally, e.g. in /etc/hosts, for a tunnel).`,
      );
    } else if (
      issues.known(e.serverName) &&
      (typeof e.serverName !== 'string' ||
        !/^[A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?(\.[A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?)*$/.test(e.serverName))
    ) {
      issues.error(
        'celery.server-name',
        `${prop}.serverName`,
        `${prop}.serverName ${show(e.serverName)} is not a DNS name: give the name in the broker's certificate (its endpoint name).`,
      );
    }
  }
  checkSecretField(issues, `${prop}.secretField`, e.secretField);
  checkSecretField(issues, `${prop}.secretUsernameField`, e.secretUsernameField);
}

/** PostgreSQL's identifier rule (unquoted, as the settings and the users function name it): the database name. */
const PG_IDENTIFIER = /^[a-z_][a-z0-9_]{0,62}$/;

function checkPostgresEndpoint(issues: IssueCollector, prop: string, e: CeleryEndpoint): void {
  for (const [name, value] of [
    ['db', e.db],
    ['vhost', e.vhost],
    ['loginMethod', e.loginMethod],
    ['serverName', e.serverName],
  ] as const) {
    if (value !== undefined)
      issues.error(
        'celery.postgres',
        `${prop}.${name}`,
        `${prop}.${name} ${show(value)} does not apply to postgresql endpoints${name === 'db' ? ': give database, the database name' : ''}.`,
      );
  }
  if (e.certFile !== undefined || e.keyFile !== undefined)
    issues.error(
      'celery.postgres',
      `${prop}.certFile`,
      `${prop}.certFile and ${prop}.keyFile do not apply to postgresql endpoints: RDS does not authenticate clients by certificate; the role logs in with its password over verified TLS.`,
    );
  if (issues.known(e.sslMode) && e.sslMode !== undefined && e.sslMode !== 'verify-full')
    issues.error(
      'celery.postgres-sslmode',
      `${prop}.sslMode`,
      `${prop}.sslMode ${show(e.sslMode)} is not allowed: only "verify-full" checks both the certificate chain and the host name (libpq's "require" and "verify-ca" do not check the name, "prefer" and "allow" fall back to plaintext, "disable" is plaintext).`,
    );
  if (
    issues.known(e.database) &&
    e.database !== undefined &&
    (typeof e.database !== 'string' || !PG_IDENTIFIER.test(e.database))
  )
    issues.error(
      'celery.postgres-database',
      `${prop}.database`,
      `${prop}.database ${show(e.database)} is not allowed: a lower-case PostgreSQL identifier, [a-z_][a-z0-9_]*, at most 63 characters.`,
    );
  if (issues.known(e.username) && e.username !== undefined && e.username === '' && !e.secretUsernameField)
    issues.error(
      'celery.postgres-username',
      `${prop}.username`,
      `${prop}.username "" is not allowed: PostgreSQL needs a role name (or secretUsernameField to read it from the secret).`,
    );
}

/** major.minor of a literal engine version as a comparable number pair; undefined for tokens and odd strings. */
function engineMinor(version: unknown): [number, number] | undefined {
  const m = /^(\d+)\.(\d+)/.exec(typeof version === 'string' ? version : '');
  return m ? [Number(m[1]), Number(m[2])] : undefined;
}

function atLeast(version: [number, number] | undefined, major: number, minor: number): boolean {
  return version !== undefined && (version[0] > major || (version[0] === major && version[1] >= minor));
}

function checkPositive(issues: IssueCollector, prop: string, value: number | undefined, max: number): void {
  if (issues.known(value) && (!Number.isInteger(value) || value < 1 || value > max)) {
    issues.error('celery.option', prop, `${prop} ${show(value)} is out of range: allowed 1 to ${max}.`);
  }
}

/** Validates a Celery configuration and applies the defaults. */
/**
 * @param optionsProp how the user wrote the options, for messages (`celeryOptions` on a transport).
 */
export function resolveCeleryConfig(
  input: CeleryConfigInput,
  ctx: ResolveContext,
  optionsProp = 'options',
): ValidationResult<CeleryConfigModel> {
  const issues = new IssueCollector(ctx);
  checkEndpoint(issues, 'broker', input.broker, 'broker');
  if (input.resultBackend !== undefined) checkEndpoint(issues, 'resultBackend', input.resultBackend, 'resultBackend');
  const o = input.options ?? {};
  const d = DEFAULTS.celery;
  checkPositive(issues, `${optionsProp}.visibilityTimeoutSeconds`, o.visibilityTimeoutSeconds, 7 * 24 * 3600);
  checkPositive(issues, `${optionsProp}.healthCheckIntervalSeconds`, o.healthCheckIntervalSeconds, 3600);
  checkPositive(issues, `${optionsProp}.resultBackendMaxRetries`, o.resultBackendMaxRetries, 1000);
  checkPositive(issues, `${optionsProp}.prefetchMultiplier`, o.prefetchMultiplier, 100);
  checkPositive(issues, `${optionsProp}.startupCheckSeconds`, o.startupCheckSeconds, 600);
  const amqps = input.broker?.scheme === 'amqps';
  const version = amqps ? engineMinor(input.broker.engineVersion) : undefined;
  const quorumQueues = o.quorumQueues ?? atLeast(version, 4, 0);
  // Options about RabbitMQ queues, set away from their default: they need a RabbitMQ broker.
  const rabbitOnly: [string, unknown, boolean][] = [
    ['quorumQueues', o.quorumQueues, o.quorumQueues === true],
    ['nativeDelayedDelivery', o.nativeDelayedDelivery, o.nativeDelayedDelivery === true],
    ['transientQueues', o.transientQueues, o.transientQueues === false],
  ];
  for (const [name, value, set] of rabbitOnly) {
    if (set && !amqps)
      issues.error(
        'celery.option',
        `${optionsProp}.${name}`,
        `${optionsProp}.${name} ${show(value)} needs a RabbitMQ (amqps) broker: Redis has no such queues.`,
      );
  }
  if (o.nativeDelayedDelivery && !quorumQueues) {
    issues.error(
      'celery.option',
      `${optionsProp}.nativeDelayedDelivery`,
      `${optionsProp}.nativeDelayedDelivery true needs quorum queues: Celery uses native delayed delivery only when a quorum queue is configured (RabbitMQ 4, or ${optionsProp}.quorumQueues true).`,
    );
  }
  if (o.transientQueues === true && atLeast(version, 4, 3)) {
    issues.error(
      'celery.option',
      `${optionsProp}.transientQueues`,
      `${optionsProp}.transientQueues true is not allowed with RabbitMQ ${show(input.broker.engineVersion)}: 4.3 refuses transient non-exclusive queues, and a worker that declares them never becomes ready.`,
    );
  }
  const security = resolveCelerySecurity(issues, input.security, input.resultBackend?.scheme);
  return issues.result<CeleryConfigModel>({
    broker: input.broker,
    resultBackend: input.resultBackend,
    ...(security ? { security } : {}),
    options: {
      visibilityTimeoutSeconds: o.visibilityTimeoutSeconds ?? d.visibilityTimeoutSeconds,
      healthCheckIntervalSeconds: o.healthCheckIntervalSeconds ?? d.healthCheckIntervalSeconds,
      resultBackendMaxRetries: o.resultBackendMaxRetries ?? d.resultBackendMaxRetries,
      prefetchMultiplier: o.prefetchMultiplier ?? d.prefetchMultiplier,
      quorumQueues,
      nativeDelayedDelivery: o.nativeDelayedDelivery ?? quorumQueues,
      transientQueues: amqps ? (o.transientQueues ?? !atLeast(version, 4, 3)) : true,
      startupCheck: o.startupCheck ?? d.startupCheck,
      startupCheckSeconds: o.startupCheckSeconds ?? d.startupCheckSeconds,
    },
  });
}
