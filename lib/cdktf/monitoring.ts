import { Construct } from 'constructs';
import { AlarmPlan, CeleryMonitoringOptions, alarmTopicKeyStatement, dashboardBody } from '../core/monitoring';
import type { MonitoringPlan } from '../core/transport';
import { physicalNameFromPath } from '../core/terraform';
import { awsFacts, createKey } from './common';
import { CloudwatchDashboard, CloudwatchMetricAlarm, SnsTopic, SnsTopicPolicy } from './provider';

/** Monitoring options of the Terraform `CeleryTransport`: the core's, and where notifications go. */
export interface CeleryTransportMonitoringOptions extends CeleryMonitoringOptions {
  /** ARN of the SNS topic the alarms notify (alarm and OK). @default - a new topic encrypted with a new customer-managed key */
  readonly alarmTopicArn?: string;
}

/** What the monitoring of a transport made. */
export interface CeleryMonitoring {
  /** ARN of the topic the alarms notify. */
  readonly alarmTopicArn: string;
  /** The topic made here (unless `alarmTopicArn` was given). */
  readonly alarmTopic?: SnsTopic;
  /** The alarms, by construct id (e.g. `AlarmBrokerMemoryUsed`, `AlarmResultBackendNode001Memory`). */
  readonly alarms: Readonly<Record<string, CloudwatchMetricAlarm>>;
  /** The dashboard of the alarms' metrics (unless `dashboard: false`). */
  readonly dashboard?: CloudwatchDashboard;
}

/** Alarm and dashboard names: CloudWatch allows 255 characters; Terraform requires a name. */
const ALARM_NAME = {
  what: 'CloudWatch alarm name',
  minLength: 1,
  maxLength: 255,
  pattern: /^[A-Za-z0-9_-]+$/,
  allowed: 'letters, digits, hyphens and underscores',
  source: 'https://docs.aws.amazon.com/AmazonCloudWatch/latest/APIReference/API_PutMetricAlarm.html',
};

/**
 * Renders the planned alarms as `aws_cloudwatch_metric_alarm` (alarm and OK actions to the topic), the topic (ids
 * `AlarmTopic`, `AlarmTopicKey`, `AlarmTopicPolicy`: TLS only) unless one is given, and `aws_cloudwatch_dashboard`
 * (id `Dashboard`). Names are derived from the construct path, as Terraform requires them.
 */
export function createMonitoring(
  scope: Construct,
  plan: MonitoringPlan,
  options: CeleryTransportMonitoringOptions = {},
): CeleryMonitoring {
  const facts = awsFacts(scope);
  const path = scope.node.scopes.slice(1).map((s) => s.node.id);
  let alarmTopic: SnsTopic | undefined;
  let alarmTopicArn = options.alarmTopicArn;
  if (alarmTopicArn === undefined) {
    const key = createKey(scope, 'AlarmTopicKey', `${scope.node.path}: SNS topic of the Celery alarms`, [
      alarmTopicKeyStatement(facts.account),
    ]);
    alarmTopic = new SnsTopic(scope, 'AlarmTopic', { kmsMasterKeyId: key.arn });
    alarmTopicArn = alarmTopic.arn;
    // As aws-cdk-lib's `enforceSSL`: no publishing over plain HTTP.
    new SnsTopicPolicy(scope, 'AlarmTopicPolicy', {
      arn: alarmTopic.arn,
      policy: JSON.stringify({
        Version: '2012-10-17',
        Statement: [
          {
            Sid: 'AllowPublishThroughSSLOnly',
            Effect: 'Deny',
            Principal: '*',
            Action: 'sns:Publish',
            Resource: alarmTopic.arn,
            Condition: { Bool: { 'aws:SecureTransport': 'false' } },
          },
        ],
      }),
    });
  }
  const alarms: Record<string, CloudwatchMetricAlarm> = {};
  for (const a of plan.alarms)
    alarms[a.id] = renderAlarm(scope, a, alarmTopicArn, physicalNameFromPath([...path, a.id], ALARM_NAME));
  const dashboard = plan.spec.dashboard
    ? new CloudwatchDashboard(scope, 'Dashboard', {
        dashboardName: physicalNameFromPath([...path, 'Dashboard'], ALARM_NAME),
        dashboardBody: JSON.stringify(
          dashboardBody(
            plan.alarms,
            plan.alarms.map((a) => alarms[a.id].arn),
            facts.region,
          ),
        ),
      })
    : undefined;
  return { alarmTopicArn, alarmTopic, alarms, dashboard };
}

function renderAlarm(scope: Construct, a: AlarmPlan, topicArn: string, alarmName: string): CloudwatchMetricAlarm {
  const single = a.expression === undefined ? a.metrics[0] : undefined;
  return new CloudwatchMetricAlarm(scope, a.id, {
    alarmName,
    alarmDescription: a.description,
    comparisonOperator: a.comparison,
    threshold: a.threshold,
    evaluationPeriods: a.evaluationPeriods,
    datapointsToAlarm: a.datapointsToAlarm,
    treatMissingData: a.treatMissingData,
    alarmActions: [topicArn],
    okActions: [topicArn],
    ...(single
      ? {
          namespace: single.namespace,
          metricName: single.metricName,
          dimensions: { ...single.dimensions },
          statistic: single.statistic,
          period: a.periodSeconds,
        }
      : {
          metricQuery: [
            { id: 'e1', expression: a.expression, label: a.label, returnData: true },
            ...a.metrics.map((m, i) => ({
              id: `m${i + 1}`,
              returnData: false,
              metric: {
                namespace: m.namespace,
                metricName: m.metricName,
                dimensions: { ...m.dimensions },
                period: a.periodSeconds,
                stat: m.statistic,
              },
            })),
          ],
        }),
  });
}
