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
    """Only contact details change here. Another key of the user (email, role, accommodations...) sent back
    unchanged, as a client that PUTs the whole `/me` object does, is ignored; a changed one is refused.

    Pass the user as `context={"user": ...}`; without it every other key is refused.
    """

    # Sent back by round-tripping clients; changes with every save, so any value is ignored.
    IGNORED = frozenset({"updated_at"})

    name = serializers.CharField(max_length=150, required=False)
    roll_number = serializers.CharField(max_length=50, required=False, allow_blank=True)
    department = serializers.CharField(max_length=100, required=False, allow_blank=True)
    semester = serializers.IntegerField(min_value=1, max_value=20, required=False, allow_null=True)
    phone = serializers.CharField(max_length=30, required=False, allow_blank=True)

    def _unchanged(self, key: str, value) -> bool:
        user = self.context.get("user")
        if user is None or key not in UserOutputSerializer.Meta.fields:
            return False
        if key in self.IGNORED:
            return True
        current = UserOutputSerializer(user).data[key]
        if key == "email":
            # Login is case-insensitive, so Ann@X.org is the same address as ann@x.org.
            return isinstance(value, str) and value.strip().lower() == str(current).lower()
        return value == current

    def validate(self, attrs):
        extra = set(self.initial_data) - set(self.fields) if isinstance(self.initial_data, dict) else set()
        refused = sorted(key for key in extra if not self._unchanged(key, self.initial_data[key]))
        if refused:
            raise serializers.ValidationError({key: ["This field cannot be changed here."] for key in refused})
        return attrs


class StudentListQuerySerializer(serializers.Serializer):
    search = serializers.CharField(max_length=100, required=False, allow_blank=True)


class AccommodationsSchemaSerializer(serializers.Serializer):
    """Documents the body for OpenAPI; `accounts.accommodations.validate_accommodations` is the validator."""

    extra_time_pct = serializers.IntegerField(min_value=0, max_value=400, required=False)
    extra_minutes = serializers.IntegerField(min_value=0, max_value=1440, required=False)
    exempt_signals = serializers.ListField(child=serializers.CharField(), required=False)
    note = serializers.CharField(max_length=1000, required=False, allow_blank=True)


class PasswordResetInputSerializer(serializers.Serializer):
    email = serializers.EmailField(max_length=254)


class PasswordResetConfirmInputSerializer(serializers.Serializer):
    uid = serializers.CharField(max_length=64)
    token = serializers.CharField(max_length=128)
    new_password = serializers.CharField(max_length=128, trim_whitespace=False)
