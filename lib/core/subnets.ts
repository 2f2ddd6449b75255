import { IssueCollector, ResolveContext, ValidationIssue, show } from './errors';

/** A subnet as the core sees it; `availabilityZone` may be a token in environment-agnostic stacks. */
export interface SubnetFact {
  /** The subnet id; may be a token for a subnet created in the same stack. */
  readonly subnetId: string;
  /** The subnet's Availability Zone; may be a token in environment-agnostic stacks. */
  readonly availabilityZone: string;
  /** "Public", "Private" or "Isolated" when the adapter knows it. */
  readonly type?: string;
}

/**
 * Picks at most one subnet per Availability Zone (in order) and checks that there are enough for the service.
 * Returns the chosen subnets and any issues.
 */
export function chooseSubnets(
  ctx: ResolveContext,
  prop: string,
  subnets: readonly SubnetFact[],
  need: { min: number; max: number; service: string; why: string },
): { subnets: SubnetFact[]; errors: ValidationIssue[] } {
  const issues = new IssueCollector(ctx);
  const publicOnes = subnets.filter((s) => s.type === 'Public');
  if (publicOnes.length > 0) {
    // Subnets of a VPC in the same stack have deploy-time ids: count them rather than print tokens.
    const literal = publicOnes.filter((s) => !ctx.isUnresolved(s.subnetId)).map((s) => show(s.subnetId));
    const which =
      literal.length === publicOnes.length
        ? literal.join(', ')
        : `${publicOnes.length} subnet${publicOnes.length === 1 ? '' : 's'} of this stack`;
    issues.error(
      'subnets.public',
      prop,
      `${prop} selects public subnets (${which}): ${need.service} must sit on private or isolated subnets with no route from the internet. Select private or isolated subnets (SubnetType.PRIVATE_ISOLATED or PRIVATE_WITH_EGRESS on the CDK).`,
    );
  }
  const seen = new Set<string>();
  const chosen: SubnetFact[] = [];
  let unknownAz = false;
  for (const s of subnets) {
    if (ctx.isUnresolved(s.availabilityZone)) {
      unknownAz = true;
      chosen.push(s);
    } else if (!seen.has(s.availabilityZone)) {
      seen.add(s.availabilityZone);
      chosen.push(s);
    }
  }
  const picked = chosen.slice(0, need.max);
  if (picked.length < need.min) {
    const azs = unknownAz
      ? `${picked.length} subnets`
      : `${picked.length} Availability Zone${picked.length === 1 ? '' : 's'} (${[...seen].join(', ') || 'none'})`;
    issues.error(
      'subnets.too-few',
      prop,
      `${prop} gives ${azs}: ${need.service} needs subnets in at least ${need.min} different Availability Zones ${need.why}. Select more subnets, or a VPC with more Availability Zones.`,
    );
  }
  return { subnets: picked, errors: issues.errors };
}

/** The first subnet of each Availability Zone, in the given order (interface endpoints take one per AZ). */
export function onePerAvailabilityZone(subnets: readonly SubnetFact[]): SubnetFact[] {
  return subnets.filter((s, i, all) => all.findIndex((x) => x.availabilityZone === s.availabilityZone) === i);
}
