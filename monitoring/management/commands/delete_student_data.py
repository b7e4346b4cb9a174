"""`manage.py delete_student_data --email E`: erase one student's behavioural data on request (audited)."""

from __future__ import annotations

from django.apps import apps
from django.core.management.base import BaseCommand, CommandError

from accounts.models import Role, User
from exampulse.platform.errors import DomainError
from monitoring.privacy import student_data_delete, student_data_summary


class Command(BaseCommand):
    help = (
        "Erase a student's behavioural data (events, alerts, session aggregates, baseline) and every copy of it "
        "(raised hands, alert emails, webhook deliveries). Exam results, review verdicts and the audit trail "
        "stay. Reports first; deletes only with --yes."
    )

    def add_arguments(self, parser):
        who = parser.add_mutually_exclusive_group(required=True)
        who.add_argument("--email", help="The student's email.")
        who.add_argument("--user-id", type=int, help="The student's id.")
        parser.add_argument("--by", required=False, help="Email of the staff member acting (recorded in the audit).")
        parser.add_argument("--reason", default="", help="Why (e.g. the request's reference); recorded in the audit.")
        parser.add_argument("--yes", "--execute", action="store_true", dest="execute", help="Really delete.")

    def handle(self, *args, email, user_id, by, reason, execute, **options):
        student = User.objects.filter(email__iexact=email).first() if email else User.objects.filter(pk=user_id).first()
        if student is None or student.role != Role.STUDENT:
            raise CommandError("No such student.")
        actor = None
        if by:
            actor = User.objects.filter(email__iexact=by, is_staff=True).first()
            if actor is None:
                raise CommandError(f"--by {by!r} is not a staff account.")
        summary = student_data_summary(student=student)
        copies = "".join(
            f", {count} {apps.get_model(label)._meta.verbose_name_plural}" for label, count in summary.copies.items()
        )
        counts = (
            f"{summary.events} event(s), {summary.alerts} alert(s) across {summary.sessions} session(s), "
            f"{'a' if summary.baseline else 'no'} baseline{copies}"
        )
        if not execute:
            self.stdout.write(f"Dry run: would erase {counts} of {student.email}. Run again with --yes to erase.")
            return
        try:
            student_data_delete(student=student, by=actor, reason=reason)
        except DomainError as exc:
            raise CommandError(exc.message) from exc
        self.stdout.write(self.style.SUCCESS(f"Erased {counts} of {student.email}; recorded in the audit trail."))
