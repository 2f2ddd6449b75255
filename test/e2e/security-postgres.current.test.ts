/** Result encryption with the PostgreSQL result backend on the current stack (security-postgres-suite.ts). */
import { DEFAULT_STACK_ROOT } from '../../lib/dev/stack';
import { securityPostgresSuite } from './security-postgres-suite';

securityPostgresSuite({ stackRoot: process.env.CELERY_TLS_STACK_ROOT ?? DEFAULT_STACK_ROOT, celery: /^5\.5\./ });
