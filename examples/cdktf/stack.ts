import { Aspects, S3Backend, TerraformOutput, TerraformStack } from 'cdktf';
import { Construct } from 'constructs';
import {
  AwsProvider,
  BrokerClientCertificates,
  CeleryBroker,
  CeleryEncryptionGuard,
} from 'celery-tls-constructs/cdktf';
import { CeleryResultBackend, CeleryRole, CeleryTransport, RedisAuth } from 'celery-tls-constructs/cdktf';

/** Props of the example stack. */
export interface CeleryTlsExampleProps {
  /** An AWS Private CA for client certificates (mutual TLS to the broker): `CLIENT_CA_ARN=<arn> npm run synth:cdktf`. */
  readonly clientCaArn?: string;
}

/**
 * The CDK for Terraform example, the counterpart of the CDK one: a CeleryTransport (Amazon MQ for RabbitMQ 4.2 broker
 * with a producer and a worker user, Valkey result backend with RBAC users, every secret rotated) in an existing VPC,
 * on three private subnets in three Availability Zones. No data sources are needed for placement, so it synthesizes
 * offline. The encryption guard fails synthesis if any cache, broker, security group rule or secret of the stack
 * loses its encryption settings (escape hatches included).
 */
export class CeleryTlsExampleStack extends TerraformStack {
  public readonly transport: CeleryTransport;

  constructor(scope: Construct, id: string, props: CeleryTlsExampleProps = {}) {
    super(scope, id);
    // Write-only arguments (secret_string_wo) need Terraform or OpenTofu 1.11: CDK Terrain checks the declared
    // targets at synth (cdktf ignores this context). Set before any child construct.
    this.node.setContext('targetVersions', { terraform: '>=1.11.0', opentofu: '>=1.11.0' });
    // The state holds the broker admin's and the cache users' first passwords (see docs/cdktf.md): keep it in an
    // encrypted backend.
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
      // With a private CA: client certificates instead of passwords on AMQP (RabbitMQ 4.2, EXTERNAL login).
      broker: CeleryBroker.rabbitMq({
        clientCertificates: props.clientCaArn ? BrokerClientCertificates.fromPrivateCa(props.clientCaArn) : undefined,
      }),
      // RBAC users instead of an AUTH token: one user per role, passwords rotated every 30 days.
      resultBackend: CeleryResultBackend.redis({ authToken: RedisAuth.rbacUsers() }),
    });

    // Workers and producers (web apps): spread each role's environment into its ECS container definition, give its
    // execution role that role's policy, and attach transport.workersSecurityGroup or producersSecurityGroup.
    for (const [name, role] of [
      ['Worker', CeleryRole.WORKER],
      ['Producer', CeleryRole.PRODUCER],
    ] as const) {
      new TerraformOutput(this, `${name}ContainerEnvironment`, {
        value: JSON.stringify(this.transport.containerEnvironment(role)),
      });
      new TerraformOutput(this, `${name}ExecutionRolePolicy`, {
        value: this.transport.credentialsReadPolicyJson(role),
      });
    }

    Aspects.of(this).add(new CeleryEncryptionGuard());
  }
}
