# The fixed part of the rendered Celery settings (celery-tls-constructs): helpers that read the environment
# contract, read secrets, build the TLS dictionaries and refuse anything plaintext or unverified. Runs on Python 3.8+
# with Celery 5.2 to 5.6. Every name starts with `_celery_tls_` (or is the exception class) so that it cannot clash
# with Celery or Django settings.
#
# How it is embedded: scripts/embed-python.mjs copies everything after the marker line below, byte for byte, into
# lib/core/celery/python-runtime.generated.ts (PYTHON_RUNTIME); lib/core/celery/python.ts writes it into every
# rendered celeryconfig.py and Django settings block, after their header and before the calls that use it. This
# header is not embedded. `npm run build`, `npm test` and `npm ci` (prepare) regenerate the module, and
# test/core/python-runtime.test.ts fails when the committed one is stale. The embedded part is a whole module (it
# imports what it uses), so `npm run lint:python` checks this file as it is. The embedded part may not contain a
# backtick, `${` or a carriage return: the generated module holds it in a String.raw template.
# ---- embedded from here on ----
import json
import os
import ssl
from urllib.parse import parse_qsl, quote, urlencode, urlsplit


class CeleryTLSConfigError(RuntimeError):
    """The settings would give a plaintext or unverified connection, or cannot be completed: do not start."""


# Celery lets these variables override every configured URL (celery/app/utils.py).
_CELERY_TLS_URL_VARIABLES = ("CELERY_BROKER_URL", "CELERY_BROKER_READ_URL", "CELERY_BROKER_WRITE_URL", "CELERY_RESULT_BACKEND")
_CELERY_TLS_SCHEMES = ("amqps", "rediss")
# Celery's SQLAlchemy backend with psycopg2 (celery/app/backends.py: "db" + the SQLAlchemy URL): result backend only.
_CELERY_TLS_POSTGRES_SCHEMES = ("db+postgresql", "db+postgresql+psycopg2")
# The application_name of the settings' connections (pg_stat_activity shows it); the credential refresh keys on it.
_CELERY_TLS_POSTGRES_APPLICATION = "celery"


def _celery_tls_check_url(where, url, result_backend=False):
    # Never echo the URL itself: it may carry a password.
    scheme = url.split("://", 1)[0].lower() if "://" in url else ""
    if result_backend and scheme in _CELERY_TLS_POSTGRES_SCHEMES:
        _celery_tls_check_postgres_url(where, url)
        return
    if scheme not in _CELERY_TLS_SCHEMES:
        allowed = "amqps://, rediss:// and db+postgresql:// with sslmode=verify-full" if result_backend else "amqps:// and rediss://"
        raise CeleryTLSConfigError(
            "%s uses %s; only %s are allowed, anything else is plaintext or unverified. "
            "Unset it or give a TLS URL." % (where, (scheme + "://") if scheme else "no URL scheme", allowed))
    for key, value in parse_qsl(urlsplit(url).query):
        lowered = value.strip().lower()
        if key in ("ssl_cert_reqs", "cert_reqs") and lowered not in ("required", "cert_required"):
            raise CeleryTLSConfigError(
                "%s sets %s=%s; certificate verification must stay required." % (where, key, value))
        if key == "ssl_check_hostname" and lowered in ("false", "0", "no", "off"):
            raise CeleryTLSConfigError("%s sets ssl_check_hostname=%s; hostname checks must stay on." % (where, value))


def _celery_tls_check_postgres_url(where, url):
    # libpq's sslmode: only verify-full checks the chain and the host name; its default, prefer, falls back to
    # plaintext, and require/verify-ca accept a certificate for any host.
    query = parse_qsl(urlsplit(url).query)
    # A host in the query wins over the URL's (SQLAlchemy), and libpq ignores sslmode on a Unix socket: plaintext.
    for key, _ in query:
        if key in ("host", "hostaddr"):
            raise CeleryTLSConfigError(
                "%s is a PostgreSQL URL with %s in its query; give the server's DNS name as the URL's host only (a "
                "socket path or an address there would bypass TLS or the host-name check)." % (where, key))
    modes = [value.strip().lower() for key, value in query if key == "sslmode"]
    if modes != ["verify-full"]:
        raise CeleryTLSConfigError(
            "%s is a PostgreSQL URL with %s; it must set sslmode=verify-full (once), or libpq may connect in "
            "plaintext or to a server with another name." % (
                where, "sslmode=" + ",".join(modes) if modes else "no sslmode (libpq's default, prefer, falls back to plaintext)"))


def _celery_tls_refuse_insecure_environment():
    for name in _CELERY_TLS_URL_VARIABLES:
        value = os.environ.get(name)
        if value:
            for url in value.split(";"):
                if url.strip():
                    _celery_tls_check_url("The environment variable " + name, url.strip(), name == "CELERY_RESULT_BACKEND")


def _celery_tls_value(prefix, name, default):
    value = os.environ.get(prefix + name)
    if value is None or value == "":
        value = default
    if value is None:
        raise CeleryTLSConfigError(
            "%s%s is not set and the settings were rendered without a value for it (a deploy-time value): "
            "set it in the environment, e.g. with CeleryTransport.bindToContainer()." % (prefix, name))
    return str(value)


def _celery_tls_optional(prefix, name, default):
    value = os.environ.get(prefix + name)
    return value if value else default


def _celery_tls_secret_text(prefix, defaults):
    # The secret as injected whole (CREDENTIALS, e.g. an ECS secret), or read by ARN at start-up.
    value = os.environ.get(prefix + "CREDENTIALS")
    if value:
        return value, prefix + "CREDENTIALS"
    arn = _celery_tls_optional(prefix, "SECRET_ARN", defaults["secret_arn"])
    if not arn:
        raise CeleryTLSConfigError(
            "None of %sPASSWORD, %sCREDENTIALS and %sSECRET_ARN is set: inject the password or the secret from "
            "Secrets Manager, or give the secret ARN to read it at start-up." % (prefix, prefix, prefix))
    return _celery_tls_read_secret(prefix, arn, "SECRET_ARN"), "The secret " + arn


def _celery_tls_credentials(prefix, defaults):
    # (user name, password). A user name in the secret wins when the endpoint names its field: rotation by
    # alternating users changes the user name together with the password, in one secret version.
    user = _celery_tls_value(prefix, "USERNAME", defaults["username"])
    password = os.environ.get(prefix + "PASSWORD")
    if password:
        return user, password
    secret, where = _celery_tls_secret_text(prefix, defaults)
    field = _celery_tls_optional(prefix, "SECRET_FIELD", defaults["secret_field"])
    try:
        data = json.loads(secret)
    except ValueError:
        return user, secret
    if not isinstance(data, dict):
        return user, secret
    if field not in data:
        raise CeleryTLSConfigError("%s has no field %r (%sSECRET_FIELD)." % (where, field, prefix))
    username_field = defaults.get("secret_username_field")
    if username_field and data.get(username_field):
        user = str(data[username_field])
    return user, str(data[field])


def _celery_tls_host(host):
    return "[%s]" % host if ":" in host else host


def _celery_tls_read_secret(prefix, arn, variable):
    try:
        import boto3
    except ImportError:
        raise CeleryTLSConfigError("%s%s is set but boto3 is not installed." % (prefix, variable))
    region = arn.split(":")[3] if arn.startswith("arn:") and arn.count(":") >= 6 else None
    return boto3.client("secretsmanager", region_name=region).get_secret_value(SecretId=arn)["SecretString"]


def _celery_tls_client_cert_from_secret(prefix, defaults):
    # The client certificate issued for this role: {"certificate", "certificate_chain", "private_key"} (PEM), injected
    # whole (CLIENT_CERT) or read by ARN. Written once per process to a private directory: certificate and chain to
    # one file, the unencrypted key (py-amqp cannot load encrypted keys) to another, both 0600, removed at exit.
    text = os.environ.get(prefix + "CLIENT_CERT")
    where = prefix + "CLIENT_CERT"
    if not text:
        arn = _celery_tls_optional(prefix, "CLIENT_CERT_SECRET_ARN", defaults.get("client_cert_secret_arn"))
        if not arn:
            return None, None
        text = _celery_tls_read_secret(prefix, arn, "CLIENT_CERT_SECRET_ARN")
        where = "The secret " + arn
    try:
        data = json.loads(text)
    except ValueError:
        data = None
    if not isinstance(data, dict) or not data.get("certificate") or not data.get("private_key"):
        raise CeleryTLSConfigError("%s must be JSON with \"certificate\" and \"private_key\" (PEM)." % where)
    if "ENCRYPTED" in str(data["private_key"]).split("\n", 1)[0]:
        raise CeleryTLSConfigError("%s holds an encrypted private key: py-amqp needs it unencrypted." % where)
    import atexit
    import shutil
    import tempfile
    directory = tempfile.mkdtemp(prefix="celery-tls-")  # 0700
    owner = os.getpid()

    def write(name, content):
        path = os.path.join(directory, name)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as f:
            f.write(content if content.endswith("\n") else content + "\n")
        return path

    chain = str(data.get("certificate_chain") or "")
    cert = write("client.crt", str(data["certificate"]).strip() + "\n" + chain)
    key = write("client.key", str(data["private_key"]))
    # Forked workers share the files; only the process that wrote them removes them.
    atexit.register(lambda: os.getpid() == owner and shutil.rmtree(directory, ignore_errors=True))
    return cert, key


def _celery_tls_files(prefix, defaults):
    # CA bundle and client certificate paths; each may be None (None CA: the system trust store).
    ca = _celery_tls_optional(prefix, "CA_CERTS", defaults["ca_certs"])
    cert = _celery_tls_optional(prefix, "CERTFILE", defaults["certfile"])
    key = _celery_tls_optional(prefix, "KEYFILE", defaults["keyfile"])
    if bool(cert) != bool(key):
        raise CeleryTLSConfigError("%sCERTFILE and %sKEYFILE go together: set both for mutual TLS, or neither." % (prefix, prefix))
    if not cert:
        cert, key = _celery_tls_client_cert_from_secret(prefix, defaults)
    return ca, cert, key


def _celery_tls_present(**options):
    return {name: value for name, value in options.items() if value}


def _celery_tls_amqp_ssl(prefix, host, defaults):
    # py-amqp key family (amqp/transport.py): server_hostname turns on SNI and the hostname check.
    ca, cert, key = _celery_tls_files(prefix, defaults)
    options = {"cert_reqs": ssl.CERT_REQUIRED, "server_hostname": host}
    options.update(_celery_tls_present(ca_certs=ca, certfile=cert, keyfile=key))
    return options


def _celery_tls_redis_accepts(name):
    try:
        import inspect
        import redis.connection
        return name in inspect.signature(redis.connection.SSLConnection.__init__).parameters
    except Exception:
        return False


def _celery_tls_redis_ssl(prefix, defaults):
    # redis-py key family (ssl_*), passed to redis.SSLConnection; hostname checks are off by default before redis-py 6.
    ca, cert, key = _celery_tls_files(prefix, defaults)
    options = {"ssl_cert_reqs": ssl.CERT_REQUIRED, "ssl_check_hostname": True}
    options.update(_celery_tls_present(ssl_ca_certs=ca, ssl_certfile=cert, ssl_keyfile=key))
    if _celery_tls_redis_accepts("ssl_min_version"):
        options["ssl_min_version"] = ssl.TLSVersion.TLSv1_2
    return options


def _celery_tls_address(prefix, defaults):
    host = _celery_tls_value(prefix, "HOST", defaults["host"])
    port = int(_celery_tls_value(prefix, "PORT", defaults["port"]))
    user = _celery_tls_value(prefix, "USERNAME", defaults["username"])
    return host, port, user


def _celery_tls_amqp_url(prefix, defaults):
    host, port, user = _celery_tls_address(prefix, defaults)
    # The certificate's name when HOST is a tunnel or another name for the broker: py-amqp sends it as SNI and checks
    # the certificate against it (amqp/transport.py), so hostname verification stays on.
    server_name = _celery_tls_optional(prefix, "SERVER_NAME", defaults.get("server_name")) or host
    vhost = _celery_tls_value(prefix, "VHOST", defaults["vhost"])
    if defaults["login_method"] == "EXTERNAL":
        credentials = quote(user, safe="") + "@" if user else ""
    else:
        user, password = _celery_tls_credentials(prefix, defaults)
        credentials = "%s:%s@" % (quote(user, safe=""), quote(password, safe=""))
    url = "amqps://%s%s:%d/%s" % (credentials, _celery_tls_host(host), port, quote(vhost, safe=""))
    return url, _celery_tls_amqp_ssl(prefix, server_name, defaults)


def _celery_tls_redis_url(prefix, defaults):
    if os.environ.get(prefix + "SERVER_NAME"):
        raise CeleryTLSConfigError(
            "%sSERVER_NAME is set, but redis-py checks the certificate against the host it connects to: set %sHOST to "
            "the certificate's name and resolve that name to the tunnel locally (e.g. in /etc/hosts)." % (prefix, prefix))
    host, port, user = _celery_tls_address(prefix, defaults)
    db = int(_celery_tls_value(prefix, "DB", defaults["db"]))
    options = _celery_tls_redis_ssl(prefix, defaults)
    provider = _celery_tls_credential_provider(prefix, defaults)
    # No TLS options in the URL: query parameters replace (broker) or override (backend) the dictionary.
    if provider is not None:
        # Celery and kombu merge this dictionary into redis-py's connection arguments as it is.
        options["credential_provider"] = provider
        return "rediss://%s:%d/%d" % (_celery_tls_host(host), port, db), options
    user, password = _celery_tls_credentials(prefix, defaults)
    url = "rediss://%s:%s@%s:%d/%d" % (quote(user, safe=""), quote(password, safe=""), _celery_tls_host(host), port, db)
    return url, options


def _celery_tls_postgres(prefix, defaults):
    # The parts of a PostgreSQL connection over verified TLS: host, port, database, user, password and the libpq TLS
    # options (sslmode verify-full, the CA bundle, TLS 1.2 at least).
    for name in ("SERVER_NAME", "CERTFILE", "KEYFILE", "CLIENT_CERT", "CLIENT_CERT_SECRET_ARN"):
        if os.environ.get(prefix + name):
            raise CeleryTLSConfigError(
                "%s%s is set, but a PostgreSQL result backend takes none: libpq checks the certificate against the "
                "host it connects to (set %sHOST to the certificate's name), and RDS logs roles in by password, not "
                "by client certificate." % (prefix, name, prefix))
    host, port, _ = _celery_tls_address(prefix, defaults)
    if host.startswith("/") or "," in host:
        raise CeleryTLSConfigError(
            "%sHOST %r is not a DNS name: libpq reads a path as a Unix socket, where sslmode does not apply, and a list "
            "as several hosts. Give the server's DNS name." % (prefix, host))
    database = _celery_tls_value(prefix, "DATABASE", defaults["database"])
    ca = _celery_tls_optional(prefix, "CA_CERTS", defaults["ca_certs"])
    if not ca or not os.path.isfile(ca):
        raise CeleryTLSConfigError(
            "%sCA_CERTS %s is not a file: sslmode=verify-full needs the CA bundle the server's certificate chains to. "
            "For RDS, put https://truststore.pki.rds.amazonaws.com/global/global-bundle.pem in the image at that path "
            "(or set %sCA_CERTS to where it is)." % (prefix, repr(ca) if ca else "(unset)", prefix))
    user, password = _celery_tls_credentials(prefix, defaults)
    tls = {"sslmode": "verify-full", "sslrootcert": ca}
    try:
        import psycopg2.extensions
        if psycopg2.extensions.libpq_version() >= 130000:  # ssl_min_protocol_version is libpq 13's
            tls["ssl_min_protocol_version"] = "TLSv1.2"
    except ImportError:
        pass
    return {"host": host, "port": port, "database": database, "user": user, "password": password, "tls": tls}


def _celery_tls_postgres_url(prefix, defaults):
    # (result_backend, database_engine_options). The TLS options go in the URL and again in connect_args, which
    # SQLAlchemy applies after the URL's query (create_engine: connect_args update the URL's parameters), so they hold
    # even where something rewrites the URL. pool_pre_ping replaces connections a database restart closed; Celery
    # itself makes a new engine in each forked child (celery/backends/database/session.py).
    p = _celery_tls_postgres(prefix, defaults)
    _celery_tls_postgres_credential_refresh(prefix, defaults, p)
    query = urlencode(p["tls"], quote_via=quote)
    url = "db+postgresql+psycopg2://%s:%s@%s:%d/%s?%s" % (
        quote(p["user"], safe=""), quote(p["password"], safe=""), _celery_tls_host(p["host"]), p["port"],
        quote(p["database"], safe=""), query)
    connect_args = dict(p["tls"], connect_timeout=int(_celery_tls_optional(prefix, "CONNECT_TIMEOUT", "10")),
                        keepalives=1, keepalives_idle=30, keepalives_interval=10, keepalives_count=3,
                        application_name=_CELERY_TLS_POSTGRES_APPLICATION)
    return url, {"pool_pre_ping": True, "connect_args": connect_args}


def _celery_tls_postgres_credential_refresh(prefix, defaults, first):
    # A rotated role password (and, with alternating roles, user name) reaches new connections without a restart:
    # for a secret read by ARN (an injected variable cannot change), every new connection to this host asks for the
    # current credentials, re-read at most every SECRET_REFRESH_SECONDS (default 300); the last good value is kept
    # while Secrets Manager cannot be read. SQLAlchemy's do_connect event may change the arguments psycopg2 gets.
    if os.environ.get(prefix + "PASSWORD") or os.environ.get(prefix + "CREDENTIALS"):
        return
    if not _celery_tls_optional(prefix, "SECRET_ARN", defaults["secret_arn"]):
        return
    try:
        from sqlalchemy import event
        from sqlalchemy.engine import Engine
    except ImportError:
        return
    import threading
    import time
    refresh = float(_celery_tls_optional(prefix, "SECRET_REFRESH_SECONDS", "300"))
    lock = threading.Lock()
    state = {"value": (first["user"], first["password"]), "read_at": time.monotonic()}

    def current():
        with lock:
            if time.monotonic() - state["read_at"] >= refresh:
                try:
                    state["value"] = _celery_tls_credentials(prefix, defaults)
                except Exception:  # Secrets Manager unreachable: keep the last good value, try again later
                    pass
                state["read_at"] = time.monotonic()
            return state["value"]

    def do_connect(dialect, connection_record, cargs, cparams):
        # Only Celery's own connections (the application_name its connect_args set): another engine of the
        # application on the same server keeps its own login.
        if (dialect.name == "postgresql" and cparams.get("host") == first["host"]
                and cparams.get("application_name") == _CELERY_TLS_POSTGRES_APPLICATION):
            cparams["user"], cparams["password"] = current()

    event.listen(Engine, "do_connect", do_connect)


def _celery_tls_django_database(prefix, defaults):
    # A Django DATABASES entry for django-celery-results (CELERY_RESULT_BACKEND = "django-db"): the same role over
    # the same verified TLS, the options where Django's PostgreSQL backend passes them to libpq.
    p = _celery_tls_postgres(prefix, defaults)
    return {
        "ENGINE": "django.db.backends.postgresql", "NAME": p["database"], "USER": p["user"],
        "PASSWORD": p["password"], "HOST": p["host"], "PORT": str(p["port"]), "CONN_MAX_AGE": 60,
        "CONN_HEALTH_CHECKS": True, "OPTIONS": dict(p["tls"], connect_timeout=10),
    }


def _celery_tls_assert_django_database(database):
    # For a DATABASES entry the application wrote or changed: refuse one that is not PostgreSQL over verify-full.
    options = database.get("OPTIONS") or {} if isinstance(database, dict) else {}
    if not isinstance(database, dict) or "postgresql" not in str(database.get("ENGINE", "")) or \
            options.get("sslmode") != "verify-full" or not options.get("sslrootcert") or \
            str(database.get("HOST", "")).startswith("/") or not database.get("HOST"):
        raise CeleryTLSConfigError(
            "The results database must be django.db.backends.postgresql with OPTIONS sslmode=verify-full and "
            "sslrootcert (the CA bundle).")
    return database


def _celery_tls_credential_provider(prefix, defaults):
    # A rotated password reaches new connections without a restart: redis-py >= 4.4 asks a credential provider on
    # every connect (redis/connection.py, on_connect). Only for a secret read by ARN (an injected variable cannot
    # change), re-read at most every SECRET_REFRESH_SECONDS (default 300); the last good value is kept meanwhile.
    if os.environ.get(prefix + "PASSWORD") or os.environ.get(prefix + "CREDENTIALS"):
        return None
    if not _celery_tls_optional(prefix, "SECRET_ARN", defaults["secret_arn"]):
        return None
    try:
        from redis.credentials import CredentialProvider
    except ImportError:
        return None
    import threading
    import time
    refresh = float(_celery_tls_optional(prefix, "SECRET_REFRESH_SECONDS", "300"))
    first = _celery_tls_credentials(prefix, defaults)  # unreadable at start-up: the import fails, as without it

    class _CeleryTLSSecretCredentials(CredentialProvider):
        def __init__(self):
            self._lock = threading.Lock()
            self._value = first
            self._read_at = time.monotonic()

        def get_credentials(self):
            with self._lock:
                if time.monotonic() - self._read_at >= refresh:
                    try:
                        self._value = _celery_tls_credentials(prefix, defaults)
                    except Exception:  # Secrets Manager unreachable: keep the last good value, try again later
                        pass
                    self._read_at = time.monotonic()
                user, password = self._value
                return (user, password) if user else (password,)

        def __repr__(self):
            return "<credentials from %s, re-read every %g s>" % (prefix + "SECRET_ARN", refresh)

    return _CeleryTLSSecretCredentials()


def _celery_tls_assert_secure(broker_url, broker_use_ssl, result_backend, redis_backend_use_ssl):
    _celery_tls_check_url("broker_url", broker_url)
    if not isinstance(broker_use_ssl, dict):
        raise CeleryTLSConfigError("broker_use_ssl must be a dict: True gives no TLS at all with a Redis broker.")
    if broker_url.startswith("amqps://"):
        if broker_use_ssl.get("cert_reqs") != ssl.CERT_REQUIRED or not broker_use_ssl.get("server_hostname"):
            raise CeleryTLSConfigError("broker_use_ssl must require certificates and name server_hostname.")
    elif broker_use_ssl.get("ssl_cert_reqs") != ssl.CERT_REQUIRED or broker_use_ssl.get("ssl_check_hostname") is not True:
        raise CeleryTLSConfigError("broker_use_ssl must require certificates and check the hostname.")
    if result_backend is not None:
        _celery_tls_check_url("result_backend", result_backend, True)
        if result_backend.startswith("db+"):
            # redis_backend_use_ssl is database_engine_options here: libpq's options in connect_args.
            connect_args = (redis_backend_use_ssl or {}).get("connect_args") if isinstance(redis_backend_use_ssl, dict) else None
            if (not isinstance(connect_args, dict) or connect_args.get("sslmode") != "verify-full"
                    or not connect_args.get("sslrootcert")):
                raise CeleryTLSConfigError(
                    "database_engine_options must pass sslmode=verify-full and sslrootcert in connect_args.")
            return
        if not result_backend.startswith("rediss://"):
            raise CeleryTLSConfigError("result_backend must be a rediss:// URL.")
        if (not isinstance(redis_backend_use_ssl, dict) or redis_backend_use_ssl.get("ssl_cert_reqs") != ssl.CERT_REQUIRED
                or redis_backend_use_ssl.get("ssl_check_hostname") is not True):
            raise CeleryTLSConfigError("redis_backend_use_ssl must require certificates and check the hostname.")


def _celery_tls_redis_backend_retries():
    # result_backend_always_retry retries only what the backend's exception_safe_to_retry accepts. Celery releases
    # whose Redis backend does not override it (Debian 12's 5.2.6) retry nothing, and a Redis restart or failover
    # loses results (seen in this project's fault test). Install the predicate later releases use
    # (celery/backends/redis.py): retry the backend's connection errors.
    try:
        from celery.backends.base import BaseBackend
        from celery.backends.redis import RedisBackend
    except ImportError:
        return
    if RedisBackend.exception_safe_to_retry is BaseBackend.exception_safe_to_retry:
        def exception_safe_to_retry(self, exc):
            return isinstance(exc, self.connection_errors)
        RedisBackend.exception_safe_to_retry = exception_safe_to_retry


def _celery_tls_database_backend_retries():
    # Celery's database backend retries a failed query three times at once (celery/backends/database/__init__.py
    # retry) and defines no exception_safe_to_retry, so result_backend_always_retry never applies to it and a
    # PostgreSQL restart or failover loses results. Retry what a lost or refused connection raises, with Celery's
    # backoff; a constraint or permission error is not retried, and neither is a TLS or login failure (the same
    # OperationalError class: waiting cannot mend a rogue CA, and would hide it for minutes).
    try:
        from celery.backends.base import BaseBackend
        from celery.backends.database import DatabaseBackend
        from sqlalchemy.exc import InterfaceError, OperationalError
    except ImportError:
        return
    if DatabaseBackend.exception_safe_to_retry is BaseBackend.exception_safe_to_retry:
        def exception_safe_to_retry(self, exc):
            if any(marker in str(exc) for marker in _CELERY_TLS_TLS_FAILURES):
                return False
            return isinstance(exc, (OperationalError, InterfaceError)) or bool(getattr(exc, "connection_invalidated", False))
        DatabaseBackend.exception_safe_to_retry = exception_safe_to_retry


def _celery_tls_database_json_like_results():
    # Celery's database backend keeps results and group results in PickleType columns and unpickles what it reads
    # (celery/backends/database/models.py), whatever result_serializer says. Whoever can write those rows (a producer
    # saves groups) could make every reader run code. With JSON-only settings every legitimate value is JSON-like:
    # dicts, lists, strings, numbers, booleans, None, tuples and bytes, which pickle stores without naming a single
    # class. So the columns are read with an unpickler that refuses every class; writing is unchanged.
    import io
    import pickle
    try:
        from celery.backends.database import models
    except ImportError:
        return

    class _CeleryTLSNoClasses(pickle.Unpickler):
        def find_class(self, module, name):
            raise pickle.UnpicklingError(
                "a stored result names %s.%s: the result tables are read as JSON-like values only (celery-tls)"
                % (module, name))

    class _CeleryTLSJsonLikePickle:
        @staticmethod
        def dumps(value, protocol=None):
            return pickle.dumps(value, protocol)

        @staticmethod
        def loads(data):
            return _CeleryTLSNoClasses(io.BytesIO(data)).load()

    for model in (models.Task, models.TaskSet):
        column_type = model.__table__.c.result.type
        if getattr(column_type, "pickler", None) is not None:
            column_type.pickler = _CeleryTLSJsonLikePickle


def _celery_tls_celery_version():
    import celery
    return tuple(int(part) for part in celery.__version__.split(".")[:2])


def _celery_tls_require_celery(minimum, reason):
    import celery
    if _celery_tls_celery_version() < minimum:
        raise CeleryTLSConfigError(
            "Celery %s is too old: %s needs Celery %d.%d or later." % (celery.__version__, reason, minimum[0], minimum[1]))


def _celery_tls_subsecond_countdowns():
    # With native delayed delivery, Celery 5.5 and 5.6 turn a countdown in (0, 1) s into int(countdown) == 0, which
    # kombu refuses with ValueError (celery/app/base.py send_task, kombu/transport/native_delayed_delivery.py
    # calculate_routing_key). Round it up to the one second delayed delivery can express: never earlier than asked.
    try:
        import celery.app.base as base
    except ImportError:
        return
    original = getattr(base, "calculate_routing_key", None)
    if original is None or getattr(original, "celery_tls", False):
        return

    def calculate_routing_key(countdown, routing_key):
        return original(max(int(countdown), 1), routing_key)
    calculate_routing_key.celery_tls = True
    base.calculate_routing_key = calculate_routing_key


def _celery_tls_mask_logged_urls():
    # Celery 5.5 logs the broker URL with its password when native delayed delivery fails to set up, and at DEBUG
    # every time (celery/worker/consumer/delayed_delivery.py; 5.6 masks it with kombu's maybe_sanitize_url). Mask the
    # URLs in that logger's records, on every release: a masked URL is masked again harmlessly.
    import logging
    try:
        from kombu.utils.url import maybe_sanitize_url
    except ImportError:
        return

    class _CeleryTLSMaskURLs(logging.Filter):
        def filter(self, record):
            if isinstance(record.args, tuple):
                record.args = tuple(
                    maybe_sanitize_url(a) if isinstance(a, str) and "://" in a else a for a in record.args)
            return True

    logger = logging.getLogger("celery.worker.consumer.delayed_delivery")
    if not any(type(f).__name__ == "_CeleryTLSMaskURLs" for f in logger.filters):
        logger.addFilter(_CeleryTLSMaskURLs())


def _celery_tls_without_transient_queues():
    # RabbitMQ 4.3 refuses transient non-exclusive queues (Amazon MQ's RabbitMQ 4.3 page). Celery >= 5.6 declares its
    # control and event queues exclusive when asked (control_queue_exclusive, event_queue_exclusive). Older releases
    # declare them transient (kombu/pidbox.py, celery/events/receiver.py): remote control, mingle and gossip are
    # turned off there, mingle and gossip as --without-mingle --without-gossip would (the worker's options, read when
    # its consumer steps are built, after worker_init).
    # Returns (worker_enable_remote_control, control/event queues exclusive).
    if _celery_tls_celery_version() >= (5, 6):
        return True, True
    from celery import signals

    def without_transient_queues(sender=None, **kwargs):
        options = getattr(sender, "options", None)
        if isinstance(options, dict):
            options["without_mingle"] = True
            options["without_gossip"] = True
    signals.worker_init.connect(without_transient_queues, weak=False)
    return False, False


# Failures that waiting cannot mend: TLS (every ssl error's text names SSL, a wrong CA or host name included) and login.
# libpq's: "certificate verify failed", "server certificate for ... does not match host name", "root certificate
# file ... does not exist", "password authentication failed", "no pg_hba.conf entry".
_CELERY_TLS_TLS_FAILURES = ("SSL", "AuthenticationError", "ACCESS_REFUSED", "WRONGPASS", "NOAUTH", "certificate",
                            "password authentication failed", "pg_hba.conf")


def _celery_tls_startup_check(seconds):
    # A worker whose broker or result backend cannot be reached over verified TLS exits non-zero before it reports
    # ready, with the reason, instead of failing every task after the backend's retries. TLS and login failures end
    # the check at once; an endpoint that does not answer is retried for seconds. CELERY_TLS_STARTUP_CHECK=0 skips it.
    if os.environ.get("CELERY_TLS_STARTUP_CHECK", "").strip().lower() in ("0", "false", "no", "off"):
        return
    from celery import signals

    def attempt(probe):
        import time
        deadline = time.monotonic() + seconds
        while True:
            try:
                probe()
                return None
            except Exception as exc:  # the reason is reported; it never holds a password (URLs are not printed)
                reason = "%s: %s" % (type(exc).__name__, exc)
                if any(marker in reason for marker in _CELERY_TLS_TLS_FAILURES) or time.monotonic() + 2 > deadline:
                    return reason
                time.sleep(2)

    def broker_probe(app):
        def probe():
            conn = app.connection_for_write()
            try:
                conn.connect()
            finally:
                conn.release()
        return probe

    def backend_probe(app):
        def probe():
            app.backend.client.ping()
        return probe

    def database_probe(app):
        def probe():
            from sqlalchemy import text
            session = app.backend.ResultSession()
            try:
                session.execute(text("SELECT 1"))
            finally:
                session.close()
        return probe

    def check(sender=None, **kwargs):
        import threading
        app = getattr(sender, "app", None)
        if app is None:
            return
        probes = [("broker", broker_probe(app))]
        kinds = [cls.__name__ for cls in type(app.backend).__mro__]  # subclasses included
        if "RedisBackend" in kinds:
            probes.append(("result backend", backend_probe(app)))
        elif "DatabaseBackend" in kinds:
            probes.append(("result backend", database_probe(app)))
        for name, probe in probes:
            outcome = {}
            thread = threading.Thread(target=lambda: outcome.update(reason=attempt(probe)), daemon=True)
            thread.start()
            thread.join(seconds + 10)
            reason = outcome.get("reason") if "reason" in outcome else "no answer within %d s" % seconds
            if reason:
                raise SystemExit(
                    "CeleryTLSConfigError: start-up check: the %s cannot be reached over verified TLS (%s). The worker "
                    "stops instead of reporting ready. CELERY_TLS_STARTUP_CHECK=0 skips this check." % (name, reason))
    signals.worker_init.connect(check, weak=False)
