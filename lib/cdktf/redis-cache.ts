import { Construct } from 'constructs';
import { redisCeleryEndpoint } from '../core/celery/endpoints';
import { CeleryEndpoint } from '../core/celery/model';
import { DEFAULTS } from '../core/defaults';
import { heldChoice } from '../core/choices';
import type { RedisAuthChoice } from '../core/choices';
import { IamStatementModel, readSecretStatements } from '../core/iam';
import { NAME_RULES } from '../core/names';
import { planCache } from '../core/plan';
import { redisUsersRotationPlan } from '../core/identities';
import { CeleryRole, userServing } from '../core/rabbitmq-users';
import type { RedisRbacSpec } from '../core/redis-rbac';
import { WIRE } from '../core/wire';
import { RedisCacheOptions, RedisCacheSpec } from '../core/redis';
import { physicalNameFromPath, TerraformRedisOptions, TerraformRedisSpec } from '../core/terraform';
import { CDKTF_CONTEXT, applyIssues, awsFacts, createKey, createLogGroup } from './common';
import type { PlacementProps, SecretSource } from './common';
import { CelerySecurityGroup, Connections, IConnectable } from './connections';
import { RedisAuth } from './credentials';
import type { RedisRbacUser } from './credentials';
import { createLibraryFunction, rotateSecrets } from './functions';
import type { LibraryFunction } from './functions';
import { CloudwatchLogGroup, ElasticacheParameterGroup, ElasticacheReplicationGroup } from './provider';
import { ElasticacheSubnetGroup, ElasticacheUserGroup, KmsKey } from './provider';
import type { IRedisCacheContract } from '../core/contracts';
import type { TerraformTarget } from './target';

/** Props of the Terraform `RedisCache`; with Multi-AZ, `subnets` must span at least two Availability Zones. */
export interface RedisCacheProps extends RedisCacheOptions, TerraformRedisOptions, PlacementProps {
  /**
   * How clients authenticate: an AUTH token generated at apply time into a new secret, one read from an existing
   * secret, or ElastiCache RBAC users (`RedisAuth.rbacUsers()`).
   * @default RedisAuth.generatedToken()
   */
  readonly authToken?: RedisAuth;
  /**
   * ARN of the key for at-rest encryption, the AUTH-token secret and the log groups. Create-only on ElastiCache.
   * @default - a new customer-managed key with rotation, which Terraform refuses to destroy
   */
  readonly encryptionKeyArn?: string;
  /**
   * `prevent_destroy` on the replication group. Without it, destroying the group takes a final snapshot
   * (`final_snapshot_identifier` "<replication group id>-final").
   * @default false
   */
  readonly preventDestroy?: boolean;
}

/**
 * A TLS-only Valkey/Redis OSS replication group for Celery (broker or result backend) on Terraform: cluster mode
 * disabled, `transit_encryption_mode` required, at-rest encryption with a customer-managed key, an AUTH token generated
 * at apply time into Secrets Manager, Multi-AZ with automatic failover, `maxmemory-policy noeviction`, slow and
 * engine logs, snapshots.
 */
export class RedisCache extends Construct implements IConnectable, IRedisCacheContract<TerraformTarget> {
  /** Who may reach the cache (TLS on its port by default). */
  public readonly connections: Connections;
  /** The settings it was made with, every default applied. */
  public readonly spec: RedisCacheSpec;
  /** The Terraform-only settings (`auth_token_update_strategy`, generated token version). */
  public readonly terraformSpec: TerraformRedisSpec;
  /** ARN of the key for at-rest encryption, the AUTH-token secret and the log groups: given or created here. */
  public readonly encryptionKeyArn: string;
  /** The key created here, unless `encryptionKeyArn` was given. */
  public readonly encryptionKey?: KmsKey;
  /** The secret holding the AUTH token; undefined for RBAC users and an unsafe plaintext cache. */
  public readonly authTokenSecret?: SecretSource;
  /** With `RedisAuth.rbacUsers()`: the users' spec. */
  public readonly rbacSpec?: RedisRbacSpec;
  /** With `RedisAuth.rbacUsers()`: the users. */
  public readonly rbacUsers?: readonly RedisRbacUser[];
  /** With `RedisAuth.rbacUsers()`: their group. */
  public readonly userGroup?: ElasticacheUserGroup;
  /** With `RedisAuth.rbacUsers()`: the function that rotates their passwords. */
  public readonly rotationFunction?: LibraryFunction;
  /** The JSON field of the token in `authTokenSecret`. */
  public readonly authTokenSecretField: string;
  /** The cache's own group: ingress on its port from allowed peers only, no egress. */
  public readonly securityGroup: CelerySecurityGroup;
  /** The replication group id (`aws_elasticache_replication_group.id`). */
  public readonly replicationGroupId: string;
  /** The primary endpoint: connect by this DNS name (the certificate is issued for it). */
  public readonly primaryEndpointAddress: string;
  /** The reader endpoint's DNS name, which spreads connections over the replicas. */
  public readonly readerEndpointAddress: string;
  /** The TCP port (a literal number). */
  public readonly port: number;
  /** The log group that receives the slow log (JSON), encrypted with the key and kept on destroy. */
  public readonly slowLogGroup: CloudwatchLogGroup;
  /** The log group that receives the engine log (JSON), encrypted with the key and kept on destroy. */
  public readonly engineLogGroup: CloudwatchLogGroup;
  /** The `aws_elasticache_replication_group` resource. */
  public readonly resource: ElasticacheReplicationGroup;

  constructor(scope: Construct, id: string, props: RedisCacheProps) {
    super(scope, id);
    const auth = props.authToken ?? RedisAuth.generatedToken();
    const subnets = { prop: 'subnets', facts: props.subnets };
    // The Terraform settings are checked too. The RBAC ids are unique in the region: derived from the path (stack included).
    const input = {
      props,
      auth: heldChoice<RedisAuthChoice<unknown>>(auth),
      subnets,
      rbacIdPrefix: physicalNameFromPath(
        this.node.scopes.slice(1).map((s) => s.node.id),
        NAME_RULES.rbacIdPrefix,
      ),
      terraform: true,
    };
    const plan = applyIssues(this, planCache(input, CDKTF_CONTEXT));
    const spec = plan.spec;
    this.spec = spec;
    this.terraformSpec = plan.terraform!;
    this.port = spec.port;

    if (props.encryptionKeyArn !== undefined) {
      this.encryptionKeyArn = props.encryptionKeyArn;
    } else {
      this.encryptionKey = createKey(
        this,
        'Key',
        `${this.node.path}: ElastiCache at-rest encryption, AUTH token secret and logs`,
      );
      this.encryptionKeyArn = this.encryptionKey.arn;
    }

    this.securityGroup = new CelerySecurityGroup(this, 'SecurityGroup', {
      vpcId: props.vpcId,
      description: `${spec.engine} replication group: TLS on ${spec.port}/tcp from allowed Celery clients only`,
      defaultPort: spec.port,
    });
    this.connections = this.securityGroup.connections;

    // Terraform requires the id (CloudFormation generates one); the subnet and parameter groups share it.
    const groupId =
      spec.replicationGroupId ??
      physicalNameFromPath(
        this.node.scopes.slice(1).map((s) => s.node.id),
        NAME_RULES.replicationGroupId,
      );
    const subnetGroup = new ElasticacheSubnetGroup(this, 'SubnetGroup', {
      name: groupId,
      description: `Dedicated subnets of ${this.node.path}`,
      subnetIds: plan.subnets.map((s) => s.subnetId),
    });
    const parameterGroup = new ElasticacheParameterGroup(this, 'ParameterGroup', {
      // The family is create-only: a new name per family lets an engine upgrade create the new group first.
      name: `${groupId}-${spec.parameterGroupFamily}`,
      family: spec.parameterGroupFamily,
      description: `${this.node.path}: maxmemory-policy ${DEFAULTS.redis.maxmemoryPolicy} for Celery`,
      parameter: Object.entries(spec.parameters).map(([name, value]) => ({ name, value })),
      lifecycle: { createBeforeDestroy: true },
    });

    const bound = auth.bind(this, plan, this.encryptionKeyArn);
    this.authTokenSecret = bound.authTokenSecret;
    this.authTokenSecretField = bound.authTokenSecretField;
    this.rbacSpec = plan.rbac && bound.rbacUsers ? plan.rbac : undefined;
    this.rbacUsers = bound.rbacUsers;
    this.userGroup = bound.userGroup;

    this.slowLogGroup = createLogGroup(this, 'SlowLog', this.encryptionKeyArn);
    this.engineLogGroup = createLogGroup(this, 'EngineLog', this.encryptionKeyArn);
    const logGroups: Record<string, CloudwatchLogGroup> = {
      'slow-log': this.slowLogGroup,
      'engine-log': this.engineLogGroup,
    };
    const preventDestroy = props.preventDestroy ?? DEFAULTS.terraform.cachePreventDestroy;

    this.resource = new ElasticacheReplicationGroup(this, 'Resource', {
      replicationGroupId: groupId,
      description: spec.description ?? `Celery ${spec.engine} for ${this.node.path}`,
      engine: spec.engine,
      engineVersion: spec.engineVersion,
      nodeType: spec.nodeType,
      numCacheClusters: spec.numCacheClusters,
      port: spec.port,
      clusterMode: spec.clusterMode,
      subnetGroupName: subnetGroup.name,
      parameterGroupName: parameterGroup.name,
      securityGroupIds: [this.securityGroup.securityGroupId],
      transitEncryptionEnabled: spec.transitEncryptionEnabled,
      transitEncryptionMode: spec.transitEncryptionMode,
      // Provider 6.x types these two as strings ("true"/"false").
      atRestEncryptionEnabled: String(spec.atRestEncryptionEnabled),
      kmsKeyId: this.encryptionKeyArn,
      authToken: this.authTokenSecret?.value,
      authTokenUpdateStrategy: plan.terraform!.authTokenUpdateStrategy,
      userGroupIds: this.userGroup ? [this.userGroup.userGroupId] : undefined,
      multiAzEnabled: spec.multiAzEnabled,
      automaticFailoverEnabled: spec.automaticFailoverEnabled,
      snapshotRetentionLimit: spec.snapshotRetentionLimit,
      snapshotWindow: spec.snapshotWindow,
      maintenanceWindow: spec.preferredMaintenanceWindow,
      autoMinorVersionUpgrade: String(spec.autoMinorVersionUpgrade),
      finalSnapshotIdentifier: `${groupId}-final`,
      logDeliveryConfiguration: spec.logTypes.map((logType) => ({
        destination: logGroups[logType].name,
        destinationType: 'cloudwatch-logs',
        logFormat: 'json',
        logType,
      })),
      lifecycle: preventDestroy ? { preventDestroy: true } : undefined,
    });

    this.replicationGroupId = this.resource.id;
    this.primaryEndpointAddress = this.resource.primaryEndpointAddress;
    this.readerEndpointAddress = this.resource.readerEndpointAddress;
    if (this.rbacUsers && this.rbacSpec) this.rotationFunction = this.rotateUsers(this.rbacSpec, this.rbacUsers);
  }

  /**
   * Rotation of the RBAC user secrets: a function outside the VPC (it calls only the ElastiCache and Secrets Manager
   * APIs, never the cache) that gives each user the new and the current password, then makes the new one current.
   */
  private rotateUsers(rbac: RedisRbacSpec, users: readonly RedisRbacUser[]): LibraryFunction {
    const plan = redisUsersRotationPlan({
      rbac,
      secretArns: users.map((u) => u.secret.secretArn),
      userArns: users.map((u) => u.resource.arn),
      keyArn: this.encryptionKeyArn,
      region: awsFacts(this).region,
    });
    const fn = createLibraryFunction(this, plan.function, { keyArn: this.encryptionKeyArn });
    // The first rotation runs when the schedule is created: the user must be in the cache's group by then.
    rotateSecrets(
      fn,
      users.map((u) => ({ scope: u.secret, secretArn: u.secret.secretArn })),
      plan.schedule,
      [this.resource],
    );
    return fn;
  }

  /** The user serving a role (RBAC only). */
  public rbacUserFor(role: CeleryRole): RedisRbacUser | undefined {
    return this.rbacUsers ? userServing(this.rbacUsers, role) : undefined;
  }

  /** The secret a role's clients read: its RBAC user's, or the AUTH token. */
  public secretFor(role: CeleryRole = CeleryRole.WORKER): SecretSource | undefined {
    return this.rbacUserFor(role)?.secret ?? this.authTokenSecret;
  }

  /**
   * IAM statements that let a role read a role's credentials (its RBAC user's secret, or the AUTH token): the secret
   * by ARN, and kms:Decrypt through Secrets Manager. @param role @default CeleryRole.WORKER
   */
  public credentialsReadStatements(role: CeleryRole = CeleryRole.WORKER): IamStatementModel[] {
    const secret = this.secretFor(role);
    if (!secret) return [];
    return readSecretStatements({
      secretArn: secret.secretArn,
      keyArn: secret.encryptionKeyArn,
      region: awsFacts(this).region,
    });
  }

  /**
   * IAM statements that let a role read the AUTH token (the secret by ARN, and kms:Decrypt through Secrets Manager);
   * the Terraform counterpart of `grantReadAuthToken`. Empty with RBAC users.
   */
  public authTokenReadStatements(): IamStatementModel[] {
    return this.authTokenSecret ? this.credentialsReadStatements() : [];
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
