/** End-to-end suite: real redis-server, rabbitmq-server and Celery workers over TLS (npm run test:e2e). */
const base = require('./jest.config');

module.exports = {
  ...base,
  testMatch: ['**/test/e2e/**/*.e2e.test.ts'],
  testPathIgnorePatterns: ['/node_modules/'],
  testTimeout: 300_000,
  maxWorkers: 1,
};
