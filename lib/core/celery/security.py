# Message signing and result encryption for the rendered Celery settings (celery-tls-constructs). Runs on Python 3.8+
# with Celery 5.2 to 5.6 and python3-cryptography (Debian 12: 38, Debian 13: 43). Every name starts with
# `_celery_tls_` except `celery_tls_setup_security`, the function the application calls.
#
# How it is embedded: scripts/embed-python.mjs copies everything after the marker line below, byte for byte, into
# lib/core/celery/python-security.generated.ts (PYTHON_SECURITY); lib/core/celery/security.ts writes it into the
# rendered settings, after runtime.py's part (whose CeleryTLSConfigError and _celery_tls_read_secret it uses), only
# when signing or result encryption is configured. The embedded part may not contain a backtick, `${` or a carriage
# return: the generated module holds it in a String.raw template. `npm run lint:python` checks this file as it is.
#
# Facts it relies on (read in celery v5.2.6 and v5.5.2, kombu v5.2.4 and v5.5.3):
# - The auth serializer (celery/security/serialization.py) signs the serialized body (args, kwargs, embed) only, with
#   RSA-PSS; task name, id and argsrepr travel in headers that are not signed. 5.5 refuses non-RSA keys at load, 5.2.6
#   loads them and fails at the first signature. 5.2.6 and 5.5 frame the signer and signature differently, so a 5.2
#   producer and a 5.5 worker cannot talk signed.
# - Celery.setup_security() passes digest="sha256" by default, so the security_digest setting is ignored unless the
#   digest is passed explicitly (celery/app/base.py, celery/security/__init__.py): celery_tls_setup_security does.
# - kombu's loads() checks only `accept` when it is given (always, in Celery), and a registered decoder gets the raw
#   body (kombu/serialization.py).
# ---- embedded from here on ----
import base64

try:
    json, os
except NameError:  # this file alone; the rendered settings import them in runtime.py's part
    import json
    import os

try:
    CeleryTLSConfigError
except NameError:  # this file alone (lint, tests); the rendered settings define it in runtime.py's part
    class CeleryTLSConfigError(RuntimeError):
        """The settings would give a plaintext or unverified connection, or cannot be completed: do not start."""

try:
    _celery_tls_read_secret
except NameError:  # this file alone; the rendered settings define it in runtime.py's part
    def _celery_tls_read_secret(prefix, arn, variable):
        import boto3
        region = arn.split(":")[3] if arn.startswith("arn:") and arn.count(":") >= 6 else None
        return boto3.client("secretsmanager", region_name=region).get_secret_value(SecretId=arn)["SecretString"]

# Deserializers that run code or build arbitrary objects from what a message or a result store holds.
_CELERY_TLS_UNSAFE_CONTENT = ("pickle", "application/x-python-serialize", "yaml", "application/x-yaml",
                              "msgpack", "application/x-msgpack")
_CELERY_TLS_DIGESTS = ("sha256", "sha384", "sha512", "sha3_256", "sha3_384", "sha3_512")
_CELERY_TLS_ENCRYPTED = "celery_tls_aesgcm"
_CELERY_TLS_ENCRYPTED_TYPE = "application/x-celery-tls-aesgcm"
_CELERY_TLS_FORMAT = "ctls1"
_CELERY_TLS_SIGNING_PREFIX = "CELERY_TLS_SIGNING_"
_CELERY_TLS_RESULT_KEY_PREFIX = "CELERY_TLS_RESULT_KEY"
_celery_tls_security_state = {"signing": None, "set_up": False}


def _celery_tls_cryptography():
    import importlib.util
    if importlib.util.find_spec("cryptography") is None:
        raise CeleryTLSConfigError(
            "Message signing and result encryption need the cryptography package (Debian: python3-cryptography).")


def _celery_tls_private_dir():
    import atexit
    import shutil
    import tempfile
    directory = tempfile.mkdtemp(prefix="celery-tls-security-")  # 0700
    owner = os.getpid()
    # Forked workers share the files; only the process that wrote them removes them.
    atexit.register(lambda: os.getpid() == owner and shutil.rmtree(directory, ignore_errors=True))
    return directory


def _celery_tls_write_private(directory, name, content):
    path = os.path.join(directory, name)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as f:
        f.write(content if content.endswith("\n") else content + "\n")
    return path


def _celery_tls_pem_blocks(text, kind):
    begin, end = "-----BEGIN %s-----" % kind, "-----END %s-----" % kind
    blocks, at = [], 0
    while True:
        start = text.find(begin, at)
        if start < 0:
            return blocks
        stop = text.find(end, start)
        if stop < 0:
            return blocks
        blocks.append(text[start:stop + len(end)] + "\n")
        at = stop + len(end)


def _celery_tls_check_certificate(where, pem):
    # Celery's verifier needs RSA (5.5 refuses other keys; 5.2.6 sizes the signature from the RSA key).
    from cryptography import x509
    from cryptography.hazmat.primitives.asymmetric import rsa
    try:
        cert = x509.load_pem_x509_certificate(pem.encode())
    except ValueError:
        raise CeleryTLSConfigError("%s is not a PEM certificate." % where)
    key = cert.public_key()
    if not isinstance(key, rsa.RSAPublicKey):
        raise CeleryTLSConfigError(
            "%s has a %s key: Celery's message signing (the auth serializer) needs RSA." % (where, type(key).__name__))
    if key.key_size < 2048:
        raise CeleryTLSConfigError("%s has a %d-bit RSA key: use 2048 bits or more." % (where, key.key_size))
    import datetime
    not_after = getattr(cert, "not_valid_after_utc", None) or cert.not_valid_after.replace(tzinfo=datetime.timezone.utc)
    if not_after <= datetime.datetime.now(datetime.timezone.utc):
        raise CeleryTLSConfigError("%s expired on %s." % (where, not_after.isoformat()))
    return cert


def _celery_tls_check_private_key(where, pem, cert):
    # Never echo the key. Encrypted keys are refused: their password would sit beside them, in the same place.
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import rsa
    if "ENCRYPTED" in pem.split("\n", 1)[0] or "Proc-Type: 4,ENCRYPTED" in pem:
        raise CeleryTLSConfigError(
            "%s holds an encrypted private key: store it unencrypted in Secrets Manager (encrypted there with KMS)." % where)
    try:
        key = serialization.load_pem_private_key(pem.encode(), password=None)
    except TypeError:
        raise CeleryTLSConfigError("%s holds an encrypted private key: store it unencrypted." % where)
    except ValueError:
        raise CeleryTLSConfigError("%s holds no readable PEM private key." % where)
    if not isinstance(key, rsa.RSAPrivateKey):
        raise CeleryTLSConfigError(
            "%s holds a %s: Celery's message signing (the auth serializer) needs an RSA key." % (where, type(key).__name__))
    if key.public_key().public_numbers() != cert.public_key().public_numbers():
        raise CeleryTLSConfigError("%s: the private key does not belong to the certificate." % where)


def _celery_tls_signing_files(defaults):
    # (security_key, security_certificate, security_cert_store) paths, checked. This role's key pair: the secret
    # {"certificate", "private_key"} injected whole (CELERY_TLS_SIGNING_KEYPAIR) or read by ARN, or two files. The
    # certificate store (every signer's certificate, producers' and workers'): a directory or PEM bundle file, the
    # bundle injected (CELERY_TLS_SIGNING_CERTIFICATES) or read by ARN. Secrets are written to 0600 files in a 0700
    # directory, removed at exit.
    _celery_tls_cryptography()
    p = _CELERY_TLS_SIGNING_PREFIX
    env = os.environ.get
    directory = None
    key_file = env(p + "KEYFILE") or defaults.get("key_file")
    cert_file = env(p + "CERTFILE") or defaults.get("certificate_file")
    if bool(key_file) != bool(cert_file):
        raise CeleryTLSConfigError("%sKEYFILE and %sCERTFILE go together: give both, or neither." % (p, p))
    if key_file:
        where = p + "KEYFILE"
        with open(key_file) as f:
            key_pem = f.read()
        with open(cert_file) as f:
            cert_pem = f.read()
    else:
        text, where = env(p + "KEYPAIR"), p + "KEYPAIR"
        if not text:
            arn = env(p + "KEYPAIR_SECRET_ARN") or defaults.get("key_pair_secret_arn")
            if not arn:
                raise CeleryTLSConfigError(
                    "Message signing is on but no signing key is given: set %sKEYPAIR (the secret, injected), "
                    "%sKEYPAIR_SECRET_ARN, or %sKEYFILE and %sCERTFILE." % (p, p, p, p))
            text, where = _celery_tls_read_secret(p, arn, "KEYPAIR_SECRET_ARN"), "The secret " + arn
        try:
            data = json.loads(text)
        except ValueError:
            data = None
        if not isinstance(data, dict) or not data.get("certificate") or not data.get("private_key"):
            raise CeleryTLSConfigError("%s must be JSON with \"certificate\" and \"private_key\" (PEM)." % where)
        key_pem, cert_pem = str(data["private_key"]), str(data["certificate"])
    cert = _celery_tls_check_certificate(where + " (certificate)", cert_pem)
    _celery_tls_check_private_key(where, key_pem, cert)
    if not key_file:
        directory = _celery_tls_private_dir()
        key_file = _celery_tls_write_private(directory, "signing.key", key_pem)
        cert_file = _celery_tls_write_private(directory, "signing.crt", cert_pem.strip() + "\n")

    store = env(p + "CERT_STORE") or None
    bundle, where = env(p + "CERTIFICATES"), p + "CERTIFICATES"
    _celery_tls_security_state["store_arn"] = None
    if not store and not bundle:
        arn = env(p + "CERTIFICATES_SECRET_ARN") or defaults.get("certificates_secret_arn")
        if arn:
            bundle, where = _celery_tls_read_secret(p, arn, "CERTIFICATES_SECRET_ARN"), "The secret " + arn
            _celery_tls_security_state["store_arn"] = arn
        else:
            store = defaults.get("cert_store")
    if not store and not bundle:
        raise CeleryTLSConfigError(
            "Message signing needs a certificate store (every signer's certificate) to verify messages: set "
            "%sCERT_STORE (a directory or PEM file), %sCERTIFICATES (the PEM bundle) or %sCERTIFICATES_SECRET_ARN."
            % (p, p, p))
    if store:
        where = store
        if os.path.isdir(store):
            pems = []
            for name in sorted(os.listdir(store)):
                path = os.path.join(store, name)
                if not os.path.isfile(path):
                    raise CeleryTLSConfigError(
                        "%s is not a file: Celery reads every entry of the store directory as a certificate." % path)
                with open(path) as f:
                    pems.append((path, f.read()))
        else:
            with open(store) as f:
                pems = [("%s #%d" % (store, i + 1), b) for i, b in enumerate(_celery_tls_pem_blocks(f.read(), "CERTIFICATE"))]
    else:
        pems = _celery_tls_bundle_pems(bundle, where)
    if not pems:
        raise CeleryTLSConfigError("The certificate store %s holds no certificate." % where)
    for name, pem in pems:
        if len(_celery_tls_pem_blocks(pem, "CERTIFICATE")) != 1:
            raise CeleryTLSConfigError("%s must hold exactly one PEM certificate (Celery reads one per file)." % name)
        _celery_tls_check_certificate("The signer certificate " + name, pem)
    if not (store and os.path.isdir(store)):
        # Celery's store reads one certificate per file of a directory (celery/security/certificate.py FSCertStore).
        directory = directory or _celery_tls_private_dir()
        store = os.path.join(directory, "cert-store")
        os.mkdir(store, 0o700)
        for i, (_, pem) in enumerate(pems):
            _celery_tls_write_private(store, "signer-%03d.pem" % i, pem)
    return key_file, cert_file, store


def _celery_tls_bundle_pems(bundle, where):
    # The store as a PEM bundle, or JSON {"certificates": "<PEM bundle>"} (CelerySecurityKeys' store secret).
    try:
        data = json.loads(bundle)
        bundle = str(data.get("certificates", "")) if isinstance(data, dict) else bundle
    except ValueError:
        pass
    return [("%s #%d" % (where, i + 1), b) for i, b in enumerate(_celery_tls_pem_blocks(bundle, "CERTIFICATE"))]


def _celery_tls_refreshing_store(arn, seconds=30):
    # A key pair's renewal puts the signer's new certificate in the store secret before its key signs anything
    # (CelerySecurityKeys); a process started before that learns it here. A message naming a certificate the store
    # lacks re-reads the store secret (at most every SECONDS, so unknown signers cannot make a process call Secrets
    # Manager per message), adds the certificates it did not hold that pass the start-up checks, and looks again;
    # still unknown, Celery refuses the message as before. Installed once, on Celery's CertStore (FSCertStore's base).
    import threading
    import time
    from celery.security import certificate
    original = certificate.CertStore.__getitem__
    if getattr(original, "celery_tls", False):
        return
    lock = threading.Lock()
    state = {"read_at": None}

    def refresh(store):
        text = _celery_tls_read_secret(_CELERY_TLS_SIGNING_PREFIX, arn, "CERTIFICATES_SECRET_ARN")
        for name, pem in _celery_tls_bundle_pems(text, "The secret " + arn):
            try:
                _celery_tls_check_certificate("The signer certificate " + name, pem)
                cert = certificate.Certificate(pem)
                if cert.has_expired():
                    continue
                if cert.get_id() not in [c.get_id() for c in store.itercerts()]:
                    store.add_cert(cert)
            except Exception:  # one bad or expired entry must not hide the others; it is simply not trusted
                continue

    def getitem(self, cert_id):
        try:
            return original(self, cert_id)
        except certificate.SecurityError:
            with lock:
                now = time.monotonic()
                if state["read_at"] is None or now - state["read_at"] >= seconds:
                    state["read_at"] = now
                    try:
                        refresh(self)
                    except Exception:  # Secrets Manager unreachable: the store stays as it is, the message is refused
                        pass
            return original(self, cert_id)

    getitem.celery_tls = True
    certificate.CertStore.__getitem__ = getitem


def _celery_tls_signing(defaults):
    files = _celery_tls_signing_files(defaults)
    if defaults["digest"] not in _CELERY_TLS_DIGESTS:
        raise CeleryTLSConfigError(
            "security_digest %r is not allowed: use one of %s." % (defaults["digest"], ", ".join(_CELERY_TLS_DIGESTS)))
    _celery_tls_security_state["signing"] = dict(defaults, key=files[0], certificate=files[1], store=files[2])
    return files


class _CeleryTLSKeyRing:
    """AES-256-GCM keys derived (HKDF-SHA256) from secret strings; each key's id is derived from it too."""

    def __init__(self, source):
        self._source = source
        self._refreshed = 0.0
        self._load()

    def _load(self):
        from cryptography.hazmat.primitives.ciphers.aead import AESGCM
        keys, current = {}, None
        for where, value in self._source():
            material = value
            try:
                data = json.loads(value)
            except ValueError:
                data = None
            if isinstance(data, dict):
                if not isinstance(data.get("key"), str):
                    raise CeleryTLSConfigError("%s is JSON without a \"key\" string." % where)
                material = data["key"]
            if len(material) < 32:
                raise CeleryTLSConfigError(
                    "%s holds a key of %d characters: give at least 32 random characters (64 recommended)."
                    % (where, len(material)))
            key_id, key = self._derive(material.encode())
            keys.setdefault(key_id, AESGCM(key))
            current = current or key_id
        if current is None:
            raise CeleryTLSConfigError(
                "Result encryption is on but no key is given: set %s (the secret's AWSCURRENT value, injected) [and "
                "%s_PREVIOUS (AWSPREVIOUS)], or %s_SECRET_ARN to read both at start-up."
                % ((_CELERY_TLS_RESULT_KEY_PREFIX,) * 3))
        self.current, self.keys = current, keys

    @staticmethod
    def _derive(material):
        from cryptography.hazmat.primitives import hashes
        from cryptography.hazmat.primitives.kdf.hkdf import HKDF

        def hkdf(info, length):
            return HKDF(algorithm=hashes.SHA256(), length=length, salt=None, info=info).derive(material)
        return hkdf(b"celery-tls-constructs key id v1", 8).hex(), hkdf(b"celery-tls-constructs aes-256-gcm v1", 32)

    def encrypt(self, plaintext):
        header = "%s.%s" % (_CELERY_TLS_FORMAT, self.current)
        nonce = os.urandom(12)
        sealed = self.keys[self.current].encrypt(nonce, plaintext, header.encode())
        return "%s.%s" % (header, base64.urlsafe_b64encode(nonce + sealed).decode().rstrip("="))

    def decrypt(self, token):
        from cryptography.exceptions import InvalidTag
        if isinstance(token, (bytes, bytearray, memoryview)):
            token = bytes(token).decode("ascii", "replace")
        parts = token.split(".")
        if len(parts) != 3 or parts[0] != _CELERY_TLS_FORMAT:
            raise CeleryTLSConfigError("Not a celery-tls encrypted value (format %s): refusing it." % _CELERY_TLS_FORMAT)
        key_id, body = parts[1], parts[2]
        if key_id not in self.keys:
            self._refresh()
        if key_id not in self.keys:
            raise CeleryTLSConfigError(
                "This value was encrypted with key id %s, which is not in the key ring (current %s, %d key(s) from "
                "%s, %s_PREVIOUS): it was written with a key older than the previous one, or with another key ring."
                % (key_id, self.current, len(self.keys), _CELERY_TLS_RESULT_KEY_PREFIX, _CELERY_TLS_RESULT_KEY_PREFIX))
        raw = base64.urlsafe_b64decode(body + "=" * (-len(body) % 4))
        try:
            return self.keys[key_id].decrypt(raw[:12], raw[12:], ("%s.%s" % (parts[0], key_id)).encode())
        except InvalidTag:
            raise CeleryTLSConfigError(
                "A value encrypted with key id %s failed authentication: it was changed after it was written." % key_id)

    def _refresh(self):
        # A key read by ARN may have rotated since start-up (another process writes with the new one): read the
        # secret again, at most every 30 s.
        import time
        if not getattr(self._source, "by_arn", False) or time.monotonic() - self._refreshed < 30:
            return False
        self._refreshed = time.monotonic()
        try:
            self._load()
        except Exception:  # Secrets Manager unreachable: keep the ring as it is
            return False
        return True


def _celery_tls_result_key_source(defaults):
    p = _CELERY_TLS_RESULT_KEY_PREFIX
    current = os.environ.get(p)
    if current:
        def injected():
            out = [(p, current)]
            previous = os.environ.get(p + "_PREVIOUS")
            if previous:
                try:
                    many = json.loads(previous)
                except ValueError:
                    many = None
                values = many if isinstance(many, list) else [previous]
                out += [("%s_PREVIOUS #%d" % (p, i + 1), str(v)) for i, v in enumerate(values)]
            return out
        return injected
    arn = os.environ.get(p + "_SECRET_ARN") or defaults.get("key_secret_arn")
    if not arn:
        return lambda: []

    def by_arn():
        # AWSCURRENT, then AWSPREVIOUS when the secret has rotated at least once.
        try:
            import boto3
        except ImportError:
            raise CeleryTLSConfigError("%s_SECRET_ARN is set but boto3 is not installed." % p)
        region = arn.split(":")[3] if arn.startswith("arn:") and arn.count(":") >= 6 else None
        client = boto3.client("secretsmanager", region_name=region)
        out = [("The secret %s (AWSCURRENT)" % arn, client.get_secret_value(SecretId=arn, VersionStage="AWSCURRENT")["SecretString"])]
        try:
            out.append(("The secret %s (AWSPREVIOUS)" % arn,
                        client.get_secret_value(SecretId=arn, VersionStage="AWSPREVIOUS")["SecretString"]))
        except Exception as exc:  # never rotated: no AWSPREVIOUS version
            if "ResourceNotFound" not in type(exc).__name__ + str(exc):
                raise
        return out
    by_arn.by_arn = True
    return by_arn


def _celery_tls_result_encryption(defaults):
    # Registers the celery_tls_aesgcm serializer with kombu: JSON (kombu's, as Celery's json serializer), then
    # AES-256-GCM with a random 96-bit nonce; the text "ctls1.<key id>.<base64url(nonce | ciphertext | tag)>", the
    # header authenticated as associated data. Results written with any key of the ring read back.
    _celery_tls_cryptography()
    from kombu.serialization import register
    from kombu.utils import json as kombu_json
    ring = _CeleryTLSKeyRing(_celery_tls_result_key_source(defaults))

    def encode(value):
        return ring.encrypt(kombu_json.dumps(value).encode("utf-8"))

    def decode(data):
        return kombu_json.loads(ring.decrypt(data).decode("utf-8"))
    register(_CELERY_TLS_ENCRYPTED, encode, decode, content_type=_CELERY_TLS_ENCRYPTED_TYPE, content_encoding="utf-8")
    _celery_tls_security_state["ring"] = ring
    if defaults.get("arguments"):
        _celery_tls_hide_argument_reprs()
    _celery_tls_quiet_success_log()
    return _CELERY_TLS_ENCRYPTED


def _celery_tls_encrypted_database_backend():
    # Celery's database backend ignores result_serializer for the result: it stores the Python value in a PickleType
    # column (celery/backends/database/models.py; _update_result in celery/backends/database/__init__.py), and reads
    # it back with pickle. This subclass maps the same tables with plain binary columns, stores each result,
    # traceback and group result sealed by the result serializer, and opens them in meta_from_decoded: the table
    # holds ciphertext only, and nothing read from it is ever unpickled. Celery finds it through the backend alias
    # celery_tls_db (celery/app/backends.py by_url: the scheme before the first "+").
    import sys
    import types
    import sqlalchemy as sa
    from sqlalchemy.orm import declarative_base
    from celery import states
    from celery.app import backends
    from celery.backends.database import DatabaseBackend, retry, session_cleanup
    from celery.result import result_from_tuple
    from kombu.utils.encoding import ensure_bytes
    if os.environ.get("CELERY_RESULT_BACKEND"):
        raise CeleryTLSConfigError(
            "CELERY_RESULT_BACKEND is set: Celery would use it instead of the encrypting database backend, and store "
            "results in plaintext. Unset it; the settings give the result backend.")

    def configure(cls, schema=None, name=None):
        cls.__table__.schema = schema
        cls.id.default.schema = schema
        cls.__table__.name = name or cls.__tablename__

    def task_model(extended):
        base = declarative_base()
        columns = {
            "__tablename__": "celery_taskmeta",
            "id": sa.Column(sa.Integer, sa.Sequence("task_id_sequence"), primary_key=True, autoincrement=True),
            "task_id": sa.Column(sa.String(155), unique=True),
            "status": sa.Column(sa.String(50), default=states.PENDING),
            "result": sa.Column(sa.LargeBinary, nullable=True),
            "date_done": sa.Column(sa.DateTime, nullable=True),
            "traceback": sa.Column(sa.Text, nullable=True),
            "__init__": lambda self, task_id: setattr(self, "task_id", task_id),
            "configure": classmethod(configure),
        }
        names = ["task_id", "status", "result", "traceback", "date_done"]
        if extended:
            columns.update(name=sa.Column(sa.String(155), nullable=True), args=sa.Column(sa.LargeBinary, nullable=True),
                           kwargs=sa.Column(sa.LargeBinary, nullable=True), worker=sa.Column(sa.String(155), nullable=True),
                           retries=sa.Column(sa.Integer, nullable=True), queue=sa.Column(sa.String(155), nullable=True))
            names += ["name", "args", "kwargs", "worker", "retries", "queue"]
        columns["to_dict"] = lambda self: {name: getattr(self, name) for name in names}
        return type("CeleryTLSTaskExtended" if extended else "CeleryTLSTask", (base,), columns)

    def group_model():
        def init(self, taskset_id, result):
            self.taskset_id, self.result = taskset_id, result
        return type("CeleryTLSTaskSet", (declarative_base(),), {
            "__tablename__": "celery_tasksetmeta",
            "id": sa.Column(sa.Integer, sa.Sequence("taskset_id_sequence"), autoincrement=True, primary_key=True),
            "taskset_id": sa.Column(sa.String(155), unique=True),
            "result": sa.Column(sa.LargeBinary, nullable=True),
            "date_done": sa.Column(sa.DateTime, nullable=True),
            "__init__": init,
            "configure": classmethod(configure),
            "to_dict": lambda self: {"taskset_id": self.taskset_id, "result": self.result, "date_done": self.date_done},
        })

    models = {"task": task_model(False), "extended": task_model(True), "group": group_model()}

    class EncryptedDatabaseBackend(DatabaseBackend):
        """Celery's database backend, with results, tracebacks and group results stored sealed (celery-tls)."""

        def __init__(self, *args, **kwargs):
            super().__init__(*args, **kwargs)
            if self.serializer != _CELERY_TLS_ENCRYPTED:
                raise CeleryTLSConfigError("The encrypting database backend needs result_serializer %r." % _CELERY_TLS_ENCRYPTED)
            conf = self.app.conf
            self.task_cls = models["extended" if self.extended_result else "task"]
            self.taskset_cls = models["group"]
            schemas, names = conf.database_table_schemas or {}, conf.database_table_names or {}
            self.task_cls.configure(schema=schemas.get("task"), name=names.get("task"))
            self.taskset_cls.configure(schema=schemas.get("group"), name=names.get("group"))

        def _seal(self, value):
            return ensure_bytes(self.encode(value))

        def _update_result(self, task, result, state, traceback=None, request=None):
            super()._update_result(task, result, state, traceback=traceback, request=request)
            task.result = self._seal(task.result)
            task.traceback = self.encode(task.traceback) if task.traceback else None

        def meta_from_decoded(self, meta):
            for field in ("result", "traceback"):
                if isinstance(meta.get(field), (bytes, bytearray, memoryview, str)):
                    meta[field] = self.decode(bytes(meta[field]) if not isinstance(meta[field], str) else meta[field])
            return super().meta_from_decoded(meta)

        @retry
        def _save_group(self, group_id, result):
            session = self.ResultSession()
            with session_cleanup(session):
                session.add(self.taskset_cls(group_id, self._seal(self.prepare_value(result))))
                session.flush()
                session.commit()
                return result

        @retry
        def _restore_group(self, group_id):
            session = self.ResultSession()
            with session_cleanup(session):
                group = session.query(self.taskset_cls).filter(self.taskset_cls.taskset_id == group_id).first()
                if group:
                    meta = group.to_dict()
                    meta["result"] = result_from_tuple(self.decode(bytes(meta["result"])), self.app)
                    return meta

    module = types.ModuleType("celery_tls_constructs_backends")
    EncryptedDatabaseBackend.__module__ = module.__name__  # pickled by reference (prefork) through this module
    module.EncryptedDatabaseBackend = EncryptedDatabaseBackend
    sys.modules[module.__name__] = module
    backends.BACKEND_ALIASES["celery_tls_db"] = module.__name__ + ":EncryptedDatabaseBackend"


def _celery_tls_encrypted_database_url(url):
    # The checked db+postgresql URL, through the encrypting backend: only the alias before the first "+" changes.
    if not url.startswith("db+postgresql"):
        raise CeleryTLSConfigError("Result encryption with a database backend needs the rendered db+postgresql URL.")
    return "celery_tls_db+" + url[len("db+"):]


def _celery_tls_hide_argument_reprs():
    # Celery copies a repr of the arguments into the message headers (argsrepr, kwargsrepr: celery/app/amqp.py
    # as_task_v2), which are not encrypted: blank them before each publish (the signal gets the headers published).
    from celery import signals

    def hide(sender=None, headers=None, **kwargs):
        if isinstance(headers, dict):
            for name in ("argsrepr", "kwargsrepr"):
                if name in headers:
                    headers[name] = "(encrypted)"
    signals.before_task_publish.connect(hide, weak=False)


def _celery_tls_quiet_success_log():
    # The worker logs each task's return value at INFO (celery/app/trace.py LOG_SUCCESS): results encrypted at rest
    # would otherwise sit in plaintext in the worker's log.
    try:
        import celery.app.trace as trace
    except ImportError:
        return
    trace.LOG_SUCCESS = "Task %(name)s[%(id)s] succeeded in %(runtime)ss (result encrypted, not logged)"


def _celery_tls_unsafe(values):
    return [v for v in values if str(v).lower() in _CELERY_TLS_UNSAFE_CONTENT]


def _celery_tls_check_security_settings(conf, signing, task_serializer, accept, result_serializer, result_accept):
    # What the settings rendered must still hold when the application has loaded them (it may have changed them).
    def get(name):
        return conf.get(name) if hasattr(conf, "get") else getattr(conf, name, None)
    found = {"task_serializer": get("task_serializer"), "accept_content": list(get("accept_content") or []),
             "result_serializer": get("result_serializer"), "result_accept_content": list(get("result_accept_content") or []),
             "event_serializer": get("event_serializer")}
    for name, value in found.items():
        unsafe = _celery_tls_unsafe(value if isinstance(value, list) else [value])
        if unsafe:
            raise CeleryTLSConfigError(
                "%s includes %s: it deserializes anything a sender or the result store holds into objects (code "
                "execution with pickle). Use the rendered settings' serializers." % (name, ", ".join(map(str, unsafe))))
    expected = {"task_serializer": task_serializer, "accept_content": accept, "result_serializer": result_serializer,
                "result_accept_content": result_accept}
    for name, value in expected.items():
        if found[name] != value:
            raise CeleryTLSConfigError(
                "%s is %r; with %s it must be exactly %r (as rendered)." % (
                    name, found[name], "message signing" if signing else "result encryption", value))
    if signing and get("security_key_password"):
        raise CeleryTLSConfigError("security_key_password is set: the signing key must be unencrypted.")
    if signing and get("security_digest") not in _CELERY_TLS_DIGESTS:
        raise CeleryTLSConfigError(
            "security_digest %r is not allowed: use one of %s." % (get("security_digest"), ", ".join(_CELERY_TLS_DIGESTS)))


def _celery_tls_security_guard(signing):
    # A worker or producer whose application never called celery_tls_setup_security(app) stops with the reason.
    # Celery alone stops too, but with "No encoder/decoder installed for auth": a stand-in auth serializer that
    # refuses everything lets the worker reach worker_init, where it exits with this message, and makes a producer's
    # publish fail with it. celery_tls_setup_security replaces it with Celery's (register_auth).
    if not signing:
        return
    from celery import signals
    from kombu.serialization import register
    message = ("Message signing is configured but the application did not call celery_tls_setup_security(app) after "
               "app.config_from_object(...): call it, then start again.")

    def refuse(*args):
        raise CeleryTLSConfigError(message)
    from kombu.serialization import registry
    if "auth" not in registry._encoders:  # never over Celery's, should these settings run twice
        register("auth", refuse, refuse, content_type="application/data", content_encoding="utf-8")

    def check(**kwargs):
        if not _celery_tls_security_state["set_up"]:
            raise SystemExit("CeleryTLSConfigError: " + message)
    signals.worker_init.connect(check, weak=False)


def _celery_tls_remove_unsafe_decoders():
    # The content type of a signed body travels inside the signed message but outside what is signed, and Celery's
    # auth serializer decodes the body with kombu's loads(..., force=True), which skips both accept and the disabled
    # list (celery/security/serialization.py deserialize, 5.2 and 5.5). So any holder of a signing key, a producer
    # included, could have workers unpickle a body labelled as pickle. Without their decoders kombu returns such a
    # body as bytes, undecoded, and the task fails; nothing here needs them (JSON only, everywhere).
    from kombu.serialization import registry
    for name in ("pickle", "yaml", "msgpack"):
        try:
            registry.unregister(name)
        except Exception:  # not installed (yaml, msgpack), or already removed
            pass


def _celery_tls_make_setup_security(task_serializer, accept, result_serializer, result_accept):
    signing = task_serializer == "auth"

    def celery_tls_setup_security(app):
        """Call once, after app.config_from_object(...): checks the security settings the application ended up
        with and registers Celery's signing serializer (app.setup_security) with the rendered digest. Raises
        CeleryTLSConfigError when something weakens them (pickle, another accept_content, a weaker digest)."""
        conf = app.conf
        _celery_tls_check_security_settings(conf, signing, task_serializer, accept, result_serializer, result_accept)
        if signing:
            s = _celery_tls_security_state["signing"]
            # digest passed explicitly: setup_security's own default ("sha256") would win over security_digest.
            app.setup_security(allowed_serializers=list(result_accept), key=s["key"], cert=s["certificate"],
                               store=s["store"], digest=conf.security_digest, serializer=s["serializer"])
            if _celery_tls_security_state.get("store_arn"):
                seconds = float(os.environ.get(_CELERY_TLS_SIGNING_PREFIX + "CERTIFICATES_REFRESH_SECONDS") or 30)
                _celery_tls_refreshing_store(_celery_tls_security_state["store_arn"], seconds)
            _celery_tls_remove_unsafe_decoders()
        _celery_tls_security_state["set_up"] = True
        return app
    return celery_tls_setup_security
