"""The session lifecycle's one table (exams.statuses): every move through the public API, and no
code that writes a session's status or pause outside it."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from exams.clock import session_pause
from exams.exceptions import SessionMoveRefused
from exams.models import ExamSession
from exams.sessions import session_start, session_submit, session_terminate
from exams.statuses import TRANSITIONS, Move, State, session_move, state_of

pytestmark = pytest.mark.django_db

ROOT = Path(__file__).resolve().parents[2]

# The lifecycle as docs/api.md describes it, written out here rather than read from the
# module, so a change to the table has to change this too.
ALLOWED = {
    ("submit", "running"): {"submitted", "flagged"},
    ("expire", "running"): {"submitted", "flagged"},
    ("terminate", "running"): {"flagged"},
    ("terminate", "paused"): {"flagged"},
    ("pause", "running"): {"paused"},
    ("resume", "paused"): {"running"},
    ("reset", "running"): {"submitted"},
    ("reset", "paused"): {"submitted"},
}
# What refuses each other move of the REST API, as `details.code` of its 409. A repeated submit
# answers with the same result and a finished attempt can still be reset (voided, no move), so
# those two are not refusals.
REFUSED = {
    ("submit", "paused"): "session_paused",
    ("terminate", "submitted"): "session_not_active",
    ("terminate", "flagged"): "session_not_active",
    ("pause", "paused"): "session_already_paused",
    ("pause", "submitted"): "session_not_active",
    ("pause", "flagged"): "session_not_active",
    ("resume", "running"): "session_not_paused",
    ("resume", "submitted"): "session_not_active",
    ("resume", "flagged"): "session_not_active",
}
NOT_A_MOVE = {("submit", "submitted"), ("submit", "flagged"), ("reset", "submitted"), ("reset", "flagged")}
STATES = ("running", "paused", "submitted", "flagged")
REST_MOVES = ("submit", "terminate", "pause", "resume", "reset")


def test_the_table_is_the_lifecycle_written_above():
    table = {
        (move.value, start.value): {end.value for end in ends}
        for move, row in TRANSITIONS.items()
        for start, ends in row.items()
    }
    assert table == ALLOWED


def _session_in(state: str, exam, student, proctor) -> ExamSession:
    session = session_start(exam=exam, user=student)
    if state == "paused":
        session = session_pause(session=session, by=proctor, reason="noise outside")
    elif state == "submitted":
        session = session_submit(session=session, answers={})
    elif state == "flagged":
        session = session_terminate(session=session, by=proctor, reason="phone", reason_code="left_seat")
    assert state_of(session) == State(state)
    return session


def _request(move: str, session: ExamSession, *, api_client, student, proctor):
    if move == "submit":
        return api_client(student).post(
            f"/api/exams/{session.exam_id}/submit", {"answers": {}, "time_taken": 60}, format="json"
        )
    body = {
        "terminate": {"reason": "phone on the desk", "reason_code": "left_seat"},
        "pause": {"reason": "fire alarm"},
        "resume": {},
        "reset": {"reason": "wrong student"},
    }[move]
    return api_client(proctor).post(f"/api/exams/sessions/{session.pk}/{move}", body, format="json")


@pytest.mark.parametrize("state", STATES)
@pytest.mark.parametrize("move", REST_MOVES)
def test_every_move_over_rest_follows_the_table(move, state, exam, student, proctor, api_client):
    session = _session_in(state, exam, student, proctor)
    response = _request(move, session, api_client=api_client, student=student, proctor=proctor)
    session.refresh_from_db()
    if (move, state) in ALLOWED:
        assert response.status_code == 200, response.json()
        assert state_of(session).value in ALLOWED[(move, state)]
    elif (move, state) in NOT_A_MOVE:
        assert response.status_code == 200, response.json()
        assert state_of(session) == State(state)
    else:
        assert response.status_code == 409, response.json()
        assert response.json()["details"]["code"] == REFUSED[(move, state)]
        assert state_of(session) == State(state), "a refused move changed nothing"


def test_a_move_outside_its_row_is_refused_with_the_reason():
    """Ending a session some other way than the table says is refused, not written (a bug's guard)."""
    session = ExamSession(status="in_progress")
    with pytest.raises(SessionMoveRefused) as refused:
        session_move(session, Move.TERMINATE, to=State.SUBMITTED, at=None)
    assert refused.value.status_code == 409
    assert refused.value.details == {
        "code": "session_move_refused",
        "move": "terminate",
        "from": "running",
        "to": "submitted",
    }
    assert session.status == "in_progress"


# --- no status move bypasses the table -----------------------------------------------------------

GUARDED = {"status", "paused_at"}
SOURCES = ("accounts", "exams", "monitoring", "scoring", "exampulse", "benchmarks")


def _writes_outside_the_table(path: Path) -> list[str]:
    """Every write of a session's status or pause in one file: assignments to `<x>.status` or
    `<x>.paused_at`, setattr with those names, and `ExamSession` queryset updates naming them."""
    tree = ast.parse(path.read_text(), filename=str(path))
    found = []
    for node in ast.walk(tree):
        targets = []
        if isinstance(node, ast.Assign):
            targets = node.targets
        elif isinstance(node, (ast.AugAssign, ast.AnnAssign)):
            targets = [node.target]
        for target in targets:
            if isinstance(target, ast.Attribute) and target.attr in GUARDED:
                found.append(f"{path.relative_to(ROOT)}:{node.lineno} assigns .{target.attr}")
        if not isinstance(node, ast.Call):
            continue
        func = node.func
        if isinstance(func, ast.Name) and func.id == "setattr" and len(node.args) >= 2:
            name = node.args[1]
            if isinstance(name, ast.Constant) and name.value in GUARDED:
                found.append(f"{path.relative_to(ROOT)}:{node.lineno} setattr {name.value}")
        if isinstance(func, ast.Attribute) and func.attr in {"update", "bulk_update", "update_or_create"}:
            on_sessions = "ExamSession" in ast.unparse(func.value)
            keywords = {k.arg for k in node.keywords} & GUARDED
            fields = {c.value for c in ast.walk(node) if isinstance(c, ast.Constant)} & GUARDED
            if on_sessions and (keywords or (func.attr == "bulk_update" and fields)):
                found.append(f"{path.relative_to(ROOT)}:{node.lineno} {func.attr}() writes {keywords or fields}")
    return found


def _source_files() -> list[Path]:
    return [path for package in SOURCES for path in (ROOT / package).rglob("*.py") if "migrations" not in path.parts]


def test_no_code_moves_a_session_status_outside_the_table():
    statuses = ROOT / "exams" / "statuses.py"
    # The scan sees the table's own writes, so it is looking at the right thing.
    assert _writes_outside_the_table(statuses), "the scan found no write even in exams/statuses.py"
    files = _source_files()
    assert len(files) > 100
    bypasses = [write for path in files if path != statuses for write in _writes_outside_the_table(path)]
    assert bypasses == [], "status and pause change only through exams.statuses.session_move:\n" + "\n".join(bypasses)
