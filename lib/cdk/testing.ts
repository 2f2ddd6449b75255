import { assertEncryptionFindings, encryptionFindings, encryptionMatchers, maskAssetHashText } from '../core/guard';
import type { CeleryEncryptionGuardOptions, EncryptionFindings } from '../core/guard';
import type { JsonValue } from '../core/guard-describe';
import { CFN_GUARD_CONTEXT, CfnResourceJson, describeCloudFormation } from './guard';

/**
 * Helpers for your own jest (or any runner's) tests of a CDK stack: the encryption guard's rules applied to a
 * synthesized template, a jest matcher, and a snapshot helper that masks asset hashes. No test framework is imported.
 */

export { ASSET_HASH_MASK } from '../core/guard';
export type { CeleryTlsMatchers } from '../core/guard';
export type { JsonValue } from '../core/guard-describe';
export type { CfnResourceJson } from './guard';

/** What an empty template fails with (an empty template proves nothing). */
const NOTHING_GUARDED = 'the template has no AWS::ElastiCache::ReplicationGroup and no AWS::AmazonMQ::Broker';

/** A synthesized template: `Template.fromStack(stack)` (aws-cdk-lib/assertions) or its JSON. */
export type TemplateInput = { toJSON(): Record<string, JsonValue> } | { Resources?: Record<string, JsonValue> };

/** The JSON of a template: `toJSON()` of an assertions `Template`, else the value as it is. */
function templateJson(template: unknown): { Resources?: Record<string, CfnResourceJson> } {
  return typeof (template as { toJSON?: unknown } | undefined)?.toJSON === 'function'
    ? (template as { toJSON(): JsonValue }).toJSON()
    : (template as JsonValue);
}

/** The guard's findings on a synthesized template (violations and the `preferred` migration warnings). */
export function celeryEncryptionFindings(
  template: TemplateInput,
  options: CeleryEncryptionGuardOptions = {},
): EncryptionFindings {
  return encryptionFindings(describeCloudFormation(templateJson(template).Resources ?? {}), options, CFN_GUARD_CONTEXT);
}

/**
 * Throws `CeleryEncryptionGuardError` (construct path, property and fix of every violation) unless every replication
 * group, broker, security group rule and secret of the template keeps the encryption settings, and fails when the
 * template has no replication group and no broker at all (an empty template proves nothing).
 *
 *     assertCeleryTransportEncrypted(Template.fromStack(stack));
 */
export function assertCeleryTransportEncrypted(template: TemplateInput, options?: CeleryEncryptionGuardOptions): void {
  assertEncryptionFindings(celeryEncryptionFindings(template, options), NOTHING_GUARDED);
}

/**
 * Jest matchers: `expect.extend(celeryTlsMatchers)`, then `expect(Template.fromStack(stack)).toHaveEncryptedCeleryTransport()`.
 * Declare the matcher for TypeScript with the `CeleryTlsMatchers` interface (see docs/testing.md).
 */
export const celeryTlsMatchers = encryptionMatchers(celeryEncryptionFindings, 'template');

/**
 * A copy of a template (or any JSON) with asset hashes (64 hex characters: S3 object keys, image tags, asset ids and
 * parameters) replaced by `[ASSET HASH]`, so that a snapshot changes when the infrastructure changes, not when a
 * bundled file or the CDK version does.
 *
 *     expect(maskAssetHashes(Template.fromStack(stack).toJSON())).toMatchSnapshot();
 */
export function maskAssetHashes<T>(template: T): T {
  return maskAssetHashText(JSON.stringify(templateJson(template)), /[0-9a-f]{64}/g);
}
