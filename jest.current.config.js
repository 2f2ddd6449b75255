/** The end-to-end suite's current-stack lane (npm run test:e2e:current): Debian 13's servers and Celery. */
const e2e = require('./jest.e2e.config');

module.exports = { ...e2e, testMatch: ['**/test/e2e/**/*.current.test.ts'] };
