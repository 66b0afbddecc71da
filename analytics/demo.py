"""Demo data of the analytics app (called by ``manage.py seed_demo``): a year of history so the
scorecards, dashboards and the ranked table have shape, quarterly goals, saved reports.

- **History** for the three demo partners and the first ``HISTORY_ACCOUNTS`` other active ones:
  over the 12 months before today, opportunities won and lost (a rising trend; a share of
  Northwind's in EUR, with the EUR→USD rate), deal registrations submitted and decided hours to
  days later, leads assigned and accepted, rejected or let lapse (then taken by another partner),
  and a little open pipeline closing this quarter and next. It is planned in Python from a
  seeded random generator per partner and written in sets (``bulk_create``, with the
  ``created_at`` dates we give: see ``_dated_as_given``), as the CRM import it stands for would
  be, each record with the history steps the services would have kept. An account that has
  history already (one of its opportunities closed with one of ``WON_REASONS`` /
  ``LOST_REASONS``) is skipped: running ``seed_demo`` again creates nothing.
- **Goals** for Northwind Systems and Contoso Partners: this quarter's set by their managers
  through the services (one proposed by Northwind's partner admin, waiting for Maya), last
  quarter's as they were agreed then.
- **Saved reports**: one per manager ("Open pipeline by stage", "Registrations this quarter")
  and one the admin shares with the managers ("Won deals by tier").
- Finally the kept partner scores of this quarter and the last one are refreshed, so the ranked
  table is filled before the first worker run.
"""

from __future__ import annotations

import random
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal

from partners.demo import ADMIN_EMAIL, ATLAS, CONTOSO, LEO_EMAIL, MAYA_EMAIL, NORTHWIND

SEED = 5
MONTHS = 12
#: Other active partners (lowest ids first) that get a lighter history, so that tiers, regions
#: and the ranked table have more than three rows to compare.
HISTORY_ACCOUNTS = 15
BATCH = 500
EUR_RATE = Decimal("1.08")

WON_REASONS = [
    "Signed after a successful pilot.",
    "Won on the integration services we bundled.",
    "Customer standardised on the platform across sites.",
    "Renewal brought forward with an upgrade.",
    "Chosen over the incumbent on total cost.",
]
LOST_REASONS = [
    "Lost on price to the incumbent.",
    "Project postponed to next fiscal year.",
    "Customer chose a managed service from their telecom provider.",
    "No decision: the sponsor left the company.",
]
LEAD_LOST_REASONS = [
    "No budget this year.",
    "The customer went with a direct deal.",
    "Could not reach the decision maker.",
]
LEAD_REJECT_REASONS = [
    "Outside the regions we cover.",
    "Too small for our team to serve well.",
    "We have a conflict of interest with this customer.",
]
LAPSED_REASON = "Not accepted in time"  # deals.routing.LAPSED_REASON (checked in tests)
REJECT_REASON = "The customer already works with a partner we can't displace."


#: How much history each demo partner has: (won per month at the start, at the end), the
#: share lost among closed deals, registrations and leads per month, the share of leads
#: accepted, the share of deals in EUR, the range of deal amounts.
@dataclass(frozen=True)
class Profile:
    won: tuple[float, float]
    lost_share: float
    registrations: tuple[float, float]
    leads: tuple[float, float]
    accept_share: float
    eur_share: float
    amounts: tuple[int, int]
    open_deals: int


PROFILES = {
    NORTHWIND: Profile((1.5, 4.5), 0.35, (2, 4.5), (2, 4), 0.75, 0.4, (6000, 48000), 5),
    CONTOSO: Profile((1, 2.5), 0.45, (1.5, 3), (1.5, 3), 0.6, 0.0, (5000, 36000), 4),
    ATLAS: Profile((2, 4), 0.3, (1.5, 3), (1, 2), 0.8, 0.0, (12000, 90000), 4),
}
#: Generated partners: scaled by their tier's rank (Registered 10 … Platinum 40).
GENERATED = Profile((0.3, 1.2), 0.45, (0.4, 1.2), (0.4, 1.2), 0.65, 0.0, (3000, 40000), 1)


def _words(text: str) -> list[str]:
    return text.split()


CUSTOMER_FIRST = _words(
    "Aldenburg Alpine Baltic Bergen Brightwater Castell Coastal Danube Elbe Fairhaven Fenwick "
    "Glenmore Hanover Highgate Inland Jadestone Kingsbridge Lakemont Lindenhof Marlow Midland "
    "Moorfield Northbank Oakhurst Pembroke Quarry Redcliffe Rheintal Rosewood Saxon Seaview "
    "Silverton Southport Thornbury Trentham Upland Valemont Westbury Whitmore Yarrow"
)
CUSTOMER_SECOND = _words(
    "Analytics Bakeries Bank Brewery Builders Chemicals Clinics Credit Dairy Energy Engineering "
    "Foods Freight Glassworks Health Hotels Insurance Logistics Machining Media Metals Mining "
    "Motors Packaging Pharma Plastics Printing Retail Robotics Shipping Steel Telecom Textiles "
    "Transit Utilities Water"
)
CUSTOMER_LEGAL = ["GmbH", "Ltd", "Inc.", "AG", "LLC", "", "", ""]


# --- entry point ----------------------------------------------------------------------------


def seed(report) -> None:
    seed_analytics(report)
    seed_surveys(report)
    seed_alerts(report)
    seed_reviews(report)


def seed_analytics(report, *, today=None) -> None:
    from django.db import transaction

    with transaction.atomic():
        seed_currency_rates(report)
        seed_history(report, today=today)
        seed_goals(report, today=today)
        seed_reports(report)
    refresh_demo_scores(today=today)


def seed_currency_rates(report) -> None:
    from analytics.models import CurrencyRate

    _, created = CurrencyRate.objects.get_or_create(currency="EUR", defaults={"rate": EUR_RATE})
    report.created["currency rates"] += created


# --- history --------------------------------------------------------------------------------


@dataclass
class Actors:
    manager: object  # the internal user who assigns leads and decides registrations
    partner: object | None  # the partner admin who works the deals (None: a generated partner)


class Plan:
    """The rows of one run: (record, its created_at) pairs and the history steps."""

    def __init__(self, now: datetime):
        self.now = now
        self.latest = now - timedelta(minutes=5)
        self.registrations: list = []
        self.lines: list = []
        self.registration_events: list = []
        self.leads: list = []
        self.lead_products: list = []  # (lead, product)
        self.lead_events: list = []
        self.rejections: list = []
        self.opportunities: list = []
        self.opportunity_events: list = []
        self.names: set[str] = set()  # customer names used by this run
        self.taken: set[str] = set()  # customer keys of approved registrations already there
        self.keys: dict = {}  # (company, domain) -> CustomerKey

    def clamp(self, moment: datetime) -> datetime:
        return min(moment, self.latest)


def seed_history(report, *, today=None) -> None:
    from django.contrib.auth import get_user_model
    from django.utils import timezone

    from analytics.kpis import Period, trailing_months
    from deals.models import DealRegistration, Opportunity, PipelineStage, Product
    from partners.models import AccountStatus, Contact, PartnerAccount, PortalAccess

    stages = list(PipelineStage.objects.filter(active=True).order_by("position", "pk"))
    products = list(Product.objects.filter(active=True).order_by("sku"))
    if not stages or not products:
        return
    fixed = {
        a.name: a for a in PartnerAccount.objects.filter(name__in=PROFILES).select_related("tier")
    }
    generated = list(
        PartnerAccount.objects.filter(status=AccountStatus.ACTIVE)
        .exclude(name__in=PROFILES)
        .select_related("tier")
        .order_by("pk")[:HISTORY_ACCOUNTS]
    )
    accounts = [fixed[name] for name in PROFILES if name in fixed] + generated
    done = set(
        Opportunity.objects.filter(
            account__in=accounts, reason__in=WON_REASONS + LOST_REASONS
        ).values_list("account_id", flat=True)
    )
    todo = [a for a in accounts if a.pk not in done]
    if not todo:
        return

    admin = get_user_model().objects.filter(email=ADMIN_EMAIL).first()
    managers = get_user_model().objects.in_bulk({a.manager_id for a in todo if a.manager_id})
    partner_admins: dict = {}
    for contact in (
        Contact.objects.filter(
            account__in=list(fixed.values()), portal_access=PortalAccess.ADMIN, user__isnull=False
        )
        .select_related("user")
        .order_by("pk")
    ):
        partner_admins.setdefault(contact.account_id, contact.user)

    now = timezone.now()
    day = today or timezone.localdate()
    # The 12 months before this one, then this one up to a couple of days ago.
    months = [*trailing_months(MONTHS + 1, today=day)[:-1], Period.month(day)]
    plan = Plan(now)
    # Approved registrations are unique per customer: keep clear of the ones there already.
    for name_key, domain in DealRegistration.objects.filter(status="approved").values_list(
        "customer_name_key", "customer_domain"
    ):
        plan.taken.update(filter(None, (name_key, domain)))
    for account in todo:
        profile, scale = PROFILES.get(account.name), 1.0
        if profile is None:
            profile = GENERATED
            scale = account.tier.rank / 20 if account.tier_id else 0.5
        actors = Actors(
            manager=managers.get(account.manager_id) or admin,
            partner=partner_admins.get(account.pk),
        )
        others = [a for a in accounts if a.pk != account.pk]
        rng = random.Random(f"{SEED}:{account.name}")
        _plan_account(plan, rng, account, profile, scale, actors, others, months, stages, products)
    _write(plan, report)


def _count(rng: random.Random, value: float) -> int:
    whole = int(value)
    return whole + (rng.random() < value - whole)


def _between(rng: random.Random, start: datetime, end: datetime) -> datetime:
    return start + (end - start) * rng.random()


def _customer(rng: random.Random, plan: Plan) -> tuple[str, str]:
    """A customer no other history record names (an approved registration holds its customer)."""
    from deals.models import CustomerKey

    for attempt in range(10_000):
        base = f"{rng.choice(CUSTOMER_FIRST)} {rng.choice(CUSTOMER_SECOND)}"
        if attempt > 20:  # the word lists are used up: number them
            base = f"{base} {rng.randrange(2, 10_000)}"
        slug = base.lower().replace(" ", "-")
        if base in plan.names:
            continue
        company, domain = f"{base} {rng.choice(CUSTOMER_LEGAL)}".strip(), f"{slug}.example"
        key = CustomerKey.of(company, domain)
        if key.name in plan.taken or key.domain in plan.taken:
            continue
        plan.names.add(base)
        plan.keys[company, domain] = key
        return company, domain
    raise RuntimeError("No free customer name left for the demo history.")


def _set_key(plan: Plan, record) -> None:
    """``set_customer_key`` (``bulk_create`` skips ``save``), each customer normalised once."""
    key = plan.keys[record.company, record.domain]
    record.customer_name_key, record.customer_domain = key.name, key.domain
    record.customer_domain_label = key.label


def _amount(rng: random.Random, profile: Profile, growth: float) -> Decimal:
    low, high = profile.amounts
    return Decimal(round(rng.uniform(low, high) * (0.85 + 0.3 * growth), -2))


def _plan_account(plan, rng, account, profile, scale, actors, others, months, stages, products):
    from deals.models import OpportunityStatus

    for index, month in enumerate(months):
        start, end = month.start_at, min(month.end_at, plan.now - timedelta(days=2))
        if end <= start:
            continue
        growth = index / (len(months) - 1)

        def per_month(pair, growth=growth):
            low, high = pair
            return (low + (high - low) * growth) * scale

        won = max(_count(rng, per_month(profile.won)), 1 if account.name in PROFILES else 0)
        lost = _count(rng, won * profile.lost_share / (1 - profile.lost_share))
        for n in range(won + lost):
            _plan_closed_deal(
                plan, rng, account, profile, actors, stages, products, _between(rng, start, end),
                won=n < won, growth=growth,
            )  # fmt: skip
        for _ in range(_count(rng, per_month(profile.registrations))):
            _plan_registration(plan, rng, account, actors, products, _between(rng, start, end))
        for _ in range(_count(rng, per_month(profile.leads))):
            _plan_lead(
                plan, rng, account, profile, actors, others, products, _between(rng, start, end)
            )
    # Open deals closing this quarter and next.
    for _ in range(round(profile.open_deals * scale)):
        company, domain = _customer(rng, plan)
        _opportunity(
            plan, account, actors, company, domain, rng.choice(products),
            amount=_amount(rng, profile, 1.0),
            currency="EUR" if rng.random() < profile.eur_share else "USD",
            stage=rng.choice(stages), status=OpportunityStatus.OPEN,
            created_at=plan.now - timedelta(days=rng.uniform(3, 70)),
            close_date=(plan.now + timedelta(days=rng.randint(7, 150))).date(),
        )  # fmt: skip


def _opportunity(
    plan, account, actors, company, domain, product, *, amount, currency, stage, status,
    created_at, close_date, closed_at=None, reason="", registration=None, lead=None,
):  # fmt: skip
    from deals.models import Opportunity, OpportunityEvent

    opportunity = Opportunity(
        name=f"{company} — {product.name}"[:200],
        company=company,
        domain=domain,
        account=account,
        owner=actors.partner,
        created_by=actors.partner,
        registration=registration,
        lead=lead,
        product_family=product.family,
        stage=stage,
        amount=amount,
        currency=currency,
        close_date=close_date,
        status=status,
        reason=reason,
        closed_at=closed_at,
    )
    _set_key(plan, opportunity)
    plan.opportunities.append((opportunity, created_at))
    plan.opportunity_events.append(
        OpportunityEvent(
            opportunity=opportunity,
            actor=actors.partner,
            from_status="",
            to_status=stage.name,
            created_at=created_at,
        )
    )
    if closed_at is not None:
        plan.opportunity_events.append(
            OpportunityEvent(
                opportunity=opportunity,
                actor=actors.partner,
                from_status=stage.name,
                to_status=opportunity.get_status_display(),
                reason=reason,
                created_at=closed_at,
            )
        )
    return opportunity


def _plan_closed_deal(
    plan, rng, account, profile, actors, stages, products, closed_at, *, won, growth
) -> None:
    from deals.models import OpportunityStatus

    company, domain = _customer(rng, plan)
    product = rng.choice(products)
    created_at = closed_at - timedelta(days=rng.uniform(14, 110))
    origin = rng.random()
    registration = lead = None
    if origin < 0.35:
        registration = _plan_registration(
            plan, rng, account, actors, [product],
            created_at - timedelta(days=rng.uniform(4, 9)),
            company=(company, domain), converted_at=created_at,
        )  # fmt: skip
    elif origin < 0.6:
        lead = _plan_converted_lead(
            plan, rng, account, actors, product, company, domain, created_at
        )
    _opportunity(
        plan, account, actors, company, domain, product,
        amount=_amount(rng, profile, growth),
        currency="EUR" if rng.random() < profile.eur_share else "USD",
        stage=stages[-1] if won else rng.choice(stages),
        status=OpportunityStatus.WON if won else OpportunityStatus.LOST,
        created_at=created_at, close_date=closed_at.date(), closed_at=closed_at,
        reason=rng.choice(WON_REASONS if won else LOST_REASONS),
        registration=registration, lead=lead,
    )  # fmt: skip


def _plan_registration(
    plan, rng, account, actors, products, submitted_at, *, company=None, converted_at=None
):
    """A registration submitted at ``submitted_at`` and decided hours to days later (or still
    under review when that is in the future); ``converted_at``: approved, then an opportunity."""
    from deals.models import DealRegistration, RegistrationEvent, RegistrationLine
    from deals.models import RegistrationStatus as S

    company, domain = company or _customer(rng, plan)
    product = rng.choice(products)
    quantity = max(1, int(rng.uniform(5000, 60000) / max(float(product.list_price), 1)))
    submitted_at = plan.clamp(submitted_at)
    # Most decided within a working day or two, a few after a week.
    hours = rng.choice([rng.uniform(1, 8), rng.uniform(4, 30), rng.uniform(20, 72)])
    if rng.random() < 0.1 and converted_at is None:
        hours = rng.uniform(80, 200)
    decided_at = submitted_at + timedelta(hours=hours)
    if converted_at is not None:
        status = S.CONVERTED
    elif decided_at > plan.latest:
        status, decided_at = S.SUBMITTED, None
    else:
        status = S.REJECTED if rng.random() < 0.18 else S.APPROVED
    expires_on = None
    if decided_at is not None and status != S.REJECTED:
        expires_on = (decided_at + timedelta(days=90)).date()
        if status == S.APPROVED and expires_on < plan.now.date():
            status = S.EXPIRED
    registration = DealRegistration(
        account=account,
        created_by=actors.partner,
        shared_with_account=True,
        company=company,
        domain=domain,
        contact_name="Jordan Example",
        contact_email=f"jordan@{domain}",
        product_family=product.family,
        amount=(product.list_price * quantity).quantize(Decimal("1")),
        expected_close_date=(submitted_at + timedelta(days=rng.randint(30, 120))).date(),
        status=status,
        submitted_at=submitted_at,
        decided_at=decided_at,
        decided_by=actors.manager if decided_at else None,
        decision_reason=REJECT_REASON if status == S.REJECTED else "",
        expires_on=expires_on,
    )
    _set_key(plan, registration)
    created_at = submitted_at - timedelta(minutes=rng.uniform(5, 600))
    plan.registrations.append((registration, created_at))
    plan.lines.append(
        RegistrationLine(registration=registration, product=product, quantity=quantity)
    )
    steps = [(S.DRAFT, S.SUBMITTED, actors.partner, submitted_at, "")]
    if decided_at is not None:
        decided = S.REJECTED if status == S.REJECTED else S.APPROVED
        steps.append((S.SUBMITTED, decided, actors.manager, decided_at,
                      registration.decision_reason))  # fmt: skip
        if status == S.EXPIRED:
            expired_at = datetime.combine(expires_on, datetime.min.time(), tzinfo=plan.now.tzinfo)
            steps.append((S.APPROVED, S.EXPIRED, None, plan.clamp(expired_at), ""))
    for before, after, actor, moment, reason in steps:
        plan.registration_events.append(
            RegistrationEvent(
                registration=registration,
                actor=actor,
                from_status=before,
                to_status=after,
                reason=reason,
                created_at=moment,
            )
        )
    if converted_at is not None:
        plan.registration_events.append(
            RegistrationEvent(
                registration=registration,
                actor=actors.partner,
                from_status=S.APPROVED,
                to_status=S.CONVERTED,
                created_at=converted_at,
            )
        )
    return registration


def _new_lead(plan, rng, account, company, domain, product, *, created_at, value=None):
    from deals.models import Lead

    lead = Lead(
        company=company,
        domain=domain,
        contact_name="Robin Example",
        contact_email=f"robin@{domain}",
        country=account.country,
        region=account.region,
        industry=account.industry,
        estimated_value=value or Decimal(round(rng.uniform(4000, 40000), -2)),
        source=rng.choice(["web", "event", "campaign", "referral"]),
    )
    _set_key(plan, lead)
    plan.leads.append((lead, created_at))
    plan.lead_products.append((lead, product))
    return lead


def _lead_step(plan, lead, before, after, *, actor, account, at, reason=""):
    from deals.models import LeadEvent

    plan.lead_events.append(
        LeadEvent(
            lead=lead,
            from_status=before,
            to_status=after,
            actor_id=getattr(actor, "pk", None),
            account_id=getattr(account, "pk", None),
            created_at=at,
            reason=reason,
        )
    )


def _accept_gap(rng) -> timedelta:
    """Assignment → acceptance: mostly the same day, some the next, a few near the deadline."""
    return timedelta(
        hours=rng.choice([rng.uniform(0.3, 6), rng.uniform(2, 20), rng.uniform(16, 44)])
    )


def _hold(plan, rng, lead, account, actors, assigned_at, before="new") -> datetime:
    """The lead assigned to ``account`` at ``assigned_at`` and accepted: returns when."""
    from deals.models import LeadStatus as L

    hours = account.tier.lead_acceptance_hours if account.tier_id else 48
    accepted_at = plan.clamp(assigned_at + _accept_gap(rng))
    lead.account, lead.status = account, L.ACCEPTED
    lead.assigned_at, lead.accept_by = assigned_at, assigned_at + timedelta(hours=hours)
    lead.accepted_at, lead.accepted_by = accepted_at, actors.partner
    _lead_step(plan, lead, before, L.ASSIGNED, actor=actors.manager, account=account,
               at=assigned_at)  # fmt: skip
    _lead_step(plan, lead, L.ASSIGNED, L.ACCEPTED, actor=actors.partner, account=account,
               at=accepted_at)  # fmt: skip
    return accepted_at


def _plan_converted_lead(plan, rng, account, actors, product, company, domain, opened_at):
    from deals.models import LeadStatus as L

    assigned_at = opened_at - timedelta(days=rng.uniform(3, 20))
    lead = _new_lead(
        plan, rng, account, company, domain, product,
        created_at=assigned_at - timedelta(hours=rng.uniform(1, 30)),
    )  # fmt: skip
    _lead_step(plan, lead, "", L.NEW, actor=actors.manager, account=None,
               at=assigned_at - timedelta(hours=1))  # fmt: skip
    _hold(plan, rng, lead, account, actors, assigned_at)
    lead.status = L.CONVERTED
    _lead_step(plan, lead, L.ACCEPTED, L.CONVERTED, actor=actors.partner, account=account,
               at=opened_at)  # fmt: skip
    return lead


def _plan_lead(plan, rng, account, profile, actors, others, products, assigned_at) -> None:
    """A lead handed to ``account``: accepted (then lost or still worked), or rejected / let
    lapse and then taken by another partner."""
    from deals.models import LeadStatus as L

    company, domain = _customer(rng, plan)
    lead = _new_lead(
        plan, rng, account, company, domain, rng.choice(products),
        created_at=assigned_at - timedelta(hours=rng.uniform(1, 48)),
    )  # fmt: skip
    _lead_step(plan, lead, "", L.NEW, actor=actors.manager, account=None,
               at=assigned_at - timedelta(minutes=30))  # fmt: skip
    roll = rng.random()
    if roll < profile.accept_share:
        accepted_at = _hold(plan, rng, lead, account, actors, assigned_at)
        lost_at = accepted_at + timedelta(days=rng.uniform(5, 60))
        if lost_at < plan.latest:
            lead.status, lead.reason = L.LOST, rng.choice(LEAD_LOST_REASONS)
            _lead_step(plan, lead, L.ACCEPTED, L.LOST, actor=actors.partner, account=account,
                       at=lost_at, reason=lead.reason)  # fmt: skip
        return
    hours = account.tier.lead_acceptance_hours if account.tier_id else 48
    if roll < profile.accept_share + (1 - profile.accept_share) / 2:
        from deals.models import LeadRejection

        answered_at = plan.clamp(assigned_at + timedelta(hours=rng.uniform(1, hours)))
        reason = rng.choice(LEAD_REJECT_REASONS)
        plan.rejections.append(
            (
                LeadRejection(
                    lead=lead, account=account, reason=reason, rejected_by=actors.partner
                ),
                answered_at,
            )  # fmt: skip
        )
        _lead_step(plan, lead, L.NEW, L.ASSIGNED, actor=actors.manager, account=account,
                   at=assigned_at)  # fmt: skip
        _lead_step(plan, lead, L.ASSIGNED, L.REJECTED, actor=actors.partner, account=account,
                   at=answered_at, reason=reason)  # fmt: skip
        before = L.REJECTED
    else:
        answered_at = plan.clamp(assigned_at + timedelta(hours=hours))
        _lead_step(plan, lead, L.NEW, L.ASSIGNED, actor=None, account=account, at=assigned_at)
        _lead_step(plan, lead, L.ASSIGNED, L.NEW, actor=None, account=account,
                   at=answered_at, reason=LAPSED_REASON)  # fmt: skip
        before = L.NEW
    # The manager (or the rules) hands it to another partner, who takes it.
    other = rng.choice(others) if others else None
    if other is None or answered_at + timedelta(hours=60) > plan.latest:
        lead.account, lead.status = None, before
        lead.assigned_at = assigned_at
        return
    reassigned_at = answered_at + timedelta(hours=rng.uniform(0.5, 12))
    _hold(plan, rng, lead, other, Actors(actors.manager, None), reassigned_at, before=before)
    lead.status, lead.reason = L.LOST, rng.choice(LEAD_LOST_REASONS)
    _lead_step(plan, lead, L.ACCEPTED, L.LOST, actor=None, account=other,
               at=plan.clamp(lead.accepted_at + timedelta(days=rng.uniform(3, 30))),
               reason=lead.reason)  # fmt: skip


@contextmanager
def _dated_as_given(*models):
    """``bulk_create`` keeps the ``created_at`` we give instead of "now" (``auto_now_add`` is
    switched off for the duration: seed_demo runs alone in its process). Cheaper than moving
    the dates back with one UPDATE per row or a CASE per batch."""
    fields = [
        f
        for model in models
        for f in model._meta.concrete_fields
        if getattr(f, "auto_now_add", False)
    ]
    for f in fields:
        f.auto_now_add = False
    try:
        yield
    finally:
        for f in fields:
            f.auto_now_add = True


def _write(plan: Plan, report) -> None:
    from deals.models import DealRegistration, Lead, LeadRejection, Opportunity

    with _dated_as_given(DealRegistration, Lead, LeadRejection, Opportunity):
        _insert(plan)
    report.created["registrations"] += len(plan.registrations)
    report.created["leads"] += len(plan.leads)
    report.created["opportunities"] += len(plan.opportunities)
    report.created["history steps"] += (
        len(plan.registration_events) + len(plan.lead_events) + len(plan.opportunity_events)
    )


def _insert(plan: Plan) -> None:
    from deals.models import (
        DealRegistration,
        Lead,
        LeadEvent,
        LeadRejection,
        Opportunity,
        OpportunityEvent,
        RegistrationEvent,
        RegistrationLine,
    )

    for rows in (plan.registrations, plan.leads, plan.rejections, plan.opportunities):
        for obj, moment in rows:
            obj.created_at = moment
    DealRegistration.objects.bulk_create([r for r, _ in plan.registrations], batch_size=BATCH)
    for line in plan.lines:
        line.registration_id = line.registration.pk
    RegistrationLine.objects.bulk_create(plan.lines, batch_size=BATCH)
    for event in plan.registration_events:
        event.registration_id = event.registration.pk
    RegistrationEvent.objects.bulk_create(plan.registration_events, batch_size=BATCH)

    Lead.objects.bulk_create([lead for lead, _ in plan.leads], batch_size=BATCH)
    through = Lead.products.through
    through.objects.bulk_create(
        [through(lead_id=lead.pk, product_id=product.pk) for lead, product in plan.lead_products],
        batch_size=BATCH,
    )
    for event in plan.lead_events:
        event.lead_id = event.lead.pk
    LeadEvent.objects.bulk_create(plan.lead_events, batch_size=BATCH)
    for rejection, _ in plan.rejections:
        rejection.lead_id = rejection.lead.pk
    LeadRejection.objects.bulk_create([r for r, _ in plan.rejections], batch_size=BATCH)

    for opportunity, _ in plan.opportunities:
        opportunity.registration_id = getattr(opportunity.registration, "pk", None)
        opportunity.lead_id = getattr(opportunity.lead, "pk", None)
    Opportunity.objects.bulk_create([o for o, _ in plan.opportunities], batch_size=BATCH)
    for event in plan.opportunity_events:
        event.opportunity_id = event.opportunity.pk
    OpportunityEvent.objects.bulk_create(plan.opportunity_events, batch_size=BATCH)


# --- goals ----------------------------------------------------------------------------------

#: (account, KPI, this quarter's target, last quarter's target): money and counts as a multiple
#: of last quarter's actual (so last quarter shows goals missed and beaten), rates in percent.
GOALS = [
    (NORTHWIND, "won_revenue", 1.2, 0.9),
    (NORTHWIND, "deals_registered", 1.25, 1.15),
    (NORTHWIND, "win_rate", 65, 60),
    (CONTOSO, "won_revenue", 1.15, 1.3),
    (CONTOSO, "deals_registered", 1.2, 0.8),
    (CONTOSO, "win_rate", 55, 60),
    (CONTOSO, "lead_acceptance_rate", 70, 75),
]
#: Proposed by Northwind's partner admin, waiting for Maya to agree.
PROPOSAL = (
    NORTHWIND,
    "lead_acceptance_rate",
    85,
    "Casey joins the pre-sales team this month: we can answer every lead within a day.",
)
RATES = {"win_rate", "lead_acceptance_rate", "approval_rate"}
GOAL_NOTE = "Agreed at the quarterly business review."


def _target(kpi: str, factor, actual) -> Decimal:
    if kpi in RATES:
        return Decimal(factor)
    actual = Decimal(actual or 0) * Decimal(str(factor))
    if kpi == "won_revenue":
        return max(actual.quantize(Decimal("1E3")), Decimal(20000))
    return Decimal(max(round(actual), 3))


def seed_goals(report, *, today=None) -> None:
    """Last quarter's goals as they were agreed then (written directly: the services refuse
    past quarters), this quarter's set through the services, and one proposal."""
    from analytics import kpis, services
    from analytics.models import Goal, GoalStatus
    from partners.models import Contact, PartnerAccount, PortalAccess

    accounts = {
        a.name: a
        for a in PartnerAccount.objects.filter(name__in=[NORTHWIND, CONTOSO]).select_related(
            "manager"
        )
    }
    if len(accounts) < 2 or not all(a.manager_id for a in accounts.values()):
        return
    this = kpis.Period.quarter(today or kpis.local_today())
    last = this.previous()
    existing = set(
        Goal.objects.filter(
            account__in=accounts.values(), quarter__in=[this.start, last.start]
        ).values_list("account__name", "quarter", "kpi")
    )
    wanted = [(n, q, k) for n, k, _, _ in GOALS for q in (this.start, last.start)]
    wanted.append((PROPOSAL[0], this.start, PROPOSAL[1]))
    if all(key in existing for key in wanted):
        return
    scope = PartnerAccount.objects.filter(pk__in=[a.pk for a in accounts.values()])
    actual = kpis.compute(scope, last, by="account", today=today)
    for name, kpi, this_factor, last_factor in GOALS:
        account = accounts[name]
        base = actual.get(account.pk, {}).get(kpi)
        if (name, last.start, kpi) not in existing:
            Goal.objects.create(
                account=account,
                quarter=last.start,
                kpi=kpi,
                target=_target(kpi, last_factor, base),
                status=GoalStatus.ACCEPTED,
                set_by=account.manager,
                note=GOAL_NOTE,
            )
            report.created["goals"] += 1
        if (name, this.start, kpi) not in existing:
            services.set_goal(
                actor=account.manager,
                account=account,
                quarter=this.start,
                kpi=kpi,
                target=_target(kpi, this_factor, base),
                note=GOAL_NOTE,
            )
            report.created["goals"] += 1
    name, kpi, target, note = PROPOSAL
    proposer = (
        Contact.objects.filter(
            account=accounts[name], portal_access=PortalAccess.ADMIN, user__isnull=False
        )
        .select_related("user")
        .order_by("pk")
        .first()
    )
    if proposer is not None and (name, this.start, kpi) not in existing:
        services.propose_goal(
            actor=proposer.user,
            account=accounts[name],
            quarter=this.start,
            kpi=kpi,
            target=target,
            note=note,
        )
        report.created["goals"] += 1


# --- saved reports --------------------------------------------------------------------------


#: (owner's email, name, description, record type, columns, filters, group by, sort, descending,
#: shared with all managers) — keys of ``analytics.reports``' registry.
REPORTS = [
    (
        MAYA_EMAIL,
        "Open pipeline by stage",
        "How much of my partners' open pipeline sits at each stage.",
        "opportunities",
        ["name", "partner", "stage", "amount", "close_date"],
        [{"field": "status", "op": "equals", "value": "open"}],
        "stage",
        "",
        False,
        False,
    ),
    (
        LEO_EMAIL,
        "Registrations this quarter",
        "Every deal registration submitted since the quarter began, newest first.",
        "registrations",
        ["company", "partner", "status", "amount", "submitted_at", "decided_at"],
        [{"field": "submitted_at", "op": "this_quarter", "value": ""}],
        "",
        "submitted_at",
        True,
        False,
    ),
    (
        ADMIN_EMAIL,
        "Won deals by tier",
        "Deals won, with their value, per partner tier: shared with every partner manager.",
        "opportunities",
        ["name", "partner", "tier", "amount", "closed_at"],
        [{"field": "status", "op": "equals", "value": "won"}],
        "tier",
        "",
        False,
        True,
    ),
]


def seed_reports(report) -> None:
    """Three saved reports, checked and saved as their owners would in the report builder."""
    from django.contrib.auth import get_user_model

    from analytics import reports
    from analytics.models import SavedReport

    owners = {
        u.email: u for u in get_user_model().objects.filter(email__in=[row[0] for row in REPORTS])
    }
    existing = set(SavedReport.objects.values_list("owner__email", "name"))
    for email, name, description, kind, columns, filters, group, sort, desc, shared in REPORTS:
        owner = owners.get(email)
        if owner is None or (email, name) in existing:
            continue
        plan = reports.check(
            user=owner,
            record_type=kind,
            columns=columns,
            filters=filters,
            group_by=group,
            sort=sort,
            descending=desc,
        )
        reports.save_report(
            actor=owner,
            report=SavedReport(),
            plan=plan,
            name=name,
            description=description,
            shared=shared,
        )
        report.created["saved reports"] += 1


# --- kept scores ----------------------------------------------------------------------------


def refresh_demo_scores(*, today=None) -> None:
    """This quarter's and last quarter's partner scores, so the ranked table is filled."""
    from analytics import kpis, services

    refresh = getattr(services, "refresh_scores", None)
    if refresh is None:
        return
    this = kpis.Period.quarter(today or kpis.local_today())
    for quarter in (this, this.previous()):
        refresh(quarter, today=today)
    months = getattr(services, "refresh_months", None)
    if months is not None:  # the kept monthly figures of the demo's 13 months
        months(MONTHS + 1, today=today)


# --- alert rules and alerts (issue 6) -----------------------------------------------------------


def seed_alerts(report) -> None:
    """The shipped alert rules (the same function as ``manage.py install_alert_rules``) and the
    alerts they raise on the demo data now. Idempotent: a second run adds nothing (an open alert
    is raised once). The demo tells nobody (no bell entries or emails for seeded alerts)."""
    from analytics.alerts import evaluate_rule, install_alert_rules
    from analytics.models import AlertRule

    created = install_alert_rules()
    raised = 0
    for rule in AlertRule.objects.filter(active=True).order_by("pk"):
        raised += len(evaluate_rule(rule, send=False).raised)
    report.created["alert rules"] = report.created.get("alert rules", 0) + len(created)
    report.created["alerts"] = report.created.get("alerts", 0) + raised


# --- feedback surveys (issue 6) -----------------------------------------------------------------

SURVEY_TITLE = "Partner satisfaction"
SURVEY_QUESTIONS = [
    ("nps", "How likely are you to recommend our partner program to a peer?", "", True),
    ("rating", "How well does your partner manager support you?", "", True),
    (
        "choice",
        "What should we improve first?",
        "Deal registration\nLead quality\nTraining and certification\nMarketing funds\n"
        "The partner portal",
        True,
    ),
    ("text", "What is one thing we should change?", "", False),
]
#: The 0–10 answers, in the order they are given (three detractors, two passives).
SURVEY_SCORES = [9, 10, 6, 8, 9, 10, 3, 9, 10, 7, 9, 5, 10, 9, 10]
SURVEY_COMMENTS = [
    "Registration approvals got much faster this year, thank you.",
    "Leads arrive with too little context; a call note would help.",
    "The certification path is clear, but the labs are often full.",
    "",
    "Our manager is responsive and knows our market.",
    "Co-marketing funds take too long to approve.",
    "Conflicts on registrations are not explained: we lost a deal without knowing why.",
    "",
    "Great quarterly reviews, keep them.",
    "The portal is much better on the phone now.",
]
#: How many of the current quarter's invitations are answered (the rest wait, with a link).
SURVEY_ANSWERED_NOW = 2


def seed_surveys(report, *, now=None) -> None:
    """A partner satisfaction survey (NPS, a rating, a choice, free text) with a quarterly
    distribution to every partner user; over the last three quarters the demo's partner users
    were asked and answered (15 answer sheets, detractors among them), this quarter they were
    asked again and most have not answered yet (their links are on the Surveys tab).
    Idempotent: nothing is added once the survey exists."""
    from django.db import transaction
    from django.utils import timezone

    from analytics import kpis
    from analytics.models import (
        Survey,
        SurveyAnswer,
        SurveyDistribution,
        SurveyInvitation,
        SurveyQuestion,
        SurveyResponse,
        SurveySettings,
        SurveyTrigger,
    )
    from partners.models import AccountStatus, Contact, PortalAccess

    if Survey.objects.filter(title=SURVEY_TITLE).exists():
        return
    now = now or timezone.now()
    people = list(
        Contact.objects.filter(
            user__isnull=False,
            user__is_active=True,
            account__status=AccountStatus.ACTIVE,
            portal_access__in=[PortalAccess.ADMIN, PortalAccess.MEMBER],
        )
        .order_by("account_id", "pk")
        .values_list("user_id", "account_id")[:8]
    )
    if not people:
        return
    rng = random.Random(SEED)
    with transaction.atomic():
        rules = SurveySettings.objects.order_by("pk").first() or SurveySettings.objects.create()
        survey = Survey.objects.create(
            title=SURVEY_TITLE,
            intro="Four questions about working with us this quarter. It takes two minutes.",
        )
        questions = SurveyQuestion.objects.bulk_create(
            SurveyQuestion(
                survey=survey, position=i, kind=kind, text=text, options=options, required=req
            )
            for i, (kind, text, options, req) in enumerate(SURVEY_QUESTIONS, start=1)
        )
        distribution = SurveyDistribution.objects.create(
            survey=survey, name="Quarterly check-in", trigger=SurveyTrigger.QUARTERLY
        )
        this = kpis.Period.quarter(timezone.localdate(now))
        past = [this.previous().previous().previous(), this.previous().previous(), this.previous()]
        plan = []  # (quarter, user, account, asked_at, answered_at or None)
        scores = iter(SURVEY_SCORES)
        for quarter in past:
            for user_id, account_id in people:
                asked = quarter.start_at + timedelta(days=4, hours=rng.randint(8, 11))
                plan.append((quarter, user_id, account_id, asked, asked + _hours(rng, 2, 120)))
        # Keep 15 answers in the past quarters (the scores list), the rest unanswered.
        answered_past = len(SURVEY_SCORES) - SURVEY_ANSWERED_NOW
        plan = [row if i < answered_past else (*row[:4], None) for i, row in enumerate(plan)]
        asked_now = max(this.start_at + timedelta(days=3, hours=9), now - timedelta(days=3))
        asked_now = min(asked_now, now - timedelta(hours=2))
        for i, (user_id, account_id) in enumerate(people):
            answered = asked_now + _hours(rng, 1, 20) if i < SURVEY_ANSWERED_NOW else None
            if answered is not None and answered >= now:
                answered = now - timedelta(minutes=5)
            plan.append((this, user_id, account_id, asked_now, answered))
        invitations = SurveyInvitation.objects.bulk_create(
            SurveyInvitation(
                survey=survey,
                distribution=distribution,
                user_id=user_id,
                account_id=account_id,
                occasion=quarter.key,
                expires_at=max(asked, now) + timedelta(days=rules.link_days)
                if quarter == this
                else asked + timedelta(days=rules.link_days),
                responded_at=answered,
            )
            for quarter, user_id, account_id, asked, answered in plan
        )
        # created_at is set on insert; the demo's invitations were sent when the plan says.
        by_key = {(i.occasion, i.user_id): i for i in invitations}
        for quarter, user_id, _, asked, _ in plan:
            SurveyInvitation.objects.filter(pk=by_key[(quarter.key, user_id)].pk).update(
                created_at=asked
            )
        nps, rating, choice, text = questions
        responses, answers = [], []
        comments = iter(SURVEY_COMMENTS * 2)
        for quarter, user_id, account_id, _, answered in plan:
            if answered is None:
                continue
            score = next(scores, 9)
            response = SurveyResponse(
                invitation=by_key[(quarter.key, user_id)],
                survey=survey,
                account_id=account_id,
                user_id=user_id,
                nps=score,
                submitted_at=answered,
            )
            responses.append(response)
            stars = max(1, min(5, round(score / 2) + rng.choice([-1, 0, 0])))
            answers.append((response, nps, {"number": score}))
            answers.append((response, rating, {"number": stars}))
            answers.append((response, choice, {"choice": rng.choice(choice.option_list)}))
            comment = next(comments)
            if comment:
                answers.append((response, text, {"text": comment}))
        SurveyResponse.objects.bulk_create(responses)
        SurveyAnswer.objects.bulk_create(
            SurveyAnswer(response=response, question=question, **values)
            for response, question, values in answers
        )
    report.created["surveys"] += 1
    report.created["survey invitations"] += len(invitations)
    report.created["survey answers"] += len(responses)


def _hours(rng: random.Random, low: int, high: int) -> timedelta:
    return timedelta(hours=rng.randint(low, high), minutes=rng.randint(0, 59))


# --- quarterly goal reviews (issue 6) -------------------------------------------------------------


def seed_reviews(report) -> None:
    """Last quarter's reviews of the active demo partners (the quarter-end task's own code, so
    running it again adds nothing), with comments and an acknowledgement on Northwind's."""
    from django.utils import timezone

    from analytics import reviews
    from analytics.models import QuarterlyReview

    created = reviews.create_quarter_reviews()
    report.created["quarterly reviews"] += created
    quarter = reviews.last_complete_quarter()
    review = (
        QuarterlyReview.objects.filter(
            quarter=quarter.start,
            account__name__startswith="Northwind",
            account__parent__isnull=True,  # the distributor-less company, not its resellers
        )
        .select_related("account__manager")
        .order_by("pk")
        .first()
    )
    if review is None or review.acknowledged_at is not None:
        return
    from partners.models import Contact, PortalAccess

    admin = (
        Contact.objects.filter(account=review.account, portal_access=PortalAccess.ADMIN)
        .exclude(user=None)
        .select_related("user")
        .order_by("pk")
        .first()
    )
    review.manager_comments = (
        "A strong quarter for new business: keep registering deals early, and let's get two "
        "more people certified before the spring launch."
    )
    review.acknowledged_at = timezone.now()
    review.acknowledged_by = admin.user if admin else None
    review.save()
