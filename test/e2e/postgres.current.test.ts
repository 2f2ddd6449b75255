/**
 * The PostgreSQL result backend on the current stack (the root scripts/current-stack builds): PostgreSQL 17, Celery
 * 5.5.2, SQLAlchemy 2.0, psycopg2 2.9.10, RabbitMQ 4 with quorum queues (the suite is in postgres-suite.ts).
 */
import { DEFAULT_STACK_ROOT } from '../../lib/dev/stack';
import { postgresSuite } from './postgres-suite';

const ROOT = process.env.CELERY_TLS_STACK_ROOT ?? DEFAULT_STACK_ROOT;

describe(`PostgreSQL result backend over verified TLS (current stack ${ROOT})`, () => {
  postgresSuite({ stackRoot: ROOT, postgresMajor: '17', celery: /^5\.5\./, sqlalchemy: /^2\./ });
});
