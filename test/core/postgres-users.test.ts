import { createHash, createHmac } from 'node:crypto';
import {
  postgresSetupStatements,
  postgresTeardownStatements,
  quoteIdent,
  quoteLiteral,
  scramSha256Verifier,
} from '../../lib/core/postgres-users';
import { DEFAULTS } from '../../lib/core/defaults';
import { postgresUsersFunctionPlans, postgresUsersResourceProperties } from '../../lib/core/identities';

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
    expect(grants).toEqual([
      'GRANT CONNECT ON DATABASE "celery" TO "celery_worker", "celery_producer"',
      'GRANT USAGE ON SCHEMA "celery" TO "celery_worker", "celery_producer"',
      'GRANT SELECT, INSERT, UPDATE, DELETE ON "celery"."celery_taskmeta", "celery"."celery_tasksetmeta" TO "celery_worker"',
      'GRANT USAGE, SELECT ON SEQUENCE "celery"."task_id_sequence", "celery"."taskset_id_sequence" TO "celery_worker"',
      'GRANT SELECT, DELETE ON "celery"."celery_taskmeta" TO "celery_producer"',
      'GRANT SELECT, INSERT, DELETE ON "celery"."celery_tasksetmeta" TO "celery_producer"',
      'GRANT USAGE, SELECT ON SEQUENCE "celery"."taskset_id_sequence" TO "celery_producer"',
    ]);
    expect(statements[0]).toBe('REVOKE ALL ON DATABASE "celery" FROM PUBLIC');
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
    expect(statements).toHaveLength(2);
    expect(statements[0]).toContain('DROP ROLE "celery_worker";');
    expect(statements[1]).toContain('DROP ROLE "celery_producer";');
    expect(statements.join('\n')).not.toMatch(/DROP (TABLE|SEQUENCE|SCHEMA|OWNED)/);
  });
});

describe('postgresUsersFunctionPlans', () => {
  const args = {
    masterSecretArn: 'arn:aws:secretsmanager:eu-west-1:111122223333:secret:rds!db-1',
    masterKeyArn: 'arn:aws:kms:eu-west-1:111122223333:key/master',
    workerSecretArn: 'arn:aws:secretsmanager:eu-west-1:111122223333:secret:celery/worker',
    producerSecretArn: 'arn:aws:secretsmanager:eu-west-1:111122223333:secret:celery/producer',
    userKeyArn: 'arn:aws:kms:eu-west-1:111122223333:key/users',
    region: 'eu-west-1',
  };

  test('the bundle, both entry points, in the VPC; GetSecretValue on exactly the three secrets, Decrypt via Secrets Manager', () => {
    const { users } = postgresUsersFunctionPlans(args);
    expect(users).toEqual({
      id: 'Function',
      purpose: expect.any(String),
      asset: 'postgres-users',
      handler: 'index.onEvent',
      invocationHandler: 'index.onInvocation',
      environment: {},
      timeoutSeconds: DEFAULTS.functions.timeoutSeconds,
      inVpc: true,
      statements: [
        {
          effect: 'Allow',
          actions: ['secretsmanager:GetSecretValue'],
          resources: [args.masterSecretArn, args.workerSecretArn, args.producerSecretArn],
        },
        {
          effect: 'Allow',
          actions: ['kms:Decrypt'],
          resources: [args.userKeyArn, args.masterKeyArn],
          conditions: { StringEquals: { 'kms:ViaService': 'secretsmanager.eu-west-1.amazonaws.com' } },
        },
      ],
    });
    expect(JSON.stringify(users.statements)).not.toContain('"*"');
  });

  test('without a master key ARN only the users key is named', () => {
    const { users } = postgresUsersFunctionPlans({ ...args, masterKeyArn: undefined });
    expect(users.statements[1].resources).toEqual([args.userKeyArn]);
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
