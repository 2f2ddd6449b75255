/**
 * Secrets Manager rotation function for the RabbitMQ secrets of an Amazon MQ broker, through the management API.
 *
 * - Application users rotate by alternating users: the new password goes to the twin of the user the secret names
 *   (`<user>` / `<user>.alt`), with the same tags and permissions, and the secret then names the twin. Clients that
 *   still hold the previous credentials keep connecting (after a broker restart too) until the next rotation.
 * - The admin secret (the function's `ADMIN_SECRET_ARN`) rotates in place: only this library's functions use it.
 *
 * The four steps follow the Secrets Manager rotation contract and are each safe to repeat.
 * @see https://docs.aws.amazon.com/secretsmanager/latest/userguide/rotate-secrets_lambda-functions.html
 */
import { createHash } from 'node:crypto';
import { DEFAULTS } from '../../core/defaults';
import { alternateName } from '../../core/rabbitmq-users';
import { CURRENT, PENDING, rotationHandler, sdkRotationSecrets } from '../shared/rotation';
import type { RotationEvent, RotationSecrets } from '../shared/rotation';
import { Credentials, ManagementApi, parseSecret, permissionPath, userPath, userPermissionsPath } from './management';
import { WIRE } from '../../core/wire';

export type { RotationEvent, RotationSecrets } from '../shared/rotation';

export interface RotationConfig {
  readonly managementUrl: string;
  readonly adminSecretArn: string;
  /** Length of generated application-user passwords. */
  readonly passwordLength: number;
  /** Length of a generated admin password. @default passwordLength */
  readonly adminPasswordLength?: number;
  readonly timeoutMs: number;
  /** PEM bundle trusted instead of the system CAs (tests). */
  readonly caBundle?: string;
}

interface UserDocument {
  readonly password_hash?: string;
  readonly hashing_algorithm?: string;
  readonly tags?: string | string[];
}

interface PermissionDocument {
  readonly vhost: string;
  readonly configure: string;
  readonly write: string;
  readonly read: string;
}

const tagsOf = (u: UserDocument | undefined) => (Array.isArray(u?.tags) ? u!.tags.join(',') : (u?.tags ?? ''));

/**
 * True when RabbitMQ's stored hash is of this password: base64(salt[4] + H(salt + password)).
 * @see https://www.rabbitmq.com/docs/passwords#computing-password-hash
 */
export function passwordMatches(user: UserDocument, password: string): boolean {
  if (!user.password_hash) return false;
  const algorithm = {
    rabbit_password_hashing_sha256: 'sha256',
    rabbit_password_hashing_sha512: 'sha512',
    rabbit_password_hashing_md5: 'md5',
  }[user.hashing_algorithm ?? 'rabbit_password_hashing_sha256'];
  if (!algorithm) return false;
  const raw = Buffer.from(user.password_hash, 'base64');
  const salt = raw.subarray(0, 4);
  return createHash(algorithm)
    .update(Buffer.concat([salt, Buffer.from(password, 'utf8')]))
    .digest()
    .equals(raw.subarray(4));
}

export function createRotationHandler(
  config: RotationConfig,
  secrets: RotationSecrets,
  log: (line: string) => void = console.log,
): (event: RotationEvent) => Promise<void> {
  const api = (admin: Credentials, known: string[]) =>
    new ManagementApi(config.managementUrl, admin, config.caBundle, config.timeoutMs, log, known);

  /** The credentials of a version, and its whole JSON document (fields besides them are carried over). */
  async function read(
    arn: string,
    select: { stage: string; versionId?: string },
    known: string[],
  ): Promise<Credentials & { document: Record<string, unknown> }> {
    const value = await secrets.get(arn, select);
    if (value === undefined)
      throw new Error(`secret ${arn} has no ${select.stage} version${select.versionId ? ` ${select.versionId}` : ''}`);
    const credentials = parseSecret(arn, value);
    known.push(credentials.password);
    if (!credentials.username) throw new Error(`secret ${arn} has no "${WIRE.secretUsernameField}" field`);
    return { ...credentials, document: JSON.parse(value) };
  }

  const isAdmin = (arn: string) => arn === config.adminSecretArn;
  return rotationHandler(
    secrets,
    {
      async createSecret({ arn, token, known }) {
        const current = await read(arn, { stage: CURRENT }, known);
        if ((await secrets.get(arn, { stage: PENDING, versionId: token })) !== undefined) {
          log(`createSecret: ${PENDING} exists`);
          return;
        }
        const password = await secrets.randomPassword(
          isAdmin(arn) ? (config.adminPasswordLength ?? config.passwordLength) : config.passwordLength,
        );
        known.push(password);
        const username = isAdmin(arn) ? current.username! : alternateName(current.username!);
        await secrets.putPending(
          arn,
          token,
          JSON.stringify({
            ...current.document,
            [WIRE.secretUsernameField]: username,
            [WIRE.secretPasswordField]: password,
          }),
        );
        log(`createSecret: ${PENDING} names ${username}`);
      },
      async setSecret({ arn, token, known }) {
        const current = await read(arn, { stage: CURRENT }, known);
        const pending = await read(arn, { stage: PENDING, versionId: token }, known);
        if (isAdmin(arn)) {
          // The admin changes its own password; after a half-done run the pending password is the one that works.
          let client = api(current, known);
          const self = await client.get(userPath(current.username!)).catch(async (err: Error) => {
            if (!/ 401 /.test(err.message)) throw err;
            client = api(pending, known);
            return client.get(userPath(current.username!));
          });
          if (self === undefined) throw new Error(`the admin user ${current.username} does not exist on the broker`);
          await client.request('PUT', userPath(pending.username!), {
            password: pending.password,
            tags: tagsOf(self as UserDocument),
          });
        } else {
          const admin = api(await read(config.adminSecretArn, { stage: CURRENT }, known), known);
          const user = (await admin.get(userPath(current.username!))) as UserDocument | undefined;
          if (user === undefined)
            throw new Error(`the user ${current.username} named by secret ${arn} does not exist on the broker`);
          const permissions = ((await admin.get(userPermissionsPath(current.username!))) ?? []) as PermissionDocument[];
          await admin.request('PUT', userPath(pending.username!), { password: pending.password, tags: tagsOf(user) });
          for (const p of permissions) {
            await admin.request('PUT', permissionPath(p.vhost, pending.username!), {
              configure: p.configure,
              write: p.write,
              read: p.read,
            });
          }
        }
        log(`setSecret: password of ${pending.username} set`);
      },
      async testSecret({ arn, token, known }) {
        const pending = await read(arn, { stage: PENDING, versionId: token }, known);
        const admin = api(isAdmin(arn) ? pending : await read(config.adminSecretArn, { stage: CURRENT }, known), known);
        const user = (await admin.get(userPath(pending.username!))) as UserDocument | undefined;
        if (user === undefined || !passwordMatches(user, pending.password)) {
          throw new Error(`the broker does not hold the pending password of ${pending.username}`);
        }
        if (!isAdmin(arn)) {
          const current = await read(arn, { stage: CURRENT }, known);
          const shape = async (name: string) =>
            JSON.stringify(
              (((await admin.get(userPermissionsPath(name))) ?? []) as PermissionDocument[])
                .map((p) => [p.vhost, p.configure, p.write, p.read])
                .sort(),
            );
          const want = await shape(current.username!);
          const got = await shape(pending.username!);
          if (want !== got)
            throw new Error(
              `the permissions of ${pending.username} differ from those of ${current.username}: ${got} against ${want}`,
            );
        }
        log(`testSecret: ${pending.username} verified`);
      },
    },
    log,
  );
}

function envNumber(name: string, fallback: number): number {
  const v = process.env[name];
  return v === undefined ? fallback : Number(v);
}

/** The rotation entry point (`index.onRotate`), configured by the construct through the environment. */
export const onRotate = async (event: RotationEvent): Promise<void> => {
  const url = process.env.MANAGEMENT_URL ?? '';
  if (!url.startsWith('https://'))
    throw new Error(
      `MANAGEMENT_URL ${JSON.stringify(url)} is not allowed: the management API is reached over https:// only`,
    );
  const handler = createRotationHandler(
    {
      managementUrl: process.env.MANAGEMENT_URL ?? '',
      adminSecretArn: process.env.ADMIN_SECRET_ARN ?? '',
      passwordLength: envNumber('PASSWORD_LENGTH', DEFAULTS.rabbitmq.passwordLength),
      adminPasswordLength: envNumber('ADMIN_PASSWORD_LENGTH', DEFAULTS.rabbitmq.passwordLength),
      timeoutMs: envNumber('TIMEOUT_MS', DEFAULTS.rabbitmq.managementApiTimeoutMs),
    },
    sdkRotationSecrets(),
  );
  return handler(event);
};
