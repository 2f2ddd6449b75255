import { CfnElement } from 'aws-cdk-lib';
import { Testing } from 'cdktf';
import * as cdk from '../../lib/cdk';
import * as tf from '../../lib/cdktf';
import { stackWithVpc, templateOf } from '../cdk/helpers';
import { VPC_ID, subnets, tfStack } from '../cdktf/helpers';

/**
 * No data loss on change for a PostgreSQL result backend: the identities of its stateful resources are pinned on
 * both targets (a rename would replace the database, its key or its role secrets), the database is snapshotted and
 * protected, and its physical identifier (create-only on RDS) is derived from the construct path, the same on both.
 */

describe.each(['instance', 'aurora'] as const)('PostgreSQL result backend (%s): pinned identities', (kind) => {
  test('CDK: logical ids, types and deletion policies', () => {
    const { stack, vpc } = stackWithVpc();
    new cdk.CeleryTransport(stack, 'Celery', { vpc, resultBackend: cdk.CeleryResultBackend.postgres({ kind }) });
    const { json } = templateOf(stack);
    const at = (path: string) => {
      const c = stack.node.findAll().find((x) => x.node.path === `Test/${path}`);
      if (!c) throw new Error(`no construct at ${path}`);
      const id = stack.getLogicalId(c as CfnElement);
      const r = json.Resources[id] as any;
      return [id, r.Type, r.DeletionPolicy ?? 'Delete'];
    };
    // Reviewed by hand: [construct path, logical id, type, DeletionPolicy].
    const PINNED: [string, string, string, string][] = [
      [
        'Celery/ResultBackend/Resource',
        'CeleryResultBackendF180876B',
        kind === 'aurora' ? 'AWS::RDS::DBCluster' : 'AWS::RDS::DBInstance',
        'Snapshot',
      ],
      ['Celery/ResultBackend/Key/Resource', 'CeleryResultBackendKey1A3054BD', 'AWS::KMS::Key', 'Retain'],
      [
        'Celery/ResultBackend/WorkerCredentials/Resource',
        'CeleryResultBackendWorkerCredentials60339F57',
        'AWS::SecretsManager::Secret',
        'Retain',
      ],
      [
        'Celery/ResultBackend/ProducerCredentials/Resource',
        'CeleryResultBackendProducerCredentials6CC9C303',
        'AWS::SecretsManager::Secret',
        'Retain',
      ],
      [
        'Celery/ResultBackend/PostgresqlLog/Resource',
        'CeleryResultBackendPostgresqlLogD6318F84',
        'AWS::Logs::LogGroup',
        'Retain',
      ],
    ];
    for (const [path, id, type, policy] of PINNED) expect([path, ...at(path)]).toEqual([path, id, type, policy]);
    const db = json.Resources.CeleryResultBackendF180876B as any;
    expect(db.UpdateReplacePolicy).toBe('Snapshot');
    expect(db.Properties.DeletionProtection).toBe(true);
    expect(db.Properties[kind === 'aurora' ? 'DBClusterIdentifier' : 'DBInstanceIdentifier']).toBe(
      'test-celery-resultbackend-ab4a590c',
    );
  });

  test('Terraform: resource addresses, protection and the final snapshot', () => {
    const { stack } = tfStack();
    const t = new tf.CeleryTransport(stack, 'Celery', {
      vpcId: VPC_ID,
      subnets: subnets(),
      resultBackend: tf.CeleryResultBackend.postgres({ kind }),
    });
    const json = JSON.parse(Testing.synth(stack));
    const type = kind === 'aurora' ? 'aws_rds_cluster' : 'aws_db_instance';
    const db = json.resource[type].Celery_ResultBackend_F180876B;
    expect(db).toBeDefined();
    expect(db).toMatchObject({
      deletion_protection: true,
      skip_final_snapshot: false,
      final_snapshot_identifier: 'test-celery-resultbackend-ab4a590c-final',
      [kind === 'aurora' ? 'cluster_identifier' : 'identifier']: 'test-celery-resultbackend-ab4a590c',
    });
    expect(json.resource.aws_kms_key.Celery_ResultBackend_Key_DF08E899.lifecycle).toEqual({ prevent_destroy: true });
    expect(
      Object.keys(json.resource.aws_secretsmanager_secret)
        .filter((n) => n.startsWith('Celery_ResultBackend'))
        .sort(),
    ).toEqual(['Celery_ResultBackend_ProducerCredentials_6CC9C303', 'Celery_ResultBackend_WorkerCredentials_60339F57']);
    expect(t.resultBackendDatabase!.logGroups.postgresql.friendlyUniqueId).toBe(
      'Celery_ResultBackend_PostgresqlLog_7FE1D5C1',
    );
    expect(json.resource.aws_cloudwatch_log_group.Celery_ResultBackend_PostgresqlLog_7FE1D5C1.skip_destroy).toBe(true);
  });
});
