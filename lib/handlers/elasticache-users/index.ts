/**
 * Secrets Manager rotation function for ElastiCache RBAC user passwords, the two-password approach of AWS's
 * SecretsManagerElasticacheUserRotation template: setSecret gives the user both the pending and the current password
 * (ElastiCache holds up to two per user and keeps open connections), so clients still on the previous password keep
 * connecting until the next rotation replaces it. Control-plane calls only (ElastiCache and Secrets Manager APIs).
 *
 * Secret JSON: `{"username", "user_id", "password"}` (`user_id` names the ElastiCache user to modify).
 * @see https://docs.aws.amazon.com/AmazonElastiCache/latest/dg/User-Secrets-Manager.html
 */
import { DEFAULTS } from '../../core/defaults';
import { CURRENT, PENDING, rotationHandler, sdkRotationSecrets } from '../shared/rotation';
import type { RotationEvent, RotationSecrets } from '../shared/rotation';
import { WIRE } from '../../core/wire';

export type { RotationEvent, RotationSecrets } from '../shared/rotation';

/** The ElastiCache calls rotation needs (the SDK by default; tests pass a stand-in). */
export interface ElastiCacheUsers {
  /** Status ("active", "modifying", ...) and how many passwords the user has; undefined when it does not exist. */
  describe(userId: string): Promise<{ status: string; passwordCount: number } | undefined>;
  /** ModifyUser with `Passwords` (replaces the user's passwords with these, at most two). */
  setPasswords(userId: string, passwords: readonly string[]): Promise<void>;
}

export interface ElastiCacheRotationConfig {
  readonly passwordLength: number;
  /** Longest wait for the user to be active before and after a change. */
  readonly waitSeconds: number;
  /** Between two DescribeUsers while waiting. */
  readonly pollMilliseconds: number;
}

interface UserSecret {
  readonly username: string;
  readonly userId: string;
  readonly password: string;
  readonly document: Record<string, unknown>;
}

function parse(arn: string, value: string | undefined, what: string): UserSecret {
  if (value === undefined) throw new Error(`secret ${arn} has no ${what} version`);
  let document: Record<string, unknown>;
  try {
    document = JSON.parse(value);
  } catch {
    throw new Error(`secret ${arn} (${what}) is not JSON with "username", "user_id" and "password"`);
  }
  const { username, user_id: userId, password } = document as Record<string, unknown>;
  if (typeof username !== 'string' || typeof userId !== 'string' || typeof password !== 'string' || !password) {
    throw new Error(`secret ${arn} (${what}) needs string fields "username", "user_id" and "password"`);
  }
  return { username, userId, password, document };
}

export function createElastiCacheRotationHandler(
  config: ElastiCacheRotationConfig,
  secrets: RotationSecrets,
  users: ElastiCacheUsers,
  log: (line: string) => void = console.log,
): (event: RotationEvent) => Promise<void> {
  const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

  async function waitActive(userId: string): Promise<{ status: string; passwordCount: number }> {
    const deadline = Date.now() + config.waitSeconds * 1000;
    for (;;) {
      const u = await users.describe(userId);
      if (u === undefined) throw new Error(`the ElastiCache user ${userId} does not exist`);
      if (u.status === 'active') return u;
      if (Date.now() >= deadline)
        throw new Error(`the ElastiCache user ${userId} is still "${u.status}" after ${config.waitSeconds} s`);
      await sleep(config.pollMilliseconds);
    }
  }

  const read = async (arn: string, known: string[], stage: string, versionId?: string) => {
    const s = parse(arn, await secrets.get(arn, { stage, versionId }), versionId ? `${stage} ${versionId}` : stage);
    known.push(s.password);
    return s;
  };

  return rotationHandler(
    secrets,
    {
      async createSecret({ arn, token, known }) {
        const current = await read(arn, known, CURRENT);
        if ((await secrets.get(arn, { stage: PENDING, versionId: token })) !== undefined) {
          log(`createSecret: ${PENDING} exists`);
          return;
        }
        if ((await users.describe(current.userId)) === undefined)
          throw new Error(`the ElastiCache user ${current.userId} named by the secret does not exist`);
        const password = await secrets.randomPassword(config.passwordLength);
        known.push(password);
        await secrets.putPending(
          arn,
          token,
          JSON.stringify({ ...current.document, [WIRE.secretPasswordField]: password }),
        );
        log(`createSecret: ${PENDING} created for ${current.userId}`);
      },
      async setSecret({ arn, token, known }) {
        const current = await read(arn, known, CURRENT);
        const pending = await read(arn, known, PENDING, token);
        if (pending.userId !== current.userId)
          throw new Error(`the pending version names user ${pending.userId}, the current one ${current.userId}`);
        await waitActive(current.userId);
        // Pending first: it becomes the password clients read next; the current one keeps working until the next rotation.
        await users.setPasswords(current.userId, [pending.password, current.password]);
        log(`setSecret: ${current.userId} holds the pending and the current password`);
      },
      async testSecret({ arn, token, known }) {
        const pending = await read(arn, known, PENDING, token);
        const u = await waitActive(pending.userId);
        if (u.passwordCount !== 2)
          throw new Error(
            `the ElastiCache user ${pending.userId} has ${u.passwordCount} password(s), expected 2 (pending and current)`,
          );
        log(`testSecret: ${pending.userId} is active with two passwords`);
      },
    },
    log,
  );
}

/** ElastiCache through the SDK of the Lambda runtime (loaded lazily so that tests never load it). */
export function sdkElastiCacheUsers(): ElastiCacheUsers {
  const ec = require('@aws-sdk/client-elasticache');
  const client = new ec.ElastiCacheClient({});
  return {
    async describe(userId) {
      try {
        const out = await client.send(new ec.DescribeUsersCommand({ UserId: userId }));
        const u = out.Users?.[0];
        return u
          ? { status: String(u.Status), passwordCount: Number(u.Authentication?.PasswordCount ?? 0) }
          : undefined;
      } catch (err) {
        if ((err as { name?: string }).name === 'UserNotFoundFault') return undefined;
        throw err;
      }
    },
    async setPasswords(userId, passwords) {
      await client.send(new ec.ModifyUserCommand({ UserId: userId, Passwords: [...passwords] }));
    },
  };
}

const envNumber = (name: string, fallback: number) =>
  process.env[name] === undefined ? fallback : Number(process.env[name]);

/** The entry point (`index.onRotate`), configured by the construct through the environment. */
export const onRotate = async (event: RotationEvent): Promise<void> =>
  createElastiCacheRotationHandler(
    {
      passwordLength: envNumber('PASSWORD_LENGTH', DEFAULTS.redis.rbac.passwordLength),
      waitSeconds: envNumber('WAIT_SECONDS', DEFAULTS.redis.rbac.rotationWaitSeconds),
      pollMilliseconds: 10_000,
    },
    sdkRotationSecrets(),
    sdkElastiCacheUsers(),
  )(event);
