/**
 * The canary's metrics as CloudWatch Embedded Metric Format (EMF) objects: one JSON object per log line, whose `_aws`
 * member tells CloudWatch Logs which members are metrics and which are dimensions. Pure: the handler writes the lines.
 * @see https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/CloudWatch_Embedded_Metric_Format_Specification.html
 */
import { CANARY_WIRE } from '../../core/canary';
import type { CheckResult, EndpointReport } from '../../verify/verify';

/** Metric names (alarms are built on them: renaming one orphans its alarms): the core's contract. */
export const CANARY_METRICS = CANARY_WIRE.metrics;

/** Dimension names. */
export const CANARY_DIMENSIONS = CANARY_WIRE.dimensions;

/**
 * The checks every endpoint publishes on every run, whatever happens, so that each alarm always has data: the ids of
 * `celery-tls verify`, with its `plaintext-<port>` checks folded into one `plaintext` (0 when any port answers in
 * plaintext; the line's Detail names the port). `client-cert` is added when mutual TLS is on.
 */
export const CANARY_CHECKS = [
  'handshake',
  'chain',
  'hostname',
  'protocol',
  'expiry',
  'refuses-TLSv1',
  'refuses-TLSv1.1',
  'plaintext',
] as const;

/** The check `client-cert`, published only for an endpoint with mutual TLS. */
export const CLIENT_CERT_CHECK = 'client-cert';

/** One check as the canary publishes it. */
export interface CanaryCheck {
  readonly check: string;
  /** 1 = pass or warn, 0 = fail or not run. */
  readonly passed: 0 | 1;
  readonly status: CheckResult['status'] | 'not-run';
  readonly detail: string;
}

/** A client-certificate secret's expiry, or why it is unknown. */
export interface ClientCertificateExpiry {
  /** The secret's name (the `Secret` dimension): never its value. */
  readonly secret: string;
  /** Whole days until notAfter (negative once expired). @default - unknown: no datapoint */
  readonly daysToExpiry?: number;
  /** Why the days are unknown (the secret could not be read or holds no certificate). */
  readonly error?: string;
}

export interface CanaryMetricsInput {
  readonly namespace: string;
  /** Milliseconds since the epoch (the `_aws.Timestamp` of every line). */
  readonly timestamp: number;
  readonly endpoints: readonly EndpointReport[];
  /** @default - none */
  readonly clientCertificates?: readonly ClientCertificateExpiry[];
  /** How long each endpoint's checks took, by endpoint name (a log field, not a metric). @default - not shown */
  readonly durationsMs?: Readonly<Record<string, number>>;
}

/** One EMF log line (before JSON.stringify). */
export interface EmfLine {
  readonly _aws: {
    readonly Timestamp: number;
    readonly CloudWatchMetrics: readonly {
      readonly Namespace: string;
      readonly Dimensions: readonly (readonly string[])[];
      readonly Metrics: readonly { readonly Name: string; readonly Unit: string }[];
    }[];
  };
  readonly [member: string]: unknown;
}

const NOT_RUN = 'not checked: the TLS handshake failed, so there is no server certificate to examine';

/** A report's checks as the canary publishes them: the stable set, plaintext folded, unknown ids kept. */
export function canaryChecks(report: EndpointReport): CanaryCheck[] {
  const of = (c: CheckResult): CanaryCheck => ({
    check: c.id,
    passed: c.status === 'fail' ? 0 : 1,
    status: c.status,
    detail: c.detail,
  });
  const plaintext = report.checks.filter((c) => c.id.startsWith('plaintext-'));
  const byId = new Map(report.checks.filter((c) => !c.id.startsWith('plaintext-')).map((c) => [c.id, of(c)]));
  if (plaintext.length) {
    const failed = plaintext.filter((c) => c.status === 'fail');
    byId.set('plaintext', {
      check: 'plaintext',
      passed: failed.length ? 0 : 1,
      status: failed.length ? 'fail' : 'pass',
      detail: (failed.length ? failed : plaintext)
        .map((c) => `${c.id.slice('plaintext-'.length)}: ${c.detail}`)
        .join('; '),
    });
  }
  const ids = [
    ...CANARY_CHECKS,
    ...[...byId.keys()].filter((id) => !(CANARY_CHECKS as readonly string[]).includes(id)),
  ];
  return ids.map((id) => byId.get(id) ?? { check: id, passed: 0, status: 'not-run', detail: NOT_RUN });
}

/**
 * Days to the server certificate's expiry, as verify computed them (whole days, rounded down), read from its
 * `expiry` check: "N days left (...)" or "expired N days ago (...)". Undefined when there was no handshake.
 */
export function serverDaysToExpiry(report: EndpointReport): number | undefined {
  const detail = report.checks.find((c) => c.id === 'expiry')?.detail ?? '';
  const left = /^(\d+) days left\b/.exec(detail);
  if (left) return Number(left[1]);
  const expired = /^expired (\d+) days ago\b/.exec(detail);
  return expired ? -Number(expired[1]) : undefined;
}

/** The EMF lines of one canary run: per endpoint one line per check and one summary line, then one per secret. */
export function renderCanaryMetrics(input: CanaryMetricsInput): EmfLine[] {
  const { namespace, timestamp } = input;
  const { endpoint: ENDPOINT, check: CHECK, secret: SECRET } = CANARY_DIMENSIONS;
  const line = (
    dimensions: string[],
    metrics: [name: string, unit: string, value: number | undefined][],
    members: Record<string, unknown>,
  ): EmfLine => {
    // Every metric a directive names must be a member of the line: an unknown value is left out, not published as 0.
    const known = metrics.filter(([, , value]) => value !== undefined);
    return {
      _aws: {
        Timestamp: timestamp,
        CloudWatchMetrics: [
          { Namespace: namespace, Dimensions: [dimensions], Metrics: known.map(([Name, Unit]) => ({ Name, Unit })) },
        ],
      },
      ...members,
      ...Object.fromEntries(known.map(([name, , value]) => [name, value])),
    };
  };
  const lines: EmfLine[] = [];
  for (const report of input.endpoints) {
    const where = { Host: report.host, Port: report.port };
    const checks = canaryChecks(report);
    for (const c of checks)
      lines.push(
        line([ENDPOINT, CHECK], [[CANARY_METRICS.checkPassed, 'None', c.passed]], {
          [ENDPOINT]: report.name,
          [CHECK]: c.check,
          ...where,
          Status: c.status,
          Detail: c.detail,
        }),
      );
    const duration = input.durationsMs?.[report.name];
    lines.push(
      line(
        [ENDPOINT],
        [
          [CANARY_METRICS.checksFailed, 'Count', checks.filter((c) => c.passed === 0).length],
          [CANARY_METRICS.daysToExpiry, 'None', serverDaysToExpiry(report)],
        ],
        { [ENDPOINT]: report.name, ...where, ...(duration === undefined ? {} : { DurationMs: duration }) },
      ),
    );
  }
  for (const cert of input.clientCertificates ?? []) {
    if (cert.daysToExpiry === undefined) continue;
    lines.push(
      line([SECRET], [[CANARY_METRICS.clientCertificateDaysToExpiry, 'None', cert.daysToExpiry]], {
        [SECRET]: cert.secret,
      }),
    );
  }
  return lines;
}
