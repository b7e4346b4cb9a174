"""Role checks for DRF views; the role always comes from the authenticated user."""

from rest_framework.permissions import BasePermission


class IsProctor(BasePermission):
    message = "Only proctors can do this."

    def has_permission(self, request, view) -> bool:
        user = request.user
        return bool(user and user.is_authenticated and user.is_proctor)


class IsStudent(BasePermission):
    message = "Only students can do this."

    def has_permission(self, request, view) -> bool:
        user = request.user
        return bool(user and user.is_authenticated and user.is_student)
