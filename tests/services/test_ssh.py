"""The SSH backend against a real sshd on 127.0.0.1: argv quoting, exit codes, timeouts and interruptions that
leave no remote process behind, authentication and connection failures, keys from env:, and file transfers
verified by SHA-256 that leave nothing half-written."""

from __future__ import annotations

import hashlib
import os
import time
from pathlib import Path

import pytest

from ops_pipeline.core.execution.deadline import Deadline
from ops_pipeline.services import (
    AssetService,
    AutomationService,
    CommandTimedOut,
    ServiceError,
    SshOptions,
    TargetSpec,
)
from tests.servers import Sshd, read_pids, wait_gone
from tests.services.test_process import SPAWNS_A_CHILD, Interrupted, interrupted_after, wrote_pids


def service(sshd: Sshd, retries: int = 0, **fields: object) -> AutomationService:
    target = TargetSpec(**{**sshd.target_fields(), **fields})
    options = SshOptions(strict_host_key_checking="accept-new", known_hosts_file=str(sshd.known_hosts))
    return AutomationService(AssetService({"box": target}), ssh=options, retries=retries, retry_delay_s=0.05)


def test_argv_reaches_the_remote_program_unchanged(sshd: Sshd) -> None:
    argv = ["printf", "%s|", "two words", "it's", "$HOME", "a;b", "`x`", "*"]
    result = service(sshd).run("box", argv, Deadline.after(20))
    assert (result.exit_code, result.stdout) == (0, "two words|it's|$HOME|a;b|`x`|*|")


def test_the_remote_exit_code_and_stderr_come_back(sshd: Sshd) -> None:
    result = service(sshd).run("box", ["sh", "-c", "echo oops >&2; exit 9"], Deadline.after(20))
    assert (result.exit_code, result.stderr) == (9, "oops\n")


def test_a_remote_command_past_its_deadline_is_stopped_with_its_children(sshd: Sshd, tmp_path: Path) -> None:
    pids = tmp_path / "pids"
    started = time.monotonic()
    with pytest.raises(CommandTimedOut, match=r"target 'box' \(ssh .*\) via the ssh backend"):
        service(sshd).run("box", ["sh", "-c", SPAWNS_A_CHILD, "sh", str(pids)], Deadline.after(2.0))
    assert time.monotonic() - started < 3.0
    assert wait_gone(read_pids(pids, 2)) == []


def test_an_interrupted_step_leaves_no_remote_process(sshd: Sshd, tmp_path: Path) -> None:
    pids = tmp_path / "pids"
    automation = service(sshd)
    with pytest.raises(Interrupted), interrupted_after(0, once=wrote_pids(pids)):
        automation.run("box", ["sh", "-c", SPAWNS_A_CHILD, "sh", str(pids)], Deadline.after(60))
    assert wait_gone(read_pids(pids, 2)) == []


def test_a_key_the_server_does_not_accept_is_a_permission_failure(sshd: Sshd, tmp_path: Path) -> None:
    stranger = tmp_path / "stranger"
    os.system(f"ssh-keygen -q -t ed25519 -N '' -f {stranger}")
    with pytest.raises(ServiceError, match=r"via the ssh backend: authentication refused") as refused:
        service(sshd, credentials=f"file:{stranger}").run("box", ["true"], Deadline.after(20))
    assert refused.value.failure_class == "permission"


def test_a_closed_port_is_transient(sshd: Sshd, closed_port: int) -> None:
    with pytest.raises(ServiceError, match=r"cannot connect.*refused") as failed:
        service(sshd, retries=1, port=closed_port).run("box", ["true"], Deadline.after(20))
    assert failed.value.failure_class == "transient"


def test_a_key_held_in_an_environment_variable_is_used_and_not_left_on_disk(
    sshd: Sshd, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("OPS_TEST_SSH_KEY", sshd.key_file.read_text())
    before = set(Path(os.environ.get("TMPDIR", "/tmp")).glob("ops-ssh-*"))
    result = service(sshd, credentials="env:OPS_TEST_SSH_KEY").run("box", ["echo", "in"], Deadline.after(20))
    assert result.stdout == "in\n"
    assert set(Path(os.environ.get("TMPDIR", "/tmp")).glob("ops-ssh-*")) == before


def test_a_missing_key_file_is_named(sshd: Sshd) -> None:
    with pytest.raises(ServiceError, match=r"private key file /nonexistent/key"):
        service(sshd, credentials="file:/nonexistent/key").run("box", ["true"], Deadline.after(20))


def test_a_file_is_transferred_and_verified(sshd: Sshd, tmp_path: Path) -> None:
    source = tmp_path / "release.tar"
    source.write_bytes(os.urandom(3 * 1024 * 1024 + 17))
    destination = tmp_path / "remote" / "release.tar"
    destination.parent.mkdir()
    copied = service(sshd).push_file("box", source, str(destination), Deadline.after(30))
    expected = hashlib.sha256(source.read_bytes()).hexdigest()
    assert (copied.bytes, copied.sha256, copied.destination) == (source.stat().st_size, expected, str(destination))
    assert hashlib.sha256(destination.read_bytes()).hexdigest() == expected
    assert sorted(path.name for path in destination.parent.iterdir()) == ["release.tar"]


def test_a_transfer_into_a_missing_folder_fails_and_leaves_nothing(sshd: Sshd, tmp_path: Path) -> None:
    source = tmp_path / "a.txt"
    source.write_text("payload")
    with pytest.raises(ServiceError, match=r"the transfer to .*/missing/a.txt failed"):
        service(sshd).push_file("box", source, str(tmp_path / "missing" / "a.txt"), Deadline.after(20))
    assert not (tmp_path / "missing").exists()


def test_a_transfer_stopped_by_its_deadline_leaves_the_destination_untouched(sshd: Sshd, tmp_path: Path) -> None:
    source = tmp_path / "big.bin"
    with source.open("wb") as stream:
        stream.truncate(2 * 1024**3)  # sparse: 2 GiB to send, far more than the budget allows
    folder = tmp_path / "remote"
    folder.mkdir()
    (folder / "big.bin").write_text("the old version")
    with pytest.raises(CommandTimedOut):
        service(sshd).push_file("box", source, str(folder / "big.bin"), Deadline.after(1.5))
    deadline = time.monotonic() + 5
    while len(list(folder.iterdir())) > 1 and time.monotonic() < deadline:
        time.sleep(0.1)  # the remote side removes its partial file once the channel closes
    assert [path.name for path in folder.iterdir()] == ["big.bin"]
    assert (folder / "big.bin").read_text() == "the old version"


def test_an_unknown_host_key_is_refused_when_checking_is_strict(sshd: Sshd, tmp_path: Path) -> None:
    options = SshOptions(strict_host_key_checking="yes", known_hosts_file=str(tmp_path / "empty_known_hosts"))
    automation = AutomationService(AssetService({"box": TargetSpec(**sshd.target_fields())}), ssh=options)
    with pytest.raises(ServiceError, match=r"the host key could not be verified") as refused:
        automation.run("box", ["true"], Deadline.after(20))
    assert refused.value.failure_class == "permanent"
