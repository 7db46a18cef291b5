"""Auth-framework hooks (not business rules): a member of staff's open websockets close when
they log out, change their password or are disabled.

``user_logged_out`` is Django's own hook. Password changes and deactivation are seen on the
User row itself: whatever path changes them (admin, ``set_password``, a service, a management
command), the sockets follow.
"""

from __future__ import annotations

from typing import Any

from django.contrib.auth import get_user_model
from django.contrib.auth.signals import user_logged_out
from django.db.models.signals import post_save, pre_save
from django.dispatch import receiver

from .revocation import revoke_user_sockets

User = get_user_model()


@receiver(user_logged_out)
def _on_logout(sender: Any, request: Any, user: Any, **kwargs: Any) -> None:
    if user is not None and user.pk:
        revoke_user_sockets(user.pk, reason="logout")


@receiver(pre_save, sender=User)
def _remember_credentials(sender: Any, instance: Any, update_fields: Any = None, **kwargs: Any) -> None:
    # last_login is saved on every login with update_fields: no extra query for that.
    if not instance.pk or (update_fields is not None and not {"password", "is_active", "role"} & set(update_fields)):
        return
    previous = User.objects.filter(pk=instance.pk).values("password", "is_active", "role").first()
    instance._trust_previous = previous


@receiver(post_save, sender=User)
def _on_credentials_changed(sender: Any, instance: Any, created: bool, **kwargs: Any) -> None:
    previous = instance.__dict__.pop("_trust_previous", None)
    if created or not previous:
        return
    if previous["password"] != instance.password:
        # An API token is a credential too: it dies with the old password.
        from rest_framework.authtoken.models import Token

        Token.objects.filter(user_id=instance.pk).delete()
        revoke_user_sockets(instance.pk, reason="password_changed")
    elif previous["is_active"] and not instance.is_active:
        revoke_user_sockets(instance.pk, reason="disabled")
    elif previous["role"] != instance.role:
        revoke_user_sockets(instance.pk, reason="role_changed")
