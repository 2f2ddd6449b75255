import { App, Stack } from 'aws-cdk-lib';
import { Template as AssertTemplate } from 'aws-cdk-lib/assertions';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import { Template } from './security';

/** A stack with a VPC of isolated subnets in `azs` Availability Zones (fixed, so that AZ checks see literals). */
export function stackWithVpc(opts: { azs?: number; public?: boolean } = {}) {
  const app = new App();
  const stack = new Stack(app, 'Test', { env: { account: '111122223333', region: 'eu-west-1' } });
  const azs = ['eu-west-1a', 'eu-west-1b', 'eu-west-1c'].slice(0, opts.azs ?? 3);
  const vpc = new ec2.Vpc(stack, 'Vpc', {
    availabilityZones: azs,
    natGateways: 0,
    subnetConfiguration: [
      { name: 'isolated', subnetType: ec2.SubnetType.PRIVATE_ISOLATED, cidrMask: 24 },
      ...(opts.public ? [{ name: 'public', subnetType: ec2.SubnetType.PUBLIC, cidrMask: 24 }] : []),
    ],
  });
  return { app, stack, vpc };
}

export function templateOf(stack: Stack): { assert: AssertTemplate; json: Template } {
  const assert = AssertTemplate.fromStack(stack);
  return { assert, json: assert.toJSON() as Template };
}

export function logicalIdOf(json: Template, pathSuffix: string): string {
  const found = Object.entries(json.Resources).filter(([, r]: [string, any]) =>
    String(r.Metadata?.['aws:cdk:path'] ?? '').endsWith(pathSuffix),
  );
  if (found.length !== 1) throw new Error(`expected one resource at *${pathSuffix}, found ${found.length}`);
  return found[0][0];
}
