/**
 * The TLS canary: a scheduled function that runs the checks of `celery-tls verify` (lib/verify) against each endpoint
 * of a transport and publishes the results as CloudWatch Embedded Metric Format lines on stdout (no PutMetricData
 * call). It holds no broker credentials and never logs in: TLS handshakes without a client certificate and one
 * plaintext protocol probe per port, as verify does. It also reports the days to expiry of each client-certificate
 * secret from the secret's `celery-tls:not-after` tag (DescribeSecret), which the certificate function sets: it never
 * reads a secret's value, so it never holds a private key. A failed check is a metric; only a bad configuration
 * makes an invocation fail.
 *
 * Environment (set by the canary's construct):
 * - `CANARY_ENDPOINTS`: JSON list of `{"name", "host", "port", "protocol": "amqp"|"redis"|"postgres", "mutualTls"?,
 *   "plaintextPorts"?}`.
 * - `CANARY_CA_BUNDLE`: PEM text trusted instead of Node's root store (local CAs). @default - Node's root store
 * - `CANARY_NAMESPACE`: @default "CeleryTls/Canary"
 * - `CANARY_TIMEOUT_MS`: per connection attempt. @default 5000 (verify's)
 * - `CANARY_CLIENT_CERT_SECRET_ARNS`: JSON list of client-certificate secret ARNs. @default - none
 * - `SECRETS_MANAGER_ENDPOINT`: a Secrets Manager VPC endpoint's DNS name. @default - the regional endpoint
 */
import { createHash } from 'node:crypto';
import { existsSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { verifyEndpoint } from '../../verify/verify';
import type { EndpointReport, VerifyTarget } from '../../verify/verify';
import { CANARY_WIRE } from '../../core/canary';
import { parseCanaryConfig } from './config';
import type { CanaryClientCertificateSecret, CanaryConfig, CanaryEndpoint } from './config';
import { canaryChecks, renderCanaryMetrics, serverDaysToExpiry } from './emf';
import type { ClientCertificateExpiry } from './emf';

export { parseCanaryConfig, secretNameFromArn, DEFAULT_CANARY_NAMESPACE } from './config';
export type { CanaryConfig, CanaryEndpoint, CanaryClientCertificateSecret } from './config';
export { renderCanaryMetrics, canaryChecks, serverDaysToExpiry, CANARY_METRICS, CANARY_DIMENSIONS } from './emf';
export { CANARY_CHECKS, CLIENT_CERT_CHECK } from './emf';
export type { CanaryCheck, CanaryMetricsInput, ClientCertificateExpiry, EmfLine } from './emf';

const DAY_MS = 86_400_000;

export interface CanaryDependencies {
  /**
   * Returns a secret's tags. @default Secrets Manager DescribeSecret (the runtime's SDK, loaded lazily): never
   * GetSecretValue
   */
  readonly getTags?: (arn: string) => Promise<Record<string, string>>;
  /** The environment the configuration is read from, at each invocation. @default process.env */
  readonly env?: Readonly<Record<string, string | undefined>>;
  /**
   * Receives each EMF line (one JSON object, no newline). @default process.stdout, one line each: Lambda's patched
   * console.log would prefix a time and request id, and CloudWatch extracts metrics only from a line that is JSON.
   */
  readonly write?: (line: string) => void;
  /** Receives one readable line per run and one per unreadable secret (never a secret value). @default console.log */
  readonly log?: (line: string) => void;
  /** @default Date.now */
  readonly now?: () => number;
  /** @default verifyEndpoint (lib/verify) */
  readonly verify?: typeof verifyEndpoint;
}

/** What an invocation returns: facts and failures only, no secret value. */
export interface CanarySummary {
  readonly namespace: string;
  /** Every check passed and every client certificate's expiry is known. */
  readonly ok: boolean;
  readonly endpoints: readonly {
    readonly name: string;
    readonly host: string;
    readonly port: number;
    readonly durationMs: number;
    readonly checksFailed: number;
    readonly daysToExpiry?: number;
    /** The checks at 0 and why. */
    readonly failed: readonly { readonly check: string; readonly detail: string }[];
  }[];
  readonly clientCertificates: readonly ClientCertificateExpiry[];
}

/** verify reads its CA from a file: the bundle is written once per content to the function's /tmp. */
function caFile(pem: string): string {
  const file = join(
    tmpdir(),
    `celery-tls-canary-ca-${createHash('sha256').update(pem).digest('hex').slice(0, 16)}.pem`,
  );
  if (!existsSync(file)) writeFileSync(file, pem, { mode: 0o600 });
  return file;
}

function target(e: CanaryEndpoint, config: CanaryConfig): VerifyTarget {
  return {
    name: e.name,
    host: e.host,
    port: e.port,
    protocol: e.protocol,
    // An endpoint's own bundle (RDS: the runtime's Amazon CAs) wins over CANARY_CA_BUNDLE.
    caFile: e.caFile ?? (config.caBundle === undefined ? undefined : caFile(config.caBundle)),
    mutualTls: e.mutualTls,
    plaintextPorts: e.plaintextPorts,
  };
}

/** One endpoint's checks; an unexpected error becomes a failed handshake, never a failed invocation. */
async function checkEndpoint(
  e: CanaryEndpoint,
  config: CanaryConfig,
  verify: typeof verifyEndpoint,
): Promise<{ report: EndpointReport; durationMs: number }> {
  const start = performance.now();
  let report: EndpointReport;
  try {
    report = await verify(target(e, config), config.timeoutMs === undefined ? {} : { timeoutMs: config.timeoutMs });
  } catch (err) {
    const detail = `canary error: ${(err as Error).message.split('\n')[0]}`;
    report = {
      name: e.name,
      host: e.host,
      port: e.port,
      checks: [{ id: 'handshake', title: '', status: 'fail', detail }],
    };
  }
  return { report, durationMs: Math.round(performance.now() - start) };
}

/**
 * A client certificate's days to expiry from its secret's `celery-tls:not-after` tag (ISO 8601), rounded down as
 * verify rounds the server's. The certificate function sets the tag when a certificate becomes current.
 */
export async function clientCertificateExpiry(
  secret: CanaryClientCertificateSecret,
  getTags: (arn: string) => Promise<Record<string, string>>,
  now: number,
): Promise<ClientCertificateExpiry> {
  let tags: Record<string, string>;
  try {
    tags = await getTags(secret.arn);
  } catch (err) {
    const e = err as Error;
    return { secret: secret.name, error: `could not describe ${secret.arn}: ${e.name}: ${e.message.split('\n')[0]}` };
  }
  const tag = CANARY_WIRE.notAfterTag;
  const notAfter = tags[tag] === undefined ? NaN : Date.parse(tags[tag]);
  if (Number.isNaN(notAfter))
    return {
      secret: secret.name,
      error: `${secret.arn} has no ISO 8601 "${tag}" tag (the certificate function sets it when it issues a certificate)`,
    };
  return { secret: secret.name, daysToExpiry: Math.floor((notAfter - now) / DAY_MS) };
}

/** Secrets Manager DescribeSecret through the runtime's SDK (loaded lazily): a secret's tags, never its value. */
export function sdkSecretTags(): (arn: string) => Promise<Record<string, string>> {
  let client: { send(command: unknown): Promise<{ Tags?: { Key?: string; Value?: string }[] }> } | undefined;
  return async (arn) => {
    const sm = require('@aws-sdk/client-secrets-manager');
    const endpoint = process.env.SECRETS_MANAGER_ENDPOINT;
    client ??= new sm.SecretsManagerClient(endpoint ? { endpoint } : {});
    const out = await client!.send(new sm.DescribeSecretCommand({ SecretId: arn }));
    return Object.fromEntries((out.Tags ?? []).map((t) => [t.Key ?? '', t.Value ?? '']));
  };
}

/** The canary's handler, with its AWS and output dependencies injectable (tests never load the SDK). */
export function createCanaryHandler(deps: CanaryDependencies = {}): () => Promise<CanarySummary> {
  return async () => {
    const config = parseCanaryConfig(deps.env ?? process.env);
    const now = deps.now ?? Date.now;
    const write = deps.write ?? ((line: string) => void process.stdout.write(`${line}\n`));
    const log = deps.log ?? ((line: string) => console.log(line));
    const getTags = deps.getTags ?? sdkSecretTags();
    const verify = deps.verify ?? verifyEndpoint;

    const [results, certificates] = await Promise.all([
      Promise.all(config.endpoints.map((e) => checkEndpoint(e, config, verify))),
      Promise.all(config.clientCertificateSecrets.map((s) => clientCertificateExpiry(s, getTags, now()))),
    ]);
    const lines = renderCanaryMetrics({
      namespace: config.namespace,
      timestamp: now(),
      endpoints: results.map((r) => r.report),
      clientCertificates: certificates,
      durationsMs: Object.fromEntries(results.map((r) => [r.report.name, r.durationMs])),
    });
    for (const l of lines) write(JSON.stringify(l));

    const endpoints = results.map(({ report, durationMs }) => {
      const failed = canaryChecks(report)
        .filter((c) => c.passed === 0)
        .map((c) => ({ check: c.check, detail: c.detail }));
      const days = serverDaysToExpiry(report);
      return {
        name: report.name,
        host: report.host,
        port: report.port,
        durationMs,
        checksFailed: failed.length,
        ...(days === undefined ? {} : { daysToExpiry: days }),
        failed,
      };
    });
    for (const c of certificates) if (c.error) log(`tls-canary: client certificate ${c.secret}: ${c.error}`);
    log(
      `tls-canary: ${endpoints
        .map(
          (e) =>
            `${e.name} ${e.failed.length ? `FAIL (${e.failed.map((f) => f.check).join(', ')})` : 'ok'} in ${e.durationMs} ms`,
        )
        .join('; ')}`,
    );
    return {
      namespace: config.namespace,
      ok: endpoints.every((e) => e.checksFailed === 0) && certificates.every((c) => c.error === undefined),
      endpoints,
      clientCertificates: certificates,
    };
  };
}

/** The Lambda entry point (`index.handler`). */
export const handler = createCanaryHandler();
