"""The analytics part of seed_demo: a year of history behind the scorecards, goals, saved reports
and the kept scores; running seed_demo again adds nothing."""

from __future__ import annotations

from decimal import Decimal
from io import StringIO

import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.test import override_settings

from analytics import demo, kpis, reports, services
from analytics.models import (
    CurrencyRate,
    Goal,
    GoalStatus,
    KpiCode,
    PartnerScore,
    SavedReport,
)
from deals.models import (
    DealRegistration,
    Lead,
    LeadEvent,
    LeadRejection,
    Opportunity,
    OpportunityEvent,
    RegistrationEvent,
)
from deals.routing import LAPSED_REASON
from partners.demo import CONTOSO, NORTHWIND
from partners.models import PartnerAccount
from prm.testing.fixtures import FAST_PASSWORD_HASHERS, rolled_back

pytestmark = pytest.mark.django_db

User = get_user_model()
PARTNERS = 8  # the three demo companies and five generated ones


def seed() -> str:
    out = StringIO()
    call_command("seed_demo", partners=PARTNERS, stdout=out)
    return out.getvalue()


def counts() -> dict[str, int]:
    models = [
        CurrencyRate,
        Goal,
        SavedReport,
        PartnerScore,
        Opportunity,
        OpportunityEvent,
        DealRegistration,
        RegistrationEvent,
        Lead,
        LeadEvent,
        LeadRejection,
    ]
    return {model._meta.label: model.objects.count() for model in models}


@pytest.fixture(scope="module")
def seeded(django_db_setup, django_db_blocker):
    """seed_demo run twice, once for the module: (counts after the first run, after the second,
    the second run's output)."""
    with override_settings(PASSWORD_HASHERS=FAST_PASSWORD_HASHERS), rolled_back(django_db_blocker):
        seed()
        first = counts()
        output = seed()
        yield first, counts(), output


def northwind():
    return PartnerAccount.objects.filter(name=NORTHWIND)


def test_running_seed_demo_again_creates_nothing(seeded):
    first, second, output = seeded

    assert second == first
    assert "nothing (already loaded)" in output
    assert first["analytics.Goal"] and first["analytics.SavedReport"] == 3


def test_the_history_gives_last_quarter_figures_to_northwind(seeded):
    last_quarter = kpis.Period.current_quarter().previous()

    values = kpis.compute_total(northwind(), last_quarter)

    assert values[KpiCode.WON_REVENUE] > 0
    assert values[KpiCode.DEALS_REGISTERED] > 0
    assert 0 < values[KpiCode.WIN_RATE] < 100  # some deals lost too
    assert values[KpiCode.DECISION_HOURS] is not None
    assert values[KpiCode.LEAD_ACCEPT_HOURS] is not None


def test_the_year_has_a_rising_trend_and_answers_of_every_kind(seeded):
    months = kpis.trailing_months(13)[:-1]  # the 12 full months before this one
    trend = kpis.trend(northwind(), months, KpiCode.WON_REVENUE)
    by_month = [trend.get((m.start, None), Decimal(0)) for m in months]

    assert all(by_month), "every month has won deals"
    assert sum(by_month[6:]) > sum(by_month[:6]) * Decimal("1.2")

    year = kpis.Period(months[0].start, kpis.Period.current_quarter().end)
    answers = LeadEvent.objects.filter(account__in=northwind(), created_at__gte=year.start_at)
    assert answers.filter(to_status="accepted").exists()
    assert answers.filter(to_status="rejected").exists()
    assert answers.filter(reason=LAPSED_REASON).exists()
    assert demo.LAPSED_REASON == LAPSED_REASON
    rate = kpis.compute_total(northwind(), year)[KpiCode.LEAD_ACCEPTANCE_RATE]
    assert 40 < rate < 100


def test_some_deals_are_in_euros_at_the_seeded_rate(seeded):
    assert CurrencyRate.objects.get(currency="EUR").rate == Decimal("1.08")
    assert Opportunity.objects.filter(account__in=northwind(), currency="EUR").exists()


def test_goals_this_quarter_one_waiting_for_the_manager_and_last_quarter(seeded):
    this = kpis.Period.current_quarter()
    goals = Goal.objects.filter(account__name__in=[NORTHWIND, CONTOSO])

    current = goals.filter(quarter=this.start)
    for name in (NORTHWIND, CONTOSO):
        agreed = set(
            current.filter(account__name=name, status=GoalStatus.ACCEPTED).values_list(
                "kpi", flat=True
            )
        )
        assert {KpiCode.WON_REVENUE, KpiCode.DEALS_REGISTERED, KpiCode.WIN_RATE} <= agreed
    proposal = current.get(status=GoalStatus.PROPOSED)
    assert proposal.account.name == NORTHWIND
    assert proposal.kpi == KpiCode.LEAD_ACCEPTANCE_RATE
    assert proposal.proposed_by.email == "alex.admin@northwind.example"
    assert proposal.set_by is None
    assert goals.filter(quarter=this.previous().start, status=GoalStatus.ACCEPTED).count() >= 6


def test_saved_reports_run_for_their_owners_and_the_admins_one_is_shared(seeded):
    maya = User.objects.get(email="maya.manager@openprm.example")
    names = {r.name: r for r in SavedReport.objects.select_related("owner")}

    assert set(names) == {
        "Open pipeline by stage",
        "Registrations this quarter",
        "Won deals by tier",
    }
    assert names["Won deals by tier"].shared
    assert set(SavedReport.objects.visible_to(maya).values_list("name", flat=True)) == {
        "Open pipeline by stage",
        "Won deals by tier",
    }
    for saved in names.values():
        plan = reports.plan_for(saved, saved.owner)
        assert plan.notices == []  # every key is one the report engine knows
        assert reports.rows_queryset(plan, saved.owner).exists(), saved.name
    assert names["Open pipeline by stage"].group_by == "stage"


@pytest.mark.skipif(
    not hasattr(services, "refresh_scores"), reason="analytics.services.refresh_scores missing"
)
def test_the_ranked_table_is_filled_for_this_and_last_quarter(seeded):
    this = kpis.Period.current_quarter()
    scores = PartnerScore.objects.filter(account__in=northwind())

    assert set(scores.values_list("quarter", flat=True)) == {this.start, this.previous().start}
    assert scores.get(quarter=this.previous().start).won_revenue > 0
    assert PartnerScore.objects.filter(quarter=this.start).count() == PARTNERS
