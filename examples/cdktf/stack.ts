import { Aspects, S3Backend, TerraformOutput, TerraformStack } from 'cdktf';
import { Construct } from 'constructs';
import { AwsProvider, CeleryEncryptionGuard, CeleryTransport } from 'celery-tls-constructs/cdktf';

/**
 * The CDK for Terraform example: a CeleryTransport with every default (Amazon MQ for RabbitMQ 4.2 broker, Valkey
 * result backend) in an existing VPC, on three private subnets in three Availability Zones. No data sources are
 * needed for placement, so it synthesizes offline. The encryption guard fails synthesis if any cache, broker, security
 * group rule or secret of the stack loses its encryption settings (escape hatches included).
 */
export class CeleryTlsExampleStack extends TerraformStack {
  public readonly transport: CeleryTransport;

  constructor(scope: Construct, id: string) {
    super(scope, id);
    // Write-only arguments (secret_string_wo) need Terraform or OpenTofu 1.11: CDK Terrain checks the declared
    // targets at synth (cdktf ignores this context). Set before any child construct.
    this.node.setContext('targetVersions', { terraform: '>=1.11.0', opentofu: '>=1.11.0' });
    // The state holds the AUTH token and the broker password (see docs/cdktf.md): keep it in an encrypted backend.
    new S3Backend(this, {
      bucket: 'example-terraform-state',
      key: `${id}.tfstate`,
      region: 'eu-west-1',
      encrypt: true,
    });
    this.addOverride('terraform.backend.s3.use_lockfile', true);
    // Write-only arguments (secret_string_wo) need Terraform 1.11 or later.
    this.addOverride('terraform.required_version', '>= 1.11.0');
    new AwsProvider(this, 'aws', { region: 'eu-west-1' });

    this.transport = new CeleryTransport(this, 'Celery', {
      vpcId: 'vpc-0example0celery01',
      subnets: [
        { subnetId: 'subnet-0example0private0a', availabilityZone: 'eu-west-1a' },
        { subnetId: 'subnet-0example0private0b', availabilityZone: 'eu-west-1b' },
        { subnetId: 'subnet-0example0private0c', availabilityZone: 'eu-west-1c' },
      ],
    });

    // A worker: spread this into its ECS container definition, give its execution role the policy below, and
    // attach transport.workersSecurityGroup to its service.
    new TerraformOutput(this, 'WorkerContainerEnvironment', {
      value: JSON.stringify(this.transport.containerEnvironment()),
    });
    new TerraformOutput(this, 'WorkerExecutionRolePolicy', { value: this.transport.credentialsReadPolicyJson() });

    Aspects.of(this).add(new CeleryEncryptionGuard());
  }
}
