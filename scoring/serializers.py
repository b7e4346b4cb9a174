"""Baseline API shapes: one self-reported sample in, the baseline with its status and provenance out."""

from __future__ import annotations

from rest_framework import serializers

# Sane human ranges; a value outside them is a client bug, not a baseline.
SAMPLE_RANGES = {
    "typing_speed_wpm": (1.0, 300.0),
    "mouse_speed_pxs": (1.0, 20000.0),
    "avg_question_time_sec": (1.0, 7200.0),
    "tab_switch_rate": (0.0, 1000.0),
    "key_hold_ms": (10.0, 2000.0),
    "key_latency_ms": (10.0, 5000.0),
}


class BaselineSampleInputSerializer(serializers.Serializer):
    typing_speed_wpm = serializers.FloatField(required=False, min_value=1.0, max_value=300.0)
    mouse_speed_pxs = serializers.FloatField(required=False, min_value=1.0, max_value=20000.0)
    avg_question_time_sec = serializers.FloatField(required=False, min_value=1.0, max_value=7200.0)
    tab_switch_rate = serializers.FloatField(required=False, min_value=0.0, max_value=1000.0)
    key_hold_ms = serializers.FloatField(required=False, min_value=10.0, max_value=2000.0)
    key_latency_ms = serializers.FloatField(required=False, min_value=10.0, max_value=5000.0)

    def validate(self, attrs):
        unknown = set(self.initial_data) - set(self.fields)
        if unknown:
            raise serializers.ValidationError(
                f"Unknown fields: {', '.join(sorted(map(str, unknown)))}. Allowed: {', '.join(self.fields)}."
            )
        if not any(name in attrs for name in SAMPLE_RANGES if name != "tab_switch_rate"):
            raise serializers.ValidationError("A sample needs at least one measured value besides tab_switch_rate.")
        return attrs


class ResetInputSerializer(serializers.Serializer):
    reason = serializers.CharField(max_length=1000, required=False, allow_blank=True, default="")


class BaselineSampleOutputSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    source = serializers.ChoiceField(choices=["calibration", "self_reported", "legacy"])
    calibration_session_id = serializers.IntegerField(allow_null=True)
    via = serializers.CharField(help_text="The door it came through, e.g. POST /api/baselines or calibration exam 7.")
    recorded_at = serializers.CharField()
    discarded = serializers.BooleanField(help_text="Discarded by a reset: kept for the record, out of the baseline.")
    values = serializers.DictField(child=serializers.FloatField())


class BaselineProvenanceSerializer(serializers.Serializer):
    calibration = serializers.IntegerField(required=False)
    self_reported = serializers.IntegerField(required=False)
    legacy = serializers.IntegerField(required=False)
    calibration_sessions = serializers.ListField(child=serializers.IntegerField(), required=False)
    first_at = serializers.CharField(allow_null=True, required=False)
    last_at = serializers.CharField(allow_null=True, required=False)


class BaselineOutputSerializer(serializers.Serializer):
    user_id = serializers.IntegerField()
    status = serializers.ChoiceField(choices=["missing", "collecting", "ready", "reset"])
    sample_count = serializers.IntegerField()
    ready_after = serializers.IntegerField()
    typing_speed_wpm = serializers.FloatField(allow_null=True)
    mouse_speed_pxs = serializers.FloatField(allow_null=True)
    avg_question_time_sec = serializers.FloatField(allow_null=True)
    tab_switch_rate = serializers.FloatField(allow_null=True)
    key_hold_ms = serializers.FloatField(allow_null=True)
    key_latency_ms = serializers.FloatField(allow_null=True)
    provenance = BaselineProvenanceSerializer()
    samples = BaselineSampleOutputSerializer(many=True, help_text="The newest 50 samples, each with its provenance.")
    reset_at = serializers.CharField(allow_null=True)
    updated_at = serializers.CharField(allow_null=True)
