/**
 * The one door to the Terraform CDK: every @cdktf/provider-aws class the library uses, imported by deep path (the
 * package root loads all ~1,500 resource bindings: seconds and hundreds of MB at every synth), and the cdktf core
 * names. No other file of lib/ names either package, so supporting CDK Terrain (`cdktn` and `@cdktn/provider-aws`,
 * the maintained fork of the deprecated cdktf) is a change to this file.
 */
export {
  Annotations,
  Aspects,
  DefaultTokenResolver,
  Fn,
  StringConcat,
  TerraformOutput,
  TerraformResource,
  TerraformStack,
  Token,
  Tokenization,
} from 'cdktf';
export type { IAspect } from 'cdktf';
export { AwsProvider } from '@cdktf/provider-aws/lib/provider';
export { CloudwatchLogGroup } from '@cdktf/provider-aws/lib/cloudwatch-log-group';
export { DataAwsCallerIdentity } from '@cdktf/provider-aws/lib/data-aws-caller-identity';
export { DataAwsPartition } from '@cdktf/provider-aws/lib/data-aws-partition';
export { DataAwsRegion } from '@cdktf/provider-aws/lib/data-aws-region';
export { DataAwsSecretsmanagerRandomPassword } from '@cdktf/provider-aws/lib/data-aws-secretsmanager-random-password';
export { DataAwsSecretsmanagerSecretVersion } from '@cdktf/provider-aws/lib/data-aws-secretsmanager-secret-version';
export { ElasticacheParameterGroup } from '@cdktf/provider-aws/lib/elasticache-parameter-group';
export { ElasticacheReplicationGroup } from '@cdktf/provider-aws/lib/elasticache-replication-group';
export { ElasticacheSubnetGroup } from '@cdktf/provider-aws/lib/elasticache-subnet-group';
export { IamRolePolicy } from '@cdktf/provider-aws/lib/iam-role-policy';
export { KmsKey } from '@cdktf/provider-aws/lib/kms-key';
export { MqBroker } from '@cdktf/provider-aws/lib/mq-broker';
export { MqConfiguration } from '@cdktf/provider-aws/lib/mq-configuration';
export { SecretsmanagerSecret } from '@cdktf/provider-aws/lib/secretsmanager-secret';
export { SecretsmanagerSecretVersion } from '@cdktf/provider-aws/lib/secretsmanager-secret-version';
export { SecurityGroup } from '@cdktf/provider-aws/lib/security-group';
export { SsmParameter } from '@cdktf/provider-aws/lib/ssm-parameter';
export { VpcSecurityGroupEgressRule } from '@cdktf/provider-aws/lib/vpc-security-group-egress-rule';
export { VpcSecurityGroupIngressRule } from '@cdktf/provider-aws/lib/vpc-security-group-ingress-rule';
