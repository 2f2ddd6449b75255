import { DEFAULTS } from './defaults';
import { show } from './errors';
import { PORTS } from './ports';

/**
 * The rules of `CeleryEncryptionGuard`, framework-free. Each adapter describes the resources in the guarded scope as
 * they will be deployed (after escape hatches and overrides), in its own property names, and these functions say what
 * is wrong, where, and how to fix it.
 */

/** One property of a rendered resource: its name as the target spells it, and its value (undefined when absent). */
export interface GuardFact {
  /** e.g. `TransitEncryptionEnabled` (CloudFormation) or `transit_encryption_enabled` (Terraform). */
  readonly property: string;
  /** The rendered value, undefined when the property is absent. */
  readonly value: unknown;
}

/** An ElastiCache replication group. */
export interface GuardedCache {
  /** Construct path of the resource. */
  readonly path: string;
  readonly transitEncryptionEnabled: GuardFact;
  readonly transitEncryptionMode: GuardFact;
  readonly atRestEncryptionEnabled: GuardFact;
  readonly kmsKeyId: GuardFact;
  readonly authToken: GuardFact;
  readonly userGroupIds: GuardFact;
  /** The port, when a literal number. */
  readonly port?: number;
  /** Keys of the security groups attached to it (see `GuardedIngressRule.group`). */
  readonly securityGroups: readonly string[];
}

/** An Amazon MQ broker. */
export interface GuardedBroker {
  readonly path: string;
  readonly publiclyAccessible: GuardFact;
  readonly securityGroups: readonly string[];
}

/** One ingress rule: standalone, or one entry of a security group's inline list. */
export interface GuardedIngressRule {
  readonly path: string;
  /** Key of the group the rule belongs to, when known (the same key the caches and brokers list). */
  readonly group?: string;
  readonly protocol: GuardFact;
  readonly fromPort: GuardFact;
  readonly toPort: GuardFact;
  /** The CIDR sources of the rule (IPv4 and IPv6, one fact per property or list entry). */
  readonly cidrs: readonly GuardFact[];
}

/** A Secrets Manager secret. */
export interface GuardedSecret {
  readonly path: string;
  readonly kmsKeyId: GuardFact;
}

/**
 * One egress rule: standalone, one entry of a security group's inline list, or (CloudFormation) the allow-all rule EC2
 * keeps on a group that declares no egress rule.
 */
export interface GuardedEgressRule {
  readonly path: string;
  /** Key of the group the rule belongs to, when known. */
  readonly group?: string;
  readonly protocol: GuardFact;
  readonly fromPort: GuardFact;
  readonly toPort: GuardFact;
  /** The CIDR destinations of the rule (IPv4 and IPv6, one fact per property or list entry). */
  readonly cidrs: readonly GuardFact[];
  /** Keys of the security groups the rule reaches; a broker's or cache's group makes `group` a Celery client group. */
  readonly destinationGroups: readonly string[];
  /** True for EC2's default rule (all traffic to anywhere), kept when a CloudFormation group declares no egress. */
  readonly implicit?: boolean;
}

/**
 * A property that holds a password or a secret's value, described by how it is set and never by its value (the core
 * knows a secret's shape, never its value; no message can leak what it never received).
 */
export interface GuardedSecretValue {
  /** Construct path of the resource. */
  readonly path: string;
  /** As the target spells it, with the list index: `Users[0].Password`, `authentication_mode.passwords[0]`. */
  readonly property: string;
  /**
   * `password`: a broker or cache user's password, which must be read from Secrets Manager at deploy or apply time;
   * `secret-value`: the value of a secret, which must not be a literal.
   */
  readonly holds: 'password' | 'secret-value';
  /**
   * `literal`: known at synth time, so written into the output (string literals, and expressions of literals only);
   * `secret-reference`: read from Secrets Manager (or an SSM SecureString) by CloudFormation or Terraform;
   * `expression`: any other deploy-time value (a parameter, a variable, another resource's attribute).
   */
  readonly source: 'literal' | 'secret-reference' | 'expression';
}

/**
 * A master password of an RDS DB instance or cluster, described by how it is set and never by its value (as
 * `GuardedSecretValue`).
 */
export interface GuardedMasterPassword {
  /** As the target spells it: `MasterUserPassword`, `password`, `master_password_wo`. */
  readonly property: string;
  /** How it is set (see `GuardedSecretValue.source`). */
  readonly source: GuardedSecretValue['source'];
}

/** An RDS DB instance or DB cluster (the guard's rules read only PostgreSQL engines). */
export interface GuardedDatabase {
  /** Construct path of the resource. */
  readonly path: string;
  /** A DB instance or a DB cluster. */
  readonly resource: 'instance' | 'cluster';
  /** `postgres`, `aurora-postgresql`, another engine, or an expression. */
  readonly engine: GuardFact;
  readonly engineVersion: GuardFact;
  /** True for an instance of a cluster: its storage, key, master password and parameters are the cluster's. */
  readonly clusterMember: boolean;
  readonly storageEncrypted: GuardFact;
  readonly kmsKeyId: GuardFact;
  /** Undefined on a cluster (each Aurora instance carries it). */
  readonly publiclyAccessible?: GuardFact;
  /**
   * Whether an absent `publiclyAccessible` can mean public on this target: CloudFormation lets RDS decide from the VPC
   * and the subnet group (public where they route to an internet gateway); Terraform's default is false.
   */
  readonly publicWhenAbsent: boolean;
  /** The (cluster) parameter group's name or reference; absent: the engine's default group. */
  readonly parameterGroup: GuardFact;
  /** Master passwords given as values (none when RDS manages the password). */
  readonly masterPasswords: readonly GuardedMasterPassword[];
}

/** A DB parameter group or DB cluster parameter group (the guard's rules read only PostgreSQL families). */
export interface GuardedParameterGroup {
  /** Construct path of the resource. */
  readonly path: string;
  /** e.g. `postgres17`, `aurora-postgresql16`. */
  readonly family: GuardFact;
  /**
   * Every `rds.force_ssl` entry, as the target spells it (`Parameters.rds.force_ssl`, `parameter[0].value`; a
   * Terraform override appends to the list, so a name can occur twice); one fact without a value when none is set.
   */
  readonly forceSsl: readonly GuardFact[];
  /** Every `ssl_min_protocol_version` entry, likewise. */
  readonly minProtocolVersion: readonly GuardFact[];
}

/** Everything in a guarded scope, as rendered. */
export interface GuardedScope {
  readonly caches: readonly GuardedCache[];
  readonly brokers: readonly GuardedBroker[];
  readonly ingressRules: readonly GuardedIngressRule[];
  readonly secrets: readonly GuardedSecret[];
  /** Egress rules (optional, so that a scope described before these rules existed still type-checks). @default [] */
  readonly egressRules?: readonly GuardedEgressRule[];
  /** Passwords of broker and cache users, and values of secrets. @default [] */
  readonly secretValues?: readonly GuardedSecretValue[];
  /** RDS DB instances and clusters. @default [] */
  readonly databases?: readonly GuardedDatabase[];
  /** DB parameter groups and DB cluster parameter groups. @default [] */
  readonly parameterGroups?: readonly GuardedParameterGroup[];
}

/** One description of several stacks (each adapter describes stack by stack). */
export function mergeGuardedScopes(parts: readonly GuardedScope[]): GuardedScope {
  return {
    caches: parts.flatMap((p) => p.caches),
    brokers: parts.flatMap((p) => p.brokers),
    ingressRules: parts.flatMap((p) => p.ingressRules),
    secrets: parts.flatMap((p) => p.secrets),
    egressRules: parts.flatMap((p) => p.egressRules ?? []),
    secretValues: parts.flatMap((p) => p.secretValues ?? []),
    databases: parts.flatMap((p) => p.databases ?? []),
    parameterGroups: parts.flatMap((p) => p.parameterGroups ?? []),
  };
}

/** Options of `CeleryEncryptionGuard` (both targets). */
export interface CeleryEncryptionGuardOptions {
  /**
   * Accept `TransitEncryptionMode: preferred` (TLS and plaintext both accepted). Only for the deployment between the
   * two steps of turning TLS on for an existing cluster: deploy `preferred`, move every client to TLS, deploy
   * `required` and remove this flag. The guard still warns about each cache in `preferred`.
   * @default false
   * @see https://docs.aws.amazon.com/AmazonElastiCache/latest/dg/in-transit-encryption-enable-existing.html
   */
  readonly allowTransitEncryptionPreferred?: boolean;
}

/** One broken rule: where, which property, what is wrong and how to fix it. */
export interface GuardViolation {
  /** Stable rule id, e.g. `guard.transit-encryption`. */
  readonly rule: string;
  /** Construct path of the resource. */
  readonly path: string;
  /** The property, as the target spells it. */
  readonly property: string;
  /** What is wrong, with the value found. */
  readonly message: string;
  /** What to change. */
  readonly fix: string;
  /** The published checks the rule stands for (cdk-nag, Security Hub, Checkov). */
  readonly sources: string;
}

/** What the guard found in a scope: the broken rules, and the allowed but temporary states. */
export interface GuardResult {
  /** The broken rules; any of them fails the guard. */
  readonly violations: GuardViolation[];
  /** Allowed but temporary states (the `preferred` migration step). */
  readonly warnings: GuardViolation[];
}

/**
 * The rules, with the published checks each one stands for (cdk-nag, Security Hub, Checkov), for the docs and the
 * messages.
 */
export const GUARD_RULES = {
  transitEncryption: { id: 'guard.transit-encryption', sources: 'AwsSolutions-AEC3, ElastiCache.5, CKV_AWS_30' },
  transitEncryptionMode: { id: 'guard.transit-encryption-mode', sources: 'ElastiCache.5, CKV_AWS_30' },
  atRestEncryption: { id: 'guard.at-rest-encryption', sources: 'AwsSolutions-AEC3, ElastiCache.4, CKV_AWS_29' },
  cacheKey: { id: 'guard.cache-cmk', sources: 'CKV_AWS_191' },
  authentication: { id: 'guard.authentication', sources: 'AwsSolutions-AEC6, ElastiCache.6, CKV_AWS_31' },
  authTokenLiteral: { id: 'guard.auth-token-literal', sources: 'CKV_AWS_31, aws-cdk-lib checkSecretUsage' },
  publicBroker: { id: 'guard.public-broker', sources: 'CKV_AWS_69, Trivy AWS-0072' },
  openIngress: { id: 'guard.open-ingress', sources: 'AwsSolutions-EC23, CKV_AWS_24/25/260' },
  allProtocols: { id: 'guard.all-protocols', sources: 'CKV_AWS_382' },
  secretKey: { id: 'guard.secret-cmk', sources: 'HIPAA/NIST/PCI SecretsManagerUsingKMSKey, CKV_AWS_149' },
  ingressTlsPorts: {
    id: 'guard.ingress-tls-ports',
    sources: 'KICS Security Group Ingress With Port Range, NIST 800-53 SC-7(5)',
  },
  openEgress: { id: 'guard.open-egress', sources: 'CKV_AWS_382, Trivy AWS-0104, NIST 800-53 SC-7(5)' },
  passwordLiteral: {
    id: 'guard.password-literal',
    sources: 'cfn_nag F52, cfn-lint W2501/W1011, aws-cdk-lib checkSecretUsage',
  },
  secretStringLiteral: {
    id: 'guard.secret-string-literal',
    sources: 'cfn-lint W2501, aws-cdk-lib checkSecretUsage, Checkov secrets (CKV_SECRET_*)',
  },
  databaseStorageEncryption: {
    id: 'guard.database-storage-encryption',
    sources: 'AwsSolutions-RDS2, HIPAA/NIST/PCI RDSStorageEncrypted, RDS.3, CKV_AWS_16, CKV_AWS_96',
  },
  databaseKey: { id: 'guard.database-cmk', sources: 'NIST 800-53 SC-28, SC-12 (customer-managed key)' },
  publicDatabase: {
    id: 'guard.public-database',
    sources: 'HIPAA/NIST/PCI RDSInstancePublicAccess, RDS.2, CKV_AWS_17, cfn_nag F22',
  },
  databasePasswordLiteral: {
    id: 'guard.database-password-literal',
    sources: 'cfn_nag F23, aws-cdk-lib checkSecretUsage, Checkov secrets (CKV_SECRET_*)',
  },
  postgresForceSsl: { id: 'guard.postgres-force-ssl', sources: 'NIST 800-53 SC-8(1), PCI DSS 4.2.1' },
  postgresTlsVersion: { id: 'guard.postgres-tls-version', sources: 'NIST 800-53 SC-8(1), SC-13' },
} as const;

/** Tells the guard which values are deploy-time expressions (intrinsics, `${...}`), never literals. */
export interface GuardContext {
  /** True when `value` is a deploy-time expression of the target, not a literal. */
  readonly isExpression: (value: unknown) => boolean;
}

const OPEN_CIDRS = ['0.0.0.0/0', '::/0'];
const ALL_PROTOCOLS = ['-1', 'all'];
const TCP = ['tcp', '6'];
const protocolOf = (r: { protocol: GuardFact }) => String(r.protocol.value).toLowerCase();
/** The protocols whose rules carry a port range (for ICMP the bounds are a type and a code). */
const PORT_PROTOCOLS = ['tcp', '6', 'udp', '17'];

const isTrue = (v: unknown) => v === true || v === 'true';
const isFalse = (v: unknown) => v === false || v === 'false';
const absent = (v: unknown) => v === undefined || v === null || v === '';

/** True when a key id names an AWS-managed key (`alias/aws/...`), which the account cannot control or audit. */
function awsManagedKey(value: unknown): boolean {
  return typeof value === 'string' && /(^|:)alias\/aws\//.test(value);
}

/** A CloudFormation dynamic reference (`{{resolve:secretsmanager:...}}`): resolved by CloudFormation, never a literal. */
function dynamicReference(value: unknown): boolean {
  return typeof value === 'string' && /^\{\{resolve:(secretsmanager|ssm-secure):/.test(value);
}

/**
 * The TLS listeners of Amazon MQ for RabbitMQ: AMQPS, and the management API and console on 443 and 15671.
 * @see https://docs.aws.amazon.com/amazon-mq/latest/developer-guide/rabbitmq-basic-elements.html
 */
const BROKER_TLS_PORTS = [PORTS.AMQPS, PORTS.RABBITMQ_MANAGEMENT_HTTPS, PORTS.RABBITMQ_MANAGEMENT_HTTPS_ALT];

/**
 * The Celery groups of a scope, recognized as the guard recognizes the broker's and cache's groups: from the rendered
 * references, never from names. `servers`: the groups attached to a broker or cache, each with the TLS ports of what
 * it is attached to (a cache's port, the Redis default when the property is absent). `clients`: the groups with an
 * egress rule to one of those (the producers, the workers, the library's functions).
 */
export function celeryGroups(scope: GuardedScope): { servers: Map<string, number[]>; clients: Set<string> } {
  const servers = new Map<string, number[]>();
  const add = (groups: readonly string[], ports: readonly number[]) => {
    for (const g of groups) {
      const merged = new Set([...(servers.get(g) ?? []), ...ports]);
      servers.set(
        g,
        [...merged].sort((a, b) => a - b),
      );
    }
  };
  for (const b of scope.brokers) add(b.securityGroups, BROKER_TLS_PORTS);
  for (const c of scope.caches) add(c.securityGroups, [c.port ?? PORTS.REDIS_DEFAULT]);
  const clients = new Set<string>();
  for (const r of scope.egressRules ?? [])
    if (r.group !== undefined && r.destinationGroups.some((g) => servers.has(g))) clients.add(r.group);
  return { servers, clients };
}

/**
 * The ports of a Celery deployment: AMQPS and the plaintext AMQP port, the RabbitMQ management port, the Redis default
 * and library default ports, and every cache port of the scope. HTTPS 443 counts only on a group attached to a broker
 * or cache (elsewhere it is often a public load balancer).
 */
export function celeryPorts(scope: GuardedScope): number[] {
  const ports = new Set<number>([
    PORTS.AMQPS,
    PORTS.AMQP_PLAINTEXT,
    PORTS.RABBITMQ_MANAGEMENT_HTTPS_ALT,
    PORTS.REDIS_DEFAULT,
    DEFAULTS.redis.port,
  ]);
  for (const c of scope.caches) if (c.port !== undefined) ports.add(c.port);
  return [...ports].sort((a, b) => a - b);
}

/** Checks every resource of the scope. */
export function checkEncryptionGuard(
  scope: GuardedScope,
  options: CeleryEncryptionGuardOptions,
  ctx: GuardContext,
): GuardResult {
  const violations: GuardViolation[] = [];
  const warnings: GuardViolation[] = [];
  const allowPreferred = options.allowTransitEncryptionPreferred ?? DEFAULTS.guard.allowTransitEncryptionPreferred;
  const add = (
    rule: { id: string; sources: string },
    path: string,
    fact: GuardFact,
    problem: string,
    fix: string,
    to = violations,
  ) =>
    to.push({
      rule: rule.id,
      path,
      property: fact.property,
      message: `${fact.property} ${problem}`,
      fix,
      sources: rule.sources,
    });
  const got = (f: GuardFact) =>
    absent(f.value)
      ? 'is not set'
      : ctx.isExpression(f.value)
        ? `is a deploy-time expression (${short(f.value)}), not a literal`
        : `is ${show(f.value)}`;

  for (const c of scope.caches) {
    const transit = c.transitEncryptionEnabled;
    if (!isTrue(transit.value)) {
      add(
        GUARD_RULES.transitEncryption,
        c.path,
        transit,
        `${got(transit)}: tasks, results and the AUTH token would cross the network in clear text`,
        `set ${transit.property} to true (remove the escape hatch or override that changed it)`,
      );
    } else {
      const mode = c.transitEncryptionMode;
      if (mode.value === 'required') {
        // the only state the guard accepts without a flag
      } else if (mode.value === 'preferred' && allowPreferred) {
        add(
          GUARD_RULES.transitEncryptionMode,
          c.path,
          mode,
          'is "preferred": the cache still accepts plaintext connections (allowed by allowTransitEncryptionPreferred)',
          `move every client to TLS, then set ${mode.property} to "required" and remove allowTransitEncryptionPreferred`,
          warnings,
        );
      } else {
        const why = mode.value === 'preferred' ? ': the cache also accepts plaintext connections' : '';
        add(
          GUARD_RULES.transitEncryptionMode,
          c.path,
          mode,
          `${got(mode)}${why}; only "required" refuses plaintext`,
          `set ${mode.property} to "required"; while migrating an existing cluster, deploy "preferred" with the guard's allowTransitEncryptionPreferred: true, then "required"`,
        );
      }
    }
    if (!isTrue(c.atRestEncryptionEnabled.value)) {
      add(
        GUARD_RULES.atRestEncryption,
        c.path,
        c.atRestEncryptionEnabled,
        `${got(c.atRestEncryptionEnabled)}: snapshots and swap hold task payloads unencrypted`,
        `set ${c.atRestEncryptionEnabled.property} to true (it is create-only: the cache is replaced)`,
      );
    }
    if (absent(c.kmsKeyId.value) || awsManagedKey(c.kmsKeyId.value)) {
      add(
        GUARD_RULES.cacheKey,
        c.path,
        c.kmsKeyId,
        `${got(c.kmsKeyId)}: at-rest encryption must use a customer-managed KMS key (with rotation and a key policy you control)`,
        `set ${c.kmsKeyId.property} to the ARN of a customer-managed key (it is create-only: the cache is replaced)`,
      );
    }
    const token = c.authToken.value;
    const groups = c.userGroupIds.value;
    const hasGroups = Array.isArray(groups) ? groups.length > 0 : !absent(groups) && ctx.isExpression(groups);
    if (absent(token) && !hasGroups) {
      add(
        GUARD_RULES.authentication,
        c.path,
        c.authToken,
        `is not set and ${c.userGroupIds.property} is empty: any client that reaches the port can read and write every queue`,
        `set ${c.authToken.property} from a Secrets Manager secret, or ${c.userGroupIds.property} to an RBAC user group`,
      );
    } else if (!absent(token) && typeof token === 'string' && !ctx.isExpression(token) && !dynamicReference(token)) {
      add(
        GUARD_RULES.authTokenLiteral,
        c.path,
        c.authToken,
        'is a literal string: the token is readable in the synthesized output and in version control',
        `read ${c.authToken.property} from Secrets Manager (RedisAuth.generatedToken() or RedisAuth.fromSecret...)`,
      );
    }
  }

  for (const b of scope.brokers) {
    const p = b.publiclyAccessible;
    if (!absent(p.value) && !isFalse(p.value)) {
      add(
        GUARD_RULES.publicBroker,
        b.path,
        p,
        `${got(p)}: the broker would get a public endpoint reachable from the internet`,
        `set ${p.property} to false (create-only: the broker is replaced) and reach it through the VPC, a VPN or PrivateLink`,
      );
    }
  }

  const attached = new Set<string>([...scope.caches, ...scope.brokers].flatMap((r) => r.securityGroups));
  const ports = celeryPorts(scope);
  for (const r of scope.ingressRules) {
    const allProtocols = ALL_PROTOCOLS.includes(String(r.protocol.value));
    const onCeleryGroup = r.group !== undefined && attached.has(r.group);
    const open = r.cidrs.filter((c) => OPEN_CIDRS.includes(String(c.value)));
    const covered = allProtocols ? ports : ports.filter((port) => coversPort(r, port, ctx));
    const isTcp = allProtocols || ['tcp', '6'].includes(String(r.protocol.value)) || ctx.isExpression(r.protocol.value);
    for (const cidr of open) {
      if (onCeleryGroup || (isTcp && covered.length > 0)) {
        const target = onCeleryGroup
          ? 'a security group of a Celery broker or cache'
          : `Celery port${covered.length > 1 ? 's' : ''} ${covered.join(', ')}`;
        add(
          GUARD_RULES.openIngress,
          r.path,
          cidr,
          `is ${show(cidr.value)}: it opens ${target} to the whole internet`,
          "remove the rule and allow the producers' and workers' security groups instead (allowDefaultPortFrom / allowProducer / allowWorker)",
        );
      }
    }
    if (allProtocols && (onCeleryGroup || open.length > 0)) {
      add(
        GUARD_RULES.allProtocols,
        r.path,
        r.protocol,
        `is ${show(r.protocol.value)}: every protocol and port is open${onCeleryGroup ? ' on a security group of a Celery broker or cache' : ' to the internet'}`,
        `set ${r.protocol.property} to "tcp" with the one TLS port (5671 for AMQPS, the cache port for Redis)`,
      );
    }
  }

  const { servers, clients } = celeryGroups(scope);
  for (const r of scope.ingressRules) {
    const tls = r.group === undefined ? undefined : servers.get(r.group);
    // Protocol -1 on these groups is guard.all-protocols already.
    if (tls === undefined || ALL_PROTOCOLS.includes(String(r.protocol.value))) continue;
    const ports = `TLS port${tls.length > 1 ? 's' : ''} ${tls.join(', ')}`;
    const fix = `remove the rule: allow only tcp on the ${ports}, from the producers' and workers' security groups (allowDefaultPortFrom / allowProducer / allowWorker)`;
    if (!TCP.includes(protocolOf(r))) {
      add(
        GUARD_RULES.ingressTlsPorts,
        r.path,
        r.protocol,
        `${got(r.protocol)}: a security group of a Celery broker or cache accepts tcp on its ${ports} only`,
        fix,
      );
      continue;
    }
    const off = outsidePorts(r, tls, got);
    if (off)
      add(
        GUARD_RULES.ingressTlsPorts,
        r.path,
        off.fact,
        off.known
          ? `${off.text}: the rule opens ports other than the ${ports} on a security group of a Celery broker or cache`
          : `${off.text}: the guard cannot tell that the rule opens only the ${ports} of a security group of a Celery broker or cache`,
        fix,
      );
  }

  for (const r of scope.egressRules ?? []) {
    const server = r.group !== undefined && servers.has(r.group);
    if (!server && !(r.group !== undefined && clients.has(r.group))) continue;
    const role = server
      ? 'a security group of a Celery broker or cache'
      : "a Celery client group (its egress reaches a broker or cache: the producers, the workers, the library's functions)";
    const fix = server
      ? 'remove the rule: the group of a broker or cache needs no egress (allowAllOutbound: false)'
      : 'remove the rule: a Celery client group sends only to the TLS ports of the broker and the result backend; give a service that needs more egress a security group of its own beside this one';
    if (r.implicit) {
      add(
        GUARD_RULES.openEgress,
        r.path,
        r.protocol,
        `is not set and no egress rule names the group: EC2 keeps its default rule (all traffic to 0.0.0.0/0 and ::/0) on ${role}`,
        `${fix}; declare an egress rule (allowAllOutbound: false renders one that matches no traffic)`,
      );
      continue;
    }
    const allProtocols = ALL_PROTOCOLS.includes(String(r.protocol.value));
    const open = r.cidrs.filter((c) => OPEN_CIDRS.includes(String(c.value)));
    const traffic = allProtocols
      ? 'any protocol on any port'
      : `${typeof r.protocol.value === 'string' ? `${r.protocol.value} ` : ''}traffic`;
    for (const cidr of open)
      add(
        GUARD_RULES.openEgress,
        r.path,
        cidr,
        `is ${show(cidr.value)}: ${role} may send ${traffic} to the whole internet`,
        fix,
      );
    if (open.length > 0) continue;
    const every = PORT_PROTOCOLS.includes(protocolOf(r)) ? everyPort(r, got) : undefined;
    if (allProtocols)
      add(
        GUARD_RULES.openEgress,
        r.path,
        r.protocol,
        `is ${show(r.protocol.value)}: every protocol and port is open outbound on ${role}`,
        fix,
      );
    else if (every)
      add(
        GUARD_RULES.openEgress,
        r.path,
        every.fact,
        every.known
          ? `${every.text}: every port is open outbound on ${role}`
          : `${every.text}: the guard cannot tell that the rule does not open every port outbound on ${role}`,
        fix,
      );
  }

  for (const v of scope.secretValues ?? []) {
    // The core never holds the value: the fact carries the property only.
    const fact: GuardFact = { property: v.property, value: undefined };
    if (v.holds === 'password' && v.source !== 'secret-reference') {
      add(
        GUARD_RULES.passwordLiteral,
        v.path,
        fact,
        v.source === 'literal'
          ? 'is a literal (value not shown): the password of a broker or cache user is readable in the synthesized output and in version control'
          : 'is a deploy-time expression that does not read Secrets Manager (value not shown): the password of a broker or cache user passes through parameters, variables or state',
        "read it from a Secrets Manager secret at deploy time: the library's generated or fromSecret credentials, or on a hand-written resource a dynamic reference `{{resolve:secretsmanager:...}}` (SecretValue.secretsManager) on CloudFormation, `data.aws_secretsmanager_secret_version` on Terraform",
      );
    } else if (v.holds === 'secret-value' && v.source === 'literal') {
      add(
        GUARD_RULES.secretStringLiteral,
        v.path,
        fact,
        "is a literal (value not shown): the secret's value is readable in the synthesized output and in version control",
        'let Secrets Manager generate it (GenerateSecretString; on Terraform aws_secretsmanager_random_password into secret_string_wo), or set it at deploy time from another secret or resource, never from a literal',
      );
    }
  }

  for (const d of scope.databases ?? []) {
    if (!postgresEngine(d.engine, ctx)) continue;
    const p = d.publiclyAccessible;
    if (p !== undefined && (absent(p.value) ? d.publicWhenAbsent : !isFalse(p.value))) {
      add(
        GUARD_RULES.publicDatabase,
        d.path,
        p,
        absent(p.value)
          ? 'is not set: RDS then decides from the VPC and the subnet group, and makes the instance public where they route to an internet gateway; only false is allowed'
          : `${got(p)}: the database would get a public address reachable from the internet; only false is allowed`,
        `set ${p.property} to false and reach the database through the VPC, a VPN or PrivateLink`,
      );
    }
    // The storage, key, master password and parameters of a cluster's instance are the cluster's.
    if (d.clusterMember) continue;
    const what = d.resource === 'cluster' ? 'cluster' : 'instance';
    if (!isTrue(d.storageEncrypted.value)) {
      add(
        GUARD_RULES.databaseStorageEncryption,
        d.path,
        d.storageEncrypted,
        `${got(d.storageEncrypted)}: the storage, snapshots and backups of the ${what} would hold every task result unencrypted; only true is allowed`,
        `set ${d.storageEncrypted.property} to true with ${d.kmsKeyId.property} a customer-managed key (create-only: the ${what} is replaced; restore an encrypted copy of a snapshot to keep the data)`,
      );
    }
    if (absent(d.kmsKeyId.value) || awsManagedKey(d.kmsKeyId.value)) {
      add(
        GUARD_RULES.databaseKey,
        d.path,
        d.kmsKeyId,
        `${got(d.kmsKeyId)}: the ${what}'s storage must be encrypted with a customer-managed KMS key (the AWS-managed aws/rds key cannot be restricted or audited per key); allowed: the ARN of a customer-managed key`,
        `set ${d.kmsKeyId.property} to the ARN of a customer-managed key (create-only: the ${what} is replaced)`,
      );
    }
    for (const m of d.masterPasswords) {
      if (m.source === 'secret-reference') continue;
      add(
        GUARD_RULES.databasePasswordLiteral,
        d.path,
        { property: m.property, value: undefined },
        m.source === 'literal'
          ? `is a literal (value not shown): the ${what}'s master password is readable in the synthesized output and in version control`
          : `is a deploy-time expression that does not read Secrets Manager (value not shown): the ${what}'s master password passes through parameters, variables or state`,
        `remove ${m.property} and let RDS manage the master password in Secrets Manager with your key (ManageMasterUserPassword / manage_master_user_password, what CeleryResultBackend.postgres() does), or read it from a Secrets Manager secret at deploy time`,
      );
    }
    const defaultGroup = defaultParameterGroupProblem(d, ctx);
    if (defaultGroup !== undefined) {
      add(
        GUARD_RULES.postgresForceSsl,
        d.path,
        d.parameterGroup,
        `${got(d.parameterGroup)}: the ${what} uses ${defaultGroup}, so it accepts plaintext connections; allowed: a parameter group with rds.force_ssl 1`,
        `set ${d.parameterGroup.property} to a parameter group of yours with rds.force_ssl 1 and ssl_min_protocol_version TLSv1.2 (what CeleryResultBackend.postgres() makes)`,
      );
    }
  }

  for (const g of scope.parameterGroups ?? []) {
    const family = postgresFamily(g.family.value);
    if (family === undefined) continue;
    for (const f of g.forceSsl) {
      if (absent(f.value) ? forceSslByDefault(family) : f.value === 1 || f.value === '1') continue;
      add(
        GUARD_RULES.postgresForceSsl,
        g.path,
        f,
        absent(f.value)
          ? `is not set, and its default in the ${show(g.family.value)} family is 0: the databases using the group accept plaintext connections; allowed: 1`
          : `${got(f)}: rds.force_ssl other than 1 lets the databases using the group accept plaintext connections; allowed: 1`,
        `set rds.force_ssl to 1 in the group (${f.property}); it is dynamic, and a new group needs a reboot of its databases`,
      );
    }
    for (const v of g.minProtocolVersion) {
      if (absent(v.value) || POSTGRES_TLS_VERSIONS.includes(String(v.value))) continue;
      add(
        GUARD_RULES.postgresTlsVersion,
        g.path,
        v,
        `${got(v)}: ssl_min_protocol_version below TLSv1.2 lets the server accept TLS 1.0 or 1.1; allowed: ${POSTGRES_TLS_VERSIONS.map((x) => show(x)).join(' or ')}`,
        `set ssl_min_protocol_version to "TLSv1.2" in the group (${v.property})`,
      );
    }
  }

  for (const s of scope.secrets) {
    if (absent(s.kmsKeyId.value) || awsManagedKey(s.kmsKeyId.value)) {
      add(
        GUARD_RULES.secretKey,
        s.path,
        s.kmsKeyId,
        `${got(s.kmsKeyId)}: a secret must be encrypted with a customer-managed KMS key; the AWS-managed key aws/secretsmanager cannot be restricted or audited per key`,
        `set ${s.kmsKeyId.property} to the ARN of a customer-managed key`,
      );
    }
  }
  return { violations, warnings };
}

/** The TLS versions ssl_min_protocol_version may name. */
const POSTGRES_TLS_VERSIONS = ['TLSv1.2', 'TLSv1.3'];

/** RDS for PostgreSQL and Aurora PostgreSQL; an engine given as an expression could be either (fail closed). */
function postgresEngine(engine: GuardFact, ctx: GuardContext): boolean {
  const v = engine.value;
  if (typeof v === 'string' && ['postgres', 'aurora-postgresql'].includes(v.toLowerCase())) return true;
  return !absent(v) && ctx.isExpression(v);
}

/** A PostgreSQL parameter-group family (`postgres17`, `aurora-postgresql16`): Aurora or not, and its major version. */
function postgresFamily(value: unknown): { aurora: boolean; major: number } | undefined {
  const m = typeof value === 'string' ? /^(aurora-postgresql|postgres)(\d+)$/i.exec(value) : null;
  return m ? { aurora: m[1].toLowerCase() !== 'postgres', major: Number(m[2]) } : undefined;
}

// RDS for PostgreSQL: 0 before 15, 1 from 15 (https://docs.aws.amazon.com/AmazonRDS/latest/UserGuide/ssl-certificate-rotation-postgresql.html).
// Aurora PostgreSQL: 0 (https://docs.aws.amazon.com/AmazonRDS/latest/AuroraUserGuide/ssl-certificate-rotation-aurora-postgresql.html).
/** Whether rds.force_ssl is 1 when a group of the family does not set it (its default). */
function forceSslByDefault(family: { aurora: boolean; major: number }): boolean {
  return !family.aurora && family.major >= 15;
}

/**
 * Why a database's default parameter group (none named, or a `default.<family>` group) does not force TLS, or
 * undefined when it does or when a group of the user's is named (the parameter-group rules check that one). The
 * engine or its major version unknown at synth time fails closed.
 */
function defaultParameterGroupProblem(d: GuardedDatabase, ctx: GuardContext): string | undefined {
  const group = d.parameterGroup.value;
  if (typeof group === 'string' && /^default\./i.test(group)) {
    const family = postgresFamily(group.slice('default.'.length));
    if (family === undefined) return `a default group the guard cannot read (${show(group)})`;
    return forceSslByDefault(family)
      ? undefined
      : `the default group, where rds.force_ssl is 0 in the ${family.aurora ? 'aurora-postgresql' : 'postgres'}${family.major} family`;
  }
  if (!absent(group)) return undefined;
  const engine = d.engine.value;
  if (ctx.isExpression(engine))
    return 'the default group of an engine given as a deploy-time expression (rds.force_ssl is 1 by default only on RDS for PostgreSQL 15 and later)';
  if (String(engine).toLowerCase() === 'aurora-postgresql')
    return 'the default group, where rds.force_ssl is 0 on Aurora PostgreSQL';
  const version = d.engineVersion.value;
  const m = typeof version === 'string' && !ctx.isExpression(version) ? /^(\d+)/.exec(version) : null;
  if (m === null)
    return `the default group of a major version the guard cannot tell (${d.engineVersion.property} ${got0(d.engineVersion.value)}; rds.force_ssl is 1 by default from PostgreSQL 15 only)`;
  return Number(m[1]) >= 15 ? undefined : `the default group, where rds.force_ssl is 0 on PostgreSQL ${m[1]}`;
}

/** The value as a message shows it: `not set`, or the value. */
function got0(value: unknown): string {
  return absent(value) ? 'not set' : show(value);
}

/** A port bound as a number, when it is a literal one (Terraform JSON may hold `"5671"`). */
function literalPort(f: GuardFact): number | undefined {
  return typeof f.value === 'number'
    ? f.value
    : typeof f.value === 'string' && /^-?\d+$/.test(f.value)
      ? Number(f.value)
      : undefined;
}

type PortRule = Pick<GuardedIngressRule, 'fromPort' | 'toPort'>;
type Got = (f: GuardFact) => string;
/** A port range's problem: the fact to report, the text after its property, and whether the range is known. */
type PortProblem = { fact: GuardFact; text: string; known: boolean };

/**
 * What is wrong with a rule's port range when it is not made of `allowed` ports only: a bound that is not a literal
 * (absent or a deploy-time value: fail closed), -1 (every port), or a range with another port in it. The text follows
 * the fact's property in the message.
 */
function outsidePorts(r: PortRule, allowed: readonly number[], got: Got): PortProblem | undefined {
  const from = literalPort(r.fromPort);
  const to = literalPort(r.toPort);
  if (from === undefined) return { fact: r.fromPort, text: got(r.fromPort), known: false };
  if (to === undefined) return { fact: r.toPort, text: got(r.toPort), known: false };
  const inside = allowed.filter((p) => from <= p && p <= to).length;
  if (from !== -1 && to !== -1 && from <= to && inside === to - from + 1) return undefined;
  return { fact: r.fromPort, text: `is ${from} and ${r.toPort.property} is ${to}`, known: true };
}

/** The range of a tcp or udp rule when it opens every port (0-65535 or -1; a bound that is not a literal counts). */
function everyPort(r: PortRule, got: Got): PortProblem | undefined {
  const from = literalPort(r.fromPort);
  const to = literalPort(r.toPort);
  if (from === undefined) return { fact: r.fromPort, text: got(r.fromPort), known: false };
  if (to === undefined) return { fact: r.toPort, text: got(r.toPort), known: false };
  if (from === -1 || to === -1 || (from <= 0 && to >= 65535))
    return { fact: r.fromPort, text: `is ${from} and ${r.toPort.property} is ${to}`, known: true };
  return undefined;
}

/** True when the rule's port range includes `port`; an unknown bound counts as covering (fail closed). */
function coversPort(r: GuardedIngressRule, port: number, ctx: GuardContext): boolean {
  const from = literalPort(r.fromPort);
  const to = literalPort(r.toPort);
  if (
    (from === undefined && ctx.isExpression(r.fromPort.value)) ||
    (to === undefined && ctx.isExpression(r.toPort.value))
  )
    return true;
  if (from === -1 || to === -1) return true;
  if (from === undefined || to === undefined) return false;
  return from <= port && port <= to;
}

function short(value: unknown): string {
  const text = typeof value === 'string' ? value : JSON.stringify(value);
  return text.length > 80 ? `${text.slice(0, 77)}...` : text;
}

/** One line per violation: path, property, problem, fix, rule id. */
export function formatGuardViolation(v: GuardViolation): string {
  return `${v.path}: ${v.message}. Fix: ${v.fix}. [${v.rule}; ${v.sources}]`;
}

/** The message of a failed guard. */
export function formatGuardViolations(violations: readonly GuardViolation[]): string {
  return `CeleryEncryptionGuard: ${violations.length} violation${violations.length === 1 ? '' : 's'}\n${violations.map((v) => `  - ${formatGuardViolation(v)}`).join('\n')}`;
}

/** Thrown when a guarded scope breaks a rule (the Terraform guard, and the test helpers of both targets). */
export class CeleryEncryptionGuardError extends Error {
  /** Every violation found, in the order of the message. */
  public readonly violations: GuardViolation[];

  /** An error whose message lists every violation (`formatGuardViolations`). */
  constructor(violations: GuardViolation[]) {
    super(formatGuardViolations(violations));
    this.name = 'CeleryEncryptionGuardError';
    this.violations = violations;
  }
}

/** What the test helpers found in one synthesized stack: the guard's result and how many caches and brokers it saw. */
export interface EncryptionFindings extends GuardResult {
  /** How many ElastiCache replication groups the output holds. */
  readonly caches: number;
  /** How many Amazon MQ brokers the output holds. */
  readonly brokers: number;
}

/**
 * `assertCeleryTransportEncrypted` of both targets: throws the guard's error for any violation, and fails on output
 * without a replication group or a broker (an empty stack proves nothing). `nothing` says what was missing.
 */
export function assertEncryptionFindings(found: EncryptionFindings, nothing: string): void {
  if (found.caches + found.brokers === 0)
    throw new Error(`assertCeleryTransportEncrypted: ${nothing}: nothing to check (is this the right stack?)`);
  if (found.violations.length > 0) throw new CeleryEncryptionGuardError(found.violations);
}

/** The result of the `toHaveEncryptedCeleryTransport` jest matcher of both targets; `what` names the checked output. */
export function encryptionMatcherResult(
  found: EncryptionFindings,
  what: string,
): { pass: boolean; message: () => string } {
  const pass = found.caches + found.brokers > 0 && found.violations.length === 0;
  return {
    pass,
    message: () =>
      pass
        ? `expected the ${what} to break an encryption rule, but its ${found.caches} replication group(s) and ${found.brokers} broker(s) keep them all`
        : found.violations.length > 0
          ? formatGuardViolations(found.violations)
          : `expected a ${what} with a replication group or a broker, found neither`,
  };
}

/** The guard's findings on one described output: `celeryEncryptionFindings` of both targets. */
export function encryptionFindings(
  scope: GuardedScope,
  options: CeleryEncryptionGuardOptions,
  ctx: GuardContext,
): EncryptionFindings {
  return { ...checkEncryptionGuard(scope, options, ctx), caches: scope.caches.length, brokers: scope.brokers.length };
}

/**
 * `celeryTlsMatchers` of both targets: the `toHaveEncryptedCeleryTransport` jest matcher over a target's findings
 * function; `what` names the checked output in the messages (`template`, `stack`).
 */
export function encryptionMatchers<I>(
  findings: (input: I, options?: CeleryEncryptionGuardOptions) => EncryptionFindings,
  what: string,
): {
  toHaveEncryptedCeleryTransport(
    received: I,
    options?: CeleryEncryptionGuardOptions,
  ): { pass: boolean; message: () => string };
} {
  return {
    toHaveEncryptedCeleryTransport(received: I, options: CeleryEncryptionGuardOptions = {}) {
      return encryptionMatcherResult(findings(received, options), what);
    },
  };
}

/** The matcher's type, for `declare global { namespace jest { interface Matchers<R> extends CeleryTlsMatchers<R> {} } }`. */
export interface CeleryTlsMatchers<R> {
  /** Passes when the output has a replication group or a broker and breaks no encryption rule (options as the guard's). */
  toHaveEncryptedCeleryTransport(options?: CeleryEncryptionGuardOptions): R;
}

/** What replaces an asset hash in `maskAssetHashes`. */
export const ASSET_HASH_MASK = '[ASSET HASH]';

/** `maskAssetHashes` of both targets: the JSON text parsed back with every match of `hashes` (a global pattern) masked. */
export function maskAssetHashText<T>(text: string, hashes: RegExp): T {
  return JSON.parse(text.replace(hashes, ASSET_HASH_MASK)) as T;
}
