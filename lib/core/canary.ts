import { DEFAULTS } from './defaults';
import { IamStatementModel } from './iam';
import type { LibraryFunctionPlan } from './identities';

/**
 * The TLS canary's contract, shared by its handler (lib/handlers/tls-canary) and the alarms built on its metrics:
 * the namespace, metric and dimension names. Renaming one orphans its alarms.
 */
export const CANARY_WIRE = {
  /** `CANARY_NAMESPACE` when unset. */
  namespace: 'CeleryTls/Canary',
  metrics: {
    /** 1 when the check passed (a warning counts as a pass), 0 when it failed or could not run. Unit None. */
    checkPassed: 'CheckPassed',
    /** Per endpoint: how many of its CheckPassed values are 0. Unit Count. */
    checksFailed: 'ChecksFailed',
    /** Per endpoint: whole days until the server certificate's notAfter, negative once expired. Unit None. */
    daysToExpiry: 'DaysToExpiry',
    /** Per client-certificate secret: whole days until the certificate's notAfter. Unit None. */
    clientCertificateDaysToExpiry: 'ClientCertificateDaysToExpiry',
  },
  dimensions: { endpoint: 'Endpoint', check: 'Check', secret: 'Secret' },
  /**
   * The tag the certificate function sets on each client-certificate secret when a certificate becomes current: its
   * notAfter (ISO 8601). The canary reads it with DescribeSecret, so it never reads a private key.
   */
  notAfterTag: 'celery-tls:not-after',
} as const;

/** One endpoint the canary checks (`CANARY_ENDPOINTS`). */
export interface CanaryEndpointModel {
  /** The `Endpoint` dimension: "broker" or "resultBackend". */
  readonly name: string;
  readonly host: string;
  readonly port: number;
  readonly protocol: 'amqp' | 'redis' | 'postgres';
  readonly mutualTls: boolean;
  /**
   * A PEM bundle in the function that the endpoint's chain is checked against: RDS certificates chain to the RDS
   * CAs, which the Lambda runtime ships in /var/runtime/ca-cert.pem but Node does not trust by default.
   * @default - Node's root store (Amazon MQ and ElastiCache use public CAs)
   */
  readonly caFile?: string;
  /**
   * No other port: the canary's group reaches only the TLS ports, so a probe of another port would only time out
   * (the TLS port itself is always probed in plaintext).
   */
  readonly plaintextPorts: readonly number[];
}

/** A client-certificate secret whose expiry the canary reports. */
export interface CanaryCertificateSecret {
  readonly arn: string;
  /** The `Secret` dimension: the secret's name (the ARN without the 6-character suffix). */
  readonly name: string;
  readonly keyArn?: string;
}

/**
 * The canary function (in the VPC: its group reaches only the broker's and the backend's TLS ports, and the Secrets
 * Manager endpoint when it reads client-certificate secrets) and its schedule. It holds no broker credentials.
 */
export function tlsCanaryFunctionPlan(args: {
  readonly endpoints: readonly CanaryEndpointModel[];
  readonly certificateSecrets: readonly CanaryCertificateSecret[];
  readonly region: string;
}): {
  readonly function: LibraryFunctionPlan;
  readonly schedule: {
    readonly expression: string;
    readonly description: string;
    readonly retryAttempts: number;
    readonly maxEventAgeSeconds: number;
  };
  /** The canary's own group, and each rule it gets to an endpoint. */
  readonly securityGroupDescription: string;
  readonly ruleDescription: (endpoint: CanaryEndpointModel) => string;
} {
  const c = DEFAULTS.monitoring.canary;
  // DescribeSecret only (the notAfter tag): never GetSecretValue, which would hand it the private keys.
  const statements: IamStatementModel[] = args.certificateSecrets.length
    ? [
        {
          effect: 'Allow',
          actions: ['secretsmanager:DescribeSecret'],
          resources: args.certificateSecrets.map((s) => s.arn),
        },
      ]
    : [];
  return {
    function: {
      id: 'CanaryFunction',
      purpose: 'TLS canary: checks the Celery endpoints like celery-tls verify and publishes the results as metrics',
      asset: 'tls-canary',
      handler: 'index.handler',
      statements,
      environment: {
        CANARY_ENDPOINTS: JSON.stringify(args.endpoints),
        CANARY_NAMESPACE: CANARY_WIRE.namespace,
        CANARY_TIMEOUT_MS: String(c.connectTimeoutMs),
        ...(args.certificateSecrets.length
          ? { CANARY_CLIENT_CERT_SECRET_ARNS: JSON.stringify(args.certificateSecrets.map((s) => s.arn)) }
          : {}),
      },
      timeoutSeconds: c.timeoutSeconds,
      inVpc: true,
    },
    schedule: {
      expression: `rate(${c.scheduleMinutes} minutes)`,
      description: 'Runs the Celery TLS canary',
      retryAttempts: c.retryAttempts,
      maxEventAgeSeconds: c.maxEventAgeSeconds,
    },
    securityGroupDescription: 'Celery TLS canary: the broker and result backend TLS ports only',
    ruleDescription: (e) => `TLS canary to the ${e.name} on ${e.port}/tcp`,
  };
}
