"""Input and output shapes of the course API (courses, rosters, staff)."""

from __future__ import annotations

from rest_framework import serializers

from exams.courses import COURSE_CODE_RE, MAX_BULK_EMAILS
from exams.models import Course, Enrollment

CODE_HELP = "1-32 letters, digits, '.', '-' or '_', starting with a letter or digit; unique (case-insensitive)."


class CourseInputSerializer(serializers.Serializer):
    """Create (both fields) or, with partial=True, rename a course."""

    code = serializers.RegexField(
        COURSE_CODE_RE, max_length=32, help_text=CODE_HELP, error_messages={"invalid": CODE_HELP}
    )
    name = serializers.CharField(max_length=200)


class EmailsInputSerializer(serializers.Serializer):
    emails = serializers.ListField(
        child=serializers.EmailField(max_length=254), allow_empty=False, max_length=MAX_BULK_EMAILS
    )


class RosterChangeOutputSerializer(serializers.Serializer):
    """Each email given, in one list: added now, already there, no account, or an account of the wrong role."""

    added = serializers.ListField(child=serializers.EmailField())
    already = serializers.ListField(child=serializers.EmailField())
    unknown = serializers.ListField(child=serializers.EmailField())
    wrong_role = serializers.ListField(
        child=serializers.EmailField(),
        help_text="Emails of accounts that exist but have the other role (a proctor on a roster, a student on staff).",
    )


class StudentListQuerySerializer(serializers.Serializer):
    search = serializers.CharField(max_length=100, required=False, allow_blank=True)


def _person(user) -> dict:
    return {"id": user.pk, "name": user.name, "email": user.email}


class CourseOutputSerializer(serializers.ModelSerializer):
    student_count = serializers.SerializerMethodField()
    staff_count = serializers.SerializerMethodField()

    class Meta:
        model = Course
        fields = ("id", "code", "name", "student_count", "staff_count", "created_at", "updated_at")
        read_only_fields = fields

    def get_student_count(self, course) -> int:
        annotated = getattr(course, "student_count", None)
        return annotated if annotated is not None else course.enrollments.count()

    def get_staff_count(self, course) -> int:
        annotated = getattr(course, "staff_count", None)
        return annotated if annotated is not None else course.staff_memberships.count()


class CourseDetailOutputSerializer(CourseOutputSerializer):
    """A course with its staff list (short); the roster is paged at /students."""

    staff = serializers.SerializerMethodField()
    created_by = serializers.SerializerMethodField()

    class Meta(CourseOutputSerializer.Meta):
        fields = (*CourseOutputSerializer.Meta.fields, "created_by", "staff")
        read_only_fields = fields

    def get_staff(self, course) -> list[dict]:
        return [
            {**_person(m.user), "added_at": serializers.DateTimeField().to_representation(m.added_at)}
            for m in course.staff_memberships.select_related("user").order_by("user__name", "id")
        ]

    def get_created_by(self, course) -> dict | None:
        return _person(course.created_by) if course.created_by else None


class EnrollmentOutputSerializer(serializers.ModelSerializer):
    id = serializers.IntegerField(source="student.id")
    name = serializers.CharField(source="student.name")
    email = serializers.EmailField(source="student.email")
    roll_number = serializers.CharField(source="student.roll_number")

    class Meta:
        model = Enrollment
        fields = ("id", "name", "email", "roll_number", "added_at")
        read_only_fields = fields
