"""The webhook delivery worker survives its API process being killed mid-delivery (issue 19): a module of
its own, so that no other delivering server of the test run takes the webhook's lease meanwhile."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.helpers import _free_port, send, unique
from tests.webhook_receiver import HOOK_ENV, Received, Receiver, run_receiver, wait_for


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    with run_receiver() as recv:
        yield recv


def register(http: httpx.Client, admin: dict[str, str], url: str, **body: object) -> dict[str, object]:
    r = http.post("/webhooks", json={"url": url, **body}, headers=admin)
    assert r.status_code == 201, r.text
    return dict(r.json())


def _start_api(env: dict[str, str], port: int, log: Path) -> subprocess.Popen[bytes]:
    command = [
        sys.executable,
        *("-m", "uvicorn", "--factory", "app.main:app_from_env"),
        *("--host", "127.0.0.1", "--port", str(port), "--no-access-log"),
    ]
    with log.open("ab") as out:
        proc = subprocess.Popen(command, env={**os.environ, **env}, stdout=out, stderr=subprocess.STDOUT)
    deadline = time.monotonic() + 300  # the warm-up plans every hot statement: slow on a loaded machine
    while True:
        try:
            if httpx.get(f"http://127.0.0.1:{port}/health", timeout=5).status_code == 200:
                return proc
        except httpx.TransportError:
            pass
        assert proc.poll() is None and time.monotonic() < deadline, log.read_text()[-2000:]
        time.sleep(0.3)


def test_an_api_killed_mid_delivery_delivers_the_rest_after_a_restart(
    settings_env: dict[str, str], admin: dict[str, str], receiver: Receiver, tmp_path: Path
) -> None:
    hold = threading.Event()
    in_flight = threading.Event()

    def answer(n: int, r: Received) -> int:
        if len({x.delivery_id for x in receiver.requests}) == 3 and not hold.is_set():
            in_flight.set()
            hold.wait(30)  # the third change is being delivered when the API dies
        return 200

    receiver.answer = answer
    env = settings_env | HOOK_ENV
    port = _free_port()
    url = f"http://127.0.0.1:{port}"
    first = _start_api(env, port, tmp_path / "api.log")
    try:
        with httpx.Client(base_url=url, timeout=60) as http:
            hook = register(http, admin, receiver.url, types=["profile-created"])
            sid = unique("src")
            r = http.post("/sources", json={"id": sid, "name": "restart"}, headers=admin)
            assert r.status_code == 201
            pids = [
                send(http, sid, unique("s"), [f"urn:email:{unique('k')}@x.io"])["profile"]["id"]
                for _ in range(6)
            ]
        assert in_flight.wait(60), "the third delivery never started"
        first.send_signal(signal.SIGKILL)
        first.wait(30)
    finally:
        if first.poll() is None:
            first.kill()
        hold.set()
    second = _start_api(env, port, tmp_path / "api.log")
    try:
        wait_for(
            lambda: {r.change["profile_id"] for r in receiver.delivered()} >= set(pids),
            timeout=90,
            message="the rest after the restart",
        )
        got = [r.change["profile_id"] for r in receiver.delivered() if r.change["profile_id"] in pids]
        assert got == pids, "nothing skipped, in feed order"
        ids = [r.delivery_id for r in receiver.requests if r.change["profile_id"] in pids]
        assert len(ids) >= len(pids) and set(ids) == {r.delivery_id for r in receiver.delivered()}
        # Only what was in flight came twice, under the same delivery id.
        assert len(ids) - len(set(ids)) <= 1
        with httpx.Client(base_url=url, timeout=60) as http:
            http.delete(f"/webhooks/{hook['id']}", headers=admin)
    finally:
        second.terminate()
        second.wait(30)
