/**
 * Wire-contract constants: names that the library, the bundled handlers, the rendered settings and the secrets
 * agree on. Not defaults (nothing overrides them) and not service limits: changing one breaks a deployed contract.
 */
export const WIRE = {
  /** Field of a JSON secret that holds the password or AUTH token. */
  secretPasswordField: 'password',
  /** Field of a JSON secret that holds the user name. */
  secretUsernameField: 'username',
  /** Environment variable prefixes of the settings contract. */
  envPrefix: { broker: 'CELERY_TLS_BROKER_', resultBackend: 'CELERY_TLS_RESULT_BACKEND_' },
  /** Queues kombu declares for native delayed delivery (kombu/transport/native_delayed_delivery.py). */
  delayedDeliveryQueuePrefix: 'celery_delayed_',
  /** The rotation twin of each RabbitMQ application user is named "<user>.alt" (alternating-users rotation). */
  alternateSuffix: '.alt',
} as const;
