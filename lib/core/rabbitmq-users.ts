import { DEFAULTS } from './defaults';
import { IssueCollector, ResolveContext, ValidationResult, show } from './errors';
import { IamStatementModel, readSecretStatements, rotateSecretsStatement, viaSecretsManager } from './iam';
import { NAME_RULES, checkName } from './names';
import { DeadLetterModel, deadLetterModel } from './rabbitmq-dead-letter';
import { GeneratedSecretShape, rabbitMqUserShape } from './secrets';
import { WIRE } from './wire';
import { LIMITS } from './limits';

/** Which Celery side an identity is for. */
export enum CeleryRole {
  /** Web apps and schedulers that publish tasks (`.delay()`). */
  PRODUCER = 'producer',
  /** Celery workers: consume tasks, publish results and events. */
  WORKER = 'worker',
}

/** RabbitMQ permission regular expressions on one vhost. */
export interface RabbitMqPermissions {
  /** Resources the user may declare and delete (queues, exchanges), as a regular expression. */
  readonly configure: string;
  /** Resources the user may write to (publish to an exchange, bind a queue), as a regular expression. */
  readonly write: string;
  /** Resources the user may read from (consume from a queue, bind from an exchange), as a regular expression. */
  readonly read: string;
}

/** Options shared by both adapters for the application users of an Amazon MQ for RabbitMQ broker. */
export interface RabbitMqApplicationUsersOptions {
  /** The vhost the users get permissions on; created if missing. @default "celery" */
  readonly vhost?: string;
  /** One user for producers and workers instead of one per role. @default false */
  readonly sharedUser?: boolean;
  /** The producer user's name (without `sharedUser`). @default "celery-producer" */
  readonly producerUsername?: string;
  /** The worker user's name (without `sharedUser`). @default "celery-worker" */
  readonly workerUsername?: string;
  /** The shared user's name (with `sharedUser`). @default "celery-app" */
  readonly sharedUsername?: string;
  /** Generated password length, 12 to 250. @default 32 */
  readonly passwordLength?: number;
  /** Permissions of the producer user on the vhost. @default configure, write and read ".*" */
  readonly producerPermissions?: RabbitMqPermissions;
  /** Permissions of the worker (or shared) user on the vhost. @default configure, write and read ".*" */
  readonly workerPermissions?: RabbitMqPermissions;
  /**
   * Days between rotations of the user passwords (alternating users) and of the generated admin password, 1 to 90.
   * @default 30
   */
  readonly rotationDays?: number;
  /**
   * Quorum queues (RabbitMQ 4): deliveries of one task before it goes to the dead-letter queue
   * ("celery.dead-letter", set by policy on the vhost) instead of being dropped, 1 to 1000.
   * @default 20 (RabbitMQ's own limit)
   */
  readonly deliveryLimit?: number;
  /**
   * Exchanges that the users custom resource deletes when they exist as `direct` (made by earlier settings): native
   * delayed delivery needs Celery's exchanges to be `topic`, and RabbitMQ refuses to redeclare an exchange with
   * another type. Queues and their messages stay; clients bind again when they declare. See docs/current-stack.md
   * for the upgrade order.
   * @default ["celery"] (Celery's default exchange) with quorum queues, else none
   */
  readonly directExchangesToReplace?: readonly string[];
}

/** One resolved application user of the broker. */
export interface RabbitMqApplicationUserSpec {
  /** The roles this user serves (both for a shared user). */
  readonly roles: readonly CeleryRole[];
  /** The user name (default "celery-producer", "celery-worker" or, shared, "celery-app"). */
  readonly username: string;
  /** The user's permissions on the vhost (default configure, write and read ".*"). */
  readonly permissions: RabbitMqPermissions;
  /** Shape of the user's generated secret, `{"username", "password"}`. */
  readonly secret: GeneratedSecretShape;
}

/** The resolved application users: every default applied, everything validated. */
export interface RabbitMqApplicationUsersSpec {
  /** The vhost the users get permissions on (default "celery"). */
  readonly vhost: string;
  /** The users: one per role, or one shared user. */
  readonly users: readonly RabbitMqApplicationUserSpec[];
  /** Days between password rotations (default 30). */
  readonly rotationDays: number;
  /** With quorum queues: where poison tasks go. */
  readonly deadLetter?: DeadLetterModel;
  /** Exchanges deleted when they exist as `direct` (default ["celery"] with quorum queues, else none). */
  readonly directExchangesToReplace: readonly string[];
}

function checkPermissions(issues: IssueCollector, prop: string, p: RabbitMqPermissions | undefined): void {
  if (p === undefined) return;
  for (const field of ['configure', 'write', 'read'] as const) {
    const value = p[field];
    if (!issues.known(value)) continue;
    let problem: string | undefined;
    if (typeof value !== 'string') problem = 'it must be a string';
    else {
      try {
        new RegExp(value);
      } catch (e) {
        problem = `it is not a regular expression (${(e as Error).message})`;
      }
    }
    if (problem) {
      issues.error(
        'rabbitmq.permissions',
        `${prop}.${field}`,
        `${prop}.${field} ${show(value)} is not allowed: ${problem}. Use a RabbitMQ permission regular expression, e.g. ".*" (everything on the vhost) or "^$" (nothing).`,
      );
    }
  }
}

/** Validates the application users, applies the defaults, and derives each user's generated secret shape. */
export function resolveRabbitMqApplicationUsersSpec(
  props: RabbitMqApplicationUsersOptions,
  broker: { adminUsername: string; quorumQueues: boolean },
  ctx: ResolveContext,
): ValidationResult<RabbitMqApplicationUsersSpec> {
  const issues = new IssueCollector(ctx);
  const d = DEFAULTS.rabbitmq.applicationUsers;
  const vhost = props.vhost ?? d.vhost;
  checkName(issues, NAME_RULES.rabbitMqVhost, 'vhost', props.vhost);
  if (ctx.isUnresolved(props.vhost)) {
    issues.error(
      'rabbitmq.vhost-token',
      'vhost',
      'vhost must be a literal: it is part of the Celery URL and of the management-API paths rendered at synth time.',
    );
  }
  checkPermissions(issues, 'producerPermissions', props.producerPermissions);
  checkRotationDays(issues, 'rotationDays', props.rotationDays);
  checkPermissions(issues, 'workerPermissions', props.workerPermissions);

  const wanted: { prop: string; username: string; roles: CeleryRole[]; permissions: RabbitMqPermissions }[] =
    props.sharedUser
      ? [
          {
            prop: 'sharedUsername',
            username: props.sharedUsername ?? d.sharedUsername,
            roles: [CeleryRole.PRODUCER, CeleryRole.WORKER],
            permissions: props.workerPermissions ?? d.permissions,
          },
        ]
      : [
          {
            prop: 'producerUsername',
            username: props.producerUsername ?? d.producerUsername,
            roles: [CeleryRole.PRODUCER],
            permissions: props.producerPermissions ?? d.permissions,
          },
          {
            prop: 'workerUsername',
            username: props.workerUsername ?? d.workerUsername,
            roles: [CeleryRole.WORKER],
            permissions: props.workerPermissions ?? d.permissions,
          },
        ];
  if (props.sharedUser) {
    for (const unused of ['producerUsername', 'workerUsername', 'producerPermissions'] as const) {
      if (props[unused] !== undefined) {
        issues.error(
          'rabbitmq.shared-user',
          unused,
          `${unused} ${show(props[unused])} does not apply with sharedUser true: the one user is named by sharedUsername and gets workerPermissions.`,
        );
      }
    }
  } else if (props.sharedUsername !== undefined) {
    issues.error(
      'rabbitmq.shared-user',
      'sharedUsername',
      `sharedUsername ${show(props.sharedUsername)} applies only with sharedUser true; per-role users are named by producerUsername and workerUsername.`,
    );
  }

  const seen = new Map<string, string>();
  for (const w of wanted) {
    checkName(
      issues,
      NAME_RULES.rabbitMqUsername,
      w.prop,
      w.prop === 'sharedUsername'
        ? props.sharedUsername
        : w.prop === 'producerUsername'
          ? props.producerUsername
          : props.workerUsername,
    );
    if (!issues.known(w.username)) continue;
    if (w.username.length + WIRE.alternateSuffix.length > NAME_RULES.rabbitMqUsername.maxLength) {
      issues.error(
        'rabbitmq.application-user',
        w.prop,
        `${w.prop} ${show(w.username)} is too long for its rotation twin "<user>${WIRE.alternateSuffix}": use at most ${NAME_RULES.rabbitMqUsername.maxLength - WIRE.alternateSuffix.length} characters.`,
      );
    }
    if (w.username.endsWith(WIRE.alternateSuffix)) {
      issues.error(
        'rabbitmq.application-user',
        w.prop,
        `${w.prop} ${show(w.username)} ends with ${show(WIRE.alternateSuffix)}, which names each user's rotation twin (rotation alternates between "<user>" and "<user>${WIRE.alternateSuffix}"). Choose another name.`,
      );
    }
    if (w.username === broker.adminUsername || alternateName(w.username) === broker.adminUsername) {
      issues.error(
        'rabbitmq.application-user',
        w.prop,
        `${w.prop} ${show(w.username)} is the broker's admin user: application users are separate identities, so that a leaked worker or producer password cannot administer the broker. Choose another name.`,
      );
    }
    const other = seen.get(w.username);
    if (other)
      issues.error(
        'rabbitmq.application-user',
        w.prop,
        `${w.prop} ${show(w.username)} is also ${other}: each role needs its own user (or set sharedUser true).`,
      );
    seen.set(w.username, w.prop);
  }

  const users = wanted.map((w) => ({
    roles: w.roles,
    username: w.username,
    permissions: w.permissions,
    secret: rabbitMqUserShape(issues, 'passwordLength', w.username, props.passwordLength),
  }));
  const limit = props.deliveryLimit;
  if (issues.known(limit) && limit !== undefined && (!Number.isInteger(limit) || limit < 1 || limit > 1000)) {
    issues.error(
      'rabbitmq.delivery-limit',
      'deliveryLimit',
      `deliveryLimit ${show(limit)} is out of range: allowed 1 to 1000 deliveries before a task goes to the dead-letter queue.`,
    );
  }
  if (limit !== undefined && !broker.quorumQueues) {
    issues.error(
      'rabbitmq.delivery-limit',
      'deliveryLimit',
      `deliveryLimit ${show(limit)} applies only to quorum queues (RabbitMQ 4): classic queues have no delivery limit.`,
    );
  }
  for (const name of props.directExchangesToReplace ?? []) {
    if (
      issues.known(name) &&
      (typeof name !== 'string' || name === '' || name.startsWith('amq.') || /[\s/]/.test(name))
    ) {
      issues.error(
        'rabbitmq.exchange',
        'directExchangesToReplace',
        `directExchangesToReplace holds ${show(name)}: give Celery exchange names (not "", not amq.*, no spaces or slashes).`,
      );
    }
  }
  return issues.result<RabbitMqApplicationUsersSpec>({
    vhost,
    users,
    rotationDays: props.rotationDays ?? d.rotationDays,
    deadLetter: broker.quorumQueues ? deadLetterModel({ deliveryLimit: limit }) : undefined,
    directExchangesToReplace:
      props.directExchangesToReplace ?? (broker.quorumQueues ? [DEFAULTS.rabbitmq.celeryExchange] : []),
  });
}

/** The rotation twin of a user name ("<user>" and "<user>.alt" alternate). */
export function alternateName(name: string): string {
  const suffix = WIRE.alternateSuffix;
  return name.endsWith(suffix) ? name.slice(0, -suffix.length) : name + suffix;
}

/**
 * The construct-id stem of a user that serves these roles: "Producer", "Worker", or "Shared" for one user of both
 * (`<stem>Credentials`, `<stem>Certificate`, `<stem>User` on both targets).
 */
export function userIdStem(roles: readonly CeleryRole[]): 'Producer' | 'Worker' | 'Shared' {
  return roles.length > 1 ? 'Shared' : roles[0] === CeleryRole.PRODUCER ? 'Producer' : 'Worker';
}

/** The user serving a role, among users that each list theirs (per-role users, or one shared user). */
export function userServing<T extends { readonly roles: readonly CeleryRole[] }>(
  users: readonly T[],
  role: CeleryRole,
): T {
  const user = users.find((u) => u.roles.includes(role));
  if (!user) throw new Error(`no user serves role ${role}`);
  return user;
}

/** What the management-API function may read: the admin secret and each user's secret, nothing else. */
export function applicationUsersFunctionStatements(args: {
  adminSecretArn: string;
  adminKeyArn?: string;
  userSecretArns: readonly string[];
  userKeyArn?: string;
  region: string;
}): IamStatementModel[] {
  const statements = [
    ...readSecretStatements({ secretArn: args.adminSecretArn, keyArn: args.adminKeyArn, region: args.region }),
    ...args.userSecretArns.flatMap((arn) =>
      readSecretStatements({ secretArn: arn, keyArn: args.userKeyArn, region: args.region }),
    ),
  ];
  return mergeStatements(statements);
}

/** Merges statements with the same actions and conditions (one statement per key, not one per secret). */
export function mergeStatements(statements: readonly IamStatementModel[]): IamStatementModel[] {
  const merged = new Map<string, IamStatementModel>();
  for (const s of statements) {
    const key = JSON.stringify([s.actions, s.conditions ?? null]);
    const prev = merged.get(key);
    merged.set(
      key,
      prev
        ? { ...prev, resources: [...new Set([...prev.resources, ...s.resources])] }
        : { ...s, resources: [...s.resources] },
    );
  }
  return [...merged.values()];
}

/**
 * What the rotation function may do: rotate the given secrets (read, describe, put the pending version, move the
 * stages), read the admin secret to call the management API, and generate passwords. `GetRandomPassword` acts on no
 * resource, so its statement names "*" (https://docs.aws.amazon.com/secretsmanager/latest/userguide/reference_iam-permissions.html).
 */
export function rotationFunctionStatements(args: {
  rotatedSecretArns: readonly string[];
  adminSecretArn: string;
  keyArns: readonly string[];
  region: string;
}): IamStatementModel[] {
  return mergeStatements([
    rotateSecretsStatement(args.rotatedSecretArns),
    {
      effect: 'Allow',
      actions: ['secretsmanager:DescribeSecret', 'secretsmanager:GetSecretValue'],
      resources: [args.adminSecretArn],
    },
    { effect: 'Allow', actions: ['secretsmanager:GetRandomPassword'], resources: ['*'] },
    {
      effect: 'Allow',
      actions: ['kms:Decrypt', 'kms:GenerateDataKey'],
      resources: [...new Set(args.keyArns)],
      conditions: viaSecretsManager(args.region),
    },
  ]);
}

/** Checks a rotation interval: whole days, 1 to 90 (the compliance packs and most policies ask for 90 at most). */
export function checkRotationDays(issues: IssueCollector, prop: string, days: number | undefined): void {
  if (!issues.known(days)) return;
  if (!Number.isInteger(days) || days < LIMITS.rotationDays.min || days > LIMITS.rotationDays.max) {
    issues.error(
      'secret.rotation-days',
      prop,
      `${prop} ${show(days)} is not allowed: use a whole number of days from 1 to 90 (Security Hub SecretsManager.4 and the NIST/HIPAA packs expect rotation within 90 days).`,
    );
  }
}
