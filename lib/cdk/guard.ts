import { Annotations, CfnResource, IAspect, Stack } from 'aws-cdk-lib';
import { IConstruct } from 'constructs';
import { checkEncryptionGuard, formatGuardViolation } from '../core/guard';
import type { CeleryEncryptionGuardOptions, GuardContext, GuardedBroker, GuardedCache } from '../core/guard';
import type { GuardedEgressRule, GuardedIngressRule, GuardedScope, GuardedSecret, GuardResult } from '../core/guard';
import type { GuardedDatabase, GuardedParameterGroup, GuardedSecretValue } from '../core/guard';
import { blockList, describeByStack, GuardAspectRoots, guardFact as fact } from '../core/guard-describe';
import { listEntries, secretValuesOf, securityGroupKeys } from '../core/guard-describe';
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
  'AWS::EC2::SecurityGroupEgress',
  'AWS::SecretsManager::Secret',
  'AWS::ElastiCache::User',
  'AWS::RDS::DBInstance',
  'AWS::RDS::DBCluster',
  'AWS::RDS::DBParameterGroup',
  'AWS::RDS::DBClusterParameterGroup',
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

/** A whole-value dynamic reference to Secrets Manager or an SSM SecureString, resolved by CloudFormation. */
const DYNAMIC_REFERENCE = /^\{\{resolve:(secretsmanager|ssm-secure):[^{}]*\}\}$/;

/** The argument of a one-key intrinsic (`{ "Fn::Join": [...] }`), else undefined. */
function intrinsicArg(value: unknown, name: string): JsonValue {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) return undefined;
  const keys = Object.keys(value);
  return keys.length === 1 && keys[0] === name ? (value as Record<string, JsonValue>)[name] : undefined;
}

/** The text a value is built from by `Fn::Join` or `Fn::Sub`, each reference standing as `_` (stack.resolve joins a
 * `SecretValue.secretsManager` as `{{resolve:secretsmanager:`, the secret's Ref, `:SecretString:...}}`). */
function templateText(value: unknown): string | undefined {
  if (typeof value === 'string') return value;
  const join = intrinsicArg(value, 'Fn::Join');
  if (Array.isArray(join) && typeof join[0] === 'string' && Array.isArray(join[1]))
    return join[1].map((part: unknown) => templateText(part) ?? '_').join(join[0]);
  const sub = intrinsicArg(value, 'Fn::Sub');
  const text = Array.isArray(sub) ? sub[0] : sub;
  return typeof text === 'string' ? text.replace(/\$\{[^!][^}]*\}/g, '_') : undefined;
}

/** True when a value is known at synth time: literals, and `Fn::Join` / `Fn::Sub` / `Fn::Base64` of literals only. */
function synthTimeConstant(value: unknown): boolean {
  if (value === null || typeof value !== 'object') return true;
  if (Array.isArray(value)) return value.every(synthTimeConstant);
  const [key, ...more] = Object.keys(value);
  const arg = (value as Record<string, JsonValue>)[key];
  if (more.length === 0 && (key === 'Ref' || key.startsWith('Fn::'))) {
    if (key === 'Fn::Join' || key === 'Fn::Base64') return synthTimeConstant(arg);
    if (key === 'Fn::Sub') return typeof arg === 'string' && !/\$\{[^!]/.test(arg);
    return false;
  }
  return Object.values(value).every(synthTimeConstant);
}

/** How a secret-bearing CloudFormation value is set (its value goes no further than this function). */
function cfnSecretSource(value: unknown): GuardedSecretValue['source'] {
  const text = templateText(value);
  if (text !== undefined && DYNAMIC_REFERENCE.test(text)) return 'secret-reference';
  return synthTimeConstant(value) ? 'literal' : 'expression';
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
    egressRules: GuardedEgressRule[];
    secretValues: GuardedSecretValue[];
    databases: GuardedDatabase[];
    parameterGroups: GuardedParameterGroup[];
  } = {
    caches: [],
    brokers: [],
    ingressRules: [],
    secrets: [],
    egressRules: [],
    secretValues: [],
    databases: [],
    parameterGroups: [],
  };
  // Groups that declare no inline egress: EC2 keeps its allow-all rule unless a standalone egress rule exists.
  const noInlineEgress = new Map<string, string>();
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
  const egress = (
    path: string,
    group: string | undefined,
    p: Record<string, JsonValue>,
    prefix = '',
  ): GuardedEgressRule => ({
    ...rule(path, group, p, prefix),
    destinationGroups: groups([p.DestinationSecurityGroupId]),
  });
  const secretValues = (
    path: string,
    holds: GuardedSecretValue['holds'],
    entries: Iterable<readonly [string, unknown]>,
  ) => scope.secretValues.push(...secretValuesOf(path, holds, entries, cfnSecretSource));
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
        secretValues(
          path,
          'password',
          blockList(p.Users).map((u, i) => [`Users[${i}].Password`, u.Password] as const),
        );
        break;
      case 'AWS::ElastiCache::User': {
        const mode = blockList(p.AuthenticationMode)[0] ?? {};
        secretValues(path, 'password', [
          ...listEntries(mode.Passwords, 'AuthenticationMode.Passwords'),
          ...listEntries(p.Passwords, 'Passwords'),
        ]);
        break;
      }
      case 'AWS::EC2::SecurityGroup':
        (Array.isArray(p.SecurityGroupIngress) ? p.SecurityGroupIngress : []).forEach(
          (inline: Record<string, JsonValue>, i: number) => {
            scope.ingressRules.push(rule(path, keyPrefix + id, inline ?? {}, `SecurityGroupIngress[${i}].`));
          },
        );
        blockList(p.SecurityGroupEgress).forEach((inline, i) =>
          scope.egressRules.push(egress(path, keyPrefix + id, inline, `SecurityGroupEgress[${i}].`)),
        );
        if (blockList(p.SecurityGroupEgress).length === 0) noInlineEgress.set(keyPrefix + id, path);
        break;
      case 'AWS::EC2::SecurityGroupEgress':
        scope.egressRules.push(egress(path, groupKey(keyPrefix, p.GroupId), p));
        break;
      case 'AWS::EC2::SecurityGroupIngress':
        scope.ingressRules.push(rule(path, groupKey(keyPrefix, p.GroupId), p));
        break;
      case 'AWS::RDS::DBInstance':
      case 'AWS::RDS::DBCluster': {
        const instance = r.Type === 'AWS::RDS::DBInstance';
        scope.databases.push({
          path,
          resource: instance ? 'instance' : 'cluster',
          engine: fact(p, 'Engine'),
          engineVersion: fact(p, 'EngineVersion'),
          clusterMember: instance && p.DBClusterIdentifier !== undefined,
          storageEncrypted: fact(p, 'StorageEncrypted'),
          kmsKeyId: fact(p, 'KmsKeyId'),
          // On an Aurora cluster each instance carries it (a Multi-AZ DB cluster's is not read).
          publiclyAccessible: instance ? fact(p, 'PubliclyAccessible') : undefined,
          // https://docs.aws.amazon.com/AWSCloudFormation/latest/TemplateReference/aws-resource-rds-dbinstance.html
          publicWhenAbsent: true,
          parameterGroup: fact(p, instance ? 'DBParameterGroupName' : 'DBClusterParameterGroupName'),
          masterPasswords: secretValuesOf(
            path,
            'password',
            [['MasterUserPassword', p.MasterUserPassword]],
            cfnSecretSource,
          ),
        });
        break;
      }
      case 'AWS::RDS::DBParameterGroup':
      case 'AWS::RDS::DBClusterParameterGroup': {
        const parameters = p.Parameters !== null && typeof p.Parameters === 'object' ? p.Parameters : {};
        scope.parameterGroups.push({
          path,
          family: fact(p, 'Family'),
          forceSsl: [fact(parameters, 'rds.force_ssl', 'Parameters.')],
          minProtocolVersion: [fact(parameters, 'ssl_min_protocol_version', 'Parameters.')],
        });
        break;
      }
      case 'AWS::SecretsManager::Secret':
        scope.secrets.push({ path, kmsKeyId: fact(p, 'KmsKeyId') });
        secretValues(path, 'secret-value', [['SecretString', p.SecretString]]);
        break;
      default:
        break;
    }
  }
  // A group created without egress rules gets EC2's allow-all egress, which the first egress rule added removes
  // (https://docs.aws.amazon.com/AWSCloudFormation/latest/TemplateReference/aws-resource-ec2-securitygroup.html,
  // aws/aws-cdk#987): a group with neither inline nor standalone egress rules sends anything anywhere.
  const withEgress = new Set(scope.egressRules.map((r) => r.group));
  for (const [group, path] of noInlineEgress) {
    if (withEgress.has(group)) continue;
    const none = { property: 'SecurityGroupEgress', value: undefined };
    scope.egressRules.push({
      path,
      group,
      protocol: none,
      fromPort: none,
      toPort: none,
      cidrs: [],
      destinationGroups: [],
      implicit: true,
    });
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
 * user groups, no public broker, no ingress from 0.0.0.0/0 or ::/0 to a Celery port, no protocol -1, ingress to the
 * broker's and cache's groups on their TLS ports only, no allow-all egress on the Celery groups, no literal password
 * on a broker or cache user, no literal secret value, secrets with a customer-managed key. It reads the resources as they will be rendered, so hand-written L1s and escape hatches
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
