"""The access contract (ARCHITECTURE.md §3): roles, the scoped base queryset, the guardian helper.

Every read that serves a person starts from ``Model.objects.visible_to(user)``; every lookup of a
single object goes through ``get_visible_or_404`` so that "does not exist" and "not yours" give the
same 404.
"""

from __future__ import annotations

from enum import StrEnum

from django.core.exceptions import ObjectDoesNotExist, PermissionDenied
from django.db import models
from django.http import Http404
from guardian.shortcuts import get_objects_for_user

from prm.models import PARTNER_MANAGERS_GROUP


class Role(StrEnum):
    ANONYMOUS = "anonymous"
    ADMIN = "admin"
    MANAGER = "manager"
    PARTNER_ADMIN = "partner_admin"
    PARTNER_MEMBER = "partner_member"
    NONE = "none"  # an authenticated user with no role (e.g. a contact whose access is off)

    @property
    def is_internal(self) -> bool:
        return self in (Role.ADMIN, Role.MANAGER)

    @property
    def is_partner(self) -> bool:
        return self in (Role.PARTNER_ADMIN, Role.PARTNER_MEMBER)


def partner_contact(user):
    """The Contact a partner user logs in as, or None for internal users and anonymous."""
    if not getattr(user, "is_authenticated", False):
        return None
    try:
        return user.contact
    except ObjectDoesNotExist:
        return None


def role_of(user) -> Role:
    """The user's one role; computed once per user object (one query at most)."""
    if not getattr(user, "is_authenticated", False):
        return Role.ANONYMOUS
    cached = getattr(user, "_prm_role", None)
    if cached is not None:
        return cached
    if user.is_superuser:
        role = Role.ADMIN
    else:
        contact = partner_contact(user)
        if contact is not None:
            role = {"admin": Role.PARTNER_ADMIN, "member": Role.PARTNER_MEMBER}.get(
                contact.portal_access, Role.NONE
            )
        elif user.groups.filter(name=PARTNER_MANAGERS_GROUP).exists():
            role = Role.MANAGER
        else:
            role = Role.NONE
    user._prm_role = role
    return role


def is_internal(user) -> bool:
    return role_of(user).is_internal


def sees_everything(user, model: type[models.Model]) -> bool:
    """Admins, and internal users holding the model-level view permission, see all rows."""
    role = role_of(user)
    if role is Role.ADMIN:
        return True
    if role is Role.MANAGER:
        opts = model._meta
        return user.has_perm(f"{opts.app_label}.view_{opts.model_name}")
    return False


def objects_with_perm(user, perm: str, queryset: models.QuerySet) -> models.QuerySet:
    """Rows of ``queryset`` on which ``user`` holds the object permission ``perm``.

    The one place guardian is asked. Its defaults would return every row once a model-level
    permission exists and would include superusers, so every flag is explicit here.
    """
    if not getattr(user, "is_authenticated", False) or not user.is_active:
        return queryset.none()
    return get_objects_for_user(
        user,
        perm,
        klass=queryset,
        use_groups=False,
        any_perm=False,
        with_superuser=False,
        accept_global_perms=False,
    )


class ScopedQuerySet(models.QuerySet):
    """Base queryset of every model partners can reach: forgetting ``visible_to`` is loud."""

    def visible_to(self, user):
        raise NotImplementedError(f"{self.model.__name__}.objects.visible_to(user) is not defined")


def visible_through(field: str) -> type[ScopedQuerySet]:
    """The queryset class of rows that belong to another one (a lesson to its course, a history
    step to its record): visible exactly when the row named by ``field`` is."""

    class VisibleThroughQuerySet(ScopedQuerySet):
        def visible_to(self, user):
            owner = self.model._meta.get_field(field).related_model
            return self.filter(**{f"{field}__in": owner.objects.visible_to(user)})

    VisibleThroughQuerySet.__name__ = f"Visible{field.title().replace('_', '')}PartQuerySet"
    return VisibleThroughQuerySet


class ReferenceQuerySet(ScopedQuerySet):
    """Reference data (tiers, contact roles) that every signed-in user may read."""

    def visible_to(self, user):
        return self.all() if getattr(user, "is_authenticated", False) else self.none()


def get_visible_or_404(queryset: models.QuerySet, user, **lookup):
    """Look an object up among those ``user`` may see; absent and not-yours are the same 404."""
    try:
        return queryset.visible_to(user).get(**lookup)
    except (queryset.model.DoesNotExist, ValueError, TypeError) as exc:
        raise Http404(f"No {queryset.model._meta.verbose_name} matches the given query.") from exc


def require(condition: bool, message: str = "You may not do this.") -> None:
    """403 for an object the user may see but not change."""
    if not condition:
        raise PermissionDenied(message)
