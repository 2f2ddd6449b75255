import { IConstruct } from 'constructs';
import { CeleryEncryptionGuardError, checkEncryptionGuard, formatGuardViolation } from '../core/guard';
import type { CeleryEncryptionGuardOptions, GuardContext, GuardedBroker, GuardedCache } from '../core/guard';
import type { GuardedEgressRule, GuardedIngressRule, GuardedScope, GuardedSecret, GuardFact } from '../core/guard';
import type { GuardedDatabase, GuardedParameterGroup, GuardedSecretValue, GuardResult } from '../core/guard';
import { blockList, describeByStack, GuardAspectRoots, guardFact as fact } from '../core/guard-describe';
import { listEntries, secretValuesOf, securityGroupKeys } from '../core/guard-describe';
import type { JsonValue, StackRendering } from '../core/guard-describe';
import { Annotations, DefaultTokenResolver, StringConcat, TerraformResource, TerraformStack } from './provider';
import { Tokenization } from './provider';
import type { IAspect } from './provider';

/** A synthesized Terraform JSON document (`cdk.tf.json`, or `Testing.synth(stack)` parsed). */
export interface TerraformJson {
  /** Resource blocks by type, then by name. */
  readonly resource?: Record<string, Record<string, Record<string, JsonValue>>>;
}

/** In Terraform JSON a deploy-time value is a string holding an expression (`${...}`). */
export const TF_GUARD_CONTEXT: GuardContext = {
  isExpression: (value: unknown) => typeof value === 'string' && value.includes('${'),
};

/** The resource types the guard reads. */
export const TF_GUARDED_TYPES = [
  'aws_elasticache_replication_group',
  'aws_mq_broker',
  'aws_security_group',
  'aws_vpc_security_group_ingress_rule',
  'aws_vpc_security_group_egress_rule',
  'aws_security_group_rule',
  'aws_secretsmanager_secret',
  'aws_secretsmanager_secret_version',
  'aws_elasticache_user',
  'aws_db_instance',
  'aws_rds_cluster',
  'aws_rds_cluster_instance',
  'aws_db_parameter_group',
  'aws_rds_cluster_parameter_group',
];

/** `${aws_security_group.NAME.id}` → `aws_security_group.NAME`; a literal id stays as it is. */
function groupKey(prefix: string, value: unknown): string | undefined {
  if (typeof value !== 'string') return undefined;
  const m = /^\$\{(aws_security_group)\.([A-Za-z0-9_-]+)\.id\}$/.exec(value);
  return m ? `${prefix}${m[1]}.${m[2]}` : value.includes('${') ? undefined : value;
}

/** The CIDR facts of a legacy-style rule (`cidr_blocks`, `ipv6_cidr_blocks` lists). */
function cidrList(block: Record<string, JsonValue>, prefix: string): GuardFact[] {
  return ['cidr_blocks', 'ipv6_cidr_blocks'].flatMap((k) =>
    (Array.isArray(block[k]) ? block[k] : block[k] === undefined ? [] : [block[k]]).map(
      (value: unknown, i: number) => ({ property: `${prefix}${k}[${i}]`, value }),
    ),
  );
}

/**
 * The code inside each `${...}` of a Terraform JSON string, its string literals blanked (`""`); a template nested in
 * a string literal (`"${var.x}"`) is kept as `${}` so that it still counts as a reference.
 */
function interpolations(value: string): string[] {
  const found: string[] = [];
  let i = value.indexOf('${');
  while (i !== -1) {
    let depth = 0;
    let code = '';
    let j = i + 1;
    for (; j < value.length; j++) {
      const ch = value[j];
      if (ch === '"') {
        const start = j;
        for (j++; j < value.length && value[j] !== '"'; j++) if (value[j] === '\\') j++;
        code += value.slice(start, j).includes('${') ? '${}' : '""';
        continue;
      }
      if (ch === '{') depth++;
      else if (ch === '}' && --depth === 0) break;
      if (depth > 1 || ch !== '{') code += ch;
    }
    found.push(code);
    i = value.indexOf('${', j + 1);
  }
  return found;
}

/** Functions that only compute from their arguments: with literal arguments, their result is a literal. */
const PURE_FUNCTIONS = new Set([
  'jsonencode',
  'join',
  'format',
  'base64encode',
  'tostring',
  'lower',
  'upper',
  'trimspace',
]);

/** True when interpolated code reads something (`var.x`, `data.x.y`, `aws_x.y.z`, a nested template, `file(...)`). */
function readsSomething(code: string): boolean {
  if (/(?:^|[^\w.])[A-Za-z_][\w-]*\.[A-Za-z_*]/.test(code) || code.includes('${}')) return true;
  return [...code.matchAll(/([A-Za-z_][\w]*)\s*\(/g)].some((m) => !PURE_FUNCTIONS.has(m[1]));
}

/** The value of a Secrets Manager secret version, from a data source, an ephemeral resource or the resource. */
const SECRET_VERSION_VALUE =
  /(?:^|[^\w.])(?:data\.|ephemeral\.)?aws_secretsmanager_secret_version\.[\w-]+\.secret_string\b/;

/** How a secret-bearing Terraform value is set (its value goes no further than this function). */
function tfSecretSource(value: unknown): GuardedSecretValue['source'] {
  if (typeof value !== 'string') return 'literal';
  const code = interpolations(value);
  if (code.length === 1 && value.startsWith('${') && value.endsWith('}') && SECRET_VERSION_VALUE.test(code[0]))
    return 'secret-reference';
  return code.some(readsSomething) ? 'expression' : 'literal';
}

/**
 * Describes Terraform resources for the guard's rules.
 * @param keyPrefix qualifies resource addresses (one per stack) so that groups of two stacks never collide
 * @param pathOf construct path of an address (the `//` metadata cdktf writes, else the address)
 */
export function describeTerraform(
  json: TerraformJson,
  keyPrefix = '',
  pathOf: (address: string, block: Record<string, JsonValue>) => string = (address, block) =>
    block['//']?.metadata?.path ?? address,
): GuardedScope {
  const caches: GuardedCache[] = [];
  const brokers: GuardedBroker[] = [];
  const ingressRules: GuardedIngressRule[] = [];
  const secrets: GuardedSecret[] = [];
  const egressRules: GuardedEgressRule[] = [];
  const secretValues: GuardedSecretValue[] = [];
  const databases: GuardedDatabase[] = [];
  const parameterGroups: GuardedParameterGroup[] = [];
  const values = (path: string, holds: GuardedSecretValue['holds'], entries: Iterable<readonly [string, unknown]>) =>
    secretValues.push(...secretValuesOf(path, holds, entries, tfSecretSource));
  const groups = (v: unknown) => securityGroupKeys(v, (g) => groupKey(keyPrefix, g));
  const resources = json.resource ?? {};
  const each = (type: string) =>
    Object.entries(resources[type] ?? {}).map(([name, block]) => ({
      block: block ?? {},
      path: pathOf(`${type}.${name}`, block ?? {}),
      key: `${keyPrefix}${type}.${name}`,
    }));

  for (const { block: p, path } of each('aws_elasticache_replication_group')) {
    caches.push({
      path,
      transitEncryptionEnabled: fact(p, 'transit_encryption_enabled'),
      transitEncryptionMode: fact(p, 'transit_encryption_mode'),
      atRestEncryptionEnabled: fact(p, 'at_rest_encryption_enabled'),
      kmsKeyId: fact(p, 'kms_key_id'),
      authToken: fact(p, 'auth_token'),
      userGroupIds: fact(p, 'user_group_ids'),
      port: typeof p.port === 'number' ? p.port : undefined,
      securityGroups: groups(p.security_group_ids),
    });
  }
  for (const { block: p, path } of each('aws_mq_broker')) {
    brokers.push({
      path,
      publiclyAccessible: fact(p, 'publicly_accessible'),
      securityGroups: groups(p.security_groups),
    });
    values(
      path,
      'password',
      blockList(p.user).map((u, i) => [`user[${i}].password`, u.password] as const),
    );
  }
  for (const { block: p, path } of each('aws_elasticache_user')) {
    const mode = blockList(p.authentication_mode)[0] ?? {};
    values(path, 'password', [
      ...listEntries(mode.passwords, 'authentication_mode.passwords'),
      ...listEntries(p.passwords, 'passwords'),
    ]);
  }
  for (const { block: p, path, key } of each('aws_security_group')) {
    (Array.isArray(p.ingress) ? p.ingress : []).forEach((inline: Record<string, JsonValue>, i: number) => {
      const prefix = `ingress[${i}].`;
      ingressRules.push({
        path,
        group: key,
        protocol: fact(inline, 'protocol', prefix),
        fromPort: fact(inline, 'from_port', prefix),
        toPort: fact(inline, 'to_port', prefix),
        cidrs: cidrList(inline, prefix),
      });
    });
    blockList(p.egress).forEach((inline, i) => {
      const prefix = `egress[${i}].`;
      egressRules.push({
        path,
        group: key,
        protocol: fact(inline, 'protocol', prefix),
        fromPort: fact(inline, 'from_port', prefix),
        toPort: fact(inline, 'to_port', prefix),
        cidrs: cidrList(inline, prefix),
        destinationGroups: groups(inline.security_groups),
      });
    });
  }
  for (const { block: p, path } of each('aws_vpc_security_group_egress_rule')) {
    egressRules.push({
      path,
      group: groupKey(keyPrefix, p.security_group_id),
      protocol: fact(p, 'ip_protocol'),
      fromPort: fact(p, 'from_port'),
      toPort: fact(p, 'to_port'),
      cidrs: ['cidr_ipv4', 'cidr_ipv6'].filter((k) => p[k] !== undefined).map((k) => fact(p, k)),
      destinationGroups: groups([p.referenced_security_group_id]),
    });
  }
  for (const { block: p, path } of each('aws_vpc_security_group_ingress_rule')) {
    ingressRules.push({
      path,
      group: groupKey(keyPrefix, p.security_group_id),
      protocol: fact(p, 'ip_protocol'),
      fromPort: fact(p, 'from_port'),
      toPort: fact(p, 'to_port'),
      cidrs: ['cidr_ipv4', 'cidr_ipv6'].filter((k) => p[k] !== undefined).map((k) => fact(p, k)),
    });
  }
  for (const { block: p, path } of each('aws_security_group_rule')) {
    const rule = {
      path,
      group: groupKey(keyPrefix, p.security_group_id),
      protocol: fact(p, 'protocol'),
      fromPort: fact(p, 'from_port'),
      toPort: fact(p, 'to_port'),
      cidrs: cidrList(p, ''),
    };
    // On an egress rule, source_security_group_id is the destination.
    if (p.type === 'ingress') ingressRules.push(rule);
    else if (p.type === 'egress')
      egressRules.push({ ...rule, destinationGroups: groups([p.source_security_group_id]) });
  }
  for (const { block: p, path } of each('aws_secretsmanager_secret')) {
    secrets.push({ path, kmsKeyId: fact(p, 'kms_key_id') });
  }
  for (const { block: p, path } of each('aws_secretsmanager_secret_version')) {
    values(path, 'secret-value', [
      ['secret_string', p.secret_string],
      ['secret_string_wo', p.secret_string_wo],
    ]);
  }
  const passwords = (path: string, p: Record<string, JsonValue>, names: string[]) =>
    secretValuesOf(
      path,
      'password',
      names.map((n) => [n, p[n]] as const),
      tfSecretSource,
    );
  for (const { block: p, path } of each('aws_db_instance')) {
    databases.push({
      path,
      resource: 'instance',
      engine: fact(p, 'engine'),
      engineVersion: fact(p, 'engine_version'),
      clusterMember: false,
      storageEncrypted: fact(p, 'storage_encrypted'),
      kmsKeyId: fact(p, 'kms_key_id'),
      publiclyAccessible: fact(p, 'publicly_accessible'),
      // The provider's default is false (https://registry.terraform.io/providers/hashicorp/aws/latest/docs/resources/db_instance).
      publicWhenAbsent: false,
      parameterGroup: fact(p, 'parameter_group_name'),
      masterPasswords: passwords(path, p, ['password', 'password_wo']),
    });
  }
  for (const { block: p, path } of each('aws_rds_cluster')) {
    databases.push({
      path,
      resource: 'cluster',
      engine: fact(p, 'engine'),
      engineVersion: fact(p, 'engine_version'),
      clusterMember: false,
      storageEncrypted: fact(p, 'storage_encrypted'),
      kmsKeyId: fact(p, 'kms_key_id'),
      publicWhenAbsent: false,
      parameterGroup: fact(p, 'db_cluster_parameter_group_name'),
      masterPasswords: passwords(path, p, ['master_password', 'master_password_wo']),
    });
  }
  for (const { block: p, path } of each('aws_rds_cluster_instance')) {
    const none = (property: string) => ({ property, value: undefined });
    databases.push({
      path,
      resource: 'instance',
      engine: fact(p, 'engine'),
      engineVersion: fact(p, 'engine_version'),
      clusterMember: true,
      storageEncrypted: none('storage_encrypted'),
      kmsKeyId: none('kms_key_id'),
      publiclyAccessible: fact(p, 'publicly_accessible'),
      publicWhenAbsent: false,
      parameterGroup: fact(p, 'db_parameter_group_name'),
      masterPasswords: [],
    });
  }
  for (const type of ['aws_db_parameter_group', 'aws_rds_cluster_parameter_group'])
    for (const { block: p, path } of each(type)) {
      const list = blockList(p.parameter);
      // An override appends to the list (cdktf merges arrays by concatenation): every entry of the name counts.
      const parameter = (name: string): GuardFact[] => {
        const found = list.flatMap((b, i) =>
          b.name === name ? [{ property: `parameter[${i}].value`, value: b.value }] : [],
        );
        return found.length > 0 ? found : [{ property: `parameter (${name})`, value: undefined }];
      };
      parameterGroups.push({
        path,
        family: fact(p, 'family'),
        forceSsl: parameter('rds.force_ssl'),
        minProtocolVersion: parameter('ssl_min_protocol_version'),
      });
    }
  return { caches, brokers, ingressRules, secrets, egressRules, secretValues, databases, parameterGroups };
}

const RESOLVER = new DefaultTokenResolver(new StringConcat());

/** A guarded resource (one of `TF_GUARDED_TYPES`). */
const isGuarded = (c: IConstruct): c is TerraformResource =>
  TerraformResource.isTerraformResource(c) && TF_GUARDED_TYPES.includes(c.terraformResourceType);

/** One resource block of Terraform JSON (`resource.<type>.<name>`). */
type TerraformBlock = NonNullable<TerraformJson['resource']>[string][string];

/**
 * Renders resources stack by stack, for `describeByStack`, keyed by address (`type.name`). toTerraform() merges
 * addOverride values, as synthesis does (cdktf terraform-resource.ts); resolving turns references into the
 * `${type.name.attr}` expressions of cdk.tf.json.
 */
const TF_RENDERING: StackRendering<TerraformResource, TerraformStack, TerraformBlock> = {
  stackOf: (c) => TerraformStack.of(c),
  render: (c, stack) => {
    const rendered = Tokenization.resolve(c.toTerraform(), {
      scope: stack,
      resolver: RESOLVER,
      preparing: false,
    }) as TerraformJson;
    return Object.entries(rendered.resource ?? {}).flatMap(([type, byName]) =>
      Object.entries(byName).map(([name, block]): [string, TerraformBlock] => [`${type}.${name}`, block]),
    );
  },
  describe: (blocks, keyPrefix, pathOf) => {
    const resource: NonNullable<TerraformJson['resource']> = {};
    for (const [address, block] of Object.entries(blocks)) {
      const dot = address.indexOf('.');
      (resource[address.slice(0, dot)] ??= {})[address.slice(dot + 1)] = block;
    }
    return describeTerraform({ resource }, keyPrefix, pathOf);
  },
};

/** Describes the guarded resources under `scope` as they will be rendered: `addOverride` and escape hatches included. */
export function describeConstructTree(root: IConstruct): GuardedScope {
  return describeByStack(root.node.findAll().filter(isGuarded), TF_RENDERING);
}

/** Props of the Terraform `CeleryEncryptionGuard`. */
export interface CeleryEncryptionGuardProps extends CeleryEncryptionGuardOptions {}

/**
 * Fails synthesis (`app.synth()`, `cdktf synth`, `Testing.synth`) when a replication group, broker, security group
 * rule or secret in its scope loses its encryption settings: the same rules, from the same core, as the CDK guard.
 * It reads the resources as they will be rendered, so hand-written resources and `addOverride` escape hatches are
 * checked too.
 *
 *     Aspects.of(stack).add(new CeleryEncryptionGuard());
 *
 * cdktf runs aspects top-down: the guard checks the whole scope when it visits the scope it was added to, and throws
 * `CeleryEncryptionGuardError` listing every violation with the construct path, the property and the fix. Add it after
 * any aspect of yours that changes resources, on the same or a higher scope.
 */
export class CeleryEncryptionGuard implements IAspect {
  private readonly roots = new GuardAspectRoots();

  /** A guard with the given options (none: every rule, no migration flag). */
  constructor(private readonly props: CeleryEncryptionGuardProps = {}) {}

  /** Checks a scope now, without synthesis. */
  public static check(scope: IConstruct, options: CeleryEncryptionGuardOptions = {}): GuardResult {
    return checkEncryptionGuard(describeConstructTree(scope), options, TF_GUARD_CONTEXT);
  }

  /** Checks the whole scope when it visits the first node (the scope the guard was added to); throws on a violation. */
  public visit(node: IConstruct): void {
    if (!this.roots.claim(node)) return;
    const result = CeleryEncryptionGuard.check(node, this.props);
    for (const w of result.warnings)
      Annotations.of(node).addWarning(`[celery-tls-constructs:${w.rule}] ${formatGuardViolation(w)}`);
    if (result.violations.length > 0) throw new CeleryEncryptionGuardError(result.violations);
  }
}
