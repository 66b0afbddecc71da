"""Conflict detection at submission and the pre-check, with the customer names and domains
people really type: legal suffixes, punctuation, case, www., subdomains, and look-alikes that
are other customers. The partner never learns who else holds the customer."""

import dataclasses
from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from deals import selectors, services
from deals.models import (
    DealRegistration,
    Opportunity,
    OpportunityStatus,
    PipelineStage,
    Product,
    RegistrationEvent,
    RegistrationStatus,
)

pytestmark = pytest.mark.django_db

S = RegistrationStatus


@pytest.fixture
def gateway():
    return Product.objects.create(name="Gateway", sku="GW-1", family="Network", list_price=100)


@pytest.fixture
def register(gateway):
    """register(actor, company, domain, submit=True) -> the registration, submitted."""

    def make(actor, company, domain="", *, submit=True, lines=None):
        reg = services.save_registration(
            actor=actor,
            registration=DealRegistration(
                company=company,
                domain=domain,
                contact_name="Pat Buyer",
                contact_email="pat@example.com",
                amount=Decimal("1000"),
                expected_close_date=timezone.localdate() + timedelta(days=30),
            ),
            lines=lines or [(gateway, 1)],
        )
        if submit:
            reg = services.submit_registration(actor=actor, registration=reg)
        return DealRegistration.objects.get(pk=reg.pk)

    return make


def opportunity(account, company, domain="", status=OpportunityStatus.OPEN):
    return Opportunity.objects.create(
        name=f"{company} deal",
        account=account,
        company=company,
        domain=domain,
        stage=PipelineStage.objects.order_by("position", "pk").first(),
        amount=Decimal("5000"),
        close_date=timezone.localdate() + timedelta(days=20),
        status=status,
    )


# --- the same customer, however it is written -----------------------------------------------------

SAME_CUSTOMER = [
    # (B's record, A's record, a reason the manager reads)
    (("Acme Inc.", ""), ("ACME, Incorporated", ""), "same company name once normalised (acme)"),
    (("Acme Inc.", ""), ("acme", ""), "same company name once normalised (acme)"),
    (("Acme Corp.", ""), ("A.C.M.E. Corporation", ""), None),
    (("The Acme Company", ""), ("acme llc", ""), "same company name once normalised (acme)"),
    (
        ("Acme Widgets", "acme.com"),
        ("Totally Other Name", "www.acme.com"),
        "same domain (acme.com)",
    ),
    (
        ("Acme Widgets", "https://sales.acme.com/contact"),
        ("Another Name", "ACME.COM"),
        "same domain (acme.com)",
    ),
    (("Acme Widgets", "acme.com"), ("Acme", ""), "this name matches their domain acme.com"),
    (("Acme", ""), ("Whatever Ltd", "acme.com"), "their name matches this domain acme.com"),
    (
        ("Acme Bricks Ltd", ""),
        ("AB", "http://www.acmebricks.co.uk/"),
        "their name matches this domain acmebricks.co.uk",
    ),
    (("Müller & Söhne GmbH", ""), ("Muller and Sohne", ""), None),
]


@pytest.mark.parametrize(("theirs", "ours", "reason"), SAME_CUSTOMER)
def test_another_partners_registration_of_the_same_customer_is_a_conflict(
    world, register, theirs, ours, reason
):
    held = register(world.partner_admin_b, *theirs)
    assert not held.conflict
    reg = register(world.member_a, *ours)
    assert reg.status == S.SUBMITTED and reg.conflict
    assert f"Registration #{held.pk} by Contoso Partners" in reg.conflict_reasons
    if reason:
        assert reason in reg.conflict_reasons

    matches = selectors.registration_conflicts(reg, world.manager)
    assert [(m.kind, m.record) for m in matches] == [("registration", held)]
    if reason:
        assert reason in matches[0].reasons


LOOK_ALIKES = [
    (("Acme Corp", "acme.com"), ("Acme Bricks Ltd", "acmebricks.co.uk")),
    (("Acme", ""), ("Acme Bricks", "")),
    (("Acme Inc.", "acme.com"), ("Acmeco Systems", "acmeco.de")),
    (("Acme Inc.", "acme.com"), ("Acme Inc. Germany", "acme-germany.de")),
    (("Globex", "globex.com"), ("Globex Systems", "globexsystems.com")),
    (("Acme Corp", "acme.com"), ("Pinnacle", "acme.com.evil.example")),
]


@pytest.mark.parametrize(("theirs", "ours"), LOOK_ALIKES)
def test_look_alikes_are_different_customers(world, register, theirs, ours):
    register(world.partner_admin_b, *theirs)
    reg = register(world.member_a, *ours)
    assert not reg.conflict and reg.conflict_reasons == ""
    assert selectors.registration_conflicts(reg, world.manager) == []


def test_the_acme_corp_and_acme_bricks_pair_in_both_orders(world, register):
    first = register(world.member_a, "Acme Bricks Ltd", "acmebricks.co.uk")
    second = register(world.partner_admin_b, "Acme Corp", "acme.com")
    assert not first.conflict and not second.conflict


@pytest.mark.parametrize("status", ["submitted", "approved"])
def test_claiming_registrations_conflict(world, register, status):
    held = register(world.partner_admin_b, "Acme Inc.", "acme.com")
    if status == "approved":
        services.approve_registration(actor=world.admin, registration=held)
    assert register(world.member_a, "ACME, Incorporated").conflict


@pytest.mark.parametrize("end", ["draft", "withdrawn", "rejected", "returned", "expired"])
def test_registrations_that_claim_nothing_do_not_conflict(world, register, end):
    held = register(world.partner_admin_b, "Acme Inc.", "acme.com", submit=end != "draft")
    if end == "withdrawn":
        services.withdraw_registration(actor=world.partner_admin_b, registration=held, reason="x")
    elif end == "rejected":
        services.reject_registration(actor=world.admin, registration=held, reason="x")
    elif end == "returned":
        services.return_registration(actor=world.admin, registration=held, reason="x")
    elif end == "expired":
        services.approve_registration(actor=world.admin, registration=held)
        services.expire_registrations(today=timezone.localdate() + timedelta(days=365))
    assert not register(world.member_a, "Acme", "acme.com").conflict


def test_the_same_partners_own_registrations_are_not_a_conflict(world, register):
    register(world.partner_admin_a, "Acme Inc.", "acme.com")
    reg = register(world.member_a, "ACME, Incorporated", "www.acme.com")
    assert not reg.conflict


def test_another_partners_open_opportunity_is_a_conflict(world, register):
    opp = opportunity(world.b, "Acme Incorporated", "")
    reg = register(world.member_a, "Acme", "acme.com")
    assert reg.conflict
    assert f"Open opportunity #{opp.pk} of Contoso Partners" in reg.conflict_reasons
    matches = selectors.registration_conflicts(reg, world.manager)
    assert [(m.kind, m.record, m.reasons) for m in matches] == [
        (
            "opportunity",
            opp,
            ["same company name once normalised (acme)", "their name matches this domain acme.com"],
        )
    ]


@pytest.mark.parametrize("status", [OpportunityStatus.WON, OpportunityStatus.LOST])
def test_a_closed_opportunity_is_not_a_conflict(world, register, status):
    opportunity(world.b, "Acme Inc.", "acme.com", status=status)
    assert not register(world.member_a, "Acme", "acme.com").conflict


def test_our_own_open_opportunity_is_not_a_conflict(world, register):
    opportunity(world.a, "Acme Inc.", "acme.com")
    assert not register(world.member_a, "Acme", "acme.com").conflict


def test_the_manager_sees_every_match_side_by_side(world, register):
    held = register(world.partner_admin_b, "Acme Inc.", "")
    opp = opportunity(world.b, "Acme Widgets", "sales.acme.com")
    reg = register(world.member_a, "Acme", "www.acme.com")
    matches = selectors.registration_conflicts(reg, world.manager)
    assert [(m.kind, m.record) for m in matches] == [("registration", held), ("opportunity", opp)]
    assert matches[1].reasons == ["same domain (acme.com)"]
    assert [m.record for m in selectors.registration_conflicts(reg, world.admin)] == [held, opp]


@pytest.mark.parametrize("persona", ["member_a", "partner_admin_a", "partner_admin_b"])
def test_partners_get_no_conflict_details(world, register, persona):
    register(world.partner_admin_b, "Acme Inc.", "acme.com")
    reg = register(world.member_a, "Acme", "acme.com")
    assert selectors.registration_conflicts(reg, getattr(world, persona)) == []


def test_what_the_partner_reads_never_names_the_other_partner(
    world, register, django_capture_on_commit_callbacks, mailoutbox
):
    held = register(world.partner_admin_b, "Acme Inc.", "acme.com")
    with django_capture_on_commit_callbacks(execute=True):
        reg = register(world.member_a, "Acme", "acme.com")
        services.return_registration(actor=world.manager, registration=reg, reason="Details?")
    events = RegistrationEvent.objects.visible_to(world.member_a).filter(registration=reg)
    texts = [e.reason for e in events]
    assert services.CONFLICT_NOTICE in texts
    partner_mail = [m for m in mailoutbox if world.member_a.email in m.to]
    for text in texts + [m.subject + m.body for m in partner_mail]:
        assert "Contoso" not in text and f"#{held.pk}" not in text
    assert partner_mail, "the partner was told about the return"
    # the manager's notification may say there is a conflict, still without the details
    manager_mail = [m for m in mailoutbox if world.manager.email in m.to]
    assert "Possible conflict" in manager_mail[0].body


def test_resubmitting_rechecks_the_conflict(world, register):
    held = register(world.partner_admin_b, "Acme Inc.", "acme.com")
    reg = register(world.member_a, "Acme", "acme.com")
    assert reg.conflict
    services.return_registration(actor=world.manager, registration=reg, reason="Wait")
    services.withdraw_registration(actor=world.partner_admin_b, registration=held, reason="Lost")
    reg = services.submit_registration(actor=world.member_a, registration=reg)
    assert not reg.conflict and reg.conflict_reasons == ""


# --- the pre-check --------------------------------------------------------------------------------


def _assert_anonymous(result, world):
    """Nothing in the answer names the holder: not its name, not its id."""
    for value in dataclasses.asdict(result).values():
        text = str(value)
        for secret in (world.b.name, "Contoso", world.partner_admin_b.email, "Sam"):
            assert secret not in text
        assert text != str(world.b.pk) and f"#{world.b.pk}" not in text


def test_precheck_says_open_for_a_customer_nobody_holds(world, register):
    register(world.partner_admin_b, "Acme Corp", "acme.com")
    result = selectors.precheck_customer(world.member_a, "Acme Bricks Ltd", "acmebricks.co.uk")
    assert result.state == "open" and result.until is None


def test_precheck_says_under_review_without_the_holder(world, register):
    register(world.partner_admin_b, "Acme Inc.", "acme.com")
    for company, domain in (
        ("ACME, Incorporated", ""),
        ("", "https://www.acme.com"),
        ("", "sales.acme.com"),
    ):
        result = selectors.precheck_customer(world.member_a, company, domain)
        assert result.state == "under_review" and result.until is None
        _assert_anonymous(result, world)


def test_precheck_says_registered_until_the_date_without_the_holder(world, register):
    held = register(world.partner_admin_b, "Acme Inc.", "acme.com")
    services.approve_registration(actor=world.admin, registration=held)
    until = DealRegistration.objects.get(pk=held.pk).expires_on
    result = selectors.precheck_customer(world.member_a, "Acme", "")
    assert result.state == "registered" and result.until == until
    assert result.message == f"Already registered until {until:%-d %B %Y}."
    _assert_anonymous(result, world)


def test_precheck_counts_an_open_opportunity_as_registered(world):
    opportunity(world.b, "Acme Inc.", "acme.com")
    result = selectors.precheck_customer(world.member_a, "", "www.acme.com")
    assert result.state == "registered" and result.until is None
    _assert_anonymous(result, world)


def test_precheck_with_nothing_typed_is_open(world):
    result = selectors.precheck_customer(world.member_a, "  ", "")
    assert result.state == "open"
