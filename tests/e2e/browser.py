"""Headless Chromium (Debian's `chromium`) driven over the DevTools protocol: open a Dagster page, open a
markdown metadata entry, measure the image it draws, and take a screenshot."""

from __future__ import annotations

import base64
import itertools
import json
import os
import shutil
import signal
import subprocess
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from websockets.sync.client import ClientConnection, connect

from tests.e2e.dagster_dev import free_port

# Dismiss the UI's first-visit dialog, then click "[Show Markdown]" in the metadata row named ENTRY (the UI
# draws markdown of 1,000 characters or more behind that link).
OPEN_ENTRY = """(() => {
  const text = (element) => element.textContent.trim();
  for (const button of document.querySelectorAll('button')) { if (text(button) === 'Skip') button.click(); }
  const row = [...document.querySelectorAll('tr')].find(r => r.cells.length && text(r.cells[0]) === ENTRY);
  const link = row && [...row.querySelectorAll('*')].find(e => !e.children.length && text(e) === '[Show Markdown]');
  if (link) link.click();
  return Boolean(link);
})()"""
MEASURE_IMAGES = """JSON.stringify([...document.querySelectorAll('img')].filter(i => i.src.startsWith('data:image/png'))
  .map(i => ({src: i.src.slice(0, 40), naturalWidth: i.naturalWidth, complete: i.complete,
              width: i.getBoundingClientRect().width, height: i.getBoundingClientRect().height})))"""


class DevTools:
    def __init__(self, socket: ClientConnection) -> None:
        self.socket = socket
        self.ids = itertools.count(1)

    def call(self, method: str, **params: Any) -> dict[str, Any]:
        message_id = next(self.ids)
        self.socket.send(json.dumps({"id": message_id, "method": method, "params": params}))
        while True:
            message = json.loads(self.socket.recv(timeout=60))
            if message.get("id") == message_id:
                assert "error" not in message, message
                result: dict[str, Any] = message["result"]
                return result

    def evaluate(self, expression: str) -> Any:
        return self.call("Runtime.evaluate", expression=expression, returnByValue=True)["result"].get("value")


def chromium() -> str:
    found = shutil.which("chromium") or shutil.which("chromium-browser")
    if found is None:
        if os.environ.get("OPS_REQUIRE_SERVICES") == "1":
            pytest.fail("chromium is not installed and OPS_REQUIRE_SERVICES=1 (.ci/run installs it)", pytrace=False)
        pytest.skip("chromium is not installed")
    return found


@contextmanager
def browser_page(profile: Path) -> Iterator[DevTools]:
    port = free_port()
    process = subprocess.Popen(
        [
            chromium(),
            "--headless=new",
            "--no-sandbox",  # CI runs as root
            "--disable-gpu",
            "--disable-dev-shm-usage",
            f"--remote-debugging-port={port}",
            f"--user-data-dir={profile}",
            "--window-size=1400,1800",
            "about:blank",
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    try:
        with connect(_page_socket(port), max_size=64 * 1024 * 1024) as socket:
            yield DevTools(socket)
    finally:
        os.killpg(process.pid, signal.SIGTERM)
        process.wait(timeout=30)


def _page_socket(port: int) -> str:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/json/list", timeout=5) as response:
                pages = [p for p in json.load(response) if p["type"] == "page"]
            if pages:
                url: str = pages[0]["webSocketDebuggerUrl"]
                return url
        except OSError:
            pass
        time.sleep(0.5)
    pytest.fail("chromium's DevTools endpoint did not answer within 60 s")


def asset_page_chart(url: str, entry: str, screenshot: Path, profile_parent: Path) -> dict[str, Any]:
    """Open the asset page, open its markdown entry `entry`, screenshot it; the first embedded PNG's measures."""
    with browser_page(profile_parent / "chromium-profile") as page:
        page.call("Page.enable")
        page.call("Page.navigate", url=url)
        images = _poll(page, entry)
        shot = page.call("Page.captureScreenshot", format="png")
        screenshot.write_bytes(base64.b64decode(shot["data"]))
    return images[0]


def _poll(page: DevTools, entry: str, timeout_s: float = 90) -> list[dict[str, Any]]:
    """The page renders in steps (code location, asset, metadata): retry until the entry's image is drawn."""
    deadline = time.monotonic() + timeout_s
    images: list[dict[str, Any]] = []
    while time.monotonic() < deadline:
        opened = page.evaluate(OPEN_ENTRY.replace("ENTRY", json.dumps(entry)))
        if opened:
            time.sleep(1)
            images = json.loads(page.evaluate(MEASURE_IMAGES))
            if images and images[0]["complete"] and images[0]["naturalWidth"]:
                return images
        time.sleep(2)
    pytest.fail(f"no drawn PNG in the {entry!r} entry within {timeout_s:.0f} s (found {images})")
