import { CfnOutput, Stack } from 'aws-cdk-lib';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as ecs from 'aws-cdk-lib/aws-ecs';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import * as ssm from 'aws-cdk-lib/aws-ssm';
import { Construct } from 'constructs';
import { CeleryConfig } from '../core/celery/config';
import { secretVariables } from '../core/celery/environment';
import { CeleryEndpoint, CeleryOptions } from '../core/celery/model';
import { ValidationError } from '../core/errors';
import { celeryIngressRules, ruleDescription, SECURITY_GROUP_DESCRIPTIONS } from '../core/network';
import { CeleryRole } from '../core/rabbitmq-users';
import { NetworkRole } from '../core/types';
import { CDK_CONTEXT, PlacementProps, warn } from './common';
import { RabbitMqBroker, RabbitMqBrokerProps } from './rabbitmq-broker';
import { RabbitMqApplicationUsers, RabbitMqApplicationUsersProps } from './rabbitmq-users';
import { RedisCache, RedisCacheProps } from './redis-cache';

export interface TransportRabbitMqOptions extends Omit<RabbitMqBrokerProps, 'vpc' | 'vpcSubnets'> {
  /** The vhost and the application users Celery logs in as. @default a producer and a worker user on vhost "celery" */
  readonly applicationUsers?: Omit<RabbitMqApplicationUsersProps, 'broker'>;
}
export type TransportRedisOptions = Omit<RedisCacheProps, 'vpc' | 'vpcSubnets'>;

/** Which broker a `CeleryTransport` provisions. */
export class CeleryBroker {
  /** Amazon MQ for RabbitMQ (the default): AMQPS, quorum queues on RabbitMQ 4. */
  public static rabbitMq(options: TransportRabbitMqOptions = {}): CeleryBroker {
    return new CeleryBroker('rabbitmq', options, undefined);
  }

  /** An ElastiCache Valkey/Redis replication group used as broker (kombu's Redis transport over TLS). */
  public static redis(options: TransportRedisOptions = {}): CeleryBroker {
    return new CeleryBroker('redis', undefined, options);
  }

  private constructor(
    /** @internal */ public readonly _kind: 'rabbitmq' | 'redis',
    /** @internal */ public readonly _rabbitMq: TransportRabbitMqOptions | undefined,
    /** @internal */ public readonly _redis: TransportRedisOptions | undefined,
  ) {}
}

/** Where a `CeleryTransport` stores task results. */
export class CeleryResultBackend {
  /** A dedicated ElastiCache Valkey/Redis replication group (the default). */
  public static redis(options: TransportRedisOptions = {}): CeleryResultBackend {
    return new CeleryResultBackend('redis', options, undefined);
  }

  /** The broker's own cache, in another logical database (only with `CeleryBroker.redis()`). @param db @default 1 */
  public static sharedWithRedisBroker(db: number = 1): CeleryResultBackend {
    return new CeleryResultBackend('shared', undefined, db);
  }

  /** No result backend: tasks are fire-and-forget. */
  public static none(): CeleryResultBackend {
    return new CeleryResultBackend('none', undefined, undefined);
  }

  private constructor(
    /** @internal */ public readonly _kind: 'redis' | 'shared' | 'none',
    /** @internal */ public readonly _redis: TransportRedisOptions | undefined,
    /** @internal */ public readonly _db: number | undefined,
  ) {}
}

export interface CeleryTransportProps extends PlacementProps {
  /** @default CeleryBroker.rabbitMq() */
  readonly broker?: CeleryBroker;
  /** @default CeleryResultBackend.redis() */
  readonly resultBackend?: CeleryResultBackend;
  /** Reliability options of the rendered Celery settings. @default - see DEFAULTS.celery */
  readonly celeryOptions?: CeleryOptions;
  /** Name of the SSM parameter that holds the JSON manifest. @default - generated */
  readonly manifestParameterName?: string;
}

interface Endpoint {
  readonly connectable: ec2.IConnectable;
  readonly port: number;
  /** The credentials and settings of each role (the same for both unless the broker has per-role users). */
  readonly roles: Record<CeleryRole, { readonly secret?: secretsmanager.ISecret; readonly celery: CeleryEndpoint }>;
}

/** A cache's credentials per role: its RBAC users, or the same AUTH token for both. */
function cacheRoles(cache: RedisCache, db?: number): Endpoint['roles'] {
  const role = (r: CeleryRole) => ({ secret: cache.secretFor(r), celery: cache.celeryEndpoint({ db, role: r }) });
  return { [CeleryRole.PRODUCER]: role(CeleryRole.PRODUCER), [CeleryRole.WORKER]: role(CeleryRole.WORKER) };
}

/**
 * A Celery broker and result backend, TLS only, with segmented security groups for producers and workers, the
 * Celery settings that connect to them, and a manifest (SSM parameter and stack output) without secrets.
 */
export class CeleryTransport extends Construct {
  public readonly rabbitMqBroker?: RabbitMqBroker;
  /** The vhost and application users on the RabbitMQ broker (Celery never logs in as the admin). */
  public readonly rabbitMqUsers?: RabbitMqApplicationUsers;
  public readonly brokerCache?: RedisCache;
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
  public readonly manifestParameter: ssm.StringParameter;
  private readonly brokerEndpoint: Endpoint;
  private readonly backendEndpoint?: Endpoint;
  private readonly configs: Record<CeleryRole, CeleryConfig>;

  constructor(scope: Construct, id: string, props: CeleryTransportProps) {
    super(scope, id);
    const placement = { vpc: props.vpc, vpcSubnets: props.vpcSubnets };
    const broker = props.broker ?? CeleryBroker.rabbitMq();
    const backend = props.resultBackend ?? CeleryResultBackend.redis();

    if (broker._kind === 'rabbitmq') {
      const { applicationUsers, ...brokerOptions } = broker._rabbitMq ?? {};
      const b = new RabbitMqBroker(this, 'Broker', { ...brokerOptions, ...placement });
      const users = new RabbitMqApplicationUsers(this, 'BrokerUsers', { ...applicationUsers, broker: b });
      this.rabbitMqBroker = b;
      this.rabbitMqUsers = users;
      const role = (r: CeleryRole) => ({ secret: users.clientSecretFor(r), celery: users.celeryEndpoint(r) });
      this.brokerEndpoint = {
        connectable: b,
        port: b.amqpsPort,
        roles: { [CeleryRole.PRODUCER]: role(CeleryRole.PRODUCER), [CeleryRole.WORKER]: role(CeleryRole.WORKER) },
      };
    } else {
      const c = new RedisCache(this, 'Broker', { ...broker._redis, ...placement });
      this.brokerCache = c;
      this.brokerEndpoint = { connectable: c, port: c.port, roles: cacheRoles(c) };
    }

    if (backend._kind === 'redis') {
      const c = new RedisCache(this, 'ResultBackend', { ...backend._redis, ...placement });
      this.resultBackendCache = c;
      this.backendEndpoint = { connectable: c, port: c.port, roles: cacheRoles(c) };
    } else if (backend._kind === 'shared') {
      if (!this.brokerCache) {
        throw new ValidationError(this.node.path, [{ code: 'transport.shared-backend', prop: 'resultBackend', message: 'resultBackend CeleryResultBackend.sharedWithRedisBroker() needs broker CeleryBroker.redis(): a RabbitMQ broker cannot store results. Use CeleryResultBackend.redis() instead.' }]);
      }
      this.backendEndpoint = { ...this.brokerEndpoint, roles: cacheRoles(this.brokerCache, backend._db) };
    }

    this.producersSecurityGroup = new ec2.SecurityGroup(this, 'ProducersSecurityGroup', {
      vpc: props.vpc,
      description: SECURITY_GROUP_DESCRIPTIONS[NetworkRole.PRODUCERS],
      allowAllOutbound: false,
    });
    this.workersSecurityGroup = new ec2.SecurityGroup(this, 'WorkersSecurityGroup', {
      vpc: props.vpc,
      description: SECURITY_GROUP_DESCRIPTIONS[NetworkRole.WORKERS],
      allowAllOutbound: false,
    });
    const sources: Partial<Record<NetworkRole, ec2.IConnectable>> = {
      [NetworkRole.PRODUCERS]: this.producersSecurityGroup,
      [NetworkRole.WORKERS]: this.workersSecurityGroup,
    };
    for (const rule of this.rules()) {
      this.target(rule.to).connectable.connections.allowFrom(sources[rule.from]!, ec2.Port.tcp(rule.port), rule.description);
    }

    const configFor = (role: CeleryRole) => {
      try {
        return new CeleryConfig(
          { broker: this.brokerEndpoint.roles[role].celery, resultBackend: this.backendEndpoint?.roles[role].celery, options: props.celeryOptions },
          CDK_CONTEXT,
        );
      } catch (e) {
        if (e instanceof ValidationError) throw new ValidationError(this.node.path, e.issues.map((i) => ({ ...i, prop: `celeryOptions/${i.prop}` })));
        throw e;
      }
    };
    this.configs = { [CeleryRole.WORKER]: configFor(CeleryRole.WORKER), [CeleryRole.PRODUCER]: configFor(CeleryRole.PRODUCER) };
    this.celeryConfig = this.configs[CeleryRole.WORKER];
    warn(this, this.celeryConfig.warnings);

    const manifest = Stack.of(this).toJsonString(this.celeryConfig.toManifest());
    this.manifestParameter = new ssm.StringParameter(this, 'Manifest', {
      parameterName: props.manifestParameterName,
      description: 'Celery TLS manifest (celery-tls-constructs): endpoints, user names and secret ARNs, no secrets',
      stringValue: manifest,
      tier: ssm.ParameterTier.STANDARD,
    });

    const brokerCelery = this.brokerEndpoint.roles[CeleryRole.WORKER].celery;
    new CfnOutput(this, 'BrokerEndpoint', { value: brokerCelery.host, description: `Celery broker host (${brokerCelery.scheme}://, port ${this.brokerEndpoint.port})` });
    if (this.backendEndpoint) {
      new CfnOutput(this, 'ResultBackendEndpoint', { value: this.backendEndpoint.roles[CeleryRole.WORKER].celery.host, description: `Celery result backend host (rediss://, port ${this.backendEndpoint.port})` });
    }
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
    return this.configs[role];
  }

  /**
   * Lets the grantee read one role's broker and result backend credentials (secrets by ARN, kms:Decrypt via Secrets
   * Manager), for applications that read them at start-up. Never the broker admin's.
   */
  public grantReadCredentials(grantee: iam.IGrantable, role: CeleryRole): void {
    if (this.rabbitMqUsers) this.rabbitMqUsers.grantRead(role, grantee);
    this.brokerCache?.grantReadCredentials(grantee, role);
    this.resultBackendCache?.grantReadCredentials(grantee, role);
  }

  /**
   * Gives an ECS container a role's Celery environment: the non-secret settings as environment variables and the
   * passwords as ECS secrets from Secrets Manager (ECS grants its execution role read access). The task still needs
   * `producersSecurityGroup` or `workersSecurityGroup` on its service.
   * @param role @default CeleryRole.WORKER
   */
  public bindToContainer(container: ecs.ContainerDefinition, role: CeleryRole = CeleryRole.WORKER): void {
    const config = this.configs[role];
    for (const [name, value] of Object.entries(config.toEnvironment())) container.addEnvironment(name, value);
    const vars = secretVariables(config.model);
    const brokerSecret = this.brokerEndpoint.roles[role].secret;
    if (brokerSecret) container.addSecret(vars.broker!.name, ecs.Secret.fromSecretsManager(brokerSecret, vars.broker!.field));
    const backendSecret = this.backendEndpoint?.roles[role].secret;
    if (backendSecret && vars.resultBackend) {
      container.addSecret(vars.resultBackend.name, ecs.Secret.fromSecretsManager(backendSecret, vars.resultBackend.field));
    }
  }

  private rules() {
    const shared = this.backendEndpoint !== undefined && this.backendEndpoint.connectable === this.brokerEndpoint.connectable;
    return celeryIngressRules({
      brokerPort: this.brokerEndpoint.port,
      brokerScheme: this.brokerEndpoint.roles[CeleryRole.WORKER].celery.scheme,
      backendPort: this.backendEndpoint && !shared ? this.backendEndpoint.port : undefined,
    });
  }

  private target(role: NetworkRole): Endpoint {
    return role === NetworkRole.BROKER ? this.brokerEndpoint : this.backendEndpoint!;
  }

  private allowPeer(peer: ec2.IConnectable, role: NetworkRole, label: string): void {
    for (const rule of this.rules().filter((r) => r.from === role)) {
      this.target(rule.to).connectable.connections.allowFrom(peer, ec2.Port.tcp(rule.port), ruleDescription(label, rule));
    }
  }
}
