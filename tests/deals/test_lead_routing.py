"""Lead routing by the assignment rules: which partner each condition and score picks, what the
lead's page says about why, who may run it, the SLA's re-routing and the notifications."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.contrib.admin.sites import site as admin_site
from django.core.exceptions import PermissionDenied, ValidationError
from django.urls import reverse
from django.utils import timezone

from deals import routing, services
from deals.models import AssignmentRule, Lead, LeadEvent, LeadStatus, Product
from deals.tasks import notify_leads_assigned, notify_leads_returned, return_overdue_leads
from partners.models import AccountStatus, PartnerAccount, PortalAccess, Tier
from partners.services import sync_account_permissions
from prm.models import Notification
from prm.testing.fixtures import login_as
from prm.testing.world import make_partner_user

pytestmark = pytest.mark.django_db


# --- builders -------------------------------------------------------------------------------


@pytest.fixture
def tiers(world):
    """Registered (10) < Silver (20) < Gold (30, the world's) < Platinum (40)."""
    return {
        "Registered": Tier.objects.create(name="Registered", rank=10, lead_acceptance_hours=72),
        "Silver": Tier.objects.create(name="Silver", rank=20, lead_acceptance_hours=24),
        "Gold": world.tier,
        "Platinum": Tier.objects.create(name="Platinum", rank=40, lead_acceptance_hours=12),
    }


def partner(world, name, tier, *, manager=None, admin_email=None, **fields) -> PartnerAccount:
    """An active APAC partner in Japan (the world's own partners are in EMEA, NA and nowhere),
    managed by ``world.manager`` unless told otherwise, optionally with a partner admin."""
    fields = {"region": "apac", "country": "Japan", "status": AccountStatus.ACTIVE, **fields}
    account = PartnerAccount.objects.create(
        name=name, tier=tier, manager=manager or world.manager, **fields
    )
    if admin_email:
        make_partner_user(account, admin_email, PortalAccess.ADMIN)
    sync_account_permissions([account.pk])
    return account


def rule(name="APAC", *, tiers=(), **fields) -> AssignmentRule:
    created = AssignmentRule.objects.create(name=name, **fields)
    created.tiers.set(tiers)
    return created


def pool_lead(world, company="Kaito Robotics K.K.", *, products=(), **fields) -> Lead:
    fields = {"region": "apac", "country": "Japan", **fields}
    return services.create_lead(
        actor=world.manager, lead=Lead(company=company, **fields), products=products
    )


def holding(account, count, status=LeadStatus.ASSIGNED):
    """``account`` holds ``count`` more leads in ``status``."""
    now = timezone.now()
    Lead.objects.bulk_create(
        Lead(
            company=f"Held by {account.name} {i}",
            status=status,
            account=account,
            assigned_at=now,
            accept_by=now + timedelta(days=1) if status == LeadStatus.ASSIGNED else None,
        )
        for i in range(count)
    )


def decide(*leads, accounts=None):
    return routing.choose_partners(list(leads), accounts=accounts)


def picked(*leads) -> list[str | None]:
    return [d.candidate.name if d.candidate else None for d in decide(*leads)]


# --- what each condition does -----------------------------------------------------------------


LEAD_CONDITIONS = {
    # condition: (rule fields, the lead it applies to, a lead it doesn't, why not)
    "region": ({"region": "apac"}, {}, {"region": "emea"}, "the lead's region is EMEA, not APAC"),
    "country": (
        {"country": "Japan"},
        {"country": " japan"},
        {"country": "Korea"},
        "the lead's country is Korea, not Japan",
    ),
    "industry": (
        {"industry": "manufacturing"},
        {"industry": "manufacturing"},
        {"industry": "retail"},
        "the lead's industry is Retail & consumer, not Manufacturing",
    ),
    "product family": (
        {"product_family": "analytics"},
        {"family": "Analytics"},
        {"family": "Network"},
        "the lead names no product of the analytics family",
    ),
}


@pytest.mark.parametrize("condition", list(LEAD_CONDITIONS))
def test_a_rule_applies_only_to_leads_that_meet_each_of_its_conditions(world, tiers, condition):
    fields, applies, does_not, why_not = LEAD_CONDITIONS[condition]
    partner(world, "Sakura Systems", tiers["Silver"])
    rule("Narrow rule", **fields)

    def lead(company, given):
        given = dict(given)
        family = given.pop("family", None)
        products = []
        if family:
            products = [
                Product.objects.create(
                    name=f"{family} {company}", sku=f"SKU-{company}", family=family, list_price=1
                )
            ]
        return pool_lead(world, company, products=products, **given)

    yes, no = lead("Fits", applies), lead("Misfit", does_not)
    decisions = decide(yes, no)
    assert decisions[0].candidate.name == "Sakura Systems"
    assert decisions[1].candidate is None
    assert f'Rule "Narrow rule": {why_not}.' in decisions[1].note


def test_a_rule_picks_only_partners_of_its_tiers(world, tiers):
    partner(world, "Platinum Pacific", tiers["Platinum"])
    partner(world, "Silver Pacific", tiers["Silver"])
    rule("Silver only", tiers=[tiers["Silver"], tiers["Registered"]])
    decision = decide(pool_lead(world))[0]
    assert decision.candidate.name == "Silver Pacific"
    assert "Silver or Registered" in decision.note  # the rule's tiers, highest first


def test_no_tier_on_a_rule_means_any_tier(world, tiers):
    partner(world, "Registered Pacific", tiers["Registered"])
    rule("Anyone")
    assert picked(pool_lead(world)) == ["Registered Pacific"]


def test_a_rule_can_ask_for_partners_in_the_leads_region_country_and_industry(world, tiers):
    partner(world, "Osaka Platinum", tiers["Platinum"], industry="retail")
    partner(world, "Seoul Silver", tiers["Silver"], country="Korea", industry="manufacturing")
    partner(world, "Kyoto Registered", tiers["Registered"], industry="manufacturing")
    rule("Same country and industry", same_country=True, same_industry=True)
    lead = pool_lead(world, industry="manufacturing", country="japan")
    assert picked(lead) == ["Kyoto Registered"]


def test_partners_outside_the_leads_region_are_not_picked_when_the_rule_says_so(world, tiers):
    partner(world, "Far Away Platinum", tiers["Platinum"], region="latam")
    partner(world, "Local Registered", tiers["Registered"])
    rule("In its region")  # same_region is the default
    assert picked(pool_lead(world)) == ["Local Registered"]


def test_a_lead_without_a_region_matches_no_partner_on_region(world, tiers):
    partner(world, "Sakura Systems", tiers["Gold"])
    rule("In its region")
    decision = decide(pool_lead(world, region=""))[0]
    assert decision.candidate is None
    assert "in the lead's region (it has none)" in decision.note


def test_rules_are_tried_in_position_order_and_the_first_with_a_candidate_wins(world, tiers):
    partner(world, "Sakura Systems", tiers["Silver"])
    partner(world, "Fuji Partners", tiers["Gold"])
    rule("Later, any tier", position=20)
    rule("First, Platinum only", position=10, tiers=[tiers["Platinum"]])
    rule("Second, Silver only", position=15, tiers=[tiers["Silver"]])
    decision = decide(pool_lead(world))[0]
    assert decision.rule.name == "Second, Silver only"
    assert decision.candidate.name == "Sakura Systems"
    assert decision.note.endswith(
        'Tried first: Rule "First, Platinum only": applies, but no open partner qualifies '
        "(Platinum, in APAC, not one that turned it down or let it lapse)."
    )


def test_inactive_rules_are_not_used(world, tiers):
    partner(world, "Sakura Systems", tiers["Silver"])
    rule("Switched off", active=False)
    decision = decide(pool_lead(world))[0]
    assert decision.candidate is None
    assert decision.note.startswith("No assignment rule is active")


# --- the score: tier rank ÷ (1 + open leads held) ---------------------------------------------


def test_the_higher_tier_wins_at_equal_load_and_the_note_gives_the_numbers(world, tiers):
    partner(world, "Fuji Partners", tiers["Gold"])
    partner(world, "Sakura Systems", tiers["Silver"])
    rule("APAC manufacturing", industry="manufacturing")
    decision = decide(pool_lead(world, industry="manufacturing"))[0]
    assert decision.candidate.name == "Fuji Partners"
    assert decision.note == (
        'Rule "APAC manufacturing" (industry Manufacturing; in the lead\'s region): '
        "Fuji Partners — Gold (rank 30), 0 open leads → score 30.00; "
        "runner-up Sakura Systems — Silver (rank 20), 0 open leads → score 20.00."
    )


def test_a_loaded_partner_loses_to_a_lighter_one_when_the_score_says_so(world, tiers):
    fuji = partner(world, "Fuji Partners", tiers["Gold"])
    partner(world, "Sakura Systems", tiers["Silver"])
    rule()
    holding(fuji, 1, LeadStatus.ASSIGNED)
    holding(fuji, 1, LeadStatus.ACCEPTED)
    holding(fuji, 5, LeadStatus.LOST)  # closed leads are not a load
    decision = decide(pool_lead(world))[0]
    # 30 / (1 + 2) = 10 < 20 / (1 + 0) = 20
    assert decision.candidate.name == "Sakura Systems"
    assert "Sakura Systems — Silver (rank 20), 0 open leads → score 20.00" in decision.note
    assert "runner-up Fuji Partners — Gold (rank 30), 2 open leads → score 10.00" in decision.note


def test_a_light_load_does_not_beat_a_much_higher_tier(world, tiers):
    fuji = partner(world, "Fuji Partners", tiers["Platinum"])
    partner(world, "Sakura Systems", tiers["Registered"])
    rule()
    holding(fuji, 2)  # 40 / 3 = 13.33 > 10 / 1
    assert picked(pool_lead(world)) == ["Fuji Partners"]


def test_equal_scores_go_to_the_partner_holding_fewer_open_leads(world, tiers):
    fuji = partner(world, "Fuji Partners", tiers["Gold"])
    partner(world, "Sakura Systems", tiers["Registered"])
    rule()
    holding(fuji, 2)  # 30 / 3 = 10 = 10 / 1
    decision = decide(pool_lead(world))[0]
    assert decision.candidate.name == "Sakura Systems"
    assert "→ score 10.00 (tie broken by fewer open leads)." in decision.note


def test_one_run_spreads_its_leads_instead_of_burying_the_top_partner(world, tiers):
    partner(world, "Fuji Partners", tiers["Gold"])
    partner(world, "Sakura Systems", tiers["Gold"])
    partner(world, "Tiny Reseller", tiers["Registered"])
    rule()
    leads = [pool_lead(world, f"Customer {i}") for i in range(5)]
    # Gold 30 vs 30: one each; then 15 vs 15: one each; then 10, 10 and Registered 10 with no
    # lead yet: the tie goes to the one holding fewer.
    assert picked(*leads) == [
        "Fuji Partners",
        "Sakura Systems",
        "Fuji Partners",
        "Sakura Systems",
        "Tiny Reseller",
    ]


# --- who is never picked ------------------------------------------------------------------------


def test_a_partner_that_rejected_the_lead_is_never_picked(
    world, tiers, django_capture_on_commit_callbacks
):
    fuji = partner(world, "Fuji Partners", tiers["Platinum"], admin_email="kenji@fuji.example")
    sakura = partner(world, "Sakura Systems", tiers["Silver"])
    rule()
    lead = services.assign_lead(actor=world.manager, lead=pool_lead(world), account=fuji)
    services.reject_lead(
        actor=fuji.contacts.get().user, lead=lead, reason="Not our kind of customer"
    )

    decision = services.route_lead(actor=world.manager, lead=lead)
    assert decision.candidate.pk == sakura.pk

    services.reject_lead(
        actor=make_partner_user(sakura, "aiko@sakura.example", PortalAccess.ADMIN)[0],
        lead=lead,
        reason="Too far",
    )
    decision = services.route_lead(actor=world.manager, lead=lead)
    lead.refresh_from_db()
    assert decision.candidate is None and lead.status == LeadStatus.REJECTED
    assert "not one that turned it down" in lead.assignment_note


@pytest.mark.parametrize(
    "status", [AccountStatus.SUSPENDED, AccountStatus.INACTIVE, AccountStatus.PROSPECT]
)
def test_accounts_that_are_not_open_are_never_picked(world, tiers, status):
    partner(world, "Closed Platinum", tiers["Platinum"], status=status)
    partner(world, "Open Registered", tiers["Registered"], status=AccountStatus.ONBOARDING)
    rule()
    assert picked(pool_lead(world)) == ["Open Registered"]


def test_no_rule_finding_a_partner_leaves_the_lead_in_the_pool_with_the_reasons(
    world, tiers, django_capture_on_commit_callbacks, mailoutbox
):
    partner(world, "Sakura Systems", tiers["Silver"])
    rule("EMEA only", region="emea")
    rule("Gold and up", position=5, tiers=[tiers["Gold"], tiers["Platinum"]])
    lead = pool_lead(world)
    with django_capture_on_commit_callbacks(execute=True):
        decision = services.route_lead(actor=world.manager, lead=lead)
    lead.refresh_from_db()
    assert decision.candidate is None
    assert (lead.status, lead.account) == (LeadStatus.NEW, None)
    assert lead.assignment_note == (
        "No assignment rule found a partner, so the lead stays in the pool. "
        'Rule "EMEA only": the lead\'s region is APAC, not EMEA. '
        'Rule "Gold and up": applies, but no open partner qualifies (Platinum or Gold, in APAC, '
        "not one that turned it down or let it lapse). "
        "Assign it by hand, or ask an admin for a rule."
    )
    assert list(LeadEvent.objects.filter(lead=lead).values_list("to_status", flat=True)) == ["new"]
    assert mailoutbox == [] and not Notification.objects.exists()


# --- running it: services ---------------------------------------------------------------------


def test_routing_assigns_with_the_tiers_deadline_and_records_a_partner_safe_step(world, tiers):
    partner(world, "Fuji Partners", tiers["Platinum"])
    partner(world, "Sakura Systems", tiers["Silver"])
    rule("APAC")
    lead = pool_lead(world)
    decision = services.route_lead(actor=world.manager, lead=lead)
    lead.refresh_from_db()
    assert lead.status == LeadStatus.ASSIGNED and lead.account.name == "Fuji Partners"
    assert lead.accept_by == lead.assigned_at + timedelta(hours=12)  # Platinum's hours
    assert lead.assignment_note == decision.note and "Sakura Systems" in decision.note
    event = LeadEvent.objects.filter(lead=lead).latest("pk")
    assert (event.from_status, event.to_status, event.actor) == ("new", "assigned", world.manager)
    assert event.account == lead.account
    # What the partner reads in its history names no other partner.
    assert event.reason == (
        'Assigned by the rule "APAC": Platinum (rank 40), 0 open leads → score 40.00.'
    )


def test_a_manager_routes_only_among_their_own_partners(world, tiers):
    partner(world, "Mine Registered", tiers["Registered"])
    partner(world, "Theirs Platinum", tiers["Platinum"], manager=world.other_manager)
    rule()
    lead = pool_lead(world)
    assert services.route_lead(actor=world.manager, lead=lead).candidate.name == ("Mine Registered")
    other = pool_lead(world, "Other Customer")
    assert services.route_lead(actor=world.other_manager, lead=other).candidate.name == (
        "Theirs Platinum"
    )
    third = pool_lead(world, "Third Customer")
    assert services.route_lead(actor=world.admin, lead=third).candidate.name == "Theirs Platinum"


def test_route_leads_for_a_manager_takes_only_their_partners_and_the_pool(world, tiers):
    partner(world, "Mine Registered", tiers["Registered"])
    partner(world, "Theirs Platinum", tiers["Platinum"], manager=world.other_manager)
    rule()
    leads = [pool_lead(world, f"Customer {i}") for i in range(3)]
    waiting_for_b = services.assign_lead(
        actor=world.other_manager, lead=pool_lead(world, "B's lead"), account=world.b
    )
    decisions = services.route_leads(
        [lead.pk for lead in leads] + [waiting_for_b.pk], actor=world.manager
    )
    assert [d.candidate.name for d in decisions] == ["Mine Registered"] * 3
    waiting_for_b.refresh_from_db()
    assert waiting_for_b.account == world.b  # not in the pool: left alone


@pytest.mark.parametrize("persona", ["partner_admin_a", "member_a", "partner_admin_b"])
def test_partners_cannot_run_the_rules(world, tiers, persona):
    rule()
    lead = pool_lead(world)
    with pytest.raises(PermissionDenied):
        services.route_lead(actor=getattr(world, persona), lead=lead)
    with pytest.raises(PermissionDenied):
        services.route_leads([lead.pk], actor=getattr(world, persona))


def test_a_lead_that_is_not_in_the_pool_is_not_routed(world, tiers):
    partner(world, "Sakura Systems", tiers["Silver"])
    rule()
    lead = services.assign_lead(actor=world.manager, lead=pool_lead(world), account=world.a)
    with pytest.raises(ValidationError):
        services.route_lead(actor=world.manager, lead=lead)
    lead.refresh_from_db()
    assert lead.account == world.a


def test_assigning_by_hand_clears_the_rules_explanation(world, tiers):
    sakura = partner(world, "Sakura Systems", tiers["Silver"], admin_email="aiko@sakura.ex")
    rule()
    lead = pool_lead(world)
    services.route_lead(actor=world.manager, lead=lead)
    services.reject_lead(actor=sakura.contacts.get().user, lead=lead, reason="No")
    lead.refresh_from_db()
    assert lead.assignment_note == ""
    services.assign_lead(actor=world.manager, lead=lead, account=world.a)
    lead.refresh_from_db()
    assert lead.assignment_note == ""


def test_routing_200_leads_costs_the_same_bounded_number_of_queries_as_10(
    world, tiers, django_assert_max_num_queries
):
    for i in range(20):
        partner(world, f"Pacific Partner {i:02d}", tiers["Gold" if i % 2 else "Silver"])
    rule("EMEA", region="emea", position=1)
    rule("Analytics", product_family="Analytics", position=2)
    rule("APAC", position=3)
    product = Product.objects.create(name="Gateway", sku="GW", family="Network", list_price=1)

    def waiting(count, start):
        leads = Lead.objects.bulk_create(
            Lead(company=f"Bulk {i}", region="apac", country="Japan", status=LeadStatus.NEW)
            for i in range(start, start + count)
        )
        Lead.products.through.objects.bulk_create(
            Lead.products.through(lead=lead, product=product) for lead in leads
        )
        return [lead.pk for lead in leads]

    # Measured: 13 with 10 leads, 15 with 200 on SQLite, whose parameter limit splits the bulk
    # update and insert in batches of ~100 (one statement each on PostgreSQL).
    bound = 16
    services.route_leads([], actor=world.manager)  # warm-up: the manager's role and permissions
    small = waiting(10, 0)
    with django_assert_max_num_queries(bound):
        assert all(d.candidate for d in services.route_leads(small, actor=world.manager))
    big = waiting(200, 10)
    with django_assert_max_num_queries(bound):
        decisions = services.route_leads(big, actor=world.manager)
    assert all(d.candidate for d in decisions)
    assert Lead.objects.filter(pk__in=big, status=LeadStatus.ASSIGNED).count() == 200
    assert LeadEvent.objects.filter(lead_id__in=big, to_status="assigned").count() == 200
    held = PartnerAccount.objects.filter(name__startswith="Pacific").values_list("pk", flat=True)
    counts = [Lead.objects.filter(account_id=pk).count() for pk in held]
    assert min(counts) > 0  # spread over all twenty, Gold getting more
    assert max(counts) < 30


# --- the acceptance SLA re-routes ---------------------------------------------------------------


def _overdue(*leads):
    Lead.objects.filter(pk__in=[lead.pk for lead in leads]).update(
        accept_by=timezone.now() - timedelta(minutes=5)
    )


def test_the_sla_returns_overdue_leads_and_the_rules_route_them_to_another_partner(
    world, tiers, django_capture_on_commit_callbacks, mailoutbox
):
    fuji = partner(world, "Fuji Partners", tiers["Platinum"], admin_email="kenji@fuji.example")
    partner(world, "Sakura Systems", tiers["Silver"], admin_email="aiko@sakura.example")
    rule("APAC")
    leads = [
        services.assign_lead(actor=world.manager, lead=pool_lead(world, f"Late {i}"), account=fuji)
        for i in range(3)
    ]
    _overdue(*leads)
    mailoutbox.clear()

    with django_capture_on_commit_callbacks(execute=True):
        assert return_overdue_leads() == 3
    for lead in leads:
        lead.refresh_from_db()
        assert lead.status == LeadStatus.ASSIGNED and lead.account.name == "Sakura Systems"
        assert lead.accept_by > timezone.now()
        steps = list(
            LeadEvent.objects.filter(lead=lead)
            .order_by("pk")
            .values_list("from_status", "to_status", "account__name", "reason")
        )
        assert steps[-2] == ("assigned", "new", "Fuji Partners", "Not accepted in time")
        assert steps[-1][:3] == ("new", "assigned", "Sakura Systems")
        assert "Fuji Partners" not in lead.assignment_note  # never offered back to it

    # The manager hears about each lapse; Sakura's admin about each new lead.
    manager_bell = Notification.objects.filter(user=world.manager).values_list("title", flat=True)
    assert sorted(manager_bell) == [
        f"Fuji Partners did not accept Late {i} in time" for i in (0, 1, 2)
    ]
    sakura_bell = Notification.objects.filter(user__email="aiko@sakura.example")
    assert sakura_bell.count() == 3
    lapse_mails = [m for m in mailoutbox if m.to == [world.manager.email]]
    assert len(lapse_mails) == 3
    assert "did not accept" in lapse_mails[0].subject
    assert "offered it to another partner" in lapse_mails[0].body

    # Running it again changes nothing.
    before = list(Lead.objects.order_by("pk").values_list("pk", "status", "account", "accept_by"))
    events, bells, mails = LeadEvent.objects.count(), Notification.objects.count(), len(mailoutbox)
    with django_capture_on_commit_callbacks(execute=True):
        assert return_overdue_leads() == 0
    after = list(Lead.objects.order_by("pk").values_list("pk", "status", "account", "accept_by"))
    assert after == before
    assert (LeadEvent.objects.count(), Notification.objects.count(), len(mailoutbox)) == (
        events,
        bells,
        mails,
    )


def test_a_lapsed_lead_with_no_other_partner_stays_in_the_pool_and_the_rules_skip_that_partner(
    world, tiers, django_capture_on_commit_callbacks, mailoutbox
):
    fuji = partner(world, "Fuji Partners", tiers["Platinum"])
    rule("APAC")
    lead = services.assign_lead(actor=world.manager, lead=pool_lead(world), account=fuji)
    _overdue(lead)
    mailoutbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        assert return_overdue_leads() == 1
    lead.refresh_from_db()
    assert (lead.status, lead.account) == (LeadStatus.NEW, None)
    assert "no open partner qualifies" in lead.assignment_note
    assert [m.subject for m in mailoutbox] == [
        "Fuji Partners did not accept the lead Kaito Robotics K.K. in time"
    ]
    assert "back in the pool" in mailoutbox[0].body
    # A later run of the rules still skips it; the manager may hand it back by hand.
    assert services.route_lead(actor=world.manager, lead=lead).candidate is None
    services.assign_lead(actor=world.manager, lead=lead, account=fuji)


def test_the_sla_return_and_reroute_work_in_one_batch_whatever_the_number(
    world, tiers, django_assert_max_num_queries
):
    fuji = partner(world, "Fuji Partners", tiers["Platinum"])
    for i in range(5):
        partner(world, f"Other {i}", tiers["Silver"])
    rule("APAC")
    leads = [
        services.assign_lead(actor=world.manager, lead=pool_lead(world, f"Late {i}"), account=fuji)
        for i in range(40)
    ]
    _overdue(*leads)
    # 16, plus the outbox rows of the three tasks it enqueues (prm.tasks.enqueue).
    with django_assert_max_num_queries(19):
        assert services.return_overdue_leads() == 40
    assert not Lead.objects.filter(account=fuji).exists()


# --- notifications ------------------------------------------------------------------------------


def test_assignment_by_the_rules_rings_the_partner_admins_bell_and_mails_them_once(
    world, tiers, django_capture_on_commit_callbacks, mailoutbox
):
    partner(world, "Sakura Systems", tiers["Silver"], admin_email="aiko@sakura.example")
    rule()
    lead = pool_lead(world)
    with django_capture_on_commit_callbacks(execute=True):
        services.route_lead(actor=world.manager, lead=lead)
    bell = Notification.objects.get(user__email="aiko@sakura.example")
    assert bell.title == "New lead for Sakura Systems: Kaito Robotics K.K."
    assert bell.url == reverse("deals:lead", args=[lead.pk])
    assert bell.body.startswith("Accept or reject it by ")
    assert [m.to for m in mailoutbox] == [["aiko@sakura.example"]]
    assert mailoutbox[0].subject == "New lead for Sakura Systems: Kaito Robotics K.K."

    event = LeadEvent.objects.filter(lead=lead, to_status="assigned").get()
    notify_leads_assigned([event.pk])  # a retry: no second bell entry, no second mail
    assert len(mailoutbox) == 1 and Notification.objects.count() == 1


def test_a_rejection_rings_the_managers_bell_and_mails_them_once(
    world, django_capture_on_commit_callbacks, mailoutbox
):
    lead = services.assign_lead(actor=world.manager, lead=pool_lead(world), account=world.a)
    mailoutbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        services.reject_lead(actor=world.member_a, lead=lead, reason="Outside our area")
    bell = Notification.objects.get(user=world.manager)
    assert bell.title == "Northwind Systems turned down Kaito Robotics K.K."
    assert "Outside our area" in bell.body and bell.url == reverse("deals:lead", args=[lead.pk])
    assert [m.to for m in mailoutbox] == [[world.manager.email]]
    assert "Outside our area" in mailoutbox[0].body
    event = LeadEvent.objects.get(lead=lead, to_status="rejected")
    notify_leads_returned([event.pk])
    assert len(mailoutbox) == 1 and Notification.objects.count() == 1


# --- pages ------------------------------------------------------------------------------------


def test_the_manager_runs_the_rules_from_the_lead_page_and_sees_why(client, world, tiers):
    partner(world, "Fuji Partners", tiers["Platinum"])
    partner(world, "Sakura Systems", tiers["Silver"])
    rule("APAC")
    lead = pool_lead(world)
    login_as(client, world.manager)
    page = client.get(reverse("deals:lead", args=[lead.pk])).content.decode()
    assert "Run assignment rules" in page
    assert reverse("deals:lead_route", args=[lead.pk]) in page

    response = client.post(reverse("deals:lead_route", args=[lead.pk]), follow=True)
    page = response.content.decode()
    assert "Kaito Robotics K.K. was sent to Fuji Partners by the rule &quot;APAC&quot;" in page
    assert "Why this partner" in page
    assert "runner-up Sakura Systems — Silver (rank 20), 0 open leads → score 20.00" in page
    assert "Run assignment rules" not in page  # assigned now


def test_the_partner_sees_its_own_numbers_but_not_the_runner_up(client, world, tiers):
    world.a.region, world.a.country = "apac", "Japan"
    world.a.save()
    partner(world, "Sakura Systems", tiers["Silver"])
    rule("APAC")
    lead = pool_lead(world)
    services.route_lead(actor=world.manager, lead=lead)
    lead.refresh_from_db()
    assert lead.account == world.a and "Sakura Systems" in lead.assignment_note
    login_as(client, world.partner_admin_a)
    page = client.get(reverse("deals:lead", args=[lead.pk])).content.decode()
    assert "Gold (rank 30), 0 open leads → score 30.00" in page  # its history step
    assert "Sakura Systems" not in page and "Why this partner" not in page
    assert "Run assignment rules" not in page


def test_a_lead_no_rule_can_place_says_why_on_its_page(client, world, tiers):
    rule("EMEA only", region="emea")
    lead = pool_lead(world)
    login_as(client, world.manager)
    response = client.post(
        reverse("deals:lead_route", args=[lead.pk]),
        {"next": reverse("deals:lead_list")},
        follow=True,
    )
    assert response.redirect_chain[-1][0] == reverse("deals:lead_list")
    page = response.content.decode()
    assert "alert-warning" in page
    assert "No assignment rule found a partner, so the lead stays in the pool." in page
    page = client.get(reverse("deals:lead", args=[lead.pk])).content.decode()
    assert "Why it is still in the pool" in page
    assert "the lead&#x27;s region is APAC, not EMEA" in page


def test_the_pool_list_offers_the_rules_per_waiting_lead_and_for_all(client, world, tiers):
    waiting = pool_lead(world, "Waiting Co")
    taken = services.assign_lead(
        actor=world.manager, lead=pool_lead(world, "Taken Co"), account=world.a
    )
    login_as(client, world.manager)
    page = client.get(reverse("deals:lead_list")).content.decode()
    assert "Route all waiting leads" in page
    assert reverse("deals:lead_route", args=[waiting.pk]) in page
    assert reverse("deals:lead_route", args=[taken.pk]) not in page
    assert 'Run rules<span class="visually-hidden"> for Waiting Co</span>' in page

    login_as(client, world.partner_admin_a)
    page = client.get(reverse("deals:lead_list")).content.decode()
    assert "Route all waiting leads" not in page and "/route/" not in page


def test_route_all_sends_every_waiting_lead_the_manager_sees(client, world, tiers):
    partner(world, "Sakura Systems", tiers["Silver"])
    rule("APAC")
    leads = [pool_lead(world, f"Customer {i}") for i in range(3)]
    stays = pool_lead(world, "Nowhere Ltd", region="")
    login_as(client, world.manager)
    response = client.post(reverse("deals:lead_route_all"), follow=True)
    page = response.content.decode()
    assert "The assignment rules sent 3 of 4 waiting lead(s) on; 1 stay in the pool" in page
    assert set(
        Lead.objects.filter(pk__in=[lead.pk for lead in leads]).values_list("status", flat=True)
    ) == {"assigned"}
    stays.refresh_from_db()
    assert stays.status == LeadStatus.NEW and "has none" in stays.assignment_note


def test_partners_get_403_on_the_routing_actions(client, world, tiers):
    lead = services.assign_lead(actor=world.manager, lead=pool_lead(world), account=world.a)
    login_as(client, world.partner_admin_a)
    assert client.post(reverse("deals:lead_route", args=[lead.pk])).status_code == 403
    assert client.post(reverse("deals:lead_route_all")).status_code == 403
    login_as(client, world.partner_admin_b)
    assert client.post(reverse("deals:lead_route", args=[lead.pk])).status_code == 404


# --- admin --------------------------------------------------------------------------------------


def test_the_admin_adds_a_lead_through_the_service(client, world):
    product = Product.objects.create(name="Gateway", sku="GW", family="Network", list_price=1)
    login_as(client, world.admin)
    add = reverse("admin:deals_lead_add")
    assert client.get(add).status_code == 200
    response = client.post(
        add,
        {
            "company": "Admin Added GmbH",
            "domain": "www.admin-added.example",
            "country": "Germany",
            "region": "emea",
            "industry": "",
            "contact_name": "",
            "contact_email": "",
            "contact_phone": "",
            "products": [product.pk],
            "estimated_value": "1200",
            "currency": "EUR",
            "source": "event",
            "notes": "",
        },
    )
    assert response.status_code == 302, response.content.decode()[:3000]
    lead = Lead.objects.get(company="Admin Added GmbH")
    assert (lead.status, lead.created_by, lead.customer_domain) == (
        "new",
        world.admin,
        "admin-added.example",
    )
    assert list(lead.products.all()) == [product]
    assert list(LeadEvent.objects.filter(lead=lead).values_list("to_status", "actor")) == [
        ("new", world.admin.pk)
    ]
    # Once added, it is read-only in the admin.
    model_admin = admin_site._registry[Lead]
    request = response.wsgi_request
    assert not model_admin.has_change_permission(request, lead)


def test_the_admin_refuses_a_negative_value_and_keeps_the_form(client, world):
    login_as(client, world.admin)
    response = client.post(
        reverse("admin:deals_lead_add"),
        {"company": "Bad Value Ltd", "estimated_value": "-5", "currency": "USD", "source": "web"},
    )
    assert response.status_code == 200
    assert "Bad Value Ltd" in response.content.decode()
    assert not Lead.objects.filter(company="Bad Value Ltd").exists()


def test_the_rule_preview_changes_nothing_and_reports_where_leads_would_go(client, world, tiers):
    partner(world, "Sakura Systems", tiers["Silver"])
    apac = rule("APAC", active=False)  # previewed before it is switched on
    leads = [pool_lead(world, f"Customer {i}") for i in range(2)]
    login_as(client, world.admin)
    response = client.post(
        reverse("admin:deals_assignmentrule_changelist"),
        {"action": "preview_on_pool", "_selected_action": [apac.pk]},
        follow=True,
    )
    page = response.content.decode()
    assert "2 would go to partners (Sakura Systems 2), 0 would stay in the pool" in page
    assert "Customer 0 → Sakura Systems" in page and "Nothing was changed" in page
    assert set(
        Lead.objects.filter(pk__in=[lead.pk for lead in leads]).values_list("status", flat=True)
    ) == {"new"}


def test_the_admin_runs_the_rules_on_selected_leads(client, world, tiers):
    partner(world, "Sakura Systems", tiers["Silver"])
    rule("APAC")
    lead = pool_lead(world)
    login_as(client, world.admin)
    response = client.post(
        reverse("admin:deals_lead_changelist"),
        {"action": "run_assignment_rules", "_selected_action": [lead.pk]},
        follow=True,
    )
    assert "1 of 1 waiting lead(s) sent to partners" in response.content.decode()
    lead.refresh_from_db()
    assert lead.account.name == "Sakura Systems"


def test_a_large_batch_places_each_lead_as_a_full_ranking_would(world, tiers):
    """Many partners with equal scores, names differing only in case, exclusions: each lead of a
    batch goes to the best partner of a full ranking (score, fewer open leads, higher tier,
    name, creation), the runner-up named is the second, and each placement counts at once."""
    from fractions import Fraction

    rule("Same country", same_country=True)
    countries = ["Japan", "Korea"]
    names = ["Sakura", "sakura", "SAKURA", "Ume", "ume", "Kaede"]
    for i in range(24):
        tier = [tiers["Registered"], tiers["Silver"], None, tiers["Platinum"]][i // 6 % 4]
        partner(world, f"{names[i % 6]} {i // 6}", tier, country=countries[i // 3 % 2])
    holding(PartnerAccount.objects.get(name="Kaede 0"), 3)
    leads = [
        Lead.objects.create(company=f"Lead {i}", region="apac", country=countries[i % 3 % 2])
        for i in range(60)
    ]
    candidates = routing.load_candidates()
    exclude = {lead.pk: {candidates[(i * 7) % len(candidates)].pk} for i, lead in enumerate(leads)}

    decisions = routing.choose_partners(leads, exclude=exclude)

    def ranking(candidate):
        name = candidate.name.casefold()
        held = candidate.open_leads
        return (-Fraction(candidate.rank, 1 + held), held, -candidate.rank, name, candidate.pk)

    for lead, decision in zip(leads, decisions, strict=True):
        allowed = sorted(
            (
                c
                for c in candidates
                if c.country == lead.country.casefold() and c.pk not in exclude[lead.pk]
            ),
            key=ranking,
        )
        best, second = allowed[0], allowed[1]
        assert decision.account_id == best.pk, decision.note
        assert f"runner-up {second.describe()}" in decision.note
        assert f"{len(allowed)} partners qualified" in decision.note
        best.open_leads += 1
    notes = " ".join(decision.note for decision in decisions)
    for tie_break in ("by fewer open leads", "by name"):
        assert f"tie broken {tie_break}" in notes
