"""Accommodations per course and per exam; sessions keep what they were timed and scored with.

Backfill, the best record there is: every session of a student with institution-wide
accommodations gets them as its applied accommodations (marked `backfilled`); a session in progress
now gets a snapshot of its student's baseline as it stands (marked `backfilled`). Finished sessions
keep `{}` for the baseline: a rescore of one says it used the student's baseline at that time.
The "Proctors" group may view course accommodations, exam allowances and baseline samples in the
admin (changes go through the audited REST endpoints).
"""

from django.contrib.auth.management import create_permissions
from django.utils import timezone

import accounts.accommodations
import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models


GROUP = "Proctors"
VIEW = [("exams", "courseaccommodation"), ("exams", "examallowance"), ("scoring", "baselinesample")]


def backfill_accommodations(apps, schema_editor):
    User = apps.get_model("accounts", "User")
    ExamSession = apps.get_model("exams", "ExamSession")
    for user in User.objects.exclude(accommodations={}).only("pk", "accommodations").iterator(chunk_size=500):
        values = dict(user.accommodations or {})
        if not values:
            continue
        applied = {
            "extra_time_pct": int(values.get("extra_time_pct", 0)),
            "extra_minutes": int(values.get("extra_minutes", 0)),
            "exempt_signals": sorted(values.get("exempt_signals", [])),
            "rule": "sum",
            "backfilled": True,
            "sources": [
                {
                    "level": "institution",
                    "values": {k: v for k, v in values.items() if k != "note"},
                    "note": values.get("note", ""),
                }
            ],
        }
        ExamSession.objects.filter(user_id=user.pk).update(accommodations=applied)


def backfill_open_snapshots(apps, schema_editor):
    # The pure snapshot builder (no Django): the same JSON new sessions get at their start.
    from scoring.snapshot import detector_params, snapshot_build

    Baseline = apps.get_model("scoring", "Baseline")
    ExamSession = apps.get_model("exams", "ExamSession")
    now = timezone.now().isoformat()
    open_users = ExamSession.objects.filter(status="in_progress").values("user_id")
    for baseline in Baseline.objects.filter(user_id__in=open_users, sample_count__gt=0).iterator(chunk_size=200):
        samples = (baseline.features or {}).get("samples") or []
        ready = baseline.sample_count >= 3
        snapshot = snapshot_build(
            taken_at=now,
            baseline_id=baseline.pk,
            version=f"{baseline.pk}:{baseline.sample_count}:{baseline.updated_at.isoformat()}",
            status="ready" if ready else "collecting",
            ready=ready,
            ready_after=3,
            sample_count=baseline.sample_count,
            means={
                "typing_speed_wpm": baseline.typing_speed_wpm,
                "mouse_speed_pxs": baseline.mouse_speed_pxs,
                "avg_question_time_sec": baseline.avg_question_time_sec,
                "tab_switch_rate": baseline.tab_switch_rate,
            },
            provenance={"legacy": baseline.sample_count},
            sample_ids={},
            detector=detector_params(samples),
        )
        snapshot["backfilled"] = True
        ExamSession.objects.filter(user_id=baseline.user_id, status="in_progress").update(baseline_snapshot=snapshot)


def grant_views(apps, schema_editor):
    for label in ("exams", "scoring"):
        app_config = apps.get_app_config(label)
        app_config.models_module = True
        create_permissions(app_config, apps=apps, verbosity=0)
        app_config.models_module = None
    Permission = apps.get_model("auth", "Permission")
    group, _ = apps.get_model("auth", "Group").objects.get_or_create(name=GROUP)
    group.permissions.add(
        *[Permission.objects.get(content_type__app_label=app, codename=f"view_{model}") for app, model in VIEW]
    )


class Migration(migrations.Migration):

    dependencies = [
        ('exams', '0010_exam_show_risk_to_student'),
        ('scoring', '0002_baseline_samples'),
        ('auth', '0012_alter_user_first_name_max_length'),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.AddField(
            model_name='examsession',
            name='accommodations',
            field=models.JSONField(blank=True, default=dict),
        ),
        migrations.AddField(
            model_name='examsession',
            name='baseline_snapshot',
            field=models.JSONField(blank=True, default=dict),
        ),
        migrations.CreateModel(
            name='CourseAccommodation',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('accommodations', models.JSONField(blank=True, default=dict, validators=[accounts.accommodations.validate_accommodations])),
                ('created_at', models.DateTimeField(auto_now_add=True)),
                ('updated_at', models.DateTimeField(auto_now=True)),
                ('course', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='accommodations', to='exams.course')),
                ('student', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='course_accommodations', to=settings.AUTH_USER_MODEL)),
                ('updated_by', models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='+', to=settings.AUTH_USER_MODEL)),
            ],
            options={
                'db_table': 'course_accommodations',
                'indexes': [models.Index(fields=['student', 'course'], name='course_accommodation_student')],
                'constraints': [models.UniqueConstraint(fields=('course', 'student'), name='course_accommodation_once')],
            },
        ),
        migrations.CreateModel(
            name='ExamAllowance',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('accommodations', models.JSONField(blank=True, default=dict, validators=[accounts.accommodations.validate_accommodations])),
                ('created_at', models.DateTimeField(auto_now_add=True)),
                ('updated_at', models.DateTimeField(auto_now=True)),
                ('exam', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='allowances', to='exams.exam')),
                ('student', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='exam_allowances', to=settings.AUTH_USER_MODEL)),
                ('updated_by', models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='+', to=settings.AUTH_USER_MODEL)),
            ],
            options={
                'db_table': 'exam_allowances',
                'indexes': [models.Index(fields=['student', 'exam'], name='exam_allowance_student')],
                'constraints': [models.UniqueConstraint(fields=('exam', 'student'), name='exam_allowance_once')],
            },
        ),
        migrations.RunPython(backfill_accommodations, migrations.RunPython.noop),
        migrations.RunPython(backfill_open_snapshots, migrations.RunPython.noop),
        migrations.RunPython(grant_views, migrations.RunPython.noop),
    ]
