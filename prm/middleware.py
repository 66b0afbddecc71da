"""Request-wide rules: session lifetimes and mandatory MFA for internal users."""

from __future__ import annotations

import time

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import logout
from django.contrib.auth.views import redirect_to_login
from django.shortcuts import redirect

from prm.access import role_of

_LOGIN_AT = "prm_login_at"
_SEEN_AT = "prm_seen_at"
# Refresh the idle clock at most once a minute, so a page view does not always write the session.
_SEEN_GRANULARITY = 60


def start_session_clock(sender, request, user, **kwargs):
    """On every login: the 12-hour limit counts from here, the idle clock starts now."""
    if request is not None and hasattr(request, "session"):
        now = int(time.time())
        request.session[_LOGIN_AT] = now
        request.session[_SEEN_AT] = now


class SessionLifetimeMiddleware:
    """Ends a session after PRM_SESSION_IDLE_SECONDS idle or PRM_SESSION_MAX_SECONDS in all."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if request.user.is_authenticated:
            now = int(time.time())
            login_at = request.session.setdefault(_LOGIN_AT, now)
            seen_at = request.session.get(_SEEN_AT, now)
            if (
                now - seen_at > settings.PRM_SESSION_IDLE_SECONDS
                or now - login_at > settings.PRM_SESSION_MAX_SECONDS
            ):
                logout(request)
                messages.info(request, "Your session has ended. Please sign in again.")
                return redirect_to_login(request.get_full_path())
            if now - seen_at >= _SEEN_GRANULARITY or _SEEN_AT not in request.session:
                request.session[_SEEN_AT] = now
        return self.get_response(request)


_MFA_ENROLLED = "prm_mfa_enrolled"


def forget_mfa_enrolment(sender, request=None, **kwargs):
    """TOTP removed: the next request checks again (and, for staff, asks to set it up)."""
    if request is not None and hasattr(request, "session"):
        request.session.pop(_MFA_ENROLLED, None)


class RequireStaffMFAMiddleware:
    """With PRM_MFA_REQUIRED_FOR_STAFF, admins and managers must enrol TOTP before anything else."""

    _ok = _MFA_ENROLLED
    _allowed_prefixes = ("/accounts/", "/static/", "/healthz/")

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if (
            settings.PRM_MFA_REQUIRED_FOR_STAFF
            and request.user.is_authenticated
            and not request.session.get(self._ok)
            and role_of(request.user).is_internal
            and not request.path.startswith(self._allowed_prefixes)
        ):
            from allauth.mfa.models import Authenticator

            if Authenticator.objects.filter(
                user=request.user, type=Authenticator.Type.TOTP
            ).exists():
                request.session[self._ok] = True
            else:
                messages.warning(
                    request,
                    "Set up two-factor authentication to continue: it is required "
                    "for administrators and partner managers.",
                )
                return redirect("mfa_activate_totp")
        return self.get_response(request)
