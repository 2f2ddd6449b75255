import { createHash } from 'node:crypto';
import { createHandler, type RabbitMqUsersProperties } from '../../lib/handlers/rabbitmq-users';
import { createRotationHandler, passwordMatches, type RotationEvent } from '../../lib/handlers/rabbitmq-users/rotation';
import { createCertificateAuthority, issueCertificate, type IssuedCertificate } from '../../lib/dev/pki';
import { passwordHash } from '../../lib/dev/rabbitmq-server';
import { ADMIN, FakeManagementApi } from './fake-management-api';
import { FakeSecrets } from './fake-secrets';

const PRODUCER_PASSWORD = 'ProducerPassw0rdSecretA';
let ca: IssuedCertificate;
let serverCert: IssuedCertificate;
let fake: FakeManagementApi;
let secrets: FakeSecrets;
let url: string;
const logs: string[] = [];

beforeAll(async () => {
  ca = await createCertificateAuthority('rabbitmq-rotation test CA');
  serverCert = await issueCertificate(ca, { commonName: 'localhost', dnsNames: ['localhost'], usage: 'server' });
});

beforeEach(async () => {
  fake = new FakeManagementApi(serverCert);
  url = await fake.start();
  secrets = new FakeSecrets();
  secrets.create('arn:admin', ADMIN);
  secrets.create('arn:producer', { username: 'producer', password: PRODUCER_PASSWORD });
  logs.length = 0;
  // The custom resource creates the vhost, the user and its permissions first.
  await createHandler({
    getSecret: async (arn) => (await secrets.get(arn, { stage: 'AWSCURRENT' }))!,
    log: () => undefined,
  })({
    RequestType: 'Create',
    ResourceProperties: usersProps(),
  });
});

afterEach(async () => {
  await fake.stop();
});

function usersProps(): RabbitMqUsersProperties {
  return {
    ManagementUrl: url,
    AdminSecretArn: 'arn:admin',
    Vhost: 'celery',
    CaBundle: ca.certPem,
    TimeoutMs: 2000,
    Users: [
      { Name: 'producer', PasswordSecretArn: 'arn:producer', Configure: '^celery.*', Write: '^celery.*', Read: '^$' },
    ],
  };
}

function rotation() {
  return createRotationHandler(
    { managementUrl: url, adminSecretArn: 'arn:admin', passwordLength: 32, timeoutMs: 2000, caBundle: ca.certPem },
    secrets,
    (l) => logs.push(l),
  );
}

async function rotate(
  arn: string,
  steps: RotationEvent['Step'][] = ['createSecret', 'setSecret', 'testSecret', 'finishSecret'],
): Promise<string> {
  const token = secrets.start(arn);
  const handler = rotation();
  for (const Step of steps) await handler({ SecretId: arn, ClientRequestToken: token, Step });
  return token;
}

/** Asserts no password the test knows appears in a text. */
function expectNoPassword(text: string) {
  for (const p of [ADMIN.password, PRODUCER_PASSWORD, ...secrets.generated]) expect(text).not.toContain(p);
}

describe('application user rotation (alternating users)', () => {
  test('the new password goes to the twin, which gets the same permissions; the user keeps its password for clients still using it', async () => {
    // WHEN
    await rotate('arn:producer');
    // THEN the secret names the twin with the generated password
    const now = secrets.current('arn:producer');
    expect(now.username).toBe('producer.alt');
    expect(now.password).toBe(secrets.generated[0]);
    // the broker holds it, the old user still holds the old password, and the permissions match
    expect(fake.users.get('producer.alt')).toBe(now.password);
    expect(fake.users.get('producer')).toBe(PRODUCER_PASSWORD);
    expect(fake.state().permissions['celery producer.alt']).toEqual(fake.state().permissions['celery producer']);
    expect(fake.tags.get('producer.alt')).toBe('');
    logs.forEach(expectNoPassword);
  });

  test('the second rotation goes back to the user and leaves the twin holding the first rotation password', async () => {
    await rotate('arn:producer');
    const first = secrets.current('arn:producer').password;
    // WHEN
    await rotate('arn:producer');
    // THEN
    const now = secrets.current('arn:producer');
    expect(now.username).toBe('producer');
    expect(fake.users.get('producer')).toBe(now.password);
    expect(fake.users.get('producer.alt')).toBe(first);
    expect(now.password).not.toBe(PRODUCER_PASSWORD);
  });

  test('every step can be repeated (Secrets Manager retries)', async () => {
    const token = secrets.start('arn:producer');
    const handler = rotation();
    for (const Step of [
      'createSecret',
      'createSecret',
      'setSecret',
      'setSecret',
      'testSecret',
      'testSecret',
      'finishSecret',
      'finishSecret',
    ] as const) {
      await handler({ SecretId: 'arn:producer', ClientRequestToken: token, Step });
    }
    expect(secrets.generated).toHaveLength(1);
    expect(secrets.current('arn:producer').username).toBe('producer.alt');
    expect(fake.users.get('producer.alt')).toBe(secrets.generated[0]);
  });

  test('testSecret fails when the broker does not hold the pending password, and the message carries no password', async () => {
    const token = secrets.start('arn:producer');
    const handler = rotation();
    await handler({ SecretId: 'arn:producer', ClientRequestToken: token, Step: 'createSecret' });
    // WHEN setSecret is skipped
    const err = await handler({ SecretId: 'arn:producer', ClientRequestToken: token, Step: 'testSecret' }).catch(
      (e: Error) => e,
    );
    // THEN
    expect(err).toBeInstanceOf(Error);
    expect((err as Error).message).toContain(
      'testSecret of arn:producer failed: the broker does not hold the pending password of producer.alt',
    );
    expectNoPassword((err as Error).message);
    expect(secrets.current('arn:producer').username).toBe('producer');
  });

  test('a secret without rotation enabled is refused before any change', async () => {
    secrets.rotationEnabled = false;
    await expect(rotate('arn:producer', ['createSecret'])).rejects.toThrow('does not have rotation enabled');
    expect(secrets.generated).toHaveLength(0);
  });

  test('a 500 from the management API during setSecret is reported with method, path and status, redacted', async () => {
    const token = secrets.start('arn:producer');
    const handler = rotation();
    await handler({ SecretId: 'arn:producer', ClientRequestToken: token, Step: 'createSecret' });
    fake.failOn.set(fake.requests.length + 3, 500); // GET user, GET permissions, then the PUT of the twin
    const err = (await handler({ SecretId: 'arn:producer', ClientRequestToken: token, Step: 'setSecret' }).catch(
      (e: Error) => e,
    )) as Error;
    expect(err.message).toContain('PUT /api/users/producer.alt failed: the management API answered 500');
    expectNoPassword(err.message);
  });

  test('the custom resource then updates the user the secret names, and keeps the other one working', async () => {
    await rotate('arn:producer');
    const rotated = secrets.current('arn:producer');
    // WHEN a stack update runs the custom resource again (e.g. changed permissions)
    const changed = { ...usersProps(), Users: [{ ...usersProps().Users[0], Read: '^celery$' }] };
    await createHandler({
      getSecret: async (arn) => (await secrets.get(arn, { stage: 'AWSCURRENT' }))!,
      log: () => undefined,
    })({
      RequestType: 'Update',
      ResourceProperties: changed,
      OldResourceProperties: usersProps(),
      PhysicalResourceId: 'rabbitmq-users:celery',
    });
    // THEN the twin keeps the rotated password, the user keeps the old one, and both get the new permissions
    expect(fake.users.get('producer.alt')).toBe(rotated.password);
    expect(fake.users.get('producer')).toBe(PRODUCER_PASSWORD);
    expect(fake.state().permissions['celery producer'].read).toBe('^celery$');
    expect(fake.state().permissions['celery producer.alt'].read).toBe('^celery$');
  });
});

describe('admin rotation (in place)', () => {
  test('the admin changes its own password and keeps its tags; the custom resource then logs in with the new one', async () => {
    await rotate('arn:admin');
    const now = secrets.current('arn:admin');
    expect(now.username).toBe(ADMIN.username);
    expect(fake.users.get(ADMIN.username)).toBe(now.password);
    expect(fake.tags.get(ADMIN.username)).toBe('administrator');
    await expect(
      createHandler({
        getSecret: async (arn) => (await secrets.get(arn, { stage: 'AWSCURRENT' }))!,
        log: () => undefined,
      })({
        RequestType: 'Update',
        ResourceProperties: usersProps(),
        OldResourceProperties: usersProps(),
        PhysicalResourceId: 'rabbitmq-users:celery',
      }),
    ).resolves.toBeDefined();
  });

  test('a repeated setSecret after the password already changed logs in with the pending password', async () => {
    const token = secrets.start('arn:admin');
    const handler = rotation();
    await handler({ SecretId: 'arn:admin', ClientRequestToken: token, Step: 'createSecret' });
    await handler({ SecretId: 'arn:admin', ClientRequestToken: token, Step: 'setSecret' });
    // WHEN Secrets Manager retries setSecret (the current password no longer works)
    await handler({ SecretId: 'arn:admin', ClientRequestToken: token, Step: 'setSecret' });
    await handler({ SecretId: 'arn:admin', ClientRequestToken: token, Step: 'testSecret' });
    await handler({ SecretId: 'arn:admin', ClientRequestToken: token, Step: 'finishSecret' });
    expect(fake.users.get(ADMIN.username)).toBe(secrets.current('arn:admin').password);
  });
});

test('passwordMatches checks RabbitMQ salted hashes (sha256 and sha512) and refuses others', () => {
  const salt = Buffer.from([1, 2, 3, 4]);
  const hash = (alg: string, p: string) =>
    Buffer.concat([
      salt,
      createHash(alg)
        .update(Buffer.concat([salt, Buffer.from(p)]))
        .digest(),
    ]).toString('base64');
  expect(
    passwordMatches(
      { password_hash: hash('sha256', 'right'), hashing_algorithm: 'rabbit_password_hashing_sha256' },
      'right',
    ),
  ).toBe(true);
  expect(
    passwordMatches(
      { password_hash: hash('sha256', 'right'), hashing_algorithm: 'rabbit_password_hashing_sha256' },
      'wrong',
    ),
  ).toBe(false);
  expect(
    passwordMatches(
      { password_hash: hash('sha512', 'right'), hashing_algorithm: 'rabbit_password_hashing_sha512' },
      'right',
    ),
  ).toBe(true);
  expect(passwordMatches({ password_hash: hash('sha256', 'right'), hashing_algorithm: 'unknown' }, 'right')).toBe(
    false,
  );
  // The hashes celery-tls dev gives RabbitMQ users (definitions import) are the same scheme.
  expect(
    passwordMatches(
      { password_hash: passwordHash('right/+%@:!'), hashing_algorithm: 'rabbit_password_hashing_sha256' },
      'right/+%@:!',
    ),
  ).toBe(true);
  expect(passwordMatches({}, 'right')).toBe(false);
});
