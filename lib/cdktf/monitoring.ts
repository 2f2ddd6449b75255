import { Construct } from 'constructs';
import { tlsCanaryFunctionPlan } from '../core/canary';
import { AlarmPlan, CeleryMonitoringOptions, alarmTopicKeyStatement, dashboardBody } from '../core/monitoring';
import type { MonitoringPlan } from '../core/transport';
import { NAME_RULES } from '../core/names';
import { physicalNameFromPath } from '../core/terraform';
import { awsFacts, createKey } from './common';
import { CelerySecurityGroup } from './connections';
import type { IConnectable } from './connections';
import { createLibraryFunction } from './functions';
import type { LibraryFunction } from './functions';
import { CloudwatchDashboard, CloudwatchEventRule, CloudwatchEventTarget, CloudwatchMetricAlarm } from './provider';
import { LambdaPermission, SnsTopic, SnsTopicPolicy } from './provider';
import type { RabbitMqApplicationUsers } from './rabbitmq-users';

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
  /** The TLS canary (unless `canary: false`): its function, its group and its schedule. */
  readonly canary?: {
    readonly function: LibraryFunction;
    readonly securityGroup: CelerySecurityGroup;
    readonly schedule: CloudwatchEventRule;
  };
}

/** Where the canary runs: the transport's VPC and subnets, and the users' Secrets Manager endpoint. */
export interface CanaryPlacement {
  readonly vpcId: string;
  readonly subnetIds: readonly string[];
  /** The broker's users, whose Secrets Manager endpoint the canary reads client certificates through. */
  readonly users?: RabbitMqApplicationUsers;
}

/**
 * Renders the planned alarms as `aws_cloudwatch_metric_alarm` (alarm and OK actions to the topic), the topic (ids
 * `AlarmTopic`, `AlarmTopicKey`, `AlarmTopicPolicy`: TLS only) unless one is given, and `aws_cloudwatch_dashboard`
 * (id `Dashboard`). Names are derived from the construct path, as Terraform requires them.
 */
export function createMonitoring(
  scope: Construct,
  plan: MonitoringPlan<IConnectable>,
  placement: CanaryPlacement,
  options: CeleryTransportMonitoringOptions = {},
): CeleryMonitoring {
  const facts = awsFacts(scope);
  const path = scope.node.scopes.slice(1).map((s) => s.node.id);
  let alarmTopic: SnsTopic | undefined;
  let alarmTopicArn = options.alarmTopicArn;
  let keyArn: string | undefined;
  if (alarmTopicArn === undefined) {
    const key = createKey(
      scope,
      'AlarmTopicKey',
      `${scope.node.path}: SNS topic of the Celery alarms and the canary's logs`,
      [alarmTopicKeyStatement(facts.account)],
    );
    keyArn = key.arn;
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
    alarms[a.id] = renderAlarm(scope, a, alarmTopicArn, physicalNameFromPath([...path, a.id], NAME_RULES.alarmName));
  const dashboard = plan.spec.dashboard
    ? new CloudwatchDashboard(scope, 'Dashboard', {
        dashboardName: physicalNameFromPath([...path, 'Dashboard'], NAME_RULES.alarmName),
        dashboardBody: JSON.stringify(
          dashboardBody(
            plan.alarms,
            plan.alarms.map((a) => alarms[a.id].arn),
            facts.region,
          ),
        ),
      })
    : undefined;
  const canary = plan.canary
    ? createCanary(
        scope,
        plan.canary,
        placement,
        keyArn ?? createKey(scope, 'CanaryKey', `${scope.node.path}: TLS canary logs`).arn,
      )
    : undefined;
  return { alarmTopicArn, alarmTopic, alarms, dashboard, canary };
}

/**
 * The TLS canary (ids `CanaryFunction*`, `CanarySecurityGroup`, `CanarySchedule`, `CanaryScheduleTarget`,
 * `CanaryFunctionInvokeByEvents`): a function in the VPC whose group reaches only the endpoints' TLS ports (and the
 * Secrets Manager endpoint when it reads client certificates), run by an EventBridge schedule. It holds no broker
 * credentials and never logs in.
 */
function createCanary(
  scope: Construct,
  canary: NonNullable<MonitoringPlan<IConnectable>['canary']>,
  placement: CanaryPlacement,
  keyArn: string,
): NonNullable<CeleryMonitoring['canary']> {
  const plan = tlsCanaryFunctionPlan({
    endpoints: canary.endpoints.map((e) => e.model),
    certificateSecrets: canary.certificateSecrets,
    region: awsFacts(scope).region,
  });
  const securityGroup = new CelerySecurityGroup(scope, 'CanarySecurityGroup', {
    vpcId: placement.vpcId,
    description: plan.securityGroupDescription,
  });
  for (const e of canary.endpoints)
    e.connectable.connections.allowFrom(securityGroup, e.model.port, plan.ruleDescription(e.model));
  const users = canary.certificateSecrets.length ? placement.users : undefined;
  const endpointUrl = users?.secretsManagerEndpointUrl;
  const f = createLibraryFunction(scope, plan.function, {
    keyArn,
    environment: endpointUrl ? { SECRETS_MANAGER_ENDPOINT: endpointUrl } : {},
    vpc: { subnetIds: placement.subnetIds, securityGroupIds: [securityGroup.securityGroupId] },
  });
  users?.allowSecretsManagerEndpoint(securityGroup, f.role.arn, plan.function.statements, 'the Celery TLS canary');
  const schedule = new CloudwatchEventRule(scope, 'CanarySchedule', {
    description: plan.schedule.description,
    scheduleExpression: plan.schedule.expression,
  });
  const permission = new LambdaPermission(scope, 'CanaryFunctionInvokeByEvents', {
    action: 'lambda:InvokeFunction',
    functionName: f.function.functionName,
    principal: 'events.amazonaws.com',
    sourceArn: schedule.arn,
  });
  new CloudwatchEventTarget(scope, 'CanaryScheduleTarget', {
    rule: schedule.name,
    arn: f.function.arn,
    retryPolicy: {
      maximumRetryAttempts: plan.schedule.retryAttempts,
      maximumEventAgeInSeconds: plan.schedule.maxEventAgeSeconds,
    },
    dependsOn: [permission, f.attachment],
  });
  return { function: f, securityGroup, schedule };
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
