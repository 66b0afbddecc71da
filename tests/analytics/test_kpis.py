"""Every KPI against figures worked out by hand on a small book of business.

The book (``book`` fixture) lives in Q1 2026 around the world's accounts: A ("Northwind", Gold,
EMEA, ``manager``), its reseller A1 (Gold, no region, ``manager``) and B ("Contoso", moved to a
Silver tier, NA, ``other_manager``). The reporting currency is USD; EUR converts at 1.10 and GBP
has no rate, so GBP amounts stay out of every money figure. Each expected value is written as
the arithmetic a person would do with the rows listed next to it.
"""

from __future__ import annotations

import itertools
import statistics
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from analytics import kpis
from analytics.kpis import Period
from analytics.models import CurrencyRate, KpiCode
from deals.models import (
    DealRegistration,
    Lead,
    LeadEvent,
    LeadStatus,
    Opportunity,
    PipelineStage,
    RegistrationStatus,
)
from deals.routing import LAPSED_REASON
from partners.models import AccountStatus, PartnerAccount, PortalAccess, Tier
from prm.testing.world import make_partner_user
from training.models import Certificate, Course, Enrollment, EnrollmentStatus

K = KpiCode
Q1 = Period.parse("2026-Q1")
AFTER_Q1 = date(2026, 6, 1)  # "today" for figures read on the quarter's last day
EUR = Decimal("1.10")
_serial = itertools.count(1)


def at(year, month, day, hour=0, minute=0) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=UTC)


def money(text) -> Decimal:
    return Decimal(text).quantize(Decimal("0.01"))


# --- building the book ----------------------------------------------------------------------


def stage(name: str) -> PipelineStage:
    return PipelineStage.objects.get(name=name)  # seeded: Discovery 25, Proposal 50, …


def opportunity(
    account,
    amount,
    *,
    created,
    currency="USD",
    status="open",
    stage_name="Proposal",
    close_date=None,
    closed=None,
) -> Opportunity:
    n = next(_serial)
    opp = Opportunity.objects.create(
        name=f"Deal {n}",
        company=f"Customer {n}",
        account=account,
        stage=stage(stage_name),
        amount=Decimal(amount),
        currency=currency,
        status=status,
        close_date=close_date or (closed.date() if closed else date(2026, 3, 31)),
    )
    Opportunity.objects.filter(pk=opp.pk).update(created_at=created, closed_at=closed)
    return opp


def registration(account, status, *, submitted=None, hours=None) -> DealRegistration:
    n = next(_serial)
    return DealRegistration.objects.create(
        account=account,
        company=f"Registered Customer {n}",
        contact_name="Pat Buyer",
        contact_email=f"pat{n}@customer.example",
        amount=Decimal("100"),
        expected_close_date=date(2026, 6, 30),
        status=status,
        submitted_at=submitted,
        decided_at=None if hours is None else submitted + timedelta(hours=hours),
        expires_on=date(2026, 9, 30) if status == RegistrationStatus.APPROVED else None,
    )


def accepted_lead(account, *, assigned, hours) -> Lead:
    accepted = assigned + timedelta(hours=hours)
    lead = Lead.objects.create(
        company=f"Lead {next(_serial)}",
        status=LeadStatus.ACCEPTED,
        account=account,
        assigned_at=assigned,
        accepted_at=accepted,
    )
    LeadEvent.objects.create(
        lead=lead,
        from_status=LeadStatus.ASSIGNED,
        to_status=LeadStatus.ACCEPTED,
        account=account,
        created_at=accepted,
    )
    return lead


def lead_event(account, when, *, to_status, from_status=LeadStatus.ASSIGNED, reason=""):
    """A lead that left the partner (rejected, lapsed, taken back): back in the pool."""
    lead = Lead.objects.create(
        company=f"Lead {next(_serial)}",
        status=to_status,
        account=account if to_status == LeadStatus.ASSIGNED else None,
    )
    return LeadEvent.objects.create(
        lead=lead,
        from_status=from_status,
        to_status=to_status,
        account=account,
        reason=reason,
        created_at=when,
    )


def certificate(user, account, course, *, issued, expires, revoked=None) -> Certificate:
    return Certificate.objects.create(
        number=f"C-{next(_serial):05d}",
        user=user,
        account=account,
        course=course,
        issued_on=issued,
        expires_on=expires,
        revoked_at=revoked,
    )


def enrollment(user, course, *, enrolled, completed=None) -> Enrollment:
    return Enrollment.objects.create(
        user=user,
        course=course,
        enrolled_at=enrolled,
        completed_at=completed,
        status=EnrollmentStatus.COMPLETED if completed else EnrollmentStatus.IN_PROGRESS,
    )


@dataclass
class Book:
    world: object
    accounts: object  # the admin's visible_to queryset
    silver: Tier
    user_e: object
    child_user: object


@pytest.fixture
def book(world) -> Book:
    a, a_child, b = world.a, world.a_child, world.b
    silver = Tier.objects.create(name="Silver", rank=20)
    PartnerAccount.objects.filter(pk=b.pk).update(tier=silver)
    CurrencyRate.objects.create(currency="EUR", rate=EUR)

    # Opportunities of A.
    opportunity(a, "1000", status="won", created=at(2026, 1, 1), closed=at(2026, 1, 11))  # 10 d
    opportunity(  # 30 days
        a, "500", currency="EUR", status="won", created=at(2026, 1, 10), closed=at(2026, 2, 9)
    )
    opportunity(  # 20 days, no GBP rate
        a, "300", currency="GBP", status="won", created=at(2026, 2, 1), closed=at(2026, 2, 21)
    )
    opportunity(a, "700", status="lost", created=at(2026, 1, 5), closed=at(2026, 3, 1))
    opportunity(  # won in Q4 2025
        a, "999", status="won", created=at(2025, 11, 1), closed=at(2025, 12, 31, 12)
    )
    opportunity(a, "1000", close_date=date(2026, 3, 15), created=at(2025, 11, 1))  # Proposal 50
    opportunity(
        a, "1001", stage_name="Discovery", close_date=date(2026, 2, 1), created=at(2026, 1, 20)
    )
    opportunity(
        a,
        "200",
        currency="EUR",
        stage_name="Negotiation",
        close_date=date(2026, 3, 31),
        created=at(2026, 3, 1),
    )
    opportunity(
        a,
        "400",
        currency="GBP",
        stage_name="Commit",
        close_date=date(2026, 1, 15),
        created=at(2026, 2, 1),
    )
    opportunity(  # closes in Q2
        a,
        "5000",
        stage_name="Qualification",
        close_date=date(2026, 4, 1),
        created=at(2025, 12, 1),
    )
    # Opportunities of B.
    opportunity(b, "2000", status="won", created=at(2026, 2, 1), closed=at(2026, 2, 3))  # 2 d
    opportunity(b, "4000", status="won", created=at(2026, 1, 1), closed=at(2026, 1, 5))  # 4 d
    opportunity(b, "1000", status="lost", created=at(2026, 2, 15), closed=at(2026, 3, 10))
    opportunity(b, "500", status="lost", created=at(2025, 10, 1), closed=at(2026, 3, 11))

    # Registrations of A: decided in 10, 20, 30 (approved-like) and 40 hours (rejected).
    S = RegistrationStatus
    registration(a, S.APPROVED, submitted=at(2026, 1, 1), hours=10)
    registration(a, S.EXPIRED, submitted=at(2026, 1, 2), hours=20)
    registration(a, S.CONVERTED, submitted=at(2026, 1, 3), hours=30)
    registration(a, S.REJECTED, submitted=at(2026, 1, 5), hours=40)
    registration(a, S.RETURNED, submitted=at(2026, 1, 6), hours=1)
    registration(a, S.WITHDRAWN, submitted=at(2026, 1, 7), hours=2)
    registration(a, S.SUBMITTED, submitted=at(2026, 1, 8))
    registration(a, S.DRAFT)
    registration(a, S.APPROVED, submitted=at(2025, 12, 1), hours=24)  # Q4 2025
    # Registrations of B: 5 hours (approved), 7 and 9 hours (rejected).
    registration(b, S.APPROVED, submitted=at(2026, 2, 1), hours=5)
    registration(b, S.REJECTED, submitted=at(2026, 2, 2), hours=7)
    registration(b, S.REJECTED, submitted=at(2026, 2, 3), hours=9)

    # Leads of A: accepted in 4, 12 and 8 hours, one rejected, one lapsed.
    accepted_lead(a, assigned=at(2026, 1, 1), hours=4)
    accepted_lead(a, assigned=at(2026, 2, 1), hours=12)
    accepted_lead(a, assigned=at(2026, 3, 1), hours=8)
    lead_event(a, at(2026, 1, 15), to_status=LeadStatus.REJECTED)
    lead_event(a, at(2026, 1, 20), to_status=LeadStatus.NEW, reason=LAPSED_REASON)
    # Neither an answer: taken back by the manager, and the assignment itself.
    lead_event(a, at(2026, 1, 21), to_status=LeadStatus.NEW, reason="Taken back by the manager")
    lead_event(a, at(2026, 1, 22), to_status=LeadStatus.ASSIGNED, from_status=LeadStatus.NEW)
    accepted_lead(a, assigned=at(2025, 12, 1), hours=2)  # Q4 2025
    # Leads of B: accepted in 24 hours, one rejected.
    accepted_lead(b, assigned=at(2026, 1, 10), hours=24)
    lead_event(b, at(2026, 1, 12), to_status=LeadStatus.REJECTED)

    # People and training.
    course1 = Course.objects.create(title="Basics", slug="basics", is_certification=True)
    course2 = Course.objects.create(title="Advanced", slug="advanced", is_certification=True)
    user_c, _ = make_partner_user(a, "casey.c@northwind.example", PortalAccess.MEMBER)
    user_d, _ = make_partner_user(a, "dana.d@northwind.example", PortalAccess.MEMBER)
    user_e, _ = make_partner_user(a, "eli.e@northwind.example", PortalAccess.MEMBER)
    child_user, _ = make_partner_user(a_child, "kim@retail.example", PortalAccess.ADMIN)
    admin_a, member_a, admin_b = world.partner_admin_a, world.member_a, world.partner_admin_b

    # Certificates on 31 March 2026: admin A twice (counts once), E (expires that day).
    certificate(admin_a, a, course1, issued=date(2025, 6, 1), expires=date(2027, 6, 1))
    certificate(admin_a, a, course2, issued=date(2026, 1, 1), expires=date(2027, 1, 1))
    certificate(member_a, a, course1, issued=date(2025, 1, 1), expires=date(2026, 3, 30))
    certificate(
        user_c,
        a,
        course1,
        issued=date(2026, 1, 1),
        expires=date(2027, 1, 1),
        revoked=at(2026, 2, 1),
    )
    certificate(user_d, a, course1, issued=date(2026, 4, 1), expires=date(2027, 4, 1))
    certificate(user_e, a, course1, issued=date(2025, 4, 1), expires=date(2026, 3, 31))
    certificate(admin_b, b, course1, issued=date(2025, 6, 1), expires=date(2027, 6, 1))

    # Enrollments as of 31 March 2026 (end of day).
    enrollment(admin_a, course1, enrolled=at(2025, 12, 1), completed=at(2026, 1, 10))
    enrollment(admin_a, course2, enrolled=at(2026, 2, 1))
    enrollment(member_a, course1, enrolled=at(2026, 3, 1), completed=at(2026, 4, 5))
    enrollment(member_a, course2, enrolled=at(2026, 4, 10))  # not started yet
    enrollment(user_e, course1, enrolled=at(2026, 1, 1), completed=at(2026, 3, 31, 23))
    enrollment(admin_b, course1, enrolled=at(2026, 1, 1), completed=at(2026, 2, 1))
    enrollment(child_user, course1, enrolled=at(2026, 1, 1), completed=at(2026, 1, 2))
    enrollment(child_user, course2, enrolled=at(2026, 1, 3))

    return Book(
        world=world,
        accounts=PartnerAccount.objects.visible_to(world.admin),
        silver=silver,
        user_e=user_e,
        child_user=child_user,
    )


def by_account(book, period=Q1, today=AFTER_Q1):
    return kpis.compute(book.accounts, period, by="account", today=today)


def total(book, period=Q1, today=AFTER_Q1):
    return kpis.compute_total(book.accounts, period, today=today)


# --- money ----------------------------------------------------------------------------------


def test_won_revenue_converts_eur_and_leaves_out_a_currency_without_rate(book):
    w = book.world
    figures = by_account(book)
    # A: 1000 USD + 500 EUR; the 300 GBP deal has no rate, the 999 closed in December.
    assert figures[w.a.pk][K.WON_REVENUE] == money(Decimal("1000") + Decimal("500") * EUR)
    assert figures[w.b.pk][K.WON_REVENUE] == money(Decimal("2000") + Decimal("4000"))
    assert total(book)[K.WON_REVENUE] == money(
        Decimal("1000") + Decimal("500") * EUR + Decimal("2000") + Decimal("4000")
    )
    assert isinstance(total(book)[K.WON_REVENUE], Decimal)


def test_pipeline_value_is_open_deals_closing_in_the_period(book):
    a = by_account(book)[book.world.a.pk]
    # 1000 (Proposal) + 1001 (Discovery) + 200 EUR (Negotiation); not the GBP one, not April's.
    assert a[K.PIPELINE_VALUE] == money(Decimal("1000") + Decimal("1001") + Decimal("200") * EUR)
    assert by_account(book)[book.world.b.pk][K.PIPELINE_VALUE] == Decimal("0.00")


def test_weighted_pipeline_multiplies_by_stage_probability(book):
    a = by_account(book)[book.world.a.pk]
    expected = (
        Decimal("1000") * Decimal("0.50")
        + Decimal("1001") * Decimal("0.25")  # 250.25: no integer division
        + Decimal("200") * EUR * Decimal("0.75")
    )
    assert a[K.WEIGHTED_PIPELINE] == money(expected)


def test_new_pipeline_is_every_deal_opened_in_the_period_whatever_its_status(book):
    figures = by_account(book)
    # A: won 1000, won 500 EUR, lost 700, open 1001, open 200 EUR (GBP ones left out).
    assert figures[book.world.a.pk][K.NEW_PIPELINE] == money(
        Decimal("1000")
        + Decimal("500") * EUR
        + Decimal("700")
        + Decimal("1001")
        + Decimal("200") * EUR
    )
    # B: won 2000 and 4000, lost 1000 (the other lost one was opened in October).
    assert figures[book.world.b.pk][K.NEW_PIPELINE] == money(
        Decimal("2000") + Decimal("4000") + Decimal("1000")
    )


def test_average_deal_size_divides_by_the_deals_whose_amount_converts(book):
    figures = by_account(book)
    # The GBP deal is won but has no amount in USD: it can't count in the average either.
    assert figures[book.world.a.pk][K.AVERAGE_DEAL] == money(
        (Decimal("1000") + Decimal("500") * EUR) / 2
    )
    assert figures[book.world.b.pk][K.AVERAGE_DEAL] == money(
        (Decimal("2000") + Decimal("4000")) / 2
    )


# --- closing ---------------------------------------------------------------------------------


def test_win_rate_is_won_over_won_and_lost(book):
    figures = by_account(book)
    assert figures[book.world.a.pk][K.WIN_RATE] == round(100 * 3 / (3 + 1), 1)  # GBP one counts
    assert figures[book.world.b.pk][K.WIN_RATE] == round(100 * 2 / (2 + 2), 1)
    assert total(book)[K.WIN_RATE] == round(100 * 5 / (5 + 3), 1)


def test_sales_cycle_is_the_median_days_from_opening_to_winning(book):
    figures = by_account(book)
    assert figures[book.world.a.pk][K.SALES_CYCLE_DAYS] == statistics.median([10, 30, 20])
    assert figures[book.world.b.pk][K.SALES_CYCLE_DAYS] == (2 + 4) / 2  # even count
    assert total(book)[K.SALES_CYCLE_DAYS] == statistics.median([10, 30, 20, 2, 4])


# --- registrations ---------------------------------------------------------------------------


def test_deals_registered_counts_submissions_in_the_period(book):
    figures = by_account(book)
    # approved, expired, converted, rejected, returned, withdrawn, under review; not the draft.
    assert figures[book.world.a.pk][K.DEALS_REGISTERED] == 7
    assert figures[book.world.b.pk][K.DEALS_REGISTERED] == 3
    assert total(book)[K.DEALS_REGISTERED] == 7 + 3


def test_approval_rate_counts_expired_and_converted_as_approved_not_returned_or_withdrawn(book):
    figures = by_account(book)
    assert figures[book.world.a.pk][K.APPROVAL_RATE] == round(100 * 3 / (3 + 1), 1)
    assert figures[book.world.b.pk][K.APPROVAL_RATE] == round(100 * 1 / (1 + 2), 1)
    assert total(book)[K.APPROVAL_RATE] == round(100 * 4 / (4 + 3), 1)


def test_decision_hours_is_the_median_of_submission_to_decision(book):
    figures = by_account(book)
    assert figures[book.world.a.pk][K.DECISION_HOURS] == (20 + 30) / 2  # 10, 20, 30, 40
    assert figures[book.world.b.pk][K.DECISION_HOURS] == 7.0  # 5, 7, 9
    assert total(book)[K.DECISION_HOURS] == statistics.median([10, 20, 30, 40, 5, 7, 9])


def test_only_returned_or_withdrawn_decisions_leave_the_approval_rate_undefined(world):
    registration(world.a, RegistrationStatus.RETURNED, submitted=at(2026, 1, 6), hours=1)
    registration(world.a, RegistrationStatus.WITHDRAWN, submitted=at(2026, 1, 7), hours=2)
    figures = kpis.compute_total(PartnerAccount.objects.visible_to(world.admin), Q1)
    assert figures[K.DEALS_REGISTERED] == 2
    assert figures[K.APPROVAL_RATE] is None
    assert figures[K.DECISION_HOURS] is None


# --- leads -----------------------------------------------------------------------------------


def test_lead_acceptance_rate_counts_rejections_and_lapses_as_no(book):
    figures = by_account(book)
    # A: 3 accepted, 1 rejected, 1 lapsed (the lead taken back is not an answer).
    assert figures[book.world.a.pk][K.LEAD_ACCEPTANCE_RATE] == round(100 * 3 / (3 + 1 + 1), 1)
    assert figures[book.world.b.pk][K.LEAD_ACCEPTANCE_RATE] == round(100 * 1 / (1 + 1), 1)
    assert total(book)[K.LEAD_ACCEPTANCE_RATE] == round(100 * 4 / (4 + 3), 1)


def test_lead_accept_hours_is_the_median_of_assignment_to_acceptance(book):
    figures = by_account(book)
    assert figures[book.world.a.pk][K.LEAD_ACCEPT_HOURS] == 8.0  # 4, 12, 8
    assert figures[book.world.b.pk][K.LEAD_ACCEPT_HOURS] == 24.0
    assert total(book)[K.LEAD_ACCEPT_HOURS] == (8 + 12) / 2  # 4, 8, 12, 24


# --- people ----------------------------------------------------------------------------------


def test_certified_people_valid_on_the_last_day_once_per_person(book):
    figures = by_account(book)
    # A: the admin (two certificates) and E (expires on 31 March); not the expired, revoked
    # or not-yet-issued ones.
    assert figures[book.world.a.pk][K.CERTIFIED_PEOPLE] == 2
    assert figures[book.world.b.pk][K.CERTIFIED_PEOPLE] == 1
    assert total(book)[K.CERTIFIED_PEOPLE] == 2 + 1


def test_certified_people_of_a_running_period_are_read_today(book):
    q2 = Period.parse("2026-Q2")
    # On 15 April: D's certificate (issued 1 April) is valid, E's expired on 31 March.
    figures = kpis.compute(book.accounts, q2, by="account", today=date(2026, 4, 15))
    assert figures[book.world.a.pk][K.CERTIFIED_PEOPLE] == 2  # the admin and D
    # Before D's certificate was issued:
    figures = kpis.compute(book.accounts, Period.parse("2026-03"), by="account", today=AFTER_Q1)
    assert figures[book.world.a.pk][K.CERTIFIED_PEOPLE] == 2  # the admin and E


def test_training_completion_is_completed_over_started_as_of_the_last_day(book):
    figures = by_account(book)
    w = book.world
    # A: 4 started by 31 March (not the one of 10 April), 2 completed by then.
    assert figures[w.a.pk][K.TRAINING_COMPLETION] == round(100 * 2 / 4, 1)
    assert figures[w.b.pk][K.TRAINING_COMPLETION] == 100.0
    assert figures[w.a_child.pk][K.TRAINING_COMPLETION] == round(100 * 1 / 2, 1)
    assert total(book)[K.TRAINING_COMPLETION] == round(100 * (2 + 1 + 1) / (4 + 1 + 2), 1)


def test_satisfaction_has_no_data_until_surveys_exist(book):
    assert total(book)[K.SATISFACTION] is None
    assert all(v[K.SATISFACTION] is None for v in by_account(book).values())


# --- health ----------------------------------------------------------------------------------


def test_health_score_is_the_documented_weighted_blend(book):
    figures = by_account(book)
    assert kpis.HEALTH_WEIGHTS == {
        K.WIN_RATE: 30,
        K.LEAD_ACCEPTANCE_RATE: 20,
        K.APPROVAL_RATE: 15,
        K.TRAINING_COMPLETION: 15,
        K.SATISFACTION: 20,
    }
    # Satisfaction has no data: its 20 drop out and the other weights (80) are rescaled.
    assert figures[book.world.a.pk][K.HEALTH_SCORE] == round(
        (75.0 * 30 + 60.0 * 20 + 75.0 * 15 + 50.0 * 15) / (30 + 20 + 15 + 15), 1
    )
    assert figures[book.world.b.pk][K.HEALTH_SCORE] == round(
        (50.0 * 30 + 50.0 * 20 + 33.3 * 15 + 100.0 * 15) / (30 + 20 + 15 + 15), 1
    )
    # A1 has training only: the score is its completion.
    assert figures[book.world.a_child.pk][K.HEALTH_SCORE] == 50.0


def test_health_score_rescales_satisfaction_and_is_none_without_any_data():
    assert kpis.health_score({}) is None
    assert kpis.health_score({K.SATISFACTION: 20.0}) == (20 + 100) / 2
    assert kpis.health_score({K.WIN_RATE: 40.0, K.SATISFACTION: -100.0}) == round(
        (40.0 * 30 + 0.0 * 20) / (30 + 20), 1
    )


# --- empty periods, zero division -------------------------------------------------------------


EMPTY = {
    K.WON_REVENUE: Decimal("0.00"),
    K.PIPELINE_VALUE: Decimal("0.00"),
    K.WEIGHTED_PIPELINE: Decimal("0.00"),
    K.NEW_PIPELINE: Decimal("0.00"),
    K.DEALS_REGISTERED: 0,
    K.APPROVAL_RATE: None,
    K.DECISION_HOURS: None,
    K.WIN_RATE: None,
    K.AVERAGE_DEAL: None,
    K.SALES_CYCLE_DAYS: None,
    K.LEAD_ACCEPTANCE_RATE: None,
    K.LEAD_ACCEPT_HOURS: None,
    K.CERTIFIED_PEOPLE: 0,
    K.TRAINING_COMPLETION: None,
    K.SATISFACTION: None,
    K.HEALTH_SCORE: None,
}


def test_an_empty_period_gives_zeros_for_sums_and_none_for_rates(book):
    period = Period.parse("2020-Q2")  # before anyone's data
    assert total(book, period) == EMPTY
    assert by_account(book, period) == {}
    assert kpis.empty_values() == EMPTY
    assert set(EMPTY) == set(KpiCode.values)


def test_an_account_without_data_is_all_zeros_and_none(book):
    # A1 has training only; outside it every figure is empty.
    only_child = book.accounts.filter(pk=book.world.a_child.pk)
    figures = kpis.compute_total(only_child, Q1, today=AFTER_Q1)
    assert figures == {**EMPTY, K.TRAINING_COMPLETION: 50.0, K.HEALTH_SCORE: 50.0}
    assert kpis.compute_total(book.accounts.none(), Q1) == EMPTY


def test_open_deals_only_give_a_pipeline_and_no_rate(world):
    opportunity(world.a, "100", created=at(2026, 1, 1), close_date=date(2026, 2, 1))
    figures = kpis.compute_total(PartnerAccount.objects.visible_to(world.admin), Q1)
    assert figures[K.PIPELINE_VALUE] == Decimal("100.00")
    assert figures[K.WIN_RATE] is None
    assert figures[K.AVERAGE_DEAL] is None
    assert figures[K.SALES_CYCLE_DAYS] is None
    assert figures[K.HEALTH_SCORE] is None


def test_only_lost_deals_is_a_zero_win_rate_not_none(world):
    opportunity(world.a, "100", status="lost", created=at(2026, 1, 1), closed=at(2026, 1, 2))
    figures = kpis.compute_total(PartnerAccount.objects.visible_to(world.admin), Q1)
    assert figures[K.WIN_RATE] == 0.0
    assert figures[K.WON_REVENUE] == Decimal("0.00")
    assert figures[K.AVERAGE_DEAL] is None
    assert figures[K.HEALTH_SCORE] == 0.0


def test_only_deals_in_a_currency_without_rate_give_no_money_and_no_average(world):
    opportunity(
        world.a, "300", currency="GBP", status="won", created=at(2026, 1, 1), closed=at(2026, 1, 2)
    )
    figures = kpis.compute_total(PartnerAccount.objects.visible_to(world.admin), Q1)
    assert figures[K.WON_REVENUE] == Decimal("0.00")
    assert figures[K.WIN_RATE] == 100.0
    assert figures[K.AVERAGE_DEAL] is None


def test_a_new_rate_converts_the_amounts_it_covers(book):
    CurrencyRate.objects.create(currency="GBP", rate=Decimal("1.25"))
    a = by_account(book)[book.world.a.pk]
    won = Decimal("1000") + Decimal("500") * EUR + Decimal("300") * Decimal("1.25")
    assert a[K.WON_REVENUE] == money(won)
    assert a[K.AVERAGE_DEAL] == money(won / 3)


# --- grouping --------------------------------------------------------------------------------

ADDITIVE = (
    K.WON_REVENUE,
    K.PIPELINE_VALUE,
    K.WEIGHTED_PIPELINE,
    K.NEW_PIPELINE,
    K.DEALS_REGISTERED,
)


def summed(figures: dict, keys, code):
    return sum((figures[k][code] for k in keys if k in figures), start=EMPTY[code])


def test_groups_add_up_to_their_accounts(book):
    w = book.world
    accounts = by_account(book)
    groups = {
        "tier": {w.tier.pk: [w.a.pk, w.a_child.pk], book.silver.pk: [w.b.pk]},
        "region": {"emea": [w.a.pk], "": [w.a_child.pk], "na": [w.b.pk]},
        "manager": {w.manager.pk: [w.a.pk, w.a_child.pk], w.other_manager.pk: [w.b.pk]},
    }
    for by, members in groups.items():
        figures = kpis.compute(book.accounts, Q1, by=by, today=AFTER_Q1)
        assert set(figures) == set(members), by
        for group, keys in members.items():
            for code in ADDITIVE:
                assert figures[group][code] == summed(accounts, keys, code), (by, code)
    assert set(accounts) == {w.a.pk, w.a_child.pk, w.b.pk}


def test_a_group_recomputes_its_rates_from_the_rows_not_from_averages(book):
    w = book.world
    gold = kpis.compute(book.accounts, Q1, by="tier", today=AFTER_Q1)[w.tier.pk]
    # A (2 of 4) and A1 (1 of 2): 3 of 6, not the mean of 50 % and 50 %… nor of anything else.
    assert gold[K.TRAINING_COMPLETION] == round(100 * 3 / 6, 1)
    assert gold[K.WIN_RATE] == round(100 * 3 / 4, 1)
    assert gold[K.CERTIFIED_PEOPLE] == 2
    manager = kpis.compute(book.accounts, Q1, by="manager", today=AFTER_Q1)
    assert manager[w.other_manager.pk][K.DECISION_HOURS] == 7.0


def test_a_person_certified_for_two_accounts_counts_once_in_their_group(book):
    w = book.world
    course = Course.objects.get(slug="advanced")
    certificate(
        w.partner_admin_a, w.a_child, course, issued=date(2026, 1, 1), expires=date(2027, 1, 1)
    )
    gold = kpis.compute(book.accounts, Q1, by="tier", today=AFTER_Q1)[w.tier.pk]
    accounts = by_account(book)
    assert accounts[w.a.pk][K.CERTIFIED_PEOPLE] == 2
    assert accounts[w.a_child.pk][K.CERTIFIED_PEOPLE] == 1
    assert gold[K.CERTIFIED_PEOPLE] == 2  # the admin, E
    assert total(book)[K.CERTIFIED_PEOPLE] == 3


def test_scoping_the_accounts_scopes_the_figures(book):
    w = book.world
    mine = PartnerAccount.objects.visible_to(w.partner_admin_b)
    figures = kpis.compute_total(mine, Q1, today=AFTER_Q1)
    assert figures[K.WON_REVENUE] == money(Decimal("2000") + Decimal("4000"))
    assert figures[K.DEALS_REGISTERED] == 3
    assert set(kpis.compute(mine, Q1, by="account", today=AFTER_Q1)) == {w.b.pk}


def test_an_unknown_grouping_is_refused(book):
    with pytest.raises(ValueError):
        kpis.compute(book.accounts, Q1, by="country")


# --- periods ---------------------------------------------------------------------------------


def test_month_year_and_custom_periods(book):
    w = book.world
    jan = kpis.compute(book.accounts, Period.parse("2026-01"), by="account", today=AFTER_Q1)
    assert jan[w.a.pk][K.WON_REVENUE] == money("1000")
    assert jan[w.b.pk][K.WON_REVENUE] == money("4000")
    feb = kpis.compute_total(book.accounts, Period.parse("2026-02"), today=AFTER_Q1)
    assert feb[K.WON_REVENUE] == money(Decimal("500") * EUR + Decimal("2000"))
    assert feb[K.WIN_RATE] == 100.0  # the 500 EUR, the 300 GBP and B's 2000: all won
    custom = Period.parse("2026-01-01..2026-01-31")
    assert kpis.compute(book.accounts, custom, by="account", today=AFTER_Q1) == jan
    year = kpis.compute(book.accounts, Period.parse("2026"), by="account", today=AFTER_Q1)
    # The year holds Q1 and the April pipeline.
    assert year[w.a.pk][K.WON_REVENUE] == money(Decimal("1000") + Decimal("500") * EUR)
    assert year[w.a.pk][K.PIPELINE_VALUE] == money(
        Decimal("1000") + Decimal("1001") + Decimal("200") * EUR + Decimal("5000")
    )
    previous = kpis.compute(book.accounts, Q1.previous(), by="account", today=AFTER_Q1)
    assert previous[w.a.pk][K.WON_REVENUE] == money("999")
    assert previous[w.a.pk][K.DECISION_HOURS] == 24.0
    assert previous[w.a.pk][K.LEAD_ACCEPT_HOURS] == 2.0


def test_period_parse_keys_labels_and_neighbours():
    q4 = Period.parse("2026-Q4")
    assert (q4.start, q4.end, q4.kind) == (date(2026, 10, 1), date(2027, 1, 1), "quarter")
    assert (q4.key, q4.label, str(q4)) == ("2026-Q4", "Q4 2026", "Q4 2026")
    assert q4.previous().key == "2026-Q3"
    assert q4.next().key == "2027-Q1"
    assert Period.parse("2026-Q1").previous().key == "2025-Q4"
    assert Period.parse("2026-q2") == Period.parse("2026-Q2")

    nov = Period.parse("2026-11")
    assert (nov.start, nov.end, nov.label) == (date(2026, 11, 1), date(2026, 12, 1), "Nov 2026")
    assert Period.parse("2026-01").previous().key == "2025-12"
    assert Period.parse("2026-12").next().key == "2027-01"

    year = Period.parse(" 2026 ")
    assert (year.start, year.end, year.label, year.key) == (
        date(2026, 1, 1),
        date(2027, 1, 1),
        "2026",
        "2026",
    )
    assert year.previous().key == "2025"

    custom = Period.parse("2026-01-01..2026-02-15")
    assert (custom.start, custom.last, custom.end) == (
        date(2026, 1, 1),
        date(2026, 2, 15),
        date(2026, 2, 16),
    )
    assert custom.days == 31 + 15
    assert custom.label == "01 Jan 2026 – 15 Feb 2026"
    assert Period.parse(custom.key) == custom
    previous = custom.previous()
    assert (previous.start, previous.last) == (date(2025, 11, 16), date(2025, 12, 31))
    assert previous.days == custom.days
    for period in (q4, nov, year, custom):
        assert Period.parse(period.key) == period


@pytest.mark.parametrize(
    "text",
    ["", "2026-Q5", "2026-13", "2026-Q0", "Q4 2026", "26", "2026-02-15..2026-01-01", "a..b", None],
)
def test_period_parse_refuses_what_is_not_a_period(text):
    with pytest.raises(ValueError):
        Period.parse(text)


def test_months_and_trailing_months():
    assert [m.key for m in Q1.months()] == ["2026-01", "2026-02", "2026-03"]
    assert [m.key for m in Period.parse("2026-01-15..2026-03-02").months()] == [
        "2026-01",
        "2026-02",
        "2026-03",
    ]
    months = kpis.trailing_months(12, today=date(2026, 3, 15))
    assert [months[0].key, months[-1].key, len(months)] == ["2025-04", "2026-03", 12]


def test_elapsed_share_of_a_quarter():
    days = 31 + 28 + 31  # Q1 2026
    assert Q1.days == days
    assert Q1.elapsed(date(2025, 12, 31)) == 0.0
    assert Q1.elapsed(date(2026, 1, 1)) == 1 / days
    assert Q1.elapsed(date(2026, 2, 15)) == (31 + 15) / days
    assert Q1.elapsed(date(2026, 3, 31)) == 1.0
    assert Q1.elapsed(date(2026, 7, 1)) == 1.0
    assert Q1.as_of(date(2026, 2, 15)) == date(2026, 2, 15)
    assert Q1.as_of(date(2026, 7, 1)) == date(2026, 3, 31)
    assert Q1.contains(date(2026, 3, 31)) and not Q1.contains(date(2026, 4, 1))


def test_quarters_follow_the_configured_time_zone(world, settings):
    settings.TIME_ZONE = "Europe/Berlin"
    q2 = Period.parse("2026-Q2")
    # Berlin is on summer time (UTC+2) from 29 March 2026.
    assert q2.start_at == datetime(2026, 3, 31, 22, 0, tzinfo=UTC)
    assert Period.parse("2026-Q1").start_at == datetime(2025, 12, 31, 23, 0, tzinfo=UTC)
    # 23:30 UTC on 31 March is 01:30 on 1 April in Berlin: a Q2 deal.
    opportunity(
        world.a, "800", status="won", created=at(2026, 3, 1), closed=at(2026, 3, 31, 23, 30)
    )
    # 23:30 UTC on 31 December 2025 is already 2026 in Berlin (UTC+1): a Q1 deal.
    opportunity(
        world.a, "50", status="won", created=at(2025, 12, 1), closed=at(2025, 12, 31, 23, 30)
    )
    accounts = PartnerAccount.objects.visible_to(world.admin)
    assert kpis.compute_total(accounts, q2)[K.WON_REVENUE] == money("800")
    assert kpis.compute_total(accounts, Period.parse("2026-Q1"))[K.WON_REVENUE] == money("50")
    assert kpis.compute_total(accounts, Period.parse("2025-Q4"))[K.WON_REVENUE] == money("0")
    trend = kpis.trend(accounts, Period.parse("2026").months(), K.WON_REVENUE)
    assert trend == {(date(2026, 1, 1), None): money("50"), (date(2026, 4, 1), None): money("800")}


def test_quarters_in_utc_put_the_same_deal_in_march(world):
    opportunity(
        world.a, "800", status="won", created=at(2026, 3, 1), closed=at(2026, 3, 31, 23, 30)
    )
    accounts = PartnerAccount.objects.visible_to(world.admin)
    assert kpis.compute_total(accounts, Period.parse("2026-Q1"))[K.WON_REVENUE] == money("800")


# --- trends ----------------------------------------------------------------------------------


def test_trend_of_won_revenue_by_month_and_account(book):
    w = book.world
    months = Q1.months()
    jan, feb = date(2026, 1, 1), date(2026, 2, 1)
    assert kpis.trend(book.accounts, months, K.WON_REVENUE) == {
        (jan, None): money(Decimal("1000") + Decimal("4000")),
        (feb, None): money(Decimal("500") * EUR + Decimal("2000")),  # GBP left out
    }
    assert kpis.trend(book.accounts, months, K.WON_REVENUE, by="account") == {
        (jan, w.a.pk): money("1000"),
        (jan, w.b.pk): money("4000"),
        (feb, w.a.pk): money(Decimal("500") * EUR),
        (feb, w.b.pk): money("2000"),
    }
    by_tier = kpis.trend(book.accounts, months, K.WON_REVENUE, by="tier")
    assert by_tier[(jan, w.tier.pk)] == money("1000")
    assert by_tier[(jan, book.silver.pk)] == money("4000")
    # The months add up to the quarter.
    assert (
        sum(kpis.trend(book.accounts, months, K.WON_REVENUE).values())
        == (total(book)[K.WON_REVENUE])
    )


def test_trend_of_pipeline_registrations_and_new_pipeline(book):
    jan, feb, mar = date(2026, 1, 1), date(2026, 2, 1), date(2026, 3, 1)
    months = Q1.months()
    pipeline = kpis.trend(book.accounts, months, K.PIPELINE_VALUE)
    assert pipeline[(feb, None)] == money("1001")
    assert pipeline[(mar, None)] == money(Decimal("1000") + Decimal("200") * EUR)
    assert pipeline.get((jan, None), 0) == 0  # only the GBP deal closes in January
    weighted = kpis.trend(book.accounts, months, K.WEIGHTED_PIPELINE)
    assert weighted[(feb, None)] == money(Decimal("1001") * Decimal("0.25"))
    assert weighted[(mar, None)] == money(
        Decimal("1000") * Decimal("0.5") + Decimal("200") * EUR * Decimal("0.75")
    )
    registered = kpis.trend(book.accounts, months, K.DEALS_REGISTERED, by="region")
    assert registered == {(jan, "emea"): 7, (feb, "na"): 3}
    new = kpis.trend(book.accounts, months, K.NEW_PIPELINE)
    assert new[(jan, None)] == money(
        Decimal("1000") + Decimal("500") * EUR + Decimal("700") + Decimal("1001") + Decimal("4000")
    )
    assert new[(feb, None)] == money(Decimal("2000") + Decimal("1000"))
    assert new[(mar, None)] == money(Decimal("200") * EUR)
    assert sum(new.values()) == total(book)[K.NEW_PIPELINE]


def test_trend_refuses_a_kpi_without_monthly_series(book):
    with pytest.raises(ValueError):
        kpis.trend(book.accounts, Q1.months(), K.WIN_RATE)


def test_trend_is_one_query(book, django_assert_num_queries):
    accounts = book.accounts
    with django_assert_num_queries(2):  # the rates, the series
        kpis.trend(accounts, Q1.months(), K.WON_REVENUE, by="manager")


# --- cost ------------------------------------------------------------------------------------


def add_accounts(world, count: int) -> None:
    """More accounts, each with a won deal, an open one, a registration, a lead and a course."""
    course = Course.objects.get_or_create(slug="more", defaults={"title": "More"})[0]
    for i in range(count):
        account = PartnerAccount.objects.create(
            name=f"More Partner {i:02d}",
            tier=world.tier,
            status=AccountStatus.ACTIVE,
            manager=world.manager,
            region="emea",
        )
        opportunity(account, "10", status="won", created=at(2026, 1, 1), closed=at(2026, 1, 2))
        opportunity(account, "20", created=at(2026, 1, 1), close_date=date(2026, 2, 1))
        registration(account, RegistrationStatus.REJECTED, submitted=at(2026, 1, 1), hours=3)
        accepted_lead(account, assigned=at(2026, 1, 1), hours=5)
        user, _ = make_partner_user(account, f"p{i}@more{i}.example", PortalAccess.ADMIN)
        enrollment(user, course, enrolled=at(2026, 1, 1))
        certificate(user, account, course, issued=date(2026, 1, 1), expires=date(2027, 1, 1))


@pytest.mark.parametrize("by", [None, "account", "tier", "region", "manager"])
def test_compute_costs_one_query_per_source_plus_the_rates(book, by, django_assert_num_queries):
    # sources reading the same rows share a query (closed deals: revenue and sales cycle;
    # decided registrations: approval rate and time to decision)
    expected = len({(source.rows, source.account_path) for source in kpis.SOURCES})
    assert expected == 10
    accounts = PartnerAccount.objects.visible_to(book.world.admin)
    with django_assert_num_queries(expected + 1):  # + the exchange rates, then kept a minute
        kpis.compute(accounts, Q1, by=by, today=AFTER_Q1)
    with django_assert_num_queries(expected):
        few = kpis.compute(accounts, Q1, by=by, today=AFTER_Q1)
    add_accounts(book.world, 17)  # 20 accounts
    accounts = PartnerAccount.objects.visible_to(book.world.admin)
    with django_assert_num_queries(expected):
        many = kpis.compute(accounts, Q1, by=by, today=AFTER_Q1)
    if by == "account":
        assert len(few) == 3 and len(many) == 3 + 17


def test_compute_reads_only_the_sources_asked_for(book):
    codes = [K.WON_REVENUE, K.DEALS_REGISTERED]
    sources = kpis.sources_for(codes)
    assert [s.name for s in sources] == ["opportunities closed", "registrations submitted"]
    kpis.exchange_rates()
    with CaptureQueriesContext(connection) as queries:
        figures = kpis.compute_total(book.accounts, Q1, sources=sources, today=AFTER_Q1)
    assert len(queries) == len(sources)
    assert figures[K.WON_REVENUE] == total(book)[K.WON_REVENUE]
    assert figures[K.DEALS_REGISTERED] == 10
    health = {s.name for s in kpis.sources_for([K.HEALTH_SCORE])}
    assert {"opportunities closed", "lead answers", "enrollments"} <= health


def test_a_changed_exchange_rate_counts_at_once_although_rates_are_kept(book):
    before = kpis.compute_total(book.accounts, Q1, today=AFTER_Q1)[K.WON_REVENUE]
    rate = CurrencyRate.objects.get(currency="EUR")
    rate.rate = rate.rate * 2
    rate.save()
    after = kpis.compute_total(book.accounts, Q1, today=AFTER_Q1)[K.WON_REVENUE]
    assert after > before
    rate.delete()
    assert "EUR" not in kpis.exchange_rates()
