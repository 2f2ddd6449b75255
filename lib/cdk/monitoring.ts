import { Stack } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as sns from 'aws-cdk-lib/aws-sns';
import { Construct } from 'constructs';
import { AlarmPlan, CeleryMonitoringOptions, alarmTopicKeyStatement, dashboardBody } from '../core/monitoring';
import type { MonitoringPlan } from '../core/transport';
import { createKey } from './common';

/** Monitoring options of the CDK `CeleryTransport`: the core's, and where notifications go. */
export interface CeleryTransportMonitoringOptions extends CeleryMonitoringOptions {
  /** The topic the alarms notify (alarm and OK). @default - a new topic encrypted with a new customer-managed key */
  readonly alarmTopic?: sns.ITopic;
}

/** What the monitoring of a transport made. */
export interface CeleryMonitoring {
  /** The topic the alarms notify. */
  readonly alarmTopic: sns.ITopic;
  /** The alarms, by construct id (e.g. `AlarmBrokerMemoryUsed`, `AlarmResultBackendNode001Memory`). */
  readonly alarms: Readonly<Record<string, cloudwatch.CfnAlarm>>;
  /** The dashboard of the alarms' metrics (unless `dashboard: false`). */
  readonly dashboard?: cloudwatch.CfnDashboard;
}

/**
 * Renders the planned alarms as `AWS::CloudWatch::Alarm` (one per plan, alarm and OK actions to the topic), the topic
 * (ids `AlarmTopic`, `AlarmTopicKey`) unless one is given, and `AWS::CloudWatch::Dashboard` (id `Dashboard`).
 */
export function createMonitoring(
  scope: Construct,
  plan: MonitoringPlan,
  options: CeleryTransportMonitoringOptions = {},
): CeleryMonitoring {
  const stack = Stack.of(scope);
  let alarmTopic = options.alarmTopic;
  if (!alarmTopic) {
    const key = createKey(scope, 'AlarmTopicKey', `${scope.node.path}: SNS topic of the Celery alarms`);
    const s = alarmTopicKeyStatement(stack.account);
    key.addToResourcePolicy(
      new iam.PolicyStatement({
        sid: s.sid,
        principals: [new iam.ServicePrincipal(s.principalService)],
        actions: [...s.actions],
        resources: ['*'],
        conditions: s.conditions,
      }),
    );
    alarmTopic = new sns.Topic(scope, 'AlarmTopic', { masterKey: key, enforceSSL: true });
  }
  const alarms: Record<string, cloudwatch.CfnAlarm> = {};
  for (const a of plan.alarms) alarms[a.id] = renderAlarm(scope, a, alarmTopic.topicArn);
  const dashboard = plan.spec.dashboard
    ? new cloudwatch.CfnDashboard(scope, 'Dashboard', {
        dashboardBody: stack.toJsonString(
          dashboardBody(
            plan.alarms,
            plan.alarms.map((a) => alarms[a.id].attrArn),
            stack.region,
          ),
        ),
      })
    : undefined;
  return { alarmTopic, alarms, dashboard };
}

function renderAlarm(scope: Construct, a: AlarmPlan, topicArn: string): cloudwatch.CfnAlarm {
  const dimensions = (d: Readonly<Record<string, string>>) =>
    Object.entries(d).map(([name, value]) => ({ name, value }));
  const single = a.expression === undefined ? a.metrics[0] : undefined;
  return new cloudwatch.CfnAlarm(scope, a.id, {
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
          dimensions: dimensions(single.dimensions),
          statistic: single.statistic,
          period: a.periodSeconds,
        }
      : {
          metrics: [
            { id: 'e1', expression: a.expression, label: a.label, returnData: true },
            ...a.metrics.map((m, i) => ({
              id: `m${i + 1}`,
              returnData: false,
              metricStat: {
                metric: { namespace: m.namespace, metricName: m.metricName, dimensions: dimensions(m.dimensions) },
                period: a.periodSeconds,
                stat: m.statistic,
              },
            })),
          ],
        }),
  });
}
