/** @type {import('jest').Config} */
module.exports = {
  testEnvironment: 'node',
  roots: ['<rootDir>/test'],
  testMatch: ['**/*.test.ts'],
  testPathIgnorePatterns: ['/node_modules/', '/test/e2e/'],
  transform: { '^.+\\.ts$': '<rootDir>/test/esbuild-transform.js' },
  moduleNameMapper: {
    '^celery-tls-constructs$': '<rootDir>/lib/index.ts',
    '^celery-tls-constructs/cdk$': '<rootDir>/lib/cdk/index.ts',
    '^celery-tls-constructs/cdktf$': '<rootDir>/lib/cdktf/index.ts',
  },
  // Ordinary unit tests skip aws-cdk-lib's built-in CloudFormation validation (about 1.5 s per synth);
  // the compliance tests turn it back on explicitly.
  setupFiles: ['<rootDir>/test/setup-env.js'],
};
