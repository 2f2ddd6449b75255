import { DEFAULTS } from '../defaults';
import { ResolveContext } from '../errors';
import { ENV_NAMES, EndpointRole, envPrefix } from './environment';
import { CeleryConfigModel, CeleryEndpoint } from './model';
import { PYTHON_RUNTIME } from './python-runtime';
import { securityEnvDoc, securityEpilogue, securityPrelude, serializerSettings } from './security';
import { WIRE } from '../wire';

/** A Python literal for a JSON-like value; deploy-time tokens become None (read from the environment instead). */
export function pyLiteral(value: unknown, ctx?: ResolveContext): string {
  if (value === undefined || value === null || (ctx && ctx.isUnresolved(value))) return 'None';
  if (typeof value === 'boolean') return value ? 'True' : 'False';
  if (typeof value === 'number') {
    if (!Number.isFinite(value)) throw new Error(`cannot render ${value} as a Python literal`);
    return String(value);
  }
  // A JSON string literal is a valid Python string literal.
  if (typeof value === 'string') return JSON.stringify(value);
  if (Array.isArray(value)) return `[${value.map((v) => pyLiteral(v, ctx)).join(', ')}]`;
  if (typeof value === 'object') {
    return `{${Object.entries(value as Record<string, unknown>)
      .map(([k, v]) => `${JSON.stringify(k)}: ${pyLiteral(v, ctx)}`)
      .join(', ')}}`;
  }
  throw new Error(`cannot render a ${typeof value} as a Python literal`);
}

function endpointDefaults(e: CeleryEndpoint, ctx: ResolveContext): string {
  const str = (v: string | number | undefined) => (v === undefined || ctx.isUnresolved(v) ? undefined : String(v));
  const common = {
    host: str(e.host),
    port: str(e.port),
    ...(e.scheme === 'amqps'
      ? { vhost: str(e.vhost ?? DEFAULTS.rabbitmq.vhost) }
      : e.scheme === 'postgresql'
        ? { database: str(e.database ?? DEFAULTS.postgres.database) }
        : { db: str(e.db ?? DEFAULTS.redis.db) }),
    username: str(e.username ?? ''),
    secret_arn: str(e.secretArn),
    secret_field: str(e.secretField ?? WIRE.secretPasswordField),
    ...(e.secretUsernameField ? { secret_username_field: str(e.secretUsernameField) } : {}),
    ca_certs: str(e.caCerts ?? (e.scheme === 'postgresql' ? DEFAULTS.postgres.caCerts : undefined)),
    certfile: str(e.certFile),
    keyfile: str(e.keyFile),
    ...(e.clientCertSecretArn ? { client_cert_secret_arn: str(e.clientCertSecretArn) } : {}),
    ...(e.scheme === 'amqps' ? { login_method: e.loginMethod, server_name: str(e.serverName) } : {}),
  };
  return pyLiteral(common);
}

/** Celery settings in order, as [lowercase setting name, Python expression]. */
function settings(model: CeleryConfigModel): [string, string][] {
  const o = model.options;
  const b = model.broker;
  const out: [string, string][] = [
    ['broker_url', '_celery_tls_broker[0]'],
    ['broker_use_ssl', '_celery_tls_broker[1]'],
  ];
  if (b.loginMethod === 'EXTERNAL') out.push(['broker_login_method', pyLiteral('EXTERNAL')]);
  out.push(['broker_connection_retry_on_startup', 'True']);
  out.push(
    ['task_publish_retry', 'True'],
    ['task_publish_retry_policy', pyLiteral(DEFAULTS.celery.publishRetryPolicy)],
  );
  if (b.scheme === 'amqps') {
    out.push(['broker_transport_options', pyLiteral({ confirm_publish: true })]);
  } else {
    out.push([
      'broker_transport_options',
      pyLiteral({
        visibility_timeout: o.visibilityTimeoutSeconds,
        socket_keepalive: true,
        health_check_interval: o.healthCheckIntervalSeconds,
        retry_on_timeout: true,
      }),
    ]);
  }
  if (model.resultBackend?.scheme === 'postgresql') {
    // Celery's SQLAlchemy backend: the tables exist (made by the users function, or `celery-tls dev`) and the roles
    // may not create any; short-lived sessions carry nothing stale across a database restart.
    const schema = DEFAULTS.postgres.schema;
    out.push(
      ['result_backend', '_celery_tls_result_backend[0]'],
      ['database_engine_options', '_celery_tls_result_backend[1]'],
      ['database_short_lived_sessions', 'True'],
      ['database_table_schemas', pyLiteral({ task: schema, group: schema })],
      ['database_create_tables_at_setup', 'False'],
      ['result_backend_always_retry', 'True'],
      ['result_backend_max_retries', pyLiteral(o.resultBackendMaxRetries)],
      ['result_backend_base_sleep_between_retries_ms', pyLiteral(DEFAULTS.celery.resultBackendRetryBaseMs)],
      ['result_backend_max_sleep_between_retries_ms', pyLiteral(DEFAULTS.celery.resultBackendRetryMaxSleepMs)],
    );
  } else if (model.resultBackend) {
    out.push(
      ['result_backend', '_celery_tls_result_backend[0]'],
      ['redis_backend_use_ssl', '_celery_tls_result_backend[1]'],
      ['result_backend_always_retry', 'True'],
      ['result_backend_max_retries', pyLiteral(o.resultBackendMaxRetries)],
      ['result_backend_base_sleep_between_retries_ms', pyLiteral(DEFAULTS.celery.resultBackendRetryBaseMs)],
      ['result_backend_max_sleep_between_retries_ms', pyLiteral(DEFAULTS.celery.resultBackendRetryMaxSleepMs)],
      ['redis_socket_keepalive', 'True'],
      ['redis_retry_on_timeout', 'True'],
      ['redis_backend_health_check_interval', pyLiteral(o.healthCheckIntervalSeconds)],
    );
  }
  out.push(
    ['task_acks_late', 'True'],
    ['task_reject_on_worker_lost', 'True'],
    ['worker_prefetch_multiplier', pyLiteral(o.prefetchMultiplier)],
    ...serializerSettings(model.security),
  );
  if (o.quorumQueues) {
    // Celery 5.6 also creates the queues a worker's -Q names (not in task_queues) as quorum queues; 5.5 ignores it.
    out.push(['task_default_queue_type', pyLiteral('quorum')], ['task_create_missing_queue_type', pyLiteral('quorum')]);
  }
  if (o.nativeDelayedDelivery) {
    // Celery routes countdown/ETA messages through native delayed delivery only from non-direct exchanges.
    out.push(
      ['task_default_exchange_type', pyLiteral('topic')],
      ['task_create_missing_queue_exchange_type', pyLiteral('topic')],
    );
  }
  if (!o.transientQueues) {
    out.push(
      ['worker_enable_remote_control', '_celery_tls_control[0]'],
      ['control_queue_exclusive', '_celery_tls_control[1]'],
      ['event_queue_exclusive', '_celery_tls_control[1]'],
    );
  }
  return out;
}

function describe(e: CeleryEndpoint, ctx: ResolveContext): string {
  const version = e.engineVersion && !ctx.isUnresolved(e.engineVersion) ? ` ${e.engineVersion}` : '';
  const scheme = e.scheme === 'postgresql' ? 'db+postgresql+psycopg2' : e.scheme;
  return `${scheme}:// (${e.engine}${version}${e.scheme === 'postgresql' ? ', sslmode=verify-full' : ''})`;
}

function envDoc(role: EndpointRole, e: CeleryEndpoint): string[] {
  const p = envPrefix(role);
  const names = [
    ENV_NAMES.HOST,
    ENV_NAMES.PORT,
    e.scheme === 'amqps' ? ENV_NAMES.VHOST : e.scheme === 'postgresql' ? ENV_NAMES.DATABASE : ENV_NAMES.DB,
    ...(e.secretUsernameField ? [] : [ENV_NAMES.USERNAME]),
  ];
  const secret = e.secretUsernameField
    ? `${p}CREDENTIALS (the whole secret, user name and password, injected from Secrets Manager)`
    : `${p}PASSWORD (inject from Secrets Manager)`;
  return [
    `  ${names.map((n) => p + n).join(', ')}`,
    `  ${secret} or ${p}SECRET_ARN [+ ${p}SECRET_FIELD] (read with boto3 at start-up${e.scheme === 'rediss' ? `; with redis-py >= 4.4 re-read for new connections every ${p}SECRET_REFRESH_SECONDS, default 300, so a rotated password needs no restart` : ''})`,
    e.scheme === 'postgresql'
      ? `  ${p}CA_CERTS (default: ${DEFAULTS.postgres.caCerts}, the RDS CA bundle the image must carry); sslmode is always verify-full`
      : `  ${p}CA_CERTS (default: the system trust store), ${p}CERTFILE + ${p}KEYFILE (mutual TLS)`,
    ...(e.scheme === 'amqps'
      ? [`  ${p}SERVER_NAME (the certificate's name when ${p}HOST is a tunnel or another name for the broker)`]
      : []),
    ...(e.scheme === 'amqps'
      ? [
          `  or ${p}CLIENT_CERT (the certificate secret, injected) / ${p}CLIENT_CERT_SECRET_ARN (read at start-up): written to 0600 files`,
        ]
      : []),
  ];
}

export interface PythonRenderOptions {
  /** "module" for celeryconfig.py, "django" for a settings.py block read with namespace="CELERY". */
  readonly flavor: 'module' | 'django';
  /** Library version written in the header. */
  readonly version: string;
  /** Where the values came from (e.g. the manifest path). */
  readonly source?: string;
}

/** Renders the Python settings: a `celeryconfig.py` module or a Django settings block. */
export function renderPython(model: CeleryConfigModel, ctx: ResolveContext, opts: PythonRenderOptions): string {
  const name = (setting: string) => (opts.flavor === 'django' ? `CELERY_${setting.toUpperCase()}` : setting);
  const b = model.broker;
  const r = model.resultBackend;
  const header = [
    opts.flavor === 'django'
      ? '# Celery settings for Django (celery-tls-constructs). Load with app.config_from_object("django.conf:settings", namespace="CELERY").'
      : '"""Celery settings (celery-tls-constructs). Load with app.config_from_object("celeryconfig").',
    ...(opts.flavor === 'django' ? [] : ['']),
    `Generated by celery-tls-constructs ${opts.version}${opts.source ? ` from ${opts.source}` : ''}. Do not edit: render again.`,
    `Broker: ${describe(b, ctx)}. Result backend: ${r ? describe(r, ctx) : 'none'}.`,
    'TLS with certificate and hostname verification is always on; no variable turns it off, and a plaintext',
    'CELERY_BROKER_URL / CELERY_RESULT_BACKEND in the environment makes the import fail.',
    'Values below are defaults; these environment variables win over them:',
    ...envDoc('broker', b),
    ...(r ? envDoc('resultBackend', r) : []),
    ...securityEnvDoc(model.security),
  ];
  const lines: string[] = [];
  if (opts.flavor === 'django') {
    lines.push(...header.map((l) => (l.startsWith('#') ? l : `# ${l}`.trimEnd())));
  } else {
    lines.push(...header, '"""');
  }
  lines.push(PYTHON_RUNTIME, '', '_celery_tls_refuse_insecure_environment()');
  lines.push(...securityPrelude(model.security, ctx));
  if (model.options.quorumQueues) {
    lines.push(
      '_celery_tls_require_celery((5, 5), "A RabbitMQ 4 broker declares quorum queues (task_default_queue_type, kombu#2469)")',
    );
  }
  const builder = (e: CeleryEndpoint) =>
    e.scheme === 'amqps'
      ? '_celery_tls_amqp_url'
      : e.scheme === 'postgresql'
        ? '_celery_tls_postgres_url'
        : '_celery_tls_redis_url';
  lines.push(`_celery_tls_broker = ${builder(b)}(${pyLiteral(envPrefix('broker'))}, ${endpointDefaults(b, ctx)})`);
  if (r)
    lines.push(
      `_celery_tls_result_backend = ${builder(r)}(${pyLiteral(envPrefix('resultBackend'))}, ${endpointDefaults(r, ctx)})`,
    );
  if (r)
    lines.push(
      ...(r.scheme === 'postgresql'
        ? ['_celery_tls_database_backend_retries()', '_celery_tls_database_json_like_results()']
        : ['_celery_tls_redis_backend_retries()']),
    );
  if (model.options.nativeDelayedDelivery)
    lines.push('_celery_tls_subsecond_countdowns()', '_celery_tls_mask_logged_urls()');
  if (!model.options.transientQueues) lines.push('_celery_tls_control = _celery_tls_without_transient_queues()');
  if (model.options.startupCheck)
    lines.push(`_celery_tls_startup_check(${pyLiteral(model.options.startupCheckSeconds)})`);
  lines.push('');
  for (const [setting, expr] of settings(model)) lines.push(`${name(setting)} = ${expr}`);
  const backendTls = r?.scheme === 'postgresql' ? 'database_engine_options' : 'redis_backend_use_ssl';
  lines.push(
    '',
    `_celery_tls_assert_secure(${name('broker_url')}, ${name('broker_use_ssl')}, ${r ? name('result_backend') : 'None'}, ${r ? name(backendTls) : 'None'})`,
    '',
  );
  lines.push(...securityEpilogue(model.security, opts.flavor));
  if (r?.scheme === 'postgresql' && opts.flavor === 'django') {
    lines.push(
      '# django-celery-results keeps results through the Django ORM instead (CELERY_RESULT_BACKEND = "django-db"):',
      '# add this entry to DATABASES (e.g. DATABASES["celery_results"] = CELERY_TLS_RESULT_DATABASE, with a router),',
      '# and pass the entry to _celery_tls_assert_django_database() after any change to it. Its tables come from',
      '# "manage.py migrate", run as a role that may create them, never as the Celery roles.',
      `CELERY_TLS_RESULT_DATABASE = _celery_tls_django_database(${pyLiteral(envPrefix('resultBackend'))}, ${endpointDefaults(r, ctx)})`,
      '',
    );
  }
  return lines.join('\n');
}
