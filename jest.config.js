/** @type {import('jest').Config} */
module.exports = {
  testEnvironment: 'node',
  // examples/testing/ holds the example tests of the exported test helpers (run in CI like every other test).
  roots: ['<rootDir>/test', '<rootDir>/examples'],
  testMatch: ['**/*.test.ts'],
  testPathIgnorePatterns: ['/node_modules/', '/test/e2e/'],
  transform: { '^.+\\.ts$': '<rootDir>/test/esbuild-transform.js' },
  moduleNameMapper: {
    '^celery-tls-constructs$': '<rootDir>/lib/index.ts',
    '^celery-tls-constructs/cdk$': '<rootDir>/lib/cdk/index.ts',
    '^celery-tls-constructs/cdktf$': '<rootDir>/lib/cdktf/index.ts',
    '^celery-tls-constructs/cdk/testing$': '<rootDir>/lib/cdk/testing.ts',
    '^celery-tls-constructs/cdktf/testing$': '<rootDir>/lib/cdktf/testing.ts',
    '^celery-tls-constructs/cdktn$': '<rootDir>/lib/cdktn/index.ts',
    '^celery-tls-constructs/cdktn/testing$': '<rootDir>/lib/cdktn/testing.ts',
  },
  // Ordinary unit tests skip aws-cdk-lib's built-in CloudFormation validation (about 1.5 s per synth);
  // the compliance tests turn it back on explicitly.
  setupFiles: ['<rootDir>/test/setup-env.js'],
};
