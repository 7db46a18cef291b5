from __future__ import annotations

from rest_framework.permissions import BasePermission


class IsStaffMember(BasePermission):
    """Signed-in contact-centre staff (agent, caseworker, supervisor, admin) with an active account."""

    message = "Only contact-centre staff may use this endpoint."

    def has_permission(self, request, view) -> bool:  # type: ignore[no-untyped-def]
        return bool(request.user and request.user.is_authenticated and request.user.is_staff_member)


IsStaffAgent = IsStaffMember


class IsSupervisor(BasePermission):
    message = "Only supervisors and administrators may use this endpoint."

    def has_permission(self, request, view) -> bool:  # type: ignore[no-untyped-def]
        user = request.user
        return bool(user and user.is_authenticated and user.is_active and (user.is_superuser or user.role in {"supervisor", "admin"}))
