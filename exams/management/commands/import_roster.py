"""manage.py import_roster --course CODE FILE.csv: enrol a class list, creating missing student accounts.

Columns `email,name[,roll_number]`; a first row whose first cell is "email" is a header. Each row is
checked and stored on its own: a bad row (invalid email, missing name, a control character, a
proctor's email, one the database refuses) is reported with its line number and the reason, and the
rest still import; the summary, the audit entry and every created account's link come whatever a
row does. Re-running the same file changes nothing.

New accounts get an unusable password and a one-time set-password link. The rule for delivering
it: with the console or dummy email backend (development, the default) the links are printed;
with any other backend (SMTP in production) they are emailed, and only the count is printed.
"""

from __future__ import annotations

import csv
import io
import unicodedata
from pathlib import Path

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError
from django.core.validators import validate_email
from django.db import DatabaseError

from accounts.models import User
from accounts.services import audit_record, password_link_send, password_reset_link
from exampulse.platform.errors import DomainError
from exampulse.platform.progress import progress_bar
from exams.courses import course_roster_import_row, normalise_email
from exams.models import Course

# Backends that do not deliver mail: links are printed instead of sent.
PRINTING_BACKENDS = {
    "django.core.mail.backends.console.EmailBackend",
    "django.core.mail.backends.dummy.EmailBackend",
}
MAX_NAME = 150
MAX_ROLL = 50


def control_character(value: str) -> str | None:
    """The first control character in the text (NUL, line breaks, tabs, DEL, C1 codes, line and
    paragraph separators), or None. No name or email needs one, and PostgreSQL cannot store NUL."""
    for char in value:
        if unicodedata.category(char) in ("Cc", "Zl", "Zp"):
            return char
    return None


def links_are_emailed() -> bool:
    return settings.EMAIL_BACKEND not in PRINTING_BACKENDS


class Command(BaseCommand):
    help = "Enrol a CSV class list (email,name[,roll_number]) in a course; missing students are created."

    def add_arguments(self, parser):
        parser.add_argument("file", help="CSV file, UTF-8: email,name[,roll_number]; a header row is optional")
        parser.add_argument("--course", required=True, help="the course's code")
        parser.add_argument("--by", help="email of the proctor or superuser running the import (for the audit trail)")
        parser.add_argument("--no-progress", action="store_true", help="No progress bar (it shows only on a terminal).")

    def handle(self, *args, file: str, course: str, by: str | None, no_progress: bool = False, **options):
        target = Course.objects.filter(code__iexact=course.strip()).first()
        if target is None:
            raise CommandError(f"No course with code {course!r}.")
        actor = None
        if by:
            actor = User.objects.filter(email__iexact=by.strip()).first()
            if actor is None or not (actor.is_proctor or actor.is_superuser):
                raise CommandError(f"--by {by!r} is not a proctor's or superuser's email.")
        rows = self._read(Path(file))

        counts = {"created": 0, "enrolled": 0, "already": 0, "errors": 0}
        errors: list[str] = []
        new_accounts: list[tuple[User, str]] = []
        progress = progress_bar(rows, stream=self.stderr, desc="Importing", unit="row", enabled=not no_progress)
        try:
            for line, cells in progress:
                problem = self._import_row(target, actor, cells, counts, new_accounts)
                if problem is not None:
                    counts["errors"] += 1
                    errors.append(f"line {line}: {problem}")
        finally:
            # Whatever a row did, and even if the run is cut short: every account created so far gets
            # its link, and the import is reported and audited.
            for message in errors:
                self.stderr.write(message)
            self._deliver(new_accounts)
            audit_record(
                actor=actor,
                action="roster_import",
                target=target,
                details={**counts, "file": Path(file).name, "error_lines": errors[:200]},
            )
            self.stdout.write(
                f"{target.code}: {counts['enrolled'] + counts['created']} enrolled "
                f"({counts['created']} new accounts created), {counts['already']} already enrolled, "
                f"{counts['errors']} errors."
            )

    def _import_row(
        self, course: Course, actor: User | None, cells: list[str], counts: dict, new_accounts: list
    ) -> str | None:
        """Import one row; returns why it was refused, or None. A row's failure never ends the run."""
        problem, email, name, roll = self._check(cells)
        if problem is not None:
            return problem
        try:
            # One transaction per row (the service is atomic): a failing row leaves nothing behind
            # and the connection usable for the next one.
            outcome, user = course_roster_import_row(course=course, by=actor, email=email, name=name, roll_number=roll)
        except (DatabaseError, DomainError) as exc:
            return f"{email} could not be stored ({type(exc).__name__})"
        if outcome == "wrong_role":
            return f"{email} belongs to a proctor account; only students are enrolled"
        counts[outcome] += 1
        if outcome == "created":
            new_accounts.append((user, password_reset_link(user=user)))
        return None

    def _read(self, path: Path) -> list[tuple[int, list[str]]]:
        """(line number, cells) for each non-empty data row; the header, if any, is skipped."""
        try:
            text = path.read_bytes().decode("utf-8-sig")
        except FileNotFoundError as exc:
            raise CommandError(f"{path}: no such file.") from exc
        except UnicodeDecodeError as exc:
            raise CommandError(
                f"{path} is not UTF-8 text (byte {exc.start}); save it as 'CSV UTF-8' and run again."
            ) from exc
        rows = []
        reader = csv.reader(io.StringIO(text, newline=""))
        read = 0
        try:
            for cells in reader:
                # A quoted cell may span lines: a row is reported by the line it starts on.
                line, read = read + 1, reader.line_num
                if not any(cell.strip() for cell in cells):
                    continue
                if not rows and line == 1 and cells[0].strip().lower() == "email":
                    continue  # the header
                rows.append((line, cells))
        except csv.Error as exc:
            raise CommandError(f"{path}, line {reader.line_num}: not valid CSV ({exc}).") from exc
        return rows

    def _check(self, cells: list[str]) -> tuple[str | None, str, str, str]:
        """(problem or None, email, name, roll number) for one row."""
        cells = [cell.strip() for cell in cells] + ["", "", ""]
        email, name, roll = cells[0], cells[1], cells[2]
        if len([c for c in cells[3:] if c]) > 0:
            return "too many columns (expected email,name[,roll_number])", email, name, roll
        for column, value in (("email", email), ("name", name), ("roll_number", roll)):
            bad = control_character(value)
            if bad is not None:
                # Named by code point: the character itself may not print, and PostgreSQL cannot store NUL.
                return f"control character U+{ord(bad):04X} in the {column}", email, name, roll
        try:
            validate_email(email)
        except ValidationError:
            return f"invalid email {email!r}", email, name, roll
        if not name:
            return f"missing name for {email}", email, name, roll
        if len(name) > MAX_NAME or len(roll) > MAX_ROLL:
            return f"name or roll number too long for {email}", email, name, roll
        return None, normalise_email(email), name, roll

    def _deliver(self, new_accounts: list[tuple[User, str]]) -> None:
        if not new_accounts:
            return
        if links_are_emailed():
            for user, link in new_accounts:
                password_link_send(user=user, link=link, new_account=True)
            self.stdout.write(f"Emailed a set-password link to {len(new_accounts)} new account(s).")
            return
        self.stdout.write("Set-password links for the new accounts (each works once; hand them out privately):")
        for user, link in new_accounts:
            self.stdout.write(f"  {user.email}: {link}")
