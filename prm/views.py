"""Project-level views: where "/" leads each role, and the health check."""

from django.contrib.auth.decorators import login_required
from django.db import connection
from django.http import JsonResponse
from django.shortcuts import redirect
from django.views.decorators.cache import never_cache

from prm.access import Role, role_of


@login_required
def home(request):
    role = role_of(request.user)
    if role.is_partner:
        return redirect("partners:portal_home")
    if role.is_internal:
        return redirect("partners:partner_list")
    return redirect("account_logout")


@never_cache
def healthz(request):
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
    return JsonResponse({"status": "ok"})


__all__ = ["Role", "home", "healthz"]
