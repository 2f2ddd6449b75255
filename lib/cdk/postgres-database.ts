import { CustomResource, Duration, Fn, RemovalPolicy, Stack } from 'aws-cdk-lib';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as rds from 'aws-cdk-lib/aws-rds';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import * as cr from 'aws-cdk-lib/custom-resources';
import { Construct } from 'constructs';
import { postgresUsersFunctionPlans, postgresUsersResourceProperties } from '../core/identities';
import { PORTS } from '../core/ports';
import { CeleryEndpoint } from '../core/celery/model';
import { DEFAULTS } from '../core/defaults';
import { NAME_RULES } from '../core/names';
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
import {
  CDK_CONTEXT,
  applyIssues,
  createGeneratedSecret,
  createKey,
  createLogGroup,
  defaultRemovalPolicy,
} from './common';
import { defaultSubnets, grantSecretRead, subnetFacts } from './common';
import type { PlacementProps } from './common';
import { createLibraryFunction, createProviderRole } from './functions';

/** A PostgreSQL database made elsewhere, for `existingDatabase`. */
export interface ExistingPostgresDatabase {
  /** The writer endpoint's DNS name (the server certificate is issued for it). */
  readonly endpointAddress: string;
  /** Its port. @default 5432 */
  readonly port?: number;
  /** The master user's secret (`{"username", "password"}`, the RDS managed-secret shape), for the users function. */
  readonly masterSecret: secretsmanager.ISecret;
  /** The database's security group: the Celery rules on its port are added to it, so import it mutable. */
  readonly securityGroup: ec2.ISecurityGroup;
}

/** Props of `PostgresDatabase`. */
export interface PostgresDatabaseProps extends PostgresBackendOptions, PlacementProps {
  /**
   * Key of the storage, the managed master secret, the role secrets and the log groups. Create-only on RDS.
   * @default - a new customer-managed key with rotation, retained on delete
   */
  readonly encryptionKey?: kms.IKey;
  /** What happens to the instance or cluster when it leaves the stack. @default RemovalPolicy.SNAPSHOT */
  readonly removalPolicy?: RemovalPolicy;
  /** A database made elsewhere: only the rules, the Celery roles and their secrets are added. @default - a new database */
  readonly existingDatabase?: ExistingPostgresDatabase;
  /**
   * An interface endpoint for Secrets Manager in the VPC, with private DNS on, for the users function.
   * @default - a new endpoint without private DNS, reachable only from the users function, whose policy allows only
   * that function's role to read the three secrets
   */
  readonly secretsManagerEndpoint?: ec2.IInterfaceVpcEndpoint;
}

/** One Celery login role and its secret. */
export interface PostgresRole {
  /** The PostgreSQL role name. */
  readonly username: string;
  /** The Celery role it serves. */
  readonly role: CeleryRole;
  /**
   * `{"username", "password"}`, generated, encrypted with the database's key, rotated every `rotationDays`: the
   * username is the role or, after an odd number of rotations, its twin `<role>_alt`.
   */
  readonly secret: secretsmanager.ISecret;
}

/**
 * A PostgreSQL result backend for Celery: an RDS for PostgreSQL instance (Multi-AZ) or an Aurora PostgreSQL cluster
 * (writer and reader), TLS forced by its parameter group (`rds.force_ssl` 1, TLS 1.2 at least), storage and the
 * RDS-managed master secret encrypted with a customer-managed key, deletion protection, backups and a final
 * snapshot, its logs in encrypted log groups, and one login role per Celery role with its own generated secret.
 */
export class PostgresDatabase extends Construct implements ec2.IConnectable {
  /** Who may reach the database on its port. */
  public readonly connections: ec2.Connections;
  /** The settings it was made with, every default applied. */
  public readonly spec: PostgresBackendSpec;
  /** Storage, secrets and log groups. */
  public readonly encryptionKey: kms.IKey;
  /** The database's own group (none is made for an existing database: its given group). */
  public readonly securityGroup: ec2.ISecurityGroup;
  /** The writer endpoint: connect by this DNS name. */
  public readonly endpointAddress: string;
  /** The port (a literal number). */
  public readonly port: number;
  /** The DB instance or cluster identifier (empty for an existing database). */
  public readonly databaseIdentifier: string;
  /** The master user's secret (managed by RDS, or the given one); Celery never reads it. */
  public readonly masterSecret: secretsmanager.ISecret;
  /** The worker's and the producer's login roles. */
  public readonly roles: readonly PostgresRole[];
  /** The instance (or the cluster's writer) L1 resource; undefined for an existing database. */
  public readonly instance?: rds.CfnDBInstance;
  /** With Aurora: the cluster; undefined otherwise. */
  public readonly cluster?: rds.CfnDBCluster;
  /** The DB parameter group (instance) or DB cluster parameter group (Aurora) that forces TLS. */
  public readonly parameterGroup?: rds.CfnDBParameterGroup | rds.CfnDBClusterParameterGroup;
  /** The log groups RDS exports to, by log type (CMK-encrypted, retained). */
  public readonly logGroups: Readonly<Record<string, logs.ILogGroup>>;
  /** The function, its group and the custom resource that make the roles, schema and tables. */
  public readonly users: PostgresUsers;
  /** The VPC of the database (and of the users function). */
  public readonly vpc: ec2.IVpc;
  /** The subnets of the database's subnet group and of the users function. */
  public readonly vpcSubnets: ec2.SubnetSelection;

  constructor(scope: Construct, id: string, props: PostgresDatabaseProps) {
    super(scope, id);
    const existing = props.existingDatabase;
    this.vpc = props.vpc;
    this.vpcSubnets = props.vpcSubnets ?? defaultSubnets(props.vpc);
    const plan = applyIssues(
      this,
      planPostgresDatabase(
        {
          props,
          existing: existing ? { port: existing.port } : undefined,
          subnets: { prop: 'vpcSubnets', facts: subnetFacts(props.vpc, this.vpcSubnets) },
        },
        CDK_CONTEXT,
      ),
    );
    const spec = plan.spec;
    this.spec = spec;
    this.port = spec.port;
    this.encryptionKey =
      props.encryptionKey ??
      createKey(this, 'Key', `${this.node.path}: PostgreSQL storage, master and role secrets, logs`);
    const key = this.encryptionKey;

    this.roles = spec.roles.map((r) => ({
      username: r.username,
      role: r.role,
      secret: createGeneratedSecret(
        this,
        r.role === CeleryRole.WORKER ? 'WorkerCredentials' : 'ProducerCredentials',
        r.secret,
        key,
      ),
    }));

    if (existing) {
      this.securityGroup = existing.securityGroup;
      this.connections = new ec2.Connections({
        securityGroups: [existing.securityGroup],
        defaultPort: ec2.Port.tcp(spec.port),
      });
      this.endpointAddress = existing.endpointAddress;
      this.masterSecret = existing.masterSecret;
      this.databaseIdentifier = '';
      this.logGroups = {};
      this.users = new PostgresUsers(this, 'Users', {
        database: this,
        endpoint: props.secretsManagerEndpoint,
        after: [],
      });
      return;
    }

    const sg = new ec2.SecurityGroup(this, 'SecurityGroup', {
      vpc: props.vpc,
      description: `PostgreSQL result backend: TLS on ${spec.port}/tcp from allowed Celery clients only`,
      allowAllOutbound: false,
    });
    this.securityGroup = sg;
    this.connections = new ec2.Connections({ securityGroups: [sg], defaultPort: ec2.Port.tcp(spec.port) });

    // A literal identifier (from the path unless given): the log groups are named after it and made first.
    const identifier =
      spec.databaseIdentifier ??
      physicalNameFromPath(
        this.node.scopes.slice(1).map((s) => s.node.id),
        NAME_RULES.rdsIdentifier,
      );
    this.databaseIdentifier = identifier;
    const logGroups: Record<string, logs.LogGroup> = {};
    for (const logType of spec.logExports) {
      const group = createLogGroup(this, `${logType.charAt(0).toUpperCase()}${logType.slice(1)}Log`, key);
      (group.node.defaultChild as logs.CfnLogGroup).logGroupName = postgresLogGroupName(spec.kind, identifier, logType);
      logGroups[logType] = group;
    }
    this.logGroups = logGroups;

    const subnetGroup = new rds.CfnDBSubnetGroup(this, 'SubnetGroup', {
      dbSubnetGroupDescription: `Dedicated subnets of ${this.node.path}`,
      subnetIds: plan.subnets.map((s) => s.subnetId),
    });
    const description = `${this.node.path}: every connection TLS (rds.force_ssl), TLS 1.2 at least`;
    const removal = props.removalPolicy ?? defaultRemovalPolicy('database');
    const secretSettings = { kmsKeyId: key.keyArn };

    if (spec.kind === PostgresDatabaseKind.AURORA) {
      const parameterGroup = new rds.CfnDBClusterParameterGroup(this, 'ParameterGroup', {
        family: spec.parameterGroupFamily,
        description,
        parameters: { ...spec.parameters },
      });
      this.parameterGroup = parameterGroup;
      const cluster = new rds.CfnDBCluster(this, 'Resource', {
        dbClusterIdentifier: identifier,
        engine: spec.engine,
        engineVersion: spec.engineVersion,
        port: spec.port,
        dbSubnetGroupName: subnetGroup.ref,
        vpcSecurityGroupIds: [sg.securityGroupId],
        dbClusterParameterGroupName: parameterGroup.ref,
        storageEncrypted: spec.storageEncrypted,
        kmsKeyId: key.keyArn,
        masterUsername: spec.masterUsername,
        manageMasterUserPassword: spec.manageMasterUserPassword,
        masterUserSecret: secretSettings,
        enableIamDatabaseAuthentication: spec.iamAuthentication,
        backupRetentionPeriod: spec.backupRetentionDays,
        preferredBackupWindow: spec.backupWindow,
        preferredMaintenanceWindow: spec.maintenanceWindow,
        deletionProtection: spec.deletionProtection,
        copyTagsToSnapshot: spec.copyTagsToSnapshot,
        deleteAutomatedBackups: false,
        enableCloudwatchLogsExports: [...spec.logExports],
      });
      cluster.applyRemovalPolicy(removal);
      for (const g of Object.values(logGroups)) cluster.node.addDependency(g);
      this.cluster = cluster;
      for (let n = 1; n <= spec.instanceCount; n++) {
        const instance = new rds.CfnDBInstance(this, n === 1 ? 'Writer' : `Reader${n - 1}`, {
          dbClusterIdentifier: cluster.ref,
          dbInstanceIdentifier: postgresInstanceIdentifiers(spec, identifier)[n - 1],
          engine: spec.engine,
          dbInstanceClass: spec.instanceClass,
          dbSubnetGroupName: subnetGroup.ref,
          publiclyAccessible: spec.publiclyAccessible,
          autoMinorVersionUpgrade: spec.autoMinorVersionUpgrade,
          caCertificateIdentifier: spec.caCertificateIdentifier,
          preferredMaintenanceWindow: spec.maintenanceWindow,
        });
        // The data is in the cluster volume (snapshotted with the cluster); its instances cannot be snapshotted.
        instance.applyRemovalPolicy(RemovalPolicy.DESTROY);
        if (n === 1) this.instance = instance;
        else instance.node.addDependency(this.instance!);
      }
      this.endpointAddress = cluster.attrEndpointAddress;
      this.masterSecret = secretsmanager.Secret.fromSecretAttributes(this, 'MasterSecret', {
        secretCompleteArn: cluster.attrMasterUserSecretSecretArn,
        encryptionKey: key,
      });
      this.users = new PostgresUsers(this, 'Users', {
        database: this,
        endpoint: props.secretsManagerEndpoint,
        after: this.node.children.filter((c): c is rds.CfnDBInstance => c instanceof rds.CfnDBInstance),
      });
      return;
    }

    const parameterGroup = new rds.CfnDBParameterGroup(this, 'ParameterGroup', {
      family: spec.parameterGroupFamily,
      description,
      parameters: { ...spec.parameters },
    });
    this.parameterGroup = parameterGroup;
    const instance = new rds.CfnDBInstance(this, 'Resource', {
      dbInstanceIdentifier: identifier,
      engine: spec.engine,
      engineVersion: spec.engineVersion,
      dbInstanceClass: spec.instanceClass,
      allocatedStorage: String(spec.allocatedStorageGiB),
      maxAllocatedStorage: spec.maxAllocatedStorageGiB,
      storageType: spec.storageType,
      storageEncrypted: spec.storageEncrypted,
      kmsKeyId: key.keyArn,
      multiAz: spec.multiAz,
      port: String(spec.port),
      dbSubnetGroupName: subnetGroup.ref,
      vpcSecurityGroups: [sg.securityGroupId],
      dbParameterGroupName: parameterGroup.ref,
      masterUsername: spec.masterUsername,
      manageMasterUserPassword: spec.manageMasterUserPassword,
      masterUserSecret: secretSettings,
      caCertificateIdentifier: spec.caCertificateIdentifier,
      publiclyAccessible: spec.publiclyAccessible,
      autoMinorVersionUpgrade: spec.autoMinorVersionUpgrade,
      enableIamDatabaseAuthentication: spec.iamAuthentication,
      backupRetentionPeriod: spec.backupRetentionDays,
      preferredBackupWindow: spec.backupWindow,
      preferredMaintenanceWindow: spec.maintenanceWindow,
      deletionProtection: spec.deletionProtection,
      copyTagsToSnapshot: spec.copyTagsToSnapshot,
      deleteAutomatedBackups: false,
      enableCloudwatchLogsExports: [...spec.logExports],
    });
    instance.applyRemovalPolicy(removal);
    for (const g of Object.values(logGroups)) instance.node.addDependency(g);
    this.instance = instance;
    this.endpointAddress = instance.attrEndpointAddress;
    this.masterSecret = secretsmanager.Secret.fromSecretAttributes(this, 'MasterSecret', {
      secretCompleteArn: instance.attrMasterUserSecretSecretArn,
      encryptionKey: key,
    });
    this.users = new PostgresUsers(this, 'Users', {
      database: this,
      endpoint: props.secretsManagerEndpoint,
      after: [instance],
    });
  }

  /** The login role serving a Celery role. */
  public roleFor(role: CeleryRole): PostgresRole {
    const username = postgresRoleFor(this.spec, role).username;
    return this.roles.find((r) => r.username === username)!;
  }

  /** The secret a role's clients read. @param role @default CeleryRole.WORKER */
  public secretFor(role: CeleryRole = CeleryRole.WORKER): secretsmanager.ISecret {
    return this.roleFor(role).secret;
  }

  /** Lets the grantee read one role's secret (by ARN, kms:Decrypt through Secrets Manager). @param role @default CeleryRole.WORKER */
  public grantReadCredentials(grantee: iam.IGrantable, role: CeleryRole = CeleryRole.WORKER): iam.Grant {
    return grantSecretRead(this, grantee, this.secretFor(role));
  }

  /** The Celery endpoint of a role: postgresql, verify-full against the RDS CA bundle, that role's secret. */
  public celeryEndpoint(role: CeleryRole = CeleryRole.WORKER): CeleryEndpoint {
    const r = this.roleFor(role);
    // The database as the custom resource reports it: clients configured from it are deployed after the roles exist.
    return {
      ...postgresCeleryEndpoint(this.spec, {
        host: this.endpointAddress,
        username: r.username,
        secretArn: r.secret.secretArn,
      }),
      database: this.users.resource.getAttString('Database'),
    };
  }
}

/**
 * The Celery roles, schema and tables of a PostgreSQL result backend, made as the master user by a custom resource:
 * a function in the VPC whose group reaches only the database's port and the Secrets Manager endpoint, rotating only
 * the two role secrets (alternating each role with its twin) and reading the master's. Delete drops the roles and
 * keeps the tables.
 */
export class PostgresUsers extends Construct {
  /** The function's group: egress to the database's port and the Secrets Manager endpoint only. */
  public readonly securityGroup: ec2.SecurityGroup;
  /** The custom-resource function. */
  public readonly function: lambda.Function;
  /** The Secrets Manager interface endpoint it reads the secrets through: the given one or a new one. */
  public readonly secretsManagerEndpoint: ec2.IInterfaceVpcEndpoint;
  /** The custom resource (`Custom::CeleryPostgresUsers`). */
  public readonly resource: CustomResource;
  /** The rotation schedules of the worker's and the producer's secrets, run by the same function. */
  public readonly rotationSchedules: readonly secretsmanager.RotationSchedule[];

  constructor(
    scope: Construct,
    id: string,
    props: { database: PostgresDatabase; endpoint?: ec2.IInterfaceVpcEndpoint; after: readonly Construct[] },
  ) {
    super(scope, id);
    const db = props.database;
    const key = db.encryptionKey;
    this.securityGroup = new ec2.SecurityGroup(this, 'SecurityGroup', {
      vpc: db.vpc,
      description: `Celery PostgreSQL users function: ${db.port}/tcp to the database and HTTPS to Secrets Manager only`,
      allowAllOutbound: false,
    });
    db.connections.allowFrom(
      this.securityGroup,
      ec2.Port.tcp(db.port),
      `PostgreSQL (${db.port}/tcp) from the Celery users function`,
    );
    const worker = db.secretFor(CeleryRole.WORKER);
    const producer = db.secretFor(CeleryRole.PRODUCER);
    const plans = postgresUsersFunctionPlans({
      spec: db.spec,
      host: db.endpointAddress,
      port: db.port,
      masterSecretArn: db.masterSecret.secretArn,
      masterKeyArn: db.masterSecret.encryptionKey?.keyArn,
      workerSecretArn: worker.secretArn,
      producerSecretArn: producer.secretArn,
      userKeyArn: key.keyArn,
      region: Stack.of(this).region,
    });

    let endpointUrl: string | undefined;
    let endpoint: ec2.InterfaceVpcEndpoint | undefined;
    if (props.endpoint) {
      this.secretsManagerEndpoint = props.endpoint;
    } else {
      const endpointSg = new ec2.SecurityGroup(this, 'SecretsManagerEndpointSecurityGroup', {
        vpc: db.vpc,
        description: `Secrets Manager endpoint of the Celery PostgreSQL users function: HTTPS ${PORTS.AWS_API_HTTPS} from it only`,
        allowAllOutbound: false,
      });
      endpoint = new ec2.InterfaceVpcEndpoint(this, 'SecretsManagerEndpoint', {
        vpc: db.vpc,
        service: ec2.InterfaceVpcEndpointAwsService.SECRETS_MANAGER,
        subnets: db.vpcSubnets,
        privateDnsEnabled: false,
        open: false,
        securityGroups: [endpointSg],
      });
      // DnsEntries[0] is "<hosted zone id>:<endpoint DNS name>"; the name is covered by Secrets Manager's certificate.
      endpointUrl = `https://${Fn.select(1, Fn.split(':', Fn.select(0, endpoint.vpcEndpointDnsEntries)))}`;
      this.secretsManagerEndpoint = endpoint;
    }
    this.secretsManagerEndpoint.connections.allowFrom(
      this.securityGroup,
      ec2.Port.tcp(PORTS.AWS_API_HTTPS),
      `HTTPS (${PORTS.AWS_API_HTTPS}/tcp) from the Celery PostgreSQL users function`,
    );

    const fn = createLibraryFunction(this, plans.users, {
      key,
      environment: endpointUrl ? { SECRETS_MANAGER_ENDPOINT: endpointUrl } : {},
      vpc: { vpc: db.vpc, subnets: db.vpcSubnets, securityGroups: [this.securityGroup] },
    });
    this.function = fn.function;
    // The endpoint serves this function only: its role may do there what its own policy allows.
    for (const st of plans.users.statements.filter((x) => x.actions.every((a) => a.startsWith('secretsmanager:'))))
      endpoint?.addToPolicy(
        new iam.PolicyStatement({
          principals: [new iam.ArnPrincipal(fn.role.roleArn)],
          actions: [...st.actions],
          resources: [...st.resources],
        }),
      );

    // The provider framework answers CloudFormation from outside the VPC; it only invokes the users function.
    const providerLogs = createLogGroup(this, 'ProviderLogs', key);
    const providerRole = createProviderRole(
      this,
      'Provider',
      this.function,
      'the Celery PostgreSQL users function',
      providerLogs,
    );
    const provider = new cr.Provider(this, 'Provider', {
      onEventHandler: this.function,
      frameworkOnEventRole: providerRole.role.withoutPolicyUpdates(),
      logGroup: providerLogs,
    });
    provider.node.addDependency(providerRole.policy);
    this.resource = new CustomResource(this, 'Resource', {
      serviceToken: provider.serviceToken,
      resourceType: 'Custom::CeleryPostgresUsers',
      serviceTimeout: Duration.seconds(DEFAULTS.postgres.usersServiceTimeoutSeconds),
      properties: postgresUsersResourceProperties({
        host: db.endpointAddress,
        port: db.port,
        masterSecretArn: db.masterSecret.secretArn,
        workerSecretArn: worker.secretArn,
        producerSecretArn: producer.secretArn,
      }),
    });
    // Created after, and deleted before, the database, the network path and the permissions it needs.
    // The database's group holds the ingress rule from this function's group (an imported group too).
    this.resource.node.addDependency(
      this.securityGroup,
      db.securityGroup,
      this.secretsManagerEndpoint,
      fn.policy,
      ...props.after,
    );

    // The same function rotates the role secrets (Secrets Manager's events reach index.onEvent, which hands them on).
    this.rotationSchedules = [worker, producer].map((secret) => {
      const schedule = secret.addRotationSchedule('Rotation', {
        rotationLambda: this.function,
        automaticallyAfter: Duration.days(plans.schedule.days),
      });
      // The first rotation runs when the schedule is created: the roles and twins must exist by then.
      schedule.node.addDependency(this.resource, fn.policy, ...(endpoint ? [endpoint] : []));
      return schedule;
    });
  }
}
