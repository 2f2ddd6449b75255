import { CelerySecurityKeys } from '../../lib/cdktf/security-keys';
import { CeleryResultBackend, CeleryTransport } from '../../lib/cdktf/celery-transport';
import { CeleryRole } from '../../lib/core/rabbitmq-users';
import { VPC_ID, subnets, synthJson, tfStack } from './helpers';
import { identityFindings, keyAndSecretFindings, ofType, secretFindings } from './security';

const CA = 'arn:aws:acm-pca:eu-west-1:111122223333:certificate-authority/0f1e2d3c-4b5a-6978-8796-a5b4c3d2e1f0';

function build(props: ConstructorParameters<typeof CelerySecurityKeys>[2] = { signing: {}, resultEncryption: {} }) {
  const { stack } = tfStack();
  const keys = new CelerySecurityKeys(stack, 'Keys', props);
  keys.grantRead({ name: 'producer-task' }, CeleryRole.PRODUCER);
  keys.grantRead({ name: 'worker-task' }, CeleryRole.WORKER);
  const { text, json } = synthJson(stack);
  const one = (type: string, name: string) => ofType(json, type).find(([n]) => n.includes(name))![1];
  const arn = (name: string) =>
    `\${aws_secretsmanager_secret.${ofType(json, 'aws_secretsmanager_secret').find(([n]) => n.includes(name))![0]}.arn}`;
  return { keys, text, json, one, arn };
}

describe('CelerySecurityKeys (Terraform)', () => {
  const t = build();
  const keyArn = `\${aws_kms_key.${ofType(t.json, 'aws_kms_key')[0][0]}.arn}`;
  const viaSecretsManager = {
    StringEquals: {
      'kms:ViaService': 'secretsmanager.${data.aws_region.CeleryTlsAwsFacts_Region_8A123D0B.region}.amazonaws.com',
    },
  };

  test('four secrets, each encrypted with the customer-managed key (rotation on, kept on destroy)', () => {
    const secrets = ofType(t.json, 'aws_secretsmanager_secret');
    expect(secrets).toHaveLength(4);
    for (const [, s] of secrets) expect(s.kms_key_id).toBe(keyArn);
    const [, key] = ofType(t.json, 'aws_kms_key')[0];
    expect(key.enable_key_rotation).toBe(true);
    expect(key.lifecycle).toEqual({ prevent_destroy: true });
  });

  test("the library's checks find nothing: keys and secrets, no literal value, identities (every secret rotates)", () => {
    expect([...keyAndSecretFindings(t.json), ...secretFindings(t.json), ...identityFindings(t.json)]).toEqual([]);
  });

  test('no key, certificate or secret value in cdk.tf.json: the values are written once through secret_string_wo', () => {
    expect(t.text).not.toMatch(/PRIVATE KEY|BEGIN CERTIFICATE|"secret_string"/);
    for (const [, v] of ofType(t.json, 'aws_secretsmanager_secret_version')) {
      expect(v.secret_string_wo).toMatch(/data\.aws_secretsmanager_random_password\./);
      expect(v.secret_string_wo_version).toBe(1);
    }
    // The result key: 64 of [A-Za-z0-9].
    const generator = Object.entries<any>(t.json.data!.aws_secretsmanager_random_password).find(([n]) =>
      n.includes('ResultKey'),
    )![1];
    expect(generator).toEqual({
      password_length: 64,
      exclude_punctuation: true,
      include_space: false,
      require_each_included_type: true,
    });
  });

  test('each role reads exactly its own key pair, the store and the result key, and decrypts via Secrets Manager', () => {
    for (const [name, own, other] of [
      ['producer-task', 'ProducerSigningKey', 'WorkerSigningKey'],
      ['worker-task', 'WorkerSigningKey', 'ProducerSigningKey'],
    ]) {
      const [, policy] = ofType(t.json, 'aws_iam_role_policy').find(([, p]) => p.role === name)!;
      const doc = JSON.parse(policy.policy);
      expect(doc.Statement).toEqual([
        {
          Effect: 'Allow',
          Action: ['secretsmanager:GetSecretValue', 'secretsmanager:DescribeSecret'],
          Resource: [t.arn(own), t.arn('SigningCertificates'), t.arn('ResultKey')],
        },
        { Effect: 'Allow', Action: ['kms:Decrypt'], Resource: [keyArn], Condition: viaSecretsManager },
      ]);
      expect(policy.policy).not.toContain(t.arn(other));
      expect(policy.policy).not.toContain('"*"');
    }
  });

  test('the key pairs renew and the store rebuilds every 30 days after the invocation (not at apply), the result key every 30', () => {
    const rotations = ofType(t.json, 'aws_secretsmanager_secret_rotation');
    expect(rotations).toHaveLength(4);
    const fnArn = `\${aws_lambda_function.${ofType(t.json, 'aws_lambda_function')[0][0]}.arn}`;
    const invocation = `aws_lambda_invocation.${ofType(t.json, 'aws_lambda_invocation')[0][0]}`;
    // The store rotates on the renewals' schedule (rebuilt from the key pairs).
    for (const name of ['ProducerSigningKey', 'WorkerSigningKey', 'SigningCertificates']) {
      const [, r] = rotations.find(([n]) => n.includes(name))!;
      expect(r).toMatchObject({
        secret_id: t.arn(name),
        rotation_lambda_arn: fnArn,
        rotation_rules: { schedule_expression: 'rate(30 days)' },
        rotate_immediately: false,
      });
      expect(r.depends_on).toContain(invocation);
    }
    const [, result] = rotations.find(([n]) => n.includes('ResultKey'))!;
    expect(result).toMatchObject({
      secret_id: t.arn('ResultKey'),
      rotation_rules: { schedule_expression: 'rate(30 days)' },
    });
    expect(result.rotate_immediately).toBeUndefined();
  });

  test('the invocation (CRUD) names the secrets and the settings, no value; the function answers onInvocation', () => {
    const [, inv] = ofType(t.json, 'aws_lambda_invocation')[0];
    expect(inv.lifecycle_scope).toBe('CRUD');
    expect(JSON.parse(inv.input)).toEqual({
      StoreSecretArn: t.arn('SigningCertificates'),
      Roles: [
        { Role: 'producer', CommonName: 'celery-producer-signing', SecretArn: t.arn('ProducerSigningKey') },
        { Role: 'worker', CommonName: 'celery-worker-signing', SecretArn: t.arn('WorkerSigningKey') },
      ],
      ValidityDays: 90,
      KeyGeneration: 1,
    });
    const [, fn] = ofType(t.json, 'aws_lambda_function')[0];
    expect(fn.handler).toBe('index.onInvocation');
    expect(fn.vpc_config).toBeUndefined();
  });

  test("the function's policy: its four secrets, the key via Secrets Manager, GetRandomPassword, its logs; nothing else", () => {
    const [, policy] = ofType(t.json, 'aws_iam_policy')[0];
    const statements = JSON.parse(policy.policy).Statement;
    expect(statements.slice(0, 3)).toEqual([
      {
        Effect: 'Allow',
        Action: [
          'secretsmanager:DescribeSecret',
          'secretsmanager:GetSecretValue',
          'secretsmanager:PutSecretValue',
          'secretsmanager:UpdateSecretVersionStage',
        ],
        Resource: [
          t.arn('ProducerSigningKey'),
          t.arn('WorkerSigningKey'),
          t.arn('SigningCertificates'),
          t.arn('ResultKey'),
        ],
      },
      {
        Effect: 'Allow',
        Action: ['kms:Decrypt', 'kms:GenerateDataKey'],
        Resource: [keyArn],
        Condition: viaSecretsManager,
      },
      { Effect: 'Allow', Action: ['secretsmanager:GetRandomPassword'], Resource: ['*'] },
    ]);
    expect(statements).toHaveLength(4);
    expect(statements[3].Action).toEqual(['logs:CreateLogStream', 'logs:PutLogEvents']);
  });

  test("the settings' options of a role name its key pair, the store and the result key", () => {
    const s = t.keys.securityOptions(CeleryRole.PRODUCER);
    expect(s.signing?.keyPairSecretArn).toBe(t.keys.keyPairSecrets.producer!.secretArn);
    expect(s.signing?.certStoreSecretArn).toBe(t.keys.certificateStoreSecret!.secretArn);
    expect(s.resultEncryption).toEqual({ keySecretArn: t.keys.resultKeySecret!.secretArn, arguments: false });
  });
});

test('with a Private CA the function may issue from it with the code-signing template only', () => {
  const t = build({ signing: { privateCaArn: CA } });
  const statements = JSON.parse(ofType(t.json, 'aws_iam_policy')[0][1].policy).Statement;
  expect(statements).toContainEqual({
    Effect: 'Allow',
    Action: ['acm-pca:IssueCertificate'],
    Resource: [CA],
    Condition: {
      StringEquals: {
        'acm-pca:TemplateArn':
          'arn:${data.aws_partition.CeleryTlsAwsFacts_Partition_BEC31EDB.partition}:acm-pca:::template/CodeSigningCertificate/V1',
      },
    },
  });
  expect(JSON.stringify(statements)).not.toContain('GetRandomPassword');
  expect(JSON.parse(ofType(t.json, 'aws_lambda_invocation')[0][1].input).CaArn).toBe(CA);
});

test('result encryption alone: one secret, no invocation', () => {
  const t = build({ resultEncryption: {} });
  expect(ofType(t.json, 'aws_secretsmanager_secret')).toHaveLength(1);
  expect(ofType(t.json, 'aws_lambda_invocation')).toHaveLength(0);
});

test.each([
  [{}, /signing and resultEncryption are both missing/],
  [{ signing: { privateCaArn: 'nope' } }, /signing.privateCaArn "nope" is not an AWS Private CA ARN/],
  [{ signing: { validityDays: 30, renewDays: 20 } }, /signing.renewDays 20 must be at most half of validityDays 30/],
  [{ resultEncryption: { rotationDays: 0 } }, /resultEncryption.rotationDays 0 is out of range/],
])('bad input %j is refused naming the prop', (props, message) => {
  expect(() => build(props)).toThrow(message);
});

describe('CeleryTransport with security (Terraform)', () => {
  const placement = { vpcId: VPC_ID, subnets: subnets() };
  const make = (security: any, extra: object = {}) => {
    const { stack } = tfStack();
    const transport = new CeleryTransport(stack, 'Celery', { ...placement, security, ...extra });
    return { stack, transport };
  };
  const { stack, transport } = make({ signing: {}, resultEncryption: {} });
  transport.grantReadCredentials({ name: 'worker-task' }, CeleryRole.WORKER);
  const { json } = synthJson(stack);
  const keys = transport.securityKeys!;

  test("each role's settings sign with its own key pair and read the store and the result key by ARN", () => {
    for (const role of [CeleryRole.PRODUCER, CeleryRole.WORKER]) {
      const model = transport.celeryConfigFor(role).model;
      expect(model.security?.signing?.keyPairSecretArn).toBe(keys.keyPairSecrets[role]!.secretArn);
      expect(model.security?.signing?.certStoreSecretArn).toBe(keys.certificateStoreSecret!.secretArn);
      expect(model.security?.resultEncryption?.keySecretArn).toBe(keys.resultKeySecret!.secretArn);
      const env = transport.containerEnvironment(role).environment;
      expect(env).toContainEqual({
        name: 'CELERY_TLS_SIGNING_KEYPAIR_SECRET_ARN',
        value: keys.keyPairSecrets[role]!.secretArn,
      });
    }
  });

  test("grantReadCredentials gives the role its own key pair, the store and the result key too, never the other role's", () => {
    const [, policy] = ofType(json, 'aws_iam_role_policy').find(([, p]) => p.role === 'worker-task')!;
    const arn = (name: string) =>
      `\${aws_secretsmanager_secret.${ofType(json, 'aws_secretsmanager_secret').find(([n]) => n.includes(`SecurityKeys_${name}`))![0]}.arn}`;
    for (const name of ['WorkerSigningKey', 'SigningCertificates', 'ResultKey'])
      expect(policy.policy).toContain(arn(name));
    expect(policy.policy).not.toContain(arn('ProducerSigningKey'));
    expect(ofType(json, 'aws_lambda_invocation').filter(([n]) => n.includes('SecurityKeys'))).toHaveLength(1);
  });

  test.each<[object, object, RegExp]>([
    [{}, {}, /security.signing and security.resultEncryption are both missing/],
    [
      { resultEncryption: {} },
      { resultBackend: CeleryResultBackend.none() },
      /security.resultEncryption encrypts nothing without a result backend/,
    ],
  ])('bad security %j is refused naming the prop', (security, extra, message) => {
    expect(() => make(security, extra)).toThrow(message);
  });
});
