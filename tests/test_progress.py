"""Progress bars of `rescore`, `purge_events` and `import_roster`: drawn on a terminal, one line
redrawn in place, even on a terminal that reports no size; nothing in logs or with --no-progress."""

from __future__ import annotations

import io
import os
import threading
from contextlib import contextmanager
from datetime import timedelta

import pytest
from django.core.management import call_command
from django.utils import timezone

from exams.models import Course, Exam, ExamSession
from monitoring.models import Event

pytestmark = pytest.mark.django_db


@contextmanager
def terminal():
    """A pseudo-terminal as a command's stderr, and what reached its screen. A new pty reports
    0 columns, like one started by `script` or a runner that gives it no size."""
    master, slave = os.openpty()
    screen = bytearray()

    def read() -> None:
        while True:
            try:
                chunk = os.read(master, 4096)
            except OSError:
                return
            if not chunk:
                return
            screen.extend(chunk)

    reader = threading.Thread(target=read, daemon=True)
    reader.start()
    stream = os.fdopen(slave, "w", encoding="utf-8")
    seen: dict[str, str] = {}
    try:
        yield stream, seen
    finally:
        stream.close()
        reader.join(timeout=5)
        os.close(master)
        seen["text"] = screen.decode("utf-8", "replace")


@pytest.fixture
def sessions(proctor, student):
    exam = Exam.objects.create(name="Bars", duration_minutes=30, created_by=proctor)
    started = timezone.now() - timedelta(days=400)
    for _ in range(3):
        session = ExamSession.objects.create(
            exam=exam, user=student, started_at=started, deadline_at=started + timedelta(hours=1), status="submitted"
        )
        Event.objects.create(session=session, event_type="tab_switch", timestamp=started)
    return exam


def roster(tmp_path):
    Course.objects.create(code="BAR-1", name="Bars")
    path = tmp_path / "roster.csv"
    path.write_text("".join(f"s{i}@example.org,Student {i}\n" for i in range(5)))
    return path


COMMANDS = {
    "rescore": lambda tmp_path: ("rescore",),
    "purge_events": lambda tmp_path: ("purge_events", "--older-than", "30", "--yes"),
    "import_roster": lambda tmp_path: ("import_roster", str(roster(tmp_path)), "--course", "BAR-1"),
}
TOTALS = {"rescore": "3/3", "purge_events": "3/3", "import_roster": "5/5"}


@pytest.mark.parametrize("name", COMMANDS)
def test_a_bar_is_drawn_on_a_terminal_of_unknown_width(name, sessions, tmp_path, settings):
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    with terminal() as (stream, seen):
        call_command(*COMMANDS[name](tmp_path), stdout=io.StringIO(), stderr=stream)
    screen = seen["text"]
    assert TOTALS[name] in screen, repr(screen)
    assert "100%|" in screen and "█" in screen, repr(screen)  # a bar, not the empty line a 0-column width drew
    # Redrawn in place: every refresh starts with a carriage return, and the bar ends with one newline.
    assert screen.count("\n") == 1, repr(screen)
    assert "\x1b[" not in screen  # not coloured as an error line


@pytest.mark.parametrize("name", COMMANDS)
def test_no_bar_in_a_log(name, sessions, tmp_path, settings):
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    log = io.StringIO()
    call_command(*COMMANDS[name](tmp_path), stdout=io.StringIO(), stderr=log)
    assert "%|" not in log.getvalue() and TOTALS[name] not in log.getvalue()


@pytest.mark.parametrize("name", COMMANDS)
def test_no_bar_with_no_progress(name, sessions, tmp_path, settings):
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    with terminal() as (stream, seen):
        call_command(*COMMANDS[name](tmp_path), "--no-progress", stdout=io.StringIO(), stderr=stream)
    assert "%|" not in seen["text"] and TOTALS[name] not in seen["text"]
