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
import { BrokerDeploymentMode, CacheEngine, TransitEncryptionMode } from '../../lib/core';
import { stackWithVpc, templateOf } from '../cdk/helpers';
import { VPC_ID, subnets, tfStack } from '../cdktf/helpers';
import { TfJson } from '../cdktf/security';

// ---------------------------------------------------------------------------------------------------------------
// The spec, written once, and how each adapter receives it.

interface Spec {
  readonly name: string;
  readonly broker?: { kind: 'rabbitMq' | 'redis'; options?: object };
  readonly resultBackend?: { kind: 'redis'; options?: object } | { kind: 'shared'; db?: number } | { kind: 'none' };
  readonly celeryOptions?: object;
}

type Adapter = typeof cdk | typeof tf;

function transportProps(m: Adapter, spec: Spec) {
  const broker = spec.broker
    ? (m.CeleryBroker[spec.broker.kind] as (o?: object) => unknown)(spec.broker.options)
    : undefined;
  const rb = spec.resultBackend;
  const resultBackend = !rb
    ? undefined
    : rb.kind === 'redis'
      ? m.CeleryResultBackend.redis(rb.options as never)
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
  celery: unknown;
  container: unknown;
}

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
  t.bindToContainer(task.addContainer('app', { image: ecs.ContainerImage.fromRegistry('python:3.12-slim') }));
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
      description: r.Properties.Description,
      generated: {
        length: g.PasswordLength,
        excludePunctuation: g.ExcludePunctuation,
        includeSpace: g.IncludeSpace,
        eachType: g.RequireEachIncludedType,
        field: g.GenerateStringKey,
        template: JSON.parse(g.SecretStringTemplate),
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
  const env = (R[Object.keys(R).find((k) => R[k].Type === 'AWS::ECS::TaskDefinition')!] as any).Properties
    .ContainerDefinitions[0];
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
    celery: literalOnly(t.celeryConfig.model, (v) => CdkToken.isUnresolved(v)),
    container: {
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
    },
  };
}

// ---- cdktf (cdk.tf.json) ----

function tfModel(spec: Spec): Model {
  const { stack } = tfStack();
  const t = new tf.CeleryTransport(stack, 'Celery', {
    vpcId: VPC_ID,
    subnets: subnets(),
    ...transportProps(tf, spec),
  } as never);
  const container = t.containerEnvironment();
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
      description: s.description,
      generated: {
        length: gen.password_length,
        excludePunctuation: gen.exclude_punctuation,
        includeSpace: gen.include_space,
        eachType: gen.require_each_included_type,
        field: /"([A-Za-z0-9_]+)" = data\.aws_secretsmanager_random_password\./.exec(wo)?.[1],
        template: Object.fromEntries([...wo.matchAll(/"([A-Za-z0-9_]+)" = "([^"]*)"/g)].map((m) => [m[1], m[2]])),
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
    celery: literalOnly(t.celeryConfig.model, (v) => TfToken.isUnresolved(v)),
    container: {
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
    },
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

/**
 * The one known gap (issue 6 builds the CDK side first): on the CDK, a RabbitMQ broker gets application users
 * (`Celery/BrokerUsers`: functions, secrets, rotation, the 443 rule) and Celery logs in as them; the Terraform side
 * does not have them yet and still logs in as the admin. Both models drop exactly those parts before comparing, and
 * a test below pins the gap itself, so it fails once the Terraform side catches up.
 */
const BROKER_LOGIN_VARIABLES = /^CELERY_TLS_BROKER_(USERNAME|VHOST|SECRET_ARN|SECRET_FIELD|PASSWORD|CREDENTIALS)\b/;
function withoutRabbitMqUsers(m: Model): Model {
  const keep = (o: Record<string, unknown>) =>
    Object.fromEntries(Object.entries(o).filter(([k]) => !k.startsWith('Celery/BrokerUsers')));
  const celery = m.celery as any;
  const broker =
    celery.broker.scheme === 'amqps'
      ? (({ username, secretArn, secretField, secretUsernameField, vhost, ...rest }) => rest)(celery.broker)
      : celery.broker;
  const container = m.container as { environment: string[]; secrets: string[] };
  const isAmqp = celery.broker.scheme === 'amqps';
  return {
    ...m,
    groups: Object.fromEntries(
      Object.entries(keep(m.groups) as Model['groups']).map(([k, g]) => [
        k,
        { ...g, ingress: g.ingress.filter((r) => !r.includes('Celery/BrokerUsers')) },
      ]),
    ),
    keys: keep(m.keys),
    secrets: keep(m.secrets),
    logGroups: keep(m.logGroups),
    celery: { ...celery, broker },
    container: {
      environment: container.environment.filter((e) => !(isAmqp && BROKER_LOGIN_VARIABLES.test(e))),
      secrets: container.secrets.filter((e) => !(isAmqp && BROKER_LOGIN_VARIABLES.test(e))),
    },
  };
}

describe.each(SPECS.map((s) => [s.name, s] as const))('parity: %s', (_name, spec) => {
  const fromCdk = withoutRabbitMqUsers(cdkModel(spec));
  const fromTf = withoutRabbitMqUsers(tfModel(spec));

  test.each([
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
  ] as const)('%s are the same on both targets', (part) => {
    expect(fromTf[part]).toEqual(fromCdk[part]);
  });

  test('the model is not empty (the normalizers found what they compare)', () => {
    expect(Object.keys(fromCdk.caches).length + Object.keys(fromCdk.brokers).length).toBeGreaterThan(0);
    expect(Object.keys(fromCdk.groups).length).toBeGreaterThanOrEqual(3);
    expect(Object.values(fromCdk.groups).flatMap((g) => g.ingress).length).toBeGreaterThan(0);
  });
});

test('the known gap: RabbitMQ application users exist on the CDK side only (remove this test when Terraform has them)', () => {
  const fromCdk = cdkModel(SPECS[0]);
  const fromTf = tfModel(SPECS[0]);
  expect((fromCdk.celery as any).broker.username).toBe('celery-worker');
  expect((fromTf.celery as any).broker.username).toBe('celeryadmin');
  expect(Object.keys(fromCdk.secrets).filter((k) => k.startsWith('Celery/BrokerUsers'))).toEqual([
    'Celery/BrokerUsers/ProducerCredentials',
    'Celery/BrokerUsers/WorkerCredentials',
  ]);
  expect(Object.keys(fromTf.secrets).filter((k) => k.startsWith('Celery/BrokerUsers'))).toEqual([]);
});

describe('parity can fail', () => {
  const spec = SPECS[0];
  const fromCdk = withoutRabbitMqUsers(cdkModel(spec));

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
  ])('%s is a difference', (_n, weaken) => {
    const weakened = withoutRabbitMqUsers(tfModel(spec));
    weaken(weakened);
    expect(weakened).not.toEqual(fromCdk);
  });
});
