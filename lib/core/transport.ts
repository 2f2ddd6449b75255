import {
  BrokerClientCertificatesChoice,
  BrokerCredentialsChoice,
  CeleryBrokerChoice,
  CeleryResultBackendChoice,
  RedisAuthChoice,
} from './choices';
import { CeleryConfig } from './celery/config';
import { CelerySecurityOptions, resolveCelerySecurity } from './celery/security';
import { secretVariables } from './celery/environment';
import { CeleryOptions } from './celery/model';
import { IssueCollector, ResolveContext, ValidationError, ValidationIssue } from './errors';
import { IngressRuleModel } from './network';
import {
  CachePlanInput,
  PlannedEndpoint,
  PlannedOutput,
  SubnetsInput,
  TransportPlan,
  planTransport,
  planTransportSpecs,
  ruleTarget,
} from './plan';
import type { CanaryCertificateSecret, CanaryEndpointModel } from './canary';
import { AlarmPlan, CeleryMonitoringOptions, CeleryMonitoringSpec, MonitoredResource, planAlarms } from './monitoring';
import { RabbitMqBrokerOptions } from './rabbitmq';
import { CeleryRole, RabbitMqApplicationUsersOptions } from './rabbitmq-users';
import { ExistingPostgresInput, PostgresBackendOptions } from './postgres';
import { LAMBDA_AMAZON_CA_FILE } from './postgres-users';
import { RedisCacheOptions } from './redis';
import { TerraformRedisOptions } from './terraform';
import { NetworkRole } from './types';
import { CelerySecurityKeysOptions, resolveCelerySecurityKeysSpec, securityOptionsFor } from './security-keys';

/**
 * The house both targets' `CeleryTransport` share: the choices turned into children, one validation pass, the
 * plan, the two client groups and their rules, the settings and the outputs. An adapter gives the target's verbs
 * (make a broker, a cache, a group, a rule, an output) and keeps what it returns.
 */

/** The transport props both targets share (each adds its placement). */
export interface CeleryTransportChoices<B, R, M extends CeleryMonitoringOptions = CeleryMonitoringOptions> {
  /** The broker. @default CeleryBroker.rabbitMq() */
  readonly broker?: B;
  /** The result backend. @default CeleryResultBackend.redis() */
  readonly resultBackend?: R;
  /** Reliability options of the rendered Celery settings. @default - see DEFAULTS.celery */
  readonly celeryOptions?: CeleryOptions;
  /** Name of the SSM parameter that holds the JSON manifest. @default - generated */
  readonly manifestParameterName?: string;
  /**
   * Alarms on the broker's and the backend's metrics, their SNS topic (encrypted with a customer-managed key, or
   * yours) and a dashboard; each alarm can be tuned or left out (docs/operating.md).
   * @default - every alarm with `DEFAULTS.monitoring`, a new topic, a dashboard
   */
  readonly monitoring?: M;
  /**
   * Message signing and result encryption, with the key material made here (`CelerySecurityKeys`, id
   * `SecurityKeys`): each role's settings read its own key pair, the certificate store and the result key by ARN at
   * start-up (grant the role that runs Celery with `grantReadCredentials`).
   * @default - neither
   */
  readonly security?: CelerySecurityKeysOptions;
}

/** An endpoint a child gives the transport: the plan's view of it, and each role's secret. */
export interface TransportEndpoint<C, S> extends PlannedEndpoint<C> {
  readonly secrets: Readonly<Record<CeleryRole, S | undefined>>;
  /** What its alarms watch. */
  readonly monitored: MonitoredResource;
}

/** The transport's alarms and canary, for the target's `monitoring` verb. */
export interface MonitoringPlan<C = unknown> {
  /** The resolved options. */
  readonly spec: CeleryMonitoringSpec;
  /** The alarms to make, in order (the canary's included). */
  readonly alarms: readonly AlarmPlan[];
  /** The TLS canary: what it checks (each endpoint with its owner, to open its port) and whose expiry it reports. */
  readonly canary?: {
    readonly endpoints: readonly { readonly model: CanaryEndpointModel; readonly connectable: C }[];
    readonly certificateSecrets: readonly CanaryCertificateSecret[];
  };
}

/**
 * The target's verbs, for `assembleTransport`. `R`/`D`/`P`: its RabbitMQ, Redis and PostgreSQL options; `C`:
 * connectable; `G`: group.
 */
export interface TransportTarget<R, D, C, S, G, P extends PostgresBackendOptions = PostgresBackendOptions> {
  readonly ctx: ResolveContext;
  /** The transport's construct path, for errors. */
  readonly path: string;
  /** Where the children go. */
  readonly subnets: SubnetsInput;
  /** The Terraform-only settings are checked too. */
  readonly terraform?: boolean;
  /** The choices held by the target's choice classes. */
  readonly choices: {
    readonly auth: (options: D) => RedisAuthChoice<unknown>;
    readonly credentials: (options: R) => BrokerCredentialsChoice<unknown>;
    readonly certificates: (options: R) => BrokerClientCertificatesChoice | undefined;
    readonly applicationUsers: (options: R) => RabbitMqApplicationUsersOptions | undefined;
    /** The facts of an existing database (`existingDatabase`), when one is given. */
    readonly existingDatabase: (options: P) => ExistingPostgresInput | undefined;
  };
  /** Makes the RabbitMQ broker (id `Broker`) and whatever its clients log in as. */
  readonly rabbitMq: (options: R) => TransportEndpoint<C, S>;
  /** Makes a cache (ids `Broker`, `ResultBackend`); its endpoint for a logical database. */
  readonly cache: (id: 'Broker' | 'ResultBackend', options: D) => (db?: number) => TransportEndpoint<C, S>;
  /** Makes the PostgreSQL result backend (id `ResultBackend`): the database, its roles and their secrets. */
  readonly postgres: (options: P) => TransportEndpoint<C, S>;
  /** Makes the signing and result keys (id `SecurityKeys`); returns each role's settings options. */
  readonly securityKeys: (options: CelerySecurityKeysOptions) => Readonly<Record<CeleryRole, CelerySecurityOptions>>;
  /** Makes one of the two client groups. */
  readonly securityGroup: (id: 'ProducersSecurityGroup' | 'WorkersSecurityGroup', description: string) => G & C;
  /** Lets `source` reach `target` on `port` (ingress on the target, egress on a source of the library's). */
  readonly allow: (target: C, source: C, port: number, description: string) => void;
  /** Records the settings' warnings. */
  readonly warn: (warnings: readonly ValidationIssue[]) => void;
  /** Makes the manifest's SSM parameter (id `Manifest`), returns its name. */
  readonly manifestParameter: (manifest: string, description: string) => string;
  /** The manifest as a deploy-time string. */
  readonly manifestText: (plan: TransportPlan<C>) => string;
  /** Makes an output. */
  readonly output: (output: PlannedOutput) => void;
  /** Makes the alarms, their topic, the dashboard and the canary (not called when monitoring is off). */
  readonly monitoring: (plan: MonitoringPlan<C>) => void;
  /** How the output holding the manifest is read back (`cdk outputs file`, `terraform output -json file`). */
  readonly outputsFile: string;
}

/** What a transport keeps once assembled. */
export interface AssembledTransport<C, S, G> {
  readonly plan: TransportPlan<C>;
  readonly broker: TransportEndpoint<C, S>;
  readonly resultBackend?: TransportEndpoint<C, S>;
  readonly producersSecurityGroup: G & C;
  readonly workersSecurityGroup: G & C;
  readonly celeryConfig: CeleryConfig;
  /** The alarms made (none when monitoring is off). */
  readonly alarms: readonly AlarmPlan[];
}

/** Builds a transport with the target's verbs; throws one `ValidationError` with every mistake first. */
export function assembleTransport<
  R extends RabbitMqBrokerOptions,
  D extends RedisCacheOptions & TerraformRedisOptions,
  C,
  S,
  G,
  P extends PostgresBackendOptions = PostgresBackendOptions,
>(
  target: TransportTarget<R, D, C, S, G, P>,
  props: CeleryTransportChoices<CeleryBrokerChoice<R, D>, CeleryResultBackendChoice<D, P>, CeleryMonitoringOptions>,
): AssembledTransport<C, S, G> {
  const { choices, subnets } = target;
  const { celeryOptions } = props;
  // The defaults: CeleryBroker.rabbitMq() and CeleryResultBackend.redis().
  const broker = props.broker ?? { kind: 'rabbitmq', options: {} as R };
  const backend = props.resultBackend ?? { kind: 'redis', options: {} as D };
  const cacheInput = (options: D): CachePlanInput<unknown> => ({
    props: options,
    auth: choices.auth(options),
    subnets,
    // No check depends on the ids; each cache names its users from its own path.
    rbacIdPrefix: 'celery',
    terraform: target.terraform,
  });
  const specs = planTransportSpecs(
    {
      broker:
        broker.kind === 'rabbitmq'
          ? {
              kind: 'rabbitmq',
              broker: {
                props: broker.options,
                credentials: choices.credentials(broker.options),
                clientCertificates: choices.certificates(broker.options),
                subnets,
              },
              applicationUsers: choices.applicationUsers(broker.options),
            }
          : { kind: 'redis', cache: cacheInput(broker.options) },
      resultBackend:
        backend.kind === 'redis'
          ? { kind: 'redis', cache: cacheInput(backend.options) }
          : backend.kind === 'postgres'
            ? {
                kind: 'postgres',
                database: {
                  props: backend.options,
                  existing: choices.existingDatabase(backend.options),
                  subnets,
                },
              }
            : backend,
      celeryOptions,
      monitoring: props.monitoring,
    },
    target.ctx,
  );
  const securityErrors = props.security ? securityIssues(props.security, backend.kind, target.ctx) : [];
  if (specs.errors.length > 0 || securityErrors.length > 0)
    throw new ValidationError(target.path, [...specs.errors, ...securityErrors]);

  let brokerCache: ((db?: number) => TransportEndpoint<C, S>) | undefined;
  let brokerEndpoint: TransportEndpoint<C, S>;
  if (broker.kind === 'rabbitmq') {
    brokerEndpoint = target.rabbitMq(broker.options);
  } else {
    brokerCache = target.cache('Broker', broker.options);
    brokerEndpoint = brokerCache();
  }
  let backendEndpoint: TransportEndpoint<C, S> | undefined;
  if (backend.kind === 'redis') backendEndpoint = target.cache('ResultBackend', backend.options)();
  else if (backend.kind === 'postgres') backendEndpoint = target.postgres(backend.options);
  else if (backend.kind === 'sharedWithRedisBroker') backendEndpoint = brokerCache!(backend.db);

  const security = props.security ? target.securityKeys(props.security) : undefined;
  const plan = planTransport(
    { broker: brokerEndpoint, resultBackend: backendEndpoint, celeryOptions, security },
    target.ctx,
  );
  const producersSecurityGroup = target.securityGroup(
    'ProducersSecurityGroup',
    plan.securityGroupDescriptions[NetworkRole.PRODUCERS],
  );
  const workersSecurityGroup = target.securityGroup(
    'WorkersSecurityGroup',
    plan.securityGroupDescriptions[NetworkRole.WORKERS],
  );
  const sources: Partial<Record<NetworkRole, C>> = {
    [NetworkRole.PRODUCERS]: producersSecurityGroup,
    [NetworkRole.WORKERS]: workersSecurityGroup,
  };
  for (const rule of plan.rules)
    target.allow(ruleTarget(plan, rule).connectable, sources[rule.from]!, rule.port, rule.description);

  const celeryConfig = plan.configs[CeleryRole.WORKER];
  target.warn(celeryConfig.warnings);
  const manifest = target.manifestText(plan);
  const parameterName = target.manifestParameter(manifest, plan.manifestDescription);
  for (const o of plan.outputs) target.output(o);
  target.output({
    id: 'ManifestParameterName',
    value: parameterName,
    description: 'SSM parameter with the Celery TLS manifest',
  });
  target.output({
    id: 'CeleryManifest',
    value: manifest,
    description: `Celery TLS manifest: celery-tls render --manifest <${target.outputsFile}>`,
  });
  // A shared cache serves broker and results: it is watched once.
  const monitored = [brokerEndpoint, backendEndpoint]
    .filter((e): e is TransportEndpoint<C, S> => e !== undefined)
    .map((e) => e.monitored)
    .filter((r, i, all) => all.findIndex((x) => x.label === r.label) === i);
  const monitoring = specs.value.monitoring;
  // The children report their own warnings on their scopes; the transport's own (monitoring) are reported here.
  target.warn(specs.warnings);
  let alarms: AlarmPlan[] = [];
  if (monitoring.enabled) {
    const canary = monitoring.canary ? canaryPlan(brokerEndpoint, backendEndpoint) : undefined;
    alarms = planAlarms(
      monitoring,
      monitored,
      canary && {
        endpoints: canary.endpoints.map((e) => e.model.name),
        certificateSecretNames: canary.certificateSecrets.map((s) => s.name),
      },
    );
    target.monitoring({ spec: monitoring, alarms, canary });
  }
  return {
    plan,
    broker: brokerEndpoint,
    resultBackend: backendEndpoint,
    producersSecurityGroup,
    workersSecurityGroup,
    celeryConfig,
    alarms,
  };
}

/** The checks of `security`: its own (security-keys.ts) and the settings' against the result backend (security.ts). */
function securityIssues(
  options: CelerySecurityKeysOptions,
  backend: CeleryResultBackendChoice<unknown, PostgresBackendOptions>['kind'],
  ctx: ResolveContext,
): ValidationIssue[] {
  const own = resolveCelerySecurityKeysSpec(options, ctx, 'security');
  if (own.errors.length > 0) return own.errors;
  // The secrets exist once made; a stand-in ARN lets the settings' checks see what would be rendered.
  const arn = 'arn:aws:secretsmanager:us-east-1:000000000000:secret:celery-tls-check';
  const issues = new IssueCollector(ctx);
  resolveCelerySecurity(
    issues,
    securityOptionsFor({
      keyPairSecretArn: options.signing ? arn : undefined,
      storeSecretArn: options.signing ? arn : undefined,
      resultKeySecretArn: options.resultEncryption ? arn : undefined,
      arguments: options.resultEncryption?.arguments,
    }),
    backend === 'postgres' ? 'postgresql' : backend === 'none' ? undefined : 'rediss',
    'security',
  );
  return issues.errors;
}

/** What the canary checks: the broker, and the result backend unless it is the broker's own cache. */
function canaryPlan<C, S>(
  broker: TransportEndpoint<C, S>,
  backend: TransportEndpoint<C, S> | undefined,
): NonNullable<MonitoringPlan<C>['canary']> {
  const model = (name: string, e: TransportEndpoint<C, S>): CanaryEndpointModel => {
    const celery = e.roles[CeleryRole.WORKER];
    return {
      name,
      host: celery.host,
      port: e.port,
      protocol: celery.scheme === 'amqps' ? 'amqp' : celery.scheme === 'postgresql' ? 'postgres' : 'redis',
      mutualTls: celery.clientCertSecretArn !== undefined,
      plaintextPorts: [],
      // RDS certificates chain to the RDS CAs, which the Lambda runtime ships but Node does not trust by default.
      ...(celery.scheme === 'postgresql' ? { caFile: LAMBDA_AMAZON_CA_FILE } : {}),
    };
  };
  const endpoints = [{ model: model('broker', broker), connectable: broker.connectable }];
  if (backend && backend.connectable !== broker.connectable)
    endpoints.push({ model: model('resultBackend', backend), connectable: backend.connectable });
  const certificateSecrets = broker.monitored.kind === 'rabbitmq' ? (broker.monitored.certificateSecrets ?? []) : [];
  return { endpoints, certificateSecrets };
}

/** The rules that let a peer of a role reach the broker and the backend. */
export function peerRules<C>(
  plan: TransportPlan<C>,
  role: NetworkRole,
): { readonly rule: IngressRuleModel; readonly target: C }[] {
  return plan.rules
    .filter((r) => r.from === role)
    .map((rule) => ({ rule, target: ruleTarget(plan, rule).connectable }));
}

/**
 * A role's container environment: the non-secret settings, and which secret (with its JSON field) each secret
 * variable is read from (ECS secrets on both targets).
 */
export function containerEnvironmentFor<C, S>(
  assembled: Pick<AssembledTransport<C, S, unknown>, 'plan' | 'broker' | 'resultBackend'>,
  role: CeleryRole,
): {
  readonly environment: Record<string, string>;
  readonly secrets: { readonly name: string; readonly secret: S; readonly field?: string }[];
} {
  const config = assembled.plan.configs[role];
  const vars = secretVariables(config.model);
  const secrets: { name: string; secret: S; field?: string }[] = [];
  const brokerSecret = assembled.broker.secrets[role];
  if (brokerSecret && vars.broker)
    secrets.push({ name: vars.broker.name, secret: brokerSecret, field: vars.broker.field });
  const backendSecret = assembled.resultBackend?.secrets[role];
  if (backendSecret && vars.resultBackend)
    secrets.push({ name: vars.resultBackend.name, secret: backendSecret, field: vars.resultBackend.field });
  return { environment: config.toEnvironment(), secrets };
}
