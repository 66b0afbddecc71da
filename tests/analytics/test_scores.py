"""The kept partner scores behind the ranked table: every partner gets a row per quarter, the
rows are upserted in sets, and the writes that change a partner's figures refresh its row."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from analytics import kpis, services, tasks
from analytics.models import Goal, PartnerScore
from deals import services as deal_services
from deals.models import (
    DealRegistration,
    Lead,
    Opportunity,
    OpportunityStatus,
    PipelineStage,
    RegistrationStatus,
)
from partners.models import PartnerAccount
from prm.testing.world import grow_world

pytestmark = pytest.mark.django_db


def this_quarter() -> kpis.Period:
    return kpis.Period.current_quarter()


def opportunity(account, amount="20000", *, status=OpportunityStatus.OPEN, closed_at=None):
    stage = PipelineStage.objects.filter(active=True).order_by("position").first()
    return Opportunity.objects.create(
        name=f"Deal {amount}",
        company="Brandt GmbH",
        account=account,
        stage=stage,
        amount=Decimal(amount),
        currency="USD",
        close_date=timezone.localdate() + timedelta(days=1),
        status=status,
        closed_at=closed_at,
    )


def score(account, quarter=None) -> PartnerScore:
    return PartnerScore.objects.get(account=account, quarter=(quarter or this_quarter()).start)


def test_every_partner_gets_a_row_even_without_data(world):
    opportunity(world.a, "20000", status=OpportunityStatus.WON, closed_at=timezone.now())
    opportunity(world.a, "5000", status=OpportunityStatus.LOST, closed_at=timezone.now())
    written = services.refresh_scores()
    assert written == PartnerAccount.objects.count() == 3
    a, b = score(world.a), score(world.b)
    assert a.won_revenue == Decimal("20000.00")
    assert a.win_rate == 50.0
    assert a.average_deal == Decimal("20000.00")
    assert (b.won_revenue, b.deals_registered, b.win_rate, b.health_score) == (0, 0, None, None)
    assert a.computed_at is not None


def test_refreshing_again_updates_the_rows_instead_of_adding_some(world):
    services.refresh_scores()
    opportunity(world.a, "7000", status=OpportunityStatus.WON, closed_at=timezone.now())
    services.refresh_scores()
    assert PartnerScore.objects.count() == 3
    assert score(world.a).won_revenue == Decimal("7000.00")


def test_only_the_given_accounts_are_refreshed(world):
    assert services.refresh_scores(account_ids=[world.a.pk]) == 1
    assert list(PartnerScore.objects.values_list("account", flat=True)) == [world.a.pk]


def test_the_previous_quarter_is_refreshed_when_asked(world):
    previous = this_quarter().previous()
    opportunity(world.a, "9000", status=OpportunityStatus.WON, closed_at=previous.start_at)
    services.refresh_scores(period=previous)
    assert score(world.a, previous).won_revenue == Decimal("9000.00")
    assert not PartnerScore.objects.filter(quarter=this_quarter().start).exists()
    tasks.refresh_scores(previous.key)  # the task takes the period's key
    assert PartnerScore.objects.filter(quarter=previous.start).count() == 3


def test_goals_behind_pace_are_counted_per_partner(world):
    quarter = this_quarter()
    midway = quarter.start + timedelta(days=45)
    for kpi, target in (("won_revenue", "100000"), ("deals_registered", "10")):
        Goal.objects.create(account=world.a, quarter=quarter.start, kpi=kpi, target=target)
    # a proposal is not a goal yet
    Goal.objects.create(
        account=world.b, quarter=quarter.start, kpi="won_revenue", target=1, status="proposed"
    )
    services.refresh_scores(today=midway)
    assert score(world.a).goals_behind == 2
    assert score(world.b).goals_behind == 0


def test_refreshing_costs_the_same_for_3_and_48_partners(world):
    def queries():
        PartnerScore.objects.all().delete()
        kpis.exchange_rates()  # kept between runs
        with CaptureQueriesContext(connection) as captured:
            services.refresh_scores()
        return len(captured.captured_queries)

    few = queries()
    grow_world(world)
    assert PartnerAccount.objects.count() > 40
    assert queries() == few
    assert PartnerScore.objects.count() == PartnerAccount.objects.count()


def test_rows_are_written_in_batches(world, monkeypatch):
    monkeypatch.setattr(services, "SCORE_BATCH_SIZE", 2)
    with CaptureQueriesContext(connection) as captured:
        services.refresh_scores()
    upserts = [q for q in captured.captured_queries if "analytics_partnerscore" in q["sql"]]
    assert len(upserts) == 2  # 3 accounts, 2 per batch
    assert PartnerScore.objects.count() == 3


# --- refreshed after the writes that change a partner's figures ----------------------------------


def test_closing_a_deal_won_refreshes_the_partners_score(world, django_capture_on_commit_callbacks):
    deal = opportunity(world.a, "42000")
    services.refresh_scores()
    assert score(world.a).won_revenue == 0
    with django_capture_on_commit_callbacks(execute=True):
        deal_services.close_opportunity(
            actor=world.partner_admin_a, opportunity=deal, won=True, reason="Signed"
        )
    assert score(world.a).won_revenue == Decimal("42000.00")
    assert score(world.a).win_rate == 100.0


@pytest.fixture
def refreshed(monkeypatch):
    """The account ids each refresh task was run for (the task runs eagerly, by its name)."""
    calls = []

    def record(period=None, account_ids=None, **kwargs):
        calls.append(sorted(account_ids))
        return 0

    monkeypatch.setattr(services, "refresh_scores", record)
    return calls


def test_moving_and_editing_an_opportunity_refresh_its_partner(
    world, refreshed, django_capture_on_commit_callbacks
):
    deal = opportunity(world.a, "1000")
    later = PipelineStage.objects.filter(active=True).order_by("-position").first()
    with django_capture_on_commit_callbacks(execute=True):
        deal_services.move_opportunity(actor=world.manager, opportunity=deal, stage=later)
    with django_capture_on_commit_callbacks(execute=True):
        deal_services.update_opportunity(
            actor=world.manager, opportunity=deal, amount=Decimal("2000")
        )
    assert refreshed == [[world.a.pk], [world.a.pk]]


def test_answering_a_lead_refreshes_the_partner(
    world, refreshed, django_capture_on_commit_callbacks
):
    def assigned(company):
        lead = deal_services.create_lead(actor=world.manager, lead=Lead(company=company))
        return deal_services.assign_lead(actor=world.manager, lead=lead, account=world.a)

    first, second = assigned("Lindner AG"), assigned("Vogel KG")
    with django_capture_on_commit_callbacks(execute=True):
        deal_services.accept_lead(actor=world.partner_admin_a, lead=first)
    with django_capture_on_commit_callbacks(execute=True):
        deal_services.reject_lead(actor=world.partner_admin_a, lead=second, reason="Too small")
    assert refreshed == [[world.a.pk], [world.a.pk]]


def test_deciding_a_registration_refreshes_the_partner(
    world, refreshed, django_capture_on_commit_callbacks
):
    registration = DealRegistration.objects.create(
        account=world.a,
        created_by=world.member_a,
        company="Brandt Maschinenbau GmbH",
        domain="brandt.example",
        contact_name="Greta Brandt",
        contact_email="greta@brandt.example",
        amount=Decimal("48000"),
        currency="USD",
        expected_close_date=timezone.localdate() + timedelta(days=60),
        product_family="Analytics",
        status=RegistrationStatus.SUBMITTED,
        submitted_at=timezone.now(),
    )
    with django_capture_on_commit_callbacks(execute=True):
        deal_services.reject_registration(
            actor=world.manager, registration=registration, reason="Already ours"
        )
    assert refreshed == [[world.a.pk]]


def test_completing_a_course_and_revoking_a_certificate_refresh_the_partner(
    world, django_capture_on_commit_callbacks
):
    from training import services as training_services
    from training.models import Certificate, Course, Lesson

    course = Course.objects.create(
        title="Certified Seller",
        slug="certified-seller",
        is_certification=True,
        product_family="Analytics",
        validity_days=365,
        published=True,
    )
    lesson = Lesson.objects.create(course=course, title="Basics", body="Read this.", position=1)
    enrollment = training_services.enroll(actor=world.member_a, course=course)
    services.refresh_scores()
    assert score(world.a).certified_people == 0
    with django_capture_on_commit_callbacks(execute=True):
        training_services.complete_lesson(
            actor=world.member_a, enrollment=enrollment, lesson=lesson
        )
    assert score(world.a).certified_people == 1
    assert score(world.a).training_completion == 100.0
    certificate = Certificate.objects.get(user=world.member_a)
    with django_capture_on_commit_callbacks(execute=True):
        training_services.revoke_certificate(
            actor=world.admin, certificate=certificate, reason="Shared answers"
        )
    assert score(world.a).certified_people == 0
