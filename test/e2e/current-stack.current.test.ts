/**
 * The current-stack lane: the stack production runs (Debian 13's RabbitMQ 4.0, Valkey 8.1, Celery 5.5.2, kombu 5.5.3,
 * redis-py 6.1) from the root scripts/current-stack builds, against the settings the CDK constructs render BY DEFAULT,
 * unmodified: the module a container of the example app gets, given only the environment contract (host, port,
 * vhost, CA, credentials) of the local servers. Queue types, dead letters and TLS are read from rabbitmqctl, never
 * from the client. Each run gets a vhost of its own, so runs share no queue.
 */
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { copyFileSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { App } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import { CeleryBroker, CeleryResultBackend, CeleryTransport, RedisAuth } from '../../lib/cdk';
import { CeleryRole, DEFAULTS } from '../../lib/core';
import { RabbitMqUsersProperties, createHandler, createInvocationHandler } from '../../lib/handlers/rabbitmq-users';
import { ManagementApi, exchangePath, vhostPath } from '../../lib/handlers/rabbitmq-users/management';
import { DevEnvironment } from '../../lib/dev/environment';
import { createCertificateAuthority, writeCertificate } from '../../lib/dev/pki';
import { waitFor } from '../../lib/dev/process';
import { DEFAULT_STACK_ROOT, ServerStack } from '../../lib/dev/stack';
import { OLD_TLS, Worker, cleanup, devUp, produce, pythonEnv, relay, runDir, sClient, scratch } from './harness';
import { CeleryTlsExampleStack } from '../../examples/cdk/stack';
import { CeleryTlsExampleStack as TerraformExampleStack } from '../../examples/cdktf/stack';
import { Testing } from 'cdktf';

const ROOT = process.env.CELERY_TLS_STACK_ROOT ?? DEFAULT_STACK_ROOT;
const N = 1000;
// The worker command of the README and the example task definition: no flag added for the tests.
const DOCUMENTED_FLAGS: string[] = [];

afterAll(cleanup);

/** The settings module the CDK side renders for a role: the example app's (its defaults), or a variant's. */
function productionSettings(
  role: CeleryRole,
  variant: 'example' | 'redis-broker' | 'rabbitmq-4.3',
  name: string,
): string {
  const app = new App();
  let transport: CeleryTransport;
  if (variant === 'example') {
    transport = new CeleryTlsExampleStack(app, 'Example').transport;
  } else {
    const stack = new CeleryTlsExampleStack(app, 'Variant');
    const vpc = stack.node.findChild('Vpc') as ec2.Vpc;
    transport =
      variant === 'redis-broker'
        ? new CeleryTransport(stack, 'RedisBroker', {
            vpc,
            broker: CeleryBroker.redis({ authToken: RedisAuth.rbacUsers() }),
            resultBackend: CeleryResultBackend.sharedWithRedisBroker(),
          })
        : new CeleryTransport(stack, 'Rabbit43', {
            vpc,
            broker: CeleryBroker.rabbitMq({ engineVersion: '4.3' }),
            resultBackend: CeleryResultBackend.redis({ authToken: RedisAuth.rbacUsers() }),
          });
  }
  const file = join(scratch(`${name}-${role}`), 'celeryconfig.py');
  writeFileSync(file, transport.celeryConfigFor(role).toPythonModule(`${variant} (${role})`));
  return file;
}

let runs = 0;

/**
 * The users custom resource of the example app, as synthesized: its properties with the deploy-time values (the
 * management URL, secret ARNs) replaced by the local server's, and a vhost of its own for each run.
 */
function usersResourceProperties(): RabbitMqUsersProperties {
  const template = Template.fromStack(new CeleryTlsExampleStack(new App(), 'UsersExample')).toJSON();
  const [resource] = Object.values<any>(template.Resources).filter((r) => r.Type === 'Custom::CeleryRabbitMqUsers');
  const { ServiceToken: _token, ServiceTimeout: _timeout, ...properties } = resource.Properties;
  return properties;
}

/** The Terraform example's users input: the `aws_lambda_invocation` input of cdk.tf.json (apply-time values masked). */
function terraformUsersInput(): RabbitMqUsersProperties {
  const json = JSON.parse(Testing.synth(new TerraformExampleStack(Testing.app(), 'celery-tls-example')));
  const [invocation] = Object.values<any>(json.resource.aws_lambda_invocation);
  expect(invocation.lifecycle_scope).toBe('CRUD');
  // Apply-time values are `${...}` templates inside the JSON text; the run sets the URL and the ARNs itself.
  return JSON.parse(String(invocation.input).replace(/\$\{[^}]*\}/g, 'apply-time'));
}

/** The Terraform example's settings module for a role. */
function terraformSettings(role: CeleryRole): string {
  const stack = new TerraformExampleStack(Testing.app(), 'celery-tls-example');
  const file = join(scratch(`terraform-${role}`), 'celeryconfig.py');
  writeFileSync(file, stack.transport.celeryConfigFor(role).toPythonModule(`terraform example (${role})`));
  return file;
}

interface RabbitRun {
  readonly vhost: string;
  /** The environment contract of a role's container, pointing at this run's vhost. */
  environment(role: CeleryRole, overrides?: Record<string, string>): Record<string, string>;
  /** Removes what the run set up, as a stack's destroy does. */
  destroy(): Promise<void>;
}

/**
 * Sets up a run's vhost the way a deployment does: the users custom resource's handler, with the example's
 * properties, against RabbitMQ's management API (vhost, producer and worker users, permissions, dead-letter policy).
 */
async function rabbitRun(
  env: DevEnvironment,
  template: RabbitMqUsersProperties,
  before?: (vhost: string) => Promise<void>,
  via: 'cloudformation' | 'terraform' = 'cloudformation',
): Promise<RabbitRun> {
  const vhost = `run-${++runs}`;
  if (before) await before(vhost);
  const s = env.state;
  const secrets: Record<string, string> = {
    'arn:admin': JSON.stringify({ username: s.rabbitmq!.adminUsername, password: env.password('rabbitmq-admin') }),
  };
  const passwords = {} as Record<CeleryRole, { username: string; password: string }>;
  const users = template.Users.map((u) => {
    const role =
      u.Name === DEFAULTS.rabbitmq.applicationUsers.producerUsername ? CeleryRole.PRODUCER : CeleryRole.WORKER;
    passwords[role] = { username: u.Name, password: `${randomBytes(12).toString('base64url')}/+%@:!` };
    secrets[`arn:${u.Name}`] = JSON.stringify(passwords[role]);
    return { ...u, PasswordSecretArn: `arn:${u.Name}` };
  });
  const deps = { getSecret: async (arn: string) => secrets[arn], log: () => undefined };
  const properties: RabbitMqUsersProperties = {
    ...template,
    ManagementUrl: managementUrl(env),
    AdminSecretArn: 'arn:admin',
    CaBundle: readFileSync(s.caFile, 'utf8'),
    Vhost: vhost,
    Users: users,
  };
  // CloudFormation's custom-resource events, or Terraform's CRUD invocations: the same bundle, two entry points.
  const onEvent = createHandler(deps);
  const onInvocation = createInvocationHandler(deps);
  if (via === 'terraform') await onInvocation({ ...properties, tf: { action: 'create', prev_input: null } });
  else await onEvent({ RequestType: 'Create', ResourceProperties: properties });
  return {
    vhost,
    destroy: async () => {
      if (via === 'terraform') await onInvocation({ ...properties, tf: { action: 'delete', prev_input: properties } });
      else
        await onEvent({
          RequestType: 'Delete',
          ResourceProperties: properties,
          PhysicalResourceId: `rabbitmq-users:${vhost}`,
        });
    },
    environment: (role, overrides = {}) => ({
      CELERY_TLS_BROKER_HOST: s.host,
      CELERY_TLS_BROKER_PORT: String(s.rabbitmq!.tlsPort),
      CELERY_TLS_BROKER_VHOST: vhost,
      CELERY_TLS_BROKER_CA_CERTS: s.caFile,
      // ECS injects the whole secret: the user name rotates with the password (alternating users).
      CELERY_TLS_BROKER_CREDENTIALS: JSON.stringify(passwords[role]),
      ...backendEnvironment(env, 'CELERY_TLS_RESULT_BACKEND_', 0),
      ...overrides,
    }),
  };
}

function managementUrl(env: DevEnvironment): string {
  return `https://${env.state.host}:${env.state.rabbitmq!.managementPort}`;
}

/** What settings before native delayed delivery left on a vhost: Celery's default exchange, declared direct. */
async function directCeleryExchange(env: DevEnvironment, vhost: string): Promise<void> {
  const api = new ManagementApi(
    managementUrl(env),
    { username: env.state.rabbitmq!.adminUsername, password: env.password('rabbitmq-admin') },
    readFileSync(env.state.caFile, 'utf8'),
    10_000,
    () => undefined,
    [],
  );
  await api.request('PUT', vhostPath(vhost), {});
  await api.request('PUT', exchangePath(vhost, 'celery'), { type: 'direct', durable: true, auto_delete: false });
}

function backendEnvironment(env: DevEnvironment, prefix: string, db: number): Record<string, string> {
  const s = env.state;
  return {
    [`${prefix}HOST`]: s.host,
    [`${prefix}PORT`]: String(s.redis!.tlsPort),
    [`${prefix}DB`]: String(db),
    [`${prefix}USERNAME`]: s.redis!.username,
    [`${prefix}PASSWORD`]: env.password('redis'),
    [`${prefix}CA_CERTS`]: s.caFile,
  };
}

function worker(settings: string, environment: Record<string, string>, name: string, stack: ServerStack): Worker {
  return new Worker(runDir(settings, `${name}-worker`), environment, '', {
    stack,
    flags: DOCUMENTED_FLAGS,
    consumeQueue: false,
  }).start();
}

function json<T>(text: string): T {
  return JSON.parse(text.slice(text.indexOf('[')));
}

function queues(env: DevEnvironment, vhost: string): { name: string; type: string; messages: number }[] {
  return json(env.rabbitMqServer().ctl('list_queues', '-p', vhost, 'name', 'type', 'messages', '--formatter', 'json'));
}

function connections(env: DevEnvironment): { ssl: boolean; vhost: string; user: string; ssl_protocol: string }[] {
  return json(
    env.rabbitMqServer().ctl('list_connections', 'ssl', 'ssl_protocol', 'vhost', 'user', '--formatter', 'json'),
  );
}

async function stopAfter<T>(w: Worker, body: () => Promise<T>): Promise<T> {
  try {
    return await body();
  } finally {
    await w.stop();
  }
}

describe(`current stack (${ROOT}): RabbitMQ 4, Valkey 8, Celery 5.5 with the default settings`, () => {
  let env: DevEnvironment;
  let stack: ServerStack;
  const settings: Partial<Record<string, string>> = {};
  const file = (variant: 'example' | 'redis-broker' | 'rabbitmq-4.3', role: CeleryRole) =>
    (settings[`${variant}-${role}`] ??= productionSettings(role, variant, variant));

  let users: RabbitMqUsersProperties;
  beforeAll(async () => {
    users = usersResourceProperties();
    env = await devUp({ name: 'current', stackRoot: ROOT, adminUsers: true });
    stack = env.stack();
    expect(stack.versions.rabbitmq).toMatch(/^4\./);
    expect(stack.versions.celery).toMatch(/^5\.5\./);
    expect(env.state.redis!.engine).toBe('valkey');
    expect(env.state.redis!.version).toMatch(/^8\./);
    console.log(
      `current stack: rabbitmq ${stack.versions.rabbitmq}, valkey ${stack.versions.redis}, celery ${stack.versions.celery}, kombu ${stack.versions.kombu}, redis-py ${stack.versions.redisPy}`,
    );
  });

  test(`the example's settings: ${N}/${N} results, the queue is quorum and every connection is TLS (rabbitmqctl)`, async () => {
    const run = await rabbitRun(env, users);
    const { vhost } = run;
    const environment = run.environment(CeleryRole.WORKER);
    const producerEnvironment = run.environment(CeleryRole.PRODUCER);
    const w = worker(file('example', CeleryRole.WORKER), environment, 'default', stack);
    await stopAfter(w, async () => {
      await w.ready();
      const running = produce(
        runDir(file('example', CeleryRole.PRODUCER), 'default-producer'),
        producerEnvironment,
        '',
        N,
        'marker-default',
        240,
        stack,
      );
      await waitFor('100 executions', () => w.executions().size >= 100, 120_000);
      const during = connections(env).filter((c) => c.vhost === vhost);
      const result = await running;
      expect(result).toMatchObject({ sent: N, received: N, missing_count: 0, wrong: [] });
      expect(w.executions().size).toBe(N);
      // The worker's and the producer's, each as the user the custom resource made for its role, all over TLS.
      expect(new Set(during.map((c) => c.user))).toEqual(new Set(['celery-producer', 'celery-worker']));
      for (const c of during)
        expect(c).toMatchObject({ ssl: true, ssl_protocol: expect.stringMatching(/^tlsv1\.[23]$/) });
      const celery = queues(env, vhost).find((q) => q.name === 'celery');
      expect(celery).toMatchObject({ type: 'quorum' });
      expect(w.log()).not.toMatch(/delayed delivery|direct exchange/i);
      console.log(`example settings on the current stack: ${N} tasks in ${result.total_seconds}s`);
    });
  });

  test(`the Terraform example: its invocation input and settings, ${N}/${N} results as its two users over TLS; destroy removes them`, async () => {
    const run = await rabbitRun(env, terraformUsersInput(), undefined, 'terraform');
    const { vhost } = run;
    const w = worker(terraformSettings(CeleryRole.WORKER), run.environment(CeleryRole.WORKER), 'terraform', stack);
    await stopAfter(w, async () => {
      await w.ready();
      const running = produce(
        runDir(terraformSettings(CeleryRole.PRODUCER), 'terraform-producer'),
        run.environment(CeleryRole.PRODUCER),
        '',
        N,
        'marker-terraform',
        240,
        stack,
      );
      await waitFor('100 executions', () => w.executions().size >= 100, 120_000);
      const during = connections(env).filter((c) => c.vhost === vhost);
      const result = await running;
      expect(result).toMatchObject({ sent: N, received: N, missing_count: 0, wrong: [] });
      expect(new Set(during.map((c) => c.user))).toEqual(new Set(['celery-producer', 'celery-worker']));
      for (const c of during) expect(c).toMatchObject({ ssl: true });
      expect(queues(env, vhost).find((q) => q.name === 'celery')).toMatchObject({ type: 'quorum' });
      console.log(`Terraform example settings on the current stack: ${N} tasks in ${result.total_seconds}s`);
    });
    // terraform destroy: the invocation's delete removes the users and the vhost (rabbitmqctl).
    await run.destroy();
    const users = json<{ user: string }[]>(env.rabbitMqServer().ctl('list_users', '--formatter', 'json')).map(
      (u) => u.user,
    );
    expect(users).not.toContain('celery-producer');
    expect(users).not.toContain('celery-worker');
    const vhosts = json<{ name: string }[]>(env.rabbitMqServer().ctl('list_vhosts', '--formatter', 'json')).map(
      (v) => v.name,
    );
    expect(vhosts).not.toContain(vhost);
  });

  test('countdown tasks wait in the broker: 10 immediate tasks finish in under 2 s behind 4 with countdown=20', async () => {
    const run = await rabbitRun(env, users);
    const { vhost } = run;
    const environment = run.environment(CeleryRole.WORKER);
    const producerEnvironment = run.environment(CeleryRole.PRODUCER);
    const w = worker(file('example', CeleryRole.WORKER), environment, 'countdown', stack);
    await stopAfter(w, async () => {
      await w.ready();
      const dir = runDir(file('example', CeleryRole.PRODUCER), 'countdown-producer');
      const delayed = produce(dir, producerEnvironment, '', 4, 'marker-delayed', 90, stack, 20);
      const sentAt = Date.now();
      // Native delayed delivery: the four wait in kombu's celery_delayed_* queues, not unacknowledged in the worker.
      await waitFor(
        '4 messages in celery_delayed_* queues',
        () =>
          queues(env, vhost)
            .filter((q) => q.name.startsWith('celery_delayed_'))
            .reduce((n, q) => n + q.messages, 0) === 4,
        30_000,
        250,
      );
      const immediate = await produce(dir, producerEnvironment, '', 10, 'marker-immediate', 30, stack);
      expect(immediate).toMatchObject({ received: 10, missing_count: 0 });
      expect(immediate.total_seconds).toBeLessThan(2);
      const later = await delayed;
      expect(later).toMatchObject({ received: 4, missing_count: 0 });
      expect(Date.now() - sentAt).toBeGreaterThanOrEqual(19_000);
      // A countdown under a second (Celery 5.5.2 raises ValueError for it without the settings' rounding).
      const subsecond = await produce(dir, producerEnvironment, '', 3, 'marker-subsecond', 30, stack, 0.5);
      expect(subsecond).toMatchObject({ received: 3, missing_count: 0 });
      console.log(
        `countdown: 10 immediate tasks in ${immediate.total_seconds}s behind 4 delayed ones; the delayed ones after ${later.total_seconds}s`,
      );
    });
  });

  test('upgrade: a vhost whose "celery" exchange is direct (earlier settings) refuses today\'s workers until the custom resource replaces it', async () => {
    // Control: today's settings against the exchange as earlier settings left it, without the custom resource.
    let vhost = '';
    const stale = await rabbitRun(env, { ...users, ReplaceDirectExchanges: undefined }, async (v) =>
      directCeleryExchange(env, (vhost = v)),
    );
    const refused = worker(
      file('example', CeleryRole.WORKER),
      stale.environment(CeleryRole.WORKER),
      'stale-exchange',
      stack,
    );
    await stopAfter(refused, async () => {
      expect(
        await refused.logMatches(/PRECONDITION_FAILED - inequivalent arg 'type' for exchange 'celery'/, 60_000),
      ).not.toMatch(/ready\.\s*$/m);
    });
    // The custom resource as synthesized (ReplaceDirectExchanges ["celery"]) on the same kind of vhost.
    const run = await rabbitRun(env, users, async (v) => directCeleryExchange(env, (vhost = v)));
    const w = worker(
      file('example', CeleryRole.WORKER),
      run.environment(CeleryRole.WORKER),
      'replaced-exchange',
      stack,
    );
    await stopAfter(w, async () => {
      await w.ready();
      const result = await produce(
        runDir(file('example', CeleryRole.PRODUCER), 'replaced-exchange-producer'),
        run.environment(CeleryRole.PRODUCER),
        '',
        20,
        'marker-replaced',
        60,
        stack,
        1,
      );
      expect(result).toMatchObject({ received: 20, missing_count: 0 });
      const exchanges: { name: string; type: string }[] = json(
        env.rabbitMqServer().ctl('list_exchanges', '-p', vhost, 'name', 'type', '--formatter', 'json'),
      );
      expect(exchanges.find((x) => x.name === 'celery')).toMatchObject({ type: 'topic' });
    });
  });

  test('a task that kills its worker process ends in the dead-letter queue the custom resource set up (rabbitmqctl)', async () => {
    const run = await rabbitRun(env, users);
    const { vhost } = run;
    const environment = run.environment(CeleryRole.WORKER);
    const producerEnvironment = run.environment(CeleryRole.PRODUCER);
    const w = worker(file('example', CeleryRole.WORKER), environment, 'poison', stack);
    await stopAfter(w, async () => {
      await w.ready();
      const dir = runDir(file('example', CeleryRole.PRODUCER), 'poison-producer');
      const c = stack.command(stack.python, [join(dir, 'send.py'), 'e2e.poison_task', '1']);
      const sent = spawnSync(c.command, c.args, {
        cwd: dir,
        env: pythonEnv(dir, producerEnvironment),
        encoding: 'utf8',
        timeout: 60_000,
      });
      expect(sent.status).toBe(0);
      const dlq = DEFAULTS.rabbitmq.deadLetter.queue;
      // Queue statistics lag by a few seconds: wait for the counts the dead-lettering leaves.
      const counts = () =>
        Object.fromEntries(
          queues(env, vhost)
            .filter((q) => q.name === dlq || q.name === 'celery')
            .map((q) => [q.name, q.messages]),
        );
      await waitFor(
        `the poison task in ${dlq} and not in celery`,
        () => {
          const c = counts();
          return c.celery === 0 && c[dlq] === 1;
        },
        120_000,
        500,
      );
      const runsOfIt = w.executions().get(0) ?? 0;
      expect(runsOfIt).toBe(DEFAULTS.rabbitmq.deadLetter.deliveryLimit + 1);
      console.log(`poison task: ran ${runsOfIt} times, then dead-lettered to ${dlq}`);
    });
  });

  test('a rogue result-backend CA: the worker exits non-zero within 30 s and says why (start-up check)', async () => {
    const rogue = writeCertificate(
      join(scratch('rogue'), 'rogue-ca'),
      await createCertificateAuthority('rogue CA'),
    ).certFile;
    const environment = (await rabbitRun(env, users)).environment(CeleryRole.WORKER, {
      CELERY_TLS_RESULT_BACKEND_CA_CERTS: rogue,
    });
    const started = Date.now();
    const w = worker(file('example', CeleryRole.WORKER), environment, 'rogue-backend', stack);
    const code = await w.exitCode(30_000);
    expect(Date.now() - started).toBeLessThan(30_000);
    expect(code).not.toBe(0);
    expect(w.log()).toMatch(
      /CeleryTLSConfigError: start-up check: the result backend cannot be reached over verified TLS \(.*certificate verify failed/,
    );
    expect(w.log()).not.toMatch(/ready\.\s*$/m);
  });

  test('refused: a rogue broker CA, a host name not in the certificate, a plaintext CELERY_BROKER_URL', async () => {
    const rogue = writeCertificate(
      join(scratch('rogue-broker'), 'rogue-ca'),
      await createCertificateAuthority('rogue CA'),
    ).certFile;
    const port = await relay('127.0.0.2', env.state.rabbitmq!.tlsPort);
    const cases: [string, Record<string, string>, RegExp][] = [
      [
        'rogue-broker',
        { CELERY_TLS_BROKER_CA_CERTS: rogue },
        /the broker cannot be reached over verified TLS \(.*certificate verify failed/,
      ],
      [
        'wrong-host',
        { CELERY_TLS_BROKER_HOST: '127.0.0.2', CELERY_TLS_BROKER_PORT: String(port) },
        /the broker cannot be reached over verified TLS \(.*IP address mismatch/,
      ],
      [
        'plaintext',
        { CELERY_BROKER_URL: `amqp://celery:x@localhost:${env.state.rabbitmq!.tlsPort}/celery` },
        /CeleryTLSConfigError: The environment variable CELERY_BROKER_URL uses amqp:\/\//,
      ],
    ];
    for (const [name, overrides, reason] of cases) {
      const w = worker(
        file('example', CeleryRole.WORKER),
        (await rabbitRun(env, users)).environment(CeleryRole.WORKER, overrides),
        name,
        stack,
      );
      expect(await w.exitCode(45_000)).not.toBe(0);
      expect(w.log()).toMatch(reason);
      expect(w.log()).not.toMatch(/ready\.\s*$/m);
    }
  });

  test('TLS 1.0 and 1.1 are refused by RabbitMQ 4 and Valkey 8; TLS 1.2 works', () => {
    for (const port of [env.state.rabbitmq!.tlsPort, env.state.redis!.tlsPort]) {
      for (const flags of OLD_TLS) {
        const r = sClient(port, env.state.caFile, flags);
        expect(r.status).not.toBe(0);
        expect(r.stdout).toMatch(/Cipher is \(NONE\)/);
      }
      expect(sClient(port, env.state.caFile, ['-tls1_2', '-verify_return_error']).stdout).toMatch(
        /Verify return code: 0 \(ok\)/,
      );
    }
  });

  describe('restarts in the middle of a run: no task lost', () => {
    for (const server of ['rabbitmq', 'valkey'] as const) {
      test(`${server} restart`, async () => {
        const run = await rabbitRun(env, users);
        const environment = run.environment(CeleryRole.WORKER);
        const producerEnvironment = run.environment(CeleryRole.PRODUCER);
        const w = worker(
          file('example', CeleryRole.WORKER),
          { ...environment, E2E_TASK_SECONDS: '0.02' },
          `${server}-restart`,
          stack,
        );
        await stopAfter(w, async () => {
          await w.ready();
          const running = produce(
            runDir(file('example', CeleryRole.PRODUCER), `${server}-restart-producer`),
            producerEnvironment,
            '',
            N,
            `marker-${server}-restart`,
            280,
            stack,
          );
          running.catch(() => undefined);
          await waitFor('250 executions', () => w.executions().size >= 250, 120_000);
          if (server === 'rabbitmq') {
            const r = env.rabbitMqServer();
            await r.restart();
            env.savePids({ rabbitmq: r.pid });
          } else {
            const r = env.redisServer();
            await r.restart();
            env.savePids({ redis: r.pid });
          }
          // The server was down while tasks were still waiting: the restart happened in the middle of the run.
          const atRestart = w.executions().size;
          expect(atRestart).toBeLessThan(N);
          const result = await running;
          expect(result).toMatchObject({ received: N, missing_count: 0, wrong: [] });
          expect(w.executions().size).toBe(N);
          console.log(
            `${server} restart on the current stack: back after ${atRestart} tasks, ${result.received}/${N} in ${result.total_seconds}s`,
          );
        });
      }, 400_000);
    }
  });

  test(`a Valkey password rotated under a running worker reaches its new connections without a restart (secret read by ARN): ${N}/${N}`, async () => {
    const run = await rabbitRun(env, users);
    const s = env.state;
    const arn = 'arn:aws:secretsmanager:eu-west-1:111122223333:secret:celery-result-backend-AbCdEf';
    const files = scratch('rotation');
    const secretsFile = join(files, 'secrets.json');
    const callsFile = join(files, 'calls.log');
    const original = env.password('redis');
    const rotated = `${randomBytes(12).toString('base64url')}rotated`;
    const store = (password: string) =>
      writeFileSync(secretsFile, JSON.stringify({ [arn]: JSON.stringify({ username: s.redis!.username, password }) }));
    store(original);
    // The secret by ARN instead of an injected password; boto3 is the file-backed stand-in (no Secrets Manager here).
    const byArn = (role: CeleryRole) => {
      const { CELERY_TLS_RESULT_BACKEND_PASSWORD: _injected, ...rest } = run.environment(role);
      return {
        ...rest,
        CELERY_TLS_RESULT_BACKEND_SECRET_ARN: arn,
        CELERY_TLS_RESULT_BACKEND_SECRET_REFRESH_SECONDS: '1',
        STUB_SECRETS_FILE: secretsFile,
        STUB_CALLS_FILE: callsFile,
      };
    };
    const withStub = (dir: string) => {
      mkdirSync(join(dir, 'boto3'));
      copyFileSync(
        join(__dirname, '..', 'fixtures', 'stub-boto3', 'boto3', '__init__.py'),
        join(dir, 'boto3', '__init__.py'),
      );
      return dir;
    };
    // Commands on standard input after AUTH, so that no password shows in a process list.
    // As the rotation function does with ModifyUser: an administrator changes the Celery user's passwords.
    const valkeyCli = (...args: string[]) => {
      const c = stack.command('/usr/bin/valkey-cli', [
        '--tls',
        '--cacert',
        s.caFile,
        '-h',
        s.host,
        '-p',
        String(s.redis!.tlsPort),
      ]);
      const r = spawnSync(c.command, c.args, {
        encoding: 'utf8',
        timeout: 20_000,
        input: `AUTH ${s.redis!.adminUsername} "${env.password('redis-admin')}"\n${args.map((a) => `"${a}"`).join(' ')}\n`,
      });
      const [auth, answer] = r.stdout.trim().split('\n');
      if (r.status !== 0 || auth !== 'OK' || /ERR|NOAUTH|WRONGPASS|NOPERM/.test(answer ?? ''))
        throw new Error(`valkey-cli ${args[0]}: ${r.stdout}${r.stderr}`);
      return answer;
    };
    const w = new Worker(
      withStub(runDir(file('example', CeleryRole.WORKER), 'rotation-worker')),
      byArn(CeleryRole.WORKER),
      '',
      { stack, flags: DOCUMENTED_FLAGS, consumeQueue: false },
    ).start();
    try {
      await stopAfter(w, async () => {
        await w.ready();
        const producerDir = withStub(runDir(file('example', CeleryRole.PRODUCER), 'rotation-producer'));
        const before = await produce(
          producerDir,
          byArn(CeleryRole.PRODUCER),
          '',
          200,
          'marker-before-rotation',
          60,
          stack,
        );
        expect(before).toMatchObject({ received: 200, missing_count: 0 });
        // ElastiCache's two-password rotation, then the old password removed and every connection dropped: the
        // running worker's processes can only store results if they read the new password for their new connections.
        valkeyCli('ACL', 'SETUSER', s.redis!.username, `>${rotated}`);
        store(rotated);
        await new Promise((r) => setTimeout(r, 1500));
        valkeyCli('ACL', 'SETUSER', s.redis!.username, `<${original}`);
        const killed = Number(valkeyCli('CLIENT', 'KILL', 'USER', s.redis!.username));
        expect(killed).toBeGreaterThanOrEqual(2);
        const after = await produce(producerDir, byArn(CeleryRole.PRODUCER), '', N, 'marker-after-rotation', 90, stack);
        expect(after).toMatchObject({ received: N, missing_count: 0, wrong: [] });
        const reads = readFileSync(callsFile, 'utf8')
          .split('\n')
          .filter((l) => l.includes(arn)).length;
        expect(reads).toBeGreaterThan(3); // the worker's and both producers' first reads, then re-reads for new connections
        console.log(
          `rotation: ${killed} connections dropped, then ${after.received}/${N} results from the same worker; ${reads} secret reads`,
        );
      });
    } finally {
      // Back to the environment's own password, for whatever runs next.
      valkeyCli('ACL', 'SETUSER', s.redis!.username, `>${original}`, `<${rotated}`);
    }
  });

  test(`Valkey broker (CeleryBroker.redis with RBAC users, shared backend): ${N}/${N}`, async () => {
    const environment = {
      ...backendEnvironment(env, 'CELERY_TLS_BROKER_', 2),
      ...backendEnvironment(env, 'CELERY_TLS_RESULT_BACKEND_', 3),
    };
    const w = worker(file('redis-broker', CeleryRole.WORKER), environment, 'valkey-broker', stack);
    await stopAfter(w, async () => {
      await w.ready();
      const result = await produce(
        runDir(file('redis-broker', CeleryRole.PRODUCER), 'valkey-broker-producer'),
        environment,
        '',
        N,
        'marker-valkey-broker',
        240,
        stack,
      );
      expect(result).toMatchObject({ sent: N, received: N, missing_count: 0, wrong: [] });
      console.log(`valkey broker on the current stack: ${N} tasks in ${result.total_seconds}s`);
    });
  });
});

describe('RabbitMQ 4.3 behaviour (transient non-exclusive queues and global QoS denied)', () => {
  let env: DevEnvironment;
  let stack: ServerStack;
  let users: RabbitMqUsersProperties;
  beforeAll(async () => {
    users = usersResourceProperties();
    env = await devUp({ name: 'rabbit43', stackRoot: ROOT, rabbitMq43: true, adminUsers: true });
    stack = env.stack();
  });

  test(`settings for engineVersion 4.3, the documented worker command: ready, ${N}/${N}`, async () => {
    const run = await rabbitRun(env, users);
    const { vhost } = run;
    const environment = run.environment(CeleryRole.WORKER);
    const producerEnvironment = run.environment(CeleryRole.PRODUCER);
    const w = worker(productionSettings(CeleryRole.WORKER, 'rabbitmq-4.3', 'r43'), environment, 'r43', stack);
    await stopAfter(w, async () => {
      await w.ready();
      const result = await produce(
        runDir(productionSettings(CeleryRole.PRODUCER, 'rabbitmq-4.3', 'r43'), 'r43-producer'),
        producerEnvironment,
        '',
        N,
        'marker-r43',
        240,
        stack,
      );
      expect(result).toMatchObject({ sent: N, received: N, missing_count: 0, wrong: [] });
      expect(queues(env, vhost).find((q) => q.name === 'celery')).toMatchObject({ type: 'quorum' });
      console.log(`RabbitMQ 4.3 behaviour: ${N} tasks in ${result.total_seconds}s`);
    });
  });

  test('control: the 4.2 settings declare transient queues there, and the worker never becomes ready', async () => {
    const run = await rabbitRun(env, users);
    const environment = run.environment(CeleryRole.WORKER);
    const w = worker(
      productionSettings(CeleryRole.WORKER, 'example', 'r43-control'),
      environment,
      'r43-control',
      stack,
    );
    await stopAfter(w, async () => {
      const log = await w.logMatches(/transient_nonexcl_queues|INTERNAL_ERROR|PRECONDITION_FAILED/, 60_000);
      expect(log).not.toMatch(/ready\.\s*$/m);
    });
  });
});
