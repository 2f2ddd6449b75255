import { Construct } from 'constructs';
import { rabbitMqCeleryEndpoint } from '../core/celery/endpoints';
import { CeleryEndpoint } from '../core/celery/model';
import { clientCertificateFunctionPlan, rabbitMqUsersFunctionPlans } from '../core/identities';
import { rabbitMqUsersResourceProperties } from '../core/identities';
import type { LibraryFunctionPlan } from '../core/identities';
import { IamStatementModel, readSecretStatements } from '../core/iam';
import { PORTS } from '../core/ports';
import { clientCertificateShape } from '../core/rabbitmq-mtls';
import type { RabbitMqMutualTlsSpec } from '../core/rabbitmq-mtls';
import { CeleryRole, resolveRabbitMqApplicationUsersSpec, userIdStem, userServing } from '../core/rabbitmq-users';
import type { RabbitMqApplicationUsersOptions, RabbitMqApplicationUsersSpec } from '../core/rabbitmq-users';
import { DEFAULTS } from '../core/defaults';
import { CDKTF_CONTEXT, GeneratedSecret, applyIssues, awsFacts, createKey } from './common';
import { CelerySecurityGroup, ISecurityGroupPeer } from './connections';
import type { CelerySecurityGroupRule } from './connections';
import { createLibraryFunction, rotateSecrets } from './functions';
import type { LibraryFunction } from './functions';
import { Fn, LambdaInvocation, SecretsmanagerSecretRotation, Token, VpcEndpoint, VpcEndpointPolicy } from './provider';
import { Lazy, VpcSecurityGroupIngressRule } from './provider';
import type { RabbitMqBroker } from './rabbitmq-broker';

/** Props of the Terraform `RabbitMqApplicationUsers`. */
export interface RabbitMqApplicationUsersProps extends RabbitMqApplicationUsersOptions {
  /** The broker. */
  readonly broker: RabbitMqBroker;
  /**
   * The security group of an existing Secrets Manager interface endpoint in the broker's VPC with private DNS on:
   * the functions reach it on 443 (its group gets the ingress rule) and use the service's default name.
   * @default - a new endpoint without private DNS (so it never clashes with one the VPC already has), reachable only
   * from the functions, with a policy that allows only the functions' roles to use these secrets
   */
  readonly secretsManagerEndpoint?: ISecurityGroupPeer;
  /** ARN of the key of the user secrets and the functions' log groups. @default - the broker's key */
  readonly encryptionKeyArn?: string;
}

/** One application user: its name, the roles it serves and its secrets. */
export interface RabbitMqApplicationUser {
  /** The user name as configured; rotation alternates it with `<name>.alt`, and the secret holds the current one. */
  readonly username: string;
  /** The Celery roles the user serves (both for a shared user). */
  readonly roles: readonly CeleryRole[];
  /** `{"username", "password"}`, generated at apply time, rotated every `rotationDays`. */
  readonly secret: GeneratedSecret;
  /**
   * With a broker that requires client certificates: `{"common_name", "certificate", "certificate_chain",
   * "private_key", "not_after"}`, issued by the certificate function when the schedule is created, re-issued every
   * `renewDays`.
   */
  readonly certificateSecret?: GeneratedSecret;
}

/**
 * The vhost and the Celery application users of an Amazon MQ for RabbitMQ broker on Terraform, made by the same
 * bundled handler as on the CDK: an `aws_lambda_invocation` with `lifecycle_scope = "CRUD"` calls the RabbitMQ
 * management API over HTTPS (443) from a function inside the VPC on create, update and destroy. Its group reaches only
 * the broker's 443 and the Secrets Manager endpoint. Each user has a generated password in a CMK-encrypted secret
 * (rotated), permissions on the vhost only and no management tags.
 */
export class RabbitMqApplicationUsers extends Construct {
  /** The settings the users were made with, every default applied. */
  public readonly spec: RabbitMqApplicationUsersSpec;
  /** The vhost the users have permissions on, as configured (a literal). */
  public readonly vhost: string;
  /** The application users: one per role, or one shared user. */
  public readonly users: readonly RabbitMqApplicationUser[];
  /** The functions' group: egress to the broker's 443 and the Secrets Manager endpoint only. */
  public readonly securityGroup: CelerySecurityGroup;
  /** The function that creates the vhost, users and permissions. */
  public readonly function: LibraryFunction;
  /** Rotates the user secrets (alternating users) and the generated admin secret (in place). */
  public readonly rotationFunction: LibraryFunction;
  /** The rotation schedules of the user secrets and, when the broker generated it, of the admin secret. */
  public readonly rotationSchedules: readonly SecretsmanagerSecretRotation[];
  /** With client certificates: the function that issues them from the CA (outside the VPC: AWS APIs only). */
  public readonly certificateFunction?: LibraryFunction;
  /** The Secrets Manager interface endpoint made here (unless `secretsManagerEndpoint` was given). */
  public readonly secretsManagerEndpoint?: VpcEndpoint;
  /** The invocation (`aws_lambda_invocation`, CRUD) whose result the Celery endpoints read the vhost from. */
  public readonly resource: LambdaInvocation;
  /** ARN of the key of the user and certificate secrets and of the functions' log groups. */
  public readonly encryptionKeyArn: string;
  /** The URL of the endpoint made here (no private DNS), for `SECRETS_MANAGER_ENDPOINT`; undefined for a given one. */
  public readonly secretsManagerEndpointUrl?: string;
  private readonly broker: RabbitMqBroker;
  /** The endpoint policy's statements: filled until synthesis (other library functions may add theirs). */
  private readonly endpointStatements: object[] = [];
  private readonly endpointGroup: CelerySecurityGroup | ISecurityGroupPeer;

  constructor(scope: Construct, id: string, props: RabbitMqApplicationUsersProps) {
    super(scope, id);
    const { broker } = props;
    this.broker = broker;
    const spec = applyIssues(this, resolveRabbitMqApplicationUsersSpec(props, broker.spec, CDKTF_CONTEXT));
    this.spec = spec;
    this.vhost = spec.vhost;
    const facts = awsFacts(this);

    const keyArn =
      props.encryptionKeyArn ??
      broker.adminSecret.encryptionKeyArn ??
      createKey(this, 'Key', `${this.node.path}: Celery RabbitMQ application users`).arn;
    this.encryptionKeyArn = keyArn;
    this.users = spec.users.map((u) => {
      const name = userIdStem(u.roles);
      const version = DEFAULTS.terraform.generatedSecretVersion;
      return {
        username: u.username,
        roles: u.roles,
        secret: new GeneratedSecret(this, `${name}Credentials`, { shape: u.secret, encryptionKeyArn: keyArn, version }),
        certificateSecret: broker.mutualTls
          ? new GeneratedSecret(this, `${name}Certificate`, {
              shape: clientCertificateShape(u.username),
              encryptionKeyArn: keyArn,
              version,
            })
          : undefined,
      };
    });

    this.securityGroup = new CelerySecurityGroup(this, 'SecurityGroup', {
      vpcId: broker.vpcId,
      description: `Celery RabbitMQ users function: HTTPS ${PORTS.RABBITMQ_MANAGEMENT_HTTPS} to the broker management API and to Secrets Manager only`,
    });
    const network: CelerySecurityGroupRule[] = broker.connections.allowFrom(
      this.securityGroup,
      PORTS.RABBITMQ_MANAGEMENT_HTTPS,
      `Management API (${PORTS.RABBITMQ_MANAGEMENT_HTTPS}/tcp) from the Celery users function`,
    );

    const managementUrl = `https://${broker.brokerHost}`;
    const rotated: GeneratedSecret[] = [
      ...this.users.map((u) => u.secret),
      ...(broker.generatedAdminSecret ? [broker.generatedAdminSecret] : []),
    ];
    const plans = rabbitMqUsersFunctionPlans({
      spec,
      broker: broker.spec,
      managementUrl,
      adminSecretArn: broker.adminSecret.secretArn,
      adminKeyArn: broker.adminSecret.encryptionKeyArn,
      userSecretArns: this.users.map((u) => u.secret.secretArn),
      userKeyArn: keyArn,
      rotatedSecretArns: rotated.map((x) => x.secretArn),
      region: facts.region,
    });

    let endpointUrl: string | undefined;
    if (props.secretsManagerEndpoint) {
      this.endpointGroup = props.secretsManagerEndpoint;
    } else {
      const group = new CelerySecurityGroup(this, 'SecretsManagerEndpointSecurityGroup', {
        vpcId: broker.vpcId,
        description: `Secrets Manager endpoint of the Celery users functions: HTTPS ${PORTS.AWS_API_HTTPS} from those functions only`,
      });
      this.secretsManagerEndpoint = new VpcEndpoint(this, 'SecretsManagerEndpoint', {
        vpcId: broker.vpcId,
        serviceName: `com.amazonaws.${facts.region}.secretsmanager`,
        vpcEndpointType: 'Interface',
        subnetIds: [...broker.functionSubnetIds],
        privateDnsEnabled: false,
        securityGroupIds: [group.securityGroupId],
      });
      this.endpointGroup = group;
      // dns_entry[0] is the endpoint's regional name, covered by Secrets Manager's certificate.
      endpointUrl = `https://${this.secretsManagerEndpoint.dnsEntry.get(0).dnsName}`;
      this.secretsManagerEndpointUrl = endpointUrl;
    }
    network.push(...this.admitToEndpoint(this.securityGroup, 'the Celery users functions', ''));

    // Both functions run in the VPC with the users group: the broker's 443 and the Secrets Manager endpoint only.
    const inVpc = (plan: LibraryFunctionPlan) =>
      createLibraryFunction(this, plan, {
        keyArn,
        environment: endpointUrl ? { SECRETS_MANAGER_ENDPOINT: endpointUrl } : {},
        vpc: { subnetIds: broker.functionSubnetIds, securityGroupIds: [this.securityGroup.securityGroupId] },
      });
    // Terraform invokes it directly (CRUD), without CloudFormation's custom-resource events.
    this.function = inVpc({ ...plans.users, handler: plans.users.invocationHandler! });
    this.rotationFunction = inVpc(plans.rotation);

    let endpointPolicy: VpcEndpointPolicy | undefined;
    if (this.secretsManagerEndpoint) {
      // The endpoint serves these functions only: each role may do through it what its own policy allows.
      this.addEndpointStatements(this.function.role.arn, plans.users.statements);
      this.addEndpointStatements(this.rotationFunction.role.arn, plans.rotation.statements);
      endpointPolicy = new VpcEndpointPolicy(this, 'SecretsManagerEndpointPolicy', {
        vpcEndpointId: this.secretsManagerEndpoint.id,
        policy: Lazy.stringValue({
          produce: () => JSON.stringify({ Version: '2012-10-17', Statement: this.endpointStatements }),
        }),
      });
    }

    this.resource = new LambdaInvocation(this, 'Resource', {
      functionName: this.function.function.functionName,
      input: JSON.stringify(
        rabbitMqUsersResourceProperties({
          spec,
          broker: broker.spec,
          managementUrl,
          adminSecretArn: broker.adminSecret.secretArn,
          userSecretArns: this.users.map((u) => u.secret.secretArn),
        }),
      ),
      lifecycleScope: 'CRUD',
      // Created after, and destroyed before, the network path, the permissions and the user secrets it needs.
      dependsOn: [
        ...network,
        this.function.attachment,
        ...(this.secretsManagerEndpoint ? [this.secretsManagerEndpoint] : []),
        ...(endpointPolicy ? [endpointPolicy] : []),
        ...this.users.map((u) => u.secret.secretVersion),
      ],
    });

    // The first rotation runs when the schedule is created: the users must exist by then.
    const rotationDependsOn = [this.resource, ...(endpointPolicy ? [endpointPolicy] : [])];
    this.rotationSchedules = rotateSecrets(
      this.rotationFunction,
      rotated.map((x) => ({ scope: x, secretArn: x.secretArn })),
      plans.schedule,
      rotationDependsOn,
    );
    if (broker.mutualTls) this.certificateFunction = this.issueCertificates(broker.mutualTls);
  }

  /**
   * The certificate secrets rotate by re-issue: a function outside the VPC (it calls only the AWS Private CA and
   * Secrets Manager APIs) makes a key and CSR, has the CA sign it and stores the result; the first rotation, when the
   * schedule is created, issues the first certificate.
   */
  private issueCertificates(mtls: RabbitMqMutualTlsSpec): LibraryFunction {
    const facts = awsFacts(this);
    const secrets = this.users.map((u) => u.certificateSecret!);
    const plan = clientCertificateFunctionPlan({
      mutualTls: mtls,
      secretArns: secrets.map((x) => x.secretArn),
      keyArn: this.encryptionKeyArn,
      region: facts.region,
      partition: facts.partition,
    });
    const fn = createLibraryFunction(this, plan.function, { keyArn: this.encryptionKeyArn });
    // The first rotation issues the first certificate: the CA must be active by then.
    rotateSecrets(
      fn,
      secrets.map((x) => ({ scope: x, secretArn: x.secretArn })),
      plan.schedule,
      [...secrets.map((x) => x.secretVersion), ...(this.broker.clientCa ? [this.broker.clientCa.activation] : [])],
    );
    return fn;
  }

  /**
   * Lets another function of this library in the VPC (the TLS canary) use the Secrets Manager endpoint: its group
   * may reach the endpoint on 443, and the endpoint policy (when made here) lets its role do what its own statements
   * allow there.
   */
  public allowSecretsManagerEndpoint(
    peer: CelerySecurityGroup,
    roleArn: string,
    statements: readonly IamStatementModel[],
    what: string,
  ): void {
    this.admitToEndpoint(peer, what, peer.node.id);
    this.addEndpointStatements(roleArn, statements);
  }

  /**
   * HTTPS from a library function's group to the Secrets Manager endpoint. A given endpoint's group is given for this
   * purpose: it gets the ingress rule (id `SecretsManagerEndpointIngress<suffix>`), as the CDK side's connections do.
   */
  private admitToEndpoint(peer: CelerySecurityGroup, what: string, idSuffix: string): CelerySecurityGroupRule[] {
    const group = this.endpointGroup;
    const description = `HTTPS (${PORTS.AWS_API_HTTPS}/tcp) from ${what}`;
    if (group instanceof CelerySecurityGroup)
      return group.connections.allowFrom(peer, PORTS.AWS_API_HTTPS, description);
    return [
      new VpcSecurityGroupIngressRule(this, `SecretsManagerEndpointIngress${idSuffix}`, {
        securityGroupId: group.securityGroupId,
        referencedSecurityGroupId: peer.securityGroupId,
        ipProtocol: 'tcp',
        fromPort: PORTS.AWS_API_HTTPS,
        toPort: PORTS.AWS_API_HTTPS,
        description,
      }),
      ...peer.connections.allowTo(group, PORTS.AWS_API_HTTPS, description),
    ];
  }

  private addEndpointStatements(roleArn: string, statements: readonly IamStatementModel[]): void {
    for (const st of statements.filter((x) => x.actions.every((a) => a.startsWith('secretsmanager:'))))
      this.endpointStatements.push({
        Effect: 'Allow',
        Principal: { AWS: roleArn },
        Action: [...st.actions],
        Resource: [...st.resources],
      });
  }

  /** The user serving a role (the shared user serves both). */
  public userFor(role: CeleryRole): RabbitMqApplicationUser {
    return userServing(this.users, role);
  }

  /** The Celery endpoint for a role: amqps on 5671, this vhost, that role's user and secret. */
  public celeryEndpoint(role: CeleryRole): CeleryEndpoint {
    const user = this.userFor(role);
    // The vhost as the invocation reports it: clients configured from it are deployed after the users exist.
    const vhost = Token.asString(Fn.lookup(Fn.lookup(Fn.jsondecode(this.resource.result), 'Data'), 'Vhost'));
    return rabbitMqCeleryEndpoint(this.broker.spec, {
      host: this.broker.brokerHost,
      username: user.username,
      secretArn: user.secret.secretArn,
      vhost,
      rotatingUsername: true,
      clientCertSecretArn: user.certificateSecret?.secretArn,
    });
  }

  /** The secret a role's clients read: its client certificate with mutual TLS, else its credentials. */
  public clientSecretFor(role: CeleryRole): GeneratedSecret {
    const user = this.userFor(role);
    return user.certificateSecret ?? user.secret;
  }

  /**
   * IAM statements that let a role read one role's secret (the certificate with mutual TLS, else the credentials):
   * the secret by ARN, and kms:Decrypt through Secrets Manager. @param role @default CeleryRole.WORKER
   */
  public readStatements(role: CeleryRole = CeleryRole.WORKER): IamStatementModel[] {
    const secret = this.clientSecretFor(role);
    return readSecretStatements({
      secretArn: secret.secretArn,
      keyArn: secret.encryptionKeyArn,
      region: awsFacts(this).region,
    });
  }
}
