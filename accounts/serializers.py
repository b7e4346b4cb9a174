"""Input and output shapes of the auth API. Each API has its own; none is shared for writes."""

from __future__ import annotations

from rest_framework import serializers

from accounts.models import User


class UserOutputSerializer(serializers.ModelSerializer):
    class Meta:
        model = User
        fields = (
            "id",
            "name",
            "email",
            "roll_number",
            "department",
            "semester",
            "phone",
            "role",
            "accommodations",
            "created_at",
            "updated_at",
        )
        read_only_fields = fields


class RegisterInputSerializer(serializers.Serializer):
    name = serializers.CharField(max_length=150, trim_whitespace=True)
    email = serializers.EmailField(max_length=254)
    password = serializers.CharField(max_length=128, write_only=True, trim_whitespace=False)
    roll_number = serializers.CharField(max_length=50, required=False, allow_blank=True)
    department = serializers.CharField(max_length=100, required=False, allow_blank=True)
    semester = serializers.IntegerField(min_value=1, max_value=20, required=False, allow_null=True)
    phone = serializers.CharField(max_length=30, required=False, allow_blank=True)


class LoginInputSerializer(serializers.Serializer):
    email = serializers.EmailField(max_length=254)
    password = serializers.CharField(max_length=128, trim_whitespace=False)


class RefreshInputSerializer(serializers.Serializer):
    refresh = serializers.CharField(max_length=4096)


class ProfileInputSerializer(serializers.Serializer):
    """Only contact details; any other key (role, email, accommodations) is refused, not ignored."""

    name = serializers.CharField(max_length=150, required=False)
    roll_number = serializers.CharField(max_length=50, required=False, allow_blank=True)
    department = serializers.CharField(max_length=100, required=False, allow_blank=True)
    semester = serializers.IntegerField(min_value=1, max_value=20, required=False, allow_null=True)
    phone = serializers.CharField(max_length=30, required=False, allow_blank=True)

    def validate(self, attrs):
        unknown = set(self.initial_data) - set(self.fields) if isinstance(self.initial_data, dict) else set()
        if unknown:
            raise serializers.ValidationError({key: ["This field cannot be changed here."] for key in sorted(unknown)})
        return attrs


class StudentListQuerySerializer(serializers.Serializer):
    search = serializers.CharField(max_length=100, required=False, allow_blank=True)


class AccommodationsSchemaSerializer(serializers.Serializer):
    """Documents the body for OpenAPI; `accounts.accommodations.validate_accommodations` is the validator."""

    extra_time_pct = serializers.IntegerField(min_value=0, max_value=400, required=False)
    extra_minutes = serializers.IntegerField(min_value=0, max_value=1440, required=False)
    exempt_signals = serializers.ListField(child=serializers.CharField(), required=False)
    note = serializers.CharField(max_length=1000, required=False, allow_blank=True)
