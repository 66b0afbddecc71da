"""Opportunity services: converting an approved registration or an accepted lead, editing,
moving and closing, with who may do each and what the history records."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import timezone

from deals import services
from deals.models import (
    DealRegistration,
    Lead,
    LeadEvent,
    LeadStatus,
    Opportunity,
    OpportunityEvent,
    OpportunityStatus,
    PipelineStage,
    Product,
    RegistrationEvent,
    RegistrationStatus,
)

pytestmark = pytest.mark.django_db


def stage(name: str) -> PipelineStage:
    return PipelineStage.objects.get(name=name)


def approved_registration(world, *, account=None, by=None, shared=False, **fields):
    """An approved registration made with the ORM (the registration services are not needed)."""
    account = account or world.a
    values = {
        "company": "Brandt Maschinenbau GmbH",
        "domain": "brandt-maschinenbau.example",
        "contact_name": "Greta Brandt",
        "contact_email": "greta@brandt-maschinenbau.example",
        "amount": Decimal("48000"),
        "currency": "EUR",
        "expected_close_date": timezone.localdate() + timedelta(days=60),
        "product_family": "Analytics",
        "status": RegistrationStatus.APPROVED,
        "expires_on": timezone.localdate() + timedelta(days=90),
        "shared_with_account": shared,
        **fields,
    }
    return DealRegistration.objects.create(
        account=account, created_by=by or world.member_a, **values
    )


def accepted_lead(world, *, account=None, company="Lindner Verpackung", **fields) -> Lead:
    account = account or world.a
    manager = world.other_manager if account == world.b else world.manager
    partner = world.partner_admin_b if account == world.b else world.member_a
    lead = services.create_lead(actor=manager, lead=Lead(company=company, **fields))
    lead = services.assign_lead(actor=manager, lead=lead, account=account)
    return services.accept_lead(actor=partner, lead=lead)


def opportunity_of(world, *, by=None, shared=False, **fields) -> Opportunity:
    registration = approved_registration(world, by=by or world.member_a, shared=shared, **fields)
    return services.convert_registration(actor=by or world.member_a, registration=registration)


def history(opportunity) -> list[tuple[str, str, str]]:
    return [
        (e.from_status, e.to_status, e.reason)
        for e in OpportunityEvent.objects.filter(opportunity=opportunity).order_by("pk")
    ]


# --- converting a registration ------------------------------------------------------------------


def test_an_approved_registration_becomes_an_opportunity_of_its_creator(world):
    registration = approved_registration(world, stage=stage("Proposal"), shared=True)

    opportunity = services.convert_registration(actor=world.member_a, registration=registration)

    assert opportunity.name == "Brandt Maschinenbau GmbH — Analytics"
    assert (opportunity.account, opportunity.owner, opportunity.created_by) == (
        world.a,
        world.member_a,
        world.member_a,
    )
    assert (opportunity.amount, opportunity.currency) == (Decimal("48000"), "EUR")
    assert opportunity.close_date == registration.expected_close_date
    assert opportunity.product_family == "Analytics"
    assert opportunity.domain == "brandt-maschinenbau.example"
    assert opportunity.shared_with_account is True
    assert opportunity.stage == stage("Proposal")
    assert opportunity.status == OpportunityStatus.OPEN
    registration.refresh_from_db()
    assert registration.status == RegistrationStatus.CONVERTED
    event = RegistrationEvent.objects.get(registration=registration)
    assert (event.from_status, event.to_status, event.actor) == (
        "approved",
        "converted",
        world.member_a,
    )
    assert history(opportunity) == [("", "Proposal", "Converted from an approved registration")]


def test_conversion_starts_at_the_first_stage_or_the_one_chosen(world):
    first = services.convert_registration(
        actor=world.member_a, registration=approved_registration(world)
    )
    chosen = services.convert_registration(
        actor=world.partner_admin_a,
        registration=approved_registration(world, company="Other GmbH", domain="other.example"),
        stage=stage("Negotiation"),
    )
    assert first.stage == stage("Qualification")
    assert chosen.stage == stage("Negotiation")
    assert chosen.owner == world.member_a  # the registration's creator, not who converted it


def test_the_accounts_manager_and_an_admin_may_convert(world):
    by_manager = services.convert_registration(
        actor=world.manager, registration=approved_registration(world)
    )
    by_admin = services.convert_registration(
        actor=world.admin,
        registration=approved_registration(world, company="Other GmbH", domain="other.example"),
    )
    assert by_manager.owner == by_admin.owner == world.member_a


@pytest.mark.parametrize("who", ["partner_admin_b", "other_manager"])
def test_another_company_or_manager_cannot_convert(world, who):
    registration = approved_registration(world)
    with pytest.raises(PermissionDenied):
        services.convert_registration(actor=getattr(world, who), registration=registration)
    assert not Opportunity.objects.exists()


def test_a_member_cannot_convert_a_colleagues_registration(world):
    registration = approved_registration(world, by=world.partner_admin_a, shared=True)
    with pytest.raises(PermissionDenied):
        services.convert_registration(actor=world.member_a, registration=registration)
    assert not Opportunity.objects.exists()


def test_converting_twice_fails_and_keeps_one_opportunity(world):
    registration = approved_registration(world)
    services.convert_registration(actor=world.member_a, registration=registration)
    with pytest.raises(ValidationError, match="already an opportunity"):
        services.convert_registration(actor=world.member_a, registration=registration)
    assert Opportunity.objects.count() == 1


@pytest.mark.parametrize(
    "status", ["draft", "submitted", "returned", "rejected", "withdrawn", "expired"]
)
def test_only_an_approved_registration_converts(world, status):
    registration = approved_registration(world, status=status)
    with pytest.raises(ValidationError, match="Only an approved registration"):
        services.convert_registration(actor=world.member_a, registration=registration)
    registration.refresh_from_db()
    assert registration.status == status
    assert not Opportunity.objects.exists()


def test_an_inactive_stage_is_refused(world):
    retired = PipelineStage.objects.create(name="Retired", probability=5, active=False)
    registration = approved_registration(world)
    with pytest.raises(ValidationError) as error:
        services.convert_registration(
            actor=world.member_a, registration=registration, stage=retired
        )
    assert "stage" in error.value.message_dict
    registration.refresh_from_db()
    assert registration.status == RegistrationStatus.APPROVED


# --- converting a lead ----------------------------------------------------------------------------


def test_an_accepted_lead_becomes_a_shared_opportunity_of_who_converts_it(world):
    product = Product.objects.create(name="Insight", sku="INS-1", family="Analytics", list_price=1)
    lead = accepted_lead(world, domain="lindner.example", estimated_value=Decimal("12500"))
    lead.products.add(product)

    opportunity = services.convert_lead(actor=world.partner_admin_a, lead=lead)

    assert opportunity.name == "Lindner Verpackung — Analytics"
    assert (opportunity.account, opportunity.owner) == (world.a, world.partner_admin_a)
    assert opportunity.shared_with_account is True
    assert opportunity.amount == Decimal("12500")
    assert opportunity.close_date > timezone.localdate()
    assert opportunity.lead == lead
    lead.refresh_from_db()
    assert lead.status == LeadStatus.CONVERTED
    last = LeadEvent.objects.filter(lead=lead).order_by("pk").last()
    assert (last.from_status, last.to_status, last.actor) == (
        "accepted",
        "converted",
        world.partner_admin_a,
    )
    assert history(opportunity) == [("", "Qualification", "Converted from an accepted lead")]


def test_a_manager_converting_a_lead_leaves_it_with_who_accepted_it(world):
    lead = accepted_lead(world)
    opportunity = services.convert_lead(actor=world.manager, lead=lead)
    assert opportunity.owner == world.member_a
    assert opportunity.amount == 0


def test_another_partner_cannot_convert_the_lead(world):
    lead = accepted_lead(world)
    with pytest.raises(PermissionDenied):
        services.convert_lead(actor=world.partner_admin_b, lead=lead)
    with pytest.raises(PermissionDenied):
        services.convert_lead(actor=world.other_manager, lead=lead)
    assert not Opportunity.objects.exists()


def test_only_an_accepted_lead_converts_and_only_once(world):
    waiting = services.assign_lead(
        actor=world.manager,
        lead=services.create_lead(actor=world.manager, lead=Lead(company="Waiting AG")),
        account=world.a,
    )
    with pytest.raises(ValidationError, match="Only an accepted lead"):
        services.convert_lead(actor=world.member_a, lead=waiting)
    lead = accepted_lead(world)
    services.convert_lead(actor=world.member_a, lead=lead)
    with pytest.raises(ValidationError, match="already an opportunity"):
        services.convert_lead(actor=world.member_a, lead=lead)
    assert Opportunity.objects.count() == 1


# --- updating and moving ----------------------------------------------------------------------


def test_the_owner_updates_and_a_stage_change_is_recorded(world):
    opportunity = opportunity_of(world)
    later = timezone.localdate() + timedelta(days=30)

    services.update_opportunity(
        actor=world.member_a,
        opportunity=opportunity,
        stage=stage("Proposal"),
        amount=Decimal("51000"),
        close_date=later,
        next_step="  Send the revised quote  ",
    )

    opportunity.refresh_from_db()
    assert (opportunity.stage, opportunity.amount, opportunity.close_date) == (
        stage("Proposal"),
        Decimal("51000"),
        later,
    )
    assert opportunity.next_step == "Send the revised quote"
    event = OpportunityEvent.objects.filter(opportunity=opportunity).last()
    assert (event.from_status, event.to_status, event.actor) == (
        "Qualification",
        "Proposal",
        world.member_a,
    )


def test_an_update_without_a_stage_change_records_no_step(world):
    opportunity = opportunity_of(world)
    services.update_opportunity(actor=world.member_a, opportunity=opportunity, next_step="Call")
    assert len(history(opportunity)) == 1


@pytest.mark.parametrize("who", ["partner_admin_a", "manager", "admin"])
def test_partner_admins_and_the_manager_may_change_a_members_opportunity(world, who):
    opportunity = opportunity_of(world)
    services.move_opportunity(
        actor=getattr(world, who), opportunity=opportunity, stage=stage("Discovery")
    )
    opportunity.refresh_from_db()
    assert opportunity.stage == stage("Discovery")


def test_a_member_cannot_change_a_colleagues_shared_opportunity(world):
    opportunity = opportunity_of(world, by=world.partner_admin_a, shared=True)
    with pytest.raises(PermissionDenied):
        services.update_opportunity(actor=world.member_a, opportunity=opportunity, next_step="x")
    with pytest.raises(PermissionDenied):
        services.move_opportunity(
            actor=world.member_a, opportunity=opportunity, stage=stage("Proposal")
        )
    with pytest.raises(PermissionDenied):
        services.close_opportunity(
            actor=world.member_a, opportunity=opportunity, won=True, reason="Signed"
        )
    opportunity.refresh_from_db()
    assert (opportunity.stage.name, opportunity.status) == ("Qualification", "open")


@pytest.mark.parametrize("who", ["partner_admin_b", "other_manager"])
def test_another_company_or_manager_cannot_change_it(world, who):
    opportunity = opportunity_of(world)
    with pytest.raises(PermissionDenied):
        services.move_opportunity(
            actor=getattr(world, who), opportunity=opportunity, stage=stage("Proposal")
        )


def test_a_distributor_reads_its_resellers_pipeline_but_does_not_change_it(world):
    reseller_deal = Opportunity.objects.create(
        account=world.a_child,
        name="Reseller deal",
        company="Reseller customer",
        stage=stage("Discovery"),
        amount=10,
        close_date=date(2031, 1, 1),
    )
    assert Opportunity.objects.visible_to(world.partner_admin_a).filter(pk=reseller_deal.pk)
    with pytest.raises(PermissionDenied):
        services.move_opportunity(
            actor=world.partner_admin_a, opportunity=reseller_deal, stage=stage("Proposal")
        )


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"amount": Decimal("-1")}, "amount"),
        ({"close_date": date(2020, 1, 1)}, "close_date"),
        ({"next_step": "x" * 201}, "next_step"),
    ],
)
def test_bad_values_are_field_errors_and_nothing_is_saved(world, changes, field):
    opportunity = opportunity_of(world)
    with pytest.raises(ValidationError) as error:
        services.update_opportunity(
            actor=world.member_a, opportunity=opportunity, stage=stage("Proposal"), **changes
        )
    assert field in error.value.message_dict
    opportunity.refresh_from_db()
    assert opportunity.stage.name == "Qualification"
    assert opportunity.amount == Decimal("48000")
    assert len(history(opportunity)) == 1


def test_an_unchanged_past_close_date_does_not_block_other_edits(world):
    opportunity = opportunity_of(world)
    Opportunity.objects.filter(pk=opportunity.pk).update(close_date=date(2020, 1, 1))
    opportunity.refresh_from_db()
    services.update_opportunity(
        actor=world.member_a,
        opportunity=opportunity,
        close_date=date(2020, 1, 1),
        next_step="Chase the PO",
    )
    opportunity.refresh_from_db()
    assert opportunity.next_step == "Chase the PO"


def test_moving_to_the_same_stage_records_nothing(world):
    opportunity = opportunity_of(world)
    services.move_opportunity(
        actor=world.member_a, opportunity=opportunity, stage=stage("Qualification")
    )
    assert len(history(opportunity)) == 1


def test_moving_to_an_inactive_stage_is_refused(world):
    opportunity = opportunity_of(world)
    retired = PipelineStage.objects.create(name="Retired", probability=5, active=False)
    with pytest.raises(ValidationError):
        services.move_opportunity(actor=world.member_a, opportunity=opportunity, stage=retired)


# --- closing ----------------------------------------------------------------------------------


@pytest.mark.parametrize(("won", "word"), [(True, "Won"), (False, "Lost")])
def test_closing_records_the_outcome_and_reason(world, won, word):
    opportunity = opportunity_of(world)
    services.move_opportunity(
        actor=world.member_a, opportunity=opportunity, stage=stage("Negotiation")
    )

    services.close_opportunity(
        actor=world.member_a, opportunity=opportunity, won=won, reason="Decided at the board"
    )

    opportunity.refresh_from_db()
    assert opportunity.status == ("won" if won else "lost")
    assert opportunity.reason == "Decided at the board"
    assert opportunity.closed_at is not None
    assert history(opportunity)[-1] == ("Negotiation", word, "Decided at the board")


def test_a_reason_is_required_to_close(world):
    opportunity = opportunity_of(world)
    with pytest.raises(ValidationError) as error:
        services.close_opportunity(
            actor=world.member_a, opportunity=opportunity, won=False, reason=" "
        )
    assert "reason" in error.value.message_dict
    opportunity.refresh_from_db()
    assert opportunity.status == "open"


def test_a_closed_opportunity_cannot_move_change_or_close_again(world):
    opportunity = opportunity_of(world)
    services.close_opportunity(
        actor=world.member_a, opportunity=opportunity, won=True, reason="Signed"
    )
    with pytest.raises(ValidationError, match="won"):
        services.move_opportunity(
            actor=world.member_a, opportunity=opportunity, stage=stage("Proposal")
        )
    with pytest.raises(ValidationError):
        services.update_opportunity(actor=world.manager, opportunity=opportunity, amount=1)
    with pytest.raises(ValidationError):
        services.close_opportunity(
            actor=world.member_a, opportunity=opportunity, won=False, reason="Oops"
        )
    opportunity.refresh_from_db()
    assert (opportunity.status, opportunity.stage.name) == ("won", "Qualification")
    assert len(history(opportunity)) == 2
