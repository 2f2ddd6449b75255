import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import { CeleryConfig, CeleryRole, RabbitMqApplicationUsers, RabbitMqBroker, RedisCache } from '../../lib/cdk';
import { stackWithVpc, templateOf } from './helpers';
import { thrown } from '../thrown';

/** A broker or cache made elsewhere gets application users and settings through the construct interfaces. */
describe('imported broker and cache', () => {
  const ADMIN = 'arn:aws:secretsmanager:eu-west-1:111122223333:secret:mq-admin-AbCdEf';
  const TOKEN = 'arn:aws:secretsmanager:eu-west-1:111122223333:secret:cache-token-AbCdEf';
  const HOST = 'b-1234abcd-5678-90ef-1234-567890abcdef.mq.eu-west-1.on.aws';

  function imported() {
    const { stack, vpc } = stackWithVpc();
    const brokerGroup = ec2.SecurityGroup.fromSecurityGroupId(stack, 'BrokerGroup', 'sg-0broker000000000', {
      mutable: true,
    });
    const broker = RabbitMqBroker.fromBrokerAttributes(stack, 'Broker', {
      brokerHost: HOST,
      securityGroup: brokerGroup,
      vpc,
      adminSecret: secretsmanager.Secret.fromSecretCompleteArn(stack, 'Admin', ADMIN),
    });
    const users = new RabbitMqApplicationUsers(stack, 'Users', { broker });
    const cache = RedisCache.fromCacheAttributes(stack, 'Cache', {
      primaryEndpointAddress: 'master.celery.abc123.euw1.cache.amazonaws.com',
      securityGroup: ec2.SecurityGroup.fromSecurityGroupId(stack, 'CacheGroup', 'sg-0cache0000000000', {
        mutable: true,
      }),
      authTokenSecret: secretsmanager.Secret.fromSecretCompleteArn(stack, 'Token', TOKEN),
    });
    return { stack, broker, users, cache };
  }

  test("the users custom resource calls the imported broker's management API, and its group lets the function in on 443 only", () => {
    const { stack } = imported();
    const { json } = templateOf(stack);
    const custom = Object.values(json.Resources).filter((r: any) => r.Type === 'Custom::CeleryRabbitMqUsers');
    expect(custom).toHaveLength(1);
    expect((custom[0] as any).Properties.ManagementUrl).toBe(`https://${HOST}`);
    expect((custom[0] as any).Properties.AdminSecretArn).toBe(ADMIN);
    const ingress = Object.values(json.Resources).filter(
      (r: any) => r.Type === 'AWS::EC2::SecurityGroupIngress' && r.Properties.GroupId === 'sg-0broker000000000',
    ) as any[];
    expect(ingress.map((r) => [r.Properties.FromPort, r.Properties.ToPort, r.Properties.IpProtocol])).toEqual([
      [443, 443, 'tcp'],
    ]);
  });

  test('settings for the imported pair: amqps as the worker user, rediss with the AUTH token; grants read exactly those secrets', () => {
    const { stack, users, cache } = imported();
    const config = new CeleryConfig({
      broker: users.celeryEndpoint(CeleryRole.WORKER),
      resultBackend: cache.celeryEndpoint(),
    });
    expect(config.model.broker).toMatchObject({ scheme: 'amqps', host: HOST, port: 5671, username: 'celery-worker' });
    expect(stack.resolve(config.model.broker.vhost)).toEqual({
      'Fn::GetAtt': [stack.getLogicalId(users.resource.node.defaultChild as any), 'Vhost'],
    });
    expect(config.model.resultBackend).toMatchObject({
      scheme: 'rediss',
      port: 6380,
      secretArn: TOKEN,
      secretField: 'password',
    });
    const role = new iam.Role(stack, 'Reader', { assumedBy: new iam.ServicePrincipal('ecs-tasks.amazonaws.com') });
    cache.grantReadCredentials(role);
    users.grantRead(role, CeleryRole.WORKER);
    const readerId = stack.getLogicalId(role.node.defaultChild as any);
    const policies = Object.values(templateOf(stack).json.Resources).filter(
      (r: any) =>
        r.Type === 'AWS::IAM::Policy' && JSON.stringify(r.Properties.Roles) === JSON.stringify([{ Ref: readerId }]),
    );
    const text = JSON.stringify(policies);
    expect(policies).toHaveLength(1);
    expect(text).toContain(TOKEN);
    expect(text).not.toContain(ADMIN);
    expect(text).toContain('UsersWorkerCredentials');
  });

  test('the attributes are checked like props', () => {
    const { stack, vpc } = stackWithVpc();
    const e = thrown(() =>
      RabbitMqBroker.fromBrokerAttributes(stack, 'Broker', {
        brokerHost: HOST,
        engineVersion: '3.8',
        securityGroup: ec2.SecurityGroup.fromSecurityGroupId(stack, 'G', 'sg-0broker000000000'),
        vpc,
        adminSecret: secretsmanager.Secret.fromSecretCompleteArn(stack, 'Admin', ADMIN),
      }),
    );
    expect(e.issues.map((i) => i.prop)).toEqual(['engineVersion']);
    const e2 = thrown(() =>
      RedisCache.fromCacheAttributes(stack, 'Cache', {
        primaryEndpointAddress: 'x',
        port: 80,
        securityGroup: ec2.SecurityGroup.fromSecurityGroupId(stack, 'G2', 'sg-0cache0000000000'),
        authTokenSecret: secretsmanager.Secret.fromSecretCompleteArn(stack, 'T', TOKEN),
      }),
    );
    expect(e2.issues.map((i) => i.prop)).toEqual(['port']);
  });
});
