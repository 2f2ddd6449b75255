/**
 * The canary's configuration: environment variables the construct sets, checked once per invocation. A bad value is
 * the only thing that makes the canary throw; a failed TLS check is a metric.
 */
import { X509Certificate } from 'node:crypto';
import { CANARY_WIRE } from '../../core/canary';
import type { CanaryEndpointModel } from '../../core/canary';

/** One endpoint the canary checks, as `CANARY_ENDPOINTS` lists it (the construct writes the core's model). */
export type CanaryEndpoint = CanaryEndpointModel;

/** One client-certificate secret whose expiry the canary reports. */
export interface CanaryClientCertificateSecret {
  readonly arn: string;
  /** The `Secret` dimension: the secret's name, from its ARN. */
  readonly name: string;
}

export interface CanaryConfig {
  readonly endpoints: readonly CanaryEndpoint[];
  /** PEM text trusted instead of Node's root store. @default - Node's root store */
  readonly caBundle?: string;
  readonly namespace: string;
  /** Per connection attempt. @default - verify's default (5000 ms) */
  readonly timeoutMs?: number;
  readonly clientCertificateSecrets: readonly CanaryClientCertificateSecret[];
}

// The handler's own defaults: the bundle reads no construct-side default, and the construct sets every variable.
/** `CANARY_NAMESPACE` when unset. */
export const DEFAULT_CANARY_NAMESPACE = CANARY_WIRE.namespace;

const ENDPOINT_KEYS = ['name', 'host', 'port', 'protocol', 'mutualTls', 'plaintextPorts', 'caFile'];
// ASCII without spaces: CloudWatch dimension values must be ASCII, and alarms name them exactly.
const NAME = /^[A-Za-z0-9_.:/-]{1,128}$/;
// Secrets Manager ARNs: arn:<partition>:secretsmanager:<region>:<account>:secret:<name>-<6 random characters>.
const SECRET_ARN = /^arn:aws[a-z-]*:secretsmanager:[a-z0-9-]+:\d{12}:secret:([A-Za-z0-9/_+=.@-]+)$/;

/** A value as a message shows it: JSON, cut short (a CA bundle or a long list would flood the log). */
function shown(value: unknown): string {
  const text = value === undefined ? 'undefined' : JSON.stringify(value);
  return text.length > 80 ? `${text.slice(0, 77)}...` : text;
}

function bad(variable: string, value: unknown, expected: string): Error {
  return new Error(
    `${variable} is ${shown(value)}; expected ${expected}. The canary's construct sets it: fix the endpoint or secret given to the construct, or the function's environment.`,
  );
}

function parseJson(variable: string, text: string, expected: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    throw bad(variable, text, `${expected} (valid JSON)`);
  }
}

const isPort = (p: unknown): p is number => Number.isInteger(p) && (p as number) >= 1 && (p as number) <= 65535;

function parseEndpoint(value: unknown, index: number): CanaryEndpoint {
  const at = `CANARY_ENDPOINTS[${index}]`;
  if (typeof value !== 'object' || value === null || Array.isArray(value))
    throw bad(at, value, 'an object {"name", "host", "port", "protocol", "mutualTls"?, "plaintextPorts"?}');
  const e = value as Record<string, unknown>;
  const unknown = Object.keys(e).filter((k) => !ENDPOINT_KEYS.includes(k));
  if (unknown.length)
    throw bad(`${at} key ${JSON.stringify(unknown[0])}`, e[unknown[0]], `only the keys ${ENDPOINT_KEYS.join(', ')}`);
  if (typeof e.name !== 'string' || !NAME.test(e.name))
    throw bad(`${at}.name`, e.name, '1 to 128 characters from A-Z a-z 0-9 _ . : / - (the Endpoint dimension)');
  if (typeof e.host !== 'string' || e.host.trim() === '' || /\s/.test(e.host))
    throw bad(`${at}.host`, e.host, 'a host name or IP address');
  if (!isPort(e.port)) throw bad(`${at}.port`, e.port, 'an integer from 1 to 65535 (the TLS port)');
  if (e.protocol !== 'amqp' && e.protocol !== 'redis' && e.protocol !== 'postgres')
    throw bad(`${at}.protocol`, e.protocol, '"amqp", "redis" or "postgres"');
  if (e.mutualTls !== undefined && typeof e.mutualTls !== 'boolean')
    throw bad(`${at}.mutualTls`, e.mutualTls, 'true or false');
  if (e.plaintextPorts !== undefined && (!Array.isArray(e.plaintextPorts) || !e.plaintextPorts.every(isPort)))
    throw bad(`${at}.plaintextPorts`, e.plaintextPorts, 'a list of integers from 1 to 65535');
  if (e.caFile !== undefined && (typeof e.caFile !== 'string' || !e.caFile.startsWith('/')))
    throw bad(
      `${at}.caFile`,
      e.caFile,
      "an absolute path of a PEM bundle in the function (e.g. the runtime's Amazon CAs)",
    );
  return {
    name: e.name,
    host: e.host,
    port: e.port,
    protocol: e.protocol,
    mutualTls: e.mutualTls ?? false,
    plaintextPorts: (e.plaintextPorts as number[] | undefined) ?? [],
    ...(e.caFile !== undefined ? { caFile: e.caFile as string } : {}),
  };
}

/**
 * A client-certificate secret's name from its ARN: the part after `secret:` without the six random characters
 * Secrets Manager appends (`-AbCdEf`); a partial ARN (no suffix) keeps its name whole. As CreateSecret warns, a name
 * that itself ends in a hyphen and six characters reads as a complete ARN.
 * @see https://docs.aws.amazon.com/secretsmanager/latest/apireference/API_CreateSecret.html
 */
export function secretNameFromArn(arn: string): string {
  const m = SECRET_ARN.exec(arn);
  if (!m) throw new Error(`${shown(arn)} is not a Secrets Manager secret ARN`);
  return m[1].replace(/-[A-Za-z0-9]{6}$/, '');
}

function parseSecretArns(text: string | undefined): CanaryClientCertificateSecret[] {
  const variable = 'CANARY_CLIENT_CERT_SECRET_ARNS';
  if (text === undefined || text.trim() === '') return [];
  const expected = 'a JSON list of Secrets Manager secret ARNs (arn:aws:secretsmanager:REGION:ACCOUNT:secret:NAME)';
  const list = parseJson(variable, text, expected);
  if (!Array.isArray(list)) throw bad(variable, list, expected);
  const secrets = list.map((arn, i) => {
    if (typeof arn !== 'string' || !SECRET_ARN.test(arn)) throw bad(`${variable}[${i}]`, arn, expected);
    return { arn, name: secretNameFromArn(arn) };
  });
  const names = secrets.map((s) => s.name);
  const twice = names.find((n, i) => names.indexOf(n) !== i);
  if (twice !== undefined)
    throw bad(variable, list, `secrets with distinct names (${JSON.stringify(twice)} is the Secret dimension twice)`);
  return secrets;
}

/** Reads and checks the canary's environment; throws an error naming the variable, the value and what is allowed. */
export function parseCanaryConfig(env: Readonly<Record<string, string | undefined>>): CanaryConfig {
  const endpointsText = env.CANARY_ENDPOINTS;
  const expected = 'a non-empty JSON list of endpoints [{"name", "host", "port", "protocol", ...}]';
  if (endpointsText === undefined || endpointsText.trim() === '')
    throw bad('CANARY_ENDPOINTS', endpointsText, expected);
  const list = parseJson('CANARY_ENDPOINTS', endpointsText, expected);
  if (!Array.isArray(list) || list.length === 0) throw bad('CANARY_ENDPOINTS', list, expected);
  const endpoints = list.map(parseEndpoint);
  const names = endpoints.map((e) => e.name);
  const twice = names.find((n, i) => names.indexOf(n) !== i);
  if (twice !== undefined)
    throw bad('CANARY_ENDPOINTS', names, `distinct names (${JSON.stringify(twice)} is the Endpoint dimension twice)`);

  const caBundle = env.CANARY_CA_BUNDLE?.trim() ? env.CANARY_CA_BUNDLE : undefined;
  if (caBundle !== undefined) {
    const expected = 'PEM text with at least one -----BEGIN CERTIFICATE----- block, or unset';
    const blocks = caBundle.match(/-----BEGIN CERTIFICATE-----[\s\S]*?-----END CERTIFICATE-----/g) ?? [];
    if (blocks.length === 0) throw bad('CANARY_CA_BUNDLE', caBundle, expected);
    // Node's TLS skips a certificate it cannot parse without a word: the handshake would then fail on the chain.
    blocks.forEach((pem, i) => {
      try {
        new X509Certificate(pem);
      } catch (err) {
        throw bad(
          'CANARY_CA_BUNDLE',
          caBundle,
          `${expected}, each one readable (block ${i + 1}: ${(err as Error).message})`,
        );
      }
    });
  }

  const namespace = env.CANARY_NAMESPACE?.trim() ? env.CANARY_NAMESPACE : DEFAULT_CANARY_NAMESPACE;
  // CloudWatch: 1 to 255 ASCII characters, and "AWS/" is reserved for AWS services.
  if (!/^[\x21-\x7e][\x20-\x7e]{0,254}$/.test(namespace) || namespace.startsWith('AWS/'))
    throw bad('CANARY_NAMESPACE', namespace, '1 to 255 printable ASCII characters, not starting with "AWS/"');

  let timeoutMs: number | undefined;
  if (env.CANARY_TIMEOUT_MS !== undefined && env.CANARY_TIMEOUT_MS.trim() !== '') {
    timeoutMs = Number(env.CANARY_TIMEOUT_MS);
    if (!Number.isInteger(timeoutMs) || timeoutMs < 100 || timeoutMs > 60_000)
      throw bad('CANARY_TIMEOUT_MS', env.CANARY_TIMEOUT_MS, 'an integer number of milliseconds from 100 to 60000');
  }

  return {
    endpoints,
    caBundle,
    namespace,
    timeoutMs,
    clientCertificateSecrets: parseSecretArns(env.CANARY_CLIENT_CERT_SECRET_ARNS),
  };
}
