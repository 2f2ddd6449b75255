import { CANARY_WIRE } from './canary';
import type { CanaryCertificateSecret } from './canary';
import { DEFAULTS } from './defaults';
import { postgresInstanceIdentifiers } from './postgres';
import type { PostgresBackendSpec } from './postgres';
import { IssueCollector, ResolveContext, ValidationResult, show } from './errors';

/**
 * The alarms and the dashboard of a transport, planned once for both targets: which metric (or metric math), its
 * dimensions, statistic, threshold, period and datapoints, and what it means for Celery. The defaults and their
 * sources are in `DEFAULTS.monitoring`; every alarm can be tuned or turned off.
 */

/** The alarms a transport can have, by key (`monitoring.alarms.<key>`). */
export type CeleryAlarmKey = keyof typeof DEFAULTS.monitoring.alarms;

/** Tuning of one alarm; every field defaults to `DEFAULTS.monitoring.alarms.<key>`. */
export interface CeleryAlarmOverride {
  /** The threshold, in the alarm's unit (see docs/operating.md). */
  readonly threshold?: number;
  /** Seconds per datapoint: 60 or a multiple of 60. */
  readonly periodSeconds?: number;
  /** How many recent periods are evaluated. */
  readonly evaluationPeriods?: number;
  /** How many of them must breach (at most `evaluationPeriods`). */
  readonly datapointsToAlarm?: number;
}

/** Monitoring options of a transport (both targets; each adds where alarm notifications go). */
export interface CeleryMonitoringOptions {
  /** Alarms, a dashboard and their topic. Turning it off takes this explicit `false` and gives a warning. @default true */
  readonly enabled?: boolean;
  /** Per alarm: new values, or `false` to leave that alarm out. @default - every alarm with its defaults */
  readonly alarms?: { readonly [K in CeleryAlarmKey]?: CeleryAlarmOverride | false };
  /** A CloudWatch dashboard of the alarms' metrics. @default true */
  readonly dashboard?: boolean;
  /** The TLS canary: a function that checks every endpoint every 15 minutes, and its alarms. @default true */
  readonly canary?: boolean;
}

/** One alarm with every default applied. */
export interface CeleryAlarmSettings {
  /** The threshold, in the alarm's unit. */
  readonly threshold: number;
  /** Seconds per datapoint. */
  readonly periodSeconds: number;
  /** How many recent periods are evaluated. */
  readonly evaluationPeriods: number;
  /** How many of them must breach. */
  readonly datapointsToAlarm: number;
}

/** The resolved monitoring options. */
export interface CeleryMonitoringSpec {
  /** Alarms and dashboard are made. */
  readonly enabled: boolean;
  /** A dashboard is made. */
  readonly dashboard: boolean;
  /** The TLS canary is made. */
  readonly canary: boolean;
  /** The alarms kept, with their settings (a key set to `false` is absent). */
  readonly alarms: Readonly<Partial<Record<CeleryAlarmKey, CeleryAlarmSettings>>>;
}

const KEYS = Object.keys(DEFAULTS.monitoring.alarms) as CeleryAlarmKey[];

/** Checks the monitoring options; props are named `monitoring.alarms.<key>.<field>`. */
export function resolveMonitoringSpec(
  options: CeleryMonitoringOptions | undefined,
  ctx: ResolveContext,
  prop = 'monitoring',
): ValidationResult<CeleryMonitoringSpec> {
  const issues = new IssueCollector(ctx);
  const o = options ?? {};
  const enabled = o.enabled ?? true;
  if (!enabled)
    issues.warn(
      'monitoring.off',
      `${prop}.enabled`,
      `${prop}.enabled is false: no alarm, no dashboard. Nothing will tell you when the broker blocks publishers (memory or disk alarm), workers stop consuming, or the result backend fills up.`,
    );
  const alarms: Partial<Record<CeleryAlarmKey, CeleryAlarmSettings>> = {};
  for (const key of Object.keys(o.alarms ?? {})) {
    if (!KEYS.includes(key as CeleryAlarmKey))
      issues.error(
        'monitoring.alarm-key',
        `${prop}.alarms.${key}`,
        `${prop}.alarms.${key} is not an alarm of this library: allowed ${KEYS.join(', ')}.`,
      );
  }
  for (const key of KEYS) {
    const override = o.alarms?.[key];
    if (override === false) continue;
    const d = DEFAULTS.monitoring.alarms[key];
    const at = (field: string) => `${prop}.alarms.${key}.${field}`;
    const threshold = override?.threshold ?? d.threshold;
    if (issues.known(override?.threshold) && !Number.isFinite(threshold))
      issues.error('monitoring.threshold', at('threshold'), `${at('threshold')} ${show(threshold)} is not a number.`);
    const periodSeconds = override?.periodSeconds ?? d.periodSeconds;
    if (
      issues.known(override?.periodSeconds) &&
      !(Number.isInteger(periodSeconds) && periodSeconds >= 60 && periodSeconds % 60 === 0)
    )
      issues.error(
        'monitoring.period',
        at('periodSeconds'),
        `${at('periodSeconds')} ${show(periodSeconds)} is not allowed: use 60 or a multiple of 60 (the services publish these metrics every minute).`,
      );
    const evaluationPeriods = override?.evaluationPeriods ?? d.evaluationPeriods;
    const datapointsToAlarm = override?.datapointsToAlarm ?? Math.min(d.datapointsToAlarm, evaluationPeriods);
    for (const [field, value] of [
      ['evaluationPeriods', evaluationPeriods],
      ['datapointsToAlarm', datapointsToAlarm],
    ] as const) {
      if (issues.known(override?.[field]) && !(Number.isInteger(value) && value >= 1))
        issues.error('monitoring.datapoints', at(field), `${at(field)} ${show(value)} must be a whole number from 1.`);
    }
    if (datapointsToAlarm > evaluationPeriods)
      issues.error(
        'monitoring.datapoints',
        at('datapointsToAlarm'),
        `${at('datapointsToAlarm')} ${show(datapointsToAlarm)} exceeds ${at('evaluationPeriods')} ${show(evaluationPeriods)}: an alarm cannot need more breaching datapoints than it evaluates.`,
      );
    // One day at most: CloudWatch evaluates at most 24 hours of datapoints for periods of a minute or more.
    if (periodSeconds * evaluationPeriods > 86_400)
      issues.error(
        'monitoring.datapoints',
        at('evaluationPeriods'),
        `${at('evaluationPeriods')} ${show(evaluationPeriods)} times ${at('periodSeconds')} ${show(periodSeconds)} exceeds one day, the longest CloudWatch evaluates.`,
      );
    alarms[key] = { threshold, periodSeconds, evaluationPeriods, datapointsToAlarm };
  }
  if (enabled && o.canary === false)
    issues.warn(
      'monitoring.canary-off',
      `${prop}.canary`,
      `${prop}.canary is false: nothing checks the endpoints' TLS after the deploy (a weakened listener or an expiring certificate goes unnoticed).`,
    );
  return issues.result({
    enabled,
    dashboard: enabled && (o.dashboard ?? true),
    canary: enabled && (o.canary ?? true),
    alarms: enabled ? alarms : {},
  });
}

/** A metric the alarms read: namespace, name and dimensions. */
export interface MetricModel {
  /** E.g. "AWS/AmazonMQ", "AWS/ElastiCache". */
  readonly namespace: string;
  /** E.g. "RabbitMQMemUsed". */
  readonly metricName: string;
  /** Name to value (values may be deploy-time tokens). */
  readonly dimensions: Readonly<Record<string, string>>;
  /** The statistic over each period. */
  readonly statistic: 'Average' | 'Maximum' | 'Minimum' | 'Sum';
}

/** One planned alarm: what both targets render (`AWS::CloudWatch::Alarm`, `aws_cloudwatch_metric_alarm`). */
export interface AlarmPlan {
  /** The construct id (`Alarm<Resource><Metric>`), also the alarm's name suffix. */
  readonly id: string;
  /** Which alarm of `DEFAULTS.monitoring.alarms` it is. */
  readonly key: CeleryAlarmKey;
  /** What it means for Celery and where to look (docs/operating.md has the runbook). */
  readonly description: string;
  /** The metric, or the terms of `expression` (ids m1, m2, ...). */
  readonly metrics: readonly MetricModel[];
  /** Metric math over `metrics` (e.g. a share in percent); absent for a single metric. */
  readonly expression?: string;
  /** The label of the expression. */
  readonly label?: string;
  /** Which side of the threshold breaches. */
  readonly comparison: 'GreaterThanThreshold' | 'LessThanThreshold';
  /** The threshold, in the alarm's unit. */
  readonly threshold: number;
  /** Seconds per datapoint. */
  readonly periodSeconds: number;
  /** How many recent periods are evaluated. */
  readonly evaluationPeriods: number;
  /** How many of them must breach. */
  readonly datapointsToAlarm: number;
  /** How missing data counts (e.g. "breaching" when no consumer publishes means none is there). */
  readonly treatMissingData: 'breaching' | 'notBreaching' | 'missing';
}

/** What the alarms watch, as the adapters know it (names may be deploy-time tokens). */
export type MonitoredResource =
  | {
      readonly kind: 'rabbitmq';
      /** The construct-id stem of its alarms ("Broker"). */
      readonly label: string;
      readonly brokerName: string;
      readonly vhost: string;
      /** Celery's default queue. */
      readonly queue: string;
      /** With client certificates: their secrets, whose expiry the canary reports. */
      readonly certificateSecrets?: readonly CanaryCertificateSecret[];
    }
  | {
      readonly kind: 'cache';
      /** "Broker", "ResultBackend", or "BrokerAndResults" for a shared cache. */
      readonly label: string;
      readonly replicationGroupId: string;
      /** The nodes (`<id>-001`, `-002`, ...): ElastiCache publishes per node; more than one means replicas. */
      readonly nodes: number;
    }
  | {
      readonly kind: 'postgres';
      /** "ResultBackend". */
      readonly label: string;
      /** An RDS instance, an Aurora cluster, or a database made elsewhere. */
      readonly database: 'instance' | 'aurora' | 'existing';
      /** The DB instances (the instance, or each of the cluster's; none for an existing database). */
      readonly instances: readonly string[];
      /** It has storage of its own that can fill up (an RDS instance; Aurora's volume grows by itself). */
      readonly storage: boolean;
    };

const MQ = 'AWS/AmazonMQ';
const EC = 'AWS/ElastiCache';
const RDS = 'AWS/RDS';

/** The alarms of a transport's resources, from the resolved options; with the canary, its alarms too. */
export function planAlarms(
  spec: CeleryMonitoringSpec,
  resources: readonly MonitoredResource[],
  canary?: { readonly endpoints: readonly string[]; readonly certificateSecretNames: readonly string[] },
): AlarmPlan[] {
  const out: AlarmPlan[] = [];
  const add = (key: CeleryAlarmKey, plan: Omit<AlarmPlan, 'key' | keyof CeleryAlarmSettings>) => {
    const s = spec.alarms[key];
    if (s) out.push({ key, ...plan, ...s });
  };
  for (const r of resources) {
    if (r.kind === 'rabbitmq') {
      const broker = { Broker: r.brokerName };
      const queue = { Broker: r.brokerName, VirtualHost: r.vhost, Queue: r.queue };
      const m = (
        metricName: string,
        statistic: MetricModel['statistic'],
        dimensions: Record<string, string> = broker,
      ) => ({
        namespace: MQ,
        metricName,
        dimensions,
        statistic,
      });
      add('brokerMemory', {
        id: `Alarm${r.label}MemoryUsed`,
        description: `${r.label}: RabbitMQ memory above ${pct(spec, 'brokerMemory')} of its limit. At 100 % RabbitMQ blocks every publisher (Celery's .delay() hangs). Runbook: docs/operating.md#broker-memory.`,
        metrics: [m('RabbitMQMemUsed', 'Maximum'), m('RabbitMQMemLimit', 'Maximum')],
        expression: '100 * m1 / m2',
        label: 'RabbitMQ memory used, % of limit',
        comparison: 'GreaterThanThreshold',
        treatMissingData: 'missing',
      });
      add('brokerDiskFree', {
        id: `Alarm${r.label}DiskFree`,
        description: `${r.label}: RabbitMQ free disk below ${spec.alarms.brokerDiskFree?.threshold}x its limit. At the limit RabbitMQ blocks publishing on the whole cluster. Runbook: docs/operating.md#broker-disk.`,
        metrics: [m('RabbitMQDiskFree', 'Minimum'), m('RabbitMQDiskFreeLimit', 'Maximum')],
        expression: 'm1 / m2',
        label: 'RabbitMQ free disk, multiple of the limit',
        comparison: 'LessThanThreshold',
        treatMissingData: 'missing',
      });
      add('brokerCpu', {
        id: `Alarm${r.label}Cpu`,
        description: `${r.label}: broker CPU above ${pct(spec, 'brokerCpu')}. Deliveries slow down and heartbeats may be missed. Runbook: docs/operating.md#broker-cpu.`,
        metrics: [m('SystemCpuUtilization', 'Average')],
        comparison: 'GreaterThanThreshold',
        treatMissingData: 'missing',
      });
      add('brokerConnections', {
        id: `Alarm${r.label}NoConnections`,
        description: `${r.label}: no client connection. No Celery worker or producer is connected (network, credentials or TLS). Runbook: docs/operating.md#no-connections.`,
        metrics: [m('ConnectionCount', 'Minimum')],
        comparison: 'LessThanThreshold',
        treatMissingData: 'breaching',
      });
      add('queueConsumers', {
        id: `Alarm${r.label}QueueConsumers`,
        description: `${r.label}: fewer than ${spec.alarms.queueConsumers?.threshold} consumer on queue "${r.queue}" of vhost "${r.vhost}". No worker takes tasks: they pile up. Runbook: docs/operating.md#no-consumers.`,
        metrics: [m('ConsumerCount', 'Minimum', queue)],
        comparison: 'LessThanThreshold',
        treatMissingData: 'breaching',
      });
      add('queueBacklog', {
        id: `Alarm${r.label}QueueBacklog`,
        description: `${r.label}: more than ${spec.alarms.queueBacklog?.threshold} ready tasks on queue "${r.queue}". Workers do not keep up. Runbook: docs/operating.md#backlog.`,
        metrics: [m('MessageReadyCount', 'Maximum', queue)],
        comparison: 'GreaterThanThreshold',
        treatMissingData: 'notBreaching',
      });
      add('queueUnacknowledged', {
        id: `Alarm${r.label}QueueUnacknowledged`,
        description: `${r.label}: more than ${spec.alarms.queueUnacknowledged?.threshold} unacknowledged tasks on queue "${r.queue}". Workers hold tasks they do not finish (stuck tasks, prefetch). Runbook: docs/operating.md#unacknowledged.`,
        metrics: [m('MessageUnacknowledgedCount', 'Maximum', queue)],
        comparison: 'GreaterThanThreshold',
        treatMissingData: 'notBreaching',
      });
    } else if (r.kind === 'cache') {
      for (let n = 1; n <= r.nodes; n++) {
        const node = String(n).padStart(3, '0');
        const dims = { CacheClusterId: `${r.replicationGroupId}-${node}` };
        const m = (metricName: string, statistic: MetricModel['statistic']) => ({
          namespace: EC,
          metricName,
          dimensions: dims,
          statistic,
        });
        add('cacheMemory', {
          id: `Alarm${r.label}Node${node}Memory`,
          description: `${r.label} node ${node}: memory above ${pct(spec, 'cacheMemory')}. With noeviction, writes fail at 100 % (results are lost, the broker refuses tasks). Runbook: docs/operating.md#cache-memory.`,
          metrics: [m('DatabaseMemoryUsagePercentage', 'Average')],
          comparison: 'GreaterThanThreshold',
          treatMissingData: 'missing',
        });
        add('cacheEngineCpu', {
          id: `Alarm${r.label}Node${node}EngineCpu`,
          description: `${r.label} node ${node}: engine thread above ${pct(spec, 'cacheEngineCpu')} CPU. Commands queue up; Celery sees timeouts. Runbook: docs/operating.md#cache-cpu.`,
          metrics: [m('EngineCPUUtilization', 'Average')],
          comparison: 'GreaterThanThreshold',
          treatMissingData: 'missing',
        });
        add('cacheConnections', {
          id: `Alarm${r.label}Node${node}Connections`,
          description: `${r.label} node ${node}: more than ${spec.alarms.cacheConnections?.threshold} connections. A connection leak (pools, forked workers) or a retry storm. Runbook: docs/operating.md#cache-connections.`,
          metrics: [m('CurrConnections', 'Average')],
          comparison: 'GreaterThanThreshold',
          treatMissingData: 'missing',
        });
        // ElastiCache publishes ReplicationLag on replicas only: every node can be one after a failover, and the
        // primary's missing data does not breach.
        if (r.nodes > 1)
          add('cacheReplicationLag', {
            id: `Alarm${r.label}Node${node}ReplicationLag`,
            description: `${r.label} node ${node}: replication lag above ${spec.alarms.cacheReplicationLag?.threshold} s. A failover now would lose the latest writes (results, tasks). Runbook: docs/operating.md#replication-lag.`,
            metrics: [m('ReplicationLag', 'Average')],
            comparison: 'GreaterThanThreshold',
            treatMissingData: 'notBreaching',
          });
      }
    }
  }
  for (const r of resources) {
    if (r.kind !== 'postgres') continue;
    r.instances.forEach((instance, i) => {
      // One instance: its alarms are the database's; a cluster's are numbered like its instances (writer first).
      const name = r.database === 'aurora' ? `${r.label}Instance${i + 1}` : r.label;
      const m = (metricName: string, statistic: MetricModel['statistic']) => ({
        namespace: RDS,
        metricName,
        dimensions: { DBInstanceIdentifier: instance },
        statistic,
      });
      add('databaseCpu', {
        id: `Alarm${name}Cpu`,
        description: `${name}: PostgreSQL CPU above ${pct(spec, 'databaseCpu')}. Result writes and reads slow down; Celery's backend operations time out and retry. Runbook: docs/operating.md#database-cpu.`,
        metrics: [m('CPUUtilization', 'Average')],
        comparison: 'GreaterThanThreshold',
        treatMissingData: 'missing',
      });
      if (r.storage)
        add('databaseFreeStorage', {
          id: `Alarm${name}FreeStorage`,
          description: `${name}: less than ${spec.alarms.databaseFreeStorage?.threshold} bytes of storage free, storage autoscaling at its maximum. At 0 the instance stops accepting writes (results are lost). Runbook: docs/operating.md#database-storage.`,
          metrics: [m('FreeStorageSpace', 'Minimum')],
          comparison: 'LessThanThreshold',
          treatMissingData: 'missing',
        });
      add('databaseConnections', {
        id: `Alarm${name}Connections`,
        description: `${name}: more than ${spec.alarms.databaseConnections?.threshold} connections. A connection leak (pools kept across forks) or a retry storm; at max_connections new workers fail to store results. Runbook: docs/operating.md#database-connections.`,
        metrics: [m('DatabaseConnections', 'Maximum')],
        comparison: 'GreaterThanThreshold',
        treatMissingData: 'missing',
      });
    });
  }
  if (canary) {
    const metric = (metricName: string, dimensions: Record<string, string>, statistic: MetricModel['statistic']) => ({
      namespace: CANARY_WIRE.namespace,
      metricName,
      dimensions,
      statistic,
    });
    for (const endpoint of canary.endpoints) {
      const label = endpoint.charAt(0).toUpperCase() + endpoint.slice(1);
      const dims = { [CANARY_WIRE.dimensions.endpoint]: endpoint };
      add('canaryChecks', {
        id: `AlarmCanary${label}Checks`,
        description: `TLS canary, ${endpoint}: a check failed (handshake, chain, host name, TLS 1.0/1.1 refused, plaintext refused, expiry, client certificate required), or the canary did not run. The metric's Check dimension names it. Runbook: docs/operating.md#canary.`,
        metrics: [metric(CANARY_WIRE.metrics.checksFailed, dims, 'Maximum')],
        comparison: 'GreaterThanThreshold',
        treatMissingData: 'breaching',
      });
      add('certificateExpiry', {
        id: `AlarmCanary${label}CertificateExpiry`,
        description: `TLS canary, ${endpoint}: the server certificate expires in fewer than ${spec.alarms.certificateExpiry?.threshold} days. Runbook: docs/operating.md#certificate-expiry.`,
        metrics: [metric(CANARY_WIRE.metrics.daysToExpiry, dims, 'Minimum')],
        comparison: 'LessThanThreshold',
        treatMissingData: 'notBreaching',
      });
    }
    canary.certificateSecretNames.forEach((name, i) => {
      add('clientCertificateExpiry', {
        id: `AlarmCanaryClientCertificate${i + 1}Expiry`,
        description: `TLS canary: a client certificate (secret ${name}) expires in fewer than ${spec.alarms.clientCertificateExpiry?.threshold} days: its re-issue is failing. Runbook: docs/operating.md#client-certificate-expiry.`,
        metrics: [
          metric(
            CANARY_WIRE.metrics.clientCertificateDaysToExpiry,
            { [CANARY_WIRE.dimensions.secret]: name },
            'Minimum',
          ),
        ],
        comparison: 'LessThanThreshold',
        treatMissingData: 'breaching',
      });
    });
  }
  return out;
}

function pct(spec: CeleryMonitoringSpec, key: CeleryAlarmKey): string {
  return `${spec.alarms[key]?.threshold} %`;
}

/**
 * The dashboard body (CloudWatch dashboard JSON): one graph per alarm, with the alarm as an annotation, in the
 * stack's region. `alarmArns` holds each alarm's ARN (deploy-time values) in the order of `alarms`.
 */
export function dashboardBody(alarms: readonly AlarmPlan[], alarmArns: readonly string[], region: string): object {
  return {
    widgets: alarms.map((a, i) => ({
      type: 'metric',
      width: 12,
      height: 6,
      x: (i % 2) * 12,
      y: Math.floor(i / 2) * 6,
      properties: {
        title: a.id.replace(/^Alarm/, ''),
        region,
        annotations: { alarms: [alarmArns[i]] },
        view: 'timeSeries',
        stacked: false,
      },
    })),
  };
}

/**
 * What the alarms' SNS topic key must allow: CloudWatch publishes to an encrypted topic with the key, for alarms of
 * this account only (https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/AlarmThatSendsEmail.html).
 */
export function alarmTopicKeyStatement(account: string): {
  readonly sid: string;
  readonly principalService: string;
  readonly actions: readonly string[];
  readonly conditions: Record<string, Record<string, string>>;
} {
  return {
    sid: 'CloudWatchAlarmsPublish',
    principalService: 'cloudwatch.amazonaws.com',
    actions: ['kms:Decrypt', 'kms:GenerateDataKey*'],
    conditions: { StringEquals: { 'aws:SourceAccount': account } },
  };
}

/** Celery's `task_default_queue` (the settings keep Celery's default). */
const CELERY_QUEUE = 'celery';

/** What the alarms of a RabbitMQ broker watch: the broker, and Celery's queue on the users' vhost. */
export function monitoredRabbitMq(
  brokerName: string,
  vhost: string,
  certificateSecrets: readonly CanaryCertificateSecret[] = [],
): MonitoredResource {
  return { kind: 'rabbitmq', label: 'Broker', brokerName, vhost, queue: CELERY_QUEUE, certificateSecrets };
}

/**
 * What the alarms of a PostgreSQL result backend watch: each DB instance (none for an existing database, whose
 * identifiers the library does not know). The TLS canary checks it too (see canaryPlan).
 */
export function monitoredPostgres(
  spec: Pick<PostgresBackendSpec, 'kind' | 'instanceCount'>,
  identifier: string,
): MonitoredResource {
  const database = spec.kind;
  const instances = postgresInstanceIdentifiers(spec, identifier);
  return { kind: 'postgres', label: 'ResultBackend', database, instances, storage: database === 'instance' };
}

/** What the alarms of a cache watch: each of its nodes. */
export function monitoredCache(
  label: string,
  replicationGroupId: string,
  spec: { readonly numCacheClusters: number },
): MonitoredResource {
  return {
    kind: 'cache',
    label,
    replicationGroupId,
    nodes: spec.numCacheClusters,
  };
}
