import { CfnOutput, Stack } from 'aws-cdk-lib';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as ecs from 'aws-cdk-lib/aws-ecs';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import * as ssm from 'aws-cdk-lib/aws-ssm';
import { Construct } from 'constructs';
import { CeleryBrokerChoice, CeleryBrokerFactory, CeleryResultBackendChoice, CeleryResultBackendFactory, heldChoice } from '../core/choices';
import { CeleryConfig } from '../core/celery/config';
import { secretVariables } from '../core/celery/environment';
import { CeleryOptions } from '../core/celery/model';
import { ICeleryTransportContract } from '../core/contracts';
import { ValidationError } from '../core/errors';
import { ruleDescription } from '../core/network';
import { CachePlanInput, PlannedEndpoint, TransportPlan, TransportPlanInput, perRole, planTransport, planTransportSpecs, ruleTarget } from '../core/plan';
import { CeleryRole } from '../core/rabbitmq-users';
import { NetworkRole } from '../core/types';
import { CDK_CONTEXT, PlacementProps, defaultSubnets, subnetFacts, warn } from './common';
import { BrokerCredentials, RedisAuth } from './credentials';
import { RabbitMqBroker, RabbitMqBrokerProps } from './rabbitmq-broker';
import { RabbitMqApplicationUsers, RabbitMqApplicationUsersProps } from './rabbitmq-users';
import { RedisCache, RedisCacheProps } from './redis-cache';
import { CdkTarget } from './target';

/** The options of `CeleryBroker.rabbitMq()`: the broker's props without placement, and its application users. */
export interface TransportRabbitMqOptions extends Omit<RabbitMqBrokerProps, 'vpc' | 'vpcSubnets'> {
  /** The vhost and the application users Celery logs in as. @default a producer and a worker user on vhost "celery" */
  readonly applicationUsers?: Omit<RabbitMqApplicationUsersProps, 'broker'>;
}

/** The options of `CeleryBroker.redis()` and `CeleryResultBackend.redis()`: a cache's props without placement. */
export type TransportRedisOptions = Omit<RedisCacheProps, 'vpc' | 'vpcSubnets'>;

/** Which broker a `CeleryTransport` provisions: `CeleryBroker.rabbitMq()` (the default) or `CeleryBroker.redis()`. */
export const CeleryBroker = new CeleryBrokerFactory<TransportRabbitMqOptions, TransportRedisOptions>();
/** A broker choice, made with `CeleryBroker.rabbitMq()` or `CeleryBroker.redis()`. */
export type CeleryBroker = CeleryBrokerChoice<TransportRabbitMqOptions, TransportRedisOptions>;

/** Where a `CeleryTransport` stores task results: `.redis()` (the default), `.sharedWithRedisBroker()` or `.none()`. */
export const CeleryResultBackend = new CeleryResultBackendFactory<TransportRedisOptions>();
/** A result-backend choice, made with one of `CeleryResultBackend`'s methods. */
export type CeleryResultBackend = CeleryResultBackendChoice<TransportRedisOptions>;

/** Props of `CeleryTransport`. */
export interface CeleryTransportProps extends PlacementProps {
  /** The broker. @default CeleryBroker.rabbitMq() */
  readonly broker?: CeleryBroker;
  /** The result backend. @default CeleryResultBackend.redis() */
  readonly resultBackend?: CeleryResultBackend;
  /** Reliability options of the rendered Celery settings. @default - see DEFAULTS.celery */
  readonly celeryOptions?: CeleryOptions;
  /** Name of the SSM parameter that holds the JSON manifest. @default - generated */
  readonly manifestParameterName?: string;
}

/** What the transport keeps of an endpoint: the plan's view, and each role's secret. */
interface Endpoint extends PlannedEndpoint<ec2.IConnectable> {
  readonly secrets: Record<CeleryRole, secretsmanager.ISecret | undefined>;
}

/**
 * A Celery broker and result backend, TLS only, with segmented security groups for producers and workers, the
 * Celery settings that connect to them, and a manifest (SSM parameter and stack output) without secrets.
 */
export class CeleryTransport extends Construct implements ICeleryTransportContract<CdkTarget> {
  /** The Amazon MQ broker (with `CeleryBroker.rabbitMq()`). */
  public readonly rabbitMqBroker?: RabbitMqBroker;
  /** The vhost and application users on the RabbitMQ broker (Celery never logs in as the admin). */
  public readonly rabbitMqUsers?: RabbitMqApplicationUsers;
  /** The broker's cache (with `CeleryBroker.redis()`). */
  public readonly brokerCache?: RedisCache;
  /** The result backend's own cache (with `CeleryResultBackend.redis()`). */
  public readonly resultBackendCache?: RedisCache;
  /** Attach to producer services (web apps that call `.delay()`). Reaches the broker and backend TLS ports only. */
  public readonly producersSecurityGroup: ec2.SecurityGroup;
  /** Attach to worker services. Reaches the broker and backend TLS ports only. */
  public readonly workersSecurityGroup: ec2.SecurityGroup;
  /**
   * The workers' Celery settings; host names are deploy-time values, so the Python renders read them from the
   * environment. Producers: `celeryConfigFor(CeleryRole.PRODUCER)`.
   */
  public readonly celeryConfig: CeleryConfig;
  /** The SSM parameter with the manifest (endpoints, user names and secret ARNs, no secrets). */
  public readonly manifestParameter: ssm.StringParameter;
  private readonly plan: TransportPlan<ec2.IConnectable>;
  private readonly endpoints: { readonly broker: Endpoint; readonly resultBackend?: Endpoint };

  constructor(scope: Construct, id: string, props: CeleryTransportProps) {
    super(scope, id);
    const placement = { vpc: props.vpc, vpcSubnets: props.vpcSubnets };
    const broker = props.broker ?? CeleryBroker.rabbitMq();
    const backend = props.resultBackend ?? CeleryResultBackend.redis();
    const specs = planTransportSpecs(planInput(props, broker, backend), CDK_CONTEXT);
    if (specs.errors.length > 0) throw new ValidationError(this.node.path, specs.errors);

    let brokerEndpoint: Endpoint;
    if (broker.kind === 'rabbitmq') {
      const { applicationUsers, ...brokerOptions } = broker.options;
      const b = new RabbitMqBroker(this, 'Broker', { ...brokerOptions, ...placement });
      const users = new RabbitMqApplicationUsers(this, 'BrokerUsers', { ...applicationUsers, broker: b });
      this.rabbitMqBroker = b;
      this.rabbitMqUsers = users;
      brokerEndpoint = { connectable: b, port: b.amqpsPort, roles: perRole((r) => users.celeryEndpoint(r)), secrets: perRole((r) => users.clientSecretFor(r)) };
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
    this.plan = planTransport({ broker: brokerEndpoint, resultBackend: backendEndpoint, celeryOptions: props.celeryOptions }, CDK_CONTEXT);

    const group = (groupId: string, role: NetworkRole.PRODUCERS | NetworkRole.WORKERS) =>
      new ec2.SecurityGroup(this, groupId, { vpc: props.vpc, description: this.plan.securityGroupDescriptions[role], allowAllOutbound: false });
    this.producersSecurityGroup = group('ProducersSecurityGroup', NetworkRole.PRODUCERS);
    this.workersSecurityGroup = group('WorkersSecurityGroup', NetworkRole.WORKERS);
    const sources: Partial<Record<NetworkRole, ec2.IConnectable>> = {
      [NetworkRole.PRODUCERS]: this.producersSecurityGroup,
      [NetworkRole.WORKERS]: this.workersSecurityGroup,
    };
    for (const rule of this.plan.rules) {
      ruleTarget(this.plan, rule).connectable.connections.allowFrom(sources[rule.from]!, ec2.Port.tcp(rule.port), rule.description);
    }

    this.celeryConfig = this.plan.configs[CeleryRole.WORKER];
    warn(this, this.celeryConfig.warnings);

    const manifest = Stack.of(this).toJsonString(this.plan.manifest);
    this.manifestParameter = new ssm.StringParameter(this, 'Manifest', {
      parameterName: props.manifestParameterName,
      description: this.plan.manifestDescription,
      stringValue: manifest,
      tier: ssm.ParameterTier.STANDARD,
    });
    for (const o of this.plan.outputs) new CfnOutput(this, o.id, { value: o.value, description: o.description });
    new CfnOutput(this, 'ManifestParameterName', { value: this.manifestParameter.parameterName, description: 'SSM parameter with the Celery TLS manifest' });
    new CfnOutput(this, 'CeleryManifest', { value: manifest, description: 'Celery TLS manifest: celery-tls render --manifest <cdk outputs file>' });
  }

  /** Lets a producer (any IConnectable, e.g. an ECS service) reach the broker and the result backend. */
  public allowProducer(peer: ec2.IConnectable): void {
    this.allowPeer(peer, NetworkRole.PRODUCERS, 'Celery producer');
  }

  /** Lets a worker (any IConnectable, e.g. an ECS service) reach the broker and the result backend. */
  public allowWorker(peer: ec2.IConnectable): void {
    this.allowPeer(peer, NetworkRole.WORKERS, 'Celery worker');
  }

  /** The Celery settings of a role: the same endpoints, that role's broker user and secret. */
  public celeryConfigFor(role: CeleryRole): CeleryConfig {
    return this.plan.configs[role];
  }

  /**
   * Lets the grantee read one role's broker and result backend credentials (secrets by ARN, kms:Decrypt via Secrets
   * Manager), for applications that read them at start-up. Never the broker admin's.
   * @param role @default CeleryRole.WORKER
   */
  public grantReadCredentials(grantee: iam.IGrantable, role: CeleryRole = CeleryRole.WORKER): iam.Grant {
    const grants = [
      this.rabbitMqUsers?.grantRead(grantee, role),
      this.brokerCache?.grantReadCredentials(grantee, role),
      this.resultBackendCache?.grantReadCredentials(grantee, role),
    ].filter((g): g is iam.Grant => g !== undefined);
    return grants.reduce((all, g) => all.combine(g));
  }

  /**
   * Gives an ECS container a role's Celery environment: the non-secret settings as environment variables and the
   * passwords as ECS secrets from Secrets Manager (ECS grants its execution role read access). The task still needs
   * `producersSecurityGroup` or `workersSecurityGroup` on its service.
   * @param role @default CeleryRole.WORKER
   */
  public bindToContainer(container: ecs.ContainerDefinition, role: CeleryRole = CeleryRole.WORKER): void {
    const config = this.plan.configs[role];
    for (const [name, value] of Object.entries(config.toEnvironment())) container.addEnvironment(name, value);
    const vars = secretVariables(config.model);
    const brokerSecret = this.endpoints.broker.secrets[role];
    if (brokerSecret) container.addSecret(vars.broker!.name, ecs.Secret.fromSecretsManager(brokerSecret, vars.broker!.field));
    const backendSecret = this.endpoints.resultBackend?.secrets[role];
    if (backendSecret && vars.resultBackend) {
      container.addSecret(vars.resultBackend.name, ecs.Secret.fromSecretsManager(backendSecret, vars.resultBackend.field));
    }
  }

  private allowPeer(peer: ec2.IConnectable, role: NetworkRole, label: string): void {
    for (const rule of this.plan.rules.filter((r) => r.from === role)) {
      ruleTarget(this.plan, rule).connectable.connections.allowFrom(peer, ec2.Port.tcp(rule.port), ruleDescription(label, rule));
    }
  }
}

/** A cache's endpoint: its RBAC users' credentials per role, or the same AUTH token for both. */
function cacheEndpoint(cache: RedisCache, db?: number): Endpoint {
  return { connectable: cache, port: cache.port, roles: perRole((role) => cache.celeryEndpoint({ db, role })), secrets: perRole((role) => cache.secretFor(role)) };
}

/** The transport's choices as the core's plan input. */
function planInput(props: CeleryTransportProps, broker: CeleryBroker, backend: CeleryResultBackend): TransportPlanInput<secretsmanager.ISecret> {
  const facts = subnetFacts(props.vpc, props.vpcSubnets ?? defaultSubnets(props.vpc));
  const subnets = { prop: 'vpcSubnets', facts };
  const cache = (options: TransportRedisOptions): CachePlanInput<secretsmanager.ISecret> => ({
    props: options,
    auth: heldChoice(options.authToken ?? RedisAuth.generatedToken()),
    subnets,
    // No check depends on the ids; each cache names its users from its own path.
    rbacIdPrefix: 'celery',
  });
  return {
    broker:
      broker.kind === 'rabbitmq'
        ? {
            kind: 'rabbitmq',
            broker: {
              props: broker.options,
              credentials: heldChoice(broker.options.adminCredentials ?? BrokerCredentials.generated()),
              clientCertificates: broker.options.clientCertificates ? heldChoice(broker.options.clientCertificates) : undefined,
              subnets,
            },
            applicationUsers: broker.options.applicationUsers,
          }
        : { kind: 'redis', cache: cache(broker.options) },
    resultBackend: backend.kind === 'redis' ? { kind: 'redis', cache: cache(backend.options) } : backend,
    celeryOptions: props.celeryOptions,
  };
}
