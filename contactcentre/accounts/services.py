from __future__ import annotations

import secrets

from django.contrib.auth import get_user_model
from django.contrib.auth.password_validation import validate_password
from django.db import transaction

from contactcentre.tickets.errors import DomainError
from contactcentre.tickets.models import Department

User = get_user_model()
ROLES = [r.value for r in User.Role]


@transaction.atomic
def staff_create_or_update(
    *, username: str, role: str, department_code: str = "", password: str | None = None,
    email: str = "", first_name: str = "", languages: list[str] | None = None, check_password: bool = True,
) -> tuple[object, str | None, bool]:
    """Create (or update) a member of staff. Returns (user, generated_password, created)."""
    if role not in ROLES:
        raise DomainError(f"Unknown role '{role}'; choose one of {', '.join(ROLES)}.", code="invalid_role")
    department = None
    if department_code:
        department = Department.objects.filter(code=department_code).first()
        if department is None:
            known = ", ".join(Department.objects.values_list("code", flat=True)) or "none yet"
            raise DomainError(f"Unknown department '{department_code}' (known: {known}).", code="invalid_department")
    if role == User.Role.CASEWORKER and department is None:
        raise DomainError("A caseworker needs --department.", code="department_required")
    user, created = User.objects.get_or_create(username=username)
    generated = None
    if password is None and created:
        password = generated = secrets.token_urlsafe(12)
    if password is not None:
        if check_password and generated is None:
            validate_password(password, user)
        user.set_password(password)
    user.role = role
    user.department = department
    user.email = email or user.email
    user.first_name = first_name or user.first_name
    if languages is not None:
        user.languages = languages
    user.is_staff = role in (User.Role.ADMIN,)  # Django admin for administrators only
    user.is_superuser = role == User.Role.ADMIN
    user.is_active = True
    user.save()
    return user, generated, created
