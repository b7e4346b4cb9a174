"""Oversized frames against a real daphne: the client always learns why.

Daphne caps a WebSocket message at 1 MiB (`websocket_max_message_size`); the consumer caps a frame
at WS_MAX_FRAME_BYTES (64 KiB). Between the two the consumer answers `frame_too_large` and the
socket lives on. Past daphne's cap, autobahn fails the connection before the application sees the
frame; it must do so with close code 1009 (message too big), not a dropped TCP connection (1006).
Channels' in-process communicator bypasses daphne, so only a real server shows this.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
import websockets

from harness.servers import Server
from tests.support.live import MIGRATED, SeedCache

pytestmark = pytest.mark.slow

_MAKE_STUDENT = """
from accounts.services import tokens_issue
from tests.factories import StudentFactory
print(tokens_issue(user=StudentFactory())["token"])
"""


@pytest.fixture(scope="module")
def live_daphne(tmp_path_factory: pytest.TempPathFactory, seed_cache: SeedCache) -> Iterator[tuple[int, str]]:
    """A daphne process on its own SQLite file and in-memory layer; yields (port, a student's token)."""
    database = Path(tmp_path_factory.mktemp("daphne")) / "live.sqlite3"
    daphne = Server(database_url=f"sqlite:///{database}")
    seed_cache.copy(MIGRATED, database)
    token = daphne.manage("shell", "-c", _MAKE_STUDENT).strip().splitlines()[-1]
    with daphne:
        yield daphne.port, token


def _frame_of_size(size: int) -> str:
    head = '{"event": "ping", "data": {"pad": "'
    tail = '"}}'
    return head + "a" * (size - len(head) - len(tail)) + tail


async def _connect(port: int, token: str) -> websockets.ClientConnection:
    # max_size=None: the client must not be the side that refuses anything here.
    socket = await websockets.connect(f"ws://127.0.0.1:{port}/ws/exam/?token={token}", max_size=None)
    assert json.loads(await socket.recv(decode=True))["event"] == "connected"
    return socket


@pytest.mark.parametrize("size", [600 * 1024, 1024 * 1024], ids=["600KB", "1MiB"])
async def test_a_frame_up_to_daphnes_cap_gets_frame_too_large_and_the_socket_survives(
    live_daphne: tuple[int, str], size: int
) -> None:
    port, token = live_daphne
    async with await _connect(port, token) as socket:
        await socket.send(_frame_of_size(size))
        reply = json.loads(await socket.recv())
        assert reply["event"] == "error"
        assert reply["data"]["code"] == "frame_too_large"
        await socket.send(json.dumps({"event": "ping"}))
        assert json.loads(await socket.recv())["event"] == "pong"


async def _drain(socket: websockets.ClientConnection) -> None:
    """Read whatever the server sent before closing, until the close itself raises."""
    while True:
        await socket.recv()


@pytest.mark.parametrize("size", [1024 * 1024 + 1, 3 * 1024 * 1024], ids=["1MiB+1", "3MiB"])
async def test_a_frame_past_daphnes_cap_closes_with_1009(live_daphne: tuple[int, str], size: int) -> None:
    port, token = live_daphne
    socket = await _connect(port, token)
    try:
        await socket.send(_frame_of_size(size))
        with pytest.raises(websockets.ConnectionClosed):
            await _drain(socket)
        assert socket.close_code == 1009, f"closed with {socket.close_code} ({socket.close_reason!r})"
    finally:
        await socket.close()
    # The server is fine afterwards: a new socket works.
    async with await _connect(port, token) as again:
        await again.send(json.dumps({"event": "ping"}))
        assert json.loads(await again.recv())["event"] == "pong"
