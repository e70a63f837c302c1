"""Masking: every default pattern family on realistic text, what must stay readable, registered secrets, speed,
and the properties a log sink relies on (never raises, idempotent, no registered secret survives)."""

from __future__ import annotations

import json
import random
import time

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ops_pipeline.core.execution.masking import MASK, Masker, _mask_lines, is_secret_key

MASKER = Masker()

# (text as a step or library writes it, text as it must be stored)
KEY_VALUE = [
    ("password=hunter2", "password=***"),
    ("DB_PASSWORD=hunter2 user=ops", "DB_PASSWORD=*** user=ops"),
    ("passwd: hunter2", "passwd: ***"),
    ("pwd=hunter2", "pwd=***"),
    ("secret=s3cr3t&next=1", "secret=***&next=1"),
    ("token: abc.def", "token: ***"),
    ("api_key='k-123'", "api_key='***'"),
    ('apikey="k 123"', 'apikey="***"'),
    ("access_token=ya29.a0AfH6", "access_token=***"),
    ("client_secret = zZ9_x", "client_secret = ***"),
    ("https://api/cb?code=1&access_token=tok123&state=x", "https://api/cb?code=1&access_token=***&state=x"),
    ("x-api-key: 0123abcd", "x-api-key: ***"),
    ("--password hunter2 --user ops", "--password *** --user ops"),
    ("mysql --user=root --password='hunter2'", "mysql --user=root --password='***'"),
]
JSON_TEXT = [
    ('{"password": "hunter2", "user": "ops"}', '{"password": "***", "user": "ops"}'),
    ('{"client_secret":"zZ9_x"}', '{"client_secret":"***"}'),
    ("{'api_key': 'k-123', 'n': 1}", "{'api_key': '***', 'n': 1}"),
    ('event {\\"password\\": \\"hunter2\\"}', 'event {\\"password\\": \\"***\\"}'),
]
URLS = [
    ("postgresql://ops:hunter2@db.internal:5432/shop", "postgresql://ops:***@db.internal:5432/shop"),
    ("mysql+pymysql://root:p%40ss@127.0.0.1/shop", "mysql+pymysql://root:***@127.0.0.1/shop"),
    ("amqp://guest:guest@127.0.0.1:5672//", "amqp://guest:***@127.0.0.1:5672//"),
    ("redis://:hunter2@cache:6379/0", "redis://:***@cache:6379/0"),
    ("clone https://user:tok@github.com/org/repo.git", "clone https://user:***@github.com/org/repo.git"),
]
AUTH_HEADERS = [
    ("Authorization: Bearer abc.def-123", "Authorization: Bearer ***"),
    ("authorization: Basic dXNlcjpwYXNzd29yZA==", "authorization: Basic ***"),
    ("Proxy-Authorization: Digest abc123", "Proxy-Authorization: Digest ***"),
    ("curl -H 'Authorization: token ghp_abc'", "curl -H 'Authorization: token ***'"),
    ("headers={'Authorization': 'Bearer abc123'}", "headers={'Authorization': '***'}"),
    ("sent Bearer 9f8e7d6c5b4a3210 upstream", "sent Bearer *** upstream"),
    ("auth Basic dXNlcjpwYXNz ok", "auth Basic *** ok"),
]
TOKENS = [
    ("OPENAI_API_KEY=sk-proj-Ab3dEf6hIj9kLmN0pQr", "OPENAI_API_KEY=***"),
    ("using sk-Ab3dEf6hIj9kLmN0pQrStU", "using sk-***"),
    ("ghp_1A2b3C4d5E6f7G8h9I0jK1l2M3n4O5p6Q7r8", "ghp_***"),
    ("gho_1A2b3C4d5E6f7G8h9I0jK1l2M3n4O5p6Q7r8 expired", "gho_*** expired"),
    ("github_pat_11ABCDEFG0123456789_abcdefghijklmnopqrstuvwxyz", "github_pat_***"),
    ("xoxb-123456789012-1234567890123-AbCdEfGhIjKlMnOpQrStUvWx", "xoxb-***"),
    ("maps AIzaSyA1b2C3d4E5f6G7h8I9j0K1l2M3n4O5p6Q", "maps AIza***"),
    (
        "jwt eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0"
        ".SflKxwRJSMeKKF2QT4fwpMeJf36POk6yJV_adQssw5c end",
        "jwt *** end",
    ),
]
AWS = [
    ("export AWS_ACCESS_KEY_ID=AKIAIOSFODNN7EXAMPLE", "export AWS_ACCESS_KEY_ID=AKIA***"),
    ("session ASIAY34FZKBOKMUTVV7A in use", "session ASIA*** in use"),
    ("aws_secret_access_key = wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY", "aws_secret_access_key = ***"),
    ("AWS_SECRET_ACCESS_KEY=wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY", "AWS_SECRET_ACCESS_KEY=***"),
    ('"SecretAccessKey": "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"', '"SecretAccessKey": "***"'),
]
CONNECTION_STRINGS = [
    (
        "Server=db;Database=shop;User Id=ops;Password=my pass word;Encrypt=true",
        "Server=db;Database=shop;User Id=ops;Password=***;Encrypt=true",
    ),
    ("Data Source=db;Initial Catalog=x;pwd=Secr3t;", "Data Source=db;Initial Catalog=x;pwd=***;"),
    (
        "DefaultEndpointsProtocol=https;AccountName=acct;AccountKey=Zm9vYmFyYmF6cXV4==;EndpointSuffix=core.windows.net",
        "DefaultEndpointsProtocol=https;AccountName=acct;AccountKey=***;EndpointSuffix=core.windows.net",
    ),
]
PII = [
    ("card 4111 1111 1111 1111 declined", "card *** declined"),
    ("amex 378282246310005.", "amex ***."),
    ("mc 5555-5555-5555-4444", "mc ***"),
    ("discover 6011111111111117", "discover ***"),
    ("visa 4222222222222 (13 digits)", "visa *** (13 digits)"),
    ("contact alice.smith+ops@example.co.uk today", "contact *** today"),
    ("From: Bob <bob@mail.example.org>", "From: Bob <***>"),
]

MUST_NOT_CHANGE = [
    "2026-05-01T10:00:00.123Z INFO step restart_service started on target db1",
    "2026-05-01 10:00:00,123 WARNING retrying in 2.5 s (attempt 2 of 3)",
    "Processed 1200 rows in 3.52 s (341 rows/s)",
    "run 9f1c2d3e-4b5a-6789-abcd-ef0123456789 finished; parent 9F1C2D3E-4B5A-6789-ABCD-EF0123456789",
    "order 123456789013 shipped",  # 12 digits, and not Luhn-valid either
    "order 4111111111111112 shipped",  # 16 digits failing the Luhn check
    "epoch_ms=1714557600123 offset=0",
    "version 1.2.3, python 3.11.7, dagster==1.13.27, build 20260501.1",
    "git commit a1b2c3d4e5f60718293a4b5c6d7e8f9012345678",
    "sha256:9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08",
    'password authentication failed for user "ops"',
    "the token bucket refilled; primary key (id) checked; key: orders_pk",
    "http://example.com:8080/path?page=2 and ftp://files.example.com/pub",
    "Basic authentication failed; the bearer of bad news; Bearer token missing",
    "phone +1 555 123 4567, room 42",
    "scikit sk-learn, ASIA region, gho to the store",
    "user@localhost is not an address with a domain",
]

PRIVATE_KEY_LINES = (
    "2026-05-01 10:00:00,123 INFO step deploy: writing key\n"
    "2026-05-01 10:00:00,124 INFO -----BEGIN OPENSSH PRIVATE KEY-----\n"
    "2026-05-01 10:00:00,124 INFO b3BlbnNzaC1rZXktdjEAAAAABG5vbmUAAAAEbm9uZQAAAAAAAAABAAAAMwAAAAtzc2gtZW\n"
    "2026-05-01 10:00:00,125 INFO QyNTUxOQAAACDw6r0ZbZQ1rDn8l2ttS4kGIk1BCX7Y5GWh1mPY5Q9VHQAAAJg=\n"
    "2026-05-01 10:00:00,125 INFO -----END OPENSSH PRIVATE KEY-----\n"
    "2026-05-01 10:00:00,126 INFO step deploy: done\n"
)

TRACEBACK = """Traceback (most recent call last):
  File "/app/steps/db.py", line 42, in connect
    engine = create_engine("postgresql://ops:S3cr3t-Pass@db.internal:5432/shop", password='S3cr3t-Pass')
  File "/venv/lib/python3.11/site-packages/psycopg2/__init__.py", line 122, in connect
    conn = _connect(dsn, connection_factory=connection_factory, **kwasync)
psycopg2.OperationalError: connection to server at "db.internal" failed: token=tok_9f8e7d6c rejected
"""


@pytest.mark.parametrize(
    ("text", "masked"), KEY_VALUE + JSON_TEXT + URLS + AUTH_HEADERS + TOKENS + AWS + CONNECTION_STRINGS + PII
)
def test_default_pattern_families(text: str, masked: str) -> None:
    assert MASKER.mask(text) == masked


@pytest.mark.parametrize("text", MUST_NOT_CHANGE)
def test_ordinary_text_is_left_alone(text: str) -> None:
    assert MASKER.mask(text) == text


def test_a_private_key_printed_across_log_lines() -> None:
    masked = MASKER.mask(PRIVATE_KEY_LINES)
    assert masked == (
        "2026-05-01 10:00:00,123 INFO step deploy: writing key\n"
        "2026-05-01 10:00:00,124 INFO -----BEGIN OPENSSH PRIVATE KEY-----***-----END OPENSSH PRIVATE KEY-----\n"
        "2026-05-01 10:00:00,126 INFO step deploy: done\n"
    )


def test_a_private_key_inside_a_json_string_and_an_unterminated_one() -> None:
    pem = "-----BEGIN RSA PRIVATE KEY-----\nMIIEowIBAAKCAQEA7Yq\nz9f/+Q==\n-----END RSA PRIVATE KEY-----"
    assert MASKER.mask(json.dumps({"key": pem})) == (
        '{"key": "-----BEGIN RSA PRIVATE KEY-----***-----END RSA PRIVATE KEY-----"}'
    )
    cut = "-----BEGIN EC PRIVATE KEY-----\nMHcCAQEEIBkg4LVWM9nuwNSk\nwd" + '" (truncated)'
    assert MASKER.mask(cut) == '-----BEGIN EC PRIVATE KEY-----***" (truncated)'


def test_secrets_inside_a_python_traceback() -> None:
    masked = MASKER.mask(TRACEBACK)
    assert "S3cr3t-Pass" not in masked and "tok_9f8e7d6c" not in masked
    assert "create_engine(\"postgresql://ops:***@db.internal:5432/shop\", password='***')" in masked
    assert 'File "/app/steps/db.py", line 42, in connect' in masked
    assert masked.endswith("failed: token=*** rejected\n")


# ---- registered secrets


def test_a_registered_secret_is_masked_wherever_it_appears() -> None:
    masker = Masker()
    assert masker.add_secret("Tr0ub4dor&3")
    text = "echo Tr0ub4dor&3|ssh db1 'sudo -S true' # xTr0ub4dor&3x"
    assert masker.mask(text) == "echo ***|ssh db1 'sudo -S true' # x***x"


def test_a_registered_secret_is_masked_in_its_encoded_forms() -> None:
    masker = Masker(secrets=['p@ss w/"rd'])
    url = "https://svc/login?pw=p%40ss%20w%2F%22rd&x=1 or p%40ss+w%2F%22rd"
    assert "p%40ss" not in masker.mask(url)
    assert masker.mask(json.dumps({"note": 'p@ss w/"rd'})) == '{"note": "***"}'
    windows = Masker(secrets=["C:\\vault\\key"])
    error = ValueError("cannot open", "C:\\vault\\key")  # str() of the error shows the repr, doubled backslashes
    assert windows.mask(str(error)) == "('cannot open', '***')"


def test_short_values_are_not_registered() -> None:
    masker = Masker()
    assert not masker.add_secret("abc")
    assert masker.mask("abc abcabc") == "abc abcabc"


def test_with_secrets_returns_a_new_masker() -> None:
    base = Masker(extra_patterns=[r"ORD-\d{6}"])
    derived = base.with_secrets(["s3cr3t-value"])
    assert derived.mask("s3cr3t-value ORD-123456") == "*** ***"
    assert base.mask("s3cr3t-value ORD-123456") == "s3cr3t-value ***"
    assert derived.extra_patterns == base.extra_patterns


# ---- extra patterns


def test_configured_extra_patterns() -> None:
    masker = Masker(extra_patterns=[r"(?i)employee-\d{5}", r"\b\d{3}-\d{2}-\d{4}\b", r"(?x) ORD - \d{6}  # order ids"])
    assert masker.mask("EMPLOYEE-12345 has ssn 078-05-1120, ORD-123456") == "*** has ssn ***, ***"


@pytest.mark.parametrize(
    ("pattern", "message"),
    [
        (r"(unclosed", r"masking pattern 0 \('\(unclosed'\): missing \)"),
        (r"id-(\d+)", r"use non-capturing groups"),
        (r"x*", r"matches the empty string or the mask"),
        (r"\*+", r"matches the empty string or the mask"),
    ],
)
def test_bad_extra_patterns_are_refused(pattern: str, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        Masker(extra_patterns=[pattern])


# ---- structures


def test_mask_value_keeps_keys_and_masks_values_under_secret_keys() -> None:
    value = {
        "user": "ops",
        "password": "hunter2",
        "DB_PASSWORD": 12345678,
        "api_key": None,
        "nested": [{"token": "abc", "note": "url postgresql://a:b@h/db"}, ("alice@example.com", 4, True)],
        "enabled": True,
    }
    assert MASKER.mask_value(value) == {
        "user": "ops",
        "password": MASK,
        "DB_PASSWORD": MASK,
        "api_key": None,
        "nested": [{"token": MASK, "note": "url postgresql://a:***@h/db"}, (MASK, 4, True)],
        "enabled": True,
    }


def test_mask_json_text_keeps_documents_valid() -> None:
    document = json.dumps({"a": "token=", "b": "x", "line": "one\nalice@example.com", "password": "hunter2"})
    masked = MASKER.mask_json_text(document)
    assert json.loads(masked) == {"a": "token=", "b": "x", "line": "one\n***", "password": MASK}
    assert MASKER.mask_json_text("not json password=1") == "not json password=***"


@pytest.mark.parametrize("key", ["password", "DB_PASSWORD", "apiKey", "x-api-key", "client_secret", "SessionToken"])
def test_secret_keys(key: str) -> None:
    assert is_secret_key(key)


@pytest.mark.parametrize("key", ["user", "key", "tokens", "password_hint", "token_count", "primary_key_column"])
def test_ordinary_keys(key: str) -> None:
    assert not is_secret_key(key)


# ---- speed


def test_a_megabyte_of_log_text_is_masked_quickly() -> None:
    rng = random.Random(7)
    words = ["step", "started", "finished", "rows", "processed", "target", "plan", "restart_service", "retry", "db1"]
    lines, size = [], 0
    while size < 1_000_000:
        line = f"2026-05-01T10:{rng.randrange(60):02d}:{rng.randrange(60):02d}.123Z INFO " + " ".join(
            rng.choices(words, k=12)
        )
        if rng.random() < 0.02:
            line += rng.choice([" password=hunter2", " postgresql://ops:pw@db/shop", " by alice@example.com"])
        lines.append(line)
        size += len(line) + 1
    text = "\n".join(lines)
    masker = Masker(secrets=["hunter2"])
    started = time.perf_counter()
    masked = masker.mask(text)
    assert time.perf_counter() - started < 1.0
    assert "hunter2" not in masked and "alice@example.com" not in masked and ":pw@" not in masked


# ---- properties

PIECES = [
    "password", "Password", "token", "api_key", "=", ":", " ", '"', "'", "\\", "@", "://", "a", "b", "1", "4111",
    " 1111", "-", ";", "Password=", "*", MASK, "\n", "Bearer ", "Basic ", "eyJ", "abcd.", "sk-", "x" * 16, "AKIA",
    "A" * 16, "-----BEGIN RSA PRIVATE KEY-----", "-----END RSA PRIVATE KEY-----", "\\n", '\\"', ".com", "http", "--",
    "Authorization", ",", "&", "9", "5", "İ", "K",
]  # fmt: skip
secretish_text = st.lists(st.sampled_from(PIECES), max_size=30).map("".join)
any_text = st.one_of(st.text(), secretish_text)


@given(any_text)
@settings(max_examples=400, suppress_health_check=[HealthCheck.too_slow])
def test_masking_never_raises_and_is_idempotent(text: str) -> None:
    once = MASKER.mask(text)
    assert MASKER.mask(once) == once


@given(any_text)
@settings(max_examples=400)
def test_the_line_prefilter_never_changes_the_result(text: str) -> None:
    assert _mask_lines(text) == _mask_lines(text, prefilter=False)


@given(secret=st.text(min_size=4, max_size=24), before=any_text, after=any_text)
@settings(max_examples=300, suppress_health_check=[HealthCheck.too_slow])
def test_a_registered_secret_never_survives(secret: str, before: str, after: str) -> None:
    masker = Masker(secrets=[secret])
    masked = masker.mask(before + secret + after)
    assert secret not in masked
    assert masker.mask(masked) == masked
    assert json.dumps(secret)[1:-1] not in masker.mask(json.dumps(before + secret + after))
