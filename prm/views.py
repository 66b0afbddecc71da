"""Shared view building blocks and the project-level views (home redirect, health check)."""

from django.contrib.auth.decorators import login_required
from django.contrib.auth.views import redirect_to_login
from django.db import connection
from django.http import JsonResponse
from django.shortcuts import redirect, render
from django.views.decorators.cache import never_cache
from django_filters.views import FilterView
from django_tables2 import SingleTableMixin
from django_tables2.paginators import LazyPaginator

from prm.access import require, role_of


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


class ScopedTableView(SingleTableMixin, FilterView):
    """A list page: declare ``model``, ``table_class``, ``filterset_class``, ``template_name``.

    Rows always start from ``model.objects.visible_to(user)``; ``export=True`` in ``as_view``
    turns the same page into a CSV of every filtered row.
    """

    export = False
    export_filename = "export.csv"
    # django-tables2 takes the paginator from the view, not the table: no COUNT(*) per page view.
    paginator_class = LazyPaginator
    # Not ``paginate_by``: that would make ListView paginate (and query) the rows a second time.
    table_pagination = {"per_page": 25}
    internal_only = False

    def dispatch(self, request, *args, **kwargs):
        if not request.user.is_authenticated:
            return redirect_to_login(request.get_full_path())
        if self.internal_only:
            require(role_of(request.user).is_internal, "This page is for partner managers.")
        return super().dispatch(request, *args, **kwargs)

    def get_queryset(self):
        return self.model.objects.visible_to(self.request.user)

    def get_filterset_kwargs(self, filterset_class):
        kwargs = super().get_filterset_kwargs(filterset_class)
        kwargs["request"] = self.request
        return kwargs

    def get_table_pagination(self, table):
        return False if self.export else super().get_table_pagination(table)

    def render_to_response(self, context, **kwargs):
        if self.export:
            return context["table"].as_csv_response(self.export_filename)
        return super().render_to_response(context, **kwargs)


def apply_errors(form, error) -> None:
    """A service's ValidationError shown on the form: at its field when the form has one."""
    if hasattr(error, "error_dict"):
        for name, errors in error.error_dict.items():
            form.add_error(name if name in form.fields else None, errors)
    else:
        form.add_error(None, error)


def render_htmx_or_redirect(request, *, partial: str, context: dict, redirect_to: str):
    """After an in-page action: HTMX gets the fragment (and the messages, out of band);
    a plain form post is redirected back so a reload never re-submits."""
    if getattr(request, "htmx", False):
        return render(request, partial, {**context, "oob_messages": True})
    return redirect(redirect_to)
