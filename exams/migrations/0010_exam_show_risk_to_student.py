"""Exam.show_risk_to_student: off by default, so a student's acks carry no live risk."""

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("exams", "0009_session_course_at_start"),
    ]

    operations = [
        migrations.AddField(
            model_name="exam",
            name="show_risk_to_student",
            field=models.BooleanField(default=False),
        ),
    ]
