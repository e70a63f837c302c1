import json
from datetime import UTC, datetime, timedelta, timezone

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ops_pipeline.core.control_loop.triggers import (
    DETAIL_LIMIT,
    Trigger,
    TriggerError,
    parse_trigger,
    serialize_trigger,
)
from ops_pipeline.core.control_loop.vocabulary import DRIFTS, FAILURE_CLASSES, RECOVERY_ACTIONS, SEVERITIES

T0 = datetime(2026, 11, 22, 10, 0, tzinfo=UTC)
WHEN = "2026-11-22T10:00:00+00:00"


def raw(**fields: object) -> dict:
    return {"subject": "archive", "occurred_at": WHEN, **fields}


@pytest.mark.parametrize(
    ("fields", "expected"),
    [
        ({"kind": "run_failure", "run_id": "r1"}, {"run_id": "r1", "failure_class": None}),
        ({"kind": "run_failure", "run_id": "r1", "failure_class": "permission"}, {"failure_class": "permission"}),
        (
            {"kind": "step_failure", "run_id": "r1", "step_id": "load", "failure_class": "transient"},
            {"step_id": "load", "failure_class": "transient", "fingerprint": "step_failure|r1|load"},
        ),
        (
            {"kind": "execution_timeout", "execution_id": "e9"},
            {"execution_id": "e9", "fingerprint": "execution_timeout|e9"},
        ),
        (
            {"kind": "anomaly_signal", "severity": "critical", "fingerprint": "ewma|latency{svc=a}|1700000000"},
            {"severity": "critical", "fingerprint": "ewma|latency{svc=a}|1700000000"},
        ),
        ({"kind": "schema_drift", "drift": "breaking"}, {"drift": "breaking"}),
        ({"kind": "sla_breach", "execution_id": "e1", "severity": "warning"}, {"severity": "warning"}),
        ({"kind": "manual", "requested_action": "rollback"}, {"requested_action": "rollback"}),
        ({"kind": "manual"}, {"requested_action": None, "fingerprint": f"manual|archive|{WHEN}"}),
    ],
)
def test_every_kind_parses_with_what_it_carries(fields: dict, expected: dict) -> None:
    trigger = parse_trigger(raw(**fields))
    assert trigger.kind == fields["kind"] and trigger.subject == "archive" and trigger.occurred_at == T0
    for name, value in expected.items():
        assert getattr(trigger, name) == value


@pytest.mark.parametrize(
    ("spelling", "kind"),
    [
        ("run-failure", "run_failure"),
        ("RUN_FAILURE", "run_failure"),
        ("Run Failure", "run_failure"),
        ("timeout", "execution_timeout"),
        ("SLA-missed", "sla_breach"),
        ("Manual", "manual"),
    ],
)
def test_kind_aliases_normalise(spelling: str, kind: str) -> None:
    assert parse_trigger(raw(kind=spelling)).kind == kind


@pytest.mark.parametrize(
    ("spelling", "failure_class"),
    [
        ("TRANSIENT", "transient"),
        ("permission-denied", "permission"),
        ("retryable", "transient"),
        ("Timed Out", "timeout"),
    ],
)
def test_failure_class_aliases_normalise(spelling: str, failure_class: str) -> None:
    trigger = parse_trigger(raw(kind="step-failure", step_id="load", failure_class=spelling))
    assert trigger.failure_class == failure_class


@pytest.mark.parametrize(
    ("moment", "expected"),
    [
        ("2026-11-22T12:00:00+02:00", T0),
        ("2026-11-22T10:00:00Z", T0),
        (T0.timestamp(), T0),
        (int(T0.timestamp()), T0),
        (str(int(T0.timestamp())), T0),
        (datetime(2026, 11, 22, 5, 0, tzinfo=timezone(timedelta(hours=-5))), T0),
    ],
)
def test_occurred_at_accepts_offsets_and_epochs_and_is_utc(moment: object, expected: datetime) -> None:
    trigger = parse_trigger(raw(kind="manual", occurred_at=moment))
    assert trigger.occurred_at == expected and trigger.occurred_at.tzinfo is UTC


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        (
            {"kind": "step_failure", "step_id": "s", "failure_class": "bogus"},
            "trigger.failure_class: must be one of transient, permanent, timeout, permission, validation (got 'bogus')",
        ),
        ({"kind": "manual", "occurred_at": "yesterday"}, "trigger.occurred_at: not a timestamp"),
        ({"kind": "manual", "occurred_at": "2026-11-22T10:00:00"}, "trigger.occurred_at: has no timezone"),
        ({"kind": "manual", "occurred_at": datetime(2026, 11, 22)}, "trigger.occurred_at: has no timezone"),
        ({"kind": "manual", "occurred_at": float("nan")}, "trigger.occurred_at: not a timestamp"),
        ({"kind": "manual", "occurred_at": 10**30}, "trigger.occurred_at: not a timestamp"),
        ({"kind": "manual", "occurred_at": True}, "trigger.occurred_at: not a timestamp"),
        ({"kind": "manual", "occurred_at": None}, "trigger.occurred_at: is required"),
        ({"kind": "nope"}, "trigger.kind: must be one of run_failure, step_failure"),
        ({"kind": "manual", "subject": "  "}, "trigger.subject: is required"),
        ({"kind": "manual", "subject": 7}, "trigger.subject: must be text, not 7"),
        ({"kind": "manual", "subject": "x" * 501}, "trigger.subject: is 501 characters; the limit is 500"),
        ({"kind": "manual", "run_id": "a\nb"}, "trigger.run_id: must not contain control or invisible characters"),
        (
            {"kind": "step_failure", "failure_class": "transient"},
            "trigger.step_id: is required for step_failure triggers",
        ),
        ({"kind": "step_failure", "step_id": "s"}, "trigger.failure_class: is required for step_failure triggers"),
        ({"kind": "anomaly_signal"}, "trigger.severity: is required for anomaly_signal triggers"),
        ({"kind": "schema_drift", "drift": "huge"}, "trigger.drift: must be one of breaking, compatible"),
        ({"kind": "manual", "drift": "breaking"}, "trigger.drift: only schema_drift triggers have one, not manual"),
        (
            {"kind": "sla_breach", "failure_class": "timeout"},
            "trigger.failure_class: only run_failure and step_failure triggers have one, not sla_breach",
        ),
        (
            {"kind": "run_failure", "requested_action": "rerun"},
            "trigger.requested_action: only manual triggers have one",
        ),
        ({"kind": "manual", "requested_action": "explode"}, "trigger.requested_action: must be one of rerun, replan"),
        ({"kind": "manual", "tags": ["a"]}, "trigger.tags: must be a mapping"),
        ({"kind": "manual", "tags": {"owner": 3}}, "trigger.tags.owner: must be text"),
        ({"kind": "manual", "detail": {"a": 1}}, "trigger.detail: must be text"),
        ({"kind": "manual", "colour": "red"}, "trigger.colour: unknown field"),
    ],
)
def test_bad_fields_are_named(fields: dict, message: str) -> None:
    with pytest.raises(TriggerError) as failure:
        parse_trigger(raw(**fields))
    assert message in str(failure.value)


def test_every_bad_field_is_reported_at_once() -> None:
    with pytest.raises(TriggerError) as failure:
        parse_trigger({"kind": "x", "occurred_at": "never"})
    assert [problem.split(":")[0] for problem in failure.value.problems] == [
        "trigger.kind",
        "trigger.subject",
        "trigger.occurred_at",
    ]


@pytest.mark.parametrize("value", [None, [], "run_failure", 3, 2.5, float("nan"), [{"kind": "manual"}]])
def test_non_mappings_are_refused(value: object) -> None:
    with pytest.raises(TriggerError, match="trigger: must be a mapping of fields"):
        parse_trigger(value)


def test_detail_is_capped_and_huge_values_do_not_make_huge_messages() -> None:
    trigger = parse_trigger(raw(kind="manual", detail="x" * 50_000))
    assert len(trigger.detail) == DETAIL_LIMIT and trigger.detail.endswith("…")
    with pytest.raises(TriggerError) as failure:
        parse_trigger(raw(kind="y" * 1_000_000))
    assert len(str(failure.value)) < 500


def test_the_same_event_gets_the_same_fingerprint_whatever_the_spelling() -> None:
    first = parse_trigger(raw(kind="step-failure", run_id="r1", step_id="load", failure_class="TRANSIENT"))
    again = parse_trigger(
        {
            "kind": "STEP_FAILURE",
            "subject": "archive",
            "occurred_at": T0.timestamp() + 3,
            "run_id": " r1 ",
            "step_id": "load",
            "failure_class": "retryable",
        }
    )
    assert first.fingerprint == again.fingerprint == "step_failure|r1|load"


def test_triggers_are_frozen_and_their_tags_read_only() -> None:
    trigger = parse_trigger(raw(kind="manual", tags={"ops/tier": "critical"}))
    with pytest.raises(AttributeError):
        trigger.kind = "run_failure"  # type: ignore[misc]
    with pytest.raises(TypeError):
        trigger.tags["ops/tier"] = "low"  # type: ignore[index]
    assert hash(trigger) == hash(parse_trigger(raw(kind="manual", tags={"ops/tier": "critical"})))


def test_direct_construction_checks_the_same_rules() -> None:
    with pytest.raises(TriggerError, match=r"trigger\.step_id: is required"):
        Trigger(kind="step_failure", subject="a", occurred_at=T0, failure_class="transient")
    with pytest.raises(TriggerError, match="has no timezone"):
        Trigger(kind="manual", subject="a", occurred_at=datetime(2026, 1, 1))


# ---- properties

json_scalars = st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=30)
json_like = st.recursive(
    json_scalars,
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=10), children, max_size=4),
    max_leaves=12,
)
field_names = st.sampled_from(
    [
        "kind",
        "subject",
        "occurred_at",
        "fingerprint",
        "run_id",
        "execution_id",
        "step_id",
        "failure_class",
        "severity",
        "drift",
        "requested_action",
        "detail",
        "tags",
        "extra",
    ]
)
plausible_values = (
    json_like
    | st.sampled_from(["run_failure", "step-failure", "MANUAL", "transient", "critical", "breaking", "rerun", WHEN])
    | st.datetimes(timezones=st.none() | st.just(UTC))
    | st.dictionaries(st.text(max_size=5), st.text(max_size=5) | st.integers(), max_size=3)
)


@settings(max_examples=300)
@given(json_like | st.dictionaries(field_names, plausible_values, max_size=10))
def test_any_input_gives_a_trigger_or_a_trigger_error(value: object) -> None:
    try:
        trigger = parse_trigger(value)
    except TriggerError as error:
        assert str(error).startswith("trigger")
    else:
        assert isinstance(trigger, Trigger)


identifiers = st.text(st.characters(codec="utf-8", categories=["L", "N", "P", "S"]), min_size=1, max_size=20)


@st.composite
def valid_raw_triggers(draw: st.DrawFn) -> dict:
    kind = draw(
        st.sampled_from(
            [
                "run_failure",
                "step_failure",
                "execution_timeout",
                "anomaly_signal",
                "schema_drift",
                "sla_breach",
                "manual",
            ]
        )
    )
    moment = draw(st.datetimes(min_value=datetime(1971, 1, 1), max_value=datetime(9000, 1, 1), timezones=st.just(UTC)))
    data: dict = {
        "kind": kind,
        "subject": draw(identifiers),
        "occurred_at": draw(st.sampled_from([moment, moment.isoformat()])),
    }
    for name in ("run_id", "execution_id", "fingerprint"):
        if draw(st.booleans()):
            data[name] = draw(identifiers)
    if kind == "step_failure" or draw(st.booleans()):
        data["step_id"] = draw(identifiers)
    if kind == "step_failure" or (kind == "run_failure" and draw(st.booleans())):
        data["failure_class"] = draw(st.sampled_from(FAILURE_CLASSES))
    if kind == "anomaly_signal" or (kind == "sla_breach" and draw(st.booleans())):
        data["severity"] = draw(st.sampled_from(SEVERITIES))
    if kind == "schema_drift":
        data["drift"] = draw(st.sampled_from(DRIFTS))
    if kind == "manual" and draw(st.booleans()):
        data["requested_action"] = draw(st.sampled_from(RECOVERY_ACTIONS))
    data["detail"] = draw(st.text(max_size=3000))
    data["tags"] = draw(
        st.dictionaries(identifiers, st.text(max_size=20).filter(lambda v: "\x00" not in v), max_size=3)
    )
    return data


@settings(max_examples=300)
@given(valid_raw_triggers())
def test_parse_of_serialize_gives_the_same_trigger(data: dict) -> None:
    trigger = parse_trigger(data)
    serialized = serialize_trigger(trigger)
    assert parse_trigger(json.loads(json.dumps(serialized))) == trigger
