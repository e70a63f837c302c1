"""File steps: a copy or transfer verified by SHA-256 that lands atomically, and failures, deadlines and
interruptions that leave the destination as it was and no temporary file behind."""

from __future__ import annotations

import hashlib
import os
import time
from pathlib import Path

import pytest
from dagster import DagsterExecutionInterruptedError

from ops_pipeline.execution.steps import StepFailed, run_step
from ops_pipeline.services import TargetSpec
from tests.execution.steps.conftest import Harness, step
from tests.services.test_process import interrupted_after


def file_step(mode: str, source: Path | str, destination: Path | str, target: str | None = None) -> object:
    fields = {"type": "file", "mode": mode, "source_path": str(source), "destination_path": str(destination)}
    return step(**fields, **({"target": target} if target else {}))


def sparse_file(path: Path, size: int) -> Path:
    with path.open("wb") as stream:
        stream.truncate(size)
    return path


def only_files(folder: Path) -> list[str]:
    return sorted(path.name for path in folder.iterdir())


def test_a_copy_is_verified_and_reported(harness: Harness, tmp_path: Path) -> None:
    source = tmp_path / "config.json"
    source.write_bytes(os.urandom(2 * 1024 * 1024 + 5))
    out = tmp_path / "out"
    out.mkdir()
    copy = step(type="file", mode="copy", source_path=str(source), destination_path=str(out) + "/{{ params.name }}")
    output = run_step(copy, harness.context(parameters={"name": "config.json"}))
    digest = hashlib.sha256(source.read_bytes()).hexdigest()
    assert output == {"bytes": source.stat().st_size, "sha256": digest, "destination": str(out / "config.json")}
    assert (out / "config.json").read_bytes() == source.read_bytes()
    assert only_files(out) == ["config.json"]


def test_a_missing_source_fails_and_touches_nothing(harness: Harness, tmp_path: Path) -> None:
    (tmp_path / "dest.txt").write_text("old")
    copy = step(
        type="file", mode="copy", source_path=str(tmp_path / "nope.txt"), destination_path=str(tmp_path / "dest.txt")
    )
    with pytest.raises(StepFailed, match=r"source file .*nope.txt does not exist") as failed:
        run_step(copy, harness.context())
    assert failed.value.failure_class == "permanent"
    assert (tmp_path / "dest.txt").read_text() == "old" and only_files(tmp_path) == ["dest.txt"]


@pytest.mark.parametrize(
    ("destination", "problem"),
    [
        ("missing/dest.txt", r"destination folder .*missing does not exist"),
        ("", r"is a folder; give the file's full path"),
    ],
)
def test_a_bad_destination_is_named(harness: Harness, tmp_path: Path, destination: str, problem: str) -> None:
    source = tmp_path / "a.txt"
    source.write_text("a")
    copy = file_step("copy", source, tmp_path / destination)
    with pytest.raises(StepFailed, match=problem):
        run_step(copy, harness.context())
    assert only_files(tmp_path) == ["a.txt"]


def test_a_copy_past_its_deadline_leaves_the_old_file_and_no_temporary(harness: Harness, tmp_path: Path) -> None:
    source = sparse_file(tmp_path / "huge.img", 8 * 1024**3)
    out = tmp_path / "out"
    out.mkdir()
    (out / "huge.img").write_text("previous version")
    started = time.monotonic()
    copy = file_step("copy", source, out / "huge.img")
    with pytest.raises(StepFailed, match=r"stopped after 0.3 s") as failed:
        run_step(copy, harness.context(budget_s=0.3))
    assert failed.value.failure_class == "timeout"
    assert time.monotonic() - started < 1.3
    assert only_files(out) == ["huge.img"] and (out / "huge.img").read_text() == "previous version"


def test_an_interrupted_copy_leaves_no_temporary_file(harness: Harness, tmp_path: Path) -> None:
    source = sparse_file(tmp_path / "huge.img", 8 * 1024**3)
    out = tmp_path / "out"
    out.mkdir()
    copy = file_step("copy", source, out / "huge.img")
    with pytest.raises(DagsterExecutionInterruptedError), interrupted_after(0.2, DagsterExecutionInterruptedError):
        run_step(copy, harness.context(budget_s=60))
    assert only_files(out) == []


def test_a_transfer_to_a_local_target_is_a_verified_copy(harness: Harness, tmp_path: Path) -> None:
    source = tmp_path / "app.tar"
    source.write_bytes(b"release 1.2")
    send = step(
        type="file", mode="transfer", target="here", source_path=str(source), destination_path=str(tmp_path / "got.tar")
    )
    output = run_step(send, harness.context())
    assert output["sha256"] == hashlib.sha256(b"release 1.2").hexdigest()
    assert (tmp_path / "got.tar").read_bytes() == b"release 1.2"


def test_a_transfer_over_ssh_is_verified(ssh_harness: Harness, tmp_path: Path) -> None:
    source = tmp_path / "app.tar"
    source.write_bytes(os.urandom(1024 * 1024))
    remote = tmp_path / "remote"
    remote.mkdir()
    send = step(
        type="file", mode="transfer", target="box", source_path=str(source), destination_path=str(remote / "app.tar")
    )
    output = run_step(send, ssh_harness.context(budget_s=30))
    assert output["sha256"] == hashlib.sha256(source.read_bytes()).hexdigest()
    assert (remote / "app.tar").read_bytes() == source.read_bytes() and only_files(remote) == ["app.tar"]


def test_a_transfer_to_an_http_target_is_refused_with_the_reason(harness: Harness, tmp_path: Path) -> None:
    harness.targets["app7"] = TargetSpec(hostname="app7.internal", connection="http")
    (tmp_path / "a.txt").write_text("a")
    send = step(
        type="file", mode="transfer", target="app7", source_path=str(tmp_path / "a.txt"), destination_path="/srv/a.txt"
    )
    with pytest.raises(StepFailed, match=r"target 'app7' .*via the http backend: .*has no file transfer"):
        run_step(send, harness.context())
