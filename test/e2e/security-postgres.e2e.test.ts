/** Result encryption with the PostgreSQL result backend on Debian 12's lane (security-postgres-suite.ts). */
import { securityPostgresSuite } from './security-postgres-suite';

securityPostgresSuite({ celery: /^5\.2\./ });
