import { Construct } from 'constructs';
import { CeleryConfig } from '../core/celery/config';
import { secretVariables } from '../core/celery/environment';
import { CeleryEndpoint, CeleryOptions } from '../core/celery/model';
import { ValidationError } from '../core/errors';
import { IamStatementModel } from '../core/iam';
import { NAME_RULES } from '../core/names';
import { celeryIngressRules, ruleDescription, SECURITY_GROUP_DESCRIPTIONS } from '../core/network';
import { ecsSecretValueFrom, physicalNameFromPath } from '../core/terraform';
import { NetworkRole } from '../core/types';
import { CDKTF_CONTEXT, PlacementProps, SecretSource, policyDocument, warn } from './common';
import { CelerySecurityGroup, IConnectable, ISecurityGroupPeer } from './connections';
import { SsmParameter, TerraformOutput } from './provider';
import { RabbitMqBroker, RabbitMqBrokerProps } from './rabbitmq-broker';
import { RedisCache, RedisCacheProps } from './redis-cache';

export type TransportRabbitMqOptions = Omit<RabbitMqBrokerProps, 'vpcId' | 'subnets'>;
export type TransportRedisOptions = Omit<RedisCacheProps, 'vpcId' | 'subnets'>;

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
  /** Name of the SSM parameter that holds the JSON manifest. @default "/celery-tls-constructs/<name from the construct path>/manifest" */
  readonly manifestParameterName?: string;
}

/** What an ECS container definition needs: plain settings and the passwords as ECS secrets (never as values). */
export interface CeleryContainerEnvironment {
  readonly environment: { name: string; value: string }[];
  readonly secrets: { name: string; valueFrom: string }[];
}

interface Endpoint {
  readonly connectable: IConnectable;
  readonly port: number;
  readonly secret?: SecretSource;
  readonly celery: CeleryEndpoint;
}

/**
 * A Celery broker and result backend on Terraform, TLS only, with segmented security groups for producers and
 * workers, the Celery settings that connect to them, and a manifest (SSM parameter and output) without secrets.
 */
export class CeleryTransport extends Construct {
  public readonly rabbitMqBroker?: RabbitMqBroker;
  public readonly brokerCache?: RedisCache;
  public readonly resultBackendCache?: RedisCache;
  /** Attach to producer services (web apps that call `.delay()`). Reaches the broker and backend TLS ports only. */
  public readonly producersSecurityGroup: CelerySecurityGroup;
  /** Attach to worker services. Reaches the broker and backend TLS ports only. */
  public readonly workersSecurityGroup: CelerySecurityGroup;
  /** The Celery settings; host names are apply-time values, so the Python renders read them from the environment. */
  public readonly celeryConfig: CeleryConfig;
  public readonly manifestParameter: SsmParameter;
  private readonly brokerEndpoint: Endpoint;
  private readonly backendEndpoint?: Endpoint;

  constructor(scope: Construct, id: string, props: CeleryTransportProps) {
    super(scope, id);
    const placement = { vpcId: props.vpcId, subnets: props.subnets };
    const broker = props.broker ?? CeleryBroker.rabbitMq();
    const backend = props.resultBackend ?? CeleryResultBackend.redis();

    if (broker._kind === 'rabbitmq') {
      const b = new RabbitMqBroker(this, 'Broker', { ...broker._rabbitMq, ...placement });
      this.rabbitMqBroker = b;
      this.brokerEndpoint = { connectable: b, port: b.amqpsPort, secret: b.adminSecret, celery: b.celeryEndpoint() };
    } else {
      const c = new RedisCache(this, 'Broker', { ...broker._redis, ...placement });
      this.brokerCache = c;
      this.brokerEndpoint = { connectable: c, port: c.port, secret: c.authTokenSecret, celery: c.celeryEndpoint() };
    }

    if (backend._kind === 'redis') {
      const c = new RedisCache(this, 'ResultBackend', { ...backend._redis, ...placement });
      this.resultBackendCache = c;
      this.backendEndpoint = { connectable: c, port: c.port, secret: c.authTokenSecret, celery: c.celeryEndpoint() };
    } else if (backend._kind === 'shared') {
      if (!this.brokerCache) {
        throw new ValidationError(this.node.path, [{ code: 'transport.shared-backend', prop: 'resultBackend', message: 'resultBackend CeleryResultBackend.sharedWithRedisBroker() needs broker CeleryBroker.redis(): a RabbitMQ broker cannot store results. Use CeleryResultBackend.redis() instead.' }]);
      }
      this.backendEndpoint = { ...this.brokerEndpoint, celery: this.brokerCache.celeryEndpoint({ db: backend._db }) };
    }

    this.producersSecurityGroup = new CelerySecurityGroup(this, 'ProducersSecurityGroup', { vpcId: props.vpcId, description: SECURITY_GROUP_DESCRIPTIONS[NetworkRole.PRODUCERS] });
    this.workersSecurityGroup = new CelerySecurityGroup(this, 'WorkersSecurityGroup', { vpcId: props.vpcId, description: SECURITY_GROUP_DESCRIPTIONS[NetworkRole.WORKERS] });
    const sources: Partial<Record<NetworkRole, IConnectable>> = {
      [NetworkRole.PRODUCERS]: this.producersSecurityGroup,
      [NetworkRole.WORKERS]: this.workersSecurityGroup,
    };
    for (const rule of this.rules()) {
      this.target(rule.to).connectable.connections.allowFrom(sources[rule.from]!, rule.port, rule.description);
    }

    try {
      this.celeryConfig = new CeleryConfig(
        { broker: this.brokerEndpoint.celery, resultBackend: this.backendEndpoint?.celery, options: props.celeryOptions },
        CDKTF_CONTEXT,
      );
    } catch (e) {
      if (e instanceof ValidationError) throw new ValidationError(this.node.path, e.issues.map((i) => ({ ...i, prop: `celeryOptions/${i.prop}` })));
      throw e;
    }
    warn(this, this.celeryConfig.warnings);

    // Apply-time values (hosts, ARNs) are Terraform expressions inside the JSON string; ports are literals.
    const manifest = JSON.stringify(this.celeryConfig.toManifest());
    this.manifestParameter = new SsmParameter(this, 'Manifest', {
      // Terraform requires the name; a 50-character path-derived segment (the broker-name rule) keeps it readable.
      name: props.manifestParameterName ?? `/celery-tls-constructs/${physicalNameFromPath(this.node.scopes.slice(1).map((s) => s.node.id), NAME_RULES.brokerName)}/manifest`,
      description: 'Celery TLS manifest (celery-tls-constructs): endpoints, user names and secret ARNs, no secrets',
      type: 'String',
      value: manifest,
      tier: 'Standard',
    });

    new TerraformOutput(this, 'BrokerEndpoint', { value: this.brokerEndpoint.celery.host, description: `Celery broker host (${this.brokerEndpoint.celery.scheme}://, port ${this.brokerEndpoint.port})` });
    if (this.backendEndpoint) {
      new TerraformOutput(this, 'ResultBackendEndpoint', { value: this.backendEndpoint.celery.host, description: `Celery result backend host (rediss://, port ${this.backendEndpoint.port})` });
    }
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
   * The Celery environment of an ECS container: the non-secret settings as `environment` and the passwords as
   * `secrets` read by ECS from Secrets Manager (`<arn>:password::`). Spread it into a container definition and give
   * the execution role `credentialsReadPolicyJson()`; the service still needs `producersSecurityGroup` or
   * `workersSecurityGroup`.
   */
  public containerEnvironment(): CeleryContainerEnvironment {
    const environment = Object.entries(this.celeryConfig.toEnvironment()).map(([name, value]) => ({ name, value }));
    const vars = secretVariables(this.celeryConfig.model);
    const secrets: { name: string; valueFrom: string }[] = [];
    if (this.brokerEndpoint.secret) {
      secrets.push({ name: vars.broker!.name, valueFrom: ecsSecretValueFrom(this.brokerEndpoint.secret.secretArn, this.brokerEndpoint.secret.field) });
    }
    if (this.backendEndpoint?.secret && vars.resultBackend) {
      secrets.push({ name: vars.resultBackend.name, valueFrom: ecsSecretValueFrom(this.backendEndpoint.secret.secretArn, this.backendEndpoint.secret.field) });
    }
    return { environment, secrets };
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

  private allowPeer(peer: ISecurityGroupPeer | IConnectable, role: NetworkRole, label: string): void {
    for (const rule of this.rules().filter((r) => r.from === role)) {
      this.target(rule.to).connectable.connections.allowFrom(peer, rule.port, ruleDescription(label, rule));
    }
  }
}
