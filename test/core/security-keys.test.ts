import { LITERAL_CONTEXT } from '../../lib/core/errors';
import {
  resolveCelerySecurityKeysSpec,
  securityKeysReadStatements,
  securityOptionsFor,
  signingKeysFunctionPlan,
  signingKeysResourceProperties,
} from '../../lib/core/security-keys';
import type { CelerySecurityKeysOptions } from '../../lib/core/security-keys';

const CA = 'arn:aws:acm-pca:eu-west-1:111122223333:certificate-authority/0f1e2d3c-4b5a-6978-8796-a5b4c3d2e1f0';
const sm = (n: string) => `arn:aws:secretsmanager:eu-west-1:111122223333:secret:${n}-AbCdEf`;
const KEY = 'arn:aws:kms:eu-west-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab';

const errors = (o: CelerySecurityKeysOptions, prefix = '') =>
  resolveCelerySecurityKeysSpec(o, LITERAL_CONTEXT, prefix).errors.map((e) => [e.prop, e.message]);

test('defaults: self-signed, 90 days, renewed every 30, generation 1, a producer and a worker key', () => {
  const r = resolveCelerySecurityKeysSpec({ signing: {}, resultEncryption: {} }, LITERAL_CONTEXT);
  expect(r.errors).toEqual([]);
  expect(r.value).toEqual({
    signing: {
      caArn: undefined,
      caSigningAlgorithm: 'SHA256WITHRSA',
      validityDays: 90,
      renewDays: 30,
      keyGeneration: 1,
      roles: [
        { role: 'producer', commonName: 'celery-producer-signing' },
        { role: 'worker', commonName: 'celery-worker-signing' },
      ],
    },
    resultEncryption: { rotationDays: 30, arguments: false },
  });
});

test.each<[string, CelerySecurityKeysOptions, string, RegExp]>([
  ['nothing asked', {}, 'security.signing', /are both missing/],
  [
    'a CA that is no ARN',
    { signing: { privateCaArn: 'my-ca' } },
    'security.signing.privateCaArn',
    /"my-ca" is not an AWS Private CA ARN/,
  ],
  [
    'an unknown algorithm',
    { signing: { privateCaArn: CA, caSigningAlgorithm: 'SHA1WITHRSA' } },
    'security.signing.caSigningAlgorithm',
    /"SHA1WITHRSA" is not an AWS Private CA signing algorithm/,
  ],
  [
    'an algorithm without CA',
    { signing: { caSigningAlgorithm: 'SHA256WITHRSA' } },
    'security.signing.caSigningAlgorithm',
    /without security.signing.privateCaArn/,
  ],
  [
    'validity 826',
    { signing: { validityDays: 826 } },
    'security.signing.validityDays',
    /826 is out of range: allowed 1 to 825/,
  ],
  [
    'renewal over half the validity',
    { signing: { validityDays: 40, renewDays: 30 } },
    'security.signing.renewDays',
    /must be at most half of validityDays 40/,
  ],
  ['generation 0', { signing: { keyGeneration: 0 } }, 'security.signing.keyGeneration', /0 is not allowed/],
  [
    'rotation 0 days',
    { resultEncryption: { rotationDays: 0 } },
    'security.resultEncryption.rotationDays',
    /0 is out of range: allowed 1 to 90/,
  ],
  [
    'rotation 91 days',
    { resultEncryption: { rotationDays: 91 } },
    'security.resultEncryption.rotationDays',
    /91 is out of range/,
  ],
])('%s is refused naming the prop', (_, options, prop, message) => {
  const found = errors(options, 'security');
  expect(found.map(([p]) => p)).toEqual([prop]);
  expect(found[0][1]).toMatch(message);
});

test('a role reads exactly its key pair, the store and the result key, and decrypts through Secrets Manager only', () => {
  expect(
    securityKeysReadStatements({
      keyPairSecretArn: sm('worker'),
      storeSecretArn: sm('store'),
      resultKeySecretArn: sm('result'),
      keyArn: KEY,
      region: 'eu-west-1',
    }),
  ).toEqual([
    {
      effect: 'Allow',
      actions: ['secretsmanager:GetSecretValue', 'secretsmanager:DescribeSecret'],
      resources: [sm('worker'), sm('store'), sm('result')],
    },
    {
      effect: 'Allow',
      actions: ['kms:Decrypt'],
      resources: [KEY],
      conditions: { StringEquals: { 'kms:ViaService': 'secretsmanager.eu-west-1.amazonaws.com' } },
    },
  ]);
});

test('the function writes only its secrets, issues only with the code-signing template, and generates passwords', () => {
  const spec = resolveCelerySecurityKeysSpec(
    { signing: { privateCaArn: CA }, resultEncryption: {} },
    LITERAL_CONTEXT,
  ).value;
  const plan = signingKeysFunctionPlan({
    spec,
    keyPairSecretArns: [sm('producer'), sm('worker')],
    storeSecretArn: sm('store'),
    resultKeySecretArn: sm('result'),
    keyArn: KEY,
    region: 'eu-west-1',
    partition: 'aws',
  });
  expect(plan.function.statements).toEqual([
    {
      effect: 'Allow',
      actions: [
        'secretsmanager:DescribeSecret',
        'secretsmanager:GetSecretValue',
        'secretsmanager:PutSecretValue',
        'secretsmanager:UpdateSecretVersionStage',
      ],
      resources: [sm('producer'), sm('worker'), sm('store'), sm('result')],
    },
    {
      effect: 'Allow',
      actions: ['kms:Decrypt', 'kms:GenerateDataKey'],
      resources: [KEY],
      conditions: { StringEquals: { 'kms:ViaService': 'secretsmanager.eu-west-1.amazonaws.com' } },
    },
    { effect: 'Allow', actions: ['secretsmanager:GetRandomPassword'], resources: ['*'] },
    {
      effect: 'Allow',
      actions: ['acm-pca:IssueCertificate'],
      resources: [CA],
      conditions: { StringEquals: { 'acm-pca:TemplateArn': 'arn:aws:acm-pca:::template/CodeSigningCertificate/V1' } },
    },
    { effect: 'Allow', actions: ['acm-pca:GetCertificate'], resources: [CA] },
  ]);
  expect(plan.function).toMatchObject({
    asset: 'signing-keys',
    handler: 'index.onEvent',
    invocationHandler: 'index.onInvocation',
    inVpc: false,
  });
  expect(plan.signingSchedule).toEqual({ days: 30 });
  expect(plan.resultKeySchedule).toEqual({ days: 30 });
  expect(
    signingKeysResourceProperties({
      spec,
      keyPairSecretArns: [sm('producer'), sm('worker')],
      storeSecretArn: sm('store'),
    }),
  ).toEqual({
    StoreSecretArn: sm('store'),
    Roles: [
      { Role: 'producer', CommonName: 'celery-producer-signing', SecretArn: sm('producer') },
      { Role: 'worker', CommonName: 'celery-worker-signing', SecretArn: sm('worker') },
    ],
    CaArn: CA,
    SigningAlgorithm: 'SHA256WITHRSA',
    ValidityDays: 90,
    KeyGeneration: 1,
  });
});

test('without a CA or a result key the function has neither the CA statements nor GetRandomPassword', () => {
  const spec = resolveCelerySecurityKeysSpec({ signing: {} }, LITERAL_CONTEXT).value;
  const plan = signingKeysFunctionPlan({
    spec,
    keyPairSecretArns: [sm('producer'), sm('worker')],
    storeSecretArn: sm('store'),
    keyArn: KEY,
    region: 'eu-west-1',
    partition: 'aws',
  });
  const actions = plan.function.statements.flatMap((s) => s.actions);
  expect(actions.filter((a) => a.startsWith('acm-pca:') || a === 'secretsmanager:GetRandomPassword')).toEqual([]);
  expect(plan.resultKeySchedule).toBeUndefined();
});

test("the settings' options read each secret by ARN", () => {
  expect(
    securityOptionsFor({
      keyPairSecretArn: sm('w'),
      storeSecretArn: sm('s'),
      resultKeySecretArn: sm('r'),
      arguments: true,
    }),
  ).toEqual({
    signing: { keyPairSecretArn: sm('w'), certStoreSecretArn: sm('s') },
    resultEncryption: { keySecretArn: sm('r'), arguments: true },
  });
  expect(securityOptionsFor({ resultKeySecretArn: sm('r') })).toEqual({
    signing: undefined,
    resultEncryption: { keySecretArn: sm('r'), arguments: false },
  });
});
