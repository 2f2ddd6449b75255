/**
 * How to test your own cdktf stack with celery-tls-constructs' helpers (run by `npm test` in this repository):
 * the encryption rules as one assertion or a jest matcher, and a snapshot that ignores asset hashes.
 */
import { join } from 'node:path';
import { AssetType, TerraformAsset, TerraformOutput, Testing } from 'cdktf';
import { CeleryEncryptionGuardError } from 'celery-tls-constructs/cdktf';
import {
  ASSET_HASH_MASK,
  CeleryTlsMatchers,
  assertCeleryTransportEncrypted,
  celeryTlsMatchers,
  maskAssetHashes,
} from 'celery-tls-constructs/cdktf/testing';
import { CeleryTlsExampleStack } from '../cdktf/stack';

declare global {
  // eslint-disable-next-line @typescript-eslint/no-namespace
  namespace jest {
    interface Matchers<R> extends CeleryTlsMatchers<R> {}
  }
}
expect.extend(celeryTlsMatchers);

// Your stack, plus a bundled file (a Lambda's code, say), whose path carries a content hash.
const stack = new CeleryTlsExampleStack(Testing.app(), 'celery-tls-example');
const worker = new TerraformAsset(stack, 'WorkerCode', {
  path: join(__dirname, '..', 'celery-worker', 'tasks.py'),
  type: AssetType.FILE,
});
new TerraformOutput(stack, 'WorkerCodePath', { value: worker.path });
const synthesized = Testing.synth(stack);

test('the Celery broker and result backend keep their encryption settings', () => {
  assertCeleryTransportEncrypted(synthesized);
});

test('the same, as a jest matcher', () => {
  expect(synthesized).toHaveEncryptedCeleryTransport();
});

test('the helpers catch a weakened stack (what your test guards against)', () => {
  const weak = JSON.parse(synthesized);
  const [name] = Object.keys(weak.resource.aws_mq_broker);
  weak.resource.aws_mq_broker[name].publicly_accessible = true;
  expect(() => assertCeleryTransportEncrypted(weak)).toThrow(CeleryEncryptionGuardError);
  // Testing.synth carries no construct paths: the helper names the resource address.
  expect(() => assertCeleryTransportEncrypted(weak)).toThrow(`aws_mq_broker.${name}: publicly_accessible is true`);
  expect(weak).not.toHaveEncryptedCeleryTransport();
});

test('snapshot: the whole Terraform JSON, with asset hashes masked', () => {
  // cdktf puts a content hash in every asset path (assets/<id>/<HASH>/...): mask it, keep the rest.
  expect(worker.path).toMatch(/\/[0-9A-F]{32}\/tasks\.py$/);
  const masked = maskAssetHashes(synthesized);
  expect(JSON.stringify(masked)).not.toMatch(/[0-9A-F]{32}/);
  expect(JSON.stringify(masked)).toContain(ASSET_HASH_MASK);
  expect(masked).toMatchSnapshot();
});
