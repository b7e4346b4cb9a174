"""The scale-out recipe, tested: nginx (config from `render_nginx_config`) in front of two daphne
processes sharing PostgreSQL and Redis. Students spread over both processes; one proctor sees all."""

from __future__ import annotations

import asyncio
import json
import os
import shutil
import subprocess
import time
import urllib.request

import pytest
import websockets
from django.core.management import call_command
from django.db import connection

from accounts.services import tokens_issue
from exams.services import session_start
from monitoring.frame_types import check_frame
from monitoring.models import Event, Presence
from tests.factories import StudentFactory
from tests.monitoring.conftest import make_exam
from tests.support.live import current_database_url
from tests.support.servers import free_port, servers

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.postgres, pytest.mark.redis, pytest.mark.slow]

NGINX = shutil.which("nginx") or "/usr/sbin/nginx"
MUST_RUN = os.environ.get("CI") == "true" or os.environ.get("EXAMPULSE_REQUIRE_SERVICES") == "1"


@pytest.fixture
def nginx_binary():
    if not os.path.exists(NGINX):
        if MUST_RUN:
            pytest.fail("nginx not found: .ci/run installs Debian's nginx-light")
        pytest.skip("nginx not installed (apt-get install nginx-light)")
    return NGINX


def start_nginx(binary: str, upstream_ports: list[int], prefix, capsys) -> tuple[subprocess.Popen, int]:
    port = free_port()
    argv = ["render_nginx_config", "--listen", f"127.0.0.1:{port}", "--standalone", str(prefix)]
    for upstream in upstream_ports:
        argv += ["--upstream", f"127.0.0.1:{upstream}"]
    capsys.readouterr()
    call_command(*argv)
    config = prefix / "nginx.conf"
    config.write_text(capsys.readouterr().out)
    process = subprocess.Popen([binary, "-c", str(config), "-p", str(prefix)], stderr=subprocess.PIPE)  # noqa: S603
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/api/health", timeout=2) as response:
                if response.status == 200:
                    return process, port
        except OSError:
            time.sleep(0.2)
    process.kill()
    raise RuntimeError(f"nginx did not come up: {process.stderr.read().decode()[-1000:]}")


def presence_servers() -> set[str]:
    """Which server processes hold student sockets (run in a worker thread; closes its connection)."""
    try:
        return set(Presence.objects.filter(role="student").values_list("server_id", flat=True))
    finally:
        connection.close()


async def expect(ws, name: str, timeout: float = 10) -> dict:
    while True:
        message = json.loads(await asyncio.wait_for(ws.recv(), timeout))
        check_frame(message)
        if message["event"] == name:
            return message["data"]


def test_nginx_spreads_students_over_processes_and_one_proctor_sees_them_all(
    requires_postgres, requires_redis, nginx_binary, proctor, tmp_path, capsys
):
    exam = make_exam(proctor, monitoring_sensitivity="low")
    students = [StudentFactory() for _ in range(6)]
    for student in students:
        session_start(exam=exam, user=student)
    tokens = [tokens_issue(user=s)["token"] for s in students]
    proctor_token = tokens_issue(user=proctor)["token"]

    async def scenario(port: int) -> list[str]:
        base = f"ws://127.0.0.1:{port}/ws/exam/?token="
        async with websockets.connect(base + proctor_token) as watcher:
            await expect(watcher, "connected")
            await watcher.send(json.dumps({"event": "join_exam", "data": {"exam_id": exam.pk}}))
            await expect(watcher, "active_students")
            pupils = [await websockets.connect(base + token) for token in tokens]
            try:
                for index, pupil in enumerate(pupils):
                    await expect(pupil, "connected")
                    await pupil.send(json.dumps({"event": "join_exam", "data": {"exam_id": exam.pk}}))
                    await expect(pupil, "joined_exam")
                    await pupil.send(
                        json.dumps(
                            {
                                "event": "suspicious_activity",
                                "data": {"exam_id": exam.pk, "type": "right_click", "client_event_id": f"n{index}"},
                            }
                        )
                    )
                    await expect(pupil, "activity_logged")
                seen = [(await expect(watcher, "student_activity"))["client_event_id"] for _ in pupils]
                servers = await asyncio.to_thread(presence_servers)
                assert len(servers) == 2, "least_conn should have used both processes"
                return seen
            finally:
                for pupil in pupils:
                    await pupil.close()

    with servers(2, database_url=current_database_url(), redis_url=requires_redis) as daphnes:
        nginx, port = start_nginx(nginx_binary, [d.port for d in daphnes], tmp_path, capsys)
        try:
            seen = asyncio.run(scenario(port))
        finally:
            nginx.terminate()
            nginx.wait(timeout=10)

    assert sorted(seen) == sorted(f"n{i}" for i in range(6))
    assert Event.objects.filter(session__exam=exam, event_type="right_click").count() == 6
