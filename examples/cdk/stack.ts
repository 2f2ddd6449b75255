import { Aspects, RemovalPolicy, Stack, StackProps } from 'aws-cdk-lib';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as ecs from 'aws-cdk-lib/aws-ecs';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as logs from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';
import {
  BrokerClientCertificates,
  CeleryBroker,
  CeleryEncryptionGuard,
  CeleryResultBackend,
  CeleryTransport,
  DEFAULTS,
  RedisAuth,
} from 'celery-tls-constructs/cdk';

export interface CeleryTlsExampleStackProps extends StackProps {
  /** An AWS Private CA for client certificates (mutual TLS to the broker). `cdk synth -c clientCaArn=<arn>`. */
  readonly clientCaArn?: string;
}

/**
 * The example: a VPC with isolated subnets only (flow logs on, default security group closed), a CeleryTransport
 * (Amazon MQ for RabbitMQ 4.2 broker with producer and worker users, Valkey result backend with RBAC users; every
 * password rotates every 30 days), and a worker task definition that
 * receives the Celery environment and secrets. The encryption guard fails synthesis if any cache, broker, security
 * group rule or secret of the stack loses its encryption settings (escape hatches included).
 */
export class CeleryTlsExampleStack extends Stack {
  public readonly transport: CeleryTransport;

  constructor(scope: Construct, id: string, props: CeleryTlsExampleStackProps = {}) {
    super(scope, id, props);

    // A key for the example's own log groups (VPC flow logs, worker logs); the transport makes its own keys.
    const logsKey = new kms.Key(this, 'LogsKey', {
      description: 'CeleryTlsExample: VPC flow logs and worker logs',
      enableKeyRotation: true,
      removalPolicy: RemovalPolicy.RETAIN,
    });
    // https://docs.aws.amazon.com/AmazonCloudWatch/latest/logs/encrypt-log-data-kms.html
    logsKey.addToResourcePolicy(
      new iam.PolicyStatement({
        principals: [new iam.ServicePrincipal(`logs.${this.region}.amazonaws.com`)],
        actions: ['kms:Encrypt*', 'kms:Decrypt*', 'kms:ReEncrypt*', 'kms:GenerateDataKey*', 'kms:Describe*'],
        resources: ['*'],
        conditions: {
          ArnLike: {
            'kms:EncryptionContext:aws:logs:arn': `arn:${this.partition}:logs:${this.region}:${this.account}:log-group:*`,
          },
        },
      }),
    );
    const flowLogs = new logs.LogGroup(this, 'FlowLogs', {
      encryptionKey: logsKey,
      retention: DEFAULTS.logs.retentionDays as logs.RetentionDays,
      removalPolicy: RemovalPolicy.RETAIN,
    });

    // A role with a customer-managed policy: the grants of FlowLogDestination would go to an inline policy
    // (cdk-nag HIPAA/NIST/PCI IAMNoInlinePolicy), so the role is passed without policy updates.
    const flowLogsRole = new iam.Role(this, 'FlowLogsRole', {
      assumedBy: new iam.ServicePrincipal('vpc-flow-logs.amazonaws.com'),
    });
    new iam.ManagedPolicy(this, 'FlowLogsPolicy', {
      description: 'CeleryTlsExample: VPC flow logs write to their log group',
      roles: [flowLogsRole],
      statements: [
        new iam.PolicyStatement({
          actions: ['logs:CreateLogStream', 'logs:PutLogEvents', 'logs:DescribeLogStreams'],
          resources: [flowLogs.logGroupArn],
        }),
      ],
    });

    const vpc = new ec2.Vpc(this, 'Vpc', {
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

    this.transport = new CeleryTransport(this, 'Celery', {
      vpc,
      // With a private CA: client certificates instead of passwords on AMQP (RabbitMQ 4.2, EXTERNAL login).
      broker: CeleryBroker.rabbitMq({
        clientCertificates: props.clientCaArn ? BrokerClientCertificates.fromPrivateCa(props.clientCaArn) : undefined,
      }),
      // RBAC users instead of an AUTH token: one user per role, passwords rotated every 30 days.
      resultBackend: CeleryResultBackend.redis({ authToken: RedisAuth.rbacUsers() }),
    });

    // A worker: run it as a Fargate service with transport.workersSecurityGroup attached.
    const worker = new ecs.FargateTaskDefinition(this, 'WorkerTask', { cpu: 512, memoryLimitMiB: 1024 });
    const workerLogs = new logs.LogGroup(this, 'WorkerLogs', {
      encryptionKey: logsKey,
      retention: DEFAULTS.logs.retentionDays as logs.RetentionDays,
      removalPolicy: RemovalPolicy.RETAIN,
    });
    const container = worker.addContainer('worker', {
      image: ecs.ContainerImage.fromRegistry('public.ecr.aws/docker/library/python:3.12-slim'),
      command: ['python', '-m', 'celery', '-A', 'tasks', 'worker', '--loglevel=INFO'],
      logging: ecs.LogDrivers.awsLogs({ streamPrefix: 'worker', logGroup: workerLogs }),
    });
    this.transport.bindToContainer(container);

    Aspects.of(this).add(new CeleryEncryptionGuard());
  }
}
