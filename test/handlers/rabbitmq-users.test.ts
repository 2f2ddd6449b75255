import { createHandler, createInvocationHandler } from '../../lib/handlers/rabbitmq-users';
import type { RabbitMqUsersEvent, RabbitMqUsersProperties } from '../../lib/handlers/rabbitmq-users';
import { createCertificateAuthority, issueCertificate, type IssuedCertificate } from '../../lib/dev/pki';
import { ADMIN, FakeManagementApi } from './fake-management-api';

// Passwords are long and distinctive so that a leak into any message is found by a plain substring search.
const SECRETS: Record<string, string> = {
  'arn:admin': JSON.stringify(ADMIN),
  'arn:producer': JSON.stringify({ username: 'producer', password: 'ProducerPassw0rdSecretA' }),
  'arn:worker': JSON.stringify({ username: 'worker', password: 'WorkerPassw0rdSecretB' }),
  'arn:producer-2': JSON.stringify({ username: 'producer', password: 'ProducerPassw0rdRotatedC' }),
  'arn:admin-stale': JSON.stringify({ username: 'admin', password: 'AdminPassw0rdStaleD' }),
};
const ALL_PASSWORDS = [
  ADMIN.password,
  'ProducerPassw0rdSecretA',
  'WorkerPassw0rdSecretB',
  'ProducerPassw0rdRotatedC',
  'AdminPassw0rdStaleD',
];

let ca: IssuedCertificate;
let serverCert: IssuedCertificate;
let fake: FakeManagementApi;
let url: string;
const logs: string[] = [];
const deps = {
  getSecret: async (arn: string) => {
    const value = SECRETS[arn];
    if (value === undefined) throw new Error(`no secret ${arn}`);
    return value;
  },
  log: (line: string) => logs.push(line),
};
const onEvent = createHandler(deps);
const onInvocation = createInvocationHandler(deps);

beforeAll(async () => {
  ca = await createCertificateAuthority('rabbitmq-users test CA');
  serverCert = await issueCertificate(ca, {
    commonName: 'localhost',
    dnsNames: ['localhost'],
    ipAddresses: ['127.0.0.1'],
    usage: 'server',
  });
});

beforeEach(async () => {
  fake = new FakeManagementApi(serverCert);
  url = await fake.start();
  logs.length = 0;
});

afterEach(async () => {
  await fake.stop();
});

function props(overrides: Partial<RabbitMqUsersProperties> = {}): RabbitMqUsersProperties {
  return {
    ManagementUrl: url,
    AdminSecretArn: 'arn:admin',
    Vhost: 'celery/prod', // a slash, to prove path segments are encoded
    CaBundle: ca.certPem,
    TimeoutMs: 2000,
    Users: [
      { Name: 'producer', PasswordSecretArn: 'arn:producer', Configure: '^celery.*', Write: '^celery.*', Read: '^$' },
      {
        Name: 'worker',
        PasswordSecretArn: 'arn:worker',
        Configure: '^celery.*',
        Write: '^celery.*',
        Read: '^celery.*',
      },
    ],
    ...overrides,
  };
}

const create = (p = props()): RabbitMqUsersEvent => ({ RequestType: 'Create', ResourceProperties: p });
const update = (p: RabbitMqUsersProperties, old: RabbitMqUsersProperties): RabbitMqUsersEvent => ({
  RequestType: 'Update',
  ResourceProperties: p,
  OldResourceProperties: old,
  PhysicalResourceId: 'rabbitmq-users:celery/prod',
});
const del = (p = props()): RabbitMqUsersEvent => ({
  RequestType: 'Delete',
  ResourceProperties: p,
  PhysicalResourceId: 'rabbitmq-users:celery/prod',
});

/** Runs the handler expecting a failure; returns the message after asserting it carries no password. */
async function failure(event: RabbitMqUsersEvent): Promise<string> {
  const err = await onEvent(event).then(
    () => undefined,
    (e: Error) => e,
  );
  expect(err).toBeInstanceOf(Error);
  expectNoPassword(err!.message);
  return err!.message;
}

function expectNoPassword(text: string): void {
  for (const p of ALL_PASSWORDS) expect(text).not.toContain(p);
}

const FULL_STATE = {
  vhosts: ['celery/prod'],
  users: ['producer', 'worker'],
  permissions: {
    'celery/prod producer': { configure: '^celery.*', write: '^celery.*', read: '^$' },
    'celery/prod worker': { configure: '^celery.*', write: '^celery.*', read: '^celery.*' },
  },
};

describe('Create', () => {
  test('creates the vhost, the users with their passwords and their permissions; returns non-secret facts only', async () => {
    // WHEN
    const res = await onEvent(create());
    // THEN
    expect(fake.state()).toEqual(FULL_STATE);
    expect(fake.users.get('producer')).toBe('ProducerPassw0rdSecretA');
    expect(fake.users.get('worker')).toBe('WorkerPassw0rdSecretB');
    expect(fake.requests).toContain('PUT /api/vhosts/celery%2Fprod');
    expect(fake.requests).toContain('PUT /api/permissions/celery%2Fprod/worker');
    expect(res).toEqual({
      PhysicalResourceId: 'rabbitmq-users:celery/prod',
      Data: { Vhost: 'celery/prod', UserNames: 'producer,worker' },
    });
    expectNoPassword(JSON.stringify(res));
    expectNoPassword(logs.join('\n'));
  });

  test('DefaultQueueType goes into the vhost metadata; without it the body is empty', async () => {
    await onEvent(create(props({ DefaultQueueType: 'quorum' })));
    expect(fake.vhostBodies.get('celery/prod')).toEqual({ default_queue_type: 'quorum' });
    await onEvent(create(props({ Vhost: 'plain' })));
    expect(fake.vhostBodies.get('plain')).toEqual({});
  });

  test('DeadLetterQueue: a quorum dead-letter queue and a policy on the vhost, the limit a number (CloudFormation sends "7")', async () => {
    await onEvent(create(props({ DeadLetterQueue: 'celery.dead-letter', DeliveryLimit: '7' })));
    expect(fake.queues.get('celery/prod\0celery.dead-letter')).toEqual({
      durable: true,
      auto_delete: false,
      arguments: { 'x-queue-type': 'quorum' },
    });
    expect(fake.policies.get('celery/prod\0celery-tls-dead-letter')).toEqual({
      pattern: '^(?!celery_delayed_|celery\\.dead-letter$)',
      definition: { 'delivery-limit': 7, 'dead-letter-exchange': '', 'dead-letter-routing-key': 'celery.dead-letter' },
      priority: 10,
      'apply-to': 'quorum_queues',
    });
    // Without it, no queue and no policy.
    await onEvent(create(props({ Vhost: 'plain' })));
    expect([...fake.policies.keys()].filter((k) => k.startsWith('plain'))).toEqual([]);
  });

  test('ReplaceDirectExchanges: a direct "celery" exchange is deleted (Celery redeclares it as topic); a topic one stays', async () => {
    await onEvent(create());
    fake.exchanges.set('celery/prod\0celery', { type: 'direct', durable: true });
    fake.exchanges.set('celery/prod\0other', { type: 'topic', durable: true });
    await onEvent(create(props({ ReplaceDirectExchanges: ['celery', 'other', 'missing'] })));
    expect([...fake.exchanges.keys()]).toEqual(['celery/prod\0other']);
    expect(fake.requests).toContain('DELETE /api/exchanges/celery%2Fprod/celery');
    expect(fake.requests).not.toContain('DELETE /api/exchanges/celery%2Fprod/other');
  });

  test('a repeated Create converges without change or error', async () => {
    await onEvent(create());
    const before = fake.state();
    const res = await onEvent(create());
    expect(fake.state()).toEqual(before);
    expect(res.PhysicalResourceId).toBe('rabbitmq-users:celery/prod');
  });

  test('a 500 on the 5th request names method, path and status, and removes everything this invocation created', async () => {
    // GIVEN requests 1-3 create vhost, producer, producer's permissions, the 4th looks for producer's rotation twin;
    // the 5th (PUT worker) fails
    fake.failOn.set(5, 500);
    // WHEN
    const message = await failure(create());
    // THEN
    expect(message).toContain('PUT /api/users/worker failed: the management API answered 500');
    expect(message).toContain('internal_error');
    expect(message).toContain('undone: DELETE /api/permissions/celery%2Fprod/producer ok');
    expect(fake.state()).toEqual({ vhosts: [], users: [], permissions: {} });
  });

  test('a failed repeat of Create leaves what existed before it in place', async () => {
    await onEvent(create());
    fake.failOn.set(fake.requests.length + 4, 500);
    await failure(create());
    expect(fake.state()).toEqual(FULL_STATE);
  });

  test('401 from the management API is a clear failure and nothing is created', async () => {
    const message = await failure(
      create(props({ AdminSecretArn: 'arn:admin-stale' })), // the admin's password as it was before a change
    );
    expect(message).toContain('PUT /api/vhosts/celery%2Fprod failed: the management API answered 401');
    expect(message).toContain('admin user name or password in AdminSecretArn was refused');
    expect(message).toContain('nothing was created');
    expect(fake.state()).toEqual({ vhosts: [], users: [], permissions: {} });
  });

  test('a server that never answers fails with a timeout within TimeoutMs', async () => {
    fake.hang = true;
    const started = Date.now();
    const message = await failure(create(props({ TimeoutMs: '300' }))); // CloudFormation passes numbers as strings
    expect(message).toContain('PUT /api/vhosts/celery%2Fprod failed: timed out after 300 ms');
    expect(Date.now() - started).toBeLessThan(1500);
  });
});

describe('Update', () => {
  test('a password change sets the new password and keeps the rest', async () => {
    const old = props();
    await onEvent(create(old));
    const changed = props({
      Users: [{ ...old.Users[0], PasswordSecretArn: 'arn:producer-2' }, old.Users[1]],
    });
    const res = await onEvent(update(changed, old));
    expect(fake.users.get('producer')).toBe('ProducerPassw0rdRotatedC');
    expect(fake.state()).toEqual(FULL_STATE);
    expectNoPassword(JSON.stringify(res) + logs.join('\n'));
  });

  test('a renamed vhost is created complete before the old one is deleted; the physical id stays', async () => {
    const old = props();
    await onEvent(create(old));
    fake.requests.length = 0;
    const res = await onEvent(update(props({ Vhost: 'celery-v2' }), old));
    expect(fake.state().vhosts).toEqual(['celery-v2']);
    expect(Object.keys(fake.state().permissions).sort()).toEqual(['celery-v2 producer', 'celery-v2 worker']);
    const deleteOld = fake.requests.indexOf('DELETE /api/vhosts/celery%2Fprod');
    expect(deleteOld).toBe(fake.requests.length - 1);
    expect(fake.requests.indexOf('PUT /api/permissions/celery-v2/worker')).toBeLessThan(deleteOld);
    expect(res.PhysicalResourceId).toBe('rabbitmq-users:celery/prod');
    expect(res.Data.Vhost).toBe('celery-v2');
  });

  test('a user no longer listed is removed; a failed update removes nothing old', async () => {
    const old = props();
    await onEvent(create(old));
    const onlyWorker = props({ Users: [old.Users[1]] });
    fake.failOn.set(fake.requests.length + 1, 500);
    await failure(update(onlyWorker, old));
    expect(fake.state()).toEqual(FULL_STATE);
    await onEvent(update(onlyWorker, old));
    expect(fake.state().users).toEqual(['worker']);
  });
});

describe('Delete', () => {
  test('removes users and vhost; a repeated Delete treats 404 as success', async () => {
    await onEvent(create());
    await onEvent(del());
    expect(fake.state()).toEqual({ vhosts: [], users: [], permissions: {} });
    expect(fake.users.has(ADMIN.username)).toBe(true);
    fake.requests.length = 0;
    await expect(onEvent(del())).resolves.toMatchObject({ PhysicalResourceId: 'rabbitmq-users:celery/prod' });
    // Each user's rotation twin goes too (404 when it never existed).
    expect(fake.requests).toEqual([
      'DELETE /api/users/producer',
      'DELETE /api/users/producer.alt',
      'DELETE /api/users/worker',
      'DELETE /api/users/worker.alt',
      'DELETE /api/vhosts/celery%2Fprod',
    ]);
  });

  test('a 500 on Delete is reported, not swallowed', async () => {
    await onEvent(create());
    fake.failOn.set(fake.requests.length + 1, 500);
    expect(await failure(del())).toContain('DELETE /api/users/producer failed: the management API answered 500');
  });
});

// Terraform: aws_lambda_invocation with lifecycle_scope = "CRUD" sends the input plus "tf": {action, prev_input}
// (terraform-provider-aws internal/service/lambda/invocation.go, buildInput). The input is JSON: numbers stay numbers.
describe('Terraform invocations (index.onInvocation)', () => {
  const tf = (action: string, input: RabbitMqUsersProperties, prev: RabbitMqUsersProperties | null) => ({
    ...input,
    tf: { action, prev_input: prev },
  });

  test('create, update (a renamed vhost, a removed user) and delete converge the broker as the custom resource does', async () => {
    const first = props({ DeadLetterQueue: 'celery.dead-letter', DeliveryLimit: 7 });
    const created = await onInvocation(tf('create', first, null));
    expect(fake.state()).toMatchObject(FULL_STATE);
    expect(fake.users.get('worker')).toBe('WorkerPassw0rdSecretB');
    // The result Terraform stores in the state: non-secret facts only.
    expect(created).toEqual({
      PhysicalResourceId: 'rabbitmq-users:celery/prod',
      Data: { Vhost: 'celery/prod', UserNames: 'producer,worker' },
    });
    const second = props({ Vhost: 'celery-v2', Users: [first.Users[1]] });
    const updated = await onInvocation(tf('update', second, first));
    expect(fake.state().vhosts).toEqual(['celery-v2']);
    expect(fake.state().users).toEqual(['worker']);
    expect(updated.PhysicalResourceId).toBe('rabbitmq-users:celery/prod');
    expect(updated.Data.Vhost).toBe('celery-v2');
    // On destroy the provider sends the input in the state as both the input and the previous input.
    await onInvocation(tf('delete', second, second));
    expect(fake.state()).toEqual({ vhosts: [], users: [], permissions: {} });
    expect(fake.users.has(ADMIN.username)).toBe(true);
    expectNoPassword(JSON.stringify([created, updated]) + logs.join('\n'));
  });

  test('a failure throws (the provider fails the apply with the error payload) without any password in it', async () => {
    fake.failOn.set(3, 500);
    const err = await onInvocation(tf('create', props(), null)).then(
      () => undefined,
      (e: Error) => e,
    );
    expect(err?.message).toContain('the management API answered 500');
    expectNoPassword(err!.message);
    expect(fake.state().users).toEqual([]);
  });

  test('an invocation without lifecycle_scope CRUD (no "tf" key) or with an unknown action is refused before any request', async () => {
    await expect(onInvocation(props() as never)).rejects.toThrow('tf.action undefined is not create, update or delete');
    await expect(onInvocation(tf('refresh', props(), null))).rejects.toThrow('tf.action "refresh"');
    expect(fake.requests).toEqual([]);
  });
});

describe('refusals', () => {
  test('a plaintext http:// ManagementUrl is refused before any request', async () => {
    const message = await failure(create(props({ ManagementUrl: url.replace('https:', 'http:') })));
    expect(message).toMatch(/is not allowed: the management API is reached over https:\/\/ only/);
    expect(fake.requests).toEqual([]);
  });

  test('a certificate from a CA that is not trusted is refused', async () => {
    const message = await failure(create(props({ CaBundle: undefined })));
    expect(message).toMatch(/PUT \/api\/vhosts\/celery%2Fprod failed: .*(self.signed|unable to (get|verify))/i);
    expect(fake.state()).toEqual({ vhosts: [], users: [], permissions: {} });
  });

  test('a DeliveryLimit that is not a positive integer, and an amq.* exchange to replace, are refused before any request', async () => {
    expect(await failure(create(props({ DeadLetterQueue: 'dlq', DeliveryLimit: '0' })))).toBe(
      'DeliveryLimit "0" must be a positive integer',
    );
    expect(await failure(create(props({ ReplaceDirectExchanges: ['amq.direct'] })))).toBe(
      'ReplaceDirectExchanges must be a list of exchange names (not "", not amq.*)',
    );
    expect(fake.requests).toEqual([]);
  });

  test('the admin user cannot be managed as an application user', async () => {
    const users = [{ Name: 'admin', PasswordSecretArn: 'arn:producer', Configure: '.*', Write: '.*', Read: '.*' }];
    expect(await failure(create(props({ Users: users })))).toContain('must not contain the admin user "admin"');
    expect(fake.requests).toEqual([]);
  });
});
