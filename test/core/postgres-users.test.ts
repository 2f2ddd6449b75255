import { createHash, createHmac } from 'node:crypto';
import {
  postgresAlternateRole,
  postgresRotationStatements,
  postgresSetupStatements,
  postgresTeardownStatements,
  quoteIdent,
  quoteLiteral,
  scramSha256Verifier,
} from '../../lib/core/postgres-users';
import { DEFAULTS } from '../../lib/core/defaults';
import { postgresUsersFunctionPlans, postgresUsersResourceProperties } from '../../lib/core/identities';
import { resolvePostgresBackendSpec } from '../../lib/core/postgres';
import { LITERAL_CONTEXT } from '../../lib/core/errors';

const LAYOUT = {
  database: DEFAULTS.postgres.database,
  schema: DEFAULTS.postgres.schema,
  users: {
    worker: { name: DEFAULTS.postgres.users.worker, password: 'WorkerPassw0rdCoreTestA' },
    producer: { name: DEFAULTS.postgres.users.producer, password: 'ProducerPassw0rdCoreTestB' },
  },
};

describe('scramSha256Verifier', () => {
  test('matches what PostgreSQL 15 stored for the same password and salt (ALTER ROLE ... PASSWORD, pg_authid)', () => {
    // GIVEN the verifier a real server computed (password_encryption = scram-sha-256)
    const fromServer =
      'SCRAM-SHA-256$4096:U000TQaSM3msc6w7JSWpYA==$i8zF4B6ylCz2tEY+rguBiS9Qji2XpECtDDQxKsaQ7c0=:Ae7wB5hiYiFbd02JFXChSt0mXahVwFek24NgSGMS9Kk=';
    const salt = Buffer.from('U000TQaSM3msc6w7JSWpYA==', 'base64');
    // THEN
    expect(scramSha256Verifier('correct horse battery staple', salt)).toBe(fromServer);
    expect(scramSha256Verifier('correct horse battery stapl3', salt)).not.toBe(fromServer);
  });

  test('its keys prove the RFC 7677 example exchange (user "user", password "pencil")', () => {
    // GIVEN the exchange of RFC 7677 section 3
    const salt = Buffer.from('W22ZaJ0SNY7soEsUEjb6gQ==', 'base64');
    const nonce = 'rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0';
    const authMessage = `n=user,r=rOprNGfwEbeRWgbNEkqO,r=${nonce},s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096,c=biws,r=${nonce}`;
    const clientProof = Buffer.from('dHzbZapWIk4jUhN+Ute9ytag9zjfMHgsqmmiz7AndVQ=', 'base64');
    // WHEN
    const [, keys] = scramSha256Verifier('pencil', salt).split('$').slice(1);
    const [storedKey, serverKey] = keys.split(':').map((k) => Buffer.from(k, 'base64'));
    // THEN the server signature is the RFC's, and the client proof recovers a client key that hashes to StoredKey
    expect(createHmac('sha256', serverKey).update(authMessage).digest('base64')).toBe(
      '6rriTRBi23WpRR/wtup+mMhUZUn/dB5nLTJRsjl95G4=',
    );
    const clientSignature = createHmac('sha256', storedKey).update(authMessage).digest();
    const clientKey = Buffer.from(clientProof.map((b, i) => b ^ clientSignature[i]));
    expect(createHash('sha256').update(clientKey).digest().equals(storedKey)).toBe(true);
  });

  test('a random 16-byte salt by default; non-ASCII and empty passwords refused', () => {
    const a = scramSha256Verifier('same');
    const b = scramSha256Verifier('same');
    expect(a).not.toBe(b);
    expect(Buffer.from(a.split('$')[1].split(':')[1], 'base64')).toHaveLength(16);
    expect(() => scramSha256Verifier('pässword')).toThrow(/non-ASCII/);
    expect(() => scramSha256Verifier('')).toThrow(/non-empty/);
  });
});

describe('quoting', () => {
  test.each([
    ['celery', '"celery"'],
    ['we"ird', '"we""ird"'],
    ['Upper Case', '"Upper Case"'],
  ])('quoteIdent(%j) is %s', (name, quoted) => expect(quoteIdent(name)).toBe(quoted));

  test('identifiers that PostgreSQL would truncate or cannot hold are refused', () => {
    expect(() => quoteIdent('x'.repeat(64))).toThrow(/longer than 63 bytes/);
    expect(() => quoteIdent('')).toThrow(/non-empty/);
    expect(() => quoteIdent('a\0b')).toThrow(/NUL/);
  });

  test.each([
    ["it's", "'it''s'"],
    ['back\\slash', "E'back\\\\slash'"],
    ['plain', "'plain'"],
  ])('quoteLiteral(%j) is %s', (value, quoted) => expect(quoteLiteral(value)).toBe(quoted));
});

describe('postgresSetupStatements', () => {
  const statements = postgresSetupStatements(LAYOUT);

  test('no password appears in any statement; each role gets a SCRAM verifier', () => {
    const sql = statements.join('\n');
    expect(sql).not.toContain(LAYOUT.users.worker.password);
    expect(sql).not.toContain(LAYOUT.users.producer.password);
    expect(sql.match(/PASSWORD 'SCRAM-SHA-256\$4096:[A-Za-z0-9+/=]+\$[A-Za-z0-9+/=]+:[A-Za-z0-9+/=]+'/g)).toHaveLength(
      2,
    );
  });

  test('the grants are exactly the contract (and nothing grants CREATE or TEMPORARY)', () => {
    const grants = statements.filter((s) => s.startsWith('GRANT'));
    // Each role and its rotation twin get the same grants.
    const w = '"celery_worker", "celery_worker_alt"';
    const p = '"celery_producer", "celery_producer_alt"';
    expect(grants).toEqual([
      `GRANT CONNECT ON DATABASE "celery" TO ${w}, ${p}`,
      `GRANT USAGE ON SCHEMA "celery" TO ${w}, ${p}`,
      `GRANT SELECT, INSERT, UPDATE, DELETE ON "celery"."celery_taskmeta", "celery"."celery_tasksetmeta" TO ${w}`,
      `GRANT USAGE, SELECT ON SEQUENCE "celery"."task_id_sequence", "celery"."taskset_id_sequence" TO ${w}`,
      `GRANT SELECT, DELETE ON "celery"."celery_taskmeta" TO ${p}`,
      `GRANT SELECT, INSERT, DELETE ON "celery"."celery_tasksetmeta" TO ${p}`,
      `GRANT USAGE, SELECT ON SEQUENCE "celery"."taskset_id_sequence" TO ${p}`,
    ]);
    expect(statements[0]).toBe('REVOKE ALL ON DATABASE "celery" FROM PUBLIC');
  });

  test('the role the secret names gets the verifier; its twin is made LOGIN and keeps its own password', () => {
    const alters = (layout: typeof LAYOUT & { users: { worker: { current?: string } } }) =>
      postgresSetupStatements(layout)
        .filter((s) => s.startsWith('ALTER ROLE'))
        .map((s) => s.replace(/'SCRAM-SHA-256\$[^']+'/, "'<verifier>'"));
    const plain = 'WITH LOGIN NOCREATEDB NOCREATEROLE';
    expect(alters(LAYOUT)).toEqual([
      `ALTER ROLE "celery_worker" ${plain} PASSWORD '<verifier>'`,
      `ALTER ROLE "celery_worker_alt" ${plain}`,
      `ALTER ROLE "celery_producer" ${plain} PASSWORD '<verifier>'`,
      `ALTER ROLE "celery_producer_alt" ${plain}`,
    ]);
    const rotated = {
      ...LAYOUT,
      users: { ...LAYOUT.users, worker: { ...LAYOUT.users.worker, current: 'celery_worker_alt' } },
    };
    expect(alters(rotated).slice(0, 2)).toEqual([
      `ALTER ROLE "celery_worker" ${plain}`,
      `ALTER ROLE "celery_worker_alt" ${plain} PASSWORD '<verifier>'`,
    ]);
    const stray = { ...LAYOUT, users: { ...LAYOUT.users, worker: { ...LAYOUT.users.worker, current: 'someone' } } };
    expect(() => postgresSetupStatements(stray)).toThrow(
      /names "someone", neither celery_worker nor its rotation twin/,
    );
  });

  test('a role named like a twin, or too long for one, is refused', () => {
    const named = (name: string) => ({ ...LAYOUT, users: { ...LAYOUT.users, worker: { name, password: 'x' } } });
    expect(() => postgresSetupStatements(named('celery_worker_alt'))).toThrow(
      /ends with "_alt", which names the rotation twin/,
    );
    expect(() => postgresSetupStatements(named('r'.repeat(60)))).toThrow(
      /too long for its rotation twin "<role>_alt" \(63 bytes at most\)/,
    );
    expect(() => postgresSetupStatements(named('r'.repeat(59)))).not.toThrow();
  });

  test('names are quoted as identifiers and literals (a quote in a role name stays inside it)', () => {
    const sql = postgresSetupStatements({
      ...LAYOUT,
      users: { ...LAYOUT.users, worker: { name: `w"o'rker`, password: 'x' } },
    }).join('\n');
    expect(sql).toContain(`CREATE ROLE "w""o'rker" LOGIN`);
    expect(sql).toContain(`rolname = 'w"o''rker'`);
  });

  test('the same role twice, the public schema and a dollar tag in a name are refused', () => {
    const same = { ...LAYOUT, users: { worker: LAYOUT.users.worker, producer: { ...LAYOUT.users.worker } } };
    expect(() => postgresSetupStatements(same)).toThrow(/both celery_worker/);
    expect(() => postgresSetupStatements({ ...LAYOUT, schema: 'public' })).toThrow(/reserved/);
    expect(() =>
      postgresSetupStatements({
        ...LAYOUT,
        users: { ...LAYOUT.users, producer: { name: 'a$celery_tls$b', password: 'x' } },
      }),
    ).toThrow(/\$celery_tls\$/);
  });
});

describe('postgresTeardownStatements', () => {
  test('drops both roles (when they exist) and never a table, a sequence or the schema', () => {
    const statements = postgresTeardownStatements(LAYOUT);
    expect(statements).toHaveLength(4);
    expect(statements[0]).toContain('DROP ROLE "celery_worker";');
    expect(statements[1]).toContain('DROP ROLE "celery_worker_alt";');
    expect(statements[2]).toContain('DROP ROLE "celery_producer";');
    expect(statements[3]).toContain('DROP ROLE "celery_producer_alt";');
    expect(statements.join('\n')).not.toMatch(/DROP (TABLE|SEQUENCE|SCHEMA|OWNED)/);
  });
});

describe('rotation twins', () => {
  test('postgresAlternateRole alternates a role and its twin', () => {
    expect(postgresAlternateRole('celery_worker')).toBe('celery_worker_alt');
    expect(postgresAlternateRole('celery_worker_alt')).toBe('celery_worker');
  });

  test("postgresRotationStatements: the pending role made when missing, its verifier, and its role's grants only", () => {
    const password = 'PendingPassw0rdCoreTestC';
    const args = { database: 'celery', schema: 'celery', name: 'celery_producer', password };
    const statements = postgresRotationStatements({ ...args, role: 'producer', pending: 'celery_producer_alt' });
    expect(statements.join('\n')).not.toContain(password);
    expect(statements.map((s) => s.replace(/'SCRAM-SHA-256\$4096:[^']+'/, "'<verifier>'"))).toEqual([
      `DO $celery_tls$ BEGIN IF NOT EXISTS (SELECT FROM pg_catalog.pg_roles WHERE rolname = 'celery_producer_alt') THEN CREATE ROLE "celery_producer_alt" LOGIN; END IF; END $celery_tls$`,
      `ALTER ROLE "celery_producer_alt" WITH LOGIN NOCREATEDB NOCREATEROLE PASSWORD '<verifier>'`,
      'GRANT CONNECT ON DATABASE "celery" TO "celery_producer_alt"',
      'GRANT USAGE ON SCHEMA "celery" TO "celery_producer_alt"',
      'GRANT SELECT, DELETE ON "celery"."celery_taskmeta" TO "celery_producer_alt"',
      'GRANT SELECT, INSERT, DELETE ON "celery"."celery_tasksetmeta" TO "celery_producer_alt"',
      'GRANT USAGE, SELECT ON SEQUENCE "celery"."taskset_id_sequence" TO "celery_producer_alt"',
    ]);
    const worker = postgresRotationStatements({
      ...args,
      name: 'celery_worker',
      role: 'worker',
      pending: 'celery_worker',
    });
    expect(worker.filter((s) => s.startsWith('GRANT')).slice(2)).toEqual([
      'GRANT SELECT, INSERT, UPDATE, DELETE ON "celery"."celery_taskmeta", "celery"."celery_tasksetmeta" TO "celery_worker"',
      'GRANT USAGE, SELECT ON SEQUENCE "celery"."task_id_sequence", "celery"."taskset_id_sequence" TO "celery_worker"',
    ]);
    expect(() => postgresRotationStatements({ ...args, role: 'producer', pending: 'celery_worker_alt' })).toThrow(
      /names "celery_worker_alt", neither celery_producer nor its rotation twin/,
    );
  });
});

describe('postgresUsersFunctionPlans', () => {
  const spec = { ...resolvePostgresBackendSpec({ passwordLength: 40, rotationDays: 7 }, LITERAL_CONTEXT).value! };
  const args = {
    spec,
    host: 'db.example.eu-west-1.rds.amazonaws.com',
    port: 5432,
    masterSecretArn: 'arn:aws:secretsmanager:eu-west-1:111122223333:secret:rds!db-1',
    masterKeyArn: 'arn:aws:kms:eu-west-1:111122223333:key/master',
    workerSecretArn: 'arn:aws:secretsmanager:eu-west-1:111122223333:secret:celery/worker',
    producerSecretArn: 'arn:aws:secretsmanager:eu-west-1:111122223333:secret:celery/producer',
    userKeyArn: 'arn:aws:kms:eu-west-1:111122223333:key/users',
    region: 'eu-west-1',
  };
  const viaSecretsManager = { StringEquals: { 'kms:ViaService': 'secretsmanager.eu-west-1.amazonaws.com' } };

  test('the bundle, both entry points, in the VPC; it rotates exactly the two role secrets and reads the master one', () => {
    const { users, schedule } = postgresUsersFunctionPlans(args);
    expect(users).toEqual({
      id: 'Function',
      purpose: expect.any(String),
      asset: 'postgres-users',
      handler: 'index.onEvent',
      invocationHandler: 'index.onInvocation',
      environment: {
        DB_HOST: args.host,
        DB_PORT: '5432',
        DB_NAME: 'celery',
        DB_SCHEMA: 'celery',
        MASTER_SECRET_ARN: args.masterSecretArn,
        WORKER_SECRET_ARN: args.workerSecretArn,
        WORKER_USERNAME: 'celery_worker',
        PRODUCER_SECRET_ARN: args.producerSecretArn,
        PRODUCER_USERNAME: 'celery_producer',
        PASSWORD_LENGTH: '40',
      },
      timeoutSeconds: DEFAULTS.functions.timeoutSeconds,
      inVpc: true,
      statements: [
        {
          effect: 'Allow',
          actions: [
            'secretsmanager:DescribeSecret',
            'secretsmanager:GetSecretValue',
            'secretsmanager:PutSecretValue',
            'secretsmanager:UpdateSecretVersionStage',
          ],
          resources: [args.workerSecretArn, args.producerSecretArn],
        },
        { effect: 'Allow', actions: ['secretsmanager:GetSecretValue'], resources: [args.masterSecretArn] },
        // GetRandomPassword acts on no resource: the only "*".
        { effect: 'Allow', actions: ['secretsmanager:GetRandomPassword'], resources: ['*'] },
        {
          effect: 'Allow',
          actions: ['kms:Decrypt', 'kms:GenerateDataKey'],
          resources: [args.userKeyArn],
          conditions: viaSecretsManager,
        },
        { effect: 'Allow', actions: ['kms:Decrypt'], resources: [args.masterKeyArn], conditions: viaSecretsManager },
      ],
    });
    expect(schedule).toEqual({ days: 7 });
    expect(JSON.stringify(users.environment)).not.toMatch(/password"/i);
  });

  test('without a master key ARN, or with the same key, only the users key is named (never Encrypt on the master)', () => {
    for (const masterKeyArn of [undefined, args.userKeyArn]) {
      const { users } = postgresUsersFunctionPlans({ ...args, masterKeyArn });
      expect(users.statements.filter((s) => s.actions.some((a) => a.startsWith('kms:')))).toEqual([
        {
          effect: 'Allow',
          actions: ['kms:Decrypt', 'kms:GenerateDataKey'],
          resources: [args.userKeyArn],
          conditions: viaSecretsManager,
        },
      ]);
    }
  });

  test('rotationDays defaults to 30 (DEFAULTS.postgres.rotationDays)', () => {
    const { schedule } = postgresUsersFunctionPlans({
      ...args,
      spec: resolvePostgresBackendSpec({}, LITERAL_CONTEXT).value!,
    });
    expect(schedule).toEqual({ days: 30 });
    expect(DEFAULTS.postgres.rotationDays).toBe(30);
  });

  test.each([[0], [91], [2.5]])('rotationDays %p is refused, naming the prop and the range', (days) => {
    const r = resolvePostgresBackendSpec({ rotationDays: days }, LITERAL_CONTEXT);
    expect(r.errors).toEqual([
      expect.objectContaining({
        code: 'secret.rotation-days',
        prop: 'rotationDays',
        message: expect.stringContaining(
          `rotationDays ${days} is not allowed: use a whole number of days from 1 to 90`,
        ),
      }),
    ]);
  });

  test('the resource properties carry the names of DEFAULTS.postgres and the three secrets, no secret value', () => {
    expect(
      postgresUsersResourceProperties({
        host: 'db.example',
        port: 5432,
        masterSecretArn: args.masterSecretArn,
        workerSecretArn: args.workerSecretArn,
        producerSecretArn: args.producerSecretArn,
      }),
    ).toEqual({
      Host: 'db.example',
      Port: 5432,
      Database: 'celery',
      Schema: 'celery',
      MasterSecretArn: args.masterSecretArn,
      WorkerSecretArn: args.workerSecretArn,
      ProducerSecretArn: args.producerSecretArn,
      WorkerUsername: 'celery_worker',
      ProducerUsername: 'celery_producer',
    });
  });
});
