/**
 * Benchmark baseline: the example stack written by hand with the same L1 resources (no celery-tls-constructs), so
 * that bench/synth.mjs measures what the library adds to a synth. The VPC (flow logs, closed default group), the logs
 * key and the task definition are the user's own code in the example and are the same L2 constructs here.
 */
import { App, Aws, CfnOutput, CustomResource, Duration, Fn, RemovalPolicy, Stack, Token } from 'aws-cdk-lib';
import * as amazonmq from 'aws-cdk-lib/aws-amazonmq';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as ecs from 'aws-cdk-lib/aws-ecs';
import * as elasticache from 'aws-cdk-lib/aws-elasticache';
import * as events from 'aws-cdk-lib/aws-events';
import * as targets from 'aws-cdk-lib/aws-events-targets';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as cr from 'aws-cdk-lib/custom-resources';
import { join } from 'node:path';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import * as sns from 'aws-cdk-lib/aws-sns';
import * as ssm from 'aws-cdk-lib/aws-ssm';

const app = new App();
const stack = new Stack(app, 'Baseline');
const logsKey = new kms.Key(stack, 'LogsKey', { enableKeyRotation: true, removalPolicy: RemovalPolicy.RETAIN });
logsKey.addToResourcePolicy(
  new iam.PolicyStatement({
    principals: [new iam.ServicePrincipal(`logs.${stack.region}.amazonaws.com`)],
    actions: ['kms:Encrypt*', 'kms:Decrypt*', 'kms:ReEncrypt*', 'kms:GenerateDataKey*', 'kms:Describe*'],
    resources: ['*'],
    conditions: {
      ArnLike: {
        'kms:EncryptionContext:aws:logs:arn': `arn:${stack.partition}:logs:${stack.region}:${stack.account}:log-group:*`,
      },
    },
  }),
);
const flowLogs = new logs.LogGroup(stack, 'FlowLogs', {
  encryptionKey: logsKey,
  retention: logs.RetentionDays.ONE_YEAR,
  removalPolicy: RemovalPolicy.RETAIN,
});
const flowLogsRole = new iam.Role(stack, 'FlowLogsRole', {
  assumedBy: new iam.ServicePrincipal('vpc-flow-logs.amazonaws.com'),
});
new iam.ManagedPolicy(stack, 'FlowLogsPolicy', {
  roles: [flowLogsRole],
  statements: [
    new iam.PolicyStatement({
      actions: ['logs:CreateLogStream', 'logs:PutLogEvents', 'logs:DescribeLogStreams'],
      resources: [flowLogs.logGroupArn],
    }),
  ],
});
const vpc = new ec2.Vpc(stack, 'Vpc', {
  maxAzs: 3,
  natGateways: 0,
  subnetConfiguration: [{ name: 'celery', subnetType: ec2.SubnetType.PRIVATE_ISOLATED, cidrMask: 24 }],
  restrictDefaultSecurityGroup: true,
  flowLogs: {
    all: {
      destination: ec2.FlowLogDestination.toCloudWatchLogs(flowLogs, flowLogsRole.withoutPolicyUpdates()),
      trafficType: ec2.FlowLogTrafficType.ALL,
    },
  },
});
const subnetIds = vpc.isolatedSubnets.map((s) => s.subnetId);

const keyPolicy = {
  Version: '2012-10-17',
  Statement: [
    {
      Effect: 'Allow',
      Principal: { AWS: `arn:${Aws.PARTITION}:iam::${Aws.ACCOUNT_ID}:root` },
      Action: 'kms:*',
      Resource: '*',
    },
    {
      Sid: 'Logs',
      Effect: 'Allow',
      Principal: { Service: `logs.${Aws.REGION}.amazonaws.com` },
      Action: ['kms:Encrypt*', 'kms:Decrypt*', 'kms:ReEncrypt*', 'kms:GenerateDataKey*', 'kms:Describe*'],
      Resource: '*',
      Condition: {
        ArnLike: {
          'kms:EncryptionContext:aws:logs:arn': `arn:${Aws.PARTITION}:logs:${Aws.REGION}:${Aws.ACCOUNT_ID}:log-group:*`,
        },
      },
    },
  ],
};
const key = (id: string) => new kms.CfnKey(stack, id, { enableKeyRotation: true, keyPolicy });
const secret = (id: string, k: kms.CfnKey, template: object) =>
  new secretsmanager.CfnSecret(stack, id, {
    kmsKeyId: k.attrArn,
    generateSecretString: {
      passwordLength: 32,
      excludePunctuation: true,
      includeSpace: false,
      requireEachIncludedType: true,
      generateStringKey: 'password',
      secretStringTemplate: JSON.stringify(template),
    },
  });
const sg = (id: string, description: string) =>
  new ec2.CfnSecurityGroup(stack, id, {
    vpcId: vpc.vpcId,
    groupDescription: description,
    securityGroupEgress: [
      {
        cidrIp: '255.255.255.255/32',
        description: 'Disallow all traffic',
        ipProtocol: 'icmp',
        fromPort: 252,
        toPort: 86,
      },
    ],
  });

const brokerKey = key('BrokerKey');
const brokerSecret = secret('BrokerSecret', brokerKey, { username: 'celeryadmin' });
const brokerSg = sg('BrokerSg', 'broker');
const brokerConfiguration = new amazonmq.CfnConfiguration(stack, 'BrokerConfiguration', {
  name: 'baseline-broker-celery',
  engineType: 'RABBITMQ',
  engineVersion: '4.2',
  data: Fn.base64('consumer_timeout = 3600000\n'),
});
const broker = new amazonmq.CfnBroker(stack, 'Broker', {
  brokerName: 'baseline-broker',
  engineType: 'RABBITMQ',
  engineVersion: '4.2',
  hostInstanceType: 'mq.m7g.large',
  deploymentMode: 'CLUSTER_MULTI_AZ',
  publiclyAccessible: false,
  autoMinorVersionUpgrade: true,
  logs: { general: true },
  maintenanceWindowStartTime: { dayOfWeek: 'SUNDAY', timeOfDay: '03:00', timeZone: 'UTC' },
  securityGroups: [brokerSg.attrGroupId],
  subnetIds,
  users: [
    { username: 'celeryadmin', password: `{{resolve:secretsmanager:${brokerSecret.ref}:SecretString:password::}}` },
  ],
  configuration: { id: brokerConfiguration.ref, revision: Token.asNumber(brokerConfiguration.attrRevision) },
});

const cacheKey = key('CacheKey');
// RBAC users as in the example: a default user off, a producer and a worker user with passwords from their secrets.
const cacheSecret = secret('CacheSecret', cacheKey, { username: 'celery-worker', user_id: 'baseline-worker' });
const cacheProducerSecret = secret('CacheProducerSecret', cacheKey, {
  username: 'celery-producer',
  user_id: 'baseline-producer',
});
const cacheUsers = [
  new elasticache.CfnUser(stack, 'DefaultUser', {
    engine: 'redis',
    userId: 'baseline-default',
    userName: 'default',
    accessString: 'off -@all',
    authenticationMode: { Type: 'no-password-required' },
  }),
  ...(
    [
      ['Worker', cacheSecret, 'celery-worker'],
      ['Producer', cacheProducerSecret, 'celery-producer'],
    ] as const
  ).map(
    ([id, s, name]) =>
      new elasticache.CfnUser(stack, `${id}User`, {
        engine: 'redis',
        userId: `baseline-${id.toLowerCase()}`,
        userName: name,
        accessString: 'on ~* &* +@all -@dangerous',
        authenticationMode: {
          Type: 'password',
          Passwords: [`{{resolve:secretsmanager:${s.ref}:SecretString:password::}}`],
        },
      }),
  ),
];
const userGroup = new elasticache.CfnUserGroup(stack, 'UserGroup', {
  engine: 'redis',
  userGroupId: 'baseline-users',
  userIds: cacheUsers.map((u) => u.ref),
});
const cacheSg = sg('CacheSg', 'cache');
const subnetGroup = new elasticache.CfnSubnetGroup(stack, 'SubnetGroup', { description: 'cache', subnetIds });
const params = new elasticache.CfnParameterGroup(stack, 'Params', {
  cacheParameterGroupFamily: 'valkey8',
  description: 'noeviction',
  properties: { 'maxmemory-policy': 'noeviction' },
});
const slow = new logs.CfnLogGroup(stack, 'SlowLog', { kmsKeyId: cacheKey.attrArn, retentionInDays: 365 });
const engine = new logs.CfnLogGroup(stack, 'EngineLog', { kmsKeyId: cacheKey.attrArn, retentionInDays: 365 });
const cache = new elasticache.CfnReplicationGroup(stack, 'Cache', {
  replicationGroupDescription: 'cache',
  engine: 'valkey',
  engineVersion: '8.2',
  cacheNodeType: 'cache.m7g.large',
  numCacheClusters: 2,
  port: 6380,
  clusterMode: 'disabled',
  cacheSubnetGroupName: subnetGroup.ref,
  cacheParameterGroupName: params.ref,
  securityGroupIds: [cacheSg.attrGroupId],
  transitEncryptionEnabled: true,
  transitEncryptionMode: 'required',
  atRestEncryptionEnabled: true,
  kmsKeyId: cacheKey.attrArn,
  userGroupIds: [userGroup.ref],
  multiAzEnabled: true,
  automaticFailoverEnabled: true,
  snapshotRetentionLimit: 15,
  snapshotWindow: '03:00-04:00',
  preferredMaintenanceWindow: 'sun:05:00-sun:06:00',
  autoMinorVersionUpgrade: true,
  logDeliveryConfigurations: [slow, engine].map((lg, i) => ({
    destinationType: 'cloudwatch-logs',
    destinationDetails: { cloudWatchLogsDetails: { logGroup: lg.ref } },
    logFormat: 'json',
    logType: i === 0 ? 'slow-log' : 'engine-log',
  })),
});

for (const [name, port, target] of [
  ['Broker', 5671, brokerSg],
  ['Cache', 6380, cacheSg],
] as const) {
  for (const role of ['Producers', 'Workers']) {
    const source =
      (stack.node.tryFindChild(`${role}Sg`) as ec2.CfnSecurityGroup) ??
      new ec2.CfnSecurityGroup(stack, `${role}Sg`, { vpcId: vpc.vpcId, groupDescription: role });
    new ec2.CfnSecurityGroupIngress(stack, `${role}To${name}In`, {
      groupId: target.attrGroupId,
      sourceSecurityGroupId: source.attrGroupId,
      ipProtocol: 'tcp',
      fromPort: port,
      toPort: port,
      description: `${role} to ${name}`,
    });
    new ec2.CfnSecurityGroupEgress(stack, `${role}To${name}Out`, {
      groupId: source.attrGroupId,
      destinationSecurityGroupId: target.attrGroupId,
      ipProtocol: 'tcp',
      fromPort: port,
      toPort: port,
      description: `${role} to ${name}`,
    });
  }
}

const brokerHost = Fn.select(0, Fn.split(':', Fn.select(1, Fn.split('://', Fn.select(0, broker.attrAmqpEndpoints)))));

// RabbitMQ application users: secrets, a VPC function behind the provider framework, a Secrets Manager endpoint,
// rotation of the three broker secrets; ElastiCache user rotation. Same L2 constructs and bundles as the library.
const asset = (name: string) => lambda.Code.fromAsset(join(__dirname, '..', 'assets', 'handlers', name));
const producerSecret = secret('ProducerSecret', brokerKey, { username: 'celery-producer' });
const workerSecret = secret('WorkerSecret', brokerKey, { username: 'celery-worker' });
const fnSg = new ec2.SecurityGroup(stack, 'UsersSg', { vpc, description: 'users function', allowAllOutbound: false });
const endpointSg = new ec2.SecurityGroup(stack, 'EndpointSg', {
  vpc,
  description: 'endpoint',
  allowAllOutbound: false,
});
const endpoint = new ec2.InterfaceVpcEndpoint(stack, 'Endpoint', {
  vpc,
  service: ec2.InterfaceVpcEndpointAwsService.SECRETS_MANAGER,
  privateDnsEnabled: false,
  open: false,
  securityGroups: [endpointSg],
});
endpointSg.addIngressRule(fnSg, ec2.Port.tcp(443), 'users function');
fnSg.addEgressRule(endpointSg, ec2.Port.tcp(443), 'endpoint');
fnSg.addEgressRule(ec2.Peer.securityGroupId(brokerSg.attrGroupId), ec2.Port.tcp(443), 'broker');
new ec2.CfnSecurityGroupIngress(stack, 'UsersToBroker', {
  groupId: brokerSg.attrGroupId,
  sourceSecurityGroupId: fnSg.securityGroupId,
  ipProtocol: 'tcp',
  fromPort: 443,
  toPort: 443,
  description: 'users function',
});
const secretArns = [brokerSecret.ref, producerSecret.ref, workerSecret.ref];
const vpcFunction = (id: string, handler: string, env: Record<string, string>, statements: iam.PolicyStatement[]) => {
  const role = new iam.Role(stack, `${id}Role`, { assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com') });
  const lg = new logs.LogGroup(stack, `${id}Logs`, {
    encryptionKey: logsKey,
    retention: logs.RetentionDays.ONE_YEAR,
    removalPolicy: RemovalPolicy.RETAIN,
  });
  new iam.ManagedPolicy(stack, `${id}Policy`, {
    roles: [role],
    statements: [
      ...statements,
      new iam.PolicyStatement({ actions: ['logs:CreateLogStream', 'logs:PutLogEvents'], resources: [lg.logGroupArn] }),
      new iam.PolicyStatement({
        actions: ['ec2:CreateNetworkInterface', 'ec2:DescribeNetworkInterfaces', 'ec2:DeleteNetworkInterface'],
        resources: ['*'],
      }),
    ],
  });
  endpoint.addToPolicy(
    new iam.PolicyStatement({
      principals: [new iam.ArnPrincipal(role.roleArn)],
      actions: ['secretsmanager:GetSecretValue'],
      resources: secretArns,
    }),
  );
  return new lambda.Function(stack, id, {
    runtime: lambda.Runtime.NODEJS_24_X,
    handler,
    code: asset('rabbitmq-users'),
    timeout: Duration.minutes(2),
    role: role.withoutPolicyUpdates(),
    vpc,
    securityGroups: [fnSg],
    logGroup: lg,
    environment: { SECRETS_MANAGER_ENDPOINT: Fn.select(0, endpoint.vpcEndpointDnsEntries), ...env },
  });
};
const usersFn = vpcFunction('UsersFunction', 'index.onEvent', {}, [
  new iam.PolicyStatement({ actions: ['secretsmanager:GetSecretValue'], resources: secretArns }),
]);
const providerRole = new iam.Role(stack, 'ProviderRole', {
  assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com'),
});
const providerLogs = new logs.LogGroup(stack, 'ProviderLogs', {
  encryptionKey: logsKey,
  retention: logs.RetentionDays.ONE_YEAR,
  removalPolicy: RemovalPolicy.RETAIN,
});
new iam.ManagedPolicy(stack, 'ProviderPolicy', {
  roles: [providerRole],
  statements: [new iam.PolicyStatement({ actions: ['lambda:InvokeFunction'], resources: [usersFn.functionArn] })],
});
const provider = new cr.Provider(stack, 'Provider', {
  onEventHandler: usersFn,
  frameworkOnEventRole: providerRole.withoutPolicyUpdates(),
  logGroup: providerLogs,
});
const users = new CustomResource(stack, 'Users', {
  serviceToken: provider.serviceToken,
  resourceType: 'Custom::CeleryRabbitMqUsers',
  properties: {
    ManagementUrl: `https://${brokerHost}`,
    Vhost: 'celery',
    AdminSecretArn: brokerSecret.ref,
    Users: [
      { Name: 'celery-producer', PasswordSecretArn: producerSecret.ref },
      { Name: 'celery-worker', PasswordSecretArn: workerSecret.ref },
    ],
  },
});
const rotationFn = vpcFunction(
  'RotationFunction',
  'index.onRotate',
  { MANAGEMENT_URL: `https://${brokerHost}`, ADMIN_SECRET_ARN: brokerSecret.ref },
  [
    new iam.PolicyStatement({
      actions: ['secretsmanager:PutSecretValue', 'secretsmanager:UpdateSecretVersionStage'],
      resources: secretArns,
    }),
  ],
);
for (const [i, s] of [brokerSecret, producerSecret, workerSecret].entries()) {
  new secretsmanager.RotationSchedule(stack, `Rotation${i}`, {
    secret: secretsmanager.Secret.fromSecretAttributes(stack, `Rotated${i}`, { secretCompleteArn: s.ref }),
    rotationLambda: rotationFn,
    automaticallyAfter: Duration.days(30),
  }).node.addDependency(users);
}
const cacheRotationRole = new iam.Role(stack, 'CacheRotationRole', {
  assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com'),
});
const cacheRotationLogs = new logs.LogGroup(stack, 'CacheRotationLogs', {
  encryptionKey: logsKey,
  retention: logs.RetentionDays.ONE_YEAR,
  removalPolicy: RemovalPolicy.RETAIN,
});
new iam.ManagedPolicy(stack, 'CacheRotationPolicy', {
  roles: [cacheRotationRole],
  statements: [
    new iam.PolicyStatement({
      actions: ['elasticache:ModifyUser', 'elasticache:DescribeUsers'],
      resources: cacheUsers.slice(1).map((u) => u.attrArn),
    }),
    new iam.PolicyStatement({
      actions: ['logs:CreateLogStream', 'logs:PutLogEvents'],
      resources: [cacheRotationLogs.logGroupArn],
    }),
  ],
});
const cacheRotationFn = new lambda.Function(stack, 'CacheRotationFunction', {
  runtime: lambda.Runtime.NODEJS_24_X,
  handler: 'index.onRotate',
  code: asset('elasticache-users'),
  timeout: Duration.minutes(15),
  role: cacheRotationRole.withoutPolicyUpdates(),
  logGroup: cacheRotationLogs,
});
for (const [i, s] of [cacheSecret, cacheProducerSecret].entries()) {
  new secretsmanager.RotationSchedule(stack, `CacheRotation${i}`, {
    secret: secretsmanager.Secret.fromSecretAttributes(stack, `CacheRotated${i}`, { secretCompleteArn: s.ref }),
    rotationLambda: cacheRotationFn,
    automaticallyAfter: Duration.days(30),
  });
}
// Monitoring, as the library makes it by default: a CMK-encrypted topic (TLS only), one alarm per metric (broker,
// queue, each cache node, the canary's endpoints), a dashboard, and the TLS canary (a VPC function on a schedule).
const alarmKey = key('AlarmTopicKey');
const topic = new sns.CfnTopic(stack, 'AlarmTopic', { kmsMasterKeyId: alarmKey.attrArn });
new sns.CfnTopicPolicy(stack, 'AlarmTopicPolicy', {
  topics: [topic.ref],
  policyDocument: {
    Statement: [
      {
        Effect: 'Deny',
        Principal: '*',
        Action: 'sns:Publish',
        Resource: topic.ref,
        Condition: { Bool: { 'aws:SecureTransport': 'false' } },
      },
    ],
  },
});
const alarmArns: string[] = [];
const alarm = (id: string, namespace: string, metricName: string, dimensions: Record<string, string>) => {
  const a = new cloudwatch.CfnAlarm(stack, id, {
    namespace,
    metricName,
    dimensions: Object.entries(dimensions).map(([name, value]) => ({ name, value })),
    statistic: 'Average',
    period: 60,
    threshold: 1,
    evaluationPeriods: 5,
    datapointsToAlarm: 5,
    comparisonOperator: 'GreaterThanThreshold',
    alarmActions: [topic.ref],
    okActions: [topic.ref],
  });
  alarmArns.push(a.attrArn);
};
for (const m of ['Memory', 'Disk', 'Cpu', 'Connections', 'Consumers', 'Ready', 'Unacknowledged'])
  alarm(`Broker${m}Alarm`, 'AWS/AmazonMQ', m, { Broker: 'baseline-broker' });
for (const node of ['001', '002'])
  for (const m of ['Memory', 'EngineCpu', 'Connections', 'ReplicationLag'])
    alarm(`Cache${node}${m}Alarm`, 'AWS/ElastiCache', m, { CacheClusterId: Fn.join('-', [cache.ref, node]) });
for (const endpoint of ['broker', 'resultBackend'])
  for (const m of ['ChecksFailed', 'DaysToExpiry'])
    alarm(`Canary${endpoint}${m}Alarm`, 'CeleryTls/Canary', m, { Endpoint: endpoint });
new cloudwatch.CfnDashboard(stack, 'Dashboard', {
  dashboardBody: stack.toJsonString({
    widgets: alarmArns.map((arn) => ({ type: 'metric', properties: { annotations: { alarms: [arn] } } })),
  }),
});
const canarySg = new ec2.SecurityGroup(stack, 'CanarySg', { vpc, description: 'canary', allowAllOutbound: false });
for (const [name, port, target] of [
  ['Broker', 5671, brokerSg],
  ['Cache', 6380, cacheSg],
] as const) {
  canarySg.addEgressRule(ec2.Peer.securityGroupId(target.attrGroupId), ec2.Port.tcp(port), name);
  new ec2.CfnSecurityGroupIngress(stack, `CanaryTo${name}`, {
    groupId: target.attrGroupId,
    sourceSecurityGroupId: canarySg.securityGroupId,
    ipProtocol: 'tcp',
    fromPort: port,
    toPort: port,
    description: 'canary',
  });
}
const canaryRole = new iam.Role(stack, 'CanaryRole', { assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com') });
const canaryLogs = new logs.LogGroup(stack, 'CanaryLogs', {
  encryptionKey: logsKey,
  retention: logs.RetentionDays.ONE_YEAR,
  removalPolicy: RemovalPolicy.RETAIN,
});
new iam.ManagedPolicy(stack, 'CanaryPolicy', {
  roles: [canaryRole],
  statements: [
    new iam.PolicyStatement({
      actions: ['logs:CreateLogStream', 'logs:PutLogEvents'],
      resources: [canaryLogs.logGroupArn],
    }),
    new iam.PolicyStatement({
      actions: ['ec2:CreateNetworkInterface', 'ec2:DescribeNetworkInterfaces'],
      resources: ['*'],
    }),
  ],
});
const canaryFn = new lambda.Function(stack, 'CanaryFunction', {
  runtime: lambda.Runtime.NODEJS_24_X,
  handler: 'index.handler',
  code: asset('tls-canary'),
  timeout: Duration.minutes(1),
  role: canaryRole.withoutPolicyUpdates(),
  vpc,
  securityGroups: [canarySg],
  logGroup: canaryLogs,
  environment: {
    CANARY_ENDPOINTS: stack.toJsonString([
      { name: 'broker', host: brokerHost, port: 5671 },
      { name: 'resultBackend', host: cache.attrPrimaryEndPointAddress, port: 6380 },
    ]),
  },
});
new events.Rule(stack, 'CanarySchedule', {
  schedule: events.Schedule.rate(Duration.minutes(15)),
  targets: [new targets.LambdaFunction(canaryFn, { retryAttempts: 0 })],
});

const manifest = stack.toJsonString({
  broker: { scheme: 'amqps', host: brokerHost, port: 5671, secretArn: brokerSecret.ref },
  resultBackend: { scheme: 'rediss', host: cache.attrPrimaryEndPointAddress, port: 6380, secretArn: cacheSecret.ref },
});
const param = new ssm.CfnParameter(stack, 'Manifest', { type: 'String', value: manifest });
new CfnOutput(stack, 'BrokerEndpoint', { value: brokerHost });
new CfnOutput(stack, 'ResultBackendEndpoint', { value: cache.attrPrimaryEndPointAddress });
new CfnOutput(stack, 'ManifestParameterName', { value: param.ref });
new CfnOutput(stack, 'CeleryManifest', { value: manifest });

const task = new ecs.FargateTaskDefinition(stack, 'WorkerTask', { cpu: 512, memoryLimitMiB: 1024 });
const workerLogs = new logs.LogGroup(stack, 'WorkerLogs', {
  encryptionKey: logsKey,
  retention: logs.RetentionDays.ONE_YEAR,
  removalPolicy: RemovalPolicy.RETAIN,
});
const container = task.addContainer('worker', {
  image: ecs.ContainerImage.fromRegistry('public.ecr.aws/docker/library/python:3.12-slim'),
  logging: ecs.LogDrivers.awsLogs({ streamPrefix: 'worker', logGroup: workerLogs }),
});
container.addEnvironment('CELERY_TLS_BROKER_HOST', brokerHost);
container.addSecret(
  'CELERY_TLS_BROKER_PASSWORD',
  ecs.Secret.fromSecretsManager(
    secretsmanager.Secret.fromSecretAttributes(stack, 'BS', {
      secretCompleteArn: brokerSecret.ref,
      encryptionKey: kms.Key.fromKeyArn(stack, 'BK', brokerKey.attrArn),
    }),
    'password',
  ),
);
container.addSecret(
  'CELERY_TLS_RESULT_BACKEND_PASSWORD',
  ecs.Secret.fromSecretsManager(
    secretsmanager.Secret.fromSecretAttributes(stack, 'CS', {
      secretCompleteArn: cacheSecret.ref,
      encryptionKey: kms.Key.fromKeyArn(stack, 'CK', cacheKey.attrArn),
    }),
    'password',
  ),
);

app.synth();
