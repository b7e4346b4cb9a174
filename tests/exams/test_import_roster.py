"""manage.py import_roster: enrol a CSV class list, create missing students, report bad rows by line."""

from __future__ import annotations

import io
import re
from urllib.parse import parse_qs, urlparse

import pytest
from django.core import mail
from django.core.management import CommandError, call_command

from accounts.models import AuditEntry, User
from exams.models import Course, Enrollment
from tests.factories import ProctorFactory, StudentFactory

pytestmark = pytest.mark.django_db
CONSOLE = "django.core.mail.backends.console.EmailBackend"
LOCMEM = "django.core.mail.backends.locmem.EmailBackend"


@pytest.fixture
def course() -> Course:
    return Course.objects.create(code="BIO-1", name="Biology")


@pytest.fixture
def printing(settings):
    settings.EMAIL_BACKEND = CONSOLE


def run(path, *args, code="BIO-1") -> tuple[str, str]:
    out, err = io.StringIO(), io.StringIO()
    call_command("import_roster", str(path), "--course", code, *args, stdout=out, stderr=err)
    return out.getvalue(), err.getvalue()


def write(tmp_path, text: str, *, encoding="utf-8", name="roster.csv"):
    path = tmp_path / name
    path.write_bytes(text.encode(encoding))
    return path


def test_existing_students_are_enrolled_and_missing_ones_created_with_an_unusable_password(tmp_path, course, printing):
    existing = StudentFactory(email="old@example.org")
    path = write(tmp_path, "email,name,roll_number\nOld@Example.org,Old One,\nnew@example.org,New Student,R-77\n")

    out, err = run(path)

    new = User.objects.get(email="new@example.org")
    assert new.is_student and not new.has_usable_password()
    assert (new.name, new.roll_number) == ("New Student", "R-77")
    assert set(course.students.all()) == {existing, new}
    assert "BIO-1: 2 enrolled (1 new accounts created), 0 already enrolled, 0 errors." in out
    assert err == ""
    audit = AuditEntry.objects.get(action="roster_import")
    assert audit.details["created"] == 1 and audit.details["enrolled"] == 1 and audit.target_id == str(course.pk)


def test_the_printed_link_sets_the_new_students_password_once(tmp_path, course, printing, anon_client):
    out, _ = run(write(tmp_path, "new@example.org,New Student\n"))

    link = re.search(r"new@example.org: (\S+)", out).group(1)
    assert link.startswith("http://127.0.0.1:8000/reset?uid=")
    params = {k: v[0] for k, v in parse_qs(urlparse(link).query).items()}
    body = {**params, "new_password": "Roster-Pulse-2026"}
    assert anon_client.post("/api/auth/password-reset/confirm", body, format="json").status_code == 200
    assert anon_client.post("/api/auth/password-reset/confirm", body, format="json").status_code == 400
    login = {"email": "new@example.org", "password": "Roster-Pulse-2026"}
    assert anon_client.post("/api/auth/login", login, format="json").status_code == 200


def test_with_a_real_email_backend_the_links_are_emailed_not_printed(tmp_path, course, settings):
    settings.EMAIL_BACKEND = LOCMEM

    out, _ = run(write(tmp_path, "a@example.org,Ann\nb@example.org,Bob\n"))

    assert sorted(m.to[0] for m in mail.outbox) == ["a@example.org", "b@example.org"]
    assert "/reset?uid=" in mail.outbox[0].body
    assert "Emailed a set-password link to 2 new account(s)." in out
    assert "uid=" not in out


def test_bad_rows_are_reported_by_line_and_the_rest_still_import(tmp_path, course, printing):
    proctor = ProctorFactory(email="prof@example.org")
    text = (
        "email,name\n"  # line 1: header
        "good1@example.org,Good One\n"  # 2
        "not-an-email,Someone\n"  # 3
        "nameless@example.org,\n"  # 4
        "\n"  # 5: blank, skipped
        "prof@example.org,The Professor\n"  # 6
        "good2@example.org,Good Two,R2,extra\n"  # 7
        "good3@example.org,Good Three\n"  # 8
    )

    out, err = run(write(tmp_path, text))

    assert err.splitlines() == [
        "line 3: invalid email 'not-an-email'",
        "line 4: missing name for nameless@example.org",
        "line 6: prof@example.org belongs to a proctor account; only students are enrolled",
        "line 7: too many columns (expected email,name[,roll_number])",
    ]
    assert sorted(course.students.values_list("email", flat=True)) == ["good1@example.org", "good3@example.org"]
    assert not course.students.filter(pk=proctor.pk).exists()
    assert "2 enrolled (2 new accounts created), 0 already enrolled, 4 errors." in out


def test_a_rerun_changes_nothing_and_creates_no_new_links(tmp_path, course, printing):
    path = write(tmp_path, "a@example.org,Ann\nb@example.org,Bob\n")
    run(path)

    out, _ = run(path)

    assert "0 enrolled (0 new accounts created), 2 already enrolled, 0 errors." in out
    assert "uid=" not in out
    assert User.objects.count() == 2 and Enrollment.objects.count() == 2


def test_the_header_is_optional_and_a_utf8_bom_is_handled(tmp_path, course, printing):
    path = write(tmp_path, "\ufeffemail,name\nzoe@example.org,Zoë Ångström\n")

    _, err = run(path)

    assert err == ""
    assert course.students.get().name == "Zoë Ångström"


def test_a_file_that_is_not_utf8_is_a_clear_error(tmp_path, course):
    path = write(tmp_path, "email,name\nzoe@example.org,Zoë\n", encoding="latin-1")

    with pytest.raises(CommandError, match="not UTF-8"):
        run(path)
    assert not User.objects.exists()


def test_an_unknown_course_or_missing_file_is_a_clear_error(tmp_path, course):
    path = write(tmp_path, "a@example.org,Ann\n")

    with pytest.raises(CommandError, match="No course with code 'NOPE'"):
        run(path, code="NOPE")
    with pytest.raises(CommandError, match="no such file"):
        run(tmp_path / "missing.csv")


def test_the_import_is_audited_to_the_staff_member_named_by_by(tmp_path, course, printing):
    proctor = ProctorFactory()

    run(write(tmp_path, "a@example.org,Ann\n"), "--by", proctor.email)

    assert AuditEntry.objects.get(action="roster_import").actor == proctor
    assert Enrollment.objects.get().added_by == proctor
    with pytest.raises(CommandError, match="not a proctor"):
        run(write(tmp_path, "b@example.org,Bob\n"), "--by", "a@example.org")


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_a_long_file_imports_with_a_progress_bar_on_a_terminal(tmp_path, course, printing):
    rows = "".join(f"s{i}@example.org,Student {i}\n" for i in range(250))
    out, err = io.StringIO(), Terminal()

    call_command("import_roster", str(write(tmp_path, rows)), "--course", "BIO-1", stdout=out, stderr=err)

    assert course.students.count() == 250
    assert "Importing" in err.getvalue() and "250/250" in err.getvalue()  # the bar, on stderr
    assert "250 enrolled (250 new accounts created)" in out.getvalue()


def test_control_characters_are_refused_per_row_and_every_other_row_finishes(tmp_path, course, printing):
    # A NUL in a name crashed the run part-way on PostgreSQL (DataError) and SQLite stored it silently.
    path = write(
        tmp_path,
        "email,name,roll_number\n"
        "first@example.org,First Student,R-1\n"
        "nul@example.org,Bad\x00Name,R-2\n"
        "tab@example.org,Tab Student,R\t3\n"
        'break@example.org,"Line\nBreak",R-4\n'
        "last@example.org,Last Student,R-5\n",
    )

    out, err = run(path)

    assert set(course.students.values_list("email", flat=True)) == {"first@example.org", "last@example.org"}
    assert not User.objects.filter(email__in=["nul@example.org", "tab@example.org", "break@example.org"]).exists()
    assert "line 3: control character U+0000 in the name" in err
    assert "line 4: control character U+0009 in the roll_number" in err
    assert "line 5: control character U+000A in the name" in err
    assert "BIO-1: 2 enrolled (2 new accounts created), 0 already enrolled, 3 errors." in out
    assert re.search(r"first@example.org: http\S+", out) and re.search(r"last@example.org: http\S+", out)
    audit = AuditEntry.objects.get(action="roster_import")
    assert audit.details["errors"] == 3 and audit.details["created"] == 2
    assert any("U+0000" in line for line in audit.details["error_lines"])


def test_a_row_the_database_refuses_costs_that_row_only(tmp_path, course, printing, monkeypatch):
    from django.db import DataError, transaction

    from exams.management.commands import import_roster

    real = import_roster.course_roster_import_row

    def refusing(**kwargs):
        if kwargs["email"] == "odd@example.org":
            with transaction.atomic():  # the row's own transaction: the account is made, then refused
                real(**kwargs)
                raise DataError("invalid byte sequence")
        return real(**kwargs)

    monkeypatch.setattr(import_roster, "course_roster_import_row", refusing)
    path = write(tmp_path, "a@example.org,Student A\nodd@example.org,Odd One\nb@example.org,Student B\n")

    out, err = run(path)

    assert "line 2: odd@example.org could not be stored (DataError)" in err
    assert set(course.students.values_list("email", flat=True)) == {"a@example.org", "b@example.org"}
    assert "2 enrolled (2 new accounts created), 0 already enrolled, 1 errors." in out
    assert re.search(r"a@example.org: http\S+", out) and re.search(r"b@example.org: http\S+", out)
    assert AuditEntry.objects.get(action="roster_import").details["errors"] == 1
