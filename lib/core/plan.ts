import {
  BrokerClientCertificatesChoice,
  BrokerCredentialsChoice,
  CeleryBrokerChoice,
  CeleryResultBackendChoice,
  RedisAuthChoice,
} from './choices';
import { CeleryConfig } from './celery/config';
import { rabbitMqCeleryEndpoint, redisCeleryEndpoint } from './celery/endpoints';
import { CeleryManifest } from './celery/manifest';
import { CeleryEndpoint, CeleryOptions, TlsScheme, resolveCeleryConfig } from './celery/model';
import type { CelerySecurityOptions } from './celery/security';
import { IssueCollector, ResolveContext, ValidationIssue, ValidationResult } from './errors';
import { LIMITS } from './limits';
import { IngressRuleModel, SECURITY_GROUP_DESCRIPTIONS, celeryIngressRules } from './network';
import { RabbitMqBrokerOptions, RabbitMqBrokerSpec, resolveRabbitMqBrokerSpec } from './rabbitmq';
import {
  RabbitMqMutualTlsSpec,
  SubordinateCaSpec,
  resolveRabbitMqMutualTlsSpec,
  resolveSubordinateCaSpec,
} from './rabbitmq-mtls';
import {
  CeleryRole,
  RabbitMqApplicationUsersOptions,
  RabbitMqApplicationUsersSpec,
  resolveRabbitMqApplicationUsersSpec,
} from './rabbitmq-users';
import { PostgresPlan, PostgresPlanInput, planPostgresDatabase, postgresCeleryEndpoint } from './postgres';
import { RedisCacheOptions, RedisCacheSpec, resolveRedisCacheSpec } from './redis';
import { RedisRbacSpec, resolveRedisRbacSpec } from './redis-rbac';
import { checkSecretField } from './secrets';
import { SubnetFact, chooseSubnets } from './subnets';
import { TerraformRedisOptions, TerraformRedisSpec, resolveTerraformRedisSpec } from './terraform';
import { CeleryMonitoringOptions, CeleryMonitoringSpec, resolveMonitoringSpec } from './monitoring';
import { NetworkRole } from './types';
import { WIRE } from './wire';

export type {
  BrokerClientCertificatesChoice,
  BrokerCredentialsChoice,
  CeleryBrokerChoice,
  CeleryResultBackendChoice,
  RedisAuthChoice,
};

/**
 * The plans of the constructs: every check of a construct in one pass (a user with three mistakes sees three), and
 * what both adapters build from the result. Adapters only map plan entries to their resources.
 */

/**
 * The issues of a child, named as the user wrote them on the parent: `engineVersion` of the broker options becomes
 * `broker.engineVersion`, in the prop and where the message names it.
 */
export function prefixIssues(prefix: string, issues: readonly ValidationIssue[]): ValidationIssue[] {
  return issues.map((i) => ({
    ...i,
    prop: `${prefix}.${i.prop}`,
    message: i.message.startsWith(i.prop) ? `${prefix}.${i.message}` : i.message,
  }));
}

/** Where a construct's nodes go: the subnets the adapter found, and the prop the user chose them with. */
export interface SubnetsInput {
  readonly prop: string;
  readonly facts: readonly SubnetFact[];
}

/** Everything a cache is made from. */
export interface CachePlanInput<S> {
  readonly props: RedisCacheOptions & TerraformRedisOptions;
  readonly auth: RedisAuthChoice<S>;
  readonly subnets: SubnetsInput;
  /** Stable, unique prefix of the RBAC user and group ids (from the construct path). */
  readonly rbacIdPrefix: string;
  /** The Terraform-only settings are resolved too. */
  readonly terraform?: boolean;
}

/** A cache, checked and with every default applied. */
export interface CachePlan {
  /** The cache's settings, every default applied. */
  readonly spec: RedisCacheSpec;
  /** With RBAC users: their names, ids, access strings and secret shapes. */
  readonly rbac?: RedisRbacSpec;
  /** On Terraform: the AUTH token's update strategy and version. */
  readonly terraform?: TerraformRedisSpec;
  /** One per Availability Zone. */
  readonly subnets: readonly SubnetFact[];
  /** The JSON field of the AUTH-token secret. */
  readonly tokenField: string;
}

/** The cache's own checks, then its auth's, then its placement's. */
export function planCache<S>(input: CachePlanInput<S>, ctx: ResolveContext): ValidationResult<CachePlan> {
  const issues = new IssueCollector(ctx);
  const { auth } = input;
  const field = auth.kind === 'existingToken' ? auth.field : undefined;
  checkSecretField(issues, 'authToken.field', field);
  const spec = collect(
    issues,
    resolveRedisCacheSpec(
      input.props,
      {
        generatedLength: auth.kind === 'generatedToken' ? auth.length : undefined,
        existingSecret: auth.kind === 'existingToken',
        rbac: auth.kind === 'rbacUsers',
      },
      ctx,
    ),
  );
  const rbac =
    auth.kind === 'rbacUsers'
      ? collect(issues, resolveRedisRbacSpec(auth.options, input.rbacIdPrefix, ctx))
      : undefined;
  const terraform = input.terraform
    ? collect(
        issues,
        resolveTerraformRedisSpec(
          input.props,
          {
            enabled: spec.authMode === 'token',
            generated: auth.kind !== 'existingToken',
            rbac: spec.authMode === 'rbac',
          },
          ctx,
        ),
      )
    : undefined;
  const subnets = chooseSubnets(ctx, input.subnets.prop, input.subnets.facts, {
    min: spec.multiAzEnabled ? 2 : 1,
    max: LIMITS.cacheSubnets,
    service: 'An ElastiCache replication group',
    why: spec.multiAzEnabled ? 'for Multi-AZ with automatic failover' : 'to place its nodes',
  });
  issues.errors.push(...subnets.errors);
  return issues.result({
    spec,
    rbac,
    terraform,
    subnets: subnets.subnets,
    tokenField: field ?? WIRE.secretPasswordField,
  });
}

/** Everything a broker is made from. */
export interface BrokerPlanInput<S> {
  readonly props: RabbitMqBrokerOptions;
  readonly credentials: BrokerCredentialsChoice<S>;
  readonly clientCertificates?: BrokerClientCertificatesChoice;
  readonly subnets: SubnetsInput;
}

/** A broker, checked and with every default applied. */
export interface BrokerPlan {
  /** The broker's settings, every default applied. */
  readonly spec: RabbitMqBrokerSpec;
  /** The subnets its nodes go in (one per Availability Zone, at most the deployment mode's count). */
  readonly subnets: readonly SubnetFact[];
  /**
   * With client certificates. With a new subordinate CA, `caArn` is empty here: the adapter sets it to the CA it
   * creates.
   */
  readonly mutualTls?: RabbitMqMutualTlsSpec;
  /** With a new subordinate CA: its key, subject, parent and validity. */
  readonly subordinateCa?: SubordinateCaSpec;
}

/** The broker's own checks, then its client certificates', then its placement's. */
export function planBroker<S>(input: BrokerPlanInput<S>, ctx: ResolveContext): ValidationResult<BrokerPlan> {
  const issues = new IssueCollector(ctx);
  const { credentials, clientCertificates: certs } = input;
  const spec = collect(
    issues,
    resolveRabbitMqBrokerSpec(
      input.props,
      {
        generatedLength: credentials.kind === 'generated' ? credentials.length : undefined,
        existingSecret: credentials.kind === 'existing',
      },
      ctx,
    ),
  );
  let mutualTls: RabbitMqMutualTlsSpec | undefined;
  let subordinateCa: SubordinateCaSpec | undefined;
  if (certs) {
    let options = certs.options;
    if (certs.kind === 'subordinateCa') {
      subordinateCa = collect(issues, resolveSubordinateCaSpec(certs.subordinate, options, ctx));
      // Clients of a subordinate send their chain; the broker trusts the parent (Erlang wants a self-signed anchor).
      options = {
        ...options,
        caSigningAlgorithm: subordinateCa.signingAlgorithm,
        trustAnchorCaArn: options.trustAnchorCaArn ?? subordinateCa.parentCaArn,
      };
    }
    const caArn = certs.kind === 'privateCa' ? certs.caArn : undefined;
    mutualTls = collect(
      issues,
      resolveRabbitMqMutualTlsSpec(
        caArn,
        options,
        { engineVersion: spec.engineVersion, brokerName: input.props.brokerName },
        ctx,
      ),
    );
  }
  const subnets = chooseSubnets(ctx, input.subnets.prop, input.subnets.facts, {
    min: 1,
    max: spec.maxSubnets,
    service: 'An Amazon MQ broker',
    why: 'to place its nodes',
  });
  issues.errors.push(...subnets.errors);
  return issues.result({ spec, subnets: subnets.subnets, mutualTls, subordinateCa });
}

/** The checks of a transport's children, as the transport's props. */
export interface TransportPlanInput<S> {
  readonly broker:
    | {
        readonly kind: 'rabbitmq';
        readonly broker: BrokerPlanInput<S>;
        readonly applicationUsers?: RabbitMqApplicationUsersOptions;
      }
    | { readonly kind: 'redis'; readonly cache: CachePlanInput<S> };
  readonly resultBackend:
    | { readonly kind: 'redis'; readonly cache: CachePlanInput<S> }
    | { readonly kind: 'postgres'; readonly database: PostgresPlanInput }
    | { readonly kind: 'sharedWithRedisBroker'; readonly db: number }
    | { readonly kind: 'none' };
  readonly celeryOptions?: CeleryOptions;
  readonly monitoring?: CeleryMonitoringOptions;
}

/** A transport's specs, checked in one pass. */
export interface TransportSpecs {
  readonly monitoring: CeleryMonitoringSpec;
  readonly broker?: BrokerPlan;
  readonly applicationUsers?: RabbitMqApplicationUsersSpec;
  readonly brokerCache?: CachePlan;
  readonly resultBackendCache?: CachePlan;
  readonly resultBackendDatabase?: PostgresPlan;
}

const PLACEHOLDER_HOST = 'celery.invalid';

/**
 * Every check of a transport and its children in one pass: the broker (and its users), the result backend, the
 * shared-backend rule and the Celery options. Props are named as the user wrote them (`broker.engineVersion`,
 * `resultBackend.nodeType`, `celeryOptions.visibilityTimeoutSeconds`). Warnings stay with the children, which
 * report them on their own scopes.
 */
export function planTransportSpecs<S>(
  input: TransportPlanInput<S>,
  ctx: ResolveContext,
): ValidationResult<TransportSpecs> {
  const issues = new IssueCollector(ctx);
  const specs: { -readonly [K in keyof TransportSpecs]?: TransportSpecs[K] } = {};
  let broker: CeleryEndpoint | undefined;
  if (input.broker.kind === 'rabbitmq') {
    specs.broker = childValue(issues, 'broker', planBroker(input.broker.broker, ctx));
    specs.applicationUsers = childValue(
      issues,
      'broker.applicationUsers',
      resolveRabbitMqApplicationUsersSpec(input.broker.applicationUsers ?? {}, specs.broker.spec, ctx),
    );
    broker = rabbitMqCeleryEndpoint(specs.broker.spec, {
      host: PLACEHOLDER_HOST,
      username: 'celery',
      secretArn: 'celery',
    });
  } else {
    specs.brokerCache = childValue(issues, 'broker', planCache(input.broker.cache, ctx));
    broker = cacheEndpoint(issues, 'broker', specs.brokerCache.spec);
  }
  let backend: CeleryEndpoint | undefined;
  const rb = input.resultBackend;
  if (rb.kind === 'redis') {
    specs.resultBackendCache = childValue(issues, 'resultBackend', planCache(rb.cache, ctx));
    backend = cacheEndpoint(issues, 'resultBackend', specs.resultBackendCache.spec);
  } else if (rb.kind === 'postgres') {
    specs.resultBackendDatabase = childValue(issues, 'resultBackend', planPostgresDatabase(rb.database, ctx));
    const spec = specs.resultBackendDatabase.spec;
    backend = postgresCeleryEndpoint(spec, {
      host: PLACEHOLDER_HOST,
      username: spec.roles[0].username,
      secretArn: 'celery',
    });
  } else if (rb.kind === 'sharedWithRedisBroker') {
    if (!specs.brokerCache) {
      issues.error(
        'transport.shared-backend',
        'resultBackend',
        'resultBackend CeleryResultBackend.sharedWithRedisBroker() needs broker CeleryBroker.redis(): a RabbitMQ broker cannot store results. Use CeleryResultBackend.redis() instead.',
      );
    } else {
      backend = cacheEndpoint(issues, 'resultBackend', specs.brokerCache.spec, rb.db);
    }
  }
  if (broker) {
    const celery = resolveCeleryConfig(
      { broker, resultBackend: backend, options: input.celeryOptions },
      ctx,
      'celeryOptions',
    );
    issues.errors.push(...celery.errors.filter((e) => e.prop.startsWith('celeryOptions.')));
  }
  specs.monitoring = collect(issues, resolveMonitoringSpec(input.monitoring, ctx));
  return issues.result(specs as TransportSpecs);
}

function collect<T>(issues: IssueCollector, result: ValidationResult<T>): T {
  issues.errors.push(...result.errors);
  issues.warnings.push(...result.warnings);
  return result.value;
}

function childValue<T>(issues: IssueCollector, prefix: string, result: ValidationResult<T>): T {
  // The subnets are the transport's own prop (its placement), already named as the user wrote it.
  const own = (i: ValidationIssue) => i.code.startsWith('subnets.');
  issues.errors.push(...result.errors.map((i) => (own(i) ? i : prefixIssues(prefix, [i])[0])));
  return result.value;
}

/** A cache's endpoint for the option checks; a plaintext cache is an error here rather than a throw later. */
function cacheEndpoint(
  issues: IssueCollector,
  prop: string,
  spec: RedisCacheSpec,
  db?: number,
): CeleryEndpoint | undefined {
  if (!spec.transitEncryptionEnabled) {
    issues.error(
      'redis.transit-encryption-off',
      `${prop}.transitEncryptionEnabled`,
      `${prop}.transitEncryptionEnabled is false: no Celery configuration is rendered for a plaintext cache (the settings refuse redis:// URLs). Turn transit encryption on.`,
    );
    return undefined;
  }
  return redisCeleryEndpoint(spec, prop, { host: PLACEHOLDER_HOST, secretField: WIRE.secretPasswordField, db });
}

/** A transport endpoint as the plan needs it: port, scheme, and each role's Celery endpoint. */
export interface PlannedEndpoint<C> {
  /** The target's handle of the endpoint's security group owner (compared by identity for a shared backend). */
  readonly connectable: C;
  readonly port: number;
  readonly roles: Readonly<Record<CeleryRole, CeleryEndpoint>>;
}

/** A stack output of the transport. */
export interface PlannedOutput {
  readonly id: string;
  readonly value: string;
  readonly description: string;
}

/** What both adapters build for a transport once its children exist. */
export interface TransportPlan<C> {
  readonly broker: PlannedEndpoint<C>;
  readonly resultBackend?: PlannedEndpoint<C>;
  /** The producers' and workers' security group descriptions. */
  readonly securityGroupDescriptions: Readonly<Record<NetworkRole.PRODUCERS | NetworkRole.WORKERS, string>>;
  /** Ingress to the broker and the backend from the two client groups (the egress rules mirror them). */
  readonly rules: readonly IngressRuleModel[];
  /** The Celery settings of each role. */
  readonly configs: Readonly<Record<CeleryRole, CeleryConfig>>;
  /** The workers' manifest: endpoints, user names and secret ARNs, no secrets. */
  readonly manifest: CeleryManifest;
  readonly manifestDescription: string;
  /** The outputs, less the manifest and its parameter name (whose values the adapter renders). */
  readonly outputs: readonly PlannedOutput[];
}

/**
 * The transport's plan from its endpoints: the segmentation rules (none to a backend that shares the broker's
 * cache), the settings of each role, the manifest and the outputs.
 */
export function planTransport<C>(
  args: {
    broker: PlannedEndpoint<C>;
    resultBackend?: PlannedEndpoint<C>;
    celeryOptions?: CeleryOptions;
    /** Each role's signing and encryption options (its own key pair). @default - neither */
    security?: Readonly<Record<CeleryRole, CelerySecurityOptions>>;
  },
  ctx: ResolveContext,
): TransportPlan<C> {
  const { broker, resultBackend } = args;
  const shared = resultBackend !== undefined && resultBackend.connectable === broker.connectable;
  const scheme: TlsScheme = broker.roles[CeleryRole.WORKER].scheme;
  const rules = celeryIngressRules({
    brokerPort: broker.port,
    brokerScheme: scheme,
    backendPort: resultBackend && !shared ? resultBackend.port : undefined,
    backendScheme: resultBackend?.roles[CeleryRole.WORKER].scheme,
  });
  const configFor = (role: CeleryRole) =>
    new CeleryConfig(
      {
        broker: broker.roles[role],
        resultBackend: resultBackend?.roles[role],
        options: args.celeryOptions,
        security: args.security?.[role],
      },
      ctx,
    );
  const configs = {
    [CeleryRole.PRODUCER]: configFor(CeleryRole.PRODUCER),
    [CeleryRole.WORKER]: configFor(CeleryRole.WORKER),
  };
  const outputs: PlannedOutput[] = [
    {
      id: 'BrokerEndpoint',
      value: broker.roles[CeleryRole.WORKER].host,
      description: `Celery broker host (${scheme}://, port ${broker.port})`,
    },
  ];
  if (resultBackend) {
    outputs.push({
      id: 'ResultBackendEndpoint',
      value: resultBackend.roles[CeleryRole.WORKER].host,
      description: `Celery result backend host (${resultBackend.roles[CeleryRole.WORKER].scheme}://, port ${resultBackend.port})`,
    });
  }
  return {
    broker,
    resultBackend,
    securityGroupDescriptions: {
      [NetworkRole.PRODUCERS]: SECURITY_GROUP_DESCRIPTIONS[NetworkRole.PRODUCERS],
      [NetworkRole.WORKERS]: SECURITY_GROUP_DESCRIPTIONS[NetworkRole.WORKERS],
    },
    rules,
    configs,
    manifest: configs[CeleryRole.WORKER].toManifest(),
    manifestDescription:
      'Celery TLS manifest (celery-tls-constructs): endpoints, user names and secret ARNs, no secrets',
    outputs,
  };
}

/** The endpoint a rule leads to. */
export function ruleTarget<C>(plan: TransportPlan<C>, rule: IngressRuleModel): PlannedEndpoint<C> {
  return rule.to === NetworkRole.BROKER ? plan.broker : plan.resultBackend!;
}

/** A value for each role (an endpoint, a secret, ...). */
export function perRole<T>(of: (role: CeleryRole) => T): Record<CeleryRole, T> {
  return { [CeleryRole.PRODUCER]: of(CeleryRole.PRODUCER), [CeleryRole.WORKER]: of(CeleryRole.WORKER) };
}
