import { DEFAULTS } from '../defaults';
import { ResolveContext } from '../errors';
import { CeleryConfigModel, CeleryEndpoint } from './model';
import { securityEnvironment } from './security';
import { WIRE } from '../wire';

/**
 * The environment-variable contract of the rendered settings. Each endpoint has a prefix
 * (`CELERY_TLS_BROKER_`, `CELERY_TLS_RESULT_BACKEND_`) followed by one of these names.
 */
export const ENV_NAMES = {
  HOST: 'HOST',
  PORT: 'PORT',
  VHOST: 'VHOST',
  DB: 'DB',
  /** postgresql: the database name. */
  DATABASE: 'DATABASE',
  USERNAME: 'USERNAME',
  /** Secret: inject from Secrets Manager (ECS `secrets`, Kubernetes `secretKeyRef`); never put it in a file. */
  PASSWORD: 'PASSWORD',
  /** Secret: the whole JSON secret (user name and password of one version), injected from Secrets Manager. */
  CREDENTIALS: 'CREDENTIALS',
  /** Read at start-up with boto3 when neither PASSWORD nor CREDENTIALS is set. */
  SECRET_ARN: 'SECRET_ARN',
  SECRET_FIELD: 'SECRET_FIELD',
  CA_CERTS: 'CA_CERTS',
  CERTFILE: 'CERTFILE',
  KEYFILE: 'KEYFILE',
  /** Secret: the client certificate secret `{"certificate", "certificate_chain", "private_key"}`, injected whole. */
  CLIENT_CERT: 'CLIENT_CERT',
  /** Read at start-up with boto3 when neither CERTFILE nor CLIENT_CERT is set. */
  CLIENT_CERT_SECRET_ARN: 'CLIENT_CERT_SECRET_ARN',
} as const;

export type EndpointRole = 'broker' | 'resultBackend';

export function envPrefix(role: EndpointRole): string {
  return WIRE.envPrefix[role];
}

/** Non-secret settings of one endpoint as [name suffix, value] pairs, in contract order. */
export function endpointSettings(e: CeleryEndpoint): [string, string | number | undefined][] {
  return [
    [ENV_NAMES.HOST, e.host],
    [ENV_NAMES.PORT, e.port],
    e.scheme === 'amqps'
      ? [ENV_NAMES.VHOST, e.vhost ?? DEFAULTS.rabbitmq.vhost]
      : e.scheme === 'postgresql'
        ? [ENV_NAMES.DATABASE, e.database ?? DEFAULTS.postgres.database]
        : [ENV_NAMES.DB, e.db ?? DEFAULTS.redis.db],
    // A user name that rotates lives in the secret only, never in a variable that would go stale.
    [ENV_NAMES.USERNAME, e.secretUsernameField ? undefined : (e.username ?? '')],
    [ENV_NAMES.SECRET_ARN, e.secretArn],
    [ENV_NAMES.SECRET_FIELD, e.secretField ?? WIRE.secretPasswordField],
    [ENV_NAMES.CA_CERTS, e.caCerts ?? (e.scheme === 'postgresql' ? DEFAULTS.postgres.caCerts : undefined)],
    [ENV_NAMES.CERTFILE, e.certFile],
    [ENV_NAMES.KEYFILE, e.keyFile],
    [ENV_NAMES.CLIENT_CERT_SECRET_ARN, e.clientCertSecretArn],
  ];
}

/**
 * The environment a container needs, without passwords (those come from Secrets Manager as secrets).
 * Values may be deploy-time tokens: ECS and CloudFormation resolve them.
 */
export function renderEnvironment(model: CeleryConfigModel): Record<string, string> {
  const env: Record<string, string> = {};
  const add = (role: EndpointRole, e: CeleryEndpoint) => {
    for (const [name, value] of endpointSettings(e)) {
      if (value !== undefined) env[envPrefix(role) + name] = String(value);
    }
  };
  add('broker', model.broker);
  if (model.resultBackend) add('resultBackend', model.resultBackend);
  // The signing key pair, certificate store and result key, by ARN (deploy-time ARNs render as None in the settings).
  Object.assign(env, securityEnvironment(model.security));
  return env;
}

/**
 * The variable each endpoint's secret is injected into, and the JSON field to inject: the password field, or the
 * whole secret (no field) when the user name rotates with it.
 */
export function secretVariables(
  model: CeleryConfigModel,
): Record<EndpointRole, { name: string; field?: string } | undefined> {
  const of = (role: EndpointRole, e: CeleryEndpoint) =>
    e.clientCertSecretArn
      ? { name: envPrefix(role) + ENV_NAMES.CLIENT_CERT }
      : e.secretUsernameField
        ? { name: envPrefix(role) + ENV_NAMES.CREDENTIALS }
        : { name: envPrefix(role) + ENV_NAMES.PASSWORD, field: e.secretField ?? WIRE.secretPasswordField };
  return {
    broker: of('broker', model.broker),
    resultBackend: model.resultBackend ? of('resultBackend', model.resultBackend) : undefined,
  };
}

function dotenvValue(value: string): string {
  return /^[A-Za-z0-9_./:@+,=-]*$/.test(value) ? value : JSON.stringify(value);
}

/** `KEY=value` lines for a `.env` file or `docker run --env-file`. Tokens cannot be written to a file. */
export function renderDotenv(model: CeleryConfigModel, ctx: ResolveContext): string {
  const lines = [
    '# Celery TLS settings (celery-tls-constructs). No passwords here: inject',
    `# ${Object.values(secretVariables(model))
      .filter((v) => v !== undefined)
      .map((v) => v!.name)
      .join(' and ')} from Secrets Manager,`,
    '# or leave them unset so that the settings module reads *_SECRET_ARN at start-up.',
  ];
  for (const [key, value] of Object.entries(renderEnvironment(model))) {
    if (ctx.isUnresolved(value))
      throw new Error(
        `${key} is a deploy-time token: render the env format from a deployed manifest (celery-tls render --manifest).`,
      );
    lines.push(`${key}=${dotenvValue(value)}`);
  }
  return lines.join('\n') + '\n';
}
