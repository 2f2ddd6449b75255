import { Construct } from 'constructs';
import { onePerAvailabilityZone } from '../core/subnets';
import { DEFAULTS } from '../core/defaults';
import { heldChoice } from '../core/choices';
import type { BrokerClientCertificatesChoice, BrokerCredentialsChoice } from '../core/choices';
import { IamStatementModel, readSecretStatements } from '../core/iam';
import { NAME_RULES } from '../core/names';
import { PORTS } from '../core/ports';
import { brokerResourceSettings, renderRabbitMqConf } from '../core/rabbitmq';
import { brokerCaReadStatements, brokerRoleTrustConditions, renderMutualTlsRabbitMqConf } from '../core/rabbitmq-mtls';
import type { RabbitMqMutualTlsSpec } from '../core/rabbitmq-mtls';
import type { RabbitMqBrokerOptions, RabbitMqBrokerSpec } from '../core/rabbitmq';
import { planBroker } from '../core/plan';
import { physicalNameFromPath } from '../core/terraform';
import { CDKTF_CONTEXT, GeneratedSecret, PlacementProps, SecretSource, applyIssues, awsFacts } from './common';
import { createKey, policyDocument } from './common';
import { CelerySecurityGroup, Connections, IConnectable } from './connections';
import { BrokerClientCertificates, BrokerCredentials } from './credentials';
import type { BrokerClientCertificatesBinding } from './credentials';
import { Fn, IamPolicy, IamRole, IamRolePolicyAttachment, KmsKey, MqBroker, MqConfiguration, Token } from './provider';
import type { IRabbitMqBrokerContract } from '../core/contracts';
import type { TerraformTarget } from './target';

/** Props of the Terraform `RabbitMqBroker`; one subnet for a single instance, up to three (one per AZ) for a cluster. */
export interface RabbitMqBrokerProps extends RabbitMqBrokerOptions, PlacementProps {
  /**
   * The admin user's password: generated at apply time into a new secret, or read from an existing one.
   * @default BrokerCredentials.generated()
   */
  readonly adminCredentials?: BrokerCredentials;
  /**
   * Require client certificates from an AWS Private CA (mutual TLS, RabbitMQ 4.2 and later): clients log in by the
   * certificate's common name. `RabbitMqApplicationUsers` then issues one per user and rotates it.
   * @default - password login only
   */
  readonly clientCertificates?: BrokerClientCertificates;
  /**
   * ARN of the key of the admin secret. (Amazon MQ for RabbitMQ encrypts its storage with an AWS-owned key; a
   * customer key is not available for RabbitMQ brokers.)
   * @default - a new customer-managed key with rotation, which Terraform refuses to destroy
   */
  readonly encryptionKeyArn?: string;
  /** `prevent_destroy` on the broker: queued tasks live on it. @default true */
  readonly preventDestroy?: boolean;
}

/**
 * An Amazon MQ for RabbitMQ broker for Celery on Terraform: private, a three-node Multi-AZ cluster by default,
 * RabbitMQ 4.2 on mq.m7g, general logs, automatic minor upgrades, and an admin password generated at apply time into
 * a CMK-encrypted secret. Amazon MQ for RabbitMQ accepts only TLS: AMQPS on 5671 and HTTPS management on 443/15671.
 */
export class RabbitMqBroker extends Construct implements IConnectable, IRabbitMqBrokerContract<TerraformTarget> {
  /** Who may reach the broker (AMQPS on 5671 by default). */
  public readonly connections: Connections;
  /** The settings it was made with, every default applied. */
  public readonly spec: RabbitMqBrokerSpec;
  /** The broker's own group: ingress on 5671 from allowed peers only, no egress. */
  public readonly securityGroup: CelerySecurityGroup;
  /** JSON secret with `username` and `password` of the admin user. */
  public readonly adminSecret: SecretSource;
  /** The key created here, unless credentials or `encryptionKeyArn` were given. */
  public readonly encryptionKey?: KmsKey;
  /** The broker id (`aws_mq_broker.id`). */
  public readonly brokerId: string;
  /** The broker ARN. */
  public readonly brokerArn: string;
  /** DNS name of the AMQPS endpoint (the certificate is issued for it). */
  public readonly brokerHost: string;
  /** Always 5671: Amazon MQ for RabbitMQ has no plaintext AMQP listener. */
  public readonly amqpsPort: number = PORTS.AMQPS;
  /** The `aws_mq_broker` resource. */
  public readonly resource: MqBroker;
  /** The broker configuration (rabbitmq.conf): the consumer timeout, and with client certificates the mTLS keys. */
  public readonly configuration: MqConfiguration;
  /** The broker's name (the `Broker` dimension of its CloudWatch metrics). */
  public readonly brokerName: string;
  /** The VPC of its group. */
  public readonly vpcId: string;
  /** The subnets of its nodes. */
  public readonly subnetIds: readonly string[];
  /** One subnet per Availability Zone of those it was given: the users functions and their endpoint run there. */
  public readonly functionSubnetIds: readonly string[];
  /** The admin secret when it was generated here (it is then rotated with the application users). */
  public readonly generatedAdminSecret?: GeneratedSecret;
  /** With `clientCertificates`: the CA, the trust anchor and the certificate lifetimes. */
  public readonly mutualTls?: RabbitMqMutualTlsSpec;
  /** With `clientCertificates`: the role Amazon MQ assumes to read the trusted CA's certificate. */
  public readonly configurationRole?: IamRole;
  /** With `BrokerClientCertificates.newSubordinateCa()`: the CA and its installed certificate. */
  public readonly clientCa?: BrokerClientCertificatesBinding['clientCa'];

  constructor(scope: Construct, id: string, props: RabbitMqBrokerProps) {
    super(scope, id);
    const credentials = props.adminCredentials ?? BrokerCredentials.generated();
    const input = {
      props,
      credentials: heldChoice<BrokerCredentialsChoice<unknown>>(credentials),
      clientCertificates: props.clientCertificates
        ? heldChoice<BrokerClientCertificatesChoice>(props.clientCertificates)
        : undefined,
      subnets: { prop: 'subnets', facts: props.subnets },
    };
    const plan = applyIssues(this, planBroker(input, CDKTF_CONTEXT));
    this.spec = plan.spec;
    const spec = plan.spec;

    this.securityGroup = new CelerySecurityGroup(this, 'SecurityGroup', {
      vpcId: props.vpcId,
      description: `Amazon MQ for RabbitMQ: AMQPS on ${PORTS.AMQPS}/tcp from allowed Celery clients only`,
      defaultPort: PORTS.AMQPS,
    });
    this.connections = this.securityGroup.connections;

    let key: KmsKey | undefined;
    this.adminSecret = credentials.bind(
      this,
      plan,
      () =>
        props.encryptionKeyArn ?? (key = createKey(this, 'Key', `${this.node.path}: Amazon MQ admin credentials`)).arn,
    );
    this.encryptionKey = key;
    if (this.adminSecret instanceof GeneratedSecret) this.generatedAdminSecret = this.adminSecret;
    this.vpcId = props.vpcId;
    this.subnetIds = plan.subnets.map((s) => s.subnetId);
    this.functionSubnetIds = onePerAvailabilityZone(props.subnets).map((s) => s.subnetId);

    const preventDestroy = props.preventDestroy ?? DEFAULTS.terraform.brokerPreventDestroy;
    // Terraform requires the name (CloudFormation generates one).
    const brokerName =
      spec.brokerName ??
      physicalNameFromPath(
        this.node.scopes.slice(1).map((s) => s.node.id),
        NAME_RULES.brokerName,
      );
    this.brokerName = brokerName;
    let mutualTlsConf: string | undefined;
    let configurationAttachment: IamRolePolicyAttachment | undefined;
    if (props.clientCertificates) {
      const facts = awsFacts(this);
      const certificates = props.clientCertificates.bind(this, plan);
      this.clientCa = certificates.clientCa;
      this.mutualTls = certificates.mutualTls;
      // https://docs.aws.amazon.com/amazon-mq/latest/developer-guide/arn-support-rabbitmq-configuration.html
      this.configurationRole = new IamRole(this, 'ConfigurationRole', {
        description: `${this.node.path}: Amazon MQ reads the client CA certificate named in the broker configuration`,
        assumeRolePolicy: JSON.stringify({
          Version: '2012-10-17',
          Statement: [
            {
              Effect: 'Allow',
              Principal: { Service: 'mq.amazonaws.com' },
              Action: 'sts:AssumeRole',
              Condition: brokerRoleTrustConditions({
                account: facts.account,
                partition: facts.partition,
                region: facts.region,
                brokerName,
              }),
            },
          ],
        }),
      });
      const configurationPolicy = new IamPolicy(this, 'ConfigurationPolicy', {
        description: `${this.node.path}: read the client CA certificate`,
        policy: policyDocument(brokerCaReadStatements(this.mutualTls.trustAnchorCaArn)),
      });
      configurationAttachment = new IamRolePolicyAttachment(this, 'ConfigurationPolicyAttachment', {
        role: this.configurationRole.name,
        policyArn: configurationPolicy.arn,
      });
      mutualTlsConf = renderMutualTlsRabbitMqConf({
        caArn: this.mutualTls.trustAnchorCaArn,
        roleArn: this.configurationRole.arn,
      });
    }
    // The same names and descriptions as on the CDK side ("-mtls" with client certificates).
    this.configuration = new MqConfiguration(this, 'Configuration', {
      name: `${brokerName}-${mutualTlsConf ? 'mtls' : 'celery'}`.slice(0, 150),
      description: mutualTlsConf
        ? 'celery-tls-constructs: client certificates required, EXTERNAL login by common name; consumer timeout for Celery'
        : 'celery-tls-constructs: consumer timeout for Celery (acks-late tasks)',
      engineType: 'RabbitMQ',
      engineVersion: spec.engineVersion,
      data: renderRabbitMqConf(spec, mutualTlsConf),
    });
    this.resource = new MqBroker(this, 'Resource', {
      brokerName,
      // The provider documents the engine as "RabbitMQ" (the API's RABBITMQ, compared without case).
      engineType: spec.engineType === 'RABBITMQ' ? 'RabbitMQ' : spec.engineType,
      ...brokerResourceSettings(spec),
      securityGroups: [this.securityGroup.securityGroupId],
      subnetIds: plan.subnets.map((s) => s.subnetId),
      user: [{ username: spec.adminUsername, password: this.adminSecret.value }],
      configuration: { id: this.configuration.id, revision: this.configuration.latestRevision },
      lifecycle: preventDestroy ? { preventDestroy: true } : undefined,
      // Amazon MQ checks the configuration's ARNs with the role when it applies it: the role must be able to by then.
      dependsOn: configurationAttachment ? [configurationAttachment] : undefined,
    });

    this.brokerId = this.resource.id;
    this.brokerArn = this.resource.arn;
    // instances[0].endpoints[0] is "amqps://b-<id>.mq.<region>.<suffix>:5671"; keep the host only.
    const endpoint = Token.asString(Fn.element(this.resource.instances.get(0).endpoints, 0));
    this.brokerHost = Token.asString(
      Fn.element(Fn.split(':', Token.asString(Fn.element(Fn.split('://', endpoint), 1))), 0),
    );
  }

  /**
   * IAM statements that let a role read the admin credentials (the secret by ARN, and kms:Decrypt through Secrets
   * Manager); the Terraform counterpart of `grantReadAdminCredentials`.
   */
  public adminCredentialsReadStatements(): IamStatementModel[] {
    return readSecretStatements({
      secretArn: this.adminSecret.secretArn,
      keyArn: this.adminSecret.encryptionKeyArn,
      region: awsFacts(this).region,
    });
  }
}
