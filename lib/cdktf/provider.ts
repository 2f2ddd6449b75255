/**
 * The one door to the Terraform CDK: every @cdktf/provider-aws class the library uses, imported by deep path (the
 * package root loads all ~1,500 resource bindings: seconds and hundreds of MB at every synth), and the cdktf core
 * names. No other file of lib/ names either package, so supporting CDK Terrain (`cdktn` and `@cdktn/provider-aws`,
 * the maintained fork of the deprecated cdktf) is a change to this file.
 */
export {
  Annotations,
  AssetType,
  Aspects,
  DefaultTokenResolver,
  Fn,
  Lazy,
  StringConcat,
  TerraformAsset,
  TerraformOutput,
  TerraformResource,
  TerraformStack,
  Token,
  Tokenization,
} from 'cdktf';
export type { IAspect, ITerraformDependable } from 'cdktf';
export { AcmpcaCertificate } from '@cdktf/provider-aws/lib/acmpca-certificate';
export { AcmpcaCertificateAuthority } from '@cdktf/provider-aws/lib/acmpca-certificate-authority';
export { AcmpcaCertificateAuthorityCertificate } from '@cdktf/provider-aws/lib/acmpca-certificate-authority-certificate';
export { AwsProvider } from '@cdktf/provider-aws/lib/provider';
export { CloudwatchDashboard } from '@cdktf/provider-aws/lib/cloudwatch-dashboard';
export { CloudwatchEventRule } from '@cdktf/provider-aws/lib/cloudwatch-event-rule';
export { CloudwatchEventTarget } from '@cdktf/provider-aws/lib/cloudwatch-event-target';
export { CloudwatchLogGroup } from '@cdktf/provider-aws/lib/cloudwatch-log-group';
export { CloudwatchMetricAlarm } from '@cdktf/provider-aws/lib/cloudwatch-metric-alarm';
export { DataAwsCallerIdentity } from '@cdktf/provider-aws/lib/data-aws-caller-identity';
export { DataAwsPartition } from '@cdktf/provider-aws/lib/data-aws-partition';
export { DataAwsRegion } from '@cdktf/provider-aws/lib/data-aws-region';
export { DataAwsSecretsmanagerRandomPassword } from '@cdktf/provider-aws/lib/data-aws-secretsmanager-random-password';
export { DataAwsSecretsmanagerSecretVersion } from '@cdktf/provider-aws/lib/data-aws-secretsmanager-secret-version';
export { DbInstance } from '@cdktf/provider-aws/lib/db-instance';
export { DbParameterGroup } from '@cdktf/provider-aws/lib/db-parameter-group';
export { DbSubnetGroup } from '@cdktf/provider-aws/lib/db-subnet-group';
export { ElasticacheParameterGroup } from '@cdktf/provider-aws/lib/elasticache-parameter-group';
export { ElasticacheReplicationGroup } from '@cdktf/provider-aws/lib/elasticache-replication-group';
export { ElasticacheSubnetGroup } from '@cdktf/provider-aws/lib/elasticache-subnet-group';
export { ElasticacheUser } from '@cdktf/provider-aws/lib/elasticache-user';
export { ElasticacheUserGroup } from '@cdktf/provider-aws/lib/elasticache-user-group';
export { IamPolicy } from '@cdktf/provider-aws/lib/iam-policy';
export { IamRole } from '@cdktf/provider-aws/lib/iam-role';
export { IamRolePolicy } from '@cdktf/provider-aws/lib/iam-role-policy';
export { IamRolePolicyAttachment } from '@cdktf/provider-aws/lib/iam-role-policy-attachment';
export { KmsKey } from '@cdktf/provider-aws/lib/kms-key';
export { LambdaFunction } from '@cdktf/provider-aws/lib/lambda-function';
export { LambdaInvocation } from '@cdktf/provider-aws/lib/lambda-invocation';
export { LambdaPermission } from '@cdktf/provider-aws/lib/lambda-permission';
export { MqBroker } from '@cdktf/provider-aws/lib/mq-broker';
export { MqConfiguration } from '@cdktf/provider-aws/lib/mq-configuration';
export { RdsCluster } from '@cdktf/provider-aws/lib/rds-cluster';
export { RdsClusterInstance } from '@cdktf/provider-aws/lib/rds-cluster-instance';
export { RdsClusterParameterGroup } from '@cdktf/provider-aws/lib/rds-cluster-parameter-group';
export { SecretsmanagerSecret } from '@cdktf/provider-aws/lib/secretsmanager-secret';
export { SecretsmanagerSecretRotation } from '@cdktf/provider-aws/lib/secretsmanager-secret-rotation';
export { SecretsmanagerSecretVersion } from '@cdktf/provider-aws/lib/secretsmanager-secret-version';
export { SecurityGroup } from '@cdktf/provider-aws/lib/security-group';
export { SnsTopic } from '@cdktf/provider-aws/lib/sns-topic';
export { SnsTopicPolicy } from '@cdktf/provider-aws/lib/sns-topic-policy';
export { SsmParameter } from '@cdktf/provider-aws/lib/ssm-parameter';
export { VpcEndpoint } from '@cdktf/provider-aws/lib/vpc-endpoint';
export { VpcEndpointPolicy } from '@cdktf/provider-aws/lib/vpc-endpoint-policy';
export { VpcSecurityGroupEgressRule } from '@cdktf/provider-aws/lib/vpc-security-group-egress-rule';
export { VpcSecurityGroupIngressRule } from '@cdktf/provider-aws/lib/vpc-security-group-ingress-rule';
