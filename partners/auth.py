"""Who may log in: no public sign-up; partner users only while their account is open."""

from __future__ import annotations

import uuid

from allauth.account.adapter import DefaultAccountAdapter
from allauth.account.auth_backends import AuthenticationBackend
from django.conf import settings
from django.contrib.auth import get_user_model

from partners.models import BLOCKED_STATUSES, PortalAccess


def partner_user_may_log_in(user) -> bool:
    """A partner user may log in while their contact has portal access and the account is open."""
    try:
        contact = user.contact
    except get_user_model().contact.RelatedObjectDoesNotExist:
        return True  # internal user
    return (
        contact.portal_access != PortalAccess.NONE
        and contact.account.status not in BLOCKED_STATUSES
    )


class PortalAuthenticationBackend(AuthenticationBackend):
    """allauth's backend, plus the account-status rule on every login and every request.

    ``get_user`` runs on each request with a session; because it also applies
    ``user_can_authenticate``, a session opened before the account was suspended (or the user
    disabled) stops working on its very next request.
    """

    def user_can_authenticate(self, user):
        return super().user_can_authenticate(user) and partner_user_may_log_in(user)

    def get_user(self, user_id):
        user_model = get_user_model()
        try:
            user = user_model._default_manager.select_related("contact__account").get(pk=user_id)
        except user_model.DoesNotExist:
            return None
        return user if self.user_can_authenticate(user) else None


class PortalAccountAdapter(DefaultAccountAdapter):
    """No public sign-up: people join through an invitation from their partner admin or manager."""

    def is_open_for_signup(self, request):
        return False

    def pre_login(self, request, user, **kwargs):
        # allauth re-checks only is_active here; a partner whose account is suspended (or whose
        # access was switched off) gets the same "inactive account" page instead of a login.
        if not partner_user_may_log_in(user):
            return self.respond_user_inactive(request, user)
        return super().pre_login(request, user, **kwargs)

    def send_mail(self, template_prefix, email, context):
        """allauth's account emails (password reset, email confirmation, security notices) in
        the portal's layout, HTML and text, sent by a worker: the request only enqueues them."""
        from prm.mail import html_twin
        from prm.tasks import enqueue

        context = {"site_name": settings.SITE_NAME, **context}
        message = self.render_mail(template_prefix, email, context)
        html = next(
            (body for body, kind in getattr(message, "alternatives", []) if kind == "text/html"),
            None,
        )
        enqueue(
            "prm.send_email",
            f"account:{template_prefix}:{uuid.uuid4().hex}",
            list(message.to),
            message.subject,
            message.body,
            html or html_twin(message.body),
            dict(message.extra_headers),
        )
