/**
 * Monitoring on both targets: every alarm of a default transport (RabbitMQ broker, two-node Valkey result backend)
 * is read from the synthesized template / cdk.tf.json and compared with the table below, written by hand from
 * DEFAULTS.monitoring's documented values (namespace, metric, dimensions, statistic, threshold, comparison, period,
 * datapoints, missing data, actions); the topic is encrypted with a key CloudWatch may use; the dashboard shows each
 * alarm. A weakened alarm makes the comparison fail.
 */
import { TerraformElement, Testing } from 'cdktf';
import * as cdk from '../../lib/cdk';
import * as tf from '../../lib/cdktf';
import { CfnElement } from 'aws-cdk-lib';
import * as sns from 'aws-cdk-lib/aws-sns';
import { stackWithVpc, templateOf } from '../cdk/helpers';
import { VPC_ID, subnets, tfStack } from '../cdktf/helpers';
import { thrown } from '../thrown';

interface AlarmRow {
  metrics: string[];
  expression?: string;
  comparison: string;
  threshold: number;
  period: number;
  evaluationPeriods: number;
  datapoints: number;
  missing: string;
  actions: string;
}

// metric = "<namespace> <name> <statistic> <dimension=value,...>"; <broker> and <cache> stand for the names.
const MQ = (name: string, stat: string, queue = false) =>
  `AWS/AmazonMQ ${name} ${stat} Broker=<broker>${queue ? ',Queue=celery,VirtualHost=celery' : ''}`;
const EC = (name: string, stat: string, node: string) =>
  `AWS/ElastiCache ${name} ${stat} CacheClusterId=<cache>-${node}`;
const base = { period: 60, actions: 'Celery/AlarmTopic' };

const CANARY = (name: string, stat: string, endpoint: string) =>
  `CeleryTls/Canary ${name} ${stat} Endpoint=${endpoint}`;

const EXPECTED: Record<string, AlarmRow> = {
  ...Object.fromEntries(
    [
      ['Broker', 'broker'],
      ['ResultBackend', 'resultBackend'],
    ].flatMap(([label, endpoint]) => [
      [
        `AlarmCanary${label}Checks`,
        {
          ...base,
          period: 900,
          metrics: [CANARY('ChecksFailed', 'Maximum', endpoint)],
          comparison: 'GreaterThanThreshold',
          threshold: 0,
          evaluationPeriods: 1,
          datapoints: 1,
          missing: 'breaching',
        },
      ],
      [
        `AlarmCanary${label}CertificateExpiry`,
        {
          ...base,
          period: 900,
          metrics: [CANARY('DaysToExpiry', 'Minimum', endpoint)],
          comparison: 'LessThanThreshold',
          threshold: 30,
          evaluationPeriods: 1,
          datapoints: 1,
          missing: 'notBreaching',
        },
      ],
    ]),
  ),
  AlarmBrokerMemoryUsed: {
    ...base,
    metrics: [MQ('RabbitMQMemUsed', 'Maximum'), MQ('RabbitMQMemLimit', 'Maximum')],
    expression: '100 * m1 / m2',
    comparison: 'GreaterThanThreshold',
    threshold: 80,
    evaluationPeriods: 5,
    datapoints: 5,
    missing: 'missing',
  },
  AlarmBrokerDiskFree: {
    ...base,
    metrics: [MQ('RabbitMQDiskFree', 'Minimum'), MQ('RabbitMQDiskFreeLimit', 'Maximum')],
    expression: 'm1 / m2',
    comparison: 'LessThanThreshold',
    threshold: 2,
    evaluationPeriods: 5,
    datapoints: 5,
    missing: 'missing',
  },
  AlarmBrokerCpu: {
    ...base,
    metrics: [MQ('SystemCpuUtilization', 'Average')],
    comparison: 'GreaterThanThreshold',
    threshold: 85,
    evaluationPeriods: 5,
    datapoints: 5,
    missing: 'missing',
  },
  AlarmBrokerNoConnections: {
    ...base,
    metrics: [MQ('ConnectionCount', 'Minimum')],
    comparison: 'LessThanThreshold',
    threshold: 1,
    evaluationPeriods: 5,
    datapoints: 5,
    missing: 'breaching',
  },
  AlarmBrokerQueueConsumers: {
    ...base,
    metrics: [MQ('ConsumerCount', 'Minimum', true)],
    comparison: 'LessThanThreshold',
    threshold: 1,
    evaluationPeriods: 5,
    datapoints: 5,
    missing: 'breaching',
  },
  AlarmBrokerQueueBacklog: {
    ...base,
    metrics: [MQ('MessageReadyCount', 'Maximum', true)],
    comparison: 'GreaterThanThreshold',
    threshold: 1000,
    evaluationPeriods: 15,
    datapoints: 15,
    missing: 'notBreaching',
  },
  AlarmBrokerQueueUnacknowledged: {
    ...base,
    metrics: [MQ('MessageUnacknowledgedCount', 'Maximum', true)],
    comparison: 'GreaterThanThreshold',
    threshold: 1000,
    evaluationPeriods: 15,
    datapoints: 15,
    missing: 'notBreaching',
  },
  ...Object.fromEntries(
    ['001', '002'].flatMap((node) => [
      [
        `AlarmResultBackendNode${node}Memory`,
        {
          ...base,
          metrics: [EC('DatabaseMemoryUsagePercentage', 'Average', node)],
          comparison: 'GreaterThanThreshold',
          threshold: 80,
          evaluationPeriods: 5,
          datapoints: 5,
          missing: 'missing',
        },
      ],
      [
        `AlarmResultBackendNode${node}EngineCpu`,
        {
          ...base,
          metrics: [EC('EngineCPUUtilization', 'Average', node)],
          comparison: 'GreaterThanThreshold',
          threshold: 90,
          evaluationPeriods: 5,
          datapoints: 5,
          missing: 'missing',
        },
      ],
      [
        `AlarmResultBackendNode${node}Connections`,
        {
          ...base,
          metrics: [EC('CurrConnections', 'Average', node)],
          comparison: 'GreaterThanThreshold',
          threshold: 2000,
          evaluationPeriods: 10,
          datapoints: 10,
          missing: 'missing',
        },
      ],
      [
        `AlarmResultBackendNode${node}ReplicationLag`,
        {
          ...base,
          metrics: [EC('ReplicationLag', 'Average', node)],
          comparison: 'GreaterThanThreshold',
          threshold: 10,
          evaluationPeriods: 15,
          datapoints: 15,
          missing: 'notBreaching',
        },
      ],
    ]),
  ),
};

const short = (path: string) => path.replace(/^Test\//, '').replace(/\/Resource$/, '');
// Dimensions are a set (cdk.tf.json writes the map sorted by name).
const dims = (d: { name: string; value: string }[]) =>
  d
    .map((x) => `${x.name}=${x.value}`)
    .sort()
    .join(',');

/** The CDK template's alarms, with the broker name, the replication group and the topic as paths or markers. */
function cdkAlarms(props: object = {}) {
  const { stack, vpc } = stackWithVpc();
  const t = new cdk.CeleryTransport(stack, 'Celery', { vpc, ...props });
  const { json } = templateOf(stack);
  const R = json.Resources as Record<string, any>;
  const paths = new Map<string, string>();
  for (const c of stack.node.findAll())
    if (c instanceof CfnElement) paths.set(stack.getLogicalId(c), short(c.node.path));
  const pathOf = (lid: string) => paths.get(lid) ?? `?${lid}`;
  const brokerName = t.rabbitMqBroker?.brokerName;
  const value = (v: any): string =>
    typeof v === 'string'
      ? v === brokerName
        ? '<broker>'
        : v
      : v?.Ref && R[v.Ref]?.Type === 'AWS::ElastiCache::ReplicationGroup'
        ? '<cache>'
        : v?.['Fn::Join']
          ? v['Fn::Join'][1].map(value).join(v['Fn::Join'][0])
          : `?${JSON.stringify(v)}`;
  const metric = (m: any, stat: string) =>
    `${m.Namespace} ${m.MetricName} ${stat} ${dims((m.Dimensions ?? []).map((d: any) => ({ name: d.Name, value: value(d.Value) })))}`;
  const alarms: Record<string, AlarmRow> = {};
  for (const [lid, r] of Object.entries(R).filter(([, r]) => r.Type === 'AWS::CloudWatch::Alarm')) {
    const p = r.Properties;
    const math = p.Metrics as any[] | undefined;
    alarms[pathOf(lid).replace(/^Celery\//, '')] = {
      metrics: math
        ? math.filter((q) => q.MetricStat).map((q) => metric(q.MetricStat.Metric, q.MetricStat.Stat))
        : [metric(p, p.Statistic)],
      ...(math ? { expression: math.find((q) => q.Expression).Expression } : {}),
      comparison: p.ComparisonOperator,
      threshold: p.Threshold,
      period: math ? math.find((q) => q.MetricStat).MetricStat.Period : p.Period,
      evaluationPeriods: p.EvaluationPeriods,
      datapoints: p.DatapointsToAlarm,
      missing: p.TreatMissingData,
      actions: [...new Set([...p.AlarmActions, ...p.OKActions].map((a: any) => pathOf(a.Ref)))].join(' '),
    };
  }
  return { alarms, json, R, pathOf, t };
}

/** The Terraform JSON's alarms, with the same markers. */
function tfAlarms(props: object = {}) {
  const { stack } = tfStack();
  const t = new tf.CeleryTransport(stack, 'Celery', { vpcId: VPC_ID, subnets: subnets(), ...props });
  const json = JSON.parse(Testing.synth(stack));
  const paths = new Map<string, string>();
  for (const c of stack.node.findAll())
    if (c instanceof TerraformElement) paths.set(c.friendlyUniqueId, short(c.node.path));
  const pathOf = (name: string) => paths.get(name) ?? `?${name}`;
  const brokerName = t.rabbitMqBroker?.brokerName;
  const value = (v: string) =>
    v === brokerName
      ? '<broker>'
      : v
          .replace(/^\$\{aws_elasticache_replication_group\.[A-Za-z0-9_]+\.id\}/, '<cache>')
          .replace(/^\$\{.*\}$/, `?${v}`);
  const metric = (m: any, stat: string) =>
    `${m.namespace} ${m.metric_name} ${stat} ${dims(Object.entries<string>(m.dimensions ?? {}).map(([name, v]) => ({ name, value: value(v) })))}`;
  const ref = (v: string) => /^\$\{aws_[a-z_]+\.([A-Za-z0-9_]+)\.arn\}$/.exec(v)?.[1] ?? v;
  const alarms: Record<string, AlarmRow> = {};
  for (const [name, p] of Object.entries<any>(json.resource.aws_cloudwatch_metric_alarm ?? {})) {
    const math = p.metric_query as any[] | undefined;
    alarms[pathOf(name).replace(/^Celery\//, '')] = {
      metrics: math
        ? math.filter((q) => q.metric).map((q) => metric(q.metric, q.metric.stat))
        : [metric(p, p.statistic)],
      ...(math ? { expression: math.find((q) => q.expression).expression } : {}),
      comparison: p.comparison_operator,
      threshold: p.threshold,
      period: math ? math.find((q) => q.metric).metric.period : p.period,
      evaluationPeriods: p.evaluation_periods,
      datapoints: p.datapoints_to_alarm,
      missing: p.treat_missing_data,
      actions: [...new Set([...p.alarm_actions, ...p.ok_actions].map((a: string) => pathOf(ref(a))))].join(' '),
    };
  }
  return { alarms, json, pathOf, t };
}

describe.each([
  ['CDK', cdkAlarms],
  ['Terraform', tfAlarms],
] as const)('%s: the alarms of a default transport', (_target, synth) => {
  const { alarms } = synth();

  test('exactly the alarms of the table', () => {
    expect(Object.keys(alarms).sort()).toEqual(Object.keys(EXPECTED).sort());
  });

  test.each(Object.keys(EXPECTED))('%s: metric, dimensions, statistic, threshold, period, datapoints, action', (id) => {
    expect(alarms[id]).toEqual(EXPECTED[id]);
  });

  test('the comparison can fail: a weakened alarm is not the table', () => {
    const weak = JSON.parse(JSON.stringify(alarms));
    weak.AlarmBrokerMemoryUsed.threshold = 99;
    expect(weak).not.toEqual(EXPECTED);
  });
});

test('CDK: the topic is encrypted with a customer-managed key that CloudWatch may use for this account, TLS only; the dashboard shows every alarm', () => {
  const { json, R, pathOf } = cdkAlarms();
  const [, topic] = Object.entries(R).find(([, r]) => r.Type === 'AWS::SNS::Topic')!;
  const keyId = topic.Properties.KmsMasterKeyId['Fn::GetAtt'][0];
  expect(pathOf(keyId)).toBe('Celery/AlarmTopicKey');
  const statements = R[keyId].Properties.KeyPolicy.Statement as any[];
  expect(statements).toContainEqual(
    expect.objectContaining({
      Principal: { Service: 'cloudwatch.amazonaws.com' },
      Action: ['kms:Decrypt', 'kms:GenerateDataKey*'],
      Condition: { StringEquals: { 'aws:SourceAccount': '111122223333' } },
    }),
  );
  expect(R[keyId].Properties.EnableKeyRotation).toBe(true);
  const [, topicPolicy] = Object.entries(R).find(([, r]) => r.Type === 'AWS::SNS::TopicPolicy')!;
  expect(topicPolicy.Properties.PolicyDocument.Statement[0]).toMatchObject({
    Effect: 'Deny',
    Condition: { Bool: { 'aws:SecureTransport': 'false' } },
  });
  const [, dashboard] = Object.entries(json.Resources as Record<string, any>).find(
    ([, r]) => r.Type === 'AWS::CloudWatch::Dashboard',
  )!;
  const body = JSON.stringify(dashboard.Properties.DashboardBody);
  const alarmIds = Object.keys(R).filter((lid) => R[lid].Type === 'AWS::CloudWatch::Alarm');
  expect(alarmIds).toHaveLength(Object.keys(EXPECTED).length);
  for (const lid of alarmIds) expect(body).toContain(`"${lid}","Arn"`);
});

test('Terraform: the topic is encrypted with a customer-managed key that CloudWatch may use for this account, TLS only; the dashboard shows every alarm', () => {
  const { json, pathOf } = tfAlarms();
  const [, topic] = Object.entries<any>(json.resource.aws_sns_topic)[0];
  const keyName = /aws_kms_key\.([A-Za-z0-9_]+)\.arn/.exec(topic.kms_master_key_id)![1];
  expect(pathOf(keyName)).toBe('Celery/AlarmTopicKey');
  const key = json.resource.aws_kms_key[keyName];
  expect(JSON.parse(key.policy).Statement).toContainEqual(
    expect.objectContaining({
      Principal: { Service: 'cloudwatch.amazonaws.com' },
      Action: ['kms:Decrypt', 'kms:GenerateDataKey*'],
      Condition: { StringEquals: { 'aws:SourceAccount': expect.stringMatching(/aws_caller_identity/) } },
    }),
  );
  expect(key.enable_key_rotation).toBe(true);
  const [, topicPolicy] = Object.entries<any>(json.resource.aws_sns_topic_policy)[0];
  expect(JSON.parse(topicPolicy.policy).Statement[0]).toMatchObject({
    Effect: 'Deny',
    Condition: { Bool: { 'aws:SecureTransport': 'false' } },
  });
  const [, dashboard] = Object.entries<any>(json.resource.aws_cloudwatch_dashboard)[0];
  const widgets = JSON.parse(
    dashboard.dashboard_body.replace(/\$\{[^}]*\}/g, (e: string) => e.replace(/"/g, "'")),
  ).widgets;
  expect(widgets.map((w: any) => w.properties.annotations.alarms[0]).sort()).toEqual(
    Object.keys(json.resource.aws_cloudwatch_metric_alarm)
      .map((n) => `\${aws_cloudwatch_metric_alarm.${n}.arn}`)
      .sort(),
  );
});

describe.each([
  ['CDK', cdkAlarms],
  ['Terraform', tfAlarms],
] as const)('%s: tuning and turning off', (_target, synth) => {
  test('an override changes that alarm only; false leaves it out; a shared cache is watched once', () => {
    const { alarms } = synth({
      monitoring: {
        alarms: { queueBacklog: { threshold: 50, evaluationPeriods: 3, datapointsToAlarm: 2 }, brokerCpu: false },
      },
    });
    expect(alarms.AlarmBrokerQueueBacklog).toEqual({
      ...EXPECTED.AlarmBrokerQueueBacklog,
      threshold: 50,
      evaluationPeriods: 3,
      datapoints: 2,
    });
    expect(alarms.AlarmBrokerCpu).toBeUndefined();
    expect(Object.keys(alarms)).toHaveLength(Object.keys(EXPECTED).length - 1);
    const m = synth === cdkAlarms ? cdk : tf;
    const shared = synth({
      broker: m.CeleryBroker.redis({ numCacheClusters: 3 }),
      resultBackend: m.CeleryResultBackend.sharedWithRedisBroker(),
    });
    expect(Object.keys(shared.alarms).sort()).toEqual(
      [
        ...['001', '002', '003'].flatMap((n) =>
          ['Memory', 'EngineCpu', 'Connections', 'ReplicationLag'].map((k) => `AlarmBrokerNode${n}${k}`),
        ),
        // One endpoint for the canary: the shared cache.
        'AlarmCanaryBrokerChecks',
        'AlarmCanaryBrokerCertificateExpiry',
      ].sort(),
    );
  });

  test('monitoring off: no alarm, no topic, no dashboard, and a warning', () => {
    const { alarms, t } = synth({ monitoring: { enabled: false } });
    expect(alarms).toEqual({});
    expect(t.monitoring).toBeUndefined();
    expect(
      t.node.metadata.map((m) => String(m.data)).filter((d) => d.includes('monitoring.enabled is false')),
    ).toHaveLength(1);
  });

  test('bad tuning is refused at synth, each mistake named', () => {
    const e = thrown(() =>
      synth({
        monitoring: {
          alarms: {
            brokerMemory: { periodSeconds: 45 },
            queueBacklog: { evaluationPeriods: 2, datapointsToAlarm: 3 },
            notAnAlarm: { threshold: 1 },
          },
        },
      }),
    );
    expect(e.issues.map((i) => i.prop).sort()).toEqual(
      [
        'monitoring.alarms.brokerMemory.periodSeconds',
        'monitoring.alarms.notAnAlarm',
        'monitoring.alarms.queueBacklog.datapointsToAlarm',
      ].sort(),
    );
    expect(e.message).toContain(
      'monitoring.alarms.brokerMemory.periodSeconds 45 is not allowed: use 60 or a multiple of 60',
    );
  });
});

test('a given topic is used as it is (CDK: sns.ITopic; Terraform: its ARN)', () => {
  const arn = 'arn:aws:sns:eu-west-1:111122223333:ops';
  const fromTf = tfAlarms({ monitoring: { alarmTopicArn: arn } });
  expect(Object.keys(fromTf.json.resource.aws_sns_topic ?? {})).toEqual([]);
  expect(
    new Set(Object.values<any>(fromTf.json.resource.aws_cloudwatch_metric_alarm).flatMap((a) => a.alarm_actions)),
  ).toEqual(new Set([arn]));
  const { stack, vpc } = stackWithVpc();
  new cdk.CeleryTransport(stack, 'Celery', {
    vpc,
    monitoring: { alarmTopic: sns.Topic.fromTopicArn(stack, 'Ops', arn) },
  });
  const R = templateOf(stack).json.Resources as Record<string, any>;
  expect(Object.values(R).filter((r) => r.Type === 'AWS::SNS::Topic')).toEqual([]);
  expect(
    new Set(
      Object.values(R)
        .filter((r) => r.Type === 'AWS::CloudWatch::Alarm')
        .flatMap((r) => r.Properties.AlarmActions),
    ),
  ).toEqual(new Set([arn]));
});
