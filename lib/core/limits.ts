/**
 * Service limits and the bounds the library enforces on top of them (each says which it is). Not defaults: a prop
 * outside them is refused at synth time. Defaults are in defaults.ts, wire-contract names in wire.ts.
 */

/** A length range, and the rule quoted in the error. */
export interface LengthLimit {
  /** The shortest allowed length, in characters. */
  readonly min: number;
  /** The longest allowed length, in characters. */
  readonly max: number;
  /** The service rule, with its documentation link, quoted in the error message. */
  readonly rule: string;
}

/** Service limits and library bounds that props are checked against at synth time. */
export const LIMITS = {
  /** ElastiCache AUTH token: 16–128 printable characters; we generate alphanumerics only. */
  redisAuthToken: {
    min: 16,
    max: 128,
    rule: 'ElastiCache accepts AUTH tokens of 16 to 128 characters (https://docs.aws.amazon.com/AmazonElastiCache/latest/dg/auth.html)',
  } satisfies LengthLimit,
  /** Amazon MQ user password: at least 12 characters, at least 4 unique, no `, : =`. */
  rabbitMqPassword: {
    min: 12,
    max: 250,
    rule: 'Amazon MQ accepts passwords of 12 to 250 characters with at least 4 unique characters and no , : = (https://docs.aws.amazon.com/amazon-mq/latest/api-reference/brokers-broker-id-users-username.html)',
  } satisfies LengthLimit,
  /** ElastiCache ports (1024 and up; the library refuses the privileged range). */
  redisPort: { min: 1024, max: 65535 },
  /** Nodes of a cluster-mode-disabled replication group: a primary and up to five replicas, one subnet each. */
  cacheSubnets: 6,
  /** Days between rotations: the library's bound (Security Hub SecretsManager.4 and the NIST/HIPAA packs ask for 90). */
  rotationDays: { min: 1, max: 90 },
  /** Client certificates: AWS Private CA end-entity validity the library allows, and the renewal bound. */
  clientCertificateValidityDays: 825,
  clientCertificateRenewDays: 90,
  /** PostgreSQL role passwords the library generates (RDS master passwords allow up to 99 characters). */
  postgresPassword: {
    min: 16,
    max: 99,
    rule: 'RDS for PostgreSQL accepts master passwords of 8 to 99 characters (https://docs.aws.amazon.com/AmazonRDS/latest/APIReference/API_CreateDBInstance.html); the library generates at least 16',
  } satisfies LengthLimit,
  /** Subnets of an RDS DB subnet group the library uses: one per Availability Zone, up to six. */
  postgresSubnets: 6,
  /** gp3 storage of an RDS for PostgreSQL instance, GiB. */
  postgresStorageGiB: { min: 20, max: 65536 },
  /**
   * Automated backups: RDS keeps at most 35 days; the library's minimum is Security Hub RDS.11's 7 (0 would turn
   * backups off, refused by cdk-nag RDS13 and HIPAA/NIST RDSInstanceBackupEnabled).
   */
  postgresBackupRetentionDays: {
    min: 7,
    max: 35,
    rule: 'Security Hub RDS.11 asks for at least 7 days of automated backups; RDS keeps at most 35',
  },
  /** A subordinate CA's certificate: 1 to 10 years (within the parent's own validity). */
  subordinateCaValidityYears: { min: 1, max: 10 },
} as const;
