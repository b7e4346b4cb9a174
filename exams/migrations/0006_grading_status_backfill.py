"""Set `grading_status` on sessions that finished before it existed (0005 gave every row `auto`).

A finished, counted session of an exam with short questions is `pending` until its grading
JSON gives each short question points, then `complete`; reset (voided) attempts and open
sessions are left alone: they are never "needs grading".
"""

from django.db import migrations

from exams.questions import grading_status_of

BATCH = 500


def backfill_grading_status(apps, schema_editor):
    ExamSession = apps.get_model("exams", "ExamSession")
    finished = (
        ExamSession.objects.exclude(status="in_progress")
        .filter(voided=False)
        .select_related("exam")
        .only("id", "grading", "grading_status", "exam__questions")
        .order_by("pk")
    )
    changed = []
    for session in finished.iterator(chunk_size=BATCH):
        status = grading_status_of(session.exam.questions or [], session.grading)
        if status != session.grading_status:
            session.grading_status = status
            changed.append(session)
        if len(changed) >= BATCH:
            ExamSession.objects.bulk_update(changed, ["grading_status"])
            changed = []
    if changed:
        ExamSession.objects.bulk_update(changed, ["grading_status"])


class Migration(migrations.Migration):
    dependencies = [
        ("exams", "0005_review_and_grading"),
    ]

    operations = [
        migrations.RunPython(backfill_grading_status, migrations.RunPython.noop),
    ]
