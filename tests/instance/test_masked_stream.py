"""`masked_stream` on real file descriptors: Python writes, a child process that inherits the descriptor, a secret
split across writes, a private key printed line by line, and a partial line let out after a quiet spell."""

import subprocess
import sys
import time
from pathlib import Path

from ops_pipeline.core.execution.process_secrets import register_secret
from ops_pipeline.instance.masked_stream import QUIET_S, masked_stream

SECRET = "Stream-Secret-0042"


def captured(tmp_path: Path, write) -> str:
    """What reaches sys.stdout's descriptor (pointed at a file here) while `write` runs inside masked_stream."""
    target = tmp_path / "out.txt"
    saved = sys.stdout
    with open(target, "w") as sink:
        sys.stdout = sink
        try:
            with masked_stream(sink):
                write(sink)
        finally:
            sys.stdout = saved
    return target.read_text()


def test_python_and_child_output_are_masked(tmp_path) -> None:
    register_secret(SECRET)

    def write(sink) -> None:
        print(f"python {SECRET} password=hunter22", file=sink, flush=True)
        subprocess.run(["sh", "-c", f"echo child {SECRET}; echo token={SECRET}x"], stdout=sink.fileno(), check=True)

    assert captured(tmp_path, write) == "python *** password=***\nchild ***\ntoken=***\n"


def test_a_secret_split_across_writes_is_masked(tmp_path) -> None:
    register_secret(SECRET)

    def write(sink) -> None:
        for part in (SECRET[:7], SECRET[7:], " done\n"):
            sink.write(part)
            sink.flush()
            time.sleep(QUIET_S / 10)

    assert captured(tmp_path, write) == "*** done\n"


def test_a_private_key_printed_line_by_line_is_masked(tmp_path) -> None:
    lines = [
        "-----BEGIN OPENSSH PRIVATE KEY-----",
        "b3BlbnNzaC1rZXktdjEAAAAABG5vbmUAAAAEbm9uZQAAAAAAAAABAAAAMwAAAAtzc2gtZW",
        "QyNTUxOQAAACDw6r0ZbZQ1rDn8l2ttS4kGIk1BCX7Y5GWh1mPY5Q9VHQAAAJg=",
        "-----END OPENSSH PRIVATE KEY-----",
    ]

    def write(sink) -> None:
        for line in lines:
            print(line, file=sink, flush=True)
            time.sleep(QUIET_S / 10)

    out = captured(tmp_path, write)
    assert "b3BlbnNzaC1rZXkt" not in out and "QyNTUxOQ" not in out
    assert out.startswith("-----BEGIN OPENSSH PRIVATE KEY-----") and "-----END OPENSSH PRIVATE KEY-----" in out


def test_a_partial_line_is_let_out_after_a_quiet_spell(tmp_path) -> None:
    target = tmp_path / "out.txt"
    with open(target, "w") as sink, masked_stream(sink):
        sink.write("progress 50%")
        sink.flush()
        deadline = time.monotonic() + 10 * QUIET_S
        while target.read_text() != "progress 50%" and time.monotonic() < deadline:
            time.sleep(QUIET_S / 4)
        assert target.read_text() == "progress 50%"
