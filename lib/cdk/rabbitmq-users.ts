import { CustomResource, Duration, Fn, Stack } from 'aws-cdk-lib';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import * as cr from 'aws-cdk-lib/custom-resources';
import { Construct } from 'constructs';
import { rabbitMqCeleryEndpoint } from '../core/celery/endpoints';
import { CeleryEndpoint } from '../core/celery/model';
import { DEFAULTS } from '../core/defaults';
import { clientCertificateFunctionPlan, rabbitMqUsersFunctionPlans } from '../core/identities';
import { rabbitMqUsersResourceProperties } from '../core/identities';
import type { LibraryFunctionPlan } from '../core/identities';
import { IamStatementModel } from '../core/iam';
import { PORTS } from '../core/ports';
import { clientCertificateShape, RabbitMqMutualTlsSpec } from '../core/rabbitmq-mtls';
import { CeleryRole, resolveRabbitMqApplicationUsersSpec, userIdStem, userServing } from '../core/rabbitmq-users';
import type { RabbitMqApplicationUsersOptions, RabbitMqApplicationUsersSpec } from '../core/rabbitmq-users';
import { CDK_CONTEXT, applyIssues, createGeneratedSecret, createKey, createLogGroup, grantSecretRead } from './common';
import { createLibraryFunction, createProviderRole } from './functions';
import { IRabbitMqBroker } from './rabbitmq-broker';

/** Props of `RabbitMqApplicationUsers`. */
export interface RabbitMqApplicationUsersProps extends RabbitMqApplicationUsersOptions {
  /** The broker: a `RabbitMqBroker`, or `RabbitMqBroker.fromBrokerAttributes(...)`. */
  readonly broker: IRabbitMqBroker;
  /**
   * An interface endpoint for Secrets Manager in the broker's VPC, with private DNS on, for the function to read the
   * admin and user secrets.
   * @default - a new endpoint without private DNS (so it never clashes with one the VPC already has), reachable only
   * from the function, with a policy that allows only the function's role to read these secrets
   */
  readonly secretsManagerEndpoint?: ec2.IInterfaceVpcEndpoint;
  /** Key of the user secrets and the function's log groups. @default - the broker's key */
  readonly encryptionKey?: kms.IKey;
}

/** One application user: its name, the roles it serves and its secret (`{"username", "password"}`). */
export interface RabbitMqApplicationUser {
  /** The user name as configured; rotation alternates it with `<name>.alt`, and the secret holds the current one. */
  readonly username: string;
  /** The Celery roles the user serves (both for a shared user). */
  readonly roles: readonly CeleryRole[];
  /** The user's secret, `{"username", "password"}`, with a generated password rotated every `rotationDays`. */
  readonly secret: secretsmanager.ISecret;
  /**
   * With a broker that requires client certificates: `{"common_name", "certificate", "certificate_chain",
   * "private_key", "not_after"}`, issued by the rotation function when the schedule is created, re-issued every
   * `renewDays`. Clients log in with it (EXTERNAL) instead of the password.
   */
  readonly certificateSecret?: secretsmanager.ISecret;
}

/**
 * The vhost and the Celery application users of an Amazon MQ for RabbitMQ broker: a producer and a worker user (or
 * one shared user), each with a generated password in a CMK-encrypted secret and permissions on the vhost only, no
 * management tags. CloudFormation creates only the admin user, so a custom resource calls the RabbitMQ management
 * API over HTTPS (443) from a function inside the VPC whose security group reaches only the broker's 443 and the
 * Secrets Manager endpoint.
 */
export class RabbitMqApplicationUsers extends Construct {
  /** The settings the users were made with, every default applied. */
  public readonly spec: RabbitMqApplicationUsersSpec;
  /** The vhost the users have permissions on, as configured (a literal). */
  public readonly vhost: string;
  /** The application users: one per role, or one shared user. */
  public readonly users: readonly RabbitMqApplicationUser[];
  /** The management-API function's group: egress to the broker's 443 and the Secrets Manager endpoint only. */
  public readonly securityGroup: ec2.SecurityGroup;
  /** The custom-resource function (vhost, users, permissions). */
  public readonly function: lambda.Function;
  /** Rotates the user secrets (alternating users) and the generated admin secret (in place). */
  public readonly rotationFunction: lambda.Function;
  /** The rotation schedules of the user secrets and, when the broker generated it, of the admin secret. */
  public readonly rotationSchedules: readonly secretsmanager.RotationSchedule[];
  /** With client certificates: the function that issues them from the CA (outside the VPC: AWS APIs only). */
  public readonly certificateFunction?: lambda.Function;
  /** The Secrets Manager interface endpoint the functions read the secrets through: the given one or a new one. */
  public readonly secretsManagerEndpoint: ec2.IInterfaceVpcEndpoint;
  /** The custom resource that creates the vhost, the users and their permissions through the management API. */
  public readonly resource: CustomResource;
  /** The key of the user and certificate secrets and of the functions' log groups. */
  public readonly encryptionKey: kms.IKey;
  /** The URL of the endpoint made here (no private DNS), for `SECRETS_MANAGER_ENDPOINT`; undefined for a given one. */
  public readonly secretsManagerEndpointUrl?: string;
  private readonly broker: IRabbitMqBroker;
  private readonly endpointPolicy: (role: iam.IRole, statements: readonly IamStatementModel[]) => void;

  constructor(scope: Construct, id: string, props: RabbitMqApplicationUsersProps) {
    super(scope, id);
    const broker = props.broker;
    this.broker = broker;
    const spec = applyIssues(this, resolveRabbitMqApplicationUsersSpec(props, broker.spec, CDK_CONTEXT));
    this.spec = spec;
    this.vhost = spec.vhost;
    const d = DEFAULTS.rabbitmq.applicationUsers;
    const stack = Stack.of(this);

    const key =
      props.encryptionKey ??
      broker.encryptionKey ??
      createKey(this, 'Key', `${this.node.path}: Celery RabbitMQ application users`);
    this.encryptionKey = key;
    this.users = spec.users.map((u) => {
      const name = userIdStem(u.roles);
      return {
        username: u.username,
        roles: u.roles,
        secret: createGeneratedSecret(this, `${name}Credentials`, u.secret, key),
        certificateSecret: broker.mutualTls
          ? createGeneratedSecret(this, `${name}Certificate`, clientCertificateShape(u.username), key)
          : undefined,
      };
    });

    this.securityGroup = new ec2.SecurityGroup(this, 'SecurityGroup', {
      vpc: broker.vpc,
      description: `Celery RabbitMQ users function: HTTPS ${PORTS.RABBITMQ_MANAGEMENT_HTTPS} to the broker management API and to Secrets Manager only`,
      allowAllOutbound: false,
    });
    broker.connections.allowFrom(
      this.securityGroup,
      ec2.Port.tcp(PORTS.RABBITMQ_MANAGEMENT_HTTPS),
      `Management API (${PORTS.RABBITMQ_MANAGEMENT_HTTPS}/tcp) from the Celery users function`,
    );

    const managementUrl = `https://${broker.brokerHost}`;
    // Rotation: the user secrets by alternating users, and the generated admin secret in place.
    const rotated: secretsmanager.ISecret[] = [
      ...this.users.map((u) => u.secret),
      ...(broker.generatedAdminSecret ? [broker.generatedAdminSecret] : []),
    ];
    const plans = rabbitMqUsersFunctionPlans({
      spec,
      broker: broker.spec,
      managementUrl,
      adminSecretArn: broker.adminSecret.secretArn,
      adminKeyArn: broker.adminSecret.encryptionKey?.keyArn,
      userSecretArns: this.users.map((u) => u.secret.secretArn),
      userKeyArn: key.keyArn,
      rotatedSecretArns: rotated.map((x) => x.secretArn),
      region: stack.region,
    });

    let endpointUrl: string | undefined;
    let endpointPolicy: ((role: iam.IRole, statements: readonly IamStatementModel[]) => void) | undefined;
    this.endpointPolicy = (role, statements) => endpointPolicy?.(role, statements);
    if (props.secretsManagerEndpoint) {
      this.secretsManagerEndpoint = props.secretsManagerEndpoint;
    } else {
      const endpointSg = new ec2.SecurityGroup(this, 'SecretsManagerEndpointSecurityGroup', {
        vpc: broker.vpc,
        description: `Secrets Manager endpoint of the Celery users functions: HTTPS ${PORTS.AWS_API_HTTPS} from those functions only`,
        allowAllOutbound: false,
      });
      const endpoint = new ec2.InterfaceVpcEndpoint(this, 'SecretsManagerEndpoint', {
        vpc: broker.vpc,
        service: ec2.InterfaceVpcEndpointAwsService.SECRETS_MANAGER,
        subnets: broker.vpcSubnets,
        privateDnsEnabled: false,
        open: false,
        securityGroups: [endpointSg],
      });
      // The endpoint serves these functions only: each role may do through it what its own policy allows.
      endpointPolicy = (role, fnStatements) => {
        for (const st of fnStatements.filter((x) => x.actions.every((a) => a.startsWith('secretsmanager:')))) {
          endpoint.addToPolicy(
            new iam.PolicyStatement({
              principals: [new iam.ArnPrincipal(role.roleArn)],
              actions: [...st.actions],
              resources: [...st.resources],
            }),
          );
        }
      };
      // DnsEntries[0] is "<hosted zone id>:<endpoint DNS name>"; the name is covered by Secrets Manager's certificate.
      endpointUrl = `https://${Fn.select(1, Fn.split(':', Fn.select(0, endpoint.vpcEndpointDnsEntries)))}`;
      this.secretsManagerEndpointUrl = endpointUrl;
      this.secretsManagerEndpoint = endpoint;
    }
    this.secretsManagerEndpoint.connections.allowFrom(
      this.securityGroup,
      ec2.Port.tcp(PORTS.AWS_API_HTTPS),
      `HTTPS (${PORTS.AWS_API_HTTPS}/tcp) from the Celery users functions`,
    );

    // Both functions run in the VPC with the users group: the broker's 443 and the Secrets Manager endpoint only.
    const inVpc = (plan: LibraryFunctionPlan) => {
      const f = createLibraryFunction(this, plan, {
        key,
        environment: endpointUrl ? { SECRETS_MANAGER_ENDPOINT: endpointUrl } : {},
        vpc: { vpc: broker.vpc, subnets: broker.vpcSubnets, securityGroups: [this.securityGroup] },
      });
      endpointPolicy?.(f.role, plan.statements);
      return f;
    };

    const users = inVpc(plans.users);
    this.function = users.function;

    // The provider framework answers CloudFormation's S3 response URL from outside the VPC, so the VPC needs no route
    // to S3; it only invokes the users function and holds no credentials.
    const providerLogs = createLogGroup(this, 'ProviderLogs', key);
    const providerRole = createProviderRole(this, 'Provider', this.function, 'the Celery users function', providerLogs);
    const provider = new cr.Provider(this, 'Provider', {
      onEventHandler: this.function,
      frameworkOnEventRole: providerRole.role.withoutPolicyUpdates(),
      logGroup: providerLogs,
    });
    provider.node.addDependency(providerRole.policy);

    this.resource = new CustomResource(this, 'Resource', {
      serviceToken: provider.serviceToken,
      resourceType: 'Custom::CeleryRabbitMqUsers',
      serviceTimeout: Duration.seconds(d.serviceTimeoutSeconds),
      properties: rabbitMqUsersResourceProperties({
        spec,
        broker: broker.spec,
        managementUrl,
        adminSecretArn: broker.adminSecret.secretArn,
        userSecretArns: this.users.map((u) => u.secret.secretArn),
      }),
    });
    // Created after, and deleted before, the network path and permissions it needs.
    this.resource.node.addDependency(
      broker.securityGroup,
      this.securityGroup,
      this.secretsManagerEndpoint,
      users.policy,
    );

    const rotation = inVpc(plans.rotation);
    this.rotationFunction = rotation.function;
    this.rotationSchedules = rotated.map((secret) => {
      const schedule = secret.addRotationSchedule('Rotation', {
        rotationLambda: rotation.function,
        automaticallyAfter: Duration.days(plans.schedule.days),
      });
      // The first rotation runs when the schedule is created: the users must exist by then.
      schedule.node.addDependency(this.resource, rotation.policy);
      return schedule;
    });
    if (broker.mutualTls) this.certificateFunction = this.issueCertificates(broker.mutualTls, key);
  }

  /**
   * The certificate secrets rotate by re-issue: a function outside the VPC (it calls only the AWS Private CA and
   * Secrets Manager APIs) makes a key and CSR, has the CA sign it and stores the result; the first rotation, when the
   * schedule is created, issues the first certificate.
   */
  private issueCertificates(mtls: RabbitMqMutualTlsSpec, key: kms.IKey): lambda.Function {
    const stack = Stack.of(this);
    const secrets = this.users.map((u) => u.certificateSecret!);
    const plan = clientCertificateFunctionPlan({
      mutualTls: mtls,
      secretArns: secrets.map((x) => x.secretArn),
      keyArn: key.keyArn,
      region: stack.region,
      partition: stack.partition,
    });
    const { function: fn, policy } = createLibraryFunction(this, plan.function, { key });
    for (const secret of secrets) {
      const schedule = secret.addRotationSchedule('Rotation', {
        rotationLambda: fn,
        automaticallyAfter: Duration.days(plan.schedule.days),
      });
      // The first rotation issues the first certificate: the CA must be active by then.
      schedule.node.addDependency(policy, ...(this.broker.clientCa ? [this.broker.clientCa.activation] : []));
    }
    return fn;
  }

  /**
   * Lets another function of this library in the VPC (the TLS canary) use the Secrets Manager endpoint: its group
   * may reach the endpoint on 443, and the endpoint policy (when made here) lets its role do what its own statements
   * allow there.
   */
  public allowSecretsManagerEndpoint(
    peer: ec2.IConnectable,
    role: iam.IRole,
    statements: readonly IamStatementModel[],
    what: string,
  ): void {
    this.secretsManagerEndpoint.connections.allowFrom(
      peer,
      ec2.Port.tcp(PORTS.AWS_API_HTTPS),
      `HTTPS (${PORTS.AWS_API_HTTPS}/tcp) from ${what}`,
    );
    this.endpointPolicy(role, statements);
  }

  /** The user serving a role (the shared user serves both). */
  public userFor(role: CeleryRole): RabbitMqApplicationUser {
    return userServing(this.users, role);
  }

  /** The Celery endpoint for a role: amqps on 5671, this vhost, that role's user and secret. */
  public celeryEndpoint(role: CeleryRole): CeleryEndpoint {
    const user = this.userFor(role);
    // The vhost as the custom resource reports it: clients configured from it are deployed after the users exist.
    const vhost = this.resource.getAttString('Vhost');
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
  public clientSecretFor(role: CeleryRole): secretsmanager.ISecret {
    const user = this.userFor(role);
    return user.certificateSecret ?? user.secret;
  }

  /** Lets the grantee read one role's secret (the certificate with mutual TLS, else the credentials). @param role @default CeleryRole.WORKER */
  public grantRead(grantee: iam.IGrantable, role: CeleryRole = CeleryRole.WORKER): iam.Grant {
    const secret = this.clientSecretFor(role);
    return grantSecretRead(this, grantee, secret);
  }
}
