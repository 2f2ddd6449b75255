/**
 * Parity: ONE spec is fed to both adapters (aws-cdk-lib and cdktf) and the security-relevant properties of both
 * outputs are normalized into the same neutral model and compared. A difference fails the test.
 */
import { CfnElement, CfnOutput, Token as CdkToken } from 'aws-cdk-lib';
import * as ecs from 'aws-cdk-lib/aws-ecs';
import {
  DefaultTokenResolver,
  StringConcat,
  TerraformElement,
  TerraformOutput,
  TerraformStack,
  Testing,
  Token as TfToken,
  Tokenization,
} from 'cdktf';
import * as cdk from '../../lib/cdk';
import * as tf from '../../lib/cdktf';
import { BrokerDeploymentMode, CacheEngine, CeleryRole, TransitEncryptionMode } from '../../lib/core';
import { stackWithVpc, templateOf } from '../cdk/helpers';
import { VPC_ID, subnets, tfStack } from '../cdktf/helpers';
import { STAR_ACTIONS, TfJson } from '../cdktf/security';

// ---------------------------------------------------------------------------------------------------------------
// The spec, written once, and how each adapter receives it.

const CA_ARN = 'arn:aws:acm-pca:eu-west-1:111122223333:certificate-authority/11111111-2222-3333-4444-555555555555';
const PARENT_CHAIN = '-----BEGIN CERTIFICATE-----\nMIIBparentcertificate\n-----END CERTIFICATE-----\n';

type Adapter = typeof cdk | typeof tf;
/** Options, literal or made with the adapter's own classes (`RedisAuth`, `BrokerClientCertificates`). */
type Options = object | ((m: Adapter) => object);

interface Spec {
  readonly name: string;
  readonly broker?: { kind: 'rabbitMq' | 'redis'; options?: Options };
  readonly resultBackend?:
    | { kind: 'redis'; options?: Options }
    | { kind: 'postgres'; options?: Options }
    | { kind: 'shared'; db?: number }
    | { kind: 'none' };
  readonly celeryOptions?: object;
}

const optionsFor = (m: Adapter, o: Options | undefined) => (typeof o === 'function' ? o(m) : o);

function transportProps(m: Adapter, spec: Spec) {
  const broker = spec.broker
    ? (m.CeleryBroker[spec.broker.kind] as (o?: object) => unknown)(optionsFor(m, spec.broker.options))
    : undefined;
  const rb = spec.resultBackend;
  const resultBackend = !rb
    ? undefined
    : rb.kind === 'redis'
      ? m.CeleryResultBackend.redis(optionsFor(m, rb.options) as never)
      : rb.kind === 'postgres'
        ? m.CeleryResultBackend.postgres(optionsFor(m, rb.options) as never)
        : rb.kind === 'shared'
          ? m.CeleryResultBackend.sharedWithRedisBroker(rb.db)
          : m.CeleryResultBackend.none();
  return { broker, resultBackend, celeryOptions: spec.celeryOptions } as Record<string, unknown>;
}

const SPECS: Spec[] = [
  { name: 'defaults (RabbitMQ broker, Valkey result backend)' },
  {
    name: 'Redis OSS broker on a custom port, Valkey backend with three nodes in the PREFERRED migration step',
    broker: {
      kind: 'redis',
      options: {
        engine: CacheEngine.REDIS,
        port: 6390,
        snapshotRetentionDays: 20,
        maintenanceWindow: 'mon:07:00-mon:08:00',
      },
    },
    resultBackend: {
      kind: 'redis',
      options: {
        numCacheClusters: 3,
        transitEncryptionMode: TransitEncryptionMode.PREFERRED,
        engineVersion: '7.2',
        nodeType: 'cache.r7g.large',
      },
    },
    celeryOptions: { visibilityTimeoutSeconds: 7200 },
  },
  {
    name: 'single-instance RabbitMQ 3.13, fire-and-forget',
    broker: {
      kind: 'rabbitMq',
      options: {
        deploymentMode: BrokerDeploymentMode.SINGLE_INSTANCE,
        engineVersion: '3.13',
        hostInstanceType: 'mq.m5.large',
        adminUsername: 'ops.admin',
      },
    },
    resultBackend: { kind: 'none' },
  },
  {
    name: 'one Valkey cache for broker and results',
    broker: { kind: 'redis', options: { multiAz: false, numCacheClusters: 1 } },
    resultBackend: { kind: 'shared', db: 2 },
  },
  {
    name: 'mutual TLS with an existing CA, RBAC users on the result backend',
    broker: {
      kind: 'rabbitMq',
      options: (m) => ({ clientCertificates: m.BrokerClientCertificates.fromPrivateCa(CA_ARN) }),
    },
    resultBackend: { kind: 'redis', options: (m) => ({ authToken: m.RedisAuth.rbacUsers() }) },
  },
  {
    name: 'a subordinate CA, one shared broker user on vhost "jobs" rotated weekly, one shared RBAC user',
    broker: {
      kind: 'rabbitMq',
      options: (m) => ({
        clientCertificates: m.BrokerClientCertificates.newSubordinateCa({
          parentCaArn: CA_ARN,
          parentCertificateChain: PARENT_CHAIN,
          validityDays: 20,
          renewDays: 10,
        }),
        applicationUsers: { sharedUser: true, vhost: 'jobs', rotationDays: 7 },
      }),
    },
    resultBackend: {
      kind: 'redis',
      options: (m) => ({ authToken: m.RedisAuth.rbacUsers({ sharedUser: true, rotationDays: 14 }) }),
    },
  },
  {
    name: 'a Valkey broker with RBAC users and its own access string, results in the same cache',
    broker: {
      kind: 'redis',
      options: (m) => ({ authToken: m.RedisAuth.rbacUsers({ accessString: 'on ~celery* &* +@all -@dangerous' }) }),
    },
    resultBackend: { kind: 'shared', db: 1 },
  },
  {
    name: 'a PostgreSQL result backend (RDS for PostgreSQL, the defaults)',
    resultBackend: { kind: 'postgres' },
  },
  {
    name: 'a Redis broker, Aurora PostgreSQL results kept 20 days, a reader, its own identifier, roles rotated weekly',
    broker: { kind: 'redis' },
    resultBackend: {
      kind: 'postgres',
      options: { kind: 'aurora', backupRetentionDays: 20, databaseIdentifier: 'celery-results', rotationDays: 7 },
    },
  },
];

// ---------------------------------------------------------------------------------------------------------------
// The neutral model: what must be equal on both targets. Paths are construct paths below the stack.

interface Model {
  caches: Record<string, unknown>;
  brokers: Record<string, unknown>;
  groups: Record<string, { description: string; ingress: string[]; egress: string[] }>;
  keys: Record<string, unknown>;
  secrets: Record<string, unknown>;
  logGroups: Record<string, unknown>;
  manifest: unknown;
  outputs: string[];
  /** Per role: the Celery settings, literals only. */
  celery: Record<string, unknown>;
  /** Per role: the ECS container environment and secrets. */
  container: Record<string, unknown>;
  /** The RabbitMQ users custom resource's / invocation's input: vhost, users, permissions, secrets, dead letters. */
  users: unknown;
  /** Library functions: handler, runtime, limits, environment, placement, role, log group. */
  functions: Record<string, unknown>;
  /** Roles of the library: who may assume them, and the statements of their customer-managed policies. */
  roles: Record<string, unknown>;
  /** Who may invoke each function (resource policies). */
  invokers: string[];
  /** Rotation schedules by secret: the function and the schedule. */
  rotations: Record<string, unknown>;
  /** ElastiCache RBAC users and user groups. */
  rbac: Record<string, unknown>;
  /** The Secrets Manager interface endpoint of the users functions, with its policy. */
  endpoints: Record<string, unknown>;
  /** Broker configurations (rabbitmq.conf): name suffix, description, engine, the rendered text. */
  brokerConfigurations: Record<string, unknown>;
  /** Subordinate CAs: key, subject, usage, the parent's certificate, activation, protection. */
  certificateAuthorities: Record<string, unknown>;
  /** CloudWatch alarms: metrics (or math), dimensions, statistic, threshold, period, datapoints, actions. */
  alarms: Record<string, unknown>;
  /** The alarms' topic (its key) and the dashboard's widgets. */
  monitoring: unknown;
  /** PostgreSQL result backends: the instance or cluster (and its instances) and the parameter group. */
  databases: Record<string, unknown>;
  /** The PostgreSQL users custom resource's / invocation's input: endpoint, names, the three secrets. */
  postgresUsers: unknown;
}

const secretNames = (text: string) => text.replace(/\(secret [^)]*\)/g, '(secret <secret name>)');
const sortedDims = (d: [string, unknown][]) => Object.fromEntries([...d].sort(([a], [b]) => a.localeCompare(b)));

/**
 * Literal account, region and partition (the CDK test stack has them; Terraform reads them at plan time), and the
 * physical names each target derives from the construct path its own way (CloudFormation's `Names.uniqueResourceName`,
 * Terraform's `physicalNameFromPath`, which it must pass): ElastiCache user ids keep their role suffix.
 */
function literalFacts(text: string, brokerNames: readonly string[] = []): string {
  for (const name of brokerNames) text = text.split(`:broker:${name}:`).join(':broker:<broker name>:');
  return text
    .replace(/arn:aws:/g, 'arn:<partition>:')
    .replace(/eu-west-1/g, '<region>')
    .replace(/111122223333/g, '<account>');
}

/** ElastiCache user ids are physical names too: each keeps its role suffix and is checked for the 40-character limit. */
const USER_ID = /^[a-z][a-z0-9-]{0,39}$/;
const userIdOf = (id: string) =>
  USER_ID.test(id) ? id.replace(/^.*-(producer|worker|app)$/, '<user id>-$1') : `invalid user id ${id}`;
const userIds = (text: string) => text.replace(/\(([a-z][a-z0-9-]*)\)/g, (_, id) => `(${userIdOf(id)})`);
const userIdField = (template: Record<string, string>) =>
  template.user_id === undefined ? template : { ...template, user_id: userIdOf(template.user_id) };

/** Each statement as effect, sorted actions, sorted resources and conditions; the statements sorted. */
function statements(list: any[], value: (v: unknown) => unknown): unknown[] {
  return list
    .map((st) => ({
      effect: st.Effect,
      actions: [st.Action].flat().sort(),
      resources: [st.Resource]
        .flat()
        .map((r) => value(r))
        .sort(),
      ...(st.Principal ? { principal: value(st.Principal) } : {}),
      ...(st.Condition ? { conditions: value(st.Condition) } : {}),
    }))
    .sort((a, b) => JSON.stringify(a).localeCompare(JSON.stringify(b)));
}

/**
 * The users function's entry point: the same bundle answers CloudFormation's custom-resource events (`onEvent`) and
 * Terraform's CRUD invocations (`onInvocation`).
 */
const sameEntry = (handler: string) => (handler === 'index.onInvocation' ? 'index.onEvent' : handler);

/**
 * CloudFormation's custom-resource provider framework (aws-cdk-lib's `Provider`: its function, role, policy and logs)
 * carries the users function's answer to CloudFormation; `aws_lambda_invocation` needs none. Dropped from the CDK
 * model, the one intended difference (docs/cdktf.md).
 */
const CDK_PROVIDER_FRAMEWORK = /^Celery\/(BrokerUsers|ResultBackend\/Users)\/Provider/;

const short = (path: string) => path.replace(/^Test\//, '').replace(/\/Resource$/, '');
const sortedEntries = <T>(o: Record<string, T>) =>
  Object.fromEntries(Object.entries(o).sort(([a], [b]) => a.localeCompare(b)));

/** Replaces deploy-time values (tokens of either framework) by a marker, so that models compare literals only. */
function literalOnly(value: unknown, isToken: (v: unknown) => boolean): unknown {
  if (isToken(value)) return '<deploy-time>';
  if (Array.isArray(value)) return value.map((v) => literalOnly(v, isToken));
  if (value && typeof value === 'object')
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, literalOnly(v, isToken)]));
  return value;
}

// ---- CDK (CloudFormation template) ----

function cdkModel(spec: Spec): Model {
  const { stack, vpc } = stackWithVpc();
  const t = new cdk.CeleryTransport(stack, 'Celery', { vpc, ...transportProps(cdk, spec) } as never);
  const task = new ecs.FargateTaskDefinition(stack, 'Task');
  for (const role of ROLES)
    t.bindToContainer(
      task.addContainer(role, { image: ecs.ContainerImage.fromRegistry('python:3.12-slim') }),
      role as CeleryRole,
    );
  const { json } = templateOf(stack);
  const R = json.Resources;
  const paths = new Map<string, string>();
  for (const c of stack.node.findAll())
    if (c instanceof CfnElement) paths.set(stack.getLogicalId(c), short(c.node.path));
  const pathOf = (lid: string | undefined) => paths.get(lid ?? '') ?? `?${lid}`;
  const ref = (v: any): string | undefined => v?.Ref ?? v?.['Fn::GetAtt']?.[0];
  const of = (type: string) => Object.entries(R).filter(([, r]) => r.Type === type);
  const secretRead = (v: any): string => {
    const parts = v?.['Fn::Join']?.[1];
    if (!Array.isArray(parts) || parts[0] !== '{{resolve:secretsmanager:')
      return typeof v === 'string' ? 'literal' : 'none';
    return `secretsmanager:${pathOf(ref(parts[1]))}:${/^:SecretString:([^:]+)::\}\}$/.exec(parts[2])?.[1]}`;
  };
  const onDelete = (r: any) => (r.DeletionPolicy ?? 'Delete').toLowerCase();

  const caches: Model['caches'] = {};
  for (const [lid, r] of of('AWS::ElastiCache::ReplicationGroup')) {
    const p = r.Properties;
    const pg = R[ref(p.CacheParameterGroupName)!].Properties;
    caches[pathOf(lid)] = {
      engine: p.Engine,
      engineVersion: p.EngineVersion,
      nodeType: p.CacheNodeType,
      nodes: p.NumCacheClusters,
      port: p.Port,
      clusterMode: p.ClusterMode ?? 'disabled',
      shards: p.NumNodeGroups ?? 1,
      transit: p.TransitEncryptionEnabled,
      transitMode: p.TransitEncryptionMode ?? null,
      atRest: p.AtRestEncryptionEnabled === true,
      cmk: pathOf(ref(p.KmsKeyId)),
      auth: p.AuthToken === undefined ? 'none' : secretRead(p.AuthToken),
      userGroups: (p.UserGroupIds ?? []).map((g: any) => pathOf(ref(g))),
      multiAz: p.MultiAZEnabled,
      failover: p.AutomaticFailoverEnabled,
      parameterFamily: pg.CacheParameterGroupFamily,
      parameters: pg.Properties,
      subnets: R[ref(p.CacheSubnetGroupName)!].Properties.SubnetIds.length,
      securityGroups: p.SecurityGroupIds.map((g: any) => pathOf(ref(g))),
      snapshotRetentionDays: p.SnapshotRetentionLimit,
      snapshotWindow: p.SnapshotWindow,
      maintenanceWindow: p.PreferredMaintenanceWindow,
      autoMinorVersionUpgrade: p.AutoMinorVersionUpgrade,
      logs: p.LogDeliveryConfigurations.map(
        (l: any) =>
          `${l.LogType}:${l.DestinationType}:${l.LogFormat}:${pathOf(ref(l.DestinationDetails.CloudWatchLogsDetails.LogGroup))}`,
      ),
      onDelete: onDelete(r),
    };
  }
  const brokers: Model['brokers'] = {};
  for (const [lid, r] of of('AWS::AmazonMQ::Broker')) {
    const p = r.Properties;
    const mw = p.MaintenanceWindowStartTime;
    brokers[pathOf(lid)] = {
      engine: String(p.EngineType).toUpperCase(),
      engineVersion: p.EngineVersion,
      hostInstanceType: p.HostInstanceType,
      deploymentMode: p.DeploymentMode,
      public: p.PubliclyAccessible,
      generalLogs: p.Logs?.General === true,
      autoMinorVersionUpgrade: p.AutoMinorVersionUpgrade,
      maintenance: `${mw.DayOfWeek} ${mw.TimeOfDay} ${mw.TimeZone}`,
      users: p.Users.map((u: any) => `${u.Username}:${secretRead(u.Password)}`),
      subnets: p.SubnetIds.length,
      securityGroups: p.SecurityGroups.map((g: any) => pathOf(ref(g))),
      onDelete: onDelete(r),
    };
  }
  const databases: Model['databases'] = {};
  const parameterGroup = (v: any) => {
    const g = R[ref(v)!].Properties;
    return { family: g.Family, parameters: g.Parameters };
  };
  for (const [lid, r] of of('AWS::RDS::DBInstance').filter(([, x]) => !x.Properties.DBClusterIdentifier)) {
    const p = r.Properties;
    databases[pathOf(lid)] = {
      identifier: p.DBInstanceIdentifier,
      engine: p.Engine,
      engineVersion: p.EngineVersion,
      instanceClass: p.DBInstanceClass,
      storage: `${p.AllocatedStorage} to ${p.MaxAllocatedStorage} GiB ${p.StorageType}`,
      encrypted: p.StorageEncrypted,
      cmk: pathOf(ref(p.KmsKeyId)),
      managedMaster: `${p.MasterUsername}:${p.ManageMasterUserPassword}:${pathOf(ref(p.MasterUserSecret?.KmsKeyId))}`,
      multiAz: p.MultiAZ,
      port: Number(p.Port),
      parameterGroup: parameterGroup(p.DBParameterGroupName),
      subnets: R[ref(p.DBSubnetGroupName)!].Properties.SubnetIds.length,
      securityGroups: p.VPCSecurityGroups.map((g: any) => pathOf(ref(g))),
      ca: p.CACertificateIdentifier,
      public: p.PubliclyAccessible,
      autoMinorVersionUpgrade: p.AutoMinorVersionUpgrade,
      iamAuth: p.EnableIAMDatabaseAuthentication,
      backups: `${p.BackupRetentionPeriod} days ${p.PreferredBackupWindow}, automated kept: ${!p.DeleteAutomatedBackups}`,
      maintenanceWindow: p.PreferredMaintenanceWindow,
      deletionProtection: p.DeletionProtection,
      copyTagsToSnapshot: p.CopyTagsToSnapshot,
      logs: p.EnableCloudwatchLogsExports,
      onDelete: onDelete(r),
    };
  }
  for (const [lid, r] of of('AWS::RDS::DBCluster')) {
    const p = r.Properties;
    databases[pathOf(lid)] = {
      identifier: p.DBClusterIdentifier,
      engine: p.Engine,
      engineVersion: p.EngineVersion,
      encrypted: p.StorageEncrypted,
      cmk: pathOf(ref(p.KmsKeyId)),
      managedMaster: `${p.MasterUsername}:${p.ManageMasterUserPassword}:${pathOf(ref(p.MasterUserSecret?.KmsKeyId))}`,
      port: p.Port,
      parameterGroup: parameterGroup(p.DBClusterParameterGroupName),
      subnets: R[ref(p.DBSubnetGroupName)!].Properties.SubnetIds.length,
      securityGroups: p.VpcSecurityGroupIds.map((g: any) => pathOf(ref(g))),
      iamAuth: p.EnableIAMDatabaseAuthentication,
      backups: `${p.BackupRetentionPeriod} days ${p.PreferredBackupWindow}, automated kept: ${!p.DeleteAutomatedBackups}`,
      maintenanceWindow: p.PreferredMaintenanceWindow,
      deletionProtection: p.DeletionProtection,
      copyTagsToSnapshot: p.CopyTagsToSnapshot,
      logs: p.EnableCloudwatchLogsExports,
      onDelete: onDelete(r),
      instances: of('AWS::RDS::DBInstance')
        .filter(([, x]) => ref(x.Properties.DBClusterIdentifier) === lid)
        .map(([ilid, x]) => ({
          path: pathOf(ilid),
          identifier: x.Properties.DBInstanceIdentifier,
          instanceClass: x.Properties.DBInstanceClass,
          ca: x.Properties.CACertificateIdentifier,
          public: x.Properties.PubliclyAccessible,
          autoMinorVersionUpgrade: x.Properties.AutoMinorVersionUpgrade,
        }))
        .sort((a, b) => a.path.localeCompare(b.path)),
    };
  }
  const groups: Model['groups'] = {};
  for (const [lid, r] of of('AWS::EC2::SecurityGroup')) {
    const egress = (r.Properties.SecurityGroupEgress ?? [])
      // aws-cdk-lib's stand-in for "no egress" on a group with allowAllOutbound false (it allows nothing).
      .filter((e: any) => !(e.CidrIp === '255.255.255.255/32' && e.IpProtocol === 'icmp'))
      .map(
        (e: any) =>
          `${e.IpProtocol}:${e.FromPort}-${e.ToPort} to ${e.CidrIp ?? e.CidrIpv6 ?? pathOf(ref(e.DestinationSecurityGroupId))}`,
      );
    groups[pathOf(lid)] = { description: r.Properties.GroupDescription, ingress: [], egress };
  }
  for (const [, r] of of('AWS::EC2::SecurityGroupIngress')) {
    const p = r.Properties;
    groups[pathOf(ref(p.GroupId))]?.ingress.push(
      `${p.IpProtocol}:${p.FromPort}-${p.ToPort} from ${p.CidrIp ?? p.CidrIpv6 ?? pathOf(ref(p.SourceSecurityGroupId))}: ${p.Description}`,
    );
  }
  for (const [, r] of of('AWS::EC2::SecurityGroupEgress')) {
    const p = r.Properties;
    groups[pathOf(ref(p.GroupId))]?.egress.push(
      `${p.IpProtocol}:${p.FromPort}-${p.ToPort} to ${p.CidrIp ?? p.CidrIpv6 ?? pathOf(ref(p.DestinationSecurityGroupId))}`,
    );
  }
  const keys: Model['keys'] = {};
  for (const [lid, r] of of('AWS::KMS::Key')) {
    const statements = r.Properties.KeyPolicy.Statement as any[];
    keys[pathOf(lid)] = {
      rotation: r.Properties.EnableKeyRotation,
      onDelete: onDelete(r),
      accountStatement: statements.some((s) => s.Action === 'kms:*' && JSON.stringify(s.Principal).includes(':root')),
      logsStatement: statements.some(
        (s) => String(s.Principal?.Service).startsWith('logs.') && s.Condition?.ArnLike !== undefined,
      ),
      openStatement: statements.some((s) => (s.Principal === '*' || s.Principal?.AWS === '*') && !s.Condition),
    };
  }
  const secrets: Model['secrets'] = {};
  for (const [lid, r] of of('AWS::SecretsManager::Secret')) {
    const g = r.Properties.GenerateSecretString;
    secrets[pathOf(lid)] = {
      cmk: pathOf(ref(r.Properties.KmsKeyId)),
      description: userIds(r.Properties.Description),
      generated: {
        length: g.PasswordLength,
        excludePunctuation: g.ExcludePunctuation,
        includeSpace: g.IncludeSpace,
        eachType: g.RequireEachIncludedType,
        field: g.GenerateStringKey,
        template: userIdField(JSON.parse(g.SecretStringTemplate)),
      },
      literalValue: r.Properties.SecretString !== undefined,
    };
  }
  const logGroups: Model['logGroups'] = {};
  for (const [lid, r] of of('AWS::Logs::LogGroup'))
    logGroups[pathOf(lid)] = {
      cmk: pathOf(ref(r.Properties.KmsKeyId)),
      retentionDays: r.Properties.RetentionInDays,
      kept: onDelete(r) === 'retain',
    };
  const [, param] = of('AWS::SSM::Parameter')[0];
  const containers = (R[Object.keys(R).find((k) => R[k].Type === 'AWS::ECS::TaskDefinition')!] as any).Properties
    .ContainerDefinitions as any[];
  const containerModel = (env: any) => ({
    environment: (env.Environment as any[])
      .map((e) => `${e.Name}=${typeof e.Value === 'string' ? e.Value : '<deploy-time>'}`)
      .sort(),
    secrets: (env.Secrets as any[])
      .map((s) =>
        s.ValueFrom.Ref
          ? `${s.Name}<-${pathOf(s.ValueFrom.Ref)}`
          : `${s.Name}<-${pathOf(ref(s.ValueFrom['Fn::Join'][1][0]))}${s.ValueFrom['Fn::Join'][1][1]}`,
      )
      .sort(),
  });

  // Identities: values with references turned into construct paths.
  const value = (v: any): any => {
    if (Array.isArray(v)) return v.map(value);
    if (v && typeof v === 'object') {
      if ('Ref' in v) return PSEUDO[v.Ref] ?? `<${pathOf(v.Ref)}>`;
      if ('Fn::GetAtt' in v) {
        const [lid, attr] = v['Fn::GetAtt'];
        // A log group's Arn attribute ends in ":*" (it covers the streams); Terraform's arn does not.
        return R[lid]?.Type === 'AWS::Logs::LogGroup' && attr === 'Arn' ? `<${pathOf(lid)}>:*` : `<${pathOf(lid)}>`;
      }
      if ('Fn::Join' in v) {
        const parts = v['Fn::Join'][1].map(value);
        return parts.every((x: unknown) => typeof x === 'string') ? parts.join(v['Fn::Join'][0]) : '<deploy-time>';
      }
      if ('Fn::Base64' in v) return value(v['Fn::Base64']);
      if ('Fn::Select' in v || 'Fn::Split' in v || 'Fn::Sub' in v) return '<deploy-time>';
      return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, value(x)]));
    }
    return typeof v === 'string' ? literalFacts(v, brokerNames) : v;
  };
  const brokerNames = of('AWS::AmazonMQ::Broker').map(([, b]) => b.Properties.BrokerName);
  const inCelery = (lid: string) => pathOf(lid).startsWith('Celery/') && !CDK_PROVIDER_FRAMEWORK.test(pathOf(lid));
  const ofCelery = (type: string) => of(type).filter(([lid]) => inCelery(lid));
  const usersResource = ofCelery('Custom::CeleryRabbitMqUsers')[0]?.[1];
  const postgresUsersResource = ofCelery('Custom::CeleryPostgresUsers')[0]?.[1];
  const functions: Model['functions'] = {};
  for (const [lid, r] of ofCelery('AWS::Lambda::Function')) {
    const p = r.Properties;
    functions[pathOf(lid)] = {
      handler: sameEntry(p.Handler),
      runtime: p.Runtime,
      timeout: p.Timeout,
      memory: p.MemorySize,
      environment: value(p.Environment?.Variables ?? {}),
      securityGroups: value(p.VpcConfig?.SecurityGroupIds ?? []),
      subnets: p.VpcConfig?.SubnetIds?.length ?? 0,
      role: value(p.Role),
      logGroup: value(p.LoggingConfig?.LogGroup),
    };
  }
  const roles: Model['roles'] = {};
  for (const [lid, r] of ofCelery('AWS::IAM::Role'))
    roles[pathOf(lid)] = {
      trust: statements(r.Properties.AssumeRolePolicyDocument.Statement, value),
      statements: ofCelery('AWS::IAM::ManagedPolicy')
        .filter(([, m]) => m.Properties.Roles.some((x: any) => x.Ref === lid))
        .flatMap(([, m]) => statements(m.Properties.PolicyDocument.Statement, value)),
    };
  const invokers = ofCelery('AWS::Lambda::Permission')
    .filter(([, r]) => inCelery(ref(r.Properties.FunctionName)!))
    .map(([, r]) => `${value(r.Properties.FunctionName)} ${r.Properties.Action} ${r.Properties.Principal}`)
    .sort();
  const rotations: Model['rotations'] = {};
  for (const [, r] of ofCelery('AWS::SecretsManager::RotationSchedule'))
    rotations[String(value(r.Properties.SecretId))] = {
      function: value(r.Properties.RotationLambdaARN),
      schedule: r.Properties.RotationRules.ScheduleExpression,
    };
  const rbac: Model['rbac'] = {};
  for (const [lid, r] of ofCelery('AWS::ElastiCache::User')) {
    const p = r.Properties;
    rbac[pathOf(lid)] = {
      engine: p.Engine,
      userName: p.UserName,
      accessString: p.AccessString,
      authentication: p.AuthenticationMode.Type,
      passwords: (p.AuthenticationMode.Passwords ?? []).map(secretRead),
    };
  }
  for (const [lid, r] of ofCelery('AWS::ElastiCache::UserGroup'))
    rbac[pathOf(lid)] = { engine: r.Properties.Engine, users: value(r.Properties.UserIds) };
  const endpoints: Model['endpoints'] = {};
  for (const [lid, r] of ofCelery('AWS::EC2::VPCEndpoint')) {
    const p = r.Properties;
    endpoints[pathOf(lid)] = {
      service: value(p.ServiceName),
      type: p.VpcEndpointType,
      privateDns: p.PrivateDnsEnabled,
      securityGroups: value(p.SecurityGroupIds),
      subnets: p.SubnetIds.length,
      policy: statements(p.PolicyDocument.Statement, value),
    };
  }
  const brokerConfigurations: Model['brokerConfigurations'] = {};
  for (const [lid, r] of ofCelery('AWS::AmazonMQ::Configuration')) {
    const p = r.Properties;
    brokerConfigurations[pathOf(lid)] = {
      suffix: /-(mtls|celery)$/.exec(p.Name)?.[1],
      description: p.Description,
      engine: String(p.EngineType).toUpperCase(),
      engineVersion: p.EngineVersion,
      data: value(p.Data),
      usedBy: of('AWS::AmazonMQ::Broker')
        .filter(([, b]) => ref(b.Properties.Configuration?.Id) === lid)
        .map(([b]) => pathOf(b)),
    };
  }
  const certificateAuthorities: Model['certificateAuthorities'] = {};
  for (const [lid, r] of ofCelery('AWS::ACMPCA::CertificateAuthority')) {
    const p = r.Properties;
    const [, cert] = of('AWS::ACMPCA::Certificate').find(
      ([, c]) => ref(c.Properties.CertificateSigningRequest) === lid,
    )!;
    const [, activation] = of('AWS::ACMPCA::CertificateAuthorityActivation').find(
      ([, a]) => ref(a.Properties.CertificateAuthorityArn) === lid,
    )!;
    certificateAuthorities[pathOf(lid)] = {
      type: p.Type,
      keyAlgorithm: p.KeyAlgorithm,
      signingAlgorithm: p.SigningAlgorithm,
      subject: p.Subject.CommonName,
      usageMode: p.UsageMode,
      signedBy: value(cert.Properties.CertificateAuthorityArn),
      parentSigningAlgorithm: cert.Properties.SigningAlgorithm,
      template: value(cert.Properties.TemplateArn),
      validity: `${cert.Properties.Validity.Value} ${cert.Properties.Validity.Type}`,
      chain: activation.Properties.CertificateChain,
      kept: [r, activation].every((x) => onDelete(x) === 'retain'),
    };
  }
  const alarms: Model['alarms'] = {};
  for (const [lid, r] of ofCelery('AWS::CloudWatch::Alarm')) {
    const p = r.Properties;
    const metric = (m: any, stat: string, period: number) => ({
      namespace: m.Namespace,
      metric: m.MetricName,
      dimensions: sortedDims(
        (m.Dimensions ?? []).map((d: any) => [
          d.Name,
          d.Name === 'Secret' ? '<secret name>' : brokerNames.includes(d.Value) ? '<broker name>' : value(d.Value),
        ]),
      ),
      stat,
      period,
    });
    const math = p.Metrics as any[] | undefined;
    alarms[pathOf(lid)] = {
      metrics: math
        ? math
            .filter((q) => q.MetricStat)
            .map((q) => metric(q.MetricStat.Metric, q.MetricStat.Stat, q.MetricStat.Period))
        : [metric(p, p.Statistic, p.Period)],
      expression: math?.find((q) => q.Expression)?.Expression,
      comparison: p.ComparisonOperator,
      threshold: p.Threshold,
      evaluationPeriods: p.EvaluationPeriods,
      datapoints: p.DatapointsToAlarm,
      missing: p.TreatMissingData,
      // The client-certificate secrets' names are deploy-time values of different shapes on the two targets.
      description: secretNames(value(p.AlarmDescription)),
      actions: value([...p.AlarmActions, ...p.OKActions]),
    };
  }
  const topics = ofCelery('AWS::SNS::Topic');
  const dashboards = ofCelery('AWS::CloudWatch::Dashboard');
  const monitoring = {
    topics: topics.map(([lid, t]) => ({ topic: pathOf(lid), key: value(t.Properties.KmsMasterKeyId) })),
    tlsOnly: ofCelery('AWS::SNS::TopicPolicy').map(([, p]) => p.Properties.PolicyDocument.Statement[0].Condition),
    widgets: dashboards.map(([, d]) => (value(d.Properties.DashboardBody).match(/"alarms":\[/g) ?? []).length),
  };
  return {
    caches: sortedEntries(caches),
    brokers: sortedEntries(brokers),
    groups: normalizeGroups(groups),
    keys: sortedEntries(keys),
    secrets: sortedEntries(secrets),
    logGroups: sortedEntries(logGroups),
    manifest: { type: param.Properties.Type, tier: param.Properties.Tier },
    outputs: stack.node
      .findAll()
      .filter((c) => c instanceof CfnOutput)
      .map((c) => short(c.node.path))
      .sort(),
    celery: Object.fromEntries(
      ROLES.map((role) => [role, literalOnly(t.celeryConfigFor(role).model, (v) => CdkToken.isUnresolved(v))]),
    ),
    container: Object.fromEntries(ROLES.map((role) => [role, containerModel(containers.find((c) => c.Name === role))])),
    // Without CloudFormation's plumbing: the provider's token, and how long CloudFormation waits for it.
    users: usersResource
      ? value((({ ServiceToken, ServiceTimeout, ...rest }) => rest)(usersResource.Properties))
      : undefined,
    functions: sortedEntries(functions),
    roles: sortedEntries(roles),
    invokers,
    rotations: sortedEntries(rotations),
    rbac: sortedEntries(rbac),
    endpoints,
    brokerConfigurations,
    certificateAuthorities,
    alarms: sortedEntries(alarms),
    monitoring,
    databases: sortedEntries(databases),
    postgresUsers: postgresUsersResource
      ? value((({ ServiceToken, ServiceTimeout, ...rest }) => rest)(postgresUsersResource.Properties))
      : undefined,
  };
}

const ROLES = [CeleryRole.PRODUCER, CeleryRole.WORKER];
const PSEUDO: Record<string, string> = {
  'AWS::Region': '<region>',
  'AWS::Partition': '<partition>',
  'AWS::AccountId': '<account>',
  'AWS::URLSuffix': '<url-suffix>',
};

// ---- cdktf (cdk.tf.json) ----

function tfModel(spec: Spec): Model {
  const { stack } = tfStack();
  const t = new tf.CeleryTransport(stack, 'Celery', {
    vpcId: VPC_ID,
    subnets: subnets(),
    ...transportProps(tf, spec),
  } as never);
  const containers = Object.fromEntries(ROLES.map((role) => [role, t.containerEnvironment(role)]));
  const json = JSON.parse(Testing.synth(stack)) as TfJson;
  const paths = new Map<string, string>();
  for (const c of stack.node.findAll())
    if (c instanceof TerraformElement) paths.set(c.friendlyUniqueId, short(c.node.path));
  const pathOf = (name: string | undefined) => paths.get(name ?? '') ?? `?${name}`;
  const ref = (v: any) =>
    typeof v === 'string' ? /^\$\{(?:data\.)?aws_[a-z0-9_]+\.([A-Za-z0-9_]+)\.[a-z_]+\}$/.exec(v)?.[1] : undefined;
  const of = (type: string) => Object.entries(json.resource?.[type] ?? {});
  const secretRead = (v: any): string => {
    const m =
      typeof v === 'string'
        ? /^\$\{jsondecode\(data\.aws_secretsmanager_secret_version\.([A-Za-z0-9_]+)\.secret_string\)\.([A-Za-z0-9_.-]+)\}$/.exec(
            v,
          )
        : null;
    if (!m) return typeof v === 'string' ? 'literal' : 'none';
    const source = json.data!.aws_secretsmanager_secret_version[m[1]];
    return `secretsmanager:${pathOf(ref(source.secret_id))}:${m[2]}`;
  };
  const onDelete = (r: any, otherwise: string) => (r.lifecycle?.prevent_destroy ? 'retain' : otherwise);
  const bool = (v: unknown) => v === true || v === 'true';

  const caches: Model['caches'] = {};
  for (const [name, p] of of('aws_elasticache_replication_group')) {
    const pg = json.resource!.aws_elasticache_parameter_group[ref(p.parameter_group_name)!];
    caches[pathOf(name)] = {
      engine: p.engine,
      engineVersion: p.engine_version,
      nodeType: p.node_type,
      nodes: p.num_cache_clusters,
      port: p.port,
      clusterMode: p.cluster_mode ?? 'disabled',
      shards: p.num_node_groups ?? 1,
      transit: p.transit_encryption_enabled,
      transitMode: p.transit_encryption_mode ?? null,
      atRest: bool(p.at_rest_encryption_enabled),
      cmk: pathOf(ref(p.kms_key_id)),
      auth: p.auth_token === undefined ? 'none' : secretRead(p.auth_token),
      userGroups: (p.user_group_ids ?? []).map((g: any) => pathOf(ref(g))),
      multiAz: p.multi_az_enabled,
      failover: p.automatic_failover_enabled,
      parameterFamily: pg.family,
      parameters: Object.fromEntries(pg.parameter.map((x: any) => [x.name, x.value])),
      subnets: json.resource!.aws_elasticache_subnet_group[ref(p.subnet_group_name)!].subnet_ids.length,
      securityGroups: p.security_group_ids.map((g: any) => pathOf(ref(g))),
      snapshotRetentionDays: p.snapshot_retention_limit,
      snapshotWindow: p.snapshot_window,
      maintenanceWindow: p.maintenance_window,
      autoMinorVersionUpgrade: bool(p.auto_minor_version_upgrade),
      logs: p.log_delivery_configuration.map(
        (l: any) => `${l.log_type}:${l.destination_type}:${l.log_format}:${pathOf(ref(l.destination))}`,
      ),
      onDelete: onDelete(p, p.final_snapshot_identifier ? 'snapshot' : 'delete'),
    };
  }
  const brokers: Model['brokers'] = {};
  for (const [name, p] of of('aws_mq_broker')) {
    const mw = p.maintenance_window_start_time;
    brokers[pathOf(name)] = {
      engine: String(p.engine_type).toUpperCase(),
      engineVersion: p.engine_version,
      hostInstanceType: p.host_instance_type,
      deploymentMode: p.deployment_mode,
      public: p.publicly_accessible,
      generalLogs: p.logs?.general === true,
      autoMinorVersionUpgrade: p.auto_minor_version_upgrade,
      maintenance: `${mw.day_of_week} ${mw.time_of_day} ${mw.time_zone}`,
      users: p.user.map((u: any) => `${u.username}:${secretRead(u.password)}`),
      subnets: p.subnet_ids.length,
      securityGroups: p.security_groups.map((g: any) => pathOf(ref(g))),
      onDelete: onDelete(p, 'delete'),
    };
  }
  const groups: Model['groups'] = {};
  for (const [name, g] of of('aws_security_group')) {
    // Inline egress would be listed (and differ); without it the provider removes AWS's allow-all default.
    const inline = (g.egress ?? []).map(
      (e: any) => `${e.protocol}:${e.from_port}-${e.to_port} to ${(e.cidr_blocks ?? []).join(',')}`,
    );
    groups[pathOf(name)] = { description: g.description, ingress: [], egress: inline };
  }
  for (const [, p] of of('aws_vpc_security_group_ingress_rule')) {
    groups[pathOf(ref(p.security_group_id))]?.ingress.push(
      `${p.ip_protocol}:${p.from_port}-${p.to_port} from ${p.cidr_ipv4 ?? p.cidr_ipv6 ?? pathOf(ref(p.referenced_security_group_id))}: ${p.description}`,
    );
  }
  for (const [, p] of of('aws_vpc_security_group_egress_rule')) {
    groups[pathOf(ref(p.security_group_id))]?.egress.push(
      `${p.ip_protocol}:${p.from_port}-${p.to_port} to ${p.cidr_ipv4 ?? p.cidr_ipv6 ?? pathOf(ref(p.referenced_security_group_id))}`,
    );
  }
  const keys: Model['keys'] = {};
  for (const [name, k] of of('aws_kms_key')) {
    const statements = JSON.parse(k.policy).Statement as any[];
    keys[pathOf(name)] = {
      rotation: k.enable_key_rotation,
      onDelete: onDelete(k, 'delete'),
      accountStatement: statements.some((s) => s.Action === 'kms:*' && JSON.stringify(s.Principal).includes(':root')),
      logsStatement: statements.some(
        (s) => String(s.Principal?.Service).startsWith('logs.') && s.Condition?.ArnLike !== undefined,
      ),
      openStatement: statements.some((s) => (s.Principal === '*' || s.Principal?.AWS === '*') && !s.Condition),
    };
  }
  const secrets: Model['secrets'] = {};
  for (const [name, s] of of('aws_secretsmanager_secret')) {
    const path = pathOf(name);
    const gen = Object.entries(json.data?.aws_secretsmanager_random_password ?? {}).find(
      ([n]) => pathOf(n) === `${path}/Generator`,
    )![1];
    const version = Object.entries(json.resource?.aws_secretsmanager_secret_version ?? {}).find(
      ([n]) => pathOf(n) === `${path}/Value`,
    )![1];
    const wo = String(version.secret_string_wo);
    secrets[path] = {
      cmk: pathOf(ref(s.kms_key_id)),
      description: userIds(s.description),
      generated: {
        length: gen.password_length,
        excludePunctuation: gen.exclude_punctuation,
        includeSpace: gen.include_space,
        eachType: gen.require_each_included_type,
        field: /"([A-Za-z0-9_]+)" = data\.aws_secretsmanager_random_password\./.exec(wo)?.[1],
        template: userIdField(
          Object.fromEntries([...wo.matchAll(/"([A-Za-z0-9_]+)" = "([^"]*)"/g)].map((m) => [m[1], m[2]])),
        ),
      },
      literalValue: version.secret_string !== undefined,
    };
  }
  const logGroups: Model['logGroups'] = {};
  for (const [name, l] of of('aws_cloudwatch_log_group'))
    logGroups[pathOf(name)] = {
      cmk: pathOf(ref(l.kms_key_id)),
      retentionDays: l.retention_in_days,
      kept: l.skip_destroy === true,
    };
  const [, param] = of('aws_ssm_parameter')[0];
  const secretPath = (arn: string) => pathOf(ref(arn)).replace(/\/Resource$/, '');
  const containerModel = (container: tf.CeleryContainerEnvironment) => ({
    environment: container.environment
      .map((e) => `${e.name}=${TfToken.isUnresolved(e.value) ? '<deploy-time>' : e.value}`)
      .sort(),
    secrets: container.secrets
      .map((s) => {
        const [arn, rest] = [
          s.valueFrom.slice(0, s.valueFrom.indexOf('}') + 1),
          s.valueFrom.slice(s.valueFrom.indexOf('}') + 1),
        ];
        return `${s.name}<-${secretPath(resolveIn(stack, arn))}${rest}`;
      })
      .sort(),
  });

  // Identities: every `${...}` that names one resource becomes its construct path; other expressions are deploy-time.
  const FACTS: Record<string, string> = {
    aws_region: '<region>',
    aws_partition: '<partition>',
    aws_caller_identity: '<account>',
  };
  const brokerNames = of('aws_mq_broker').map(([, b]) => b.broker_name);
  const text = (v: string) =>
    literalFacts(
      v.replace(/\$\{([^{}]*)\}/g, (_, e: string) => {
        // The RDS-managed master secret is an attribute of its database on both targets (GetAtt MasterUserSecret.SecretArn).
        const m = /^(data\.)?(aws_[a-z0-9_]+)\.([A-Za-z0-9_]+)\.(?:[a-z_]+|master_user_secret\[0\]\.secret_arn)$/.exec(
          e,
        );
        if (!m) return '<deploy-time>';
        return FACTS[m[2]] ?? `<${pathOf(m[3]).replace(/\/Resource$/, '')}>`;
      }),
      brokerNames,
    );
  const value = (v: any): any =>
    Array.isArray(v)
      ? v.map(value)
      : v && typeof v === 'object'
        ? Object.fromEntries(Object.entries(v).map(([k, x]) => [k, value(x)]))
        : typeof v === 'string'
          ? text(v)
          : v;
  const json_ = (v: string) => JSON.parse(text(v));
  const functions: Model['functions'] = {};
  for (const [name, f] of of('aws_lambda_function'))
    functions[pathOf(name)] = {
      handler: sameEntry(f.handler),
      runtime: f.runtime,
      timeout: f.timeout,
      memory: f.memory_size,
      environment: value(f.environment?.variables ?? {}),
      securityGroups: value(f.vpc_config?.security_group_ids ?? []),
      subnets: f.vpc_config?.subnet_ids?.length ?? 0,
      role: value(f.role),
      logGroup: value(f.logging_config?.log_group),
    };
  const roles: Model['roles'] = {};
  for (const [name, r] of of('aws_iam_role'))
    roles[pathOf(name)] = {
      trust: statements(json_(r.assume_role_policy).Statement, (x) => x),
      statements: of('aws_iam_role_policy_attachment')
        .filter(([, a]) => ref(a.role) === name)
        .flatMap(([, a]) =>
          statements(json_(json.resource!.aws_iam_policy[ref(a.policy_arn)!].policy).Statement, (x) => x),
        ),
    };
  const invokers = of('aws_lambda_permission')
    .map(([, p]) => `${value(p.function_name)} ${p.action} ${p.principal}`)
    .sort();
  const rotations: Model['rotations'] = {};
  for (const [, r] of of('aws_secretsmanager_secret_rotation'))
    rotations[String(value(r.secret_id))] = {
      function: value(r.rotation_lambda_arn),
      schedule: r.rotation_rules.schedule_expression,
    };
  const rbac: Model['rbac'] = {};
  for (const [name, u] of of('aws_elasticache_user'))
    rbac[pathOf(name)] = {
      engine: u.engine,
      userName: u.user_name,
      accessString: u.access_string,
      authentication: u.authentication_mode.type,
      passwords: (u.authentication_mode.passwords ?? []).map(secretRead),
    };
  for (const [name, g] of of('aws_elasticache_user_group'))
    rbac[pathOf(name)] = { engine: g.engine, users: value(g.user_ids) };
  const endpoints: Model['endpoints'] = {};
  for (const [name, e] of of('aws_vpc_endpoint')) {
    const [, policy] = of('aws_vpc_endpoint_policy').find(([, p]) => ref(p.vpc_endpoint_id) === name)!;
    endpoints[pathOf(name)] = {
      service: value(e.service_name),
      type: e.vpc_endpoint_type,
      privateDns: e.private_dns_enabled,
      securityGroups: value(e.security_group_ids),
      subnets: e.subnet_ids.length,
      policy: statements(json_(policy.policy).Statement, (x) => x),
    };
  }
  const brokerConfigurations: Model['brokerConfigurations'] = {};
  for (const [name, c] of of('aws_mq_configuration'))
    brokerConfigurations[pathOf(name)] = {
      suffix: /-(mtls|celery)$/.exec(c.name)?.[1],
      description: c.description,
      engine: String(c.engine_type).toUpperCase(),
      engineVersion: c.engine_version,
      data: value(c.data),
      usedBy: of('aws_mq_broker')
        .filter(([, b]) => ref(b.configuration?.id) === name)
        .map(([b]) => pathOf(b)),
    };
  const certificateAuthorities: Model['certificateAuthorities'] = {};
  for (const [name, ca] of of('aws_acmpca_certificate_authority')) {
    const conf = ca.certificate_authority_configuration;
    const [, cert] = of('aws_acmpca_certificate').find(
      ([, c]) =>
        /aws_acmpca_certificate_authority\.([A-Za-z0-9_]+)\./.exec(c.certificate_signing_request)?.[1] === name,
    )!;
    const [, installed] = of('aws_acmpca_certificate_authority_certificate').find(
      ([, a]) => ref(a.certificate_authority_arn) === name,
    )!;
    certificateAuthorities[pathOf(name)] = {
      type: ca.type,
      keyAlgorithm: conf.key_algorithm,
      signingAlgorithm: conf.signing_algorithm,
      subject: conf.subject.common_name,
      usageMode: ca.usage_mode,
      signedBy: value(cert.certificate_authority_arn),
      parentSigningAlgorithm: cert.signing_algorithm,
      template: value(cert.template_arn),
      validity: `${Number(cert.validity.value)} ${cert.validity.type}`,
      chain: installed.certificate_chain,
      kept: [ca, installed].every((x) => x.lifecycle?.prevent_destroy === true),
    };
  }
  const alarms: Model['alarms'] = {};
  for (const [name, p] of of('aws_cloudwatch_metric_alarm')) {
    const metric = (m: any, stat: string, period: number) => ({
      namespace: m.namespace,
      metric: m.metric_name,
      dimensions: sortedDims(
        Object.entries(m.dimensions ?? {}).map(([k, v]) => [
          k,
          k === 'Secret' ? '<secret name>' : brokerNames.includes(v) ? '<broker name>' : value(v),
        ]),
      ),
      stat,
      period,
    });
    const math = p.metric_query as any[] | undefined;
    alarms[pathOf(name)] = {
      metrics: math
        ? math.filter((q) => q.metric).map((q) => metric(q.metric, q.metric.stat, q.metric.period))
        : [metric(p, p.statistic, p.period)],
      expression: math?.find((q) => q.expression)?.expression,
      comparison: p.comparison_operator,
      threshold: p.threshold,
      evaluationPeriods: p.evaluation_periods,
      datapoints: p.datapoints_to_alarm,
      missing: p.treat_missing_data,
      description: secretNames(value(p.alarm_description)),
      actions: value([...p.alarm_actions, ...p.ok_actions]),
    };
  }
  const monitoring = {
    topics: of('aws_sns_topic').map(([name, t]) => ({ topic: pathOf(name), key: value(t.kms_master_key_id) })),
    tlsOnly: of('aws_sns_topic_policy').map(([, p]) => json_(p.policy).Statement[0].Condition),
    widgets: of('aws_cloudwatch_dashboard').map(
      ([, d]) => (String(d.dashboard_body).match(/"alarms":\[/g) ?? []).length,
    ),
  };
  const databases: Model['databases'] = {};
  const tfParameterGroup = (type: string, v: any) => {
    const g = json.resource![type][ref(v)!];
    return { family: g.family, parameters: Object.fromEntries(g.parameter.map((x: any) => [x.name, x.value])) };
  };
  const snapshotOnDelete = (p: any) =>
    onDelete(p, p.skip_final_snapshot === false && p.final_snapshot_identifier ? 'snapshot' : 'delete');
  for (const [name, p] of of('aws_db_instance')) {
    databases[pathOf(name)] = {
      identifier: p.identifier,
      engine: p.engine,
      engineVersion: p.engine_version,
      instanceClass: p.instance_class,
      storage: `${p.allocated_storage} to ${p.max_allocated_storage} GiB ${p.storage_type}`,
      encrypted: p.storage_encrypted,
      cmk: pathOf(ref(p.kms_key_id)),
      managedMaster: `${p.username}:${p.manage_master_user_password}:${pathOf(ref(p.master_user_secret_kms_key_id))}`,
      multiAz: p.multi_az,
      port: p.port,
      parameterGroup: tfParameterGroup('aws_db_parameter_group', p.parameter_group_name),
      subnets: json.resource!.aws_db_subnet_group[ref(p.db_subnet_group_name)!].subnet_ids.length,
      securityGroups: p.vpc_security_group_ids.map((g: any) => pathOf(ref(g))),
      ca: p.ca_cert_identifier,
      public: p.publicly_accessible,
      autoMinorVersionUpgrade: p.auto_minor_version_upgrade,
      iamAuth: p.iam_database_authentication_enabled,
      backups: `${p.backup_retention_period} days ${p.backup_window}, automated kept: ${!p.delete_automated_backups}`,
      maintenanceWindow: p.maintenance_window,
      deletionProtection: p.deletion_protection,
      copyTagsToSnapshot: p.copy_tags_to_snapshot,
      logs: p.enabled_cloudwatch_logs_exports,
      onDelete: snapshotOnDelete(p),
    };
  }
  for (const [name, p] of of('aws_rds_cluster')) {
    databases[pathOf(name)] = {
      identifier: p.cluster_identifier,
      engine: p.engine,
      engineVersion: p.engine_version,
      encrypted: p.storage_encrypted,
      cmk: pathOf(ref(p.kms_key_id)),
      managedMaster: `${p.master_username}:${p.manage_master_user_password}:${pathOf(ref(p.master_user_secret_kms_key_id))}`,
      port: p.port,
      parameterGroup: tfParameterGroup('aws_rds_cluster_parameter_group', p.db_cluster_parameter_group_name),
      subnets: json.resource!.aws_db_subnet_group[ref(p.db_subnet_group_name)!].subnet_ids.length,
      securityGroups: p.vpc_security_group_ids.map((g: any) => pathOf(ref(g))),
      iamAuth: p.iam_database_authentication_enabled,
      backups: `${p.backup_retention_period} days ${p.preferred_backup_window}, automated kept: ${!p.delete_automated_backups}`,
      maintenanceWindow: p.preferred_maintenance_window,
      deletionProtection: p.deletion_protection,
      copyTagsToSnapshot: p.copy_tags_to_snapshot,
      logs: p.enabled_cloudwatch_logs_exports,
      onDelete: snapshotOnDelete(p),
      instances: of('aws_rds_cluster_instance')
        .filter(([, x]) => ref(x.cluster_identifier) === name)
        .map(([iname, x]) => ({
          path: pathOf(iname),
          identifier: x.identifier,
          instanceClass: x.instance_class,
          ca: x.ca_cert_identifier,
          public: x.publicly_accessible,
          autoMinorVersionUpgrade: x.auto_minor_version_upgrade,
        }))
        .sort((a, b) => a.path.localeCompare(b.path)),
    };
  }
  const invocation = of('aws_lambda_invocation').find(([n]) => pathOf(n) === 'Celery/BrokerUsers')?.[1];
  const postgresInvocation = of('aws_lambda_invocation').find(([n]) => pathOf(n) === 'Celery/ResultBackend/Users')?.[1];
  return {
    caches: sortedEntries(caches),
    brokers: sortedEntries(brokers),
    groups: normalizeGroups(groups),
    keys: sortedEntries(keys),
    secrets: sortedEntries(secrets),
    logGroups: sortedEntries(logGroups),
    manifest: { type: param.type, tier: param.tier },
    outputs: stack.node
      .findAll()
      .filter((c) => c instanceof TerraformOutput)
      .map((c) => short(c.node.path))
      .sort(),
    celery: Object.fromEntries(
      ROLES.map((role) => [role, literalOnly(t.celeryConfigFor(role).model, (v) => TfToken.isUnresolved(v))]),
    ),
    container: Object.fromEntries(ROLES.map((role) => [role, containerModel(containers[role])])),
    users: invocation ? json_(invocation.input) : undefined,
    functions: sortedEntries(functions),
    roles: sortedEntries(roles),
    invokers,
    rotations: sortedEntries(rotations),
    rbac: sortedEntries(rbac),
    endpoints,
    brokerConfigurations,
    certificateAuthorities,
    alarms: sortedEntries(alarms),
    monitoring,
    databases: sortedEntries(databases),
    postgresUsers: postgresInvocation ? json_(postgresInvocation.input) : undefined,
  };
}

function resolveIn(stack: TerraformStack, value: string): string {
  return Tokenization.resolve(value, { scope: stack, resolver: new DefaultTokenResolver(new StringConcat()) });
}

function normalizeGroups(groups: Model['groups']): Model['groups'] {
  return sortedEntries(
    Object.fromEntries(
      Object.entries(groups).map(([k, g]) => [
        k,
        { description: g.description, ingress: [...g.ingress].sort(), egress: [...g.egress].sort() },
      ]),
    ),
  );
}

// ---------------------------------------------------------------------------------------------------------------

/** The CDK model without aws-cdk-lib's custom-resource provider framework (see `CDK_PROVIDER_FRAMEWORK`). */
function withoutProviderFramework(m: Model): Model {
  const keep = <T>(o: Record<string, T>) =>
    Object.fromEntries(Object.entries(o).filter(([k]) => !CDK_PROVIDER_FRAMEWORK.test(k)));
  return { ...m, groups: keep(m.groups), keys: keep(m.keys), secrets: keep(m.secrets), logGroups: keep(m.logGroups) };
}

const PARTS = [
  'caches',
  'brokers',
  'groups',
  'keys',
  'secrets',
  'logGroups',
  'manifest',
  'outputs',
  'celery',
  'container',
  'users',
  'functions',
  'roles',
  'invokers',
  'rotations',
  'rbac',
  'endpoints',
  'brokerConfigurations',
  'certificateAuthorities',
  'alarms',
  'monitoring',
  'databases',
  'postgresUsers',
] as const;

describe.each(SPECS.map((s) => [s.name, s] as const))('parity: %s', (_name, spec) => {
  const fromCdk = withoutProviderFramework(cdkModel(spec));
  const fromTf = tfModel(spec);

  test.each(PARTS)('%s are the same on both targets', (part) => {
    expect(fromTf[part]).toEqual(fromCdk[part]);
  });

  test('the model is not empty (the normalizers found what they compare)', () => {
    expect(Object.keys(fromCdk.caches).length + Object.keys(fromCdk.brokers).length).toBeGreaterThan(0);
    expect(Object.keys(fromCdk.groups).length).toBeGreaterThanOrEqual(3);
    expect(Object.values(fromCdk.groups).flatMap((g) => g.ingress).length).toBeGreaterThan(0);
    const rabbit = spec.broker === undefined || spec.broker.kind === 'rabbitMq';
    const rbac = Object.keys(fromCdk.rbac).length > 0;
    // Every secret the library owns rotates (the PostgreSQL role secrets too, alternating roles), but AUTH tokens
    // (they rotate by version: docs/cdktf.md).
    const tokens = Object.values(fromCdk.caches).map((c: any) => /^secretsmanager:([^:]+):/.exec(c.auth)?.[1]);
    const postgresRoles = Object.keys(fromCdk.databases).length
      ? ['Celery/ResultBackend/WorkerCredentials', 'Celery/ResultBackend/ProducerCredentials']
      : [];
    expect(Object.keys(fromCdk.rotations).sort()).toEqual(
      Object.keys(fromCdk.secrets)
        .filter((k) => !tokens.includes(k))
        .map((k) => `<${k}>`)
        .sort(),
    );
    if (rabbit) {
      expect((fromCdk.users as any).Users.length).toBeGreaterThan(0);
      expect(Object.keys(fromCdk.functions).length).toBeGreaterThanOrEqual(2);
      expect(Object.values(fromCdk.roles).flatMap((r: any) => r.statements).length).toBeGreaterThan(4);
      expect(Object.keys(fromCdk.endpoints)).toEqual([
        'Celery/BrokerUsers/SecretsManagerEndpoint',
        ...(postgresRoles.length ? ['Celery/ResultBackend/Users/SecretsManagerEndpoint'] : []),
      ]);
      for (const role of ROLES) expect((fromCdk.celery[role] as any).broker.username).not.toBe('celeryadmin');
    } else expect(fromCdk.users).toBeUndefined();
    if (postgresRoles.length) {
      // The database, TLS forced by its parameter group; the users custom resource names the three secrets.
      expect(Object.values(fromCdk.databases).map((d: any) => d.parameterGroup.parameters['rds.force_ssl'])).toEqual([
        '1',
      ]);
      expect(Object.keys(fromCdk.postgresUsers as object)).toEqual(
        expect.arrayContaining(['MasterSecretArn', 'WorkerSecretArn', 'ProducerSecretArn']),
      );
      // Both role secrets rotate through the users function itself, on the spec's schedule.
      const days = (spec.resultBackend as any).options?.rotationDays ?? 30;
      for (const secret of postgresRoles)
        expect(fromCdk.rotations[`<${secret}>`]).toEqual({
          function: '<Celery/ResultBackend/Users/Function>',
          schedule: `rate(${days} days)`,
        });
    } else expect(fromCdk.postgresUsers).toBeUndefined();
    if (rbac) expect(Object.values(fromCdk.rbac).filter((u: any) => u.userName === 'default')).toHaveLength(1);
    // Monitoring is on by default: alarms on every resource, one dashboard widget per alarm, an encrypted topic.
    expect(Object.keys(fromCdk.alarms).length).toBeGreaterThanOrEqual(3);
    expect(fromCdk.monitoring).toEqual({
      topics: [{ topic: 'Celery/AlarmTopic', key: '<Celery/AlarmTopicKey>' }],
      tlsOnly: [{ Bool: { 'aws:SecureTransport': 'false' } }],
      widgets: [Object.keys(fromCdk.alarms).length],
    });
  });
});

test('the roles log in as different users where the spec says so, on both targets', () => {
  for (const [model, name] of [
    [withoutProviderFramework(cdkModel(SPECS[4])), 'cdk'],
    [tfModel(SPECS[4]), 'cdktf'],
  ] as const) {
    const broker = (role: CeleryRole) => (model.celery[role] as any).broker;
    expect([name, broker(CeleryRole.PRODUCER).username, broker(CeleryRole.WORKER).username]).toEqual([
      name,
      'celery-producer',
      'celery-worker',
    ]);
    expect((model.container[CeleryRole.WORKER] as any).secrets).toEqual([
      'CELERY_TLS_BROKER_CLIENT_CERT<-Celery/BrokerUsers/WorkerCertificate',
      'CELERY_TLS_RESULT_BACKEND_PASSWORD<-Celery/ResultBackend/WorkerCredentials:password::',
    ]);
  }
});

/** Every library policy statement on "*" has only actions without resource-level permissions. */
test('no wildcard resource on either target but for actions without resource-level permissions', () => {
  for (const spec of SPECS)
    for (const model of [cdkModel(spec), tfModel(spec)])
      for (const st of Object.values(model.roles).flatMap((r: any) => r.statements) as any[])
        if (st.resources.includes('*')) expect(st.actions.filter((a: string) => !STAR_ACTIONS.includes(a))).toEqual([]);
});

describe('parity can fail', () => {
  const spec = SPECS[0];
  const fromCdk = withoutProviderFramework(cdkModel(spec));

  test.each([
    [
      'a different port',
      (m: Model) => {
        (m.caches['Celery/ResultBackend'] as any).port = 6379;
      },
    ],
    [
      'transit mode preferred',
      (m: Model) => {
        (m.caches['Celery/ResultBackend'] as any).transitMode = 'preferred';
      },
    ],
    [
      'a public broker',
      (m: Model) => {
        (m.brokers['Celery/Broker'] as any).public = true;
      },
    ],
    [
      'an extra ingress rule',
      (m: Model) => {
        m.groups['Celery/Broker/SecurityGroup'].ingress.push('tcp:5672-5672 from 0.0.0.0/0: plaintext');
      },
    ],
    [
      'allow-all egress',
      (m: Model) => {
        m.groups['Celery/WorkersSecurityGroup'].egress.push('-1:0-0 to 0.0.0.0/0');
      },
    ],
    [
      'an AWS-managed key',
      (m: Model) => {
        (m.caches['Celery/ResultBackend'] as any).cmk = '?';
      },
    ],
    [
      'a user with other permissions',
      (m: Model) => {
        (m.users as any).Users[1].Read = '^celery$';
      },
    ],
    [
      'a rotation every 120 days',
      (m: Model) => {
        (Object.values(m.rotations)[0] as any).schedule = 'rate(120 days)';
      },
    ],
    [
      'a secret without rotation',
      (m: Model) => {
        delete m.rotations[Object.keys(m.rotations)[0]];
      },
    ],
    [
      'a function outside the VPC',
      (m: Model) => {
        (m.functions['Celery/BrokerUsers/Function'] as any).securityGroups = [];
      },
    ],
    [
      'a statement on every secret',
      (m: Model) => {
        (Object.values(m.roles)[0] as any).statements.push({
          effect: 'Allow',
          actions: ['secretsmanager:GetSecretValue'],
          resources: ['*'],
        });
      },
    ],
    [
      'an open endpoint policy',
      (m: Model) => {
        (Object.values(m.endpoints)[0] as any).policy = [];
      },
    ],
    [
      'a producer logging in as the admin',
      (m: Model) => {
        (m.celery[CeleryRole.PRODUCER] as any).broker.username = 'celeryadmin';
      },
    ],
  ])('%s is a difference', (_n, weaken) => {
    const weakened = tfModel(spec);
    weaken(weakened);
    expect(weakened).not.toEqual(fromCdk);
  });
});

describe('parity can fail: RBAC users, mutual TLS and a subordinate CA', () => {
  const spec = SPECS[5];
  const fromCdk = withoutProviderFramework(cdkModel(spec));

  test.each([
    [
      'the default user left on',
      (m: Model) => {
        (Object.values(m.rbac).find((u: any) => u.userName === 'default') as any).accessString = 'on ~* +@all';
      },
    ],
    [
      'a cache user with a literal password',
      (m: Model) => {
        (Object.values(m.rbac).find((u: any) => u.userName === 'celery-app') as any).passwords = ['literal'];
      },
    ],
    [
      'a broker configuration without client certificates',
      (m: Model) => {
        const conf = Object.values(m.brokerConfigurations)[0] as any;
        conf.data = conf.data.replace('ssl_options.fail_if_no_peer_cert = true', '');
      },
    ],
    [
      'a subordinate CA that is not kept',
      (m: Model) => {
        (Object.values(m.certificateAuthorities)[0] as any).kept = false;
      },
    ],
    [
      'the configuration role trusted by any broker',
      (m: Model) => {
        (m.roles['Celery/Broker/ConfigurationRole'] as any).trust[0].conditions = undefined;
      },
    ],
  ])('%s is a difference', (_n, weaken) => {
    const weakened = tfModel(spec);
    expect(weakened).toEqual(fromCdk);
    weaken(weakened);
    expect(weakened).not.toEqual(fromCdk);
  });
});
