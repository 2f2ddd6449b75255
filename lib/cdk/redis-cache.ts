import { Duration, Fn, Names, RemovalPolicy, Stack } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as elasticache from 'aws-cdk-lib/aws-elasticache';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import { Construct, IConstruct } from 'constructs';
import { redisCeleryEndpoint } from '../core/celery/endpoints';
import { CeleryEndpoint } from '../core/celery/model';
import { DEFAULTS } from '../core/defaults';
import { CeleryRole, userServing } from '../core/rabbitmq-users';
import { heldChoice } from '../core/choices';
import type { RedisAuthChoice } from '../core/choices';
import { IRedisCacheContract } from '../core/contracts';
import { planCache } from '../core/plan';
import { RedisCacheOptions, RedisCacheSpec, resolveRedisCacheSpec } from '../core/redis';
import { redisUsersRotationPlan } from '../core/identities';
import { RedisRbacSpec } from '../core/redis-rbac';
import { CDK_CONTEXT, applyIssues, createKey, defaultRemovalPolicy, createLogGroup, defaultSubnets } from './common';
import { grantSecretRead, subnetFacts } from './common';
import type { PlacementProps } from './common';
import { RedisAuth, RedisRbacUser } from './credentials';
import { createLibraryFunction } from './functions';
import { CdkTarget } from './target';
import { WIRE } from '../core/wire';

/** Props of `RedisCache`; with Multi-AZ, `vpcSubnets` must span at least two Availability Zones. */
export interface RedisCacheProps extends RedisCacheOptions, PlacementProps {
  /**
   * How clients authenticate: a generated AUTH token, an existing secret's token, or RBAC users.
   * @default RedisAuth.generatedToken()
   */
  readonly authToken?: RedisAuth;
  /**
   * Key for at-rest encryption, the AUTH-token secret and the log groups. Create-only on ElastiCache.
   * @default - a new customer-managed key with rotation, retained on delete
   */
  readonly encryptionKey?: kms.IKey;
  /**
   * What happens to the replication group when it leaves the stack.
   * @default RemovalPolicy.SNAPSHOT
   */
  readonly removalPolicy?: RemovalPolicy;
}

/** A replication group Celery can use: a `RedisCache`, or one made elsewhere (`RedisCache.fromCacheAttributes`). */
export interface IRedisCache extends IRedisCacheContract<CdkTarget>, ec2.IConnectable, IConstruct {
  /** The JSON field of the token in `authTokenSecret`. */
  readonly authTokenSecretField: string;
  /** The secret a role's clients read: its RBAC user's, or the AUTH token. */
  secretFor(role?: CeleryRole): secretsmanager.ISecret | undefined;
  /** Lets the grantee read a role's credentials (its RBAC user's secret, or the AUTH token). */
  grantReadCredentials(grantee: iam.IGrantable, role?: CeleryRole): iam.Grant;
}

/** A replication group made elsewhere, for `RedisCache.fromCacheAttributes`; it must be TLS-only with an AUTH token. */
export interface RedisCacheAttributes extends Pick<RedisCacheOptions, 'engine' | 'engineVersion' | 'port'> {
  /** The primary endpoint's DNS name. */
  readonly primaryEndpointAddress: string;
  /** The cache's security group; rules are added to it, so import it mutable. */
  readonly securityGroup: ec2.ISecurityGroup;
  /** The JSON secret with the AUTH token. */
  readonly authTokenSecret: secretsmanager.ISecret;
  /** The token's field in the secret. @default "password" */
  readonly authTokenSecretField?: string;
}

/** What a library-made and an imported cache share: the per-role credentials, grants and Celery endpoints. */
export abstract class RedisCacheBase extends Construct implements IRedisCache {
  /** Who may reach the cache on its TLS port. */
  public abstract readonly connections: ec2.Connections;
  /** The settings it was made with, every default applied. */
  public abstract readonly spec: RedisCacheSpec;
  /** The primary endpoint: connect by this DNS name (the certificate is issued for it). */
  public abstract readonly primaryEndpointAddress: string;
  /** The TCP port (a literal number). */
  public abstract readonly port: number;
  /** JSON secret with the AUTH token in `authTokenSecretField`; undefined for RBAC users and an unsafe plaintext cache. */
  public abstract readonly authTokenSecret?: secretsmanager.ISecret;
  /** The JSON field of the token in `authTokenSecret`. */
  public abstract readonly authTokenSecretField: string;
  /** With `RedisAuth.rbacUsers()`: the users. */
  public abstract readonly rbacUsers?: readonly RedisRbacUser[];

  /** The user serving a role (RBAC only). */
  public rbacUserFor(role: CeleryRole): RedisRbacUser | undefined {
    return this.rbacUsers ? userServing(this.rbacUsers, role) : undefined;
  }

  /** The secret a role's clients read: its RBAC user's, or the AUTH token. */
  public secretFor(role: CeleryRole = CeleryRole.WORKER): secretsmanager.ISecret | undefined {
    return this.rbacUserFor(role)?.secret ?? this.authTokenSecret;
  }

  /** Lets the grantee read a role's credentials (its RBAC user's secret, or the AUTH token). */
  public grantReadCredentials(grantee: iam.IGrantable, role: CeleryRole = CeleryRole.WORKER): iam.Grant {
    const secret = this.secretFor(role);
    if (!secret) return iam.Grant.drop(grantee, 'plaintext cache without credentials');
    return grantSecretRead(this, grantee, secret);
  }

  /** Lets the grantee read the AUTH token (the secret by ARN, and kms:Decrypt through Secrets Manager). */
  public grantReadAuthToken(grantee: iam.IGrantable): iam.Grant {
    if (!this.authTokenSecret) return iam.Grant.drop(grantee, 'plaintext cache without an AUTH token');
    return grantSecretRead(this, grantee, this.authTokenSecret);
  }

  /** The Celery endpoint of this cache for a role (a rediss:// URL is built from it). @param options.role @default CeleryRole.WORKER */
  public celeryEndpoint(options: { db?: number; role?: CeleryRole } = {}): CeleryEndpoint {
    const user = this.rbacUserFor(options.role ?? CeleryRole.WORKER);
    return redisCeleryEndpoint(this.spec, this.node.path, {
      host: this.primaryEndpointAddress,
      secretArn: user ? user.secret.secretArn : this.authTokenSecret?.secretArn,
      secretField: user ? WIRE.secretPasswordField : this.authTokenSecretField,
      db: options.db,
      username: user?.username,
    });
  }
}

/**
 * A TLS-only Valkey/Redis OSS replication group for Celery (broker or result backend): cluster mode disabled,
 * `TransitEncryptionMode: required`, at-rest encryption with a customer-managed key, a generated AUTH token in
 * Secrets Manager, Multi-AZ with automatic failover, `maxmemory-policy noeviction`, slow and engine logs.
 */
export class RedisCache extends RedisCacheBase {
  /**
   * A replication group made elsewhere, to render Celery settings for it and let producers and workers reach it.
   * Its attributes are checked like a new cache's props; AUTH-token caches only.
   */
  public static fromCacheAttributes(scope: Construct, id: string, attrs: RedisCacheAttributes): IRedisCache {
    return new ImportedRedisCache(scope, id, attrs);
  }

  /** Who may reach the cache on its TLS port. */
  public readonly connections: ec2.Connections;
  /** The settings it was made with, every default applied. */
  public readonly spec: RedisCacheSpec;
  /** At-rest encryption, the secrets and the log groups: made here or given. */
  public readonly encryptionKey: kms.IKey;
  /** JSON secret with the AUTH token in `authTokenSecretField`; undefined for RBAC users and an unsafe plaintext cache. */
  public readonly authTokenSecret?: secretsmanager.ISecret;
  /** The JSON field of the token in `authTokenSecret`. */
  public readonly authTokenSecretField: string;
  /** The cache's own group: ingress on its TLS port only, no egress. */
  public readonly securityGroup: ec2.SecurityGroup;
  /** The replication group id (`Ref`). */
  public readonly replicationGroupId: string;
  /** The primary endpoint: connect by this DNS name (the certificate is issued for it). */
  public readonly primaryEndpointAddress: string;
  /** The reader endpoint (replicas). */
  public readonly readerEndpointAddress: string;
  /** The TCP port (a literal number). */
  public readonly port: number;
  /** The slow log's group (CMK-encrypted, retained). */
  public readonly slowLogGroup: logs.ILogGroup;
  /** The engine log's group (CMK-encrypted, retained). */
  public readonly engineLogGroup: logs.ILogGroup;
  /** The L1 resource, for inspection; escape hatches that weaken it are what the encryption guard catches. */
  public readonly resource: elasticache.CfnReplicationGroup;
  /** With `RedisAuth.rbacUsers()`: the users' spec. */
  public readonly rbacSpec?: RedisRbacSpec;
  /** With `RedisAuth.rbacUsers()`: the users. */
  public readonly rbacUsers?: readonly RedisRbacUser[];
  /** With `RedisAuth.rbacUsers()`: their group. */
  public readonly userGroup?: elasticache.CfnUserGroup;
  /** With `RedisAuth.rbacUsers()`: the function that rotates their passwords. */
  public readonly rotationFunction?: lambda.Function;

  constructor(scope: Construct, id: string, props: RedisCacheProps) {
    super(scope, id);
    const auth = props.authToken ?? RedisAuth.generatedToken();
    // The RBAC users' and group's ids are unique per cache: they come from its path.
    const rbacIdPrefix = Names.uniqueResourceName(this, { maxLength: 30 });
    const facts = subnetFacts(props.vpc, props.vpcSubnets ?? defaultSubnets(props.vpc));
    const input = {
      props,
      auth: heldChoice<RedisAuthChoice<unknown>>(auth),
      subnets: { prop: 'vpcSubnets', facts },
      rbacIdPrefix,
    };
    const plan = applyIssues(this, planCache(input, CDK_CONTEXT));
    const spec = plan.spec;
    this.spec = spec;
    this.port = spec.port;

    this.encryptionKey =
      props.encryptionKey ??
      createKey(this, 'Key', `${this.node.path}: ElastiCache at-rest encryption, AUTH token secret and logs`);

    this.securityGroup = new ec2.SecurityGroup(this, 'SecurityGroup', {
      vpc: props.vpc,
      description: `${spec.engine} replication group: TLS on ${spec.port}/tcp from allowed Celery clients only`,
      allowAllOutbound: false,
    });
    this.connections = new ec2.Connections({
      securityGroups: [this.securityGroup],
      defaultPort: ec2.Port.tcp(spec.port),
    });

    const subnetGroup = new elasticache.CfnSubnetGroup(this, 'SubnetGroup', {
      description: `Dedicated subnets of ${this.node.path}`,
      subnetIds: plan.subnets.map((s) => s.subnetId),
    });
    const parameterGroup = new elasticache.CfnParameterGroup(this, 'ParameterGroup', {
      cacheParameterGroupFamily: spec.parameterGroupFamily,
      description: `${this.node.path}: maxmemory-policy ${DEFAULTS.redis.maxmemoryPolicy} for Celery`,
      properties: spec.parameters,
    });

    const bound = auth.bind(this, plan, this.encryptionKey);
    this.authTokenSecretField = bound.authTokenSecretField;
    this.authTokenSecret = bound.authTokenSecret;
    this.rbacSpec = plan.rbac && bound.rbacUsers ? plan.rbac : undefined;
    this.rbacUsers = bound.rbacUsers;
    this.userGroup = bound.userGroup;

    this.slowLogGroup = createLogGroup(this, 'SlowLog', this.encryptionKey);
    this.engineLogGroup = createLogGroup(this, 'EngineLog', this.encryptionKey);
    const logGroups: Record<string, logs.ILogGroup> = {
      'slow-log': this.slowLogGroup,
      'engine-log': this.engineLogGroup,
    };

    this.resource = new elasticache.CfnReplicationGroup(this, 'Resource', {
      replicationGroupDescription: spec.description ?? `Celery ${spec.engine} for ${this.node.path}`,
      replicationGroupId: spec.replicationGroupId,
      engine: spec.engine,
      engineVersion: spec.engineVersion,
      cacheNodeType: spec.nodeType,
      numCacheClusters: spec.numCacheClusters,
      port: spec.port,
      clusterMode: spec.clusterMode,
      cacheSubnetGroupName: subnetGroup.ref,
      cacheParameterGroupName: parameterGroup.ref,
      securityGroupIds: [this.securityGroup.securityGroupId],
      transitEncryptionEnabled: spec.transitEncryptionEnabled,
      transitEncryptionMode: spec.transitEncryptionMode,
      atRestEncryptionEnabled: spec.atRestEncryptionEnabled,
      kmsKeyId: this.encryptionKey.keyArn,
      authToken: this.authTokenSecret?.secretValueFromJson(this.authTokenSecretField).unsafeUnwrap(),
      userGroupIds: this.userGroup ? [this.userGroup.ref] : undefined,
      multiAzEnabled: spec.multiAzEnabled,
      automaticFailoverEnabled: spec.automaticFailoverEnabled,
      snapshotRetentionLimit: spec.snapshotRetentionLimit,
      snapshotWindow: spec.snapshotWindow,
      preferredMaintenanceWindow: spec.preferredMaintenanceWindow,
      autoMinorVersionUpgrade: spec.autoMinorVersionUpgrade,
      logDeliveryConfigurations: spec.logTypes.map((logType) => ({
        destinationType: 'cloudwatch-logs',
        destinationDetails: { cloudWatchLogsDetails: { logGroup: logGroups[logType].logGroupName } },
        logFormat: 'json',
        logType,
      })),
    });
    this.resource.applyRemovalPolicy(props.removalPolicy ?? defaultRemovalPolicy('cache'));

    this.replicationGroupId = this.resource.ref;
    this.primaryEndpointAddress = this.resource.attrPrimaryEndPointAddress;
    this.readerEndpointAddress = this.resource.attrReaderEndPointAddress;
    if (this.rbacUsers && this.rbacSpec) this.rotationFunction = this.rotateUsers(this.rbacSpec, this.rbacUsers);
  }

  /**
   * Rotation of the RBAC user secrets: a function outside the VPC (it calls only the ElastiCache and Secrets Manager
   * APIs, never the cache) that gives each user the new and the current password, then makes the new one current.
   */
  private rotateUsers(rbac: RedisRbacSpec, users: readonly RedisRbacUser[]): lambda.Function {
    const plan = redisUsersRotationPlan({
      rbac,
      secretArns: users.map((u) => u.secret.secretArn),
      userArns: users.map((u) => u.resource.attrArn),
      keyArn: this.encryptionKey.keyArn,
      region: Stack.of(this).region,
    });
    const { function: fn, policy } = createLibraryFunction(this, plan.function, { key: this.encryptionKey });
    for (const u of users) {
      const schedule = u.secret.addRotationSchedule('Rotation', {
        rotationLambda: fn,
        automaticallyAfter: Duration.days(plan.schedule.days),
      });
      // The first rotation runs when the schedule is created: the user must be in the cache's group by then.
      schedule.node.addDependency(this.resource, policy);
    }
    return fn;
  }

  /**
   * A metric of one node (`AWS/ElastiCache`, dimension CacheClusterId `<id>-00N`); ElastiCache publishes host and
   * engine metrics per node, not per replication group.
   */
  public metric(metricName: string, props: cloudwatch.MetricOptions & { nodeIndex?: number } = {}): cloudwatch.Metric {
    const { nodeIndex, ...options } = props;
    const index = String(nodeIndex ?? 1).padStart(3, '0');
    return new cloudwatch.Metric({
      namespace: 'AWS/ElastiCache',
      metricName,
      dimensionsMap: { CacheClusterId: Fn.join('-', [this.replicationGroupId, index]) },
      period: Duration.minutes(1),
      ...options,
    });
  }

  /** Percentage of memory in use: with `noeviction`, writes fail at 100 %, so alarm well before. */
  public metricDatabaseMemoryUsagePercentage(
    props?: cloudwatch.MetricOptions & { nodeIndex?: number },
  ): cloudwatch.Metric {
    return this.metric('DatabaseMemoryUsagePercentage', { statistic: 'Maximum', ...props });
  }

  /** Average CPU use of the engine thread of one node, in percent (`EngineCPUUtilization`). */
  public metricEngineCpuUtilization(props?: cloudwatch.MetricOptions & { nodeIndex?: number }): cloudwatch.Metric {
    return this.metric('EngineCPUUtilization', { statistic: 'Average', ...props });
  }

  /** Client connections open on one node (`CurrConnections`, maximum over the period). */
  public metricCurrConnections(props?: cloudwatch.MetricOptions & { nodeIndex?: number }): cloudwatch.Metric {
    return this.metric('CurrConnections', { statistic: 'Maximum', ...props });
  }

  /** Should stay 0 (noeviction): anything else means keys were dropped. */
  public metricEvictions(props?: cloudwatch.MetricOptions & { nodeIndex?: number }): cloudwatch.Metric {
    return this.metric('Evictions', { statistic: 'Sum', ...props });
  }
}

/** A cache made elsewhere: its attributes, checked as a new cache's props are. */
class ImportedRedisCache extends RedisCacheBase {
  public readonly connections: ec2.Connections;
  public readonly spec: RedisCacheSpec;
  public readonly primaryEndpointAddress: string;
  public readonly port: number;
  public readonly authTokenSecret: secretsmanager.ISecret;
  public readonly authTokenSecretField: string;
  public readonly rbacUsers?: readonly RedisRbacUser[] = undefined;

  constructor(scope: Construct, id: string, attrs: RedisCacheAttributes) {
    super(scope, id);
    this.spec = applyIssues(
      this,
      resolveRedisCacheSpec(
        { engine: attrs.engine, engineVersion: attrs.engineVersion, port: attrs.port },
        { existingSecret: true },
        CDK_CONTEXT,
      ),
    );
    this.port = this.spec.port;
    this.connections = new ec2.Connections({
      securityGroups: [attrs.securityGroup],
      defaultPort: ec2.Port.tcp(this.port),
    });
    this.primaryEndpointAddress = attrs.primaryEndpointAddress;
    this.authTokenSecret = attrs.authTokenSecret;
    this.authTokenSecretField = attrs.authTokenSecretField ?? WIRE.secretPasswordField;
  }
}
