"""Sessions remember the course their exam was in when they started; an exam's creator may be gone.

A student keeps reaching a session they started while enrolled in that course, even if the exam
moves to another course (exams.scoping.own_session_scope). Existing sessions take their exam's
course now, the best record there is.
"""

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models
from django.db.models import OuterRef, Subquery


def backfill(apps, schema_editor):
    Exam = apps.get_model("exams", "Exam")
    ExamSession = apps.get_model("exams", "ExamSession")
    ExamSession.objects.update(course_at_start_id=Subquery(Exam.objects.filter(pk=OuterRef("exam_id")).values("course_id")[:1]))


class Migration(migrations.Migration):
    dependencies = [
        ("exams", "0008_proctors_course_permissions"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.AddField(
            model_name="examsession",
            name="course_at_start",
            field=models.ForeignKey(
                blank=True,
                null=True,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="+",
                to="exams.course",
            ),
        ),
        migrations.RunPython(backfill, migrations.RunPython.noop),
        # An exam whose creator's account was deleted must still validate when its staff change it.
        migrations.AlterField(
            model_name="exam",
            name="created_by",
            field=models.ForeignKey(
                blank=True,
                null=True,
                on_delete=django.db.models.deletion.SET_NULL,
                related_name="exams_created",
                to=settings.AUTH_USER_MODEL,
            ),
        ),
    ]
