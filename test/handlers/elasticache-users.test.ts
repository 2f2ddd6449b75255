import {
  createElastiCacheRotationHandler,
  type ElastiCacheUsers,
  type RotationEvent,
} from '../../lib/handlers/elasticache-users';
import { FakeSecrets } from './fake-secrets';

/** ElastiCache users as ModifyUser and DescribeUsers see them: up to two passwords, "modifying" for a while after a change. */
class FakeUsers implements ElastiCacheUsers {
  readonly users = new Map<string, { passwords: string[]; status: string; busyDescribes: number }>();
  calls: string[] = [];
  /** DescribeUsers answers "modifying" this many times after each change. */
  modifyingFor = 1;

  async describe(userId: string) {
    this.calls.push(`DescribeUsers ${userId}`);
    const u = this.users.get(userId);
    if (!u) return undefined;
    if (u.busyDescribes > 0) {
      u.busyDescribes--;
      return { status: 'modifying', passwordCount: u.passwords.length };
    }
    return { status: u.status, passwordCount: u.passwords.length };
  }

  async setPasswords(userId: string, passwords: readonly string[]) {
    this.calls.push(`ModifyUser ${userId} (${passwords.length} passwords)`);
    const u = this.users.get(userId)!;
    if (passwords.length > 2) throw new Error('InvalidParameterValue: at most two passwords');
    if (u.status !== 'active' || u.busyDescribes > 0) throw new Error('InvalidUserState: user is not active');
    u.passwords = [...passwords];
    u.busyDescribes = this.modifyingFor;
  }
}

const ARN = 'arn:aws:secretsmanager:eu-west-1:111122223333:secret:celery-worker-AbCdEf';
const FIRST = 'FirstPassw0rdOfTheWorkerUser0123';
let secrets: FakeSecrets;
let users: FakeUsers;
const logs: string[] = [];

beforeEach(() => {
  secrets = new FakeSecrets();
  secrets.create(ARN, { username: 'celery-worker', user_id: 'stack-celery-worker', password: FIRST });
  users = new FakeUsers();
  users.users.set('stack-celery-worker', { passwords: [FIRST], status: 'active', busyDescribes: 0 });
  logs.length = 0;
});

const handler = (waitSeconds = 5) =>
  createElastiCacheRotationHandler({ passwordLength: 64, waitSeconds, pollMilliseconds: 1 }, secrets, users, (l) =>
    logs.push(l),
  );

async function rotate(
  steps: RotationEvent['Step'][] = ['createSecret', 'setSecret', 'testSecret', 'finishSecret'],
): Promise<string> {
  const token = secrets.start(ARN);
  const h = handler();
  for (const Step of steps) await h({ SecretId: ARN, ClientRequestToken: token, Step });
  return token;
}

const noPassword = (text: string) => {
  for (const p of [FIRST, ...secrets.generated]) expect(text).not.toContain(p);
};

test('a rotation leaves the user with the new and the previous password; the secret names the same user', async () => {
  await rotate();
  const now = secrets.current(ARN) as any;
  expect(now).toMatchObject({ username: 'celery-worker', user_id: 'stack-celery-worker' });
  expect(now.password).toBe(secrets.generated[0]);
  expect(users.users.get('stack-celery-worker')!.passwords).toEqual([now.password, FIRST]);
  logs.forEach(noPassword);
});

test('the next rotation drops the oldest password: clients must pick up a new secret once per rotation period', async () => {
  await rotate();
  const second = secrets.current(ARN).password;
  await rotate();
  expect(users.users.get('stack-celery-worker')!.passwords).toEqual([secrets.current(ARN).password, second]);
  expect(users.users.get('stack-celery-worker')!.passwords).not.toContain(FIRST);
});

test('it waits while the user is "modifying" and fails with the status after waitSeconds', async () => {
  users.users.get('stack-celery-worker')!.busyDescribes = 3;
  await rotate();
  expect(users.calls.filter((c) => c.startsWith('DescribeUsers')).length).toBeGreaterThanOrEqual(4);
  users.users.get('stack-celery-worker')!.status = 'modifying';
  const token = secrets.start(ARN);
  const h = createElastiCacheRotationHandler(
    { passwordLength: 64, waitSeconds: 0, pollMilliseconds: 1 },
    secrets,
    users,
    () => undefined,
  );
  await h({ SecretId: ARN, ClientRequestToken: token, Step: 'createSecret' });
  const err = (await h({ SecretId: ARN, ClientRequestToken: token, Step: 'setSecret' }).catch(
    (e: Error) => e,
  )) as Error;
  expect(err.message).toContain(
    'setSecret of ' + ARN + ' failed: the ElastiCache user stack-celery-worker is still "modifying" after 0 s',
  );
  noPassword(err.message);
});

test('every step can be repeated (Secrets Manager retries)', async () => {
  const token = secrets.start(ARN);
  const h = handler();
  for (const Step of [
    'createSecret',
    'createSecret',
    'setSecret',
    'setSecret',
    'testSecret',
    'finishSecret',
    'finishSecret',
  ] as const) {
    await h({ SecretId: ARN, ClientRequestToken: token, Step });
  }
  expect(secrets.generated).toHaveLength(1);
  expect(users.users.get('stack-celery-worker')!.passwords).toEqual([secrets.generated[0], FIRST]);
});

test('testSecret fails when the user does not hold both passwords; AWSCURRENT stays', async () => {
  const token = secrets.start(ARN);
  const h = handler();
  await h({ SecretId: ARN, ClientRequestToken: token, Step: 'createSecret' });
  const err = (await h({ SecretId: ARN, ClientRequestToken: token, Step: 'testSecret' }).catch(
    (e: Error) => e,
  )) as Error;
  expect(err.message).toContain('has 1 password(s), expected 2');
  noPassword(err.message);
  expect(secrets.current(ARN).password).toBe(FIRST);
});

test('a secret naming a user that does not exist fails in createSecret, before any password is generated', async () => {
  users.users.clear();
  await expect(rotate(['createSecret'])).rejects.toThrow(
    'the ElastiCache user stack-celery-worker named by the secret does not exist',
  );
  expect(secrets.generated).toHaveLength(0);
});

test('a secret without user_id is refused with the fields it needs, without its password', async () => {
  secrets.create(ARN, { username: 'celery-worker', password: FIRST });
  const err = (await rotate(['createSecret']).catch((e: Error) => e)) as Error;
  expect(err.message).toContain('needs string fields "username", "user_id" and "password"');
  noPassword(err.message);
});
