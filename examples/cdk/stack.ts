import { Stack, StackProps } from 'aws-cdk-lib';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as ecs from 'aws-cdk-lib/aws-ecs';
import { Construct } from 'constructs';
import { CeleryTransport } from 'celery-tls-constructs/cdk';

/**
 * The example: a VPC with isolated subnets only, a CeleryTransport with every default (Amazon MQ for RabbitMQ 4.2
 * broker, Valkey result backend), and a worker task definition that receives the Celery environment and secrets.
 */
export class CeleryTlsExampleStack extends Stack {
  public readonly transport: CeleryTransport;

  constructor(scope: Construct, id: string, props?: StackProps) {
    super(scope, id, props);

    const vpc = new ec2.Vpc(this, 'Vpc', {
      maxAzs: 3,
      natGateways: 0,
      subnetConfiguration: [{ name: 'celery', subnetType: ec2.SubnetType.PRIVATE_ISOLATED, cidrMask: 24 }],
    });

    this.transport = new CeleryTransport(this, 'Celery', { vpc });

    // A worker: run it as a Fargate service with transport.workersSecurityGroup attached.
    const worker = new ecs.FargateTaskDefinition(this, 'WorkerTask', { cpu: 512, memoryLimitMiB: 1024 });
    const container = worker.addContainer('worker', {
      image: ecs.ContainerImage.fromRegistry('public.ecr.aws/docker/library/python:3.12-slim'),
      command: ['python', '-m', 'celery', '-A', 'tasks', 'worker', '--loglevel=INFO'],
    });
    this.transport.bindToContainer(container);
  }
}
