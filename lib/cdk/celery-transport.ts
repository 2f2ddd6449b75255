import { CfnOutput, Stack } from 'aws-cdk-lib';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as ecs from 'aws-cdk-lib/aws-ecs';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import * as ssm from 'aws-cdk-lib/aws-ssm';
import { Construct } from 'constructs';
import {
  CeleryConfig,
  CeleryEndpoint,
  CeleryOptions,
  DEFAULTS,
  NetworkRole,
  SECURITY_GROUP_DESCRIPTIONS,
  ValidationError,
  celeryIngressRules,
  passwordVariables,
  ruleDescription,
} from '../index';
import { CDK_CONTEXT, PlacementProps, warn } from './common';
import { RabbitMqBroker, RabbitMqBrokerProps } from './rabbitmq-broker';
import { RedisCache, RedisCacheProps } from './redis-cache';

export type TransportRabbitMqOptions = Omit<RabbitMqBrokerProps, 'vpc' | 'vpcSubnets'>;
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
  readonly secret?: secretsmanager.ISecret;
  readonly secretField: string;
  readonly celery: CeleryEndpoint;
}

/**
 * A Celery broker and result backend, TLS only, with segmented security groups for producers and workers, the
 * Celery settings that connect to them, and a manifest (SSM parameter and stack output) without secrets.
 */
export class CeleryTransport extends Construct {
  public readonly rabbitMqBroker?: RabbitMqBroker;
  public readonly brokerCache?: RedisCache;
  public readonly resultBackendCache?: RedisCache;
  /** Attach to producer services (web apps that call `.delay()`). Reaches the broker and backend TLS ports only. */
  public readonly producersSecurityGroup: ec2.SecurityGroup;
  /** Attach to worker services. Reaches the broker and backend TLS ports only. */
  public readonly workersSecurityGroup: ec2.SecurityGroup;
  /** The Celery settings; host names are deploy-time values, so the Python renders read them from the environment. */
  public readonly celeryConfig: CeleryConfig;
  public readonly manifestParameter: ssm.StringParameter;
  private readonly brokerEndpoint: Endpoint;
  private readonly backendEndpoint?: Endpoint;

  constructor(scope: Construct, id: string, props: CeleryTransportProps) {
    super(scope, id);
    const placement = { vpc: props.vpc, vpcSubnets: props.vpcSubnets };
    const broker = props.broker ?? CeleryBroker.rabbitMq();
    const backend = props.resultBackend ?? CeleryResultBackend.redis();

    if (broker._kind === 'rabbitmq') {
      const b = new RabbitMqBroker(this, 'Broker', { ...broker._rabbitMq, ...placement });
      this.rabbitMqBroker = b;
      this.brokerEndpoint = { connectable: b, port: b.amqpsPort, secret: b.adminSecret, secretField: DEFAULTS.celery.secretPasswordField, celery: b.celeryEndpoint() };
    } else {
      const c = new RedisCache(this, 'Broker', { ...broker._redis, ...placement });
      this.brokerCache = c;
      this.brokerEndpoint = { connectable: c, port: c.port, secret: c.authTokenSecret, secretField: c.authTokenSecretField, celery: c.celeryEndpoint() };
    }

    if (backend._kind === 'redis') {
      const c = new RedisCache(this, 'ResultBackend', { ...backend._redis, ...placement });
      this.resultBackendCache = c;
      this.backendEndpoint = { connectable: c, port: c.port, secret: c.authTokenSecret, secretField: c.authTokenSecretField, celery: c.celeryEndpoint() };
    } else if (backend._kind === 'shared') {
      if (!this.brokerCache) {
        throw new ValidationError(this.node.path, [{ code: 'transport.shared-backend', prop: 'resultBackend', message: 'resultBackend CeleryResultBackend.sharedWithRedisBroker() needs broker CeleryBroker.redis(): a RabbitMQ broker cannot store results. Use CeleryResultBackend.redis() instead.' }]);
      }
      this.backendEndpoint = { ...this.brokerEndpoint, celery: this.brokerCache.celeryEndpoint({ db: backend._db }) };
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

    try {
      this.celeryConfig = new CeleryConfig(
        { broker: this.brokerEndpoint.celery, resultBackend: this.backendEndpoint?.celery, options: props.celeryOptions },
        CDK_CONTEXT,
      );
    } catch (e) {
      if (e instanceof ValidationError) throw new ValidationError(this.node.path, e.issues.map((i) => ({ ...i, prop: `celeryOptions/${i.prop}` })));
      throw e;
    }
    warn(this, this.celeryConfig.warnings);

    const manifest = Stack.of(this).toJsonString(this.celeryConfig.toManifest());
    this.manifestParameter = new ssm.StringParameter(this, 'Manifest', {
      parameterName: props.manifestParameterName,
      description: 'Celery TLS manifest (celery-tls-constructs): endpoints, user names and secret ARNs, no secrets',
      stringValue: manifest,
      tier: ssm.ParameterTier.STANDARD,
    });

    new CfnOutput(this, 'BrokerEndpoint', { value: this.brokerEndpoint.celery.host, description: `Celery broker host (${this.brokerEndpoint.celery.scheme}://, port ${this.brokerEndpoint.port})` });
    if (this.backendEndpoint) {
      new CfnOutput(this, 'ResultBackendEndpoint', { value: this.backendEndpoint.celery.host, description: `Celery result backend host (rediss://, port ${this.backendEndpoint.port})` });
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

  /** Lets the grantee read the broker and result backend credentials (secrets by ARN, kms:Decrypt via Secrets Manager). */
  public grantReadCredentials(grantee: iam.IGrantable): void {
    if (this.rabbitMqBroker) this.rabbitMqBroker.grantReadAdminCredentials(grantee);
    this.brokerCache?.grantReadAuthToken(grantee);
    this.resultBackendCache?.grantReadAuthToken(grantee);
  }

  /**
   * Gives an ECS container the Celery environment: the non-secret settings as environment variables and the
   * passwords as ECS secrets from Secrets Manager (ECS grants its execution role read access). The task still needs
   * `producersSecurityGroup` or `workersSecurityGroup` on its service.
   */
  public bindToContainer(container: ecs.ContainerDefinition): void {
    for (const [name, value] of Object.entries(this.celeryConfig.toEnvironment())) container.addEnvironment(name, value);
    const vars = passwordVariables(this.celeryConfig.model);
    if (this.brokerEndpoint.secret) {
      container.addSecret(vars.broker!, ecs.Secret.fromSecretsManager(this.brokerEndpoint.secret, this.brokerEndpoint.secretField));
    }
    if (this.backendEndpoint?.secret && vars.resultBackend) {
      container.addSecret(vars.resultBackend, ecs.Secret.fromSecretsManager(this.backendEndpoint.secret, this.backendEndpoint.secretField));
    }
  }

  private rules() {
    const shared = this.backendEndpoint !== undefined && this.backendEndpoint.connectable === this.brokerEndpoint.connectable;
    return celeryIngressRules({
      brokerPort: this.brokerEndpoint.port,
      brokerScheme: this.brokerEndpoint.celery.scheme,
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
