"""The SSH backend: commands and file transfers on a remote host through the system `ssh` client.

    ssh -T -o BatchMode=yes -o StrictHostKeyChecking=<yes|accept-new|no> -o ConnectTimeout=<s> -p PORT
        -i KEY user@host -- <remote command>

The remote command is the argv quoted for the remote shell with `shlex.join`, wrapped in a small `sh` script
that runs it under `timeout` (so it stops at its deadline on the remote side too, children included) and
kills it when the ssh channel's input closes: when the step's ssh client is stopped (a timeout, a cancelled
run), the remote command does not outlive it. The wrapper needs `sh`, `timeout` and `cat` on the remote host;
transfers need `wc`, `sha256sum` and `mv` as well.

A private key given as `file:/path` is passed to ssh as that path; one given as `env:NAME` is written to a
0600 file in a private temporary folder for the length of the call and removed afterwards.
"""

from __future__ import annotations

import hashlib
import math
import os
import shlex
import shutil
import tempfile
from collections.abc import Iterable, Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from ops_pipeline.core.execution.deadline import Deadline
from ops_pipeline.core.secrets import SecretError
from ops_pipeline.core.targets import SecretResolver, Target
from ops_pipeline.services.automation.backend import CAPTURE_BYTES, CommandResult, decoded, tail
from ops_pipeline.services.automation.files import CHUNK_BYTES, FileCopy, readable_source, temporary_name
from ops_pipeline.services.errors import ChecksumMismatch, CommandTimedOut, ServiceError
from ops_pipeline.services.process import ProcessOutput, ProcessTimedOut, run_process

HostKeyChecking = Literal["yes", "accept-new", "no"]
SSH_FAILED = 255  # ssh's own exit status when it could not connect or authenticate
CLEANUP_S = 2.0  # removing a transfer's temporary file after a failure (short: it may run on termination)

# $1: seconds allowed; the rest: the argv. fd 3 keeps the channel's input for the watcher only.
REMOTE_RUN = """limit=$1; shift
exec 3<&0 </dev/null
timeout -k 1 "$limit" "$@" 3<&- &
child=$!
{ cat <&3; kill -TERM "$child"; } >/dev/null 2>&1 &
exec 3<&-
wait "$child"
"""

# $1: temporary path, $2: expected size in bytes, $3: final destination (checked to be no folder).
REMOTE_RECEIVE = """if [ -d "$3" ]; then echo "destination $3 is a folder; give the file's full path" >&2; exit 4; fi
cat > "$1" || { rm -f -- "$1"; exit 2; }
got=$(wc -c < "$1")
if [ "$got" -ne "$2" ]; then rm -f -- "$1"; echo "received $got of $2 bytes" >&2; exit 3; fi
sha256sum -- "$1"
"""

_TRANSIENT_MARKERS = (
    "connection refused",
    "connection timed out",
    "no route to host",
    "connection reset",
    "connection closed",
    "kex_exchange_identification",
    "network is unreachable",
    "operation timed out",
)


@dataclass(frozen=True)
class SshOptions:
    strict_host_key_checking: HostKeyChecking = "yes"
    known_hosts_file: str | None = None
    connect_timeout_s: float = 10.0
    program: str = "ssh"


class SshBackend:
    name = "ssh"

    def __init__(self, options: SshOptions, resolve_secret: SecretResolver) -> None:
        self._options = options
        self._resolve_secret = resolve_secret

    # ---- commands

    def run(self, target: Target, argv: list[str], deadline: Deadline) -> CommandResult:
        limit = f"{max(deadline.remaining(), 0.001):.3f}"
        remote = shlex.join(["sh", "-c", REMOTE_RUN, "ops_pipeline", limit, *argv])
        output = self._ssh(target, remote, deadline, what=argv[0], keep_stdin_open=True)
        return decoded(output)

    # ---- files

    def push_file(self, target: Target, source: Path, destination: str, deadline: Deadline) -> FileCopy:
        """Send `source` to `destination` on the target: streamed in chunks into a temporary file there,
        checked by size and SHA-256, then renamed into place; on any failure the temporary file is removed."""
        where = self._where(target)
        if not destination.startswith("/"):
            raise ServiceError(f"{where}: the destination {destination!r} must be an absolute path on the target")
        readable_source(source)
        size = source.stat().st_size
        temporary = temporary_name(destination)
        digest = hashlib.sha256()

        def chunks() -> Iterator[bytes]:
            with source.open("rb") as reader:
                while chunk := reader.read(CHUNK_BYTES):
                    digest.update(chunk)
                    yield chunk

        receive = shlex.join(["sh", "-c", REMOTE_RECEIVE, "ops_pipeline", temporary, str(size), destination])
        try:
            output = self._ssh(target, receive, deadline, what="the transfer", stdin=chunks())
            if output.exit_code != 0:
                raise ServiceError(f"{where}: the transfer to {destination} failed: {tail(decoded(output).stderr)}")
            source_sha = digest.hexdigest()
            received = decoded(output).stdout.split()
            received_sha = received[0] if received else ""
            if received_sha != source_sha:
                raise ChecksumMismatch(
                    f"{where}: SHA-256 of {destination} as received ({received_sha or 'none'}) differs from "
                    f"{source}'s ({source_sha}); the copy was discarded"
                )
            moved = self._ssh(target, shlex.join(["mv", "-f", "--", temporary, destination]), deadline, what="mv")
            if moved.exit_code != 0:
                raise ServiceError(f"{where}: cannot move the copy into {destination}: {tail(decoded(moved).stderr)}")
        except BaseException:
            self._remove_quietly(target, temporary)
            raise
        return FileCopy(size, source_sha, destination)

    def _remove_quietly(self, target: Target, path: str) -> None:
        with suppress(Exception):
            self._ssh(target, shlex.join(["rm", "-f", "--", path]), Deadline.after(CLEANUP_S), what="rm")

    # ---- the ssh client

    def _where(self, target: Target) -> str:
        return f"{target.describe()} via the ssh backend"

    def command_line(self, target: Target, remote_command: str, deadline: Deadline, key_file: str | None) -> list[str]:
        options = self._options
        connect_s = max(1, math.ceil(min(options.connect_timeout_s, max(deadline.remaining(), 1.0))))
        argv = [
            options.program,
            "-T",
            "-o",
            "BatchMode=yes",
            "-o",
            f"StrictHostKeyChecking={options.strict_host_key_checking}",
            "-o",
            f"ConnectTimeout={connect_s}",
            "-o",
            "LogLevel=ERROR",
            "-p",
            str(target.ssh_port),
        ]
        if options.known_hosts_file:
            argv += ["-o", f"UserKnownHostsFile={Path(options.known_hosts_file).expanduser()}"]
        if key_file:
            argv += ["-i", key_file, "-o", "IdentitiesOnly=yes"]
        host = target.hostname.strip("[]")
        argv += [f"{target.user}@{host}" if target.user else host, "--", remote_command]
        return argv

    def _ssh(
        self,
        target: Target,
        remote_command: str,
        deadline: Deadline,
        *,
        what: str,
        stdin: Iterable[bytes] | None = None,
        keep_stdin_open: bool = False,
    ) -> ProcessOutput:
        where = self._where(target)
        with self._identity_file(target) as key_file:
            argv = self.command_line(target, remote_command, deadline, key_file)
            try:
                output = run_process(
                    argv, deadline, stdin=stdin, keep_stdin_open=keep_stdin_open, cap_bytes=CAPTURE_BYTES
                )
            except FileNotFoundError:
                raise ServiceError(f"{where}: the ssh client {self._options.program!r} is not installed") from None
            except ProcessTimedOut as stopped:
                result = decoded(stopped.output)
                raise CommandTimedOut(
                    f"{where}: {what} was still running after {stopped.budget_s:g} s; it was stopped (the remote "
                    "side stops with it)",
                    result.stdout,
                    result.stderr,
                ) from None
        if output.exit_code == SSH_FAILED:
            _raise_ssh_failure(where, decoded(output).stderr)
        return output

    @contextmanager
    def _identity_file(self, target: Target) -> Iterator[str | None]:
        reference = target.credentials
        if reference is None:
            yield None
            return
        if reference.startswith("file:"):
            path = Path(reference.removeprefix("file:")).expanduser()
            if not path.is_file():
                raise ServiceError(f"{self._where(target)}: private key file {path} ({reference}) does not exist")
            yield str(path)
            return
        try:
            key = self._resolve_secret(reference)
        except SecretError as error:
            raise ServiceError(f"{self._where(target)}: {error}", "permission") from None
        folder = tempfile.mkdtemp(prefix="ops-ssh-")
        try:
            path = Path(folder) / "key"
            descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            with os.fdopen(descriptor, "w", encoding="utf-8") as stream:
                stream.write(key if key.endswith("\n") else key + "\n")
            yield str(path)
        finally:
            shutil.rmtree(folder, ignore_errors=True)


def _raise_ssh_failure(where: str, stderr: str) -> None:
    """ssh exits 255 for its own failures; a remote command that exits 255 itself prints no `ssh:` line."""
    lowered = stderr.lower()
    detail = tail(stderr) or "no message"
    if "permission denied" in lowered:
        raise ServiceError(f"{where}: authentication refused ({detail})", "permission")
    if "host key verification failed" in lowered or "remote host identification has changed" in lowered:
        raise ServiceError(f"{where}: the host key could not be verified ({detail}); check known_hosts")
    if any(marker in lowered for marker in _TRANSIENT_MARKERS):
        raise ServiceError(f"{where}: cannot connect ({detail})", "transient")
    if lowered.startswith("ssh:") or "\nssh:" in lowered:
        raise ServiceError(f"{where}: ssh failed ({detail})")
