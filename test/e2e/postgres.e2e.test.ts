/**
 * The PostgreSQL result backend on Debian 12's stack: PostgreSQL 15, Celery 5.2.6, SQLAlchemy 1.4, psycopg2 2.9.5
 * (the suite is in postgres-suite.ts; the current-stack lane runs it on Debian 13's).
 */
import { postgresSuite } from './postgres-suite';

describe("PostgreSQL result backend over verified TLS (Debian 12's stack)", () => {
  postgresSuite({ postgresMajor: '15', celery: /^5\.2\./, sqlalchemy: /^1\.4\./ });
});
