import { assertEncryptionFindings, CeleryEncryptionGuardOptions, checkEncryptionGuard, EncryptionFindings, encryptionMatcherResult } from '../core/guard';
import { TF_GUARD_CONTEXT, TerraformJson, describeTerraform } from './guard';

/**
 * Helpers for your own jest (or any runner's) tests of a cdktf stack: the encryption guard's rules applied to the
 * synthesized Terraform JSON, a jest matcher, and a snapshot helper that masks asset hashes. No test framework is
 * imported.
 */

/** `Testing.synth(stack)` (a JSON string), a parsed cdk.tf.json, or the text of one. */
export type TerraformInput = string | TerraformJson;

const parse = (input: TerraformInput): TerraformJson => (typeof input === 'string' ? JSON.parse(input) : input);

/** The guard's findings on synthesized Terraform JSON (violations and the `preferred` migration warnings). */
export function celeryEncryptionFindings(synthesized: TerraformInput, options: CeleryEncryptionGuardOptions = {}): EncryptionFindings {
  const scope = describeTerraform(parse(synthesized));
  return { ...checkEncryptionGuard(scope, options, TF_GUARD_CONTEXT), caches: scope.caches.length, brokers: scope.brokers.length };
}

/**
 * Throws `CeleryEncryptionGuardError` (construct path, argument and fix of every violation) unless every replication
 * group, broker, security group rule and secret keeps the encryption settings, and fails when there is no replication
 * group and no broker at all (an empty stack proves nothing).
 *
 *     assertCeleryTransportEncrypted(Testing.synth(stack));
 */
export function assertCeleryTransportEncrypted(synthesized: TerraformInput, options: CeleryEncryptionGuardOptions = {}): void {
  assertEncryptionFindings(celeryEncryptionFindings(synthesized, options), 'the Terraform JSON has no aws_elasticache_replication_group and no aws_mq_broker');
}

/**
 * Jest matchers: `expect.extend(celeryTlsMatchers)`, then `expect(Testing.synth(stack)).toHaveEncryptedCeleryTransport()`.
 * Declare the matcher for TypeScript with the `CeleryTlsMatchers` interface (see docs/testing.md).
 */
export const celeryTlsMatchers = {
  toHaveEncryptedCeleryTransport(received: TerraformInput, options: CeleryEncryptionGuardOptions = {}) {
    return encryptionMatcherResult(celeryEncryptionFindings(received, options), 'stack');
  },

};

/** The matcher's type, for `declare global { namespace jest { interface Matchers<R> extends CeleryTlsMatchers<R> {} } }`. */
export interface CeleryTlsMatchers<R> {
  toHaveEncryptedCeleryTransport(options?: CeleryEncryptionGuardOptions): R;
}

/** What replaces an asset hash in `maskAssetHashes`. */
export const ASSET_HASH_MASK = '[ASSET HASH]';

/**
 * A copy of synthesized Terraform JSON with asset hashes (cdktf's 32 uppercase hex characters in `assets/<id>/<hash>/`
 * paths, and 64-character SHA-256 hex digests) replaced by `[ASSET HASH]`, so that a snapshot changes when the infrastructure changes, not when a
 * bundled file does.
 *
 *     expect(maskAssetHashes(Testing.synth(stack))).toMatchSnapshot();
 */
export function maskAssetHashes(synthesized: TerraformInput): TerraformJson {
  const text = typeof synthesized === 'string' ? synthesized : JSON.stringify(synthesized);
  return JSON.parse(text.replace(/\b([0-9a-f]{64}|[0-9A-F]{64}|[0-9A-F]{32})\b/g, ASSET_HASH_MASK));
}
