import { Construct } from 'constructs';
import { onePerAvailabilityZone } from '../core/subnets';
import { CeleryBrokerFactory, CeleryResultBackendFactory, heldChoice } from '../core/choices';
import type { BrokerClientCertificatesChoice, CeleryBrokerChoice, CeleryResultBackendChoice } from '../core/choices';
import type { RedisAuthChoice } from '../core/choices';
import { CeleryConfig } from '../core/celery/config';
import { ICeleryTransportContract } from '../core/contracts';
import { IamStatementModel } from '../core/iam';
import { NAME_RULES } from '../core/names';
import { ruleDescription } from '../core/network';
import { perRole } from '../core/plan';
import { assembleTransport, containerEnvironmentFor, peerRules } from '../core/transport';
import { monitoredCache, monitoredPostgres, monitoredRabbitMq } from '../core/monitoring';
import { createMonitoring } from './monitoring';
import type { CeleryMonitoring, CeleryTransportMonitoringOptions } from './monitoring';
import type { AssembledTransport, CeleryTransportChoices } from '../core/transport';
import { CeleryRole } from '../core/rabbitmq-users';
import { ecsSecretValueFrom, physicalNameFromPath } from '../core/terraform';
import { NetworkRole } from '../core/types';
import { CDKTF_CONTEXT, PlacementProps, SecretSource, policyDocument, warn } from './common';
import { CelerySecurityGroup, IConnectable, ISecurityGroupPeer, stableIdPart } from './connections';
import { BrokerCredentials, RedisAuth } from './credentials';
import { IamRolePolicy, SsmParameter, TerraformOutput } from './provider';
import { RabbitMqBroker, RabbitMqBrokerProps } from './rabbitmq-broker';
import { RabbitMqApplicationUsers, RabbitMqApplicationUsersProps } from './rabbitmq-users';
import { PostgresDatabase, PostgresDatabaseProps } from './postgres-database';
import { RedisCache, RedisCacheProps } from './redis-cache';
import { CelerySecurityKeys } from './security-keys';
import { TerraformTarget } from './target';

/** The options of `CeleryBroker.rabbitMq()`: the broker's props without placement, and its application users. */
export interface TransportRabbitMqOptions extends Omit<RabbitMqBrokerProps, 'vpcId' | 'subnets'> {
  /** The vhost and the application users Celery logs in as. @default a producer and a worker user on vhost "celery" */
  readonly applicationUsers?: Omit<RabbitMqApplicationUsersProps, 'broker'>;
}
/** The options of `CeleryBroker.redis()` and `CeleryResultBackend.redis()`: a cache's props without placement. */
export type TransportRedisOptions = Omit<RedisCacheProps, 'vpcId' | 'subnets'>;

/** The options of `CeleryResultBackend.postgres()`: a PostgreSQL database's props without placement. */
export type TransportPostgresOptions = Omit<PostgresDatabaseProps, 'vpcId' | 'subnets'>;

/** Which broker a `CeleryTransport` provisions: `CeleryBroker.rabbitMq()` (the default) or `CeleryBroker.redis()`. */
export const CeleryBroker = new CeleryBrokerFactory<TransportRabbitMqOptions, TransportRedisOptions>();
/** A broker choice, made with `CeleryBroker.rabbitMq()` or `CeleryBroker.redis()`. */
export type CeleryBroker = CeleryBrokerChoice<TransportRabbitMqOptions, TransportRedisOptions>;

/**
 * Where a `CeleryTransport` stores task results: `.redis()` (the default), `.postgres()`, `.sharedWithRedisBroker()`
 * or `.none()`.
 */
export const CeleryResultBackend = new CeleryResultBackendFactory<TransportRedisOptions, TransportPostgresOptions>();
/** A result-backend choice, made with one of `CeleryResultBackend`'s methods. */
export type CeleryResultBackend = CeleryResultBackendChoice<TransportRedisOptions, TransportPostgresOptions>;

/** Props of the Terraform `CeleryTransport`; `manifestParameterName` defaults to "/celery-tls-constructs/<name from the construct path>/manifest". */
export interface CeleryTransportProps
  extends PlacementProps, CeleryTransportChoices<CeleryBroker, CeleryResultBackend, CeleryTransportMonitoringOptions> {}

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

/** The children a transport made, by kind. */
type Made = {
  rabbitMqBroker?: RabbitMqBroker;
  rabbitMqUsers?: RabbitMqApplicationUsers;
  brokerCache?: RedisCache;
  resultBackendCache?: RedisCache;
  resultBackendDatabase?: PostgresDatabase;
  manifestParameter?: SsmParameter;
  securityKeys?: CelerySecurityKeys;
  monitoring?: CeleryMonitoring;
};

/**
 * A Celery broker and result backend on Terraform, TLS only, with segmented security groups for producers and
 * workers, the Celery settings that connect to them, and a manifest (SSM parameter and output) without secrets.
 */
export class CeleryTransport extends Construct implements ICeleryTransportContract<TerraformTarget> {
  private readonly made: Made;
  private readonly assembled: AssembledTransport<IConnectable, SecretSource, CelerySecurityGroup>;

  /** The Amazon MQ broker (with `CeleryBroker.rabbitMq()`). */
  public get rabbitMqBroker(): RabbitMqBroker | undefined {
    return this.made.rabbitMqBroker;
  }

  /** The broker's vhost and application users (with `CeleryBroker.rabbitMq()`). */
  public get rabbitMqUsers(): RabbitMqApplicationUsers | undefined {
    return this.made.rabbitMqUsers;
  }

  /** The broker's cache (with `CeleryBroker.redis()`). */
  public get brokerCache(): RedisCache | undefined {
    return this.made.brokerCache;
  }

  /** The result backend's own cache (with `CeleryResultBackend.redis()`). */
  public get resultBackendCache(): RedisCache | undefined {
    return this.made.resultBackendCache;
  }

  /** The result backend's PostgreSQL database (with `CeleryResultBackend.postgres()`). */
  public get resultBackendDatabase(): PostgresDatabase | undefined {
    return this.made.resultBackendDatabase;
  }

  /** Attach to producer services (web apps that call `.delay()`). Reaches the broker and backend TLS ports only. */
  public get producersSecurityGroup(): CelerySecurityGroup {
    return this.assembled.producersSecurityGroup;
  }

  /** Attach to worker services. Reaches the broker and backend TLS ports only. */
  public get workersSecurityGroup(): CelerySecurityGroup {
    return this.assembled.workersSecurityGroup;
  }

  /**
   * The workers' Celery settings; host names are apply-time values, so the Python renders read them from the
   * environment. Producers: `celeryConfigFor(CeleryRole.PRODUCER)`.
   */
  public get celeryConfig(): CeleryConfig {
    return this.assembled.celeryConfig;
  }

  /** The signing keys, the certificate store and the result key (with `security`). */
  public get securityKeys(): CelerySecurityKeys | undefined {
    return this.made.securityKeys;
  }

  /** The alarms, their topic and the dashboard (undefined with `monitoring: { enabled: false }`). */
  public get monitoring(): CeleryMonitoring | undefined {
    return this.made.monitoring;
  }

  /** The SSM parameter with the manifest (endpoints, user names and secret ARNs, no secrets). */
  public get manifestParameter(): SsmParameter {
    return this.made.manifestParameter!;
  }

  constructor(scope: Construct, id: string, props: CeleryTransportProps) {
    super(scope, id);
    const placement = { vpcId: props.vpcId, subnets: props.subnets };
    const made: Made = {};
    const assembled = assembleTransport<
      TransportRabbitMqOptions,
      TransportRedisOptions,
      IConnectable,
      SecretSource,
      CelerySecurityGroup,
      TransportPostgresOptions
    >(
      {
        ctx: CDKTF_CONTEXT,
        path: this.node.path,
        subnets: { prop: 'subnets', facts: props.subnets },
        terraform: true,
        choices: {
          auth: (o) => heldChoice<RedisAuthChoice<unknown>>(o.authToken ?? RedisAuth.generatedToken()),
          credentials: (o) => heldChoice(o.adminCredentials ?? BrokerCredentials.generated()),
          certificates: (o) =>
            o.clientCertificates ? heldChoice<BrokerClientCertificatesChoice>(o.clientCertificates) : undefined,
          applicationUsers: (o) => o.applicationUsers,
          existingDatabase: (o) => (o.existingDatabase ? { port: o.existingDatabase.port } : undefined),
        },
        rabbitMq: ({ applicationUsers, ...options }) => {
          const b = new RabbitMqBroker(this, 'Broker', { ...options, ...placement });
          const users = new RabbitMqApplicationUsers(this, 'BrokerUsers', { ...applicationUsers, broker: b });
          Object.assign(made, { rabbitMqBroker: b, rabbitMqUsers: users });
          return {
            connectable: b,
            port: b.amqpsPort,
            roles: perRole((r) => users.celeryEndpoint(r)),
            secrets: perRole((r) => users.clientSecretFor(r)),
            monitored: monitoredRabbitMq(
              b.brokerName,
              users.vhost,
              users.users.flatMap((u) =>
                u.certificateSecret
                  ? [
                      {
                        arn: u.certificateSecret.secretArn,
                        name: u.certificateSecret.resource.name,
                        keyArn: users.encryptionKeyArn,
                      },
                    ]
                  : [],
              ),
            ),
          };
        },
        cache: (cacheId, options) => {
          const cache = new RedisCache(this, cacheId, { ...options, ...placement });
          made[cacheId === 'Broker' ? 'brokerCache' : 'resultBackendCache'] = cache;
          return (db) => ({
            connectable: cache,
            port: cache.port,
            roles: perRole((role) => cache.celeryEndpoint({ db, role })),
            secrets: perRole((role) => cache.secretFor(role)),
            monitored: monitoredCache(cacheId, cache.replicationGroupId, cache.spec),
          });
        },
        postgres: (options) => {
          const db = new PostgresDatabase(this, 'ResultBackend', { ...options, ...placement });
          made.resultBackendDatabase = db;
          return {
            connectable: db,
            port: db.port,
            roles: perRole((role) => db.celeryEndpoint(role)),
            secrets: perRole((role) => db.secretFor(role)),
            monitored: monitoredPostgres(db.spec, db.databaseIdentifier),
          };
        },
        securityKeys: (options) => {
          const keys = new CelerySecurityKeys(this, 'SecurityKeys', options);
          made.securityKeys = keys;
          return perRole((role) => keys.securityOptions(role));
        },
        securityGroup: (groupId, description) =>
          new CelerySecurityGroup(this, groupId, { vpcId: props.vpcId, description }),
        allow: (to, from, port, description) => to.connections.allowFrom(from, port, description),
        warn: (warnings) => warn(this, warnings),
        // Apply-time values (hosts, ARNs) are Terraform expressions inside the JSON string; ports are literals.
        manifestText: (plan) => JSON.stringify(plan.manifest),
        manifestParameter: (manifest, description) => {
          made.manifestParameter = new SsmParameter(this, 'Manifest', {
            // Terraform requires the name; a 50-character path-derived segment (the broker-name rule) keeps it readable.
            name:
              props.manifestParameterName ??
              `/celery-tls-constructs/${physicalNameFromPath(
                this.node.scopes.slice(1).map((s) => s.node.id),
                NAME_RULES.brokerName,
              )}/manifest`,
            description,
            type: 'String',
            value: manifest,
            tier: 'Standard',
          });
          return made.manifestParameter.name;
        },
        output: (o) => new TerraformOutput(this, o.id, { value: o.value, description: o.description }),
        outputsFile: 'terraform output -json file',
        monitoring: (plan) => {
          made.monitoring = createMonitoring(
            this,
            plan,
            {
              vpcId: props.vpcId,
              subnetIds: onePerAvailabilityZone(props.subnets).map((s) => s.subnetId),
              users: made.rabbitMqUsers,
            },
            props.monitoring,
          );
        },
      },
      props,
    );
    this.assembled = assembled;
    this.made = made;
  }

  /** Lets a producer (a security group of yours, `{ securityGroupId }`) reach the broker and the result backend. */
  public allowProducer(peer: ISecurityGroupPeer | IConnectable): void {
    this.allowPeer(peer, NetworkRole.PRODUCERS, 'Celery producer');
  }

  /** Lets a worker (a security group of yours, `{ securityGroupId }`) reach the broker and the result backend. */
  public allowWorker(peer: ISecurityGroupPeer | IConnectable): void {
    this.allowPeer(peer, NetworkRole.WORKERS, 'Celery worker');
  }

  /** The Celery settings of a role: the same endpoints, that role's broker user and secret. */
  public celeryConfigFor(role: CeleryRole): CeleryConfig {
    return this.assembled.plan.configs[role];
  }

  /**
   * IAM statements that let a role (e.g. an ECS task execution role) read one Celery role's broker and result
   * backend credentials: each secret by ARN, and kms:Decrypt through Secrets Manager. Never the broker admin's. The
   * counterpart of the CDK's `grantReadCredentials`.
   * @param role @default CeleryRole.WORKER
   */
  public credentialsReadStatements(role: CeleryRole = CeleryRole.WORKER): IamStatementModel[] {
    return [
      ...(this.rabbitMqUsers?.readStatements(role) ?? []),
      ...(this.brokerCache?.credentialsReadStatements(role) ?? []),
      ...(this.resultBackendCache?.credentialsReadStatements(role) ?? []),
      ...(this.resultBackendDatabase?.credentialsReadStatements(role) ?? []),
      ...(this.securityKeys?.readStatements(role) ?? []),
    ];
  }

  /** `credentialsReadStatements(role)` as a JSON policy document, for `aws_iam_role_policy.policy`. @param role @default CeleryRole.WORKER */
  public credentialsReadPolicyJson(role: CeleryRole = CeleryRole.WORKER): string {
    return policyDocument(this.credentialsReadStatements(role));
  }

  /**
   * Lets a role of yours read one Celery role's credentials: an `aws_iam_role_policy` on it (id
   * `ReadCredentials<role name>`, with `Producer` appended for the producer role) with
   * `credentialsReadStatements(role)`, which it returns.
   * @param role @default CeleryRole.WORKER
   */
  public grantReadCredentials(grantee: IRoleGrantee, role: CeleryRole = CeleryRole.WORKER): IamStatementModel[] {
    const statements = this.credentialsReadStatements(role);
    // The worker's id is the one of earlier releases (no suffix), so existing policies keep their address.
    const policyId = `ReadCredentials${stableIdPart(this, grantee.name)}${role === CeleryRole.WORKER ? '' : 'Producer'}`;
    if (!this.node.tryFindChild(policyId))
      new IamRolePolicy(this, policyId, { role: grantee.name, policy: policyDocument(statements) });
    return statements;
  }

  /**
   * The Celery environment of a role's ECS container: the non-secret settings as `environment` and the secrets as
   * `secrets` read by ECS from Secrets Manager (`<arn>:<field>::`; the whole broker credentials secret as
   * `CELERY_TLS_BROKER_CREDENTIALS`, a client certificate as `..._CLIENT_CERT`). Spread it into a container definition
   * and give the execution role `credentialsReadPolicyJson(role)`; the service still needs `producersSecurityGroup`
   * or `workersSecurityGroup`.
   * @param role @default CeleryRole.WORKER
   */
  public containerEnvironment(role: CeleryRole = CeleryRole.WORKER): CeleryContainerEnvironment {
    const { environment, secrets } = containerEnvironmentFor(this.assembled, role);
    return {
      environment: Object.entries(environment).map(([name, value]) => ({ name, value })),
      secrets: secrets.map(({ name, secret, field }) => ({
        name,
        valueFrom: field === undefined ? secret.secretArn : ecsSecretValueFrom(secret.secretArn, field),
      })),
    };
  }

  private allowPeer(peer: ISecurityGroupPeer | IConnectable, role: NetworkRole, label: string): void {
    for (const { rule, target } of peerRules(this.assembled.plan, role))
      target.connections.allowFrom(peer, rule.port, ruleDescription(label, rule));
  }
}
