"""Baseline samples get their own rows with provenance; the samples kept so far become `legacy` rows.

A Baseline row kept its newest 200 samples in `features["samples"]` with no record of where they
came from. Each becomes a BaselineSample with source `legacy`, dated when its baseline last changed.
The Baseline rows are left as they are (their running means span every sample ever added, older
ones included); the next sample re-derives a row from its samples.
"""

import math

import django.db.models.deletion
import django.utils.timezone
from django.conf import settings
from django.db import migrations, models


FIELDS = ("typing_speed_wpm", "mouse_speed_pxs", "avg_question_time_sec", "tab_switch_rate", "key_hold_ms", "key_latency_ms")


def _number(value):
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        return None
    return float(value)


def legacy_samples(apps, schema_editor):
    Baseline = apps.get_model("scoring", "Baseline")
    BaselineSample = apps.get_model("scoring", "BaselineSample")
    rows = []
    for baseline in Baseline.objects.exclude(sample_count=0).iterator(chunk_size=500):
        for sample in (baseline.features or {}).get("samples") or []:
            if isinstance(sample, dict):
                values = {field: _number(sample.get(field)) for field in FIELDS}
                rows.append(
                    BaselineSample(
                        user_id=baseline.user_id,
                        source="legacy",
                        via="kept before provenance (migration)",
                        recorded_at=baseline.updated_at,
                        **values,
                    )
                )
        if len(rows) >= 5000:
            BaselineSample.objects.bulk_create(rows)
            rows = []
    BaselineSample.objects.bulk_create(rows)


class Migration(migrations.Migration):

    dependencies = [
        ('scoring', '0001_initial'),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.CreateModel(
            name='BaselineSample',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('source', models.CharField(choices=[('calibration', 'Calibration sitting (measured by the server)'), ('self_reported', 'Self-reported (POST /api/baselines)'), ('legacy', 'Recorded before provenance was kept')], max_length=16)),
                ('calibration_session_id', models.PositiveBigIntegerField(blank=True, db_index=True, null=True)),
                ('via', models.CharField(blank=True, default='', max_length=100)),
                ('recorded_at', models.DateTimeField(default=django.utils.timezone.now)),
                ('discarded_at', models.DateTimeField(blank=True, null=True)),
                ('typing_speed_wpm', models.FloatField(blank=True, null=True)),
                ('mouse_speed_pxs', models.FloatField(blank=True, null=True)),
                ('avg_question_time_sec', models.FloatField(blank=True, null=True)),
                ('tab_switch_rate', models.FloatField(blank=True, null=True)),
                ('key_hold_ms', models.FloatField(blank=True, null=True)),
                ('key_latency_ms', models.FloatField(blank=True, null=True)),
                ('user', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='baseline_samples', to=settings.AUTH_USER_MODEL)),
            ],
            options={
                'db_table': 'baseline_samples',
                'ordering': ['recorded_at', 'id'],
                'indexes': [models.Index(fields=['user', 'recorded_at'], name='baseline_samples_by_user')],
            },
        ),
        migrations.RunPython(legacy_samples, migrations.RunPython.noop),
    ]
