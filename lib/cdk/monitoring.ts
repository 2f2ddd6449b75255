import { Duration, Stack } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as events from 'aws-cdk-lib/aws-events';
import * as targets from 'aws-cdk-lib/aws-events-targets';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as sns from 'aws-cdk-lib/aws-sns';
import { Construct } from 'constructs';
import { tlsCanaryFunctionPlan } from '../core/canary';
import { AlarmPlan, CeleryMonitoringOptions, alarmTopicKeyStatement, dashboardBody } from '../core/monitoring';
import type { MonitoringPlan } from '../core/transport';
import { createKey } from './common';
import { createLibraryFunction } from './functions';
import type { RabbitMqApplicationUsers } from './rabbitmq-users';

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
  /** The TLS canary (unless `canary: false`): its function, its group and its schedule. */
  readonly canary?: {
    readonly function: lambda.Function;
    readonly securityGroup: ec2.SecurityGroup;
    readonly schedule: events.Rule;
  };
}

/** Where the canary runs: the transport's VPC and subnets, and the users' Secrets Manager endpoint. */
export interface CanaryPlacement {
  readonly vpc: ec2.IVpc;
  readonly vpcSubnets: ec2.SubnetSelection;
  /** The broker's users, whose Secrets Manager endpoint the canary reads client certificates through. */
  readonly users?: RabbitMqApplicationUsers;
}

/**
 * Renders the planned alarms as `AWS::CloudWatch::Alarm` (one per plan, alarm and OK actions to the topic), the topic
 * (ids `AlarmTopic`, `AlarmTopicKey`) unless one is given, and `AWS::CloudWatch::Dashboard` (id `Dashboard`).
 */
export function createMonitoring(
  scope: Construct,
  plan: MonitoringPlan<ec2.IConnectable>,
  placement: CanaryPlacement,
  options: CeleryTransportMonitoringOptions = {},
): CeleryMonitoring {
  const stack = Stack.of(scope);
  let alarmTopic = options.alarmTopic;
  let key: kms.IKey | undefined;
  if (!alarmTopic) {
    key = createKey(
      scope,
      'AlarmTopicKey',
      `${scope.node.path}: SNS topic of the Celery alarms and the canary's logs`,
      [alarmTopicKeyStatement(stack.account)],
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
  const canary = plan.canary
    ? createCanary(
        scope,
        plan.canary,
        placement,
        key ?? createKey(scope, 'CanaryKey', `${scope.node.path}: TLS canary logs`),
      )
    : undefined;
  return { alarmTopic, alarms, dashboard, canary };
}

/**
 * The TLS canary (ids `CanaryFunction*`, `CanarySecurityGroup`, `CanarySchedule`): a function in the VPC whose group
 * reaches only the endpoints' TLS ports (and the Secrets Manager endpoint when it reads client certificates), run by
 * an EventBridge schedule. It holds no broker credentials and never logs in.
 */
function createCanary(
  scope: Construct,
  canary: NonNullable<MonitoringPlan<ec2.IConnectable>['canary']>,
  placement: CanaryPlacement,
  key: kms.IKey,
): NonNullable<CeleryMonitoring['canary']> {
  const plan = tlsCanaryFunctionPlan({
    endpoints: canary.endpoints.map((e) => e.model),
    certificateSecrets: canary.certificateSecrets,
    region: Stack.of(scope).region,
  });
  const securityGroup = new ec2.SecurityGroup(scope, 'CanarySecurityGroup', {
    vpc: placement.vpc,
    description: plan.securityGroupDescription,
    allowAllOutbound: false,
  });
  for (const e of canary.endpoints)
    e.connectable.connections.allowFrom(securityGroup, ec2.Port.tcp(e.model.port), plan.ruleDescription(e.model));
  const users = canary.certificateSecrets.length ? placement.users : undefined;
  const endpointUrl = users?.secretsManagerEndpointUrl;
  const f = createLibraryFunction(scope, plan.function, {
    key,
    environment: endpointUrl ? { SECRETS_MANAGER_ENDPOINT: endpointUrl } : {},
    vpc: { vpc: placement.vpc, subnets: placement.vpcSubnets, securityGroups: [securityGroup] },
  });
  users?.allowSecretsManagerEndpoint(securityGroup, f.role, plan.function.statements, 'the Celery TLS canary');
  const schedule = new events.Rule(scope, 'CanarySchedule', {
    description: plan.schedule.description,
    schedule: events.Schedule.expression(plan.schedule.expression),
    targets: [
      new targets.LambdaFunction(f.function, {
        retryAttempts: plan.schedule.retryAttempts,
        maxEventAge: Duration.seconds(plan.schedule.maxEventAgeSeconds),
      }),
    ],
  });
  schedule.node.addDependency(f.policy);
  return { function: f.function, securityGroup, schedule };
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
