"""Sources that are registered and connection-tested but not scanned: MongoDB, Kafka, S3, BigQuery, Snowflake.

Each client library is optional and imported only when a test runs; without it the test fails with
`client_missing` naming the package to install. With it, the test makes one minimal real round trip.
"""

from __future__ import annotations

import importlib
import json
from collections.abc import Callable
from types import ModuleType
from typing import Any

from ops_pipeline.core.secrets import SecretError, resolve_secret
from ops_pipeline.settings import BigQuerySource, KafkaSource, MongoSource, S3Source, SnowflakeSource
from ops_pipeline.sources.base import ConnectionReport, Database, ErrorKind, SourceError, timed

# Lower-cased fragments of client error messages, checked in order; the first match decides the kind.
ERROR_MARKERS: tuple[tuple[str, ErrorKind], ...] = (
    # Refusals first: some clients wrap them in a "server selection timeout".
    ("connection refused", "unreachable"),
    ("name or service not known", "unreachable"),
    ("nodename nor servname", "unreachable"),
    ("authentication failed", "auth_failed"),
    ("auth failed", "auth_failed"),
    ("incorrect username or password", "auth_failed"),
    ("access denied", "auth_failed"),
    ("accessdenied", "auth_failed"),
    ("invalidaccesskeyid", "auth_failed"),
    ("signaturedoesnotmatch", "auth_failed"),
    ("credentials", "auth_failed"),
    ("forbidden", "auth_failed"),
    ("unauthorized", "auth_failed"),
    ("timed out", "timeout"),
    ("timeout", "timeout"),
    ("nosuchbucket", "unknown_database"),
    ("not found", "unknown_database"),
    ("does not exist", "unknown_database"),
    ("could not connect", "unreachable"),
    ("failed to connect", "unreachable"),
    ("nobrokersavailable", "unreachable"),
    ("transport", "unreachable"),
)


def classify(message: str) -> ErrorKind:
    lowered = message.lower()
    return next((kind for marker, kind in ERROR_MARKERS if marker in lowered), "error")


def import_client(name: str, source_type: str, *candidates: tuple[str, str]) -> ModuleType:
    """The first importable (module, pip package) candidate, or a client_missing SourceError."""
    for module, _ in candidates:
        try:
            return importlib.import_module(module)
        except ImportError:
            continue
    packages = " or ".join(package for _, package in candidates)
    raise SourceError(
        name, "client_missing", f"the {source_type} client library is not installed (pip install {packages})"
    )


def round_trip(name: str, target: str, action: Callable[[], str]) -> tuple[str, float]:
    """Run a client call, timed, turning whatever the client raises into a classified SourceError."""
    try:
        result: tuple[str, float] = timed(action)
    except SecretError as error:
        raise SourceError(name, "auth_failed", str(error)) from None
    except Exception as error:
        reason = f"{type(error).__name__}: {error}"
        raise SourceError(name, classify(reason), f"{target}: {reason}") from None
    return result


def _secret(ref: str | None) -> str | None:
    return resolve_secret(ref) if ref else None


class MongoDatabase(Database[MongoSource]):
    source_type = "mongodb"
    supports_scan = False

    def test_connection(self, name: str, config: MongoSource) -> ConnectionReport:
        pymongo = import_client(name, self.source_type, ("pymongo", "pymongo"))
        target = f"{config.host}:{config.port}/{config.database}"

        def ping_and_ask_version() -> str:
            timeout_ms = int(config.connect_timeout_s * 1000)
            client = pymongo.MongoClient(
                host=config.host,
                port=config.port,
                username=config.user,
                password=_secret(config.password),
                serverSelectionTimeoutMS=timeout_ms,
                connectTimeoutMS=timeout_ms,
                socketTimeoutMS=timeout_ms,
                **_mongo_tls(config),
            )
            try:
                client[config.database].command("ping")
                return str(client[config.database].command("buildInfo")["version"])
            finally:
                client.close()

        version, latency_ms = round_trip(name, target, ping_and_ask_version)
        return ConnectionReport(name, self.source_type, version, latency_ms, target)


def _mongo_tls(config: MongoSource) -> dict[str, Any]:
    options = config.ssl
    if options.mode in ("disable", "allow", "prefer"):
        return {}
    args: dict[str, Any] = {
        "tls": True,
        "tlsAllowInvalidCertificates": options.mode == "require",
        "tlsAllowInvalidHostnames": options.mode != "verify-full",
        "tlsCAFile": options.ca_file,
        "tlsCertificateKeyFile": options.cert_file,  # pymongo wants certificate and key in this one file
    }
    return {k: v for k, v in args.items() if v is not None}


class KafkaDatabase(Database[KafkaSource]):
    source_type = "kafka"
    supports_scan = False

    def test_connection(self, name: str, config: KafkaSource) -> ConnectionReport:
        client = import_client(
            name, self.source_type, ("kafka", "kafka-python"), ("confluent_kafka", "confluent-kafka")
        )
        target = ",".join(config.bootstrap_servers)
        ask = _kafka_python_metadata if client.__name__ == "kafka" else _confluent_metadata
        version, latency_ms = round_trip(name, target, lambda: ask(client, config))
        return ConnectionReport(name, self.source_type, version, latency_ms, target)


def _kafka_python_metadata(kafka: ModuleType, config: KafkaSource) -> str:
    timeout_ms = int(config.connect_timeout_s * 1000)
    sasl: dict[str, Any] = {}
    if config.sasl_username:
        sasl = {
            "sasl_mechanism": "PLAIN",
            "sasl_plain_username": config.sasl_username,
            "sasl_plain_password": _secret(config.sasl_password),
        }
    consumer = kafka.KafkaConsumer(
        bootstrap_servers=config.bootstrap_servers,
        security_protocol=config.security_protocol,
        request_timeout_ms=max(timeout_ms, 1001),
        api_version_auto_timeout_ms=timeout_ms,
        **sasl,
    )
    try:
        consumer.topics()  # a metadata request: the round trip
        # Brokers do not report a release; this is the protocol version the client negotiated.
        return ".".join(str(part) for part in consumer.config["api_version"])
    finally:
        consumer.close()


def _confluent_metadata(confluent_kafka: ModuleType, config: KafkaSource) -> str:
    settings: dict[str, Any] = {
        "bootstrap.servers": ",".join(config.bootstrap_servers),
        "security.protocol": config.security_protocol,
        "socket.timeout.ms": int(config.connect_timeout_s * 1000),
    }
    if config.sasl_username:
        settings |= {
            "sasl.mechanisms": "PLAIN",
            "sasl.username": config.sasl_username,
            "sasl.password": _secret(config.sasl_password),
        }
    admin = importlib.import_module("confluent_kafka.admin")
    metadata = admin.AdminClient(settings).list_topics(timeout=config.connect_timeout_s)
    # Brokers do not report a release over the protocol; the cluster id is what metadata offers.
    return f"unknown (cluster {metadata.cluster_id}, {len(metadata.brokers)} brokers)"


class S3Database(Database[S3Source]):
    source_type = "s3"
    supports_scan = False

    def test_connection(self, name: str, config: S3Source) -> ConnectionReport:
        boto3 = import_client(name, self.source_type, ("boto3", "boto3"))
        target = f"s3://{config.bucket}" + (f" at {config.endpoint_url}" if config.endpoint_url else "")

        def head_bucket() -> str:
            botocore_config = importlib.import_module("botocore.config")
            client = boto3.client(
                "s3",
                region_name=config.region,
                endpoint_url=config.endpoint_url,
                aws_access_key_id=_secret(config.access_key_id),
                aws_secret_access_key=_secret(config.secret_access_key),
                config=botocore_config.Config(
                    connect_timeout=config.connect_timeout_s,
                    read_timeout=config.connect_timeout_s,
                    retries={"max_attempts": 1},
                ),
            )
            response = client.head_bucket(Bucket=config.bucket)
            # S3 has no version; the Server header tells AmazonS3 from MinIO and the like.
            return str(response["ResponseMetadata"]["HTTPHeaders"].get("server", "unknown"))

        version, latency_ms = round_trip(name, target, head_bucket)
        return ConnectionReport(name, self.source_type, version, latency_ms, target)


class BigQueryDatabase(Database[BigQuerySource]):
    source_type = "bigquery"
    supports_scan = False

    def test_connection(self, name: str, config: BigQuerySource) -> ConnectionReport:
        bigquery = import_client(name, self.source_type, ("google.cloud.bigquery", "google-cloud-bigquery"))
        target = f"{config.project}.{config.dataset}" if config.dataset else config.project

        def fetch_dataset() -> str:
            client = bigquery.Client(project=config.project, credentials=_bigquery_credentials(config))
            try:
                if config.dataset:
                    client.get_dataset(target, timeout=config.connect_timeout_s)
                else:
                    list(client.list_datasets(max_results=1, timeout=config.connect_timeout_s))
            finally:
                client.close()
            return "BigQuery API v2"  # a managed service reports no release

        version, latency_ms = round_trip(name, target, fetch_dataset)
        return ConnectionReport(name, self.source_type, version, latency_ms, target)


def _bigquery_credentials(config: BigQuerySource) -> Any:
    """Service-account credentials from the referenced JSON key, else the environment's default ones."""
    key = _secret(config.credentials)
    if key is None:
        return None
    service_account = importlib.import_module("google.oauth2.service_account")
    return service_account.Credentials.from_service_account_info(json.loads(key))


class SnowflakeDatabase(Database[SnowflakeSource]):
    source_type = "snowflake"
    supports_scan = False

    def test_connection(self, name: str, config: SnowflakeSource) -> ConnectionReport:
        connector = import_client(name, self.source_type, ("snowflake.connector", "snowflake-connector-python"))
        target = f"{config.account}/{config.database}" if config.database else config.account

        def current_version() -> str:
            settings = {
                "account": config.account,
                "user": config.user,
                "password": _secret(config.password),
                "warehouse": config.warehouse,
                "database": config.database,
                "role": config.role,
                "login_timeout": config.connect_timeout_s,
                "network_timeout": config.connect_timeout_s,
            }
            conn = connector.connect(**{k: v for k, v in settings.items() if v is not None})
            try:
                cursor = conn.cursor()
                cursor.execute("SELECT CURRENT_VERSION()")
                return str(cursor.fetchone()[0])
            finally:
                conn.close()

        version, latency_ms = round_trip(name, target, current_version)
        return ConnectionReport(name, self.source_type, version, latency_ms, target)
