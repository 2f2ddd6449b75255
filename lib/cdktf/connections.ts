import { createHash } from 'node:crypto';
import { Construct } from 'constructs';
import { DefaultTokenResolver, SecurityGroup, StringConcat, TerraformStack, Tokenization } from './provider';
import { VpcSecurityGroupEgressRule, VpcSecurityGroupIngressRule } from './provider';

/** A rule resource made by `Connections` (depend on it for anything that needs the path open). */
export type CelerySecurityGroupRule = VpcSecurityGroupIngressRule | VpcSecurityGroupEgressRule;

/** Anything with a security group id: an `aws_security_group` of yours passed as `{ securityGroupId: sg.id }`. */
export interface ISecurityGroupPeer {
  /** The security group id (may be a token, e.g. `sg.id`). */
  readonly securityGroupId: string;
}

/** A construct with a security group managed by this library (the cdktf counterpart of `ec2.IConnectable`). */
export interface IConnectable {
  /** The construct's security group and the rules it allows. */
  readonly connections: Connections;
}

function isConnectable(peer: ISecurityGroupPeer | IConnectable): peer is IConnectable {
  return (peer as IConnectable).connections instanceof Connections;
}

/**
 * A stable, readable id part for a value: a token resolves to its Terraform expression (e.g.
 * "${aws_security_group.web.id}"), stable across runs; letters and digits only, at most 64 characters.
 */
export function stableIdPart(scope: Construct, value: string): string {
  const text = String(Tokenization.resolve(value, { scope, resolver: new DefaultTokenResolver(new StringConcat()) }));
  return idPart(text);
}

function idPart(text: string): string {
  const clean = text.replace(/[^A-Za-z0-9]/g, '');
  return clean.length <= 64 ? clean : clean.slice(0, 55) + createHash('sha256').update(text).digest('hex').slice(0, 8);
}

/** Stable, readable id part for a peer: its construct path, or the Terraform expression / literal id of the group. */
function peerKey(scope: Construct, peer: ISecurityGroupPeer | IConnectable): string {
  if (isConnectable(peer)) {
    const scopes = peer.connections.securityGroup.node.scopes;
    return idPart(
      scopes
        .slice(scopes.indexOf(TerraformStack.of(scope)) + 1)
        .map((s) => s.node.id)
        .join(''),
    );
  }
  return stableIdPart(scope, peer.securityGroupId);
}

/**
 * A security group that allows nothing until told: no inline rules (they would fight the rule resources), no egress
 * block, so the AWS provider removes the allow-all egress rule that AWS adds to a new group
 * (https://registry.terraform.io/providers/hashicorp/aws/latest/docs/resources/security_group, "NOTE on Egress rules").
 */
export class CelerySecurityGroup extends Construct implements IConnectable, ISecurityGroupPeer {
  /** The `aws_security_group` resource. */
  public readonly resource: SecurityGroup;
  /** The group's id (a token until apply). */
  public readonly securityGroupId: string;
  /** Adds ingress and egress rules to this group. */
  public readonly connections: Connections;

  constructor(scope: Construct, id: string, props: { vpcId: string; description: string; defaultPort?: number }) {
    super(scope, id);
    this.resource = new SecurityGroup(this, 'Resource', { vpcId: props.vpcId, description: props.description });
    this.securityGroupId = this.resource.id;
    this.connections = new Connections(this, props.defaultPort);
  }
}

/**
 * The verbs of `ec2.Connections` on Terraform: one `aws_vpc_security_group_ingress_rule` per allowed peer and port
 * (TCP, one port, a description), and the matching egress rule on the peer when its group is managed here.
 */
export class Connections {
  constructor(
    /** The group the rules are added to. */
    public readonly securityGroup: CelerySecurityGroup,
    /** The port clients connect to (a literal). */
    public readonly defaultPort?: number,
  ) {}

  /** The id of `securityGroup`. */
  public get securityGroupId(): string {
    return this.securityGroup.securityGroupId;
  }

  /** Lets `peer` reach this group on `port`/tcp. Repeating a call adds nothing. */
  public allowFrom(
    peer: ISecurityGroupPeer | IConnectable,
    port: number,
    description?: string,
  ): CelerySecurityGroupRule[] {
    const text = description ?? `TLS on ${port}/tcp from an allowed Celery client`;
    const sourceId = isConnectable(peer) ? peer.connections.securityGroupId : peer.securityGroupId;
    const id = `From${peerKey(this.securityGroup, peer)}Port${port}`;
    const ingress =
      (this.securityGroup.node.tryFindChild(id) as VpcSecurityGroupIngressRule | undefined) ??
      new VpcSecurityGroupIngressRule(this.securityGroup, id, {
        securityGroupId: this.securityGroupId,
        referencedSecurityGroupId: sourceId,
        ipProtocol: 'tcp',
        fromPort: port,
        toPort: port,
        description: text,
      });
    return [ingress, ...(isConnectable(peer) ? peer.connections.allowTo(this.securityGroup, port, text) : [])];
  }

  /** Lets `peer` reach this group on its default port. */
  public allowDefaultPortFrom(peer: ISecurityGroupPeer | IConnectable, description?: string): void {
    if (this.defaultPort === undefined)
      throw new Error(`${this.securityGroup.node.path} has no default port: use allowFrom(peer, port).`);
    this.allowFrom(peer, this.defaultPort, description);
  }

  /** Lets this group reach `peer` on `port`/tcp (egress). Repeating a call adds nothing. */
  public allowTo(
    peer: ISecurityGroupPeer | IConnectable,
    port: number,
    description?: string,
  ): CelerySecurityGroupRule[] {
    const id = `To${peerKey(this.securityGroup, peer)}Port${port}`;
    const existing = this.securityGroup.node.tryFindChild(id) as VpcSecurityGroupEgressRule | undefined;
    if (existing) return [existing];
    const egress = new VpcSecurityGroupEgressRule(this.securityGroup, id, {
      securityGroupId: this.securityGroupId,
      referencedSecurityGroupId: isConnectable(peer) ? peer.connections.securityGroupId : peer.securityGroupId,
      ipProtocol: 'tcp',
      fromPort: port,
      toPort: port,
      description: description ?? `TLS on ${port}/tcp to a Celery endpoint`,
    });
    return [egress];
  }
}
