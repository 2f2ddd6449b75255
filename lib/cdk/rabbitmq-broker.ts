import { Fn, Names, RemovalPolicy, Stack, Token } from 'aws-cdk-lib';
import * as acmpca from 'aws-cdk-lib/aws-acmpca';
import * as amazonmq from 'aws-cdk-lib/aws-amazonmq';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import { Construct, IConstruct } from 'constructs';
import { heldChoice } from '../core/choices';
import { IRabbitMqBrokerContract } from '../core/contracts';
import { PORTS } from '../core/ports';
import { planBroker } from '../core/plan';
import { brokerResourceSettings, renderRabbitMqConf, resolveRabbitMqBrokerSpec } from '../core/rabbitmq';
import type { RabbitMqBrokerOptions, RabbitMqBrokerSpec } from '../core/rabbitmq';
import { brokerCaReadStatements, brokerRoleTrustConditions, renderMutualTlsRabbitMqConf } from '../core/rabbitmq-mtls';
import type { RabbitMqMutualTlsSpec } from '../core/rabbitmq-mtls';
import { CDK_CONTEXT, applyIssues, createKey, defaultRemovalPolicy, defaultSubnets, grantSecretRead } from './common';
import { subnetFacts, toPolicyStatement } from './common';
import type { PlacementProps } from './common';
import { BrokerClientCertificates, BrokerCredentials } from './credentials';
import { CdkTarget } from './target';
import { WIRE } from '../core/wire';

/** Props of `RabbitMqBroker`; one subnet is used for a single instance, up to three (one per AZ) for a cluster. */
export interface RabbitMqBrokerProps extends RabbitMqBrokerOptions, PlacementProps {
  /**
   * The admin user's password: generated into a new secret, or read from an existing one.
   * @default BrokerCredentials.generated()
   */
  readonly adminCredentials?: BrokerCredentials;
  /**
   * Key of the admin secret. (Amazon MQ for RabbitMQ encrypts its storage with an AWS-owned key; a customer key is
   * not available for RabbitMQ brokers.)
   * @default - a new customer-managed key with rotation, retained on delete
   */
  readonly encryptionKey?: kms.IKey;
  /**
   * What happens to the broker when it leaves the stack.
   * @default RemovalPolicy.RETAIN (queued tasks live on the broker)
   */
  readonly removalPolicy?: RemovalPolicy;
  /**
   * Require client certificates from an AWS Private CA and log clients in by the certificate (RabbitMQ 4.2).
   * @default - password login over TLS
   */
  readonly clientCertificates?: BrokerClientCertificates;
}

/**
 * A broker that `RabbitMqApplicationUsers` can give a vhost and users to: a `RabbitMqBroker`, or one made elsewhere
 * (`RabbitMqBroker.fromBrokerAttributes`).
 */
export interface IRabbitMqBroker extends IRabbitMqBrokerContract<CdkTarget>, ec2.IConnectable, IConstruct {
  /** The broker's security group (the users function's rules are added to it). */
  readonly securityGroup: ec2.ISecurityGroup;
  /** The broker's VPC (the users functions run in it). */
  readonly vpc: ec2.IVpc;
  /** The subnets the users functions run in: the broker's. */
  readonly vpcSubnets: ec2.SubnetSelection;
  /** The key of the admin secret, when known (the users' secrets default to it). */
  readonly encryptionKey?: kms.IKey;
  /** The admin secret when the library generated it: rotated with the users. */
  readonly generatedAdminSecret?: secretsmanager.Secret;
  /** With client certificates: the CA and the certificate lifetimes. */
  readonly mutualTls?: RabbitMqMutualTlsSpec;
  /** With a new subordinate CA: its activation, which certificates are issued after. */
  readonly clientCa?: {
    readonly authority: acmpca.CfnCertificateAuthority;
    readonly activation: acmpca.CfnCertificateAuthorityActivation;
  };
}

/** An Amazon MQ for RabbitMQ broker made elsewhere, for `RabbitMqBroker.fromBrokerAttributes`. */
export interface RabbitMqBrokerAttributes extends Pick<RabbitMqBrokerOptions, 'engineVersion' | 'adminUsername'> {
  /** DNS name of the AMQPS endpoint (`b-<id>.mq.<region>.on.aws`, without scheme or port). */
  readonly brokerHost: string;
  /** The broker's security group; rules are added to it, so import it mutable. */
  readonly securityGroup: ec2.ISecurityGroup;
  /** The broker's VPC. */
  readonly vpc: ec2.IVpc;
  /** Where the users functions run. @default - the VPC's isolated subnets, or its private subnets with egress */
  readonly vpcSubnets?: ec2.SubnetSelection;
  /** JSON secret with `username` and `password` of the admin user (the management API is called as it). */
  readonly adminSecret: secretsmanager.ISecret;
}

/**
 * An Amazon MQ for RabbitMQ broker for Celery: private, a three-node Multi-AZ cluster by default, RabbitMQ 4.2 on
 * mq.m7g, general logs, automatic minor upgrades, and an admin password generated into a CMK-encrypted secret.
 * Amazon MQ for RabbitMQ accepts only TLS: AMQPS on 5671 and HTTPS management on 443/15671.
 */
export class RabbitMqBroker extends Construct implements IRabbitMqBroker {
  /**
   * A broker made elsewhere (another stack, the console, Terraform), to give it a vhost and Celery users with
   * `RabbitMqApplicationUsers` and to render settings for it. Its attributes are checked like a new broker's props.
   * Password login only: an imported broker has no `mutualTls`.
   */
  public static fromBrokerAttributes(scope: Construct, id: string, attrs: RabbitMqBrokerAttributes): IRabbitMqBroker {
    return new ImportedRabbitMqBroker(scope, id, attrs);
  }

  /** Who may reach the broker (AMQPS by default). */
  public readonly connections: ec2.Connections;
  /** The settings it was made with, every default applied. */
  public readonly spec: RabbitMqBrokerSpec;
  /** The broker's own group: ingress on 5671 (and 443 for the users function) only, no egress. */
  public readonly securityGroup: ec2.SecurityGroup;
  /** JSON secret with `username` and `password` of the admin user. */
  public readonly adminSecret: secretsmanager.ISecret;
  /** The admin secret when this construct generated it (then `RabbitMqApplicationUsers` rotates it). */
  public readonly generatedAdminSecret?: secretsmanager.Secret;
  /** The key of the admin secret: made here, given, or the existing secret's. */
  public readonly encryptionKey?: kms.IKey;
  /** The broker id (`Ref`). */
  public readonly brokerId: string;
  /** The broker ARN. */
  public readonly brokerArn: string;
  /** DNS name of the AMQPS endpoint (the certificate is issued for it). */
  public readonly brokerHost: string;
  /** Always 5671: Amazon MQ for RabbitMQ has no plaintext AMQP listener. */
  public readonly amqpsPort: number = PORTS.AMQPS;
  /** The L1 resource, for inspection; escape hatches that weaken it are what the encryption guard catches. */
  public readonly resource: amazonmq.CfnBroker;
  /** The broker's VPC. */
  public readonly vpc: ec2.IVpc;
  /** With `clientCertificates`: the CA and the certificate lifetimes; the broker requires client certificates. */
  public readonly mutualTls?: RabbitMqMutualTlsSpec;
  /** The broker configuration: consumer timeout, and the mutual-TLS keys with client certificates. */
  public readonly configuration: amazonmq.CfnConfiguration;
  /** The broker's name (the `Broker` dimension of its CloudWatch metrics). */
  public readonly brokerName: string;
  /** With `clientCertificates`: the role Amazon MQ reads the CA certificate with. */
  public readonly configurationRole?: iam.Role;
  /** With `BrokerClientCertificates.newSubordinateCa()`: the CA, and its activation (certificates are issued after it). */
  public readonly clientCa?: {
    readonly authority: acmpca.CfnCertificateAuthority;
    readonly activation: acmpca.CfnCertificateAuthorityActivation;
  };
  /** The subnets the broker's nodes are placed in (the users function runs there too). */
  public readonly vpcSubnets: ec2.SubnetSelection;

  constructor(scope: Construct, id: string, props: RabbitMqBrokerProps) {
    super(scope, id);
    const credentials = props.adminCredentials ?? BrokerCredentials.generated();
    this.vpc = props.vpc;
    this.vpcSubnets = props.vpcSubnets ?? defaultSubnets(props.vpc);
    const plan = applyIssues(
      this,
      planBroker(
        {
          props,
          credentials: heldChoice(credentials),
          clientCertificates: props.clientCertificates ? heldChoice(props.clientCertificates) : undefined,
          subnets: { prop: 'vpcSubnets', facts: subnetFacts(props.vpc, this.vpcSubnets) },
        },
        CDK_CONTEXT,
      ),
    );
    const spec = plan.spec;
    this.spec = spec;

    this.securityGroup = new ec2.SecurityGroup(this, 'SecurityGroup', {
      vpc: props.vpc,
      description: `Amazon MQ for RabbitMQ: AMQPS on ${PORTS.AMQPS}/tcp from allowed Celery clients only`,
      allowAllOutbound: false,
    });
    this.connections = new ec2.Connections({
      securityGroups: [this.securityGroup],
      defaultPort: ec2.Port.tcp(PORTS.AMQPS),
    });

    const admin = credentials.bind(
      this,
      plan,
      () => props.encryptionKey ?? createKey(this, 'Key', `${this.node.path}: Amazon MQ admin credentials`),
    );
    this.adminSecret = admin.adminSecret;
    this.generatedAdminSecret = admin.generatedAdminSecret;
    this.encryptionKey = admin.encryptionKey;

    const brokerName =
      spec.brokerName ?? Names.uniqueResourceName(this, { maxLength: 50, allowedSpecialCharacters: '-_' });
    this.brokerName = brokerName;
    let configurationPolicy: iam.ManagedPolicy | undefined;
    let mutualTlsConf: string | undefined;
    if (props.clientCertificates) {
      const stack = Stack.of(this);
      const certificates = props.clientCertificates.bind(this, plan);
      this.clientCa = certificates.clientCa;
      this.mutualTls = certificates.mutualTls;
      // https://docs.aws.amazon.com/amazon-mq/latest/developer-guide/arn-support-rabbitmq-configuration.html
      this.configurationRole = new iam.Role(this, 'ConfigurationRole', {
        assumedBy: new iam.ServicePrincipal('mq.amazonaws.com').withConditions(
          brokerRoleTrustConditions({
            account: stack.account,
            partition: stack.partition,
            region: stack.region,
            brokerName,
          }),
        ),
        description: `${this.node.path}: Amazon MQ reads the client CA certificate named in the broker configuration`,
      });
      configurationPolicy = new iam.ManagedPolicy(this, 'ConfigurationPolicy', {
        description: `${this.node.path}: read the client CA certificate`,
        roles: [this.configurationRole],
        statements: brokerCaReadStatements(this.mutualTls.trustAnchorCaArn).map(toPolicyStatement),
      });
      mutualTlsConf = renderMutualTlsRabbitMqConf({
        caArn: this.mutualTls.trustAnchorCaArn,
        roleArn: this.configurationRole.roleArn,
      });
    }
    // Every broker gets one (the consumer timeout); its name stays "-mtls" where it was, so no configuration is replaced.
    this.configuration = new amazonmq.CfnConfiguration(this, 'Configuration', {
      name: `${brokerName}-${mutualTlsConf ? 'mtls' : 'celery'}`.slice(0, 150),
      description: mutualTlsConf
        ? 'celery-tls-constructs: client certificates required, EXTERNAL login by common name; consumer timeout for Celery'
        : 'celery-tls-constructs: consumer timeout for Celery (acks-late tasks)',
      engineType: spec.engineType,
      engineVersion: spec.engineVersion,
      data: Fn.base64(renderRabbitMqConf(spec, mutualTlsConf)),
    });

    this.resource = new amazonmq.CfnBroker(this, 'Resource', {
      brokerName,
      engineType: spec.engineType,
      ...brokerResourceSettings(spec),
      securityGroups: [this.securityGroup.securityGroupId],
      subnetIds: plan.subnets.map((s) => s.subnetId),
      users: [
        {
          username: spec.adminUsername,
          password: this.adminSecret.secretValueFromJson(WIRE.secretPasswordField).unsafeUnwrap(),
        },
      ],
      configuration: { id: this.configuration.ref, revision: Token.asNumber(this.configuration.attrRevision) },
    });
    // Amazon MQ checks the configuration's ARNs with the role when it applies it: the role must be able to by then.
    if (configurationPolicy) this.resource.node.addDependency(configurationPolicy);
    this.resource.applyRemovalPolicy(props.removalPolicy ?? defaultRemovalPolicy('broker'));

    this.brokerId = this.resource.ref;
    this.brokerArn = this.resource.attrArn;
    // AmqpEndpoints[0] is "amqps://b-<id>.mq.<region>.<suffix>:5671"; keep the host only.
    this.brokerHost = Fn.select(
      0,
      Fn.split(':', Fn.select(1, Fn.split('://', Fn.select(0, this.resource.attrAmqpEndpoints)))),
    );
  }

  /** Lets the grantee read the admin credentials (the secret by ARN, and kms:Decrypt through Secrets Manager). */
  public grantReadAdminCredentials(grantee: iam.IGrantable): iam.Grant {
    return grantSecretRead(this, grantee, this.adminSecret);
  }
}

/** A broker made elsewhere: its attributes, checked as a new broker's props are. */
class ImportedRabbitMqBroker extends Construct implements IRabbitMqBroker {
  public readonly connections: ec2.Connections;
  public readonly spec: RabbitMqBrokerSpec;
  public readonly securityGroup: ec2.ISecurityGroup;
  public readonly vpc: ec2.IVpc;
  public readonly vpcSubnets: ec2.SubnetSelection;
  public readonly adminSecret: secretsmanager.ISecret;
  public readonly encryptionKey?: kms.IKey;
  public readonly brokerHost: string;
  public readonly amqpsPort: number = PORTS.AMQPS;

  constructor(scope: Construct, id: string, attrs: RabbitMqBrokerAttributes) {
    super(scope, id);
    this.vpc = attrs.vpc;
    this.vpcSubnets = attrs.vpcSubnets ?? defaultSubnets(attrs.vpc);
    this.spec = applyIssues(
      this,
      resolveRabbitMqBrokerSpec(
        { engineVersion: attrs.engineVersion, adminUsername: attrs.adminUsername },
        { existingSecret: true },
        CDK_CONTEXT,
      ),
    );
    this.securityGroup = attrs.securityGroup;
    this.connections = new ec2.Connections({
      securityGroups: [attrs.securityGroup],
      defaultPort: ec2.Port.tcp(PORTS.AMQPS),
    });
    this.adminSecret = attrs.adminSecret;
    this.encryptionKey = attrs.adminSecret.encryptionKey;
    this.brokerHost = attrs.brokerHost;
  }
}
