import { Construct } from 'constructs';
import { CeleryEndpoint } from '../core/celery/model';
import { DEFAULTS } from '../core/defaults';
import { NAME_RULES } from '../core/names';
import { IamStatementModel, readSecretStatements } from '../core/iam';
import {
  PostgresBackendOptions,
  PostgresBackendSpec,
  PostgresDatabaseKind,
  planPostgresDatabase,
  postgresCeleryEndpoint,
  postgresLogGroupName,
  postgresInstanceIdentifiers,
  postgresRoleFor,
} from '../core/postgres';
import { CeleryRole } from '../core/rabbitmq-users';
import { physicalNameFromPath } from '../core/terraform';
import { CDKTF_CONTEXT, GeneratedSecret, applyIssues, awsFacts, createKey, createLogGroup } from './common';
import type { PlacementProps } from './common';
import { CelerySecurityGroup, Connections, IConnectable } from './connections';
import { CloudwatchLogGroup, DbInstance, DbParameterGroup, DbSubnetGroup, KmsKey } from './provider';
import { Fn, LambdaInvocation, RdsCluster, RdsClusterInstance, RdsClusterParameterGroup, Token } from './provider';
import { VpcEndpoint, VpcEndpointPolicy, VpcSecurityGroupIngressRule } from './provider';
import type { ITerraformDependable, SecretsmanagerSecretRotation } from './provider';
import type { CelerySecurityGroupRule, ISecurityGroupPeer } from './connections';
import { createLibraryFunction, rotateSecrets } from './functions';
import type { LibraryFunction } from './functions';
import { postgresUsersFunctionPlans, postgresUsersResourceProperties } from '../core/identities';
import { PORTS } from '../core/ports';

/** A PostgreSQL database made elsewhere, for `existingDatabase`. */
export interface ExistingPostgresDatabase {
  /** The writer endpoint's DNS name (the server certificate is issued for it). */
  readonly endpointAddress: string;
  /** Its port. @default 5432 */
  readonly port?: number;
  /** ARN of the master user's secret (`{"username", "password"}`), for the users function. */
  readonly masterSecretArn: string;
  /** ARN of the key of the master secret, for `kms:Decrypt`. @default - none named (an AWS-managed key) */
  readonly masterSecretKeyArn?: string;
  /** The database's security group: the Celery rules on its port are added to it. */
  readonly securityGroupId: string;
}

/** Props of the Terraform `PostgresDatabase`. */
export interface PostgresDatabaseProps extends PostgresBackendOptions, PlacementProps {
  /**
   * ARN of the key of the storage, the managed master secret, the role secrets and the log groups. Create-only.
   * @default - a new customer-managed key with rotation, which Terraform refuses to destroy
   */
  readonly encryptionKeyArn?: string;
  /** `prevent_destroy` on the instance or cluster (deletion protection and a final snapshot apply anyway). @default false */
  readonly preventDestroy?: boolean;
  /** A database made elsewhere: only the rules, the Celery roles and their secrets are added. @default - a new database */
  readonly existingDatabase?: ExistingPostgresDatabase;
  /**
   * The security group of an existing Secrets Manager interface endpoint in the VPC with private DNS on: the users
   * function reaches it on 443 (its group gets the ingress rule) and uses the service's default name.
   * @default - a new endpoint without private DNS, reachable only from the users function, whose policy allows only
   * that function's role to read the three secrets
   */
  readonly secretsManagerEndpoint?: ISecurityGroupPeer;
}

/** One Celery login role and its secret. */
export interface PostgresRole {
  /** The PostgreSQL role name. */
  readonly username: string;
  /** The Celery role it serves. */
  readonly role: CeleryRole;
  /** `{"username", "password"}`, generated at apply time, encrypted with the database's key. */
  readonly secret: GeneratedSecret;
}

/**
 * A PostgreSQL result backend for Celery on Terraform: `aws_db_instance` (Multi-AZ) or an Aurora PostgreSQL
 * `aws_rds_cluster` (writer and reader), TLS forced by its parameter group (`rds.force_ssl` 1, TLS 1.2 at least),
 * storage and the RDS-managed master secret encrypted with a customer-managed key, deletion protection, backups and
 * a final snapshot, its logs in encrypted log groups, and one login role per Celery role with its own generated secret.
 */
export class PostgresDatabase extends Construct implements IConnectable {
  /** Who may reach the database on its port. */
  public readonly connections: Connections;
  /** The settings it was made with, every default applied. */
  public readonly spec: PostgresBackendSpec;
  /** ARN of the key of storage, secrets and log groups. */
  public readonly encryptionKeyArn: string;
  /** The key created here, unless `encryptionKeyArn` was given. */
  public readonly encryptionKey?: KmsKey;
  /** The database's own group (undefined for an existing database). */
  public readonly securityGroup?: CelerySecurityGroup;
  /** The writer endpoint: connect by this DNS name. */
  public readonly endpointAddress: string;
  /** The port (a literal number). */
  public readonly port: number;
  /** The DB instance or cluster identifier (empty for an existing database). */
  public readonly databaseIdentifier: string;
  /** ARN of the master user's secret (managed by RDS, or the given one); Celery never reads it. */
  public readonly masterSecretArn: string;
  /** ARN of the master secret's key. */
  public readonly masterSecretKeyArn?: string;
  /** The worker's and the producer's login roles. */
  public readonly roles: readonly PostgresRole[];
  /** The `aws_db_instance` (instance kind). */
  public readonly instance?: DbInstance;
  /** The `aws_rds_cluster` (Aurora). */
  public readonly cluster?: RdsCluster;
  /** The cluster's `aws_rds_cluster_instance`s, the writer first (Aurora; empty otherwise). */
  public readonly clusterInstances: readonly RdsClusterInstance[] = [];
  /** The (cluster) parameter group that forces TLS. */
  public readonly parameterGroup?: DbParameterGroup | RdsClusterParameterGroup;
  /** The log groups RDS exports to, by log type (CMK-encrypted, kept on destroy). */
  public readonly logGroups: Readonly<Record<string, CloudwatchLogGroup>>;
  /** The function, its group and the invocation that make the roles, schema and tables. */
  public readonly users: PostgresUsers;
  /** The VPC of the database and of the users function. */
  public readonly vpcId: string;
  /** The subnets (one per Availability Zone) of the database's subnet group and of the users function. */
  public readonly subnetIds: readonly string[];

  constructor(scope: Construct, id: string, props: PostgresDatabaseProps) {
    super(scope, id);
    const existing = props.existingDatabase;
    this.vpcId = props.vpcId;
    const plan = applyIssues(
      this,
      planPostgresDatabase(
        {
          props,
          existing: existing ? { port: existing.port } : undefined,
          subnets: { prop: 'subnets', facts: props.subnets },
        },
        CDKTF_CONTEXT,
      ),
    );
    const spec = plan.spec;
    this.spec = spec;
    this.port = spec.port;
    this.subnetIds = plan.subnets.map((s) => s.subnetId);
    if (props.encryptionKeyArn !== undefined) {
      this.encryptionKeyArn = props.encryptionKeyArn;
    } else {
      this.encryptionKey = createKey(
        this,
        'Key',
        `${this.node.path}: PostgreSQL storage, master and role secrets, logs`,
      );
      this.encryptionKeyArn = this.encryptionKey.arn;
    }
    const keyArn = this.encryptionKeyArn;
    this.roles = spec.roles.map((r) => ({
      username: r.username,
      role: r.role,
      secret: new GeneratedSecret(this, r.role === CeleryRole.WORKER ? 'WorkerCredentials' : 'ProducerCredentials', {
        shape: r.secret,
        encryptionKeyArn: keyArn,
        version: DEFAULTS.terraform.generatedSecretVersion,
      }),
    }));

    if (existing) {
      // The given group gets the rules; the library makes no group of its own for it.
      const group = new ExistingGroup(this, 'ExistingSecurityGroup', existing.securityGroupId);
      this.connections = new Connections(group as unknown as CelerySecurityGroup, spec.port);
      this.endpointAddress = existing.endpointAddress;
      this.masterSecretArn = existing.masterSecretArn;
      this.masterSecretKeyArn = existing.masterSecretKeyArn;
      this.databaseIdentifier = '';
      this.logGroups = {};
      this.users = new PostgresUsers(this, 'Users', {
        database: this,
        endpoint: props.secretsManagerEndpoint,
        after: [],
      });
      return;
    }

    this.securityGroup = new CelerySecurityGroup(this, 'SecurityGroup', {
      vpcId: props.vpcId,
      description: `PostgreSQL result backend: TLS on ${spec.port}/tcp from allowed Celery clients only`,
      defaultPort: spec.port,
    });
    this.connections = this.securityGroup.connections;

    const identifier =
      spec.databaseIdentifier ??
      physicalNameFromPath(
        this.node.scopes.slice(1).map((s) => s.node.id),
        NAME_RULES.rdsIdentifier,
      );
    this.databaseIdentifier = identifier;
    const logGroups: Record<string, CloudwatchLogGroup> = {};
    for (const logType of spec.logExports)
      logGroups[logType] = createLogGroup(
        this,
        `${logType.charAt(0).toUpperCase()}${logType.slice(1)}Log`,
        keyArn,
        postgresLogGroupName(spec.kind, identifier, logType),
      );
    this.logGroups = logGroups;

    const subnetGroup = new DbSubnetGroup(this, 'SubnetGroup', {
      name: identifier,
      description: `Dedicated subnets of ${this.node.path}`,
      subnetIds: [...this.subnetIds],
    });
    const description = `${this.node.path}: every connection TLS (rds.force_ssl), TLS 1.2 at least`;
    const parameter = Object.entries(spec.parameters).map(([name, value]) => ({
      name,
      value,
      // rds.force_ssl is dynamic; ssl_min_protocol_version needs a reboot on some versions: apply both at the next one.
      applyMethod: 'pending-reboot',
    }));
    const preventDestroy = props.preventDestroy ?? DEFAULTS.terraform.databasePreventDestroy;
    const lifecycle = preventDestroy ? { preventDestroy: true } : undefined;
    const dependsOn = Object.values(logGroups);

    if (spec.kind === PostgresDatabaseKind.AURORA) {
      const parameterGroup = new RdsClusterParameterGroup(this, 'ParameterGroup', {
        // The family is create-only: a new name per family lets an engine upgrade create the new group first.
        name: `${identifier}-${spec.parameterGroupFamily}`,
        family: spec.parameterGroupFamily,
        description,
        parameter,
        lifecycle: { createBeforeDestroy: true },
      });
      this.parameterGroup = parameterGroup;
      const cluster = new RdsCluster(this, 'Resource', {
        clusterIdentifier: identifier,
        engine: spec.engine,
        engineVersion: spec.engineVersion,
        port: spec.port,
        dbSubnetGroupName: subnetGroup.name,
        vpcSecurityGroupIds: [this.securityGroup.securityGroupId],
        dbClusterParameterGroupName: parameterGroup.name,
        storageEncrypted: spec.storageEncrypted,
        kmsKeyId: keyArn,
        masterUsername: spec.masterUsername,
        manageMasterUserPassword: spec.manageMasterUserPassword,
        masterUserSecretKmsKeyId: keyArn,
        iamDatabaseAuthenticationEnabled: spec.iamAuthentication,
        backupRetentionPeriod: spec.backupRetentionDays,
        preferredBackupWindow: spec.backupWindow,
        preferredMaintenanceWindow: spec.maintenanceWindow,
        deletionProtection: spec.deletionProtection,
        copyTagsToSnapshot: spec.copyTagsToSnapshot,
        deleteAutomatedBackups: false,
        enabledCloudwatchLogsExports: [...spec.logExports],
        skipFinalSnapshot: false,
        finalSnapshotIdentifier: `${identifier}-final`,
        dependsOn,
        lifecycle,
      });
      this.cluster = cluster;
      const instances: RdsClusterInstance[] = [];
      for (let n = 1; n <= spec.instanceCount; n++)
        instances.push(
          new RdsClusterInstance(this, n === 1 ? 'Writer' : `Reader${n - 1}`, {
            clusterIdentifier: cluster.id,
            identifier: postgresInstanceIdentifiers(spec, identifier)[n - 1],
            engine: spec.engine,
            engineVersion: spec.engineVersion,
            instanceClass: spec.instanceClass,
            dbSubnetGroupName: subnetGroup.name,
            publiclyAccessible: spec.publiclyAccessible,
            autoMinorVersionUpgrade: spec.autoMinorVersionUpgrade,
            caCertIdentifier: spec.caCertificateIdentifier,
            preferredMaintenanceWindow: spec.maintenanceWindow,
            // The writer first (the first instance made is the writer).
            dependsOn: instances.length ? [instances[0]] : undefined,
          }),
        );
      this.clusterInstances = instances;
      this.endpointAddress = cluster.endpoint;
      this.masterSecretArn = cluster.masterUserSecret.get(0).secretArn;
      this.masterSecretKeyArn = keyArn;
      this.users = new PostgresUsers(this, 'Users', {
        database: this,
        endpoint: props.secretsManagerEndpoint,
        after: instances,
      });
      return;
    }

    const parameterGroup = new DbParameterGroup(this, 'ParameterGroup', {
      name: `${identifier}-${spec.parameterGroupFamily}`,
      family: spec.parameterGroupFamily,
      description,
      parameter,
      lifecycle: { createBeforeDestroy: true },
    });
    this.parameterGroup = parameterGroup;
    this.instance = new DbInstance(this, 'Resource', {
      identifier,
      engine: spec.engine,
      engineVersion: spec.engineVersion,
      instanceClass: spec.instanceClass,
      allocatedStorage: spec.allocatedStorageGiB,
      maxAllocatedStorage: spec.maxAllocatedStorageGiB,
      storageType: spec.storageType,
      storageEncrypted: spec.storageEncrypted,
      kmsKeyId: keyArn,
      multiAz: spec.multiAz,
      port: spec.port,
      dbSubnetGroupName: subnetGroup.name,
      vpcSecurityGroupIds: [this.securityGroup.securityGroupId],
      parameterGroupName: parameterGroup.name,
      username: spec.masterUsername,
      manageMasterUserPassword: spec.manageMasterUserPassword,
      masterUserSecretKmsKeyId: keyArn,
      caCertIdentifier: spec.caCertificateIdentifier,
      publiclyAccessible: spec.publiclyAccessible,
      autoMinorVersionUpgrade: spec.autoMinorVersionUpgrade,
      iamDatabaseAuthenticationEnabled: spec.iamAuthentication,
      backupRetentionPeriod: spec.backupRetentionDays,
      backupWindow: spec.backupWindow,
      maintenanceWindow: spec.maintenanceWindow,
      deletionProtection: spec.deletionProtection,
      copyTagsToSnapshot: spec.copyTagsToSnapshot,
      deleteAutomatedBackups: false,
      enabledCloudwatchLogsExports: [...spec.logExports],
      skipFinalSnapshot: false,
      finalSnapshotIdentifier: `${identifier}-final`,
      dependsOn,
      lifecycle,
    });
    this.endpointAddress = this.instance.address;
    this.masterSecretArn = this.instance.masterUserSecret.get(0).secretArn;
    this.masterSecretKeyArn = keyArn;
    this.users = new PostgresUsers(this, 'Users', {
      database: this,
      endpoint: props.secretsManagerEndpoint,
      after: [this.instance],
    });
  }

  /** The login role serving a Celery role. */
  public roleFor(role: CeleryRole): PostgresRole {
    const username = postgresRoleFor(this.spec, role).username;
    return this.roles.find((r) => r.username === username)!;
  }

  /** The secret a role's clients read. @param role @default CeleryRole.WORKER */
  public secretFor(role: CeleryRole = CeleryRole.WORKER): GeneratedSecret {
    return this.roleFor(role).secret;
  }

  /**
   * IAM statements that let a role read one Celery role's secret: the secret by ARN, and kms:Decrypt through Secrets
   * Manager. @param role @default CeleryRole.WORKER
   */
  public credentialsReadStatements(role: CeleryRole = CeleryRole.WORKER): IamStatementModel[] {
    const secret = this.secretFor(role);
    return readSecretStatements({
      secretArn: secret.secretArn,
      keyArn: secret.encryptionKeyArn,
      region: awsFacts(this).region,
    });
  }

  /** The Celery endpoint of a role: postgresql, verify-full against the RDS CA bundle, that role's secret. */
  public celeryEndpoint(role: CeleryRole = CeleryRole.WORKER): CeleryEndpoint {
    const r = this.roleFor(role);
    // The database as the invocation reports it: clients configured from it are deployed after the roles exist.
    return {
      ...postgresCeleryEndpoint(this.spec, {
        host: this.endpointAddress,
        username: r.username,
        secretArn: r.secret.secretArn,
      }),
      database: Token.asString(Fn.lookup(Fn.lookup(Fn.jsondecode(this.users.resource.result), 'Data'), 'Database')),
    };
  }
}

/**
 * The Celery roles, schema and tables of a PostgreSQL result backend on Terraform, made as the master user by the
 * same bundled handler as on the CDK: an `aws_lambda_invocation` with `lifecycle_scope = "CRUD"` runs a function in
 * the VPC whose group reaches only the database's port and the Secrets Manager endpoint, reading only the master and
 * the two role secrets. Destroy drops the roles and keeps the tables.
 */
export class PostgresUsers extends Construct {
  /** The function's group: egress to the database's port and the Secrets Manager endpoint only. */
  public readonly securityGroup: CelerySecurityGroup;
  /** The users function. */
  public readonly function: LibraryFunction;
  /** The Secrets Manager interface endpoint made here (unless one was given). */
  public readonly secretsManagerEndpoint?: VpcEndpoint;
  /** The invocation (`aws_lambda_invocation`, CRUD). */
  public readonly resource: LambdaInvocation;
  /** The rotation schedules of the worker's and the producer's secrets, run by the same function. */
  public readonly rotationSchedules: readonly SecretsmanagerSecretRotation[];

  constructor(
    scope: Construct,
    id: string,
    props: { database: PostgresDatabase; endpoint?: ISecurityGroupPeer; after: readonly ITerraformDependable[] },
  ) {
    super(scope, id);
    const db = props.database;
    const facts = awsFacts(this);
    this.securityGroup = new CelerySecurityGroup(this, 'SecurityGroup', {
      vpcId: db.vpcId,
      description: `Celery PostgreSQL users function: ${db.port}/tcp to the database and HTTPS to Secrets Manager only`,
    });
    const network: CelerySecurityGroupRule[] = db.connections.allowFrom(
      this.securityGroup,
      db.port,
      `PostgreSQL (${db.port}/tcp) from the Celery users function`,
    );
    const worker = db.secretFor(CeleryRole.WORKER);
    const producer = db.secretFor(CeleryRole.PRODUCER);
    const plans = postgresUsersFunctionPlans({
      spec: db.spec,
      host: db.endpointAddress,
      port: db.port,
      masterSecretArn: db.masterSecretArn,
      masterKeyArn: db.masterSecretKeyArn,
      workerSecretArn: worker.secretArn,
      producerSecretArn: producer.secretArn,
      userKeyArn: db.encryptionKeyArn,
      region: facts.region,
    });
    const description = `HTTPS (${PORTS.AWS_API_HTTPS}/tcp) from the Celery PostgreSQL users function`;
    let endpointUrl: string | undefined;
    if (props.endpoint) {
      network.push(
        new VpcSecurityGroupIngressRule(this, 'SecretsManagerEndpointIngress', {
          securityGroupId: props.endpoint.securityGroupId,
          referencedSecurityGroupId: this.securityGroup.securityGroupId,
          ipProtocol: 'tcp',
          fromPort: PORTS.AWS_API_HTTPS,
          toPort: PORTS.AWS_API_HTTPS,
          description,
        }),
        ...this.securityGroup.connections.allowTo(props.endpoint, PORTS.AWS_API_HTTPS, description),
      );
    } else {
      const group = new CelerySecurityGroup(this, 'SecretsManagerEndpointSecurityGroup', {
        vpcId: db.vpcId,
        description: `Secrets Manager endpoint of the Celery PostgreSQL users function: HTTPS ${PORTS.AWS_API_HTTPS} from it only`,
      });
      this.secretsManagerEndpoint = new VpcEndpoint(this, 'SecretsManagerEndpoint', {
        vpcId: db.vpcId,
        serviceName: `com.amazonaws.${facts.region}.secretsmanager`,
        vpcEndpointType: 'Interface',
        subnetIds: [...db.subnetIds],
        privateDnsEnabled: false,
        securityGroupIds: [group.securityGroupId],
      });
      // dns_entry[0] is the endpoint's regional name, covered by Secrets Manager's certificate.
      endpointUrl = `https://${this.secretsManagerEndpoint.dnsEntry.get(0).dnsName}`;
      network.push(...group.connections.allowFrom(this.securityGroup, PORTS.AWS_API_HTTPS, description));
    }
    // Terraform invokes it directly (CRUD), without CloudFormation's custom-resource events; rotation events reach the
    // same entry point.
    this.function = createLibraryFunction(
      this,
      { ...plans.users, handler: plans.users.invocationHandler! },
      {
        keyArn: db.encryptionKeyArn,
        environment: endpointUrl ? { SECRETS_MANAGER_ENDPOINT: endpointUrl } : {},
        vpc: { subnetIds: db.subnetIds, securityGroupIds: [this.securityGroup.securityGroupId] },
      },
    );
    let endpointPolicy: VpcEndpointPolicy | undefined;
    if (this.secretsManagerEndpoint) {
      // The endpoint serves this function only: its role may do there what its own policy allows.
      const statements = plans.users.statements
        .filter((x) => x.actions.every((a) => a.startsWith('secretsmanager:')))
        .map((st) => ({
          Effect: 'Allow',
          Principal: { AWS: this.function.role.arn },
          Action: [...st.actions],
          Resource: [...st.resources],
        }));
      endpointPolicy = new VpcEndpointPolicy(this, 'SecretsManagerEndpointPolicy', {
        vpcEndpointId: this.secretsManagerEndpoint.id,
        policy: JSON.stringify({ Version: '2012-10-17', Statement: statements }),
      });
    }
    this.resource = new LambdaInvocation(this, 'Resource', {
      functionName: this.function.function.functionName,
      input: JSON.stringify(
        postgresUsersResourceProperties({
          host: db.endpointAddress,
          port: db.port,
          masterSecretArn: db.masterSecretArn,
          workerSecretArn: worker.secretArn,
          producerSecretArn: producer.secretArn,
        }),
      ),
      lifecycleScope: 'CRUD',
      // Created after, and destroyed before, the database, the network path, the permissions and the role secrets.
      dependsOn: [
        ...props.after,
        ...network,
        this.function.attachment,
        ...(this.secretsManagerEndpoint ? [this.secretsManagerEndpoint] : []),
        ...(endpointPolicy ? [endpointPolicy] : []),
        worker.secretVersion,
        producer.secretVersion,
      ],
    });
    // The first rotation runs when the schedule is created: the roles and twins must exist by then.
    this.rotationSchedules = rotateSecrets(
      this.function,
      [worker, producer].map((x) => ({ scope: x, secretArn: x.secretArn })),
      plans.schedule,
      [this.resource, ...(endpointPolicy ? [endpointPolicy] : [])],
    );
  }
}

/** A group made elsewhere, given by id: rules are added to it as to one of the library's. */
class ExistingGroup extends Construct {
  constructor(
    scope: Construct,
    id: string,
    public readonly securityGroupId: string,
  ) {
    super(scope, id);
  }
}
