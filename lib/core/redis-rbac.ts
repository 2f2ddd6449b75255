import { DEFAULTS } from './defaults';
import { IssueCollector, ResolveContext, ValidationResult, show } from './errors';
import { IamStatementModel, rotateSecretsStatement, viaSecretsManager } from './iam';
import { NAME_RULES, checkName } from './names';
import { CeleryRole, checkRotationDays, mergeStatements } from './rabbitmq-users';
import { LIMITS } from './limits';
import { GeneratedSecretShape } from './secrets';
import { WIRE } from './wire';

/**
 * ElastiCache role-based access control for Celery: one user per role (or one shared), each with a generated password
 * in a secret that rotates by the two-password approach, and the group's mandatory `default` user switched off.
 * @see https://docs.aws.amazon.com/AmazonElastiCache/latest/dg/Clusters.RBAC.html
 */
export interface RedisRbacOptions {
  /** One user for producers and workers. @default false */
  readonly sharedUser?: boolean;
  /** User name of the producers (when `sharedUser` is not set). @default "celery-producer" */
  readonly producerUsername?: string;
  /** User name of the workers (when `sharedUser` is not set). @default "celery-worker" */
  readonly workerUsername?: string;
  /** User name of the one user when `sharedUser` is set. @default "celery-app" */
  readonly sharedUsername?: string;
  /**
   * Access string of the Celery users; it must switch the user "on" and hold no password rules.
   * @default "on ~* &* +@all -@dangerous"
   */
  readonly accessString?: string;
  /** 16 to 128. @default 64 */
  readonly passwordLength?: number;
  /** Days between rotations, 1 to 90. @default 30 */
  readonly rotationDays?: number;
}

/** One resolved ElastiCache RBAC user. */
export interface RedisRbacUserSpec {
  /** The Celery roles that connect as this user: producer, worker, or both for a shared user. */
  readonly roles: readonly CeleryRole[];
  /** `UserName`: what clients log in with. */
  readonly username: string;
  /** `UserId`: unique in the account and region. */
  readonly userId: string;
  /** The user's access string (default "on ~* &* +@all -@dangerous"). */
  readonly accessString: string;
  /** `{"username", "user_id", "password"}`. */
  readonly secret: GeneratedSecretShape;
}

/** The resolved RBAC users and user group: every default applied, everything validated. */
export interface RedisRbacSpec {
  /** The Celery users: one per role, or one shared user. */
  readonly users: readonly RedisRbacUserSpec[];
  /** The group's mandatory "default" user, switched off ("off -@all"). */
  readonly defaultUser: { readonly userId: string; readonly userName: 'default'; readonly accessString: string };
  /** The user group id, derived from the construct path. */
  readonly userGroupId: string;
  /** The engine of the user and user-group resources: always "redis", which Valkey and Redis OSS groups accept. */
  readonly engine: string;
  /** Days between password rotations (default 30). */
  readonly rotationDays: number;
}

/** ElastiCache user and user-group ids: lowercase letters, digits and hyphens, starting with a letter, at most 40. */
const ID_MAX = 40;

function idFrom(prefix: string, suffix: string): string {
  const clean = prefix
    .toLowerCase()
    .replace(/[^a-z0-9-]/g, '-')
    .replace(/-+/g, '-')
    .replace(/^[^a-z]+/, '');
  const head = clean.slice(0, ID_MAX - suffix.length - 1).replace(/-+$/, '');
  return `${head || 'celery'}-${suffix}`;
}

/**
 * Validates the RBAC options. `idPrefix` (from the construct path) makes the user and group ids unique; the adapter
 * passes a stable, unique string.
 */
export function resolveRedisRbacSpec(
  props: RedisRbacOptions,
  idPrefix: string,
  ctx: ResolveContext,
  propPrefix = 'authToken',
): ValidationResult<RedisRbacSpec> {
  const issues = new IssueCollector(ctx);
  const d = DEFAULTS.redis.rbac;
  const at = (p: string) => `${propPrefix}.${p}`;
  const length = props.passwordLength ?? d.passwordLength;
  if (
    issues.known(props.passwordLength) &&
    (!Number.isInteger(length) || length < LIMITS.redisAuthToken.min || length > LIMITS.redisAuthToken.max)
  ) {
    issues.error(
      'secret.length',
      at('passwordLength'),
      `${at('passwordLength')} ${show(props.passwordLength)} is not allowed: use a whole number from 16 to 128 (ElastiCache user passwords, https://docs.aws.amazon.com/AmazonElastiCache/latest/dg/Clusters.RBAC.html).`,
    );
  }
  checkRotationDays(issues, at('rotationDays'), props.rotationDays);
  const accessString = props.accessString ?? d.accessString;
  if (issues.known(props.accessString)) {
    // ElastiCache rejects passwords and "reset" inside access strings; "off" would lock Celery out.
    if (/(^|\s)(>|<|#|!|nopass|resetpass|reset)/.test(accessString) || !/(^|\s)on(\s|$)/.test(accessString)) {
      issues.error(
        'redis.access-string',
        at('accessString'),
        `${at('accessString')} ${show(props.accessString)} is not allowed: it must switch the user "on" and hold no password rules (>, <, #, !, nopass, resetpass, reset); ElastiCache sets passwords itself. Default: ${show(d.accessString)}.`,
      );
    }
  }

  const names: { prop: string; value: string | undefined; fallback: string; roles: CeleryRole[] }[] = props.sharedUser
    ? [
        {
          prop: 'sharedUsername',
          value: props.sharedUsername,
          fallback: d.sharedUsername,
          roles: [CeleryRole.PRODUCER, CeleryRole.WORKER],
        },
      ]
    : [
        {
          prop: 'producerUsername',
          value: props.producerUsername,
          fallback: d.producerUsername,
          roles: [CeleryRole.PRODUCER],
        },
        { prop: 'workerUsername', value: props.workerUsername, fallback: d.workerUsername, roles: [CeleryRole.WORKER] },
      ];
  const seen = new Set<string>();
  const users = names.map((n) => {
    checkName(issues, NAME_RULES.redisUsername, at(n.prop), n.value);
    const username = n.value ?? n.fallback;
    if (issues.known(username)) {
      if (username === 'default')
        issues.error(
          'redis.rbac-user',
          at(n.prop),
          `${at(n.prop)} "default" is reserved: it names the group's mandatory default user, which this library switches off.`,
        );
      if (seen.has(username))
        issues.error(
          'redis.rbac-user',
          at(n.prop),
          `${at(n.prop)} ${show(username)} is also the other role's user: each role needs its own user (or set sharedUser true).`,
        );
      seen.add(username);
    }
    const role = n.roles.length > 1 ? 'app' : n.roles[0];
    const userId = idFrom(idPrefix, role);
    const secret: GeneratedSecretShape = {
      length,
      excludePunctuation: true,
      includeSpace: false,
      requireEachIncludedType: true,
      generateStringKey: WIRE.secretPasswordField,
      template: { [WIRE.secretUsernameField]: username, user_id: userId },
      description: `ElastiCache user ${username} (${userId}) for Celery`,
    };
    return { roles: n.roles, username, userId, accessString, secret };
  });
  return issues.result<RedisRbacSpec>({
    users,
    defaultUser: { userId: idFrom(idPrefix, 'default'), userName: 'default', accessString: d.defaultUserAccessString },
    userGroupId: idFrom(idPrefix, 'users'),
    engine: d.engine,
    rotationDays: props.rotationDays ?? d.rotationDays,
  });
}

/**
 * What the ElastiCache user rotation function may do: rotate the given secrets, and describe and modify exactly
 * those users. `GetRandomPassword` acts on no resource (https://docs.aws.amazon.com/secretsmanager/latest/userguide/reference_iam-permissions.html).
 */
export function redisUserRotationStatements(args: {
  secretArns: readonly string[];
  userArns: readonly string[];
  keyArn: string;
  region: string;
}): IamStatementModel[] {
  return mergeStatements([
    rotateSecretsStatement(args.secretArns),
    { effect: 'Allow', actions: ['secretsmanager:GetRandomPassword'], resources: ['*'] },
    {
      effect: 'Allow',
      actions: ['elasticache:DescribeUsers', 'elasticache:ModifyUser'],
      resources: [...args.userArns],
    },
    {
      effect: 'Allow',
      actions: ['kms:Decrypt', 'kms:GenerateDataKey'],
      resources: [args.keyArn],
      conditions: viaSecretsManager(args.region),
    },
  ]);
}
