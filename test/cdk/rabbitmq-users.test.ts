import { join } from 'node:path';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import { BrokerCredentials, CeleryRole, RabbitMqApplicationUsers, RabbitMqBroker } from '../../lib/cdk';
import { stackWithVpc, templateOf } from './helpers';

/**
 * RabbitMqApplicationUsers: users, permissions, secrets, rotation schedules, the functions' network path and IAM,
 * asserted on the template JSON.
 */
function build(
  props: Partial<ConstructorParameters<typeof RabbitMqApplicationUsers>[2]> = {},
  brokerProps: object = {},
) {
  const { stack, vpc } = stackWithVpc();
  const broker = new RabbitMqBroker(stack, 'Broker', { vpc, ...brokerProps });
  const users = new RabbitMqApplicationUsers(stack, 'Users', { broker, ...props });
  const { json } = templateOf(stack);
  const id = (c: { node: { defaultChild?: unknown } } | unknown) =>
    stack.getLogicalId(((c as any).node.defaultChild ?? c) as any);
  const of = (type: string) => Object.entries<any>(json.Resources).filter(([, r]) => r.Type === type);
  return { stack, broker, users, json, id, of };
}

describe('RabbitMqApplicationUsers', () => {
  const t = build();
  const R = t.json.Resources;
  const cr = R[t.id(t.users.resource)];

  test('the custom resource creates vhost "celery", a producer and a worker user with permissions on it, quorum default on 4.2', () => {
    expect(cr.Type).toBe('Custom::CeleryRabbitMqUsers');
    const p = cr.Properties;
    expect(p.Vhost).toBe('celery');
    expect(p.DefaultQueueType).toBe('quorum');
    // Poison tasks go to a dead-letter queue after RabbitMQ's 20 deliveries; a direct "celery" exchange is replaced.
    expect(p.DeadLetterQueue).toBe('celery.dead-letter');
    expect(p.DeliveryLimit).toBe(20);
    expect(p.ReplaceDirectExchanges).toEqual(['celery']);
    expect(p.AdminSecretArn).toEqual({ Ref: t.id(t.broker.adminSecret) });
    // https://<broker host>, port 443 (the management API; never http://)
    expect(p.ManagementUrl['Fn::Join'][1][0]).toBe('https://');
    expect(p.Users).toEqual([
      {
        Name: 'celery-producer',
        PasswordSecretArn: { Ref: t.id(t.users.userFor(CeleryRole.PRODUCER).secret) },
        Configure: '.*',
        Write: '.*',
        Read: '.*',
      },
      {
        Name: 'celery-worker',
        PasswordSecretArn: { Ref: t.id(t.users.userFor(CeleryRole.WORKER).secret) },
        Configure: '.*',
        Write: '.*',
        Read: '.*',
      },
    ]);
    expect(p.ServiceTimeout).toBe('300');
    expect(JSON.stringify(p)).not.toMatch(/password"\s*:/i);
  });

  test('each user has its own generated, CMK-encrypted, retained secret {username, password}', () => {
    for (const role of [CeleryRole.PRODUCER, CeleryRole.WORKER]) {
      const s = R[t.id(t.users.userFor(role).secret)];
      expect(s.DeletionPolicy).toBe('Retain');
      expect(s.Properties.KmsKeyId).toEqual({ 'Fn::GetAtt': [t.id(t.broker.encryptionKey), 'Arn'] });
      expect(s.Properties.GenerateSecretString).toMatchObject({
        PasswordLength: 32,
        ExcludePunctuation: true,
        GenerateStringKey: 'password',
        SecretStringTemplate: JSON.stringify({ username: `celery-${role}` }),
      });
      expect(s.Properties.SecretString).toBeUndefined();
    }
  });

  test('the admin and both user secrets rotate every 30 days through the rotation function', () => {
    const schedules = t.of('AWS::SecretsManager::RotationSchedule').map(([, r]) => r);
    expect(schedules.map((s) => s.Properties.SecretId.Ref).sort()).toEqual(
      [
        t.id(t.broker.adminSecret),
        t.id(t.users.userFor(CeleryRole.PRODUCER).secret),
        t.id(t.users.userFor(CeleryRole.WORKER).secret),
      ].sort(),
    );
    for (const s of schedules) {
      expect(s.Properties.RotationRules).toEqual({ ScheduleExpression: 'rate(30 days)' });
      expect(s.Properties.RotationLambdaARN).toEqual({ 'Fn::GetAtt': [t.id(t.users.rotationFunction), 'Arn'] });
      // The first rotation runs at creation: after the users exist.
      expect(s.DependsOn).toContain(t.id(t.users.resource));
    }
  });

  test('both functions: current Node.js runtime, inside the VPC with the users group only, CMK-encrypted logs kept 365 days, no secret in the environment', () => {
    for (const [fn, handler] of [
      [t.users.function, 'index.onEvent'],
      [t.users.rotationFunction, 'index.onRotate'],
    ] as const) {
      const p = R[t.id(fn)].Properties;
      expect(p.Runtime).toBe('nodejs24.x');
      expect(p.Handler).toBe(handler);
      expect(p.VpcConfig.SecurityGroupIds).toEqual([{ 'Fn::GetAtt': [t.id(t.users.securityGroup), 'GroupId'] }]);
      expect(p.VpcConfig.SubnetIds).toHaveLength(3);
      const logs = R[p.LoggingConfig.LogGroup.Ref];
      expect(logs.Properties).toMatchObject({
        RetentionInDays: 365,
        KmsKeyId: { 'Fn::GetAtt': [t.id(t.broker.encryptionKey), 'Arn'] },
      });
      const env = JSON.stringify(p.Environment ?? {});
      expect(env).not.toMatch(/password"|resolve:secretsmanager/i);
    }
    const rotationEnv = R[t.id(t.users.rotationFunction)].Properties.Environment.Variables;
    expect(Object.keys(rotationEnv).sort()).toEqual([
      'ADMIN_PASSWORD_LENGTH',
      'ADMIN_SECRET_ARN',
      'MANAGEMENT_URL',
      'PASSWORD_LENGTH',
      'SECRETS_MANAGER_ENDPOINT',
      'TIMEOUT_MS',
    ]);
    expect(rotationEnv.MANAGEMENT_URL['Fn::Join'][1][0]).toBe('https://');
  });

  test('network: the users group has no ingress and egress only to the broker and the endpoint on 443; the broker takes 443 only from it', () => {
    const usersSg = t.id(t.users.securityGroup);
    const brokerSg = t.id(t.broker.securityGroup);
    const endpoint = t.users.secretsManagerEndpoint as ec2.InterfaceVpcEndpoint;
    const endpointSg = t.id(endpoint.connections.securityGroups[0]);
    const egress = t
      .of('AWS::EC2::SecurityGroupEgress')
      .filter(([, r]) => r.Properties.GroupId['Fn::GetAtt'][0] === usersSg)
      .map(
        ([, r]) =>
          `${r.Properties.IpProtocol}:${r.Properties.FromPort}-${r.Properties.ToPort} to ${r.Properties.DestinationSecurityGroupId['Fn::GetAtt'][0]}`,
      )
      .sort();
    expect(egress).toEqual([`tcp:443-443 to ${brokerSg}`, `tcp:443-443 to ${endpointSg}`].sort());
    expect(R[usersSg].Properties.SecurityGroupEgress).toBeUndefined();
    expect(
      t.of('AWS::EC2::SecurityGroupIngress').filter(([, r]) => r.Properties.GroupId['Fn::GetAtt'][0] === usersSg),
    ).toEqual([]);
    const brokerIngress = t
      .of('AWS::EC2::SecurityGroupIngress')
      .filter(([, r]) => r.Properties.GroupId['Fn::GetAtt'][0] === brokerSg)
      .map(([, r]) => r.Properties);
    expect(brokerIngress).toEqual([
      expect.objectContaining({
        FromPort: 443,
        ToPort: 443,
        IpProtocol: 'tcp',
        SourceSecurityGroupId: { 'Fn::GetAtt': [usersSg, 'GroupId'] },
      }),
    ]);
    const ep = R[t.id(endpoint)].Properties;
    expect(ep.PrivateDnsEnabled).toBe(false);
    expect(ep.ServiceName).toEqual(expect.stringContaining('secretsmanager'));
  });

  test('the endpoint policy lets only the two function roles use it', () => {
    const policy = R[t.id(t.users.secretsManagerEndpoint)].Properties.PolicyDocument;
    const principals = new Set(policy.Statement.map((s: any) => JSON.stringify(s.Principal)));
    expect(principals).toEqual(
      new Set([
        JSON.stringify({
          AWS: {
            'Fn::GetAtt': [
              t.stack.getLogicalId(t.users.node.findChild('FunctionRole').node.defaultChild as any),
              'Arn',
            ],
          },
        }),
        JSON.stringify({
          AWS: {
            'Fn::GetAtt': [
              t.stack.getLogicalId(t.users.node.findChild('RotationFunctionRole').node.defaultChild as any),
              'Arn',
            ],
          },
        }),
      ]),
    );
  });

  test('IAM: customer-managed policies only; "*" only for actions without resource-level permissions', () => {
    const cfn = (type: string) =>
      t.users.node
        .findAll()
        .filter((c) => (c as any).cfnResourceType === type)
        .map((c) => [c.node.path, R[t.stack.getLogicalId(c as any)]] as const);
    expect(cfn('AWS::IAM::Role')).toHaveLength(3);
    expect(cfn('AWS::IAM::Policy')).toEqual([]);
    const NO_RESOURCE_LEVEL = new Set([
      'ec2:CreateNetworkInterface',
      'ec2:DescribeNetworkInterfaces',
      'ec2:DescribeSubnets',
      'ec2:DeleteNetworkInterface',
      'ec2:AssignPrivateIpAddresses',
      'ec2:UnassignPrivateIpAddresses',
      'secretsmanager:GetRandomPassword',
    ]);
    const policies = cfn('AWS::IAM::ManagedPolicy');
    expect(policies).toHaveLength(3);
    for (const [, p] of policies) {
      for (const s of p.Properties.PolicyDocument.Statement) {
        const actions: string[] = [].concat(s.Action);
        expect(actions.some((a) => a.includes('*'))).toBe(false);
        if (JSON.stringify(s.Resource).includes('"*"')) for (const a of actions) expect(NO_RESOURCE_LEVEL).toContain(a);
        if (actions.some((a) => a.startsWith('kms:')))
          expect(s.Condition).toEqual({ StringEquals: { 'kms:ViaService': expect.anything() } });
      }
    }
    // The provider framework may only invoke the users function (unqualified ARN) and write its logs.
    const provider = policies.find(([path]) => path.endsWith('ProviderPolicy/Resource'))![1];
    const invoke = provider.Properties.PolicyDocument.Statement[0];
    expect([...invoke.Action].sort()).toEqual(['lambda:GetFunction', 'lambda:InvokeFunction']);
    expect(invoke.Resource).toEqual({ 'Fn::GetAtt': [t.id(t.users.function), 'Arn'] });
    // The users function reads the admin and user secrets; it cannot write any secret.
    const usersPolicy = JSON.stringify(policies.find(([path]) => path.endsWith('/Users/FunctionPolicy/Resource'))![1]);
    expect(usersPolicy).not.toMatch(/PutSecretValue|UpdateSecretVersionStage/);
  });

  test('the Celery endpoint of a role is the application user on the vhost the custom resource reports, never the admin', () => {
    const e = t.users.celeryEndpoint(CeleryRole.PRODUCER);
    expect(e).toMatchObject({
      scheme: 'amqps',
      port: 5671,
      username: 'celery-producer',
      secretUsernameField: 'username',
    });
    expect(t.stack.resolve(e.vhost)).toEqual({ 'Fn::GetAtt': [t.id(t.users.resource), 'Vhost'] });
    expect(t.stack.resolve(e.secretArn)).toEqual({ Ref: t.id(t.users.userFor(CeleryRole.PRODUCER).secret) });
  });

  test('the bundled handler exports both entry points', () => {
    const code = R[t.id(t.users.function)].Properties.Code;
    expect(code.S3Key).toMatch(/\.zip$/);
    // eslint-disable-next-line @typescript-eslint/no-require-imports -- the built bundle, loaded as Lambda loads it
    const bundle = require(join(__dirname, '..', '..', 'assets', 'handlers', 'rabbitmq-users', 'index.js'));
    expect(typeof bundle.onEvent).toBe('function');
    expect(typeof bundle.onRotate).toBe('function');
  });
});

describe('RabbitMqApplicationUsers options', () => {
  test('sharedUser: one user serves both roles', () => {
    const t = build({ sharedUser: true, rotationDays: 7 });
    expect(t.users.users).toHaveLength(1);
    expect(t.users.userFor(CeleryRole.PRODUCER)).toBe(t.users.userFor(CeleryRole.WORKER));
    expect(t.json.Resources[t.id(t.users.resource)].Properties.Users.map((u: any) => u.Name)).toEqual(['celery-app']);
    for (const [, s] of t.of('AWS::SecretsManager::RotationSchedule'))
      expect(s.Properties.RotationRules.ScheduleExpression).toBe('rate(7 days)');
  });

  test('RabbitMQ 3.13: no default queue type, no dead-letter policy, no exchange replaced on the vhost', () => {
    const t = build({}, { engineVersion: '3.13' });
    const p = t.json.Resources[t.id(t.users.resource)].Properties;
    expect(p.DefaultQueueType).toBeUndefined();
    expect(p.DeadLetterQueue).toBeUndefined();
    expect(p.ReplaceDirectExchanges).toBeUndefined();
  });

  test('deliveryLimit on RabbitMQ 3.13 is refused: classic queues have no delivery limit', () => {
    expect(() => build({ deliveryLimit: 5 }, { engineVersion: '3.13' })).toThrow(
      'deliveryLimit 5 applies only to quorum queues (RabbitMQ 4): classic queues have no delivery limit.',
    );
  });

  test('deliveryLimit and directExchangesToReplace reach the custom resource', () => {
    const t = build({ deliveryLimit: 5, directExchangesToReplace: ['celery', 'reports'] });
    const p = t.json.Resources[t.id(t.users.resource)].Properties;
    expect(p.DeliveryLimit).toBe(5);
    expect(p.ReplaceDirectExchanges).toEqual(['celery', 'reports']);
  });

  test('an existing Secrets Manager endpoint is used (private DNS): none is created and no endpoint URL is set', () => {
    const { stack, vpc } = stackWithVpc();
    const mine = vpc.addInterfaceEndpoint('Mine', {
      service: ec2.InterfaceVpcEndpointAwsService.SECRETS_MANAGER,
      open: false,
    });
    const broker = new RabbitMqBroker(stack, 'Broker', { vpc });
    const users = new RabbitMqApplicationUsers(stack, 'Users', { broker, secretsManagerEndpoint: mine });
    const { json } = templateOf(stack);
    expect(Object.values<any>(json.Resources).filter((r) => r.Type === 'AWS::EC2::VPCEndpoint')).toHaveLength(1);
    expect(
      json.Resources[stack.getLogicalId(users.function.node.defaultChild as any)].Properties.Environment,
    ).toBeUndefined();
    // The function's group may reach the endpoint's group on 443.
    const mineSg = stack.getLogicalId(mine.connections.securityGroups[0].node.defaultChild as any);
    expect(
      Object.values<any>(json.Resources).some(
        (r) =>
          r.Type === 'AWS::EC2::SecurityGroupIngress' &&
          r.Properties.GroupId['Fn::GetAtt'][0] === mineSg &&
          r.Properties.FromPort === 443,
      ),
    ).toBe(true);
  });

  test('a broker with an imported admin secret: its secret is not rotated here (not ours), the users still are', () => {
    const { stack, vpc } = stackWithVpc();
    const secret = secretsmanager.Secret.fromSecretCompleteArn(
      stack,
      'Existing',
      'arn:aws:secretsmanager:eu-west-1:111122223333:secret:admin-AbCdEf',
    );
    const broker = new RabbitMqBroker(stack, 'Broker', { vpc, adminCredentials: BrokerCredentials.fromSecret(secret) });
    new RabbitMqApplicationUsers(stack, 'Users', { broker });
    const { json } = templateOf(stack);
    const schedules = Object.values<any>(json.Resources).filter(
      (r) => r.Type === 'AWS::SecretsManager::RotationSchedule',
    );
    expect(schedules).toHaveLength(2);
    expect(broker.generatedAdminSecret).toBeUndefined();
    expect(schedules.some((r) => JSON.stringify(r.Properties.SecretId).includes('admin-AbCdEf'))).toBe(false);
  });
});
