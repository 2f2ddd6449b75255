import type { RotationEvent } from './rotation';

/**
 * What the library's custom-resource functions share with Terraform: the custom-resource request, and the
 * translation of an `aws_lambda_invocation` with `lifecycle_scope = "CRUD"` into one. The provider sends the input
 * plus, under `terraform_key` ("tf"), the action and the previous input; on destroy it sends the input in the state
 * (terraform-provider-aws internal/service/lambda/invocation.go). A thrown error fails the apply with its message.
 */

/** A CloudFormation custom-resource request, as the handlers read it. */
export interface CustomResourceRequest<P> {
  readonly RequestType: 'Create' | 'Update' | 'Delete';
  readonly ResourceProperties: P;
  readonly OldResourceProperties?: P;
  readonly PhysicalResourceId?: string;
}

/** What Terraform's `aws_lambda_invocation` sends with `lifecycle_scope = "CRUD"`: the input and `tf`. */
export type TerraformInvocation<P> = P & {
  readonly tf?: { readonly action?: string; readonly prev_input?: P | null };
};

const TERRAFORM_ACTIONS: Record<string, CustomResourceRequest<unknown>['RequestType']> = {
  create: 'Create',
  update: 'Update',
  delete: 'Delete',
};

/**
 * The custom-resource request an invocation stands for: create, update (the previous input as the old properties)
 * and delete (the input in the state). `physicalId` gives the id the first invocation answered with, from the
 * previous input on an update, so that it stays stable as on CloudFormation.
 */
export function requestFromInvocation<P extends object>(
  invocation: TerraformInvocation<P> | undefined,
  physicalId: (properties: P) => string,
): CustomResourceRequest<P> {
  const { tf, ...input } = invocation ?? ({} as TerraformInvocation<P>);
  const requestType = TERRAFORM_ACTIONS[String(tf?.action)];
  if (!requestType)
    throw new Error(
      `tf.action ${JSON.stringify(tf?.action)} is not create, update or delete: invoke with lifecycle_scope = "CRUD"`,
    );
  // The previous input is the one in the state, as sent (without the "tf" key).
  const old = tf?.prev_input ?? undefined;
  return {
    RequestType: requestType,
    ResourceProperties: input as P,
    OldResourceProperties: requestType === 'Update' ? old : undefined,
    PhysicalResourceId: requestType === 'Create' ? undefined : physicalId(old ?? (input as P)),
  };
}

/** Whether an event is Secrets Manager's rotation event (SecretId, ClientRequestToken, Step). */
export function isRotationEvent(event: unknown): event is RotationEvent {
  const e = event as Partial<RotationEvent> | undefined;
  return typeof e?.SecretId === 'string' && typeof e.ClientRequestToken === 'string' && typeof e.Step === 'string';
}
