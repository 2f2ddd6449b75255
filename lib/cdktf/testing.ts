import { assertEncryptionFindings, encryptionFindings, encryptionMatchers, maskAssetHashText } from '../core/guard';
import type { CeleryEncryptionGuardOptions, EncryptionFindings } from '../core/guard';
import { TF_GUARD_CONTEXT, TerraformJson, describeTerraform } from './guard';

/**
 * Helpers for your own jest (or any runner's) tests of a cdktf stack: the encryption guard's rules applied to the
 * synthesized Terraform JSON, a jest matcher, and a snapshot helper that masks asset hashes. No test framework is
 * imported.
 */

export { ASSET_HASH_MASK } from '../core/guard';
export type { CeleryTlsMatchers } from '../core/guard';
export type { JsonValue } from '../core/guard-describe';
export type { TerraformJson } from './guard';

/** What an empty stack fails with (an empty stack proves nothing). */
const NOTHING_GUARDED = 'the Terraform JSON has no aws_elasticache_replication_group and no aws_mq_broker';

/** `Testing.synth(stack)` (a JSON string), a parsed cdk.tf.json, or the text of one. */
export type TerraformInput = string | TerraformJson;

/** The guard's findings on synthesized Terraform JSON (violations and the `preferred` migration warnings). */
export function celeryEncryptionFindings(
  synthesized: TerraformInput,
  options: CeleryEncryptionGuardOptions = {},
): EncryptionFindings {
  return encryptionFindings(
    describeTerraform(typeof synthesized === 'string' ? JSON.parse(synthesized) : synthesized),
    options,
    TF_GUARD_CONTEXT,
  );
}

/**
 * Throws `CeleryEncryptionGuardError` (construct path, argument and fix of every violation) unless every replication
 * group, broker, security group rule and secret keeps the encryption settings, and fails when there is no replication
 * group and no broker at all (an empty stack proves nothing).
 *
 *     assertCeleryTransportEncrypted(Testing.synth(stack));
 */
export function assertCeleryTransportEncrypted(input: TerraformInput, options?: CeleryEncryptionGuardOptions): void {
  assertEncryptionFindings(celeryEncryptionFindings(input, options), NOTHING_GUARDED);
}

/**
 * Jest matchers: `expect.extend(celeryTlsMatchers)`, then `expect(Testing.synth(stack)).toHaveEncryptedCeleryTransport()`.
 * Declare the matcher for TypeScript with the `CeleryTlsMatchers` interface (see docs/testing.md).
 */
export const celeryTlsMatchers = encryptionMatchers(celeryEncryptionFindings, 'stack');

/**
 * A copy of synthesized Terraform JSON with asset hashes (cdktf's 32 uppercase hex characters in `assets/<id>/<hash>/`
 * paths, and 64-character SHA-256 hex digests) replaced by `[ASSET HASH]`, so that a snapshot changes when the
 * infrastructure changes, not when a bundled file does.
 *
 *     expect(maskAssetHashes(Testing.synth(stack))).toMatchSnapshot();
 */
export function maskAssetHashes(synthesized: TerraformInput): TerraformJson {
  return maskAssetHashText(
    typeof synthesized === 'string' ? synthesized : JSON.stringify(synthesized),
    /\b([0-9a-f]{64}|[0-9A-F]{64}|[0-9A-F]{32})\b/g,
  );
}
