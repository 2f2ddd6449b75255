import { Construct } from 'constructs';
import { CeleryBrokerChoice, CeleryBrokerFactory, CeleryResultBackendChoice, CeleryResultBackendFactory, heldChoice } from '../core/choices';
import { CeleryConfig } from '../core/celery/config';
import { secretVariables } from '../core/celery/environment';
import { CeleryOptions } from '../core/celery/model';
import { ICeleryTransportContract } from '../core/contracts';
import { ValidationError } from '../core/errors';
import { IamStatementModel } from '../core/iam';
import { NAME_RULES } from '../core/names';
import { ruleDescription } from '../core/network';
import { CachePlanInput, PlannedEndpoint, TransportPlan, TransportPlanInput, perRole, planTransport, planTransportSpecs, ruleTarget } from '../core/plan';
import { CeleryRole } from '../core/rabbitmq-users';
import { ecsSecretValueFrom, physicalNameFromPath } from '../core/terraform';
import { NetworkRole } from '../core/types';
import { CDKTF_CONTEXT, PlacementProps, SecretSource, policyDocument, warn } from './common';
import { CelerySecurityGroup, IConnectable, ISecurityGroupPeer, stableIdPart } from './connections';
import { BrokerCredentials, RedisAuth } from './credentials';
import { IamRolePolicy, SsmParameter, TerraformOutput } from './provider';
import { RabbitMqBroker, RabbitMqBrokerProps } from './rabbitmq-broker';
import { RedisCache, RedisCacheProps } from './redis-cache';
import { TerraformTarget } from './target';

/** The options of `CeleryBroker.rabbitMq()`: the broker's props without placement. */
export type TransportRabbitMqOptions = Omit<RabbitMqBrokerProps, 'vpcId' | 'subnets'>;
/** The options of `CeleryBroker.redis()` and `CeleryResultBackend.redis()`: a cache's props without placement. */
export type TransportRedisOptions = Omit<RedisCacheProps, 'vpcId' | 'subnets'>;

/** Which broker a `CeleryTransport` provisions: `CeleryBroker.rabbitMq()` (the default) or `CeleryBroker.redis()`. */
export const CeleryBroker = new CeleryBrokerFactory<TransportRabbitMqOptions, TransportRedisOptions>();
/** A broker choice, made with `CeleryBroker.rabbitMq()` or `CeleryBroker.redis()`. */
export type CeleryBroker = CeleryBrokerChoice<TransportRabbitMqOptions, TransportRedisOptions>;

/** Where a `CeleryTransport` stores task results: `.redis()` (the default), `.sharedWithRedisBroker()` or `.none()`. */
export const CeleryResultBackend = new CeleryResultBackendFactory<TransportRedisOptions>();
/** A result-backend choice, made with one of `CeleryResultBackend`'s methods. */
export type CeleryResultBackend = CeleryResultBackendChoice<TransportRedisOptions>;

/** Props of the Terraform `CeleryTransport`. */
export interface CeleryTransportProps extends PlacementProps {
  /** The broker. @default CeleryBroker.rabbitMq() */
  readonly broker?: CeleryBroker;
  /** The result backend. @default CeleryResultBackend.redis() */
  readonly resultBackend?: CeleryResultBackend;
  /** Reliability options of the rendered Celery settings. @default - see DEFAULTS.celery */
  readonly celeryOptions?: CeleryOptions;
  /** Name of the SSM parameter that holds the JSON manifest. @default "/celery-tls-constructs/<name from the construct path>/manifest" */
  readonly manifestParameterName?: string;
}

/** What an ECS container definition needs: plain settings and the passwords as ECS secrets (never as values). */
export interface CeleryContainerEnvironment {
  /** The non-secret settings. */
  readonly environment: { name: string; value: string }[];
  /** The passwords, as ECS reads them from Secrets Manager (`<arn>:<field>::`). */
  readonly secrets: { name: string; valueFrom: string }[];
}

/** A role to grant to: an `aws_iam_role` of yours (its `name`). */
export interface IRoleGrantee {
  /** The role's name (`aws_iam_role.name`). */
  readonly name: string;
}

/** What the transport keeps of an endpoint: the plan's view, and its secret. */
interface Endpoint extends PlannedEndpoint<IConnectable> {
  readonly secret?: SecretSource;
}

/**
 * A Celery broker and result backend on Terraform, TLS only, with segmented security groups for producers and
 * workers, the Celery settings that connect to them, and a manifest (SSM parameter and output) without secrets.
 */
export class CeleryTransport extends Construct implements ICeleryTransportContract<TerraformTarget> {
  /** The Amazon MQ broker (with `CeleryBroker.rabbitMq()`). */
  public readonly rabbitMqBroker?: RabbitMqBroker;
  /** The broker's cache (with `CeleryBroker.redis()`). */
  public readonly brokerCache?: RedisCache;
  /** The result backend's own cache (with `CeleryResultBackend.redis()`). */
  public readonly resultBackendCache?: RedisCache;
  /** Attach to producer services (web apps that call `.delay()`). Reaches the broker and backend TLS ports only. */
  public readonly producersSecurityGroup: CelerySecurityGroup;
  /** Attach to worker services. Reaches the broker and backend TLS ports only. */
  public readonly workersSecurityGroup: CelerySecurityGroup;
  /** The Celery settings; host names are apply-time values, so the Python renders read them from the environment. */
  public readonly celeryConfig: CeleryConfig;
  /** The SSM parameter with the manifest (endpoints, user names and secret ARNs, no secrets). */
  public readonly manifestParameter: SsmParameter;
  private readonly plan: TransportPlan<IConnectable>;
  private readonly endpoints: { readonly broker: Endpoint; readonly resultBackend?: Endpoint };

  constructor(scope: Construct, id: string, props: CeleryTransportProps) {
    super(scope, id);
    const placement = { vpcId: props.vpcId, subnets: props.subnets };
    const broker = props.broker ?? CeleryBroker.rabbitMq();
    const backend = props.resultBackend ?? CeleryResultBackend.redis();
    const specs = planTransportSpecs(planInput(props, broker, backend), CDKTF_CONTEXT);
    if (specs.errors.length > 0) throw new ValidationError(this.node.path, specs.errors);

    let brokerEndpoint: Endpoint;
    if (broker.kind === 'rabbitmq') {
      const b = new RabbitMqBroker(this, 'Broker', { ...broker.options, ...placement });
      this.rabbitMqBroker = b;
      // Celery logs in as the admin here: the application users are not ported to Terraform yet (docs/cdktf.md).
      const celery = b.celeryEndpoint();
      brokerEndpoint = { connectable: b, port: b.amqpsPort, roles: perRole(() => celery), secret: b.adminSecret };
    } else {
      this.brokerCache = new RedisCache(this, 'Broker', { ...broker.options, ...placement });
      brokerEndpoint = cacheEndpoint(this.brokerCache);
    }
    let backendEndpoint: Endpoint | undefined;
    if (backend.kind === 'redis') {
      this.resultBackendCache = new RedisCache(this, 'ResultBackend', { ...backend.options, ...placement });
      backendEndpoint = cacheEndpoint(this.resultBackendCache);
    } else if (backend.kind === 'sharedWithRedisBroker') {
      backendEndpoint = cacheEndpoint(this.brokerCache!, backend.db);
    }
    this.endpoints = { broker: brokerEndpoint, resultBackend: backendEndpoint };
    this.plan = planTransport({ broker: brokerEndpoint, resultBackend: backendEndpoint, celeryOptions: props.celeryOptions }, CDKTF_CONTEXT);

    const group = (groupId: string, role: NetworkRole.PRODUCERS | NetworkRole.WORKERS) =>
      new CelerySecurityGroup(this, groupId, { vpcId: props.vpcId, description: this.plan.securityGroupDescriptions[role] });
    this.producersSecurityGroup = group('ProducersSecurityGroup', NetworkRole.PRODUCERS);
    this.workersSecurityGroup = group('WorkersSecurityGroup', NetworkRole.WORKERS);
    const sources: Partial<Record<NetworkRole, IConnectable>> = {
      [NetworkRole.PRODUCERS]: this.producersSecurityGroup,
      [NetworkRole.WORKERS]: this.workersSecurityGroup,
    };
    for (const rule of this.plan.rules) {
      ruleTarget(this.plan, rule).connectable.connections.allowFrom(sources[rule.from]!, rule.port, rule.description);
    }

    this.celeryConfig = this.plan.configs[CeleryRole.WORKER];
    warn(this, this.celeryConfig.warnings);

    // Apply-time values (hosts, ARNs) are Terraform expressions inside the JSON string; ports are literals.
    const manifest = JSON.stringify(this.plan.manifest);
    this.manifestParameter = new SsmParameter(this, 'Manifest', {
      // Terraform requires the name; a 50-character path-derived segment (the broker-name rule) keeps it readable.
      name: props.manifestParameterName ?? `/celery-tls-constructs/${physicalNameFromPath(this.node.scopes.slice(1).map((s) => s.node.id), NAME_RULES.brokerName)}/manifest`,
      description: this.plan.manifestDescription,
      type: 'String',
      value: manifest,
      tier: 'Standard',
    });
    for (const o of this.plan.outputs) new TerraformOutput(this, o.id, { value: o.value, description: o.description });
    new TerraformOutput(this, 'ManifestParameterName', { value: this.manifestParameter.name, description: 'SSM parameter with the Celery TLS manifest' });
    new TerraformOutput(this, 'CeleryManifest', { value: manifest, description: 'Celery TLS manifest: celery-tls render --manifest <terraform output -json file>' });
  }

  /** Lets a producer (a security group of yours, `{ securityGroupId }`) reach the broker and the result backend. */
  public allowProducer(peer: ISecurityGroupPeer | IConnectable): void {
    this.allowPeer(peer, NetworkRole.PRODUCERS, 'Celery producer');
  }

  /** Lets a worker (a security group of yours, `{ securityGroupId }`) reach the broker and the result backend. */
  public allowWorker(peer: ISecurityGroupPeer | IConnectable): void {
    this.allowPeer(peer, NetworkRole.WORKERS, 'Celery worker');
  }

  /**
   * The Celery settings of a role. On Terraform both roles log in with the same credentials (the admin on RabbitMQ,
   * the AUTH token on a cache) until the application users are ported, so both get the same settings.
   */
  public celeryConfigFor(role: CeleryRole): CeleryConfig {
    return this.plan.configs[role];
  }

  /**
   * IAM statements that let a role (e.g. an ECS task execution role) read the broker and result backend
   * credentials: each secret by ARN, and kms:Decrypt through Secrets Manager. The counterpart of `grantReadCredentials`.
   */
  public credentialsReadStatements(): IamStatementModel[] {
    return [
      ...(this.rabbitMqBroker?.adminCredentialsReadStatements() ?? []),
      ...(this.brokerCache?.authTokenReadStatements() ?? []),
      ...(this.resultBackendCache?.authTokenReadStatements() ?? []),
    ];
  }

  /** `credentialsReadStatements()` as a JSON policy document, for `aws_iam_role_policy.policy`. */
  public credentialsReadPolicyJson(): string {
    return policyDocument(this.credentialsReadStatements());
  }

  /**
   * Lets a role of yours read the credentials: an `aws_iam_role_policy` on it (id `ReadCredentials<role>`) with
   * `credentialsReadStatements()`, which it returns. Both roles read the same credentials on Terraform, so it takes
   * no role.
   */
  public grantReadCredentials(grantee: IRoleGrantee): IamStatementModel[] {
    const statements = this.credentialsReadStatements();
    const policyId = `ReadCredentials${stableIdPart(this, grantee.name)}`;
    if (!this.node.tryFindChild(policyId)) new IamRolePolicy(this, policyId, { role: grantee.name, policy: policyDocument(statements) });
    return statements;
  }

  /**
   * The Celery environment of an ECS container: the non-secret settings as `environment` and the passwords as
   * `secrets` read by ECS from Secrets Manager (`<arn>:password::`). Spread it into a container definition and give
   * the execution role `credentialsReadPolicyJson()`; the service still needs `producersSecurityGroup` or
   * `workersSecurityGroup`.
   */
  public containerEnvironment(): CeleryContainerEnvironment {
    const environment = Object.entries(this.celeryConfig.toEnvironment()).map(([name, value]) => ({ name, value }));
    const vars = secretVariables(this.celeryConfig.model);
    const secrets: { name: string; valueFrom: string }[] = [];
    const { broker, resultBackend } = this.endpoints;
    if (broker.secret) secrets.push({ name: vars.broker!.name, valueFrom: ecsSecretValueFrom(broker.secret.secretArn, broker.secret.field) });
    if (resultBackend?.secret && vars.resultBackend) {
      secrets.push({ name: vars.resultBackend.name, valueFrom: ecsSecretValueFrom(resultBackend.secret.secretArn, resultBackend.secret.field) });
    }
    return { environment, secrets };
  }

  private allowPeer(peer: ISecurityGroupPeer | IConnectable, role: NetworkRole, label: string): void {
    for (const rule of this.plan.rules.filter((r) => r.from === role)) {
      ruleTarget(this.plan, rule).connectable.connections.allowFrom(peer, rule.port, ruleDescription(label, rule));
    }
  }
}

/** A cache's endpoint: the AUTH token for both roles. */
function cacheEndpoint(cache: RedisCache, db?: number): Endpoint {
  const celery = cache.celeryEndpoint({ db });
  return { connectable: cache, port: cache.port, roles: perRole(() => celery), secret: cache.authTokenSecret };
}

/** The transport's choices as the core's plan input. */
function planInput(props: CeleryTransportProps, broker: CeleryBroker, backend: CeleryResultBackend): TransportPlanInput<unknown> {
  const subnets = { prop: 'subnets', facts: props.subnets };
  const cache = (options: TransportRedisOptions): CachePlanInput<unknown> => ({
    props: options,
    auth: heldChoice(options.authToken ?? RedisAuth.generatedToken()),
    subnets,
    rbacIdPrefix: 'celery',
    terraform: true,
  });
  return {
    broker:
      broker.kind === 'rabbitmq'
        ? { kind: 'rabbitmq', broker: { props: broker.options, credentials: heldChoice(broker.options.adminCredentials ?? BrokerCredentials.generated()), subnets } }
        : { kind: 'redis', cache: cache(broker.options) },
    resultBackend: backend.kind === 'redis' ? { kind: 'redis', cache: cache(backend.options) } : backend,
    celeryOptions: props.celeryOptions,
  };
}
