import { CfnOutput, Stack } from 'aws-cdk-lib';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as ecs from 'aws-cdk-lib/aws-ecs';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import * as ssm from 'aws-cdk-lib/aws-ssm';
import { Construct } from 'constructs';
import { CeleryBrokerFactory, CeleryResultBackendFactory, heldChoice } from '../core/choices';
import type { CeleryBrokerChoice, CeleryResultBackendChoice, RedisAuthChoice } from '../core/choices';
import { CeleryConfig } from '../core/celery/config';
import { ICeleryTransportContract } from '../core/contracts';
import { ruleDescription } from '../core/network';
import { perRole } from '../core/plan';
import { CeleryRole } from '../core/rabbitmq-users';
import { assembleTransport, containerEnvironmentFor, peerRules } from '../core/transport';
import { monitoredCache, monitoredPostgres, monitoredRabbitMq } from '../core/monitoring';
import { createMonitoring } from './monitoring';
import type { CeleryMonitoring, CeleryTransportMonitoringOptions } from './monitoring';
import type { AssembledTransport, CeleryTransportChoices } from '../core/transport';
import { NetworkRole } from '../core/types';
import { CDK_CONTEXT, PlacementProps, defaultSubnets, subnetFacts, warn } from './common';
import { BrokerCredentials, RedisAuth } from './credentials';
import { RabbitMqBroker, RabbitMqBrokerProps } from './rabbitmq-broker';
import { RabbitMqApplicationUsers, RabbitMqApplicationUsersProps } from './rabbitmq-users';
import { PostgresDatabase, PostgresDatabaseProps } from './postgres-database';
import { RedisCache, RedisCacheProps } from './redis-cache';
import { CelerySecurityKeys } from './security-keys';
import { CdkTarget } from './target';

/** The options of `CeleryBroker.rabbitMq()`: the broker's props without placement, and its application users. */
export interface TransportRabbitMqOptions extends Omit<RabbitMqBrokerProps, 'vpc' | 'vpcSubnets'> {
  /** The vhost and the application users Celery logs in as. @default a producer and a worker user on vhost "celery" */
  readonly applicationUsers?: Omit<RabbitMqApplicationUsersProps, 'broker'>;
}

/** The options of `CeleryBroker.redis()` and `CeleryResultBackend.redis()`: a cache's props without placement. */
export type TransportRedisOptions = Omit<RedisCacheProps, 'vpc' | 'vpcSubnets'>;

/** The options of `CeleryResultBackend.postgres()`: a PostgreSQL database's props without placement. */
export type TransportPostgresOptions = Omit<PostgresDatabaseProps, 'vpc' | 'vpcSubnets'>;

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

/** Props of `CeleryTransport`. */
export interface CeleryTransportProps
  extends PlacementProps, CeleryTransportChoices<CeleryBroker, CeleryResultBackend, CeleryTransportMonitoringOptions> {}

/** The children a transport made, by kind. */
type Made = {
  rabbitMqBroker?: RabbitMqBroker;
  rabbitMqUsers?: RabbitMqApplicationUsers;
  brokerCache?: RedisCache;
  resultBackendCache?: RedisCache;
  resultBackendDatabase?: PostgresDatabase;
  manifestParameter?: ssm.StringParameter;
  monitoring?: CeleryMonitoring;
  securityKeys?: CelerySecurityKeys;
};

/**
 * A Celery broker and result backend, TLS only, with segmented security groups for producers and workers, the
 * Celery settings that connect to them, and a manifest (SSM parameter and stack output) without secrets.
 */
export class CeleryTransport extends Construct implements ICeleryTransportContract<CdkTarget> {
  private readonly made: Made;
  private readonly assembled: AssembledTransport<ec2.IConnectable, secretsmanager.ISecret, ec2.SecurityGroup>;

  /** The Amazon MQ broker (with `CeleryBroker.rabbitMq()`). */
  public get rabbitMqBroker(): RabbitMqBroker | undefined {
    return this.made.rabbitMqBroker;
  }

  /** The vhost and application users on the RabbitMQ broker (Celery never logs in as the admin). */
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
  public get producersSecurityGroup(): ec2.SecurityGroup {
    return this.assembled.producersSecurityGroup;
  }

  /** Attach to worker services. Reaches the broker and backend TLS ports only. */
  public get workersSecurityGroup(): ec2.SecurityGroup {
    return this.assembled.workersSecurityGroup;
  }

  /**
   * The workers' Celery settings; host names are deploy-time values, so the Python renders read them from the
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
  public get manifestParameter(): ssm.StringParameter {
    return this.made.manifestParameter!;
  }

  constructor(scope: Construct, id: string, props: CeleryTransportProps) {
    super(scope, id);
    const placement = { vpc: props.vpc, vpcSubnets: props.vpcSubnets };
    const made: Made = {};
    const auth = (o: TransportRedisOptions) =>
      heldChoice<RedisAuthChoice<unknown>>(o.authToken ?? RedisAuth.generatedToken());
    const assembled = assembleTransport<
      TransportRabbitMqOptions,
      TransportRedisOptions,
      ec2.IConnectable,
      secretsmanager.ISecret,
      ec2.SecurityGroup,
      TransportPostgresOptions
    >(
      {
        ctx: CDK_CONTEXT,
        path: this.node.path,
        subnets: { prop: 'vpcSubnets', facts: subnetFacts(props.vpc, props.vpcSubnets ?? defaultSubnets(props.vpc)) },
        choices: {
          auth,
          credentials: (o) => heldChoice(o.adminCredentials ?? BrokerCredentials.generated()),
          certificates: (o) => (o.clientCertificates ? heldChoice(o.clientCertificates) : undefined),
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
                        name: u.certificateSecret.secretName,
                        keyArn: users.encryptionKey.keyArn,
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
          new ec2.SecurityGroup(this, groupId, { vpc: props.vpc, description, allowAllOutbound: false }),
        allow: (to, from, port, description) => to.connections.allowFrom(from, ec2.Port.tcp(port), description),
        warn: (warnings) => warn(this, warnings),
        manifestText: (plan) => Stack.of(this).toJsonString(plan.manifest),
        manifestParameter: (manifest, description) => {
          const parameter = new ssm.StringParameter(this, 'Manifest', {
            parameterName: props.manifestParameterName,
            description,
            stringValue: manifest,
            tier: ssm.ParameterTier.STANDARD,
          });
          made.manifestParameter = parameter;
          return parameter.parameterName;
        },
        output: (o) => new CfnOutput(this, o.id, { value: o.value, description: o.description }),
        outputsFile: 'cdk outputs file',
        monitoring: (plan) => {
          made.monitoring = createMonitoring(
            this,
            plan,
            { vpc: props.vpc, vpcSubnets: props.vpcSubnets ?? defaultSubnets(props.vpc), users: made.rabbitMqUsers },
            props.monitoring,
          );
        },
      },
      props,
    );
    this.assembled = assembled;
    this.made = made;
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
    return this.assembled.plan.configs[role];
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
      this.resultBackendDatabase?.grantReadCredentials(grantee, role),
      this.securityKeys?.grantRead(grantee, role),
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
    const { environment, secrets } = containerEnvironmentFor(this.assembled, role);
    for (const [name, value] of Object.entries(environment)) container.addEnvironment(name, value);
    for (const { name, secret, field } of secrets)
      container.addSecret(name, ecs.Secret.fromSecretsManager(secret, field));
  }

  private allowPeer(peer: ec2.IConnectable, role: NetworkRole, label: string): void {
    for (const { rule, target } of peerRules(this.assembled.plan, role))
      target.connections.allowFrom(peer, ec2.Port.tcp(rule.port), ruleDescription(label, rule));
  }
}
