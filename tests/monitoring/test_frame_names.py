"""Every frame name is declared once: CLIENT_EVENTS in monitoring.live.frames, SERVER_EVENTS in monitoring.pushes.

The server builds every outgoing frame through frame() (directly, or via pushes.push_message /
close_message), and every push is built in monitoring.pushes and leaves through monitoring.broadcast;
these tests read the source so that a new name cannot be sent without being declared, no other
module builds or sends a push, and the browser scripts neither handle nor send a name the server
does not know.
"""

from __future__ import annotations

import ast
import re

import pytest

from harness.servers import ROOT
from monitoring.live.consumers import ExamConsumer
from monitoring.live.frames import CLIENT_EVENTS, error_frame
from monitoring.pushes import SERVER_EVENTS, frame

BUILDERS = {"frame", "push_message", "close_message"}
APPS = ("accounts", "exams", "monitoring", "scoring", "exampulse")


def _calls() -> list[tuple[str, str, ast.Call]]:
    """(called name, file:line, call) for every call in the apps' source."""
    calls = []
    for app in APPS:
        for path in (ROOT / app).rglob("*.py"):
            tree = ast.parse(path.read_text(), filename=str(path))
            for node in ast.walk(tree):
                if isinstance(node, ast.Call):
                    name = getattr(node.func, "id", None) or getattr(node.func, "attr", None)
                    calls.append((name, f"{path.relative_to(ROOT)}:{node.lineno}", node))
    return calls


def _frame_names_in_python() -> dict[str, list[str]]:
    """Frame name -> where it is built, for every builder call with a literal name."""
    found: dict[str, list[str]] = {}
    for name, where, node in _calls():
        first = node.args[0] if node.args else None
        if name in BUILDERS and isinstance(first, ast.Constant) and isinstance(first.value, str):
            found.setdefault(first.value, []).append(where)
    return found


def test_pushes_are_built_only_in_monitoring_pushes_and_sent_only_through_broadcast():
    places = {
        "push_message": "monitoring/pushes.py",
        "close_message": "monitoring/pushes.py",
        "group_send": "monitoring/broadcast.py",
        "agroup_send": "monitoring/pushes.py",
    }
    stray = [(name, where) for name, where, _ in _calls() if name in places and not where.startswith(places[name])]
    assert not stray, f"build pushes in monitoring/pushes.py and send them with pushes.send_after_commit/asend: {stray}"


def test_every_frame_the_server_builds_is_declared_and_every_declared_name_is_built():
    built = _frame_names_in_python()
    undeclared = {name: where for name, where in built.items() if name not in SERVER_EVENTS}
    assert not undeclared, f"add these to monitoring.pushes.SERVER_EVENTS: {undeclared}"
    assert set(built) == SERVER_EVENTS, f"declared but never sent: {SERVER_EVENTS - set(built)}"


def test_frame_refuses_an_undeclared_name():
    with pytest.raises(ValueError, match="not a server -> client frame name"):
        frame("made_up_push", x=1)
    assert error_frame("bad_json", "Nope.") == {"event": "error", "data": {"code": "bad_json", "message": "Nope."}}


def _js(path: str) -> str:
    return (ROOT / "monitoring" / "static" / path).read_text()


def test_the_dashboard_handles_and_sends_only_declared_frames():
    source = _js("monitoring/dashboard.js")
    handlers = re.search(r"var handlers = \{(.*?)\n  \};", source, re.S).group(1)
    handled = set(re.findall(r"^    (\w+): function", handlers, re.M))
    assert handled and handled <= SERVER_EVENTS, handled - SERVER_EVENTS
    sent = set(re.findall(r'send\("(\w+)"', source))
    assert sent and sent <= CLIENT_EVENTS, sent - CLIENT_EVENTS


def test_the_browser_client_handles_and_sends_only_declared_frames():
    source = _js("exampulse/exampulse-client.js")
    handled = set(re.findall(r'case "(\w+)":', source))
    assert handled and handled <= SERVER_EVENTS, handled - SERVER_EVENTS
    sent = set(re.findall(r'event: "(\w+)"', source))
    assert sent and sent <= CLIENT_EVENTS, sent - CLIENT_EVENTS


def test_the_consumer_handles_exactly_the_declared_client_frames():
    handlers = {name.removeprefix("on_") for name in dir(ExamConsumer) if name.startswith("on_")}
    assert handlers == CLIENT_EVENTS
