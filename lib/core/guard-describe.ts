import { GuardedScope, GuardedSecretValue, GuardFact, mergeGuardedScopes } from './guard';

/**
 * What both adapters' `CeleryEncryptionGuard` share, framework-free: the facts read from a rendered resource, the
 * security group keys, the description of a construct tree stack by stack, and the aspect's root bookkeeping. The
 * constructs are seen through structural types (constructs' `IConstruct` fits them); nothing here imports aws-cdk-lib,
 * cdktf or constructs.
 */

/**
 * A value of a parsed CloudFormation template or Terraform JSON document: any shape the user's resources have. The
 * guard reads it defensively (every fact is checked for its type), so the one `any` of the library is here.
 */
// eslint-disable-next-line @typescript-eslint/no-explicit-any -- parsed JSON of any resource type
export type JsonValue = any;

/** A construct as the guard sees it: its path and its scopes (constructs' `IConstruct` fits). */
export interface GuardNode {
  /** The construct's node. */
  readonly node: {
    /** The construct path. */
    readonly path: string;
    /** Every scope from the root down to the construct itself. */
    readonly scopes: readonly unknown[];
  };
}

/** One property of a rendered resource (or of one entry of an inline list, named with `prefix`). */
export function guardFact(block: Readonly<Record<string, unknown>>, property: string, prefix = ''): GuardFact {
  return { property: prefix + property, value: block[property] };
}

/** The keys of a list of security group references (`key` reads one entry; unreadable entries are dropped). */
export function securityGroupKeys(list: unknown, key: (ref: unknown) => string | undefined): string[] {
  return Array.isArray(list) ? list.map(key).filter((g): g is string => g !== undefined) : [];
}

/** The blocks of a repeated property: a list as it is, one block (Terraform JSON may render a single block bare). */
export function blockList(value: unknown): Record<string, JsonValue>[] {
  const list = Array.isArray(value) ? value : value !== null && typeof value === 'object' ? [value] : [];
  return list.map((b) => (b !== null && typeof b === 'object' ? b : {}));
}

/** The entries of a list property as `[name[i], value]`; a list rendered as one expression is one entry. */
export function listEntries(list: unknown, property: string): (readonly [string, unknown])[] {
  return Array.isArray(list)
    ? list.map((v: unknown, i: number) => [`${property}[${i}]`, v] as const)
    : [[property, list]];
}

/**
 * The secret values of a resource, each classified by the target's `source` (which reads the value and keeps only how
 * it is set); absent values are left out.
 */
export function secretValuesOf(
  path: string,
  holds: GuardedSecretValue['holds'],
  entries: Iterable<readonly [property: string, value: unknown]>,
  source: (value: unknown) => GuardedSecretValue['source'],
): GuardedSecretValue[] {
  const found: GuardedSecretValue[] = [];
  for (const [property, value] of entries)
    if (value !== undefined && value !== null && value !== '')
      found.push({ path, property, holds, source: source(value) });
  return found;
}

/** How a target renders and describes the guarded resources of a construct tree, for `describeByStack`. */
export interface StackRendering<C extends GuardNode, S extends GuardNode, V> {
  /** The stack a guarded resource belongs to (one description per stack). */
  stackOf(resource: C): S;
  /** The resource as it will be deployed: its entries (address in the stack's document, rendered JSON). */
  render(resource: C, stack: S): Iterable<readonly [string, V]>;
  /**
   * Describes one stack's rendered resources by address; `keyPrefix` qualifies the addresses (one per stack) so that
   * groups of two stacks never collide, and `pathOf` gives the construct path of an address.
   */
  describe(resources: Record<string, V>, keyPrefix: string, pathOf: (address: string) => string): GuardedScope;
}

/** Renders the guarded resources, groups them by stack, describes each stack and merges the descriptions. */
export function describeByStack<C extends GuardNode, S extends GuardNode, V>(
  resources: Iterable<C>,
  target: StackRendering<C, S, V>,
): GuardedScope {
  const byStack = new Map<S, { resources: Record<string, V>; paths: Map<string, string> }>();
  for (const resource of resources) {
    const stack = target.stackOf(resource);
    const doc = byStack.get(stack) ?? { resources: {}, paths: new Map<string, string>() };
    for (const [address, rendered] of target.render(resource, stack)) {
      doc.resources[address] = rendered;
      doc.paths.set(address, resource.node.path);
    }
    byStack.set(stack, doc);
  }
  const parts = [...byStack.entries()].map(([stack, doc]) =>
    target.describe(doc.resources, `${stack.node.path}/`, (address) => doc.paths.get(address) ?? address),
  );
  return mergeGuardedScopes(parts);
}

/**
 * The roots of a `CeleryEncryptionGuard` aspect. Aspects visit top-down, so the first node visited in a subtree is
 * the scope the guard was added to, and one check of it covers every node below.
 */
export class GuardAspectRoots {
  private readonly roots = new Set<unknown>();

  /** True, and remembered, when `node` is under no root seen before; false for the nodes of a root already claimed. */
  public claim(node: GuardNode): boolean {
    if (node.node.scopes.some((s) => this.roots.has(s))) return false;
    this.roots.add(node);
    return true;
  }
}
