"""Opening a MySQL or MariaDB connection (PyMySQL): TLS as the ssl mode asks, timeouts that hold for every
socket read and write, and the server's errors turned into classified SourceErrors."""

from __future__ import annotations

import ssl
from collections.abc import Iterator
from contextlib import contextmanager
from functools import lru_cache
from typing import Any

import pymysql

from ops_pipeline.core.secrets import SecretError, resolve_secret
from ops_pipeline.settings import MySQLSource, SSLOptions
from ops_pipeline.sources.base import ErrorKind, SourceError

AUTH_ERRORS = {1044, 1045, 1698}  # access denied to the database, for the user, for a unix-socket user
UNKNOWN_DATABASE_ERRORS = {1049}
UNREACHABLE_ERRORS = {2002, 2003, 2005, 2006, 2013}  # can't connect, unknown host, gone away, lost


def target(config: MySQLSource) -> str:
    return f"{config.host}:{config.port}/{config.database}"


def _ssl_context(options: SSLOptions) -> ssl.SSLContext | None:
    """None for disable, allow and prefer: PyMySQL then uses TLS only when the server offers it."""
    if options.mode in ("disable", "allow", "prefer"):
        return None
    context = ssl.create_default_context(cafile=options.ca_file)
    # MySQL's auto-generated self-signed certificates fail the strict X.509 checks of Python 3.13.
    context.verify_flags &= ~ssl.VERIFY_X509_STRICT
    context.check_hostname = options.mode == "verify-full"
    if options.mode == "require":
        context.verify_mode = ssl.CERT_NONE
    if options.cert_file:
        context.load_cert_chain(options.cert_file, keyfile=options.key_file)
    return context


def _connection_args(config: MySQLSource, writable: bool) -> dict[str, Any]:
    args: dict[str, Any] = {
        "host": config.host,
        "port": config.port,
        "user": config.user,
        "database": config.database,
        "connect_timeout": config.connect_timeout_s,
        "read_timeout": config.connect_timeout_s,
        "write_timeout": config.connect_timeout_s,
        "charset": "utf8mb4",
        "autocommit": not writable,
        "program_name": "ops_pipeline",
    }
    context = _ssl_context(config.ssl)
    if context is not None:
        args["ssl"] = context
    else:
        # allow/prefer get their opportunistic TLS in connect; PyMySQL's own loads the CA store every time.
        args["ssl_disabled"] = True
    if config.password:
        # As bytes: PyMySQL would encode a str as Latin-1, failing on other characters with an error that
        # quotes the character; the server compares the bytes a UTF-8 client sent when the password was set.
        args["password"] = resolve_secret(config.password).encode("utf-8")
    return args


@contextmanager
def connect(name: str, config: MySQLSource, *, writable: bool = False) -> Iterator[pymysql.connections.Connection[Any]]:
    """A connection with errors turned into SourceErrors: autocommit, unless `writable`, where the caller
    commits."""
    try:
        conn = pymysql.connect(**_connection_args(config, writable), defer_connect=True)
        if config.ssl.mode in ("allow", "prefer"):
            # TLS when the server offers it, plain otherwise, certificate unchecked (that is what prefer means).
            # PyMySQL's built-in "preferred" mode does the same but builds a context from the system CA store
            # on every connection (~45 ms, longer than a whole catalog read); these attributes are its own.
            conn.ssl, conn.ctx, conn._ssl_required = True, _opportunistic_tls(), False
        conn.connect()
    except SecretError as error:
        raise SourceError(name, "auth_failed", str(error)) from None
    except UnicodeError:  # the driver's message quotes the character, which may belong to a credential
        detail = f"{config.host}:{config.port}: a connection setting has a character the driver cannot send"
        raise SourceError(name, "error", detail) from None
    except (pymysql.err.Error, OSError) as error:  # OSError: unreadable certificate files
        raise _source_error(name, config, error) from None
    # The handshake had connect_timeout_s; catalog queries and exact counts get query_timeout_s. PyMySQL reads
    # these attributes before every socket read and write.
    conn._read_timeout = conn._write_timeout = config.query_timeout_s
    try:
        yield conn
    except pymysql.err.Error as error:
        raise _source_error(name, config, error, connected=True) from None
    finally:
        if conn.open:
            conn.close()


def _source_error(name: str, config: MySQLSource, error: Exception, *, connected: bool = False) -> SourceError:
    code, reason = _code_and_reason(error)
    kind = _classify(code, reason)
    where = f"{config.host}:{config.port}"
    if kind == "timeout":
        limit = config.query_timeout_s if connected else config.connect_timeout_s
        return SourceError(name, kind, f"{where}: no answer within {limit:g} s ({reason})")
    return SourceError(name, kind, f"{where}: {reason}")


def _code_and_reason(error: Exception) -> tuple[int | None, str]:
    args = error.args
    if isinstance(error, pymysql.err.Error) and len(args) >= 2 and isinstance(args[0], int):
        return args[0], str(args[1])
    return None, str(error) or type(error).__name__


def _classify(code: int | None, reason: str) -> ErrorKind:
    if "timed out" in reason.lower():
        return "timeout"
    if code in AUTH_ERRORS:
        return "auth_failed"
    if code in UNKNOWN_DATABASE_ERRORS:
        return "unknown_database"
    if code in UNREACHABLE_ERRORS:
        return "unreachable"
    return "error"


@lru_cache(maxsize=1)
def _opportunistic_tls() -> ssl.SSLContext:
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    context.check_hostname = False
    context.verify_mode = ssl.CERT_NONE
    return context
