import { App, CfnElement, Stack } from 'aws-cdk-lib';
import { TerraformStack, Testing } from 'cdktf';
import * as cdk from '../../lib/cdk';
import * as tf from '../../lib/cdktf';
import { TransitEncryptionMode } from '../../lib/core';
import { CeleryTlsExampleStack } from '../../examples/cdk/stack';
import { CeleryTlsExampleStack as TfExampleStack } from '../../examples/cdktf/stack';
import { stackWithVpc } from '../cdk/helpers';
import { VPC_ID, subnets, tfStack } from '../cdktf/helpers';

/**
 * No data loss on change: the identities of the stateful resources of both examples are pinned (a rename would
 * replace them), they are retained, snapshotted or protected on delete, and the TLS migration step changes nothing
 * but the mode. docs/data-safety.md explains each row.
 */

/** Every leaf path where two JSON documents differ. */
function diff(a: unknown, b: unknown, path = ''): string[] {
  if (a && b && typeof a === 'object' && typeof b === 'object') {
    const keys = [...new Set([...Object.keys(a), ...Object.keys(b)])].sort();
    return keys.flatMap((k) => diff((a as any)[k], (b as any)[k], path ? `${path}.${k}` : k));
  }
  return JSON.stringify(a) === JSON.stringify(b) ? [] : [path];
}

describe('CDK example: stateful resources keep their logical ids and survive deletion', () => {
  const app = new App();
  const stack = new CeleryTlsExampleStack(app, 'CeleryTlsExample');
  const template = app.synth().getStackByName('CeleryTlsExample').template;
  const idAt = (path: string) => {
    const c = stack.node.findAll().find((x) => x.node.path === `CeleryTlsExample/${path}`);
    if (!c) throw new Error(`no construct at ${path}`);
    return stack.getLogicalId(c as CfnElement);
  };

  // Reviewed by hand. A changed id is a new resource: CloudFormation creates it and deletes (or orphans) the old one.
  // [construct path, logical id, type, DeletionPolicy]
  const PINNED: [string, string, string, string][] = [
    ['Celery/Broker/Resource', 'CeleryBroker310F6D0B', 'AWS::AmazonMQ::Broker', 'Retain'],
    ['Celery/Broker/Key/Resource', 'CeleryBrokerKeyE56A5937', 'AWS::KMS::Key', 'Retain'],
    [
      'Celery/Broker/AdminCredentials/Resource',
      'CeleryBrokerAdminCredentials602F9F36',
      'AWS::SecretsManager::Secret',
      'Retain',
    ],
    // The application users' secrets: a new id would generate new passwords the broker does not know until the
    // custom resource runs again. The functions' log groups keep their history.
    [
      'Celery/BrokerUsers/ProducerCredentials/Resource',
      'CeleryBrokerUsersProducerCredentials000AF63C',
      'AWS::SecretsManager::Secret',
      'Retain',
    ],
    [
      'Celery/BrokerUsers/WorkerCredentials/Resource',
      'CeleryBrokerUsersWorkerCredentials4E4288EF',
      'AWS::SecretsManager::Secret',
      'Retain',
    ],
    [
      'Celery/BrokerUsers/FunctionLogs/Resource',
      'CeleryBrokerUsersFunctionLogs8A4F8B5A',
      'AWS::Logs::LogGroup',
      'Retain',
    ],
    [
      'Celery/BrokerUsers/ProviderLogs/Resource',
      'CeleryBrokerUsersProviderLogs00078CAC',
      'AWS::Logs::LogGroup',
      'Retain',
    ],
    [
      'Celery/BrokerUsers/RotationFunctionLogs/Resource',
      'CeleryBrokerUsersRotationFunctionLogsD3BEC532',
      'AWS::Logs::LogGroup',
      'Retain',
    ],
    ['Celery/ResultBackend/Resource', 'CeleryResultBackendF180876B', 'AWS::ElastiCache::ReplicationGroup', 'Snapshot'],
    ['Celery/ResultBackend/Key/Resource', 'CeleryResultBackendKey1A3054BD', 'AWS::KMS::Key', 'Retain'],
    // The RBAC users' secrets (the cache's users take their passwords from them) and the rotation function's logs.
    [
      'Celery/ResultBackend/ProducerCredentials/Resource',
      'CeleryResultBackendProducerCredentials6CC9C303',
      'AWS::SecretsManager::Secret',
      'Retain',
    ],
    [
      'Celery/ResultBackend/WorkerCredentials/Resource',
      'CeleryResultBackendWorkerCredentials60339F57',
      'AWS::SecretsManager::Secret',
      'Retain',
    ],
    [
      'Celery/ResultBackend/RotationFunctionLogs/Resource',
      'CeleryResultBackendRotationFunctionLogs53336007',
      'AWS::Logs::LogGroup',
      'Retain',
    ],
    ['Celery/ResultBackend/SlowLog/Resource', 'CeleryResultBackendSlowLog355A7F90', 'AWS::Logs::LogGroup', 'Retain'],
    [
      'Celery/ResultBackend/EngineLog/Resource',
      'CeleryResultBackendEngineLog095B9249',
      'AWS::Logs::LogGroup',
      'Retain',
    ],
    ['LogsKey/Resource', 'LogsKeyA6AB43B2', 'AWS::KMS::Key', 'Retain'],
    ['Celery/AlarmTopicKey/Resource', 'CeleryAlarmTopicKey678072B0', 'AWS::KMS::Key', 'Retain'],
    ['Celery/CanaryFunctionLogs/Resource', 'CeleryCanaryFunctionLogsF558ADC0', 'AWS::Logs::LogGroup', 'Retain'],
    ['FlowLogs/Resource', 'FlowLogs16C1943A', 'AWS::Logs::LogGroup', 'Retain'],
    ['WorkerLogs/Resource', 'WorkerLogsC1193B08', 'AWS::Logs::LogGroup', 'Retain'],
  ];

  test.each(PINNED)('%s is %s (%s), DeletionPolicy and UpdateReplacePolicy %s', (path, id, type, policy) => {
    expect(idAt(path)).toBe(id);
    expect(template.Resources[id]).toMatchObject({ Type: type, DeletionPolicy: policy, UpdateReplacePolicy: policy });
  });

  test('every stateful resource of the template is pinned above', () => {
    const stateful =
      /^AWS::(AmazonMQ::Broker|ElastiCache::ReplicationGroup|KMS::Key|SecretsManager::Secret|Logs::LogGroup)$/;
    const ids = Object.entries<any>(template.Resources)
      .filter(([, r]) => stateful.test(r.Type))
      .map(([id]) => id)
      .sort();
    expect(ids).toEqual(PINNED.map(([, id]) => id).sort());
  });

  test('the cache subnet group (create-only CacheSubnetGroupName: a new group replaces the cache) is pinned too', () => {
    expect(idAt('Celery/ResultBackend/SubnetGroup')).toBe('CeleryResultBackendSubnetGroupCEEE5FD1');
    expect(template.Resources.CeleryResultBackendF180876B.Properties.CacheSubnetGroupName).toEqual({
      Ref: 'CeleryResultBackendSubnetGroupCEEE5FD1',
    });
  });
});

/** Stateful Terraform resources: a changed address is a destroy and a create (unless a `moved` block says otherwise). */
const TF_STATEFUL =
  /^aws_(mq_broker|elasticache_replication_group|elasticache_subnet_group|kms_key|secretsmanager_secret|cloudwatch_log_group|elasticache_user|elasticache_user_group|acmpca_certificate_authority)$/;

function pinned(title: string, json: any, PINNED: [string, Record<string, unknown>][]) {
  describe(title, () => {
    const block = (address: string) => {
      const [type, name] = address.split('.');
      return json.resource?.[type]?.[name];
    };
    test.each(PINNED)('%s', (address, protection) => {
      expect(block(address)).toMatchObject(protection);
    });
    test('every stateful resource of the stack is pinned above', () => {
      const addresses = Object.entries<any>(json.resource)
        .filter(([type]) => TF_STATEFUL.test(type))
        .flatMap(([type, byName]) => Object.keys(byName).map((n) => `${type}.${n}`))
        .sort();
      expect(addresses).toEqual(PINNED.map(([a]) => a).sort());
    });
  });
}

// Reviewed by hand. The broker, the result backend and their keys, secrets and logs of a transport with every default.
const TF_TRANSPORT_CORE: [string, Record<string, unknown>][] = [
  [
    'aws_mq_broker.Celery_Broker_310F6D0B',
    { lifecycle: { prevent_destroy: true }, broker_name: 'celery-tls-example-Celery-Broker-7cb01ec6' },
  ],
  ['aws_kms_key.Celery_Broker_Key_D04074A0', { lifecycle: { prevent_destroy: true }, deletion_window_in_days: 30 }],
  ['aws_secretsmanager_secret.Celery_Broker_AdminCredentials_602F9F36', { recovery_window_in_days: 30 }],
  [
    'aws_elasticache_replication_group.Celery_ResultBackend_F180876B',
    {
      replication_group_id: 'celery-tls-example-celery-resul-4f1a6bf3',
      final_snapshot_identifier: 'celery-tls-example-celery-resul-4f1a6bf3-final',
    },
  ],
  [
    'aws_elasticache_subnet_group.Celery_ResultBackend_SubnetGroup_CEEE5FD1',
    { name: 'celery-tls-example-celery-resul-4f1a6bf3' },
  ],
  [
    'aws_kms_key.Celery_ResultBackend_Key_DF08E899',
    { lifecycle: { prevent_destroy: true }, deletion_window_in_days: 30 },
  ],
  ['aws_cloudwatch_log_group.Celery_ResultBackend_SlowLog_32A3A951', { skip_destroy: true }],
  ['aws_cloudwatch_log_group.Celery_ResultBackend_EngineLog_F9D2FFA8', { skip_destroy: true }],
  // The alarms' topic key and the TLS canary's logs (monitoring, on by default).
  ['aws_kms_key.Celery_AlarmTopicKey_06E28921', { lifecycle: { prevent_destroy: true }, deletion_window_in_days: 30 }],
  ['aws_cloudwatch_log_group.Celery_CanaryFunctionLogs_D756E8A3', { skip_destroy: true }],
];
// The broker's application users: their secrets and the functions' logs.
const TF_BROKER_USERS: [string, Record<string, unknown>][] = [
  ['aws_secretsmanager_secret.Celery_BrokerUsers_ProducerCredentials_000AF63C', { recovery_window_in_days: 30 }],
  ['aws_secretsmanager_secret.Celery_BrokerUsers_WorkerCredentials_4E4288EF', { recovery_window_in_days: 30 }],
  [
    'aws_cloudwatch_log_group.Celery_BrokerUsers_FunctionLogs_71084D0E',
    { skip_destroy: true, name: '/aws/lambda/celery-tls-example-Celery-BrokerUsers-Function-4c9cc41e' },
  ],
  [
    'aws_cloudwatch_log_group.Celery_BrokerUsers_RotationFunctionLogs_DB9B3F7C',
    { skip_destroy: true, name: '/aws/lambda/celery-tls-example-Celery-BrokerUsers-RotationFunction-1e930425' },
  ],
];

const tfTransportWithDefaults = () => {
  const stack = new TerraformStack(Testing.app(), 'celery-tls-example');
  new tf.AwsProvider(stack, 'aws', { region: 'eu-west-1' });
  new tf.CeleryTransport(stack, 'Celery', { vpcId: VPC_ID, subnets: subnets() });
  return JSON.parse(Testing.synth(stack));
};

// A transport with every default keeps the addresses it had before the application users came to Terraform: the
// AUTH-token secret of the result backend stays where it was; the users add resources, they move none.
pinned(
  'cdktf transport with every default: stateful resources keep their addresses and physical names, and are protected',
  tfTransportWithDefaults(),
  [
    ...TF_TRANSPORT_CORE,
    ['aws_secretsmanager_secret.Celery_ResultBackend_AuthToken_4D4D6EC5', { recovery_window_in_days: 30 }],
    ...TF_BROKER_USERS,
  ],
);

// The example uses RBAC users on the result backend (as the CDK example does): their secrets, and the rotation logs.
pinned(
  'cdktf example: stateful resources keep their addresses and physical names, and are protected',
  JSON.parse(Testing.synth(new TfExampleStack(Testing.app(), 'celery-tls-example'))),
  [
    ...TF_TRANSPORT_CORE,
    ...TF_BROKER_USERS,
    ['aws_secretsmanager_secret.Celery_ResultBackend_ProducerCredentials_6CC9C303', { recovery_window_in_days: 30 }],
    ['aws_secretsmanager_secret.Celery_ResultBackend_WorkerCredentials_60339F57', { recovery_window_in_days: 30 }],
    [
      'aws_cloudwatch_log_group.Celery_ResultBackend_RotationFunctionLogs_4432ACDC',
      { skip_destroy: true, name: '/aws/lambda/celery-tls-example-Celery-ResultBackend-RotationFunctio-7a7dc2ed' },
    ],
    [
      'aws_elasticache_user.Celery_ResultBackend_DefaultUser_8EAFD6A5',
      { user_name: 'default', access_string: 'off -@all' },
    ],
    ['aws_elasticache_user.Celery_ResultBackend_ProducerUser_EC370B5E', { user_name: 'celery-producer' }],
    ['aws_elasticache_user.Celery_ResultBackend_WorkerUser_86F00686', { user_name: 'celery-worker' }],
    ['aws_elasticache_user_group.Celery_ResultBackend_UserGroup_61702D49', {}],
  ],
);

describe('TLS migration of an existing cache: "preferred", then "required", changes only the mode', () => {
  test('CDK: the two templates differ in TransitEncryptionMode only', () => {
    const synth = (mode: TransitEncryptionMode) => {
      const { app, stack, vpc } = stackWithVpc();
      new cdk.CeleryTransport(stack, 'Celery', {
        vpc,
        broker: cdk.CeleryBroker.redis({ transitEncryptionMode: mode }),
      });
      return { stack, template: app.synth().getStackByName(stack.stackName).template };
    };
    const step1 = synth(TransitEncryptionMode.PREFERRED);
    const step2 = synth(TransitEncryptionMode.REQUIRED);
    const id = (step1.stack as Stack).getLogicalId(
      step1.stack.node.findAll().find((c) => c.node.path === 'Test/Celery/Broker/Resource') as CfnElement,
    );
    expect(step1.template.Resources[id].Properties.TransitEncryptionMode).toBe('preferred');
    expect(diff(step1.template, step2.template)).toEqual([`Resources.${id}.Properties.TransitEncryptionMode`]);
  });

  test('cdktf: the two configurations differ in transit_encryption_mode only', () => {
    const synth = (mode: TransitEncryptionMode) => {
      const { stack } = tfStack();
      new tf.CeleryTransport(stack, 'Celery', {
        vpcId: VPC_ID,
        subnets: subnets(),
        broker: tf.CeleryBroker.redis({ transitEncryptionMode: mode }),
      });
      return JSON.parse(Testing.synth(stack));
    };
    const step1 = synth(TransitEncryptionMode.PREFERRED);
    const step2 = synth(TransitEncryptionMode.REQUIRED);
    const [name] = Object.keys(step1.resource.aws_elasticache_replication_group);
    expect(step1.resource.aws_elasticache_replication_group[name].transit_encryption_mode).toBe('preferred');
    expect(diff(step1, step2)).toEqual([`resource.aws_elasticache_replication_group.${name}.transit_encryption_mode`]);
  });

  test('the diff can fail: a changed port is seen', () => {
    const { app, stack, vpc } = stackWithVpc();
    new cdk.RedisCache(stack, 'A', { vpc, port: 6390 });
    const a = app.synth().getStackByName('Test').template;
    const other = stackWithVpc();
    new cdk.RedisCache(other.stack, 'A', { vpc: other.vpc });
    const b = other.app.synth().getStackByName('Test').template;
    expect(diff(a, b).filter((p) => p.endsWith('.Port') || p.includes('FromPort'))).not.toEqual([]);
  });
});
