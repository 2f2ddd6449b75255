import { join } from 'node:path';
import * as ecs from 'aws-cdk-lib/aws-ecs';
import { BrokerClientCertificates, CeleryBroker, CeleryRole, CeleryTransport } from '../../lib/cdk';
import { stackWithVpc, templateOf } from './helpers';
import { thrown } from '../thrown';

/** Mutual TLS to RabbitMQ 4.2: broker configuration, the role Amazon MQ assumes, certificate secrets and issuing. */
const CA = 'arn:aws:acm-pca:eu-west-1:111122223333:certificate-authority/0f1e2d3c-4b5a-6978-8796-a5b4c3d2e1f0';

/** `arn:${AWS::Partition}...` as the literal it is in the commercial partition (the tests' stack has no literal partition). */
const inAws = (v: any): any =>
  v?.['Fn::Join']?.[1]?.[1]?.Ref === 'AWS::Partition' ? `arn:aws${v['Fn::Join'][1].slice(2).join('')}` : v;

function build(options = {}) {
  const { stack, vpc } = stackWithVpc();
  const t = new CeleryTransport(stack, 'Celery', {
    vpc,
    broker: CeleryBroker.rabbitMq({ clientCertificates: BrokerClientCertificates.fromPrivateCa(CA, options) }),
  });
  const worker = new ecs.FargateTaskDefinition(stack, 'Worker');
  t.bindToContainer(worker.addContainer('app', { image: ecs.ContainerImage.fromRegistry('python:3.12-slim') }));
  const { json } = templateOf(stack);
  const id = (c: any) => stack.getLogicalId((c.node?.defaultChild ?? c) as any);
  return { stack, t, json, id, worker };
}

describe('BrokerClientCertificates.fromPrivateCa()', () => {
  const b = build();
  const R = b.json.Resources;
  const broker = b.t.rabbitMqBroker!;
  const users = b.t.rabbitMqUsers!;

  test('the broker applies a configuration that requires client certificates and logs clients in by common name', () => {
    const cfg = R[b.id(broker.configuration)].Properties;
    expect(cfg).toMatchObject({ EngineType: 'RABBITMQ', EngineVersion: '4.2' });
    const conf = b.stack.resolve(cfg.Data)['Fn::Base64'];
    const text = JSON.stringify(conf);
    for (const line of [
      'auth_mechanisms.1 = EXTERNAL',
      'ssl_cert_login_from = common_name',
      'ssl_options.verify = verify_peer',
      'ssl_options.fail_if_no_peer_cert = true',
      `aws.arns.ssl_options.cacertfile = ${CA}`,
      'aws.arns.assume_role_arn = ',
    ]) {
      expect(text).toContain(line);
    }
    expect(JSON.stringify(conf)).toContain(b.id(broker.configurationRole));
    expect(R[b.id(broker.resource)].Properties.Configuration).toEqual({
      Id: { Ref: b.id(broker.configuration) },
      Revision: { 'Fn::GetAtt': [b.id(broker.configuration), 'Revision'] },
    });
  });

  test('the role Amazon MQ assumes: only for this broker by name and account, may only read the CA certificate', () => {
    const role = R[b.id(broker.configurationRole)].Properties;
    const brokerName = R[b.id(broker.resource)].Properties.BrokerName;
    const statement = role.AssumeRolePolicyDocument.Statement[0];
    expect(statement.Principal).toEqual({ Service: 'mq.amazonaws.com' });
    expect(statement.Condition.StringEquals['aws:SourceAccount']).toBe('111122223333');
    expect(inAws(statement.Condition.ArnLike['aws:SourceArn'])).toBe(
      `arn:aws:mq:eu-west-1:111122223333:broker:${brokerName}:*`,
    );
    const policy = Object.values<any>(R).find(
      (r) =>
        r.Type === 'AWS::IAM::ManagedPolicy' &&
        JSON.stringify(r.Properties.Roles).includes(b.id(broker.configurationRole)),
    );
    expect(policy.Properties.PolicyDocument.Statement).toEqual([
      { Action: 'acm-pca:GetCertificateAuthorityCertificate', Effect: 'Allow', Resource: CA },
    ]);
    expect((R[b.id(broker.resource)] as any).DependsOn).toEqual(
      expect.arrayContaining([
        b.stack.getLogicalId(broker.node.findChild('ConfigurationPolicy').node.defaultChild as any),
      ]),
    );
  });

  test('each user gets a certificate secret (CN = user name), CMK-encrypted, re-issued every 30 days by the certificate function', () => {
    for (const role of [CeleryRole.PRODUCER, CeleryRole.WORKER]) {
      const u = users.userFor(role);
      const s = R[b.id(u.certificateSecret)];
      expect(JSON.parse(s.Properties.GenerateSecretString.SecretStringTemplate)).toEqual({ common_name: u.username });
      expect(s.Properties.KmsKeyId).toBeDefined();
      const schedule = Object.values<any>(R).find(
        (r) =>
          r.Type === 'AWS::SecretsManager::RotationSchedule' && r.Properties.SecretId.Ref === b.id(u.certificateSecret),
      );
      expect(schedule.Properties).toMatchObject({
        RotationRules: { ScheduleExpression: 'rate(30 days)' },
        RotationLambdaARN: { 'Fn::GetAtt': [b.id(users.certificateFunction), 'Arn'] },
      });
    }
    const fn = R[b.id(users.certificateFunction)].Properties;
    expect(fn.Environment.Variables).toEqual({
      CA_ARN: CA,
      SIGNING_ALGORITHM: 'SHA256WITHRSA',
      VALIDITY_DAYS: '60',
      WAIT_SECONDS: '60',
    });
    expect(fn.Runtime).toBe('nodejs24.x');
    // eslint-disable-next-line @typescript-eslint/no-require-imports -- the built bundle, loaded as Lambda loads it
    const bundle = require(join(__dirname, '..', '..', 'assets', 'handlers', 'client-certificates', 'index.js'));
    expect(typeof bundle.onRotate).toBe('function');
  });

  test('the certificate function may issue only client-authentication certificates, only from this CA', () => {
    const policy = Object.values<any>(R).find(
      (r) =>
        r.Type === 'AWS::IAM::ManagedPolicy' &&
        JSON.stringify(r.Properties.PolicyDocument).includes('acm-pca:IssueCertificate'),
    );
    const issue = policy.Properties.PolicyDocument.Statement.find((s: any) => s.Action === 'acm-pca:IssueCertificate');
    expect(issue).toMatchObject({ Action: 'acm-pca:IssueCertificate', Effect: 'Allow', Resource: CA });
    expect(inAws(issue.Condition.StringEquals['acm-pca:TemplateArn'])).toBe(
      'arn:aws:acm-pca:::template/EndEntityClientAuthCertificate/V1',
    );
    expect(JSON.stringify(policy.Properties.PolicyDocument)).not.toContain('"*"');
  });

  test('Celery logs in with the certificate (EXTERNAL): the worker gets its certificate secret, no password', () => {
    const e = b.t.celeryConfig.model.broker;
    expect(e).toMatchObject({ scheme: 'amqps', loginMethod: 'EXTERNAL', username: 'celery-worker' });
    expect(e.secretArn).toBeUndefined();
    const c = R[b.id(b.worker)].Properties.ContainerDefinitions[0];
    const broker = c.Secrets.filter((s: any) => s.Name.startsWith('CELERY_TLS_BROKER_'));
    expect(broker).toEqual([
      {
        Name: 'CELERY_TLS_BROKER_CLIENT_CERT',
        ValueFrom: { Ref: b.id(users.userFor(CeleryRole.WORKER).certificateSecret) },
      },
    ]);
    const env = Object.fromEntries(c.Environment.map((x: any) => [x.Name, x.Value]));
    expect(env.CELERY_TLS_BROKER_USERNAME).toBe('celery-worker');
    expect(env.CELERY_TLS_BROKER_CLIENT_CERT_SECRET_ARN).toEqual({
      Ref: b.id(users.userFor(CeleryRole.WORKER).certificateSecret),
    });
    expect(b.t.celeryConfig.toPythonModule()).toContain('broker_login_method = "EXTERNAL"');
  });

  test('a subordinate CA: the broker trusts its root (trustAnchorCaArn), certificates come from the subordinate', () => {
    const ROOT = 'arn:aws:acm-pca:eu-west-1:111122223333:certificate-authority/11111111-2222-3333-4444-555555555555';
    const o = build({ trustAnchorCaArn: ROOT });
    const broker = o.t.rabbitMqBroker!;
    expect(JSON.stringify(o.stack.resolve(o.json.Resources[o.id(broker.configuration)].Properties.Data))).toContain(
      `aws.arns.ssl_options.cacertfile = ${ROOT}`,
    );
    const read = Object.values<any>(o.json.Resources).find(
      (r) =>
        r.Type === 'AWS::IAM::ManagedPolicy' &&
        JSON.stringify(r.Properties.Roles).includes(o.id(broker.configurationRole)),
    );
    expect(read.Properties.PolicyDocument.Statement).toEqual([
      { Action: 'acm-pca:GetCertificateAuthorityCertificate', Effect: 'Allow', Resource: ROOT },
    ]);
    expect(o.json.Resources[o.id(o.t.rabbitMqUsers!.certificateFunction)].Properties.Environment.Variables.CA_ARN).toBe(
      CA,
    );
  });

  test('newSubordinateCa(): a subordinate CA signed by the parent, activated with the parent chain, retained; the broker trusts the parent', () => {
    const ROOT = 'arn:aws:acm-pca:eu-west-1:111122223333:certificate-authority/11111111-2222-3333-4444-555555555555';
    const CHAIN = '-----BEGIN CERTIFICATE-----\nMIIBroot\n-----END CERTIFICATE-----\n';
    const { stack, vpc } = stackWithVpc();
    const t = new CeleryTransport(stack, 'Celery', {
      vpc,
      broker: CeleryBroker.rabbitMq({
        clientCertificates: BrokerClientCertificates.newSubordinateCa({
          parentCaArn: ROOT,
          parentCertificateChain: CHAIN,
        }),
      }),
    });
    const { json } = templateOf(stack);
    const id = (c: any) => stack.getLogicalId((c.node?.defaultChild ?? c) as any);
    const ca = t.rabbitMqBroker!.clientCa!;
    const authority = json.Resources[id(ca.authority)] as any;
    expect(authority).toMatchObject({
      DeletionPolicy: 'Retain',
      Properties: {
        Type: 'SUBORDINATE',
        KeyAlgorithm: 'EC_prime256v1',
        SigningAlgorithm: 'SHA256WITHECDSA',
        UsageMode: 'GENERAL_PURPOSE',
        Subject: { CommonName: 'Celery client CA' },
      },
    });
    const cert = Object.values<any>(json.Resources).find((r) => r.Type === 'AWS::ACMPCA::Certificate');
    expect(cert.Properties).toMatchObject({
      CertificateAuthorityArn: ROOT,
      SigningAlgorithm: 'SHA256WITHRSA',
      Validity: { Type: 'YEARS', Value: 5 },
      CertificateSigningRequest: { 'Fn::GetAtt': [id(ca.authority), 'CertificateSigningRequest'] },
    });
    expect(inAws(cert.Properties.TemplateArn)).toBe('arn:aws:acm-pca:::template/SubordinateCACertificate_PathLen0/V1');
    expect((json.Resources[id(ca.activation)] as any).Properties).toMatchObject({
      CertificateChain: CHAIN,
      Status: 'ACTIVE',
      Certificate: { 'Fn::GetAtt': [expect.any(String), 'Certificate'] },
    });
    // Certificates come from the subordinate (ECDSA), the broker trusts the parent root.
    const fn = (json.Resources[id(t.rabbitMqUsers!.certificateFunction)] as any).Properties.Environment.Variables;
    expect(fn).toMatchObject({
      CA_ARN: { 'Fn::GetAtt': [id(ca.authority), 'Arn'] },
      SIGNING_ALGORITHM: 'SHA256WITHECDSA',
    });
    expect(
      JSON.stringify(stack.resolve((json.Resources[id(t.rabbitMqBroker!.configuration)] as any).Properties.Data)),
    ).toContain(`aws.arns.ssl_options.cacertfile = ${ROOT}`);
    // The first certificate is issued after the activation.
    for (const r of Object.values<any>(json.Resources).filter(
      (x) =>
        x.Type === 'AWS::SecretsManager::RotationSchedule' &&
        x.Properties.RotationLambdaARN['Fn::GetAtt'][0] === id(t.rabbitMqUsers!.certificateFunction),
    )) {
      expect(r.DependsOn).toContain(id(ca.activation));
    }
  });

  test('newSubordinateCa() refuses a chain that is not PEM and short-lived mode with long certificates', () => {
    const { stack, vpc } = stackWithVpc();
    const e = thrown(
      () =>
        new CeleryTransport(stack, 'Celery', {
          vpc,
          broker: CeleryBroker.rabbitMq({
            clientCertificates: BrokerClientCertificates.newSubordinateCa({
              parentCaArn: CA,
              parentCertificateChain: 'not a certificate',
              usageMode: 'SHORT_LIVED_CERTIFICATE',
            }),
          }),
        }),
    );
    expect(e.message).toContain('subordinateCa.parentCertificateChain is not PEM certificates');
    expect(e.message).toContain('validityDays 60 is too long for a SHORT_LIVED_CERTIFICATE CA');
  });

  test('options: validity, renewal, the CA signing algorithm', () => {
    const o = build({ validityDays: 14, renewDays: 7, caSigningAlgorithm: 'SHA256WITHECDSA' });
    const fn = o.json.Resources[o.id(o.t.rabbitMqUsers!.certificateFunction)].Properties;
    expect(fn.Environment.Variables).toMatchObject({ VALIDITY_DAYS: '14', SIGNING_ALGORITHM: 'SHA256WITHECDSA' });
    const schedules = Object.values<any>(o.json.Resources).filter(
      (r) =>
        r.Type === 'AWS::SecretsManager::RotationSchedule' &&
        r.Properties.RotationLambdaARN['Fn::GetAtt'][0] === o.id(o.t.rabbitMqUsers!.certificateFunction),
    );
    expect(schedules.map((s) => s.Properties.RotationRules.ScheduleExpression)).toEqual([
      'rate(7 days)',
      'rate(7 days)',
    ]);
  });

  test('refused at synth: RabbitMQ 3.13, a malformed CA ARN, renewal not before expiry', () => {
    const { stack, vpc } = stackWithVpc();
    const e = thrown(
      () =>
        new CeleryTransport(stack, 'Celery', {
          vpc,
          broker: CeleryBroker.rabbitMq({
            engineVersion: '3.13',
            hostInstanceType: 'mq.m5.large',
            clientCertificates: BrokerClientCertificates.fromPrivateCa(
              'arn:aws:acm:eu-west-1:111122223333:certificate/x',
              { validityDays: 30, renewDays: 30 },
            ),
          }),
        }),
    );
    expect(e.message).toContain('clientCertificates needs RabbitMQ 4.2 or later');
    expect(e.message).toContain('is not an AWS Private CA ARN');
    expect(e.message).toContain('clientCertificates.renewDays 30 must be less than validityDays 30');
  });
});
