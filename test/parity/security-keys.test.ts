/**
 * CelerySecurityKeys on both targets from one spec: the same secrets (by description), the same schedules, the same
 * custom-resource input, the same statements for the function and for each role (actions and which secrets).
 */
import { App, Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { Testing, TerraformStack } from 'cdktf';
import { CelerySecurityKeys as CdkKeys } from '../../lib/cdk/security-keys';
import { CelerySecurityKeys as TfKeys } from '../../lib/cdktf/security-keys';
import type { CelerySecurityKeysOptions } from '../../lib/core/security-keys';
import { CeleryRole } from '../../lib/core/rabbitmq-users';

const CA = 'arn:aws:acm-pca:eu-west-1:111122223333:certificate-authority/0f1e2d3c-4b5a-6978-8796-a5b4c3d2e1f0';
const SPEC: CelerySecurityKeysOptions = {
  signing: { privateCaArn: CA, validityDays: 60, renewDays: 20, keyGeneration: 3 },
  resultEncryption: { rotationDays: 45, arguments: true },
};

function cdk() {
  const app = new App();
  const stack = new Stack(app, 'Test', { env: { account: '111122223333', region: 'eu-west-1' } });
  const keys = new CdkKeys(stack, 'Keys', SPEC);
  const json = Template.fromStack(stack).toJSON();
  const R = Object.values<any>(json.Resources);
  // Secret ARNs as the secret's description, so that both targets compare.
  const described = Object.fromEntries(
    Object.entries<any>(json.Resources)
      .filter(([, r]) => r.Type === 'AWS::SecretsManager::Secret')
      .map(([id, r]) => [id, r.Properties.Description]),
  );
  const name = (v: any) =>
    described[v?.Ref] ??
    (json.Resources[v?.['Fn::GetAtt']?.[0]]?.Type === 'AWS::KMS::Key' ? 'the key' : JSON.stringify(v));
  const cr = R.find((r) => r.Type === 'Custom::CelerySigningKeys').Properties;
  const fnPolicy = R.find(
    (r) => r.Type === 'AWS::IAM::ManagedPolicy' && /result key rotation/.test(r.Properties.Description),
  ).Properties.PolicyDocument.Statement;
  return {
    secrets: Object.values(described).sort(),
    schedules: R.filter((r) => r.Type === 'AWS::SecretsManager::RotationSchedule')
      .map((r) => [
        name(r.Properties.SecretId),
        r.Properties.RotationRules.ScheduleExpression,
        r.Properties.RotateImmediatelyOnUpdate ?? true,
      ])
      .sort(),
    input: {
      ...cr,
      ServiceToken: undefined,
      ServiceTimeout: undefined,
      StoreSecretArn: name(cr.StoreSecretArn),
      Roles: cr.Roles.map((r: any) => ({ ...r, SecretArn: name(r.SecretArn) })),
    },
    functionActions: fnPolicy.map((s: any) => [s.Action].flat()),
    roles: Object.fromEntries(
      [CeleryRole.PRODUCER, CeleryRole.WORKER].map((role) => [
        role,
        keys.readStatements(role).map((s) => ({
          actions: s.actions,
          secrets: s.resources.map((r) => name(stack.resolve(r))),
        })),
      ]),
    ),
    options: [CeleryRole.PRODUCER, CeleryRole.WORKER].map((role) => {
      const o = keys.securityOptions(role);
      return { signing: Object.keys(o.signing ?? {}), arguments: o.resultEncryption?.arguments };
    }),
  };
}

function terraform() {
  const app = Testing.app();
  const stack = new TerraformStack(app, 'Test');
  const keys = new TfKeys(stack, 'Keys', SPEC);
  keys.grantRead({ name: 'producer' }, CeleryRole.PRODUCER);
  keys.grantRead({ name: 'worker' }, CeleryRole.WORKER);
  const json = JSON.parse(Testing.synth(stack));
  const rolePolicy = (role: string) =>
    JSON.parse(Object.values<any>(json.resource.aws_iam_role_policy).find((p) => p.role === role).policy).Statement;
  const described = Object.fromEntries(
    Object.entries<any>(json.resource.aws_secretsmanager_secret).map(([id, s]) => [
      `\${aws_secretsmanager_secret.${id}.arn}`,
      s.description,
    ]),
  );
  const name = (v: any) => described[v] ?? (/^\$\{aws_kms_key\.[^.]+\.arn\}$/.test(v) ? 'the key' : JSON.stringify(v));
  const input = JSON.parse(Object.values<any>(json.resource.aws_lambda_invocation)[0].input);
  const fnPolicy = JSON.parse(Object.values<any>(json.resource.aws_iam_policy)[0].policy).Statement;
  return {
    secrets: Object.values(described).sort(),
    schedules: Object.values<any>(json.resource.aws_secretsmanager_secret_rotation)
      .map((r) => [name(r.secret_id), r.rotation_rules.schedule_expression, r.rotate_immediately ?? true])
      .sort(),
    input: {
      ...input,
      ServiceToken: undefined,
      ServiceTimeout: undefined,
      StoreSecretArn: name(input.StoreSecretArn),
      Roles: input.Roles.map((r: any) => ({ ...r, SecretArn: name(r.SecretArn) })),
    },
    functionActions: fnPolicy.map((s: any) => [s.Action].flat()),
    roles: Object.fromEntries(
      [CeleryRole.PRODUCER, CeleryRole.WORKER].map((role) => [
        role,
        rolePolicy(role).map((s: any) => ({ actions: s.Action, secrets: s.Resource.map(name) })),
      ]),
    ),
    options: [CeleryRole.PRODUCER, CeleryRole.WORKER].map((role) => {
      const o = keys.securityOptions(role);
      return { signing: Object.keys(o.signing ?? {}), arguments: o.resultEncryption?.arguments };
    }),
  };
}

test('both targets make the same key material, schedules, input and permissions', () => {
  const a = cdk();
  const b = terraform();
  expect(b).toEqual(a);
  // What is compared is what the spec asked for.
  expect(a.secrets).toHaveLength(4);
  expect(a.schedules).toContainEqual([expect.stringContaining('result encryption key'), 'rate(45 days)', true]);
  expect(a.schedules.filter(([, rate, now]) => rate === 'rate(20 days)' && now === false)).toHaveLength(3);
  expect(a.input).toMatchObject({ CaArn: CA, ValidityDays: 60, KeyGeneration: 3 });
  expect(a.roles.worker[0].secrets).toEqual([
    expect.stringContaining('of the workers'),
    expect.stringContaining("every signer's certificate"),
    expect.stringContaining('result encryption key'),
  ]);
  expect(a.options).toEqual([
    { signing: ['keyPairSecretArn', 'certStoreSecretArn'], arguments: true },
    { signing: ['keyPairSecretArn', 'certStoreSecretArn'], arguments: true },
  ]);
});
