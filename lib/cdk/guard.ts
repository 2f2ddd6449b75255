import { Annotations, CfnResource, IAspect, Stack } from 'aws-cdk-lib';
import { IConstruct } from 'constructs';
import { checkEncryptionGuard, formatGuardViolation } from '../core/guard';
import type { CeleryEncryptionGuardOptions, GuardContext, GuardedBroker, GuardedCache } from '../core/guard';
import type { GuardedIngressRule, GuardedScope, GuardedSecret, GuardResult } from '../core/guard';
import { describeByStack, GuardAspectRoots, guardFact as fact, securityGroupKeys } from '../core/guard-describe';
import type { JsonValue, StackRendering } from '../core/guard-describe';

/** A CloudFormation resource as it appears in a template. */
export interface CfnResourceJson {
  /** The resource type, e.g. `AWS::ElastiCache::ReplicationGroup`. */
  readonly Type: string;
  /** Its properties as rendered (intrinsics for deploy-time values). */
  readonly Properties?: Record<string, JsonValue>;
  /** Its metadata (`aws:cdk:path` names the construct). */
  readonly Metadata?: Record<string, JsonValue>;
}

/** After `stack.resolve`, a deploy-time value is an intrinsic (`{ Ref }`, `{ "Fn::GetAtt" }`, ...), never a token. */
export const CFN_GUARD_CONTEXT: GuardContext = {
  isExpression: (value: unknown) => value !== null && typeof value === 'object' && !Array.isArray(value),
};

/** The resource types the guard reads. */
export const CFN_GUARDED_TYPES = [
  'AWS::ElastiCache::ReplicationGroup',
  'AWS::AmazonMQ::Broker',
  'AWS::EC2::SecurityGroup',
  'AWS::EC2::SecurityGroupIngress',
  'AWS::SecretsManager::Secret',
];

/** `{ Ref: X }` or `{ "Fn::GetAtt": [X, ...] }` → the key of X; a literal id stays as it is. */
function groupKey(prefix: string, value: unknown): string | undefined {
  if (typeof value === 'string') return value;
  if (value && typeof value === 'object') {
    const v = value as Record<string, JsonValue>;
    if (typeof v.Ref === 'string') return prefix + v.Ref;
    if (Array.isArray(v['Fn::GetAtt'])) return prefix + v['Fn::GetAtt'][0];
  }
  return undefined;
}

/**
 * Describes CloudFormation resources for the guard's rules.
 * @param keyPrefix qualifies logical ids (one per stack) so that groups of two stacks never collide
 * @param pathOf construct path of a logical id (the `aws:cdk:path` metadata, else the logical id)
 */
export function describeCloudFormation(
  resources: Record<string, CfnResourceJson>,
  keyPrefix = '',
  pathOf: (logicalId: string, r: CfnResourceJson) => string = (id, r) => r.Metadata?.['aws:cdk:path'] ?? id,
): GuardedScope {
  const scope: {
    caches: GuardedCache[];
    brokers: GuardedBroker[];
    ingressRules: GuardedIngressRule[];
    secrets: GuardedSecret[];
  } = {
    caches: [],
    brokers: [],
    ingressRules: [],
    secrets: [],
  };
  const groups = (v: unknown) => securityGroupKeys(v, (g) => groupKey(keyPrefix, g));
  const rule = (
    path: string,
    group: string | undefined,
    p: Record<string, JsonValue>,
    prefix = '',
  ): GuardedIngressRule => ({
    path,
    group,
    protocol: fact(p, 'IpProtocol', prefix),
    fromPort: fact(p, 'FromPort', prefix),
    toPort: fact(p, 'ToPort', prefix),
    cidrs: ['CidrIp', 'CidrIpv6'].filter((k) => p[k] !== undefined).map((k) => fact(p, k, prefix)),
  });
  for (const [id, r] of Object.entries(resources)) {
    const p = r.Properties ?? {};
    const path = pathOf(id, r);
    switch (r.Type) {
      case 'AWS::ElastiCache::ReplicationGroup':
        scope.caches.push({
          path,
          transitEncryptionEnabled: fact(p, 'TransitEncryptionEnabled'),
          transitEncryptionMode: fact(p, 'TransitEncryptionMode'),
          atRestEncryptionEnabled: fact(p, 'AtRestEncryptionEnabled'),
          kmsKeyId: fact(p, 'KmsKeyId'),
          authToken: fact(p, 'AuthToken'),
          userGroupIds: fact(p, 'UserGroupIds'),
          port: typeof p.Port === 'number' ? p.Port : undefined,
          securityGroups: groups(p.SecurityGroupIds),
        });
        break;
      case 'AWS::AmazonMQ::Broker':
        scope.brokers.push({
          path,
          publiclyAccessible: fact(p, 'PubliclyAccessible'),
          securityGroups: groups(p.SecurityGroups),
        });
        break;
      case 'AWS::EC2::SecurityGroup':
        (Array.isArray(p.SecurityGroupIngress) ? p.SecurityGroupIngress : []).forEach(
          (inline: Record<string, JsonValue>, i: number) => {
            scope.ingressRules.push(rule(path, keyPrefix + id, inline ?? {}, `SecurityGroupIngress[${i}].`));
          },
        );
        break;
      case 'AWS::EC2::SecurityGroupIngress':
        scope.ingressRules.push(rule(path, groupKey(keyPrefix, p.GroupId), p));
        break;
      case 'AWS::SecretsManager::Secret':
        scope.secrets.push({ path, kmsKeyId: fact(p, 'KmsKeyId') });
        break;
      default:
        break;
    }
  }
  return scope;
}

/** A guarded L1 resource (one of `CFN_GUARDED_TYPES`). */
function isGuarded(c: IConstruct): c is CfnResource {
  return CfnResource.isCfnResource(c) && CFN_GUARDED_TYPES.includes(c.cfnResourceType);
}

/** The template fragment of one L1 resource as synthesis renders it: overrides applied, tokens resolved to intrinsics. */
function renderCfn(c: CfnResource, stack: Stack): Array<[string, CfnResourceJson]> {
  // _toCloudFormation() applies addOverride/addPropertyOverride, as synthesis does (aws-cdk-lib cfn-resource.ts).
  const rendered: { Resources?: Record<string, CfnResourceJson> } = stack.resolve(
    (c as unknown as { _toCloudFormation(): object })._toCloudFormation(),
  );
  return Object.entries(rendered.Resources ?? {});
}

/** Renders L1 resources stack by stack, for `describeByStack`. */
const CFN_RENDERING: StackRendering<CfnResource, Stack, CfnResourceJson> = {
  stackOf: (c) => Stack.of(c),
  render: renderCfn,
  describe: describeCloudFormation,
};

/** Describes the guarded L1 resources under `scope` as they will be rendered: overrides and escape hatches included. */
export function describeConstructTree(root: IConstruct): GuardedScope {
  return describeByStack(root.node.findAll().filter(isGuarded), CFN_RENDERING);
}

/** Props of the CDK `CeleryEncryptionGuard`. */
export interface CeleryEncryptionGuardProps extends CeleryEncryptionGuardOptions {}

/**
 * Fails synthesis when a replication group, broker, security group rule or secret in its scope loses its encryption
 * settings: transit encryption on with mode `required`, at-rest encryption with a customer-managed key, AUTH token or
 * user groups, no public broker, no ingress from 0.0.0.0/0 or ::/0 to a Celery port, no protocol -1, secrets with a
 * customer-managed key. It reads the resources as they will be rendered, so hand-written L1s and escape hatches
 * (`addPropertyOverride`, `addOverride`) are checked too.
 *
 *     Aspects.of(stack).add(new CeleryEncryptionGuard());
 *
 * The check runs in the validation phase of synthesis, after every aspect, and reports every violation at once with
 * the construct path, the property and the fix.
 */
export class CeleryEncryptionGuard implements IAspect {
  private readonly roots = new GuardAspectRoots();
  private readonly warned = new Set<string>();

  /** A guard with the given options (none: every rule, no migration flag). */
  constructor(private readonly props: CeleryEncryptionGuardProps = {}) {}

  /** Checks a scope now, without synthesis (use it in tests, or the helpers of `testing`). */
  public static check(scope: IConstruct, options: CeleryEncryptionGuardOptions = {}): GuardResult {
    return checkEncryptionGuard(describeConstructTree(scope), options, CFN_GUARD_CONTEXT);
  }

  /** Registers one validation on the first node visited (the scope the guard was added to); it checks the whole scope. */
  public visit(node: IConstruct): void {
    if (this.roots.claim(node)) node.node.addValidation({ validate: () => this.validate(node) });
  }

  /** The errors of the check of `root`; each warning becomes a warning annotation, once. */
  private validate(root: IConstruct): string[] {
    const result = CeleryEncryptionGuard.check(root, this.props);
    for (const w of result.warnings) {
      const text = formatGuardViolation(w);
      if (this.warned.has(text)) continue;
      this.warned.add(text);
      Annotations.of(root).addWarningV2(`celery-tls-constructs:${w.rule}`, text);
    }
    return result.violations.map((v) => `CeleryEncryptionGuard: ${formatGuardViolation(v)}`);
  }
}
