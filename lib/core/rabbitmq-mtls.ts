import { DEFAULTS } from './defaults';
import { IssueCollector, ResolveContext, ValidationResult, show } from './errors';
import { IamStatementModel, viaSecretsManager } from './iam';
import { GeneratedSecretShape } from './secrets';
import { mergeStatements } from './rabbitmq-users';
import { LIMITS } from './limits';

/**
 * Mutual TLS to an Amazon MQ for RabbitMQ 4 broker: clients present certificates issued by an AWS Private CA, the
 * broker requires them and logs clients in by the certificate's common name (EXTERNAL), so a stolen password is not
 * enough. Keys from the Amazon MQ developer guide ("ssl-for-amq-for-rabbitmq", "rabbitmq-ssl-tutorial",
 * "arn-support-rabbitmq-configuration").
 */
export interface BrokerClientCertificateOptions {
  /** Days each client certificate is valid. @default 60 */
  readonly validityDays?: number;
  /** Days between re-issues (the rotation of each certificate secret); less than validityDays. @default 30 */
  readonly renewDays?: number;
  /**
   * The algorithm the CA signs with, which follows its key: SHA256WITHRSA (RSA CAs), SHA384WITHRSA, SHA512WITHRSA,
   * SHA256WITHECDSA (EC CAs), SHA384WITHECDSA, SHA512WITHECDSA. @default "SHA256WITHRSA"
   */
  readonly caSigningAlgorithm?: string;
  /**
   * The CA whose certificate the broker trusts (`aws.arns.ssl_options.cacertfile`). For a subordinate CA give its
   * root's ARN: Amazon MQ reads a CA's certificate without its chain, and RabbitMQ (Erlang) accepts only a
   * self-signed anchor. Measured here on RabbitMQ 3.10 / OTP 25: a client chained to a subordinate was refused with
   * only the subordinate trusted, and accepted with the root trusted, the client sending its chain (as these
   * settings do). @default - the issuing CA (right for a root CA)
   */
  readonly trustAnchorCaArn?: string;
}

/** The resolved client-certificate settings: every default applied, everything validated. */
export interface RabbitMqMutualTlsSpec {
  /** The CA that issues the client certificates ("" until the adapter fills in a CA created with the broker). */
  readonly caArn: string;
  /** The CA the broker trusts (the issuing CA, or its root). */
  readonly trustAnchorCaArn: string;
  /** The algorithm the CA signs client certificates with (default "SHA256WITHRSA"). */
  readonly caSigningAlgorithm: string;
  /** Days each client certificate is valid (default 60). */
  readonly validityDays: number;
  /** Days between re-issues of each client certificate (default 30). */
  readonly renewDays: number;
}

const CA_ARN = /^arn:aws[a-z-]*:acm-pca:[a-z0-9-]+:\d{12}:certificate-authority\/[0-9a-f-]{36}$/;

/** AWS Private CA signing algorithms; each follows the CA's key (RSA or EC). */
const SIGNING_ALGORITHMS = [
  'SHA256WITHRSA',
  'SHA384WITHRSA',
  'SHA512WITHRSA',
  'SHA256WITHECDSA',
  'SHA384WITHECDSA',
  'SHA512WITHECDSA',
];

function checkCaArn(issues: IssueCollector, prop: string, value: string | undefined): void {
  if (issues.known(value) && !CA_ARN.test(value)) {
    issues.error(
      'rabbitmq.mtls-ca',
      prop,
      `${prop} ${show(value)} is not an AWS Private CA ARN: expected arn:aws:acm-pca:<region>:<account>:certificate-authority/<id>.`,
    );
  }
}

function checkSigningAlgorithm(issues: IssueCollector, prop: string, value: string | undefined): void {
  if (issues.known(value) && !SIGNING_ALGORITHMS.includes(value)) {
    issues.error(
      'rabbitmq.mtls-signing',
      prop,
      `${prop} ${show(value)} is not an AWS Private CA signing algorithm: allowed ${SIGNING_ALGORITHMS.join(', ')} (it follows the CA's key: RSA or EC).`,
    );
  }
}

export function resolveRabbitMqMutualTlsSpec(
  /** Undefined for a CA created with the broker (a new subordinate): its ARN is known at deploy time only. */
  caArn: string | undefined,
  options: BrokerClientCertificateOptions,
  broker: { engineVersion: string; brokerName?: string },
  ctx: ResolveContext,
): ValidationResult<RabbitMqMutualTlsSpec> {
  const issues = new IssueCollector(ctx);
  const d = DEFAULTS.rabbitmq.clientCertificates;
  checkCaArn(issues, 'clientCertificates', caArn);
  checkCaArn(issues, 'clientCertificates.trustAnchorCaArn', options.trustAnchorCaArn);
  if (!/^([4-9]|\d\d+)\.\d+$/.test(broker.engineVersion) || Number(broker.engineVersion) < 4.2) {
    issues.error(
      'rabbitmq.mtls-version',
      'clientCertificates',
      `clientCertificates needs RabbitMQ 4.2 or later: Amazon MQ reads the CA through aws.arns.* configuration keys from 4.2 on; engineVersion is ${show(broker.engineVersion)}.`,
    );
  }
  if (broker.brokerName !== undefined && ctx.isUnresolved(broker.brokerName)) {
    issues.error(
      'rabbitmq.mtls-broker-name',
      'brokerName',
      'brokerName must be a literal with clientCertificates: the role Amazon MQ assumes to read the CA is limited to this broker by name (aws:SourceArn).',
    );
  }
  checkSigningAlgorithm(issues, 'clientCertificates.caSigningAlgorithm', options.caSigningAlgorithm);
  const validityDays = options.validityDays ?? d.validityDays;
  const renewDays = options.renewDays ?? d.renewDays;
  for (const [prop, value, max] of [
    ['clientCertificates.validityDays', options.validityDays, LIMITS.clientCertificateValidityDays],
    ['clientCertificates.renewDays', options.renewDays, LIMITS.clientCertificateRenewDays],
  ] as const) {
    if (issues.known(value) && (!Number.isInteger(value) || value < 1 || value > max)) {
      issues.error('rabbitmq.mtls-days', prop, `${prop} ${show(value)} is out of range: allowed 1 to ${max}.`);
    }
  }
  if (Number.isInteger(validityDays) && Number.isInteger(renewDays) && renewDays >= validityDays) {
    issues.error(
      'rabbitmq.mtls-days',
      'clientCertificates.renewDays',
      `clientCertificates.renewDays ${renewDays} must be less than validityDays ${validityDays}: a certificate is re-issued before it expires, and clients pick the new one up on restart.`,
    );
  }
  // A CA made with the broker: the adapter fills its ARN in (and the trust anchor is then the parent, given).
  return issues.result({
    caArn: caArn ?? '',
    trustAnchorCaArn: options.trustAnchorCaArn ?? caArn ?? '',
    caSigningAlgorithm: options.caSigningAlgorithm ?? d.caSigningAlgorithm,
    validityDays,
    renewDays,
  });
}

/**
 * The rabbitmq.conf of a broker that requires client certificates and logs clients in by their common name. Every
 * AMQP client then needs a certificate; the management API (443) keeps password login (Amazon MQ does not offer
 * strict mTLS there), which the users function uses.
 */
export function renderMutualTlsRabbitMqConf(args: { caArn: string; roleArn: string }): string {
  return [
    '# celery-tls-constructs: client certificates required, EXTERNAL login by common name',
    'auth_mechanisms.1 = EXTERNAL',
    'auth_backends.1 = internal',
    'ssl_cert_login_from = common_name',
    'ssl_options.verify = verify_peer',
    'ssl_options.fail_if_no_peer_cert = true',
    `aws.arns.assume_role_arn = ${args.roleArn}`,
    `aws.arns.ssl_options.cacertfile = ${args.caArn}`,
    '',
  ].join('\n');
}

/** What the role Amazon MQ assumes may do: read the CA's certificate, nothing else. */
export function brokerCaReadStatements(caArn: string): IamStatementModel[] {
  return [{ effect: 'Allow', actions: ['acm-pca:GetCertificateAuthorityCertificate'], resources: [caArn] }];
}

/** The trust of that role: Amazon MQ, for this account's broker of this name only (confused-deputy protection). */
export function brokerRoleTrustConditions(args: {
  account: string;
  partition: string;
  region: string;
  brokerName: string;
}): Record<string, Record<string, string>> {
  return {
    StringEquals: { 'aws:SourceAccount': args.account },
    ArnLike: { 'aws:SourceArn': `arn:${args.partition}:mq:${args.region}:${args.account}:broker:${args.brokerName}:*` },
  };
}

/** The end-entity template for TLS client certificates. */
export function clientAuthTemplateArn(partition: string): string {
  return `arn:${partition}:acm-pca:::template/EndEntityClientAuthCertificate/V1`;
}

/**
 * What the certificate rotation function may do: issue client-authentication certificates from this CA only (the
 * template is a condition), read them back, and rotate the certificate secrets.
 */
export function clientCertificateIssuerStatements(args: {
  caArn: string;
  secretArns: readonly string[];
  keyArn: string;
  region: string;
  partition: string;
}): IamStatementModel[] {
  return mergeStatements([
    {
      effect: 'Allow',
      actions: ['acm-pca:IssueCertificate'],
      resources: [args.caArn],
      conditions: { StringEquals: { 'acm-pca:TemplateArn': clientAuthTemplateArn(args.partition) } },
    },
    { effect: 'Allow', actions: ['acm-pca:GetCertificate'], resources: [args.caArn] },
    {
      effect: 'Allow',
      // TagResource: the current certificate's notAfter, which the TLS canary reads without the key.
      actions: [
        'secretsmanager:DescribeSecret',
        'secretsmanager:GetSecretValue',
        'secretsmanager:PutSecretValue',
        'secretsmanager:TagResource',
        'secretsmanager:UpdateSecretVersionStage',
      ],
      resources: [...args.secretArns],
    },
    {
      effect: 'Allow',
      actions: ['kms:Decrypt', 'kms:GenerateDataKey'],
      resources: [args.keyArn],
      conditions: viaSecretsManager(args.region),
    },
  ]);
}

/**
 * The certificate secret as created: the common name only (plus a random placeholder, which Secrets Manager's
 * generator needs); the first rotation replaces it with the issued certificate and key.
 */
export function clientCertificateShape(commonName: string): GeneratedSecretShape {
  return {
    length: 16,
    excludePunctuation: true,
    includeSpace: false,
    requireEachIncludedType: true,
    generateStringKey: 'placeholder',
    template: { common_name: commonName },
    description: `TLS client certificate of ${commonName} (Celery, mutual TLS to Amazon MQ)`,
  };
}

/** A subordinate CA made for the broker's clients, signed by a parent CA of the account. */
export interface SubordinateCaOptions {
  /** The parent CA (a root, usually) that signs the subordinate. */
  readonly parentCaArn: string;
  /**
   * PEM of the parent's certificate chain (its certificate, and its own chain if it is not a root): CloudFormation
   * needs it to activate the subordinate and cannot read it from AWS Private CA. Public data, no secret.
   */
  readonly parentCertificateChain: string;
  /** The parent's signing algorithm (follows its key). @default "SHA256WITHRSA" */
  readonly parentSigningAlgorithm?: string;
  /** Common name of the subordinate CA. @default "Celery client CA" */
  readonly commonName?: string;
  /** Years the subordinate's own certificate is valid. @default 5 */
  readonly validityYears?: number;
  /**
   * "GENERAL_PURPOSE" (about $400 a month) or "SHORT_LIVED_CERTIFICATE" (about $50 a month; client certificates of
   * at most 7 days, so `validityDays` 7 or less). Create-only. @default "GENERAL_PURPOSE"
   */
  readonly usageMode?: string;
}

/** The resolved subordinate CA: every default applied, everything validated. */
export interface SubordinateCaSpec {
  /** The parent CA that signs the subordinate. */
  readonly parentCaArn: string;
  /** PEM of the parent's certificate chain, as given. */
  readonly parentCertificateChain: string;
  /** The parent's signing algorithm (default "SHA256WITHRSA"). */
  readonly parentSigningAlgorithm: string;
  /** Common name of the subordinate CA (default "Celery client CA"). */
  readonly commonName: string;
  /** Years the subordinate's own certificate is valid (default 5). */
  readonly validityYears: number;
  /** "GENERAL_PURPOSE" or "SHORT_LIVED_CERTIFICATE" (default "GENERAL_PURPOSE"). */
  readonly usageMode: string;
  /** The subordinate's own key and signing algorithm (ECDSA P-256, as its client certificates). */
  readonly keyAlgorithm: 'EC_prime256v1';
  /** The algorithm the subordinate signs client certificates with: always ECDSA with SHA-256. */
  readonly signingAlgorithm: 'SHA256WITHECDSA';
  /** The template the parent signs with: a CA that issues end-entity certificates only. */
  readonly templateArn: (partition: string) => string;
}

export function resolveSubordinateCaSpec(
  options: SubordinateCaOptions,
  certificates: BrokerClientCertificateOptions,
  ctx: ResolveContext,
): ValidationResult<SubordinateCaSpec> {
  const issues = new IssueCollector(ctx);
  const d = DEFAULTS.rabbitmq.clientCertificates.subordinateCa;
  checkCaArn(issues, 'subordinateCa.parentCaArn', options.parentCaArn);
  if (
    issues.known(options.parentCertificateChain) &&
    !/^\s*-----BEGIN CERTIFICATE-----[\s\S]+-----END CERTIFICATE-----\s*$/.test(options.parentCertificateChain)
  ) {
    issues.error(
      'rabbitmq.mtls-chain',
      'subordinateCa.parentCertificateChain',
      "subordinateCa.parentCertificateChain is not PEM certificates: give the parent CA's certificate (aws acm-pca get-certificate-authority-certificate --certificate-authority-arn <parent>), and its chain if it is not a root.",
    );
  }
  checkSigningAlgorithm(issues, 'subordinateCa.parentSigningAlgorithm', options.parentSigningAlgorithm);
  const usageMode = options.usageMode ?? d.usageMode;
  if (issues.known(options.usageMode) && !['GENERAL_PURPOSE', 'SHORT_LIVED_CERTIFICATE'].includes(usageMode)) {
    issues.error(
      'rabbitmq.mtls-usage-mode',
      'subordinateCa.usageMode',
      `subordinateCa.usageMode ${show(options.usageMode)} is not allowed: "GENERAL_PURPOSE" or "SHORT_LIVED_CERTIFICATE".`,
    );
  }
  const validityDays = certificates.validityDays ?? DEFAULTS.rabbitmq.clientCertificates.validityDays;
  if (usageMode === 'SHORT_LIVED_CERTIFICATE' && validityDays > 7) {
    issues.error(
      'rabbitmq.mtls-usage-mode',
      'validityDays',
      `validityDays ${validityDays} is too long for a SHORT_LIVED_CERTIFICATE CA, which issues certificates of at most 7 days: set validityDays to 7 or less and renewDays below it.`,
    );
  }
  const validityYears = options.validityYears ?? d.validityYears;
  if (
    issues.known(options.validityYears) &&
    (!Number.isInteger(validityYears) ||
      validityYears < LIMITS.subordinateCaValidityYears.min ||
      validityYears > LIMITS.subordinateCaValidityYears.max)
  ) {
    issues.error(
      'rabbitmq.mtls-days',
      'subordinateCa.validityYears',
      `subordinateCa.validityYears ${show(options.validityYears)} is out of range: allowed 1 to 10 (and within the parent's own validity).`,
    );
  }
  const commonName = options.commonName ?? d.commonName;
  if (issues.known(options.commonName) && (commonName.length < 1 || commonName.length > 64)) {
    issues.error(
      'rabbitmq.mtls-ca',
      'subordinateCa.commonName',
      `subordinateCa.commonName ${show(options.commonName)} is not allowed: 1 to 64 characters.`,
    );
  }
  return issues.result({
    parentCaArn: options.parentCaArn,
    parentCertificateChain: options.parentCertificateChain,
    parentSigningAlgorithm: options.parentSigningAlgorithm ?? d.parentSigningAlgorithm,
    commonName,
    validityYears,
    usageMode,
    keyAlgorithm: 'EC_prime256v1',
    signingAlgorithm: 'SHA256WITHECDSA',
    templateArn: (partition: string) => `arn:${partition}:acm-pca:::template/SubordinateCACertificate_PathLen0/V1`,
  });
}
