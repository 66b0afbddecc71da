"""Pipeline pages as their users meet them: the table with its totals and export, the board and
its moves, an opportunity's page (edit, close, history), and converting leads and registrations."""

from __future__ import annotations

import csv
import io
from datetime import date, timedelta
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone

from deals import services
from deals.models import (
    DealRegistration,
    Lead,
    LeadStatus,
    Opportunity,
    OpportunityEvent,
    PipelineStage,
    RegistrationStatus,
)
from partners.models import PortalTab, Workspace, WorkspaceTab
from prm.testing.fixtures import login_as

pytestmark = pytest.mark.django_db

HTMX = {"HX-Request": "true"}


def page(response) -> str:
    return response.content.decode()


def stage(name: str) -> PipelineStage:
    return PipelineStage.objects.get(name=name)


def opportunity(
    world,
    name="Brandt Maschinenbau",
    *,
    account=None,
    owner=None,
    shared=False,
    stage_name="Qualification",
    amount=1000,
    status="open",
    **fields,
) -> Opportunity:
    account = account or world.a
    return Opportunity.objects.create(
        account=account,
        owner=owner or (world.partner_admin_b if account == world.b else world.member_a),
        shared_with_account=shared,
        name=name,
        company=name,
        stage=stage(stage_name),
        amount=amount,
        currency="EUR",
        close_date=fields.pop("close_date", timezone.localdate() + timedelta(days=30)),
        status=status,
        **fields,
    )  # fmt: skip


def approved_registration(world, *, by=None, **fields) -> DealRegistration:
    return DealRegistration.objects.create(
        account=world.a,
        created_by=by or world.member_a,
        company=fields.pop("company", "Schuster Automotive"),
        contact_name="Uwe Schuster",
        contact_email="uwe@schuster.example",
        amount=Decimal("30000"),
        expected_close_date=timezone.localdate() + timedelta(days=45),
        product_family="Platform",
        expires_on=timezone.localdate() + timedelta(days=90),
        **{"status": RegistrationStatus.APPROVED, **fields},
    )


def csv_rows(response) -> list[list[str]]:
    body = b"".join(response.streaming_content).decode()
    return list(csv.reader(io.StringIO(body)))


# --- the table --------------------------------------------------------------------------------


def test_partner_sees_their_pipeline_with_totals(client, world):
    opportunity(world, "Alpha Deal", amount=1000, stage_name="Proposal")  # 50 %
    opportunity(world, "Beta Deal", amount=3000, stage_name="Negotiation")  # 75 %
    opportunity(world, "Gamma Deal", amount=500, status="won")
    opportunity(world, "Contoso Deal", account=world.b, amount=99999)
    login_as(client, world.member_a)

    html = page(client.get(reverse("deals:opportunity_list")))

    assert "Alpha Deal" in html and "Beta Deal" in html and "Gamma Deal" in html
    assert "Contoso Deal" not in html
    assert ">Partner<" not in html  # no partner column for partners
    # open count, open amount, weighted (1000×50% + 3000×75%), won
    assert '<span class="pipeline-summary-value">2</span>' in html
    assert "4,000" in html and "2,750" in html and "500" in html


def test_a_member_does_not_see_a_colleagues_unshared_opportunity(client, world):
    opportunity(world, "Mine", owner=world.member_a)
    opportunity(world, "Alex private", owner=world.partner_admin_a)
    opportunity(world, "Alex shared", owner=world.partner_admin_a, shared=True)
    login_as(client, world.member_a)
    html = page(client.get(reverse("deals:opportunity_list")))
    assert "Mine" in html and "Alex shared" in html
    assert "Alex private" not in html


def test_manager_sees_their_partners_pipeline_with_a_partner_column(client, world):
    opportunity(world, "Northwind Deal")
    opportunity(world, "Contoso Deal", account=world.b)
    login_as(client, world.manager)
    html = page(client.get(reverse("deals:opportunity_list")))
    assert "Northwind Deal" in html and "Northwind Systems" in html
    assert "Contoso Deal" not in html


def test_filters_by_status_stage_and_close_dates(client, world):
    soon = timezone.localdate() + timedelta(days=5)
    later = timezone.localdate() + timedelta(days=200)
    opportunity(world, "Soon Proposal", stage_name="Proposal", close_date=soon)
    opportunity(world, "Later Proposal", stage_name="Proposal", close_date=later)
    opportunity(world, "Soon Discovery", stage_name="Discovery", close_date=soon)
    opportunity(world, "Won Proposal", stage_name="Proposal", close_date=soon, status="won")
    login_as(client, world.manager)
    query = {
        "status": "open",
        "stage": stage("Proposal").pk,
        "close_before": (soon + timedelta(days=1)).isoformat(),
        "account": world.a.pk,
    }
    html = page(client.get(reverse("deals:opportunity_list"), query))
    assert "Soon Proposal" in html
    assert "Later Proposal" not in html and "Soon Discovery" not in html
    assert "Won Proposal" not in html


def test_the_export_is_scoped_filtered_and_safe(client, world):
    opportunity(world, "=HYPERLINK(evil)", stage_name="Proposal")
    opportunity(world, "Other stage", stage_name="Discovery")
    opportunity(world, "Contoso Deal", account=world.b)
    login_as(client, world.partner_admin_a)
    response = client.get(reverse("deals:opportunity_export"), {"stage": stage("Proposal").pk})
    assert response.status_code == 200
    rows = csv_rows(response)
    assert rows[0][:3] == ["Opportunity", "Stage", "Amount"]
    assert [row[0] for row in rows[1:]] == ["'=HYPERLINK(evil)"]
    assert "Probability (%)" in rows[0] and "50" in rows[1]


def test_an_empty_pipeline_says_how_to_fill_it(client, world):
    login_as(client, world.member_a)
    html = page(client.get(reverse("deals:opportunity_list")))
    assert "Your pipeline is empty" in html


def test_the_deals_tab_closed_by_the_workspace_closes_the_pipeline(client, world):
    workspace = Workspace.objects.create(name="No deals", tier=world.tier)
    for position, tab in enumerate(PortalTab.values):
        WorkspaceTab.objects.create(
            workspace=workspace, tab=tab, position=position, enabled=tab != PortalTab.DEALS
        )
    login_as(client, world.member_a)
    for name in ("deals:opportunity_list", "deals:opportunity_board"):
        assert client.get(reverse(name)).status_code == 404


# --- the board --------------------------------------------------------------------------------


def test_the_board_shows_a_column_per_stage_with_count_and_amount(client, world):
    opportunity(world, "Alpha Deal", amount=1000, stage_name="Proposal")
    opportunity(world, "Beta Deal", amount=2500, stage_name="Proposal")
    opportunity(world, "Closed Deal", amount=700, stage_name="Proposal", status="lost")
    login_as(client, world.member_a)
    html = page(client.get(reverse("deals:opportunity_board")))
    for name in ("Qualification", "Discovery", "Proposal", "Negotiation", "Commit"):
        assert f">{name} <" in html
    assert "Alpha Deal" in html and "Beta Deal" in html
    assert "Closed Deal" not in html
    assert '<span class="fw-semibold text-body">2</span> deals · 3,500' in html
    assert "No open deals at this stage." in html


def test_a_full_column_shows_how_many_more_are_in_the_table(client, world):
    proposal = stage("Proposal")
    Opportunity.objects.bulk_create(
        Opportunity(
            account=world.a,
            owner=world.member_a,
            name=f"Bulk {i:03d}",
            company=f"Bulk {i:03d}",
            stage=proposal,
            amount=10,
            close_date=date(2031, 1, 1) + timedelta(days=i),
        )
        for i in range(53)
    )
    login_as(client, world.member_a)
    html = page(client.get(reverse("deals:opportunity_board")))
    assert "Bulk 049" in html and "Bulk 050" not in html
    assert "and 3 more" in html and f"stage={proposal.pk}" in html
    assert '<span class="fw-semibold text-body">53</span> deals · 530' in html


def test_moving_a_card_with_htmx_returns_the_updated_board(client, world):
    deal = opportunity(world, "Alpha Deal", amount=1000)
    login_as(client, world.member_a)
    response = client.post(
        reverse("deals:opportunity_move", args=[deal.pk]),
        {"stage": stage("Discovery").pk, "next": reverse("deals:opportunity_board")},
        headers=HTMX,
    )
    assert response.status_code == 200
    html = page(response)
    assert html.startswith('<div id="board"') or 'id="board"' in html
    assert "<html" not in html
    assert "Alpha Deal is now in Discovery." in html and 'hx-swap-oob="true"' in html
    deal.refresh_from_db()
    assert deal.stage == stage("Discovery")
    event = OpportunityEvent.objects.get(opportunity=deal)
    assert (event.from_status, event.to_status, event.actor) == (
        "Qualification",
        "Discovery",
        world.member_a,
    )


def test_a_plain_move_goes_back_to_the_board_it_came_from(client, world):
    deal = opportunity(world, "Alpha Deal")
    login_as(client, world.partner_admin_a)
    back = reverse("deals:opportunity_board") + "?q=Alpha"
    response = client.post(
        reverse("deals:opportunity_move", args=[deal.pk]),
        {"stage": stage("Proposal").pk, "next": back},
    )
    assert response.status_code == 302 and response["Location"] == back


def test_moving_to_an_unknown_stage_says_so_and_moves_nothing(client, world):
    deal = opportunity(world, "Alpha Deal")
    login_as(client, world.member_a)
    response = client.post(
        reverse("deals:opportunity_move", args=[deal.pk]), {"stage": 999999}, headers=HTMX
    )
    assert "Choose one of the pipeline" in page(response)
    deal.refresh_from_db()
    assert deal.stage.name == "Qualification"


def test_a_closed_opportunity_does_not_move(client, world):
    deal = opportunity(world, "Alpha Deal", status="won")
    login_as(client, world.member_a)
    response = client.post(
        reverse("deals:opportunity_move", args=[deal.pk]),
        {"stage": stage("Proposal").pk},
        headers=HTMX,
    )
    assert "can&#x27;t be changed" in page(response)
    deal.refresh_from_db()
    assert deal.stage.name == "Qualification"


def test_cards_a_member_may_not_move_have_no_arrows(client, world):
    opportunity(world, "Alex shared", owner=world.partner_admin_a, shared=True)
    opportunity(world, "Mine")
    login_as(client, world.member_a)
    html = page(client.get(reverse("deals:opportunity_board")))
    assert "Move Mine on to Discovery" in html
    assert "Move Alex shared" not in html


def test_member_gets_403_moving_a_colleagues_shared_and_404_an_unshared_one(client, world):
    shared = opportunity(world, "Shared", owner=world.partner_admin_a, shared=True)
    private = opportunity(world, "Private", owner=world.partner_admin_a)
    login_as(client, world.member_a)
    data = {"stage": stage("Proposal").pk}
    assert client.post(reverse("deals:opportunity_move", args=[shared.pk]), data).status_code == 403
    assert (
        client.post(reverse("deals:opportunity_move", args=[private.pk]), data).status_code == 404
    )
    assert client.get(reverse("deals:opportunity", args=[private.pk])).status_code == 404
    assert not OpportunityEvent.objects.exists()


@pytest.mark.parametrize("who", ["partner_admin_b", "other_manager"])
def test_another_company_gets_404_on_every_opportunity_url(client, world, who):
    deal = opportunity(world, "Northwind Deal")
    login_as(client, getattr(world, who))
    assert client.get(reverse("deals:opportunity", args=[deal.pk])).status_code == 404
    for name, data in (
        ("deals:opportunity", {"amount": "1", "close_date": "2031-01-01"}),
        ("deals:opportunity_move", {"stage": stage("Proposal").pk}),
        ("deals:opportunity_close", {"won": "yes", "reason": "x"}),
    ):
        assert client.post(reverse(name, args=[deal.pk]), data).status_code == 404
    rows = csv_rows(client.get(reverse("deals:opportunity_export")))
    assert not [row for row in rows if "Northwind Deal" in row]
    deal.refresh_from_db()
    assert (deal.stage.name, deal.status, deal.amount) == ("Qualification", "open", 1000)


# --- one opportunity --------------------------------------------------------------------------


def test_the_owner_edits_an_opportunity(client, world):
    deal = opportunity(world, "Alpha Deal")
    login_as(client, world.member_a)
    later = timezone.localdate() + timedelta(days=50)
    response = client.post(
        reverse("deals:opportunity", args=[deal.pk]),
        {
            "stage": stage("Negotiation").pk,
            "amount": "1234.50",
            "close_date": later.isoformat(),
            "next_step": "Legal review",
        },
        follow=True,
    )
    html = page(response)
    assert "Alpha Deal is saved." in html
    assert (
        'Qualification</span> <span aria-label="to">→</span> <span class="fw-semibold">Negotiation'
        in html
    )
    deal.refresh_from_db()
    assert (deal.stage.name, deal.amount, deal.close_date, deal.next_step) == (
        "Negotiation",
        Decimal("1234.50"),
        later,
        "Legal review",
    )


@pytest.mark.parametrize(
    ("data", "field", "message"),
    [
        ({"amount": "-5"}, "amount", "The amount can&#x27;t be negative."),
        ({"close_date": "2020-01-01"}, "close_date", "can&#x27;t be in the past"),
        ({"stage": "999999"}, "stage", "Choose one of the pipeline&#x27;s stages."),
    ],
)
def test_bad_input_is_a_field_error_the_form_is_refilled_and_nothing_saved(
    client, world, data, field, message
):
    deal = opportunity(world, "Alpha Deal")
    login_as(client, world.member_a)
    later = (timezone.localdate() + timedelta(days=50)).isoformat()
    posted = {
        "stage": stage("Proposal").pk,
        "amount": "777",
        "close_date": later,
        "next_step": "Typed by hand",
        **data,
    }
    response = client.post(reverse("deals:opportunity", args=[deal.pk]), posted)
    assert response.status_code == 200
    html = page(response)
    assert message in html
    assert f'id="id_{field}_error"' in html
    assert 'value="Typed by hand"' in html  # refilled
    deal.refresh_from_db()
    assert (deal.stage.name, deal.amount, deal.next_step) == ("Qualification", 1000, "")
    assert not OpportunityEvent.objects.exists()


def test_a_member_sees_a_colleagues_shared_opportunity_without_forms(client, world):
    deal = opportunity(world, "Shared", owner=world.partner_admin_a, shared=True)
    login_as(client, world.member_a)
    html = page(client.get(reverse("deals:opportunity", args=[deal.pk])))
    assert "Shared" in html and "Save changes" not in html and "Close the deal" not in html
    response = client.post(
        reverse("deals:opportunity", args=[deal.pk]), {"amount": "1", "close_date": "2031-01-01"}
    )
    assert response.status_code == 403


def test_closing_needs_a_reason_and_keeps_what_was_chosen(client, world):
    deal = opportunity(world, "Alpha Deal")
    login_as(client, world.member_a)
    response = client.post(
        reverse("deals:opportunity_close", args=[deal.pk]), {"won": "no", "reason": ""}
    )
    assert response.status_code == 200
    html = page(response)
    assert "Say why the deal was lost" in html
    assert 'value="no" checked' in html
    deal.refresh_from_db()
    assert deal.status == "open"


def test_closing_won_shows_the_outcome_and_history(client, world):
    deal = opportunity(world, "Alpha Deal", stage_name="Commit")
    login_as(client, world.partner_admin_a)
    response = client.post(
        reverse("deals:opportunity_close", args=[deal.pk]),
        {"won": "yes", "reason": "Signed a three-year deal"},
        follow=True,
    )
    html = page(response)
    assert "Alpha Deal is won" in html
    assert "status-won" in html and "Signed a three-year deal" in html
    assert "Save changes" not in html and "Close the deal" not in html
    deal.refresh_from_db()
    assert deal.status == "won"
    assert OpportunityEvent.objects.get(opportunity=deal).to_status == "Won"


# --- conversions ------------------------------------------------------------------------------


def accepted_lead(world) -> Lead:
    lead = services.create_lead(actor=world.manager, lead=Lead(company="Lindner Verpackung"))
    lead = services.assign_lead(actor=world.manager, lead=lead, account=world.a)
    return services.accept_lead(actor=world.member_a, lead=lead)


def test_an_accepted_lead_offers_and_does_the_conversion(client, world):
    lead = accepted_lead(world)
    login_as(client, world.member_a)
    assert "Convert to opportunity" in page(client.get(reverse("deals:lead", args=[lead.pk])))

    response = client.post(reverse("deals:lead_convert", args=[lead.pk]), follow=True)

    deal = Opportunity.objects.get(lead=lead)
    assert response.redirect_chain[-1][0] == reverse("deals:opportunity", args=[deal.pk])
    assert "Lindner Verpackung is in your pipeline at Qualification" in page(response)
    lead.refresh_from_db()
    assert lead.status == LeadStatus.CONVERTED
    assert "Convert to opportunity" not in page(client.get(reverse("deals:lead", args=[lead.pk])))

    again = client.post(reverse("deals:lead_convert", args=[lead.pk]), follow=True)
    assert "already an opportunity" in page(again)
    assert Opportunity.objects.count() == 1


def test_an_approved_registration_converts_at_the_chosen_stage(client, world):
    registration = approved_registration(world)
    login_as(client, world.member_a)
    response = client.post(
        reverse("deals:registration_convert", args=[registration.pk]),
        {"stage": stage("Proposal").pk},
    )
    deal = Opportunity.objects.get(registration=registration)
    assert response["Location"] == reverse("deals:opportunity", args=[deal.pk])
    assert deal.stage.name == "Proposal" and deal.owner == world.member_a
    registration.refresh_from_db()
    assert registration.status == RegistrationStatus.CONVERTED


def test_a_registration_under_review_does_not_convert(client, world):
    registration = approved_registration(world, status=RegistrationStatus.SUBMITTED)
    login_as(client, world.member_a)
    response = client.post(
        reverse("deals:registration_convert", args=[registration.pk]), follow=True
    )
    assert "Only an approved registration becomes an opportunity." in page(response)
    assert not Opportunity.objects.exists()
