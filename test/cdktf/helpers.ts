import { App, TerraformElement, TerraformStack, Testing } from 'cdktf';
import { SubnetFact } from '../../lib/core';
import { TfJson } from './security';

export const VPC_ID = 'vpc-0123456789abcdef0';

/** Private subnets in `azs` Availability Zones of eu-west-1 (literal AZs, as the placement props require). */
export function subnets(azs = 3, extra: Partial<SubnetFact> = {}): SubnetFact[] {
  return ['a', 'b', 'c']
    .slice(0, azs)
    .map((az, i) => ({ subnetId: `subnet-0000000000000000${i}`, availabilityZone: `eu-west-1${az}`, ...extra }));
}

/** A stack named "Test" (the same construct paths, and so the same messages, as the CDK tests' stack). */
export function tfStack(name = 'Test'): { app: App; stack: TerraformStack } {
  const app = Testing.app();
  return { app, stack: new TerraformStack(app, name) };
}

export function synthJson(stack: TerraformStack): { text: string; json: TfJson } {
  const text = Testing.synth(stack);
  return { text, json: JSON.parse(text) as TfJson };
}

/** Warning annotations recorded on a construct. */
export function warningsOf(construct: { node: { metadata: { type: string; data: unknown }[] } }): string[] {
  return construct.node.metadata.filter((m) => m.type === '@cdktf/warn').map((m) => String(m.data));
}

/** The resource name (second part of the address) of a resource, as cdktf allocates it from the construct path. */
export function nameOf(_stack: TerraformStack, element: TerraformElement): string {
  return element.friendlyUniqueId;
}
