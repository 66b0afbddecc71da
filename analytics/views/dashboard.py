"""The manager dashboard (totals, forecast, charts, top partners) and the ranked table."""

from __future__ import annotations

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.shortcuts import render

from analytics import charts
from analytics.filters import RankingFilter
from analytics.models import KpiCode, KpiDirection, PartnerScore
from analytics.selectors import dashboard as selectors
from analytics.tables import RankingTable
from prm.access import Role, role_of
from prm.views import ScopedTableView

#: The dashboard's charts, in page order (builders registered in analytics.selectors.dashboard).
CHART_KEYS = (
    "dashboard-revenue-by-tier",
    "dashboard-funnel",
    "dashboard-registrations",
    "dashboard-behind",
)


def _announce(request, book) -> None:
    if book.period_error:
        messages.warning(request, book.period_error)


def _page_context(request, book) -> dict:
    return {
        "book": book,
        "filter": book.filterset,
        "period": book.period,
        "quarter": book.quarter,
        "period_choices": selectors.period_choices(book.period),
        "is_admin": role_of(request.user) is Role.ADMIN,
        "refresh_minutes": selectors.SCORES_REFRESH_MINUTES,
        "currency": settings.PRM_REPORTING_CURRENCY,
    }


@login_required
def dashboard(request):
    """Totals with change, the quarter's forecast, four charts and the top ten partners."""
    book = selectors.book_for(request)
    _announce(request, book)
    defs = selectors.definitions()
    top = selectors.top_partners(book)
    totals = selectors.totals(book.scope, book.period, defs=defs)
    known = {total.code: total.value for total in totals}
    return render(
        request,
        "analytics/dashboard.html",
        {
            **_page_context(request, book),
            "totals": totals,
            "figures_as_of": selectors.figures_as_of(book.scope, book.period),
            "forecast": selectors.forecast(book.scope, book.period, known=known),
            "charts": [charts.build(key, request) for key in CHART_KEYS],
            "top": top,
            "health": defs.get(KpiCode.HEALTH_SCORE),
            "scores_exist": bool(top) or _scores_exist(request.user, book.quarter),
        },
    )


def _scores_exist(user, quarter) -> bool:
    """Whether the quarter has any kept scores at all (asked only when a page shows none)."""
    return PartnerScore.objects.visible_to(user).filter(quarter=quarter.start).exists()


class RankingView(ScopedTableView):
    """Every partner of the book ranked by any KPI of the quarter: sort, filter, CSV."""

    model = PartnerScore
    table_class = RankingTable
    filterset_class = RankingFilter
    template_name = "analytics/ranking.html"
    internal_only = True

    def get(self, request, *args, **kwargs):
        self.book = selectors.book_for(request)
        if not self.export:
            _announce(request, self.book)
        self.defs = selectors.definitions()
        return super().get(request, *args, **kwargs)

    def get_queryset(self):
        return (
            super()
            .get_queryset()
            .filter(quarter=self.book.quarter.start)
            .select_related("account", "account__tier", "account__manager")
        )

    def get_table_kwargs(self):
        kpi = self.request.GET.get("kpi", "")
        sort = self.request.GET.get("sort", "").lstrip("-")
        lead = next((c for c in (sort, kpi) if c in KpiCode.values), KpiCode.HEALTH_SCORE)
        kwargs = {"definitions": list(self.defs.values()), "lead": lead}
        if kpi in KpiCode.values and not self.request.GET.get("sort"):
            definition = self.defs.get(kpi)
            ascending = definition is not None and definition.direction == KpiDirection.DOWN
            kwargs["order_by"] = (kpi if ascending else f"-{kpi}",)
        return kwargs

    def render_to_response(self, context, **kwargs):
        if self.export:
            return context["table"].as_csv_response(f"partner-ranking-{self.book.quarter.key}.csv")
        return super().render_to_response(context, **kwargs)

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context.update(_page_context(self.request, self.book))
        context["filter"] = context["filterset"] = self.filterset
        if not self.export:
            table = context["table"]
            rows = list(table.page.object_list) if table.page else []
            context["computed_at"] = min((row.record.computed_at for row in rows), default=None)
            context["scores_exist"] = bool(rows) or _scores_exist(
                self.request.user, self.book.quarter
            )
            context["kpi_choices"] = [(d.code, d.label) for d in self.defs.values()]
        return context
