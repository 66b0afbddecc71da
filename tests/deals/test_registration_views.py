"""Deal registration pages as their users meet them: a partner registers (with the pre-check),
bad input comes back filled in, a conflict never shows another partner's data, the manager works
the review queue and the side-by-side view, decides, and extensions go back and forth."""

from __future__ import annotations

import csv
import io
from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from deals import services
from deals.models import (
    DealRegistration,
    ExtensionRequest,
    ExtensionStatus,
    Product,
    RegistrationEvent,
    RegistrationLine,
    RegistrationStatus,
)
from partners.models import PortalTab, Workspace, WorkspaceTab
from prm.testing.fixtures import login_as

pytestmark = pytest.mark.django_db

S = RegistrationStatus
HTMX = {"HX-Request": "true"}
CONFLICT = "Possible conflict — under review"


def page(response) -> str:
    return response.content.decode()


@pytest.fixture
def products(db):
    return {
        "gateway": Product.objects.create(
            name="Gateway", sku="GW-1", family="Network", list_price=100
        ),
        "switch": Product.objects.create(
            name="Switch", sku="SW-1", family="Network", list_price=50
        ),
        "insight": Product.objects.create(
            name="Insight", sku="IN-1", family="Analytics", list_price=80
        ),
        "retired": Product.objects.create(
            name="Old Router", sku="OLD-1", family="Network", list_price=5, active=False
        ),
    }


def in_days(days: int):
    return timezone.localdate() + timedelta(days=days)


def register(user, products, *, company="Acme Inc.", domain="acme.com", submit=False, **fields):
    """A registration saved (and submitted) through the services, as ``user``."""
    values = {
        "contact_name": "Alice Anders",
        "contact_email": "alice@acme.com",
        "amount": 25000,
        "expected_close_date": in_days(30),
        **fields,
    }
    registration = services.save_registration(
        actor=user,
        registration=DealRegistration(company=company, domain=domain, **values),
        lines=[(products["gateway"], 3)],
    )
    if submit:
        registration = services.submit_registration(actor=user, registration=registration)
    return registration


def form_data(products, action="draft", **overrides) -> dict:
    data = {
        "company": "Brandt Maschinenbau GmbH",
        "domain": "brandt-maschinenbau.de",
        "contact_name": "Birgit Brandt",
        "contact_email": "birgit@brandt-maschinenbau.de",
        "contact_phone": "+49 30 1234567",
        "amount": "48000",
        "currency": "EUR",
        "expected_close_date": in_days(45).isoformat(),
        "stage": "",
        "competitors": "Globex",
        "notes": "Replacing their ageing routers in three plants.",
        "lines-TOTAL_FORMS": "2",
        "lines-INITIAL_FORMS": "0",
        "lines-MIN_NUM_FORMS": "1",
        "lines-MAX_NUM_FORMS": "20",
        "lines-0-product": str(products["gateway"].pk),
        "lines-0-quantity": "4",
        "lines-1-product": "",
        "lines-1-quantity": "1",
        "action": action,
    }
    data.update(overrides)
    return data


# --- registering a deal ---------------------------------------------------------------------


def test_a_partner_saves_a_draft_and_sees_it_with_its_history(client, world, products):
    login_as(client, world.member_a)
    response = client.post(reverse("deals:registration_add"), form_data(products))

    registration = DealRegistration.objects.get()
    assert response.status_code == 302
    assert response["Location"] == reverse("deals:registration", args=[registration.pk])
    assert (registration.status, registration.account, registration.created_by) == (
        S.DRAFT,
        world.a,
        world.member_a,
    )
    assert registration.currency == "EUR" and registration.product_family == "Network"
    assert [(ln.product, ln.quantity) for ln in registration.lines.all()] == [
        (products["gateway"], 4)
    ]
    html = page(client.get(response["Location"]))
    assert "saved as a draft" in html
    assert "Brandt Maschinenbau GmbH" in html and "Birgit Brandt" in html
    assert "4</td>" in html and "GW-1" in html
    assert 'id="history-h"' in html and "Jamie Park" in html  # the history names the actor
    assert "Submit for approval" in html


def test_submit_for_approval_from_the_form(client, world, products):
    login_as(client, world.partner_admin_a)
    response = client.post(
        reverse("deals:registration_add"),
        form_data(
            products,
            action="submit",
            **{"lines-1-product": str(products["switch"].pk), "lines-1-quantity": "2"},
        ),
    )
    registration = DealRegistration.objects.get()
    assert response.status_code == 302
    assert registration.status == S.SUBMITTED and registration.submitted_at is not None
    assert registration.lines.count() == 2
    html = page(client.get(response["Location"]))
    assert "is submitted" in html and "Under review" in html
    assert list(
        RegistrationEvent.objects.filter(registration=registration).values_list(
            "from_status", "to_status"
        )
    ) == [("", S.DRAFT), (S.DRAFT, S.SUBMITTED)]


def test_the_register_form_is_short_and_offers_the_pre_check(client, world, products):
    login_as(client, world.member_a)
    response = client.get(reverse("deals:registration_add"))
    assert response.status_code == 200
    form = response.context["form"]
    required = [name for name, field in form.fields.items() if field.required]
    assert len(required) + 1 <= 8, required  # + the products
    html = page(response)
    assert 'hx-get="/registrations/precheck/"' in html and 'id="precheck"' in html
    assert 'type="date"' in html
    assert "Save draft" in html and "Submit for approval" in html
    assert 'name="viewport"' in html
    # Only what the partner may register, grouped by family; retired products are not offered.
    assert '<optgroup label="Network">' in html and "Insight" in html
    assert "Old Router" not in html


BAD_INPUT = {
    "past close date": (
        {"expected_close_date": "2020-01-15"},
        "expected_close_date",
        "can&#x27;t be in the past",
        "2020-01-15",
    ),
    "negative amount": ({"amount": "-500"}, "amount", "can&#x27;t be negative", 'value="-500"'),
    "unknown product": (
        {"lines-0-product": "999999"},
        "lines-0-product",
        "isn&#x27;t in the catalogue",
        "Birgit Brandt",
    ),
    "retired product": (
        {"lines-0-product": "retired"},
        "lines-0-product",
        "isn&#x27;t in the catalogue",
        "Birgit Brandt",
    ),
    "oversized notes": (
        {"notes": "x" * 4001},
        "notes",
        "at most 4000 characters",
        "x" * 4001,
    ),
    "no product": ({"lines-0-product": ""}, "lines-0-product", "Choose a product.", "48000"),
    "quantity zero": ({"lines-0-quantity": "0"}, "lines-0-quantity", "At least 1.", "48000"),
}


@pytest.mark.parametrize("case", list(BAD_INPUT), ids=list(BAD_INPUT))
@pytest.mark.parametrize("action", ["draft", "submit"])
def test_bad_input_comes_back_at_its_field_filled_in_and_saves_nothing(
    client, world, products, case, action
):
    overrides, field, message, typed = BAD_INPUT[case]
    if overrides.get("lines-0-product") == "retired":
        overrides = {"lines-0-product": str(products["retired"].pk)}
    login_as(client, world.partner_admin_a)
    response = client.post(
        reverse("deals:registration_add"), form_data(products, action=action, **overrides)
    )

    assert response.status_code == 200
    html = page(response)
    error = html.split(f'id="id_{field}_error"', 1)[1].split("</div></div>", 1)[0]
    assert message in error
    assert typed in html
    assert "Brandt Maschinenbau GmbH" in html and "birgit@brandt-maschinenbau.de" in html
    assert 'data-state="open"' in html  # the pre-check of what was typed, still shown
    assert "Please submit" not in html  # one message per problem, at its field
    assert not DealRegistration.objects.exists()
    assert not RegistrationLine.objects.exists() and not RegistrationEvent.objects.exists()


def test_two_product_families_are_refused_on_the_products(client, world, products):
    login_as(client, world.partner_admin_a)
    response = client.post(
        reverse("deals:registration_add"),
        form_data(
            products,
            action="submit",
            **{"lines-1-product": str(products["insight"].pk), "lines-1-quantity": "1"},
        ),
    )
    assert response.status_code == 200
    html = page(response)
    assert 'id="lines-error"' in html and "one product family" in html
    assert not DealRegistration.objects.exists() and not RegistrationLine.objects.exists()


def test_a_registration_without_product_rows_is_refused(client, world, products):
    login_as(client, world.partner_admin_a)
    response = client.post(
        reverse("deals:registration_add"), form_data(products, **{"lines-TOTAL_FORMS": "0"})
    )
    assert response.status_code == 200
    assert "Add at least one product." in page(response)
    assert not DealRegistration.objects.exists()


def test_the_same_product_twice_is_refused(client, world, products):
    login_as(client, world.partner_admin_a)
    gateway = str(products["gateway"].pk)
    response = client.post(
        reverse("deals:registration_add"),
        form_data(products, **{"lines-1-product": gateway, "lines-1-quantity": "2"}),
    )
    assert response.status_code == 200
    assert "Each product once" in page(response)
    assert not DealRegistration.objects.exists()


def test_internal_users_do_not_register_deals(client, world, products):
    login_as(client, world.manager)
    assert client.get(reverse("deals:registration_add")).status_code == 403
    assert client.post(reverse("deals:registration_add"), form_data(products)).status_code == 403
    assert not DealRegistration.objects.exists()


# --- the pre-check --------------------------------------------------------------------------


def precheck(client, **params) -> str:
    response = client.get(reverse("deals:registration_precheck"), params, headers=HTMX)
    assert response.status_code == 200
    html = page(response)
    assert "<html" not in html
    return html


def test_the_pre_check_says_open_under_review_or_registered_until_and_never_by_whom(
    client, world, products
):
    theirs = register(
        world.partner_admin_b,
        products,
        company="ACME, Incorporated",
        domain="www.acme.com",
        contact_name="Bob Brown",
        submit=True,
    )
    login_as(client, world.partner_admin_a)
    assert precheck(client).strip() == ""
    html = precheck(client, company="Initech", domain="initech.example")
    assert 'data-state="open"' in html and "Open" in html

    html = precheck(client, company="Acme Inc.")
    assert 'data-state="under_review"' in html and "Under review" in html
    html = precheck(client, domain="https://sales.acme.com/contact")
    assert 'data-state="under_review"' in html

    services.approve_registration(actor=world.other_manager, registration=theirs, reason="ok")
    theirs.refresh_from_db()
    html = precheck(client, company="acme")
    assert 'data-state="registered"' in html
    assert f"Already registered until {theirs.expires_on:%-d %B %Y}" in html
    for secret in ("Contoso", "ACME, Incorporated", "Bob Brown", f"#{theirs.pk}"):
        assert secret not in html


def test_a_look_alike_customer_is_open(client, world, products):
    register(world.partner_admin_b, products, company="Acme Corp", domain="acme.com", submit=True)
    login_as(client, world.member_a)
    html = precheck(client, company="Acme Bricks Ltd", domain="acmebricks.co.uk")
    assert 'data-state="open"' in html


# --- conflicts: partners see the flag, never the other partner ------------------------------


@pytest.fixture
def conflict(world, products):
    """B registered Acme first; A registers the same customer under another spelling."""
    theirs = register(
        world.partner_admin_b,
        products,
        company="ACME, Incorporated",
        domain="www.acme.com",
        contact_name="Bob Brown",
        contact_email="bob.brown@acme.com",
        notes="Contoso private notes",
        submit=True,
    )
    ours = register(
        world.partner_admin_a,
        products,
        company="Acme Inc.",
        domain="acme.com",
        contact_name="Alice Anders",
        contact_email="alice.anders@acme.com",
        notes="Northwind private notes",
        submit=True,
    )
    assert ours.conflict
    return ours, theirs


def partner_pages(client, registration) -> str:
    urls = [
        reverse("deals:registration", args=[registration.pk]),
        reverse("deals:registration_list"),
        reverse("deals:registration_list") + "?conflict=true",
    ]
    html = "".join(page(client.get(url)) for url in urls)
    export = client.get(reverse("deals:registration_export"))
    return html + b"".join(export.streaming_content).decode()


def test_a_partner_sees_only_possible_conflict_and_nothing_of_the_other_partner(
    client, world, conflict
):
    ours, theirs = conflict
    login_as(client, world.partner_admin_a)
    html = partner_pages(client, ours)
    assert CONFLICT in html
    for secret in (
        "ACME, Incorporated",
        "Bob Brown",
        "bob.brown@acme.com",
        "Contoso",
        "Contoso private notes",
        "Sam Patel",
        f"#{theirs.pk}",
        "Why they match",
        "same domain",
    ):
        assert secret not in html, secret
    assert client.get(reverse("deals:registration", args=[theirs.pk])).status_code == 404
    assert client.get(reverse("deals:registration_conflicts", args=[ours.pk])).status_code == 403


def test_the_other_partner_sees_nothing_of_the_first_either(client, world, conflict):
    ours, theirs = conflict
    login_as(client, world.partner_admin_b)
    html = partner_pages(client, theirs)
    assert "ACME, Incorporated" in html  # their own
    for secret in (
        "Acme Inc.",
        "Alice Anders",
        "alice.anders@acme.com",
        "Northwind",
        "Northwind private notes",
        "Alex Rivera",
    ):
        assert secret not in html, secret
    assert client.get(reverse("deals:registration", args=[ours.pk])).status_code == 404


# --- the manager: review queue, side-by-side view, decisions ---------------------------------


def test_the_review_queue_puts_conflicts_first_then_the_oldest(client, world, products, conflict):
    ours, _ = conflict
    older = register(world.partner_admin_a, products, company="Older GmbH", domain="older.example")
    older = services.submit_registration(actor=world.partner_admin_a, registration=older)
    newer = register(world.member_a, products, company="Newer AG", domain="newer.example")
    newer = services.submit_registration(actor=world.member_a, registration=newer)
    DealRegistration.objects.filter(pk=older.pk).update(
        submitted_at=timezone.now() - timedelta(days=3)
    )
    register(world.partner_admin_a, products, company="Still Draft SA", domain="draft.example")

    login_as(client, world.manager)
    html = page(client.get(reverse("deals:review_queue")))
    assert html.index("Acme Inc.") < html.index("Older GmbH") < html.index("Newer AG")
    assert "Still Draft SA" not in html
    assert "ACME, Incorporated" not in html  # B's: another manager's partner
    assert reverse("deals:registration_conflicts", args=[ours.pk]) in html
    assert "3\xa0days ago" in html or "3 days ago" in html


def test_an_empty_review_queue_says_so(client, world):
    login_as(client, world.manager)
    html = page(client.get(reverse("deals:review_queue")))
    assert "Nothing to review" in html


def test_partners_have_no_review_queue(client, world):
    login_as(client, world.partner_admin_a)
    assert client.get(reverse("deals:review_queue")).status_code == 403


def test_the_manager_compares_side_by_side_with_the_reasons(client, world, conflict):
    ours, theirs = conflict
    login_as(client, world.manager)
    response = client.get(reverse("deals:registration_conflicts", args=[ours.pk]))
    assert response.status_code == 200
    html = page(response)
    assert "This registration" in html and "Northwind Systems" in html
    assert "ACME, Incorporated" in html and "Contoso Partners" in html and "Bob Brown" in html
    assert "Why they match" in html and "Same domain (acme.com)" in html
    assert "Record decision" in html
    # The detail page names the conflict's reasons to the manager.
    detail = page(client.get(reverse("deals:registration", args=[ours.pk])))
    assert "Compare side by side" in detail and "Contoso Partners" in detail


def test_the_manager_approves_and_the_partner_sees_the_protection(client, world, products):
    registration = register(world.partner_admin_a, products, submit=True)
    login_as(client, world.manager)
    response = client.post(
        reverse("deals:registration_decide", args=[registration.pk]),
        {"decision": "approve", "reason": "Clean registration"},
    )
    assert response.status_code == 302
    registration.refresh_from_db()
    assert registration.status == S.APPROVED and registration.decided_by == world.manager
    assert f"protected until {registration.expires_on:%-d %B %Y}" in page(
        client.get(response["Location"])
    )

    login_as(client, world.partner_admin_a)
    html = page(client.get(reverse("deals:registration", args=[registration.pk])))
    assert f"Protected until {registration.expires_on:%-d %B %Y}" in html
    assert "Request extension" in html
    assert "Clean registration" in html  # the reason, in the history
    assert "Maya Manager" in html


def test_an_approved_registration_offers_its_conversion_then_links_the_opportunity(
    client, world, products
):
    registration = register(world.partner_admin_a, products, submit=True)
    services.approve_registration(actor=world.manager, registration=registration, reason="Ok")
    url = reverse("deals:registration", args=[registration.pk])
    convert = reverse("deals:registration_convert", args=[registration.pk])

    login_as(client, world.partner_admin_b)
    assert client.get(url).status_code == 404
    login_as(client, world.partner_admin_a)
    assert f'action="{convert}"' in page(client.get(url))
    response = client.post(convert)
    assert response.status_code == 302
    registration.refresh_from_db()
    assert registration.status == S.CONVERTED
    html = page(client.get(url))
    assert f'action="{convert}"' not in html
    assert reverse("deals:opportunity", args=[registration.opportunity.pk]) in html


def test_a_decision_needs_a_reason(client, world, products):
    registration = register(world.partner_admin_a, products, submit=True)
    login_as(client, world.manager)
    response = client.post(
        reverse("deals:registration_decide", args=[registration.pk]), {"decision": "reject"}
    )
    assert response.status_code == 200
    html = page(response)
    assert 'id="id_reason_error"' in html and "Say why" in html
    assert 'value="reject" checked' in html or "checked" in html
    registration.refresh_from_db()
    assert registration.status == S.SUBMITTED


def test_a_partner_cannot_decide(client, world, products):
    registration = register(world.partner_admin_a, products, submit=True)
    login_as(client, world.partner_admin_a)
    response = client.post(
        reverse("deals:registration_decide", args=[registration.pk]),
        {"decision": "approve", "reason": "Me, myself"},
    )
    assert response.status_code == 403
    registration.refresh_from_db()
    assert registration.status == S.SUBMITTED


def test_returned_for_more_information_then_edited_and_resubmitted(client, world, products):
    registration = register(world.member_a, products, submit=True)
    services.return_registration(
        actor=world.manager, registration=registration, reason="Which plants are in scope?"
    )
    login_as(client, world.member_a)
    html = page(client.get(reverse("deals:registration", args=[registration.pk])))
    assert "Which plants are in scope?" in html and "Edit registration" in html

    edit = reverse("deals:registration_edit", args=[registration.pk])
    html = page(client.get(edit))
    assert "Your partner manager asks:" in html and 'value="Acme Inc."' in html
    assert "Resubmit for approval" in html
    data = form_data(
        products,
        action="submit",
        company="Acme Inc.",
        domain="acme.com",
        notes="All three plants.",
        **{"lines-INITIAL_FORMS": "1", "lines-TOTAL_FORMS": "2"},
    )
    response = client.post(edit, data)
    assert response.status_code == 302
    registration.refresh_from_db()
    assert registration.status == S.SUBMITTED and registration.notes == "All three plants."


def test_an_approved_registration_cannot_be_edited(client, world, products):
    registration = register(world.partner_admin_a, products, submit=True)
    services.approve_registration(actor=world.manager, registration=registration, reason="ok")
    login_as(client, world.partner_admin_a)
    response = client.get(reverse("deals:registration_edit", args=[registration.pk]))
    assert response.status_code == 302
    assert "can&#x27;t be changed" in page(client.get(response["Location"]))
    login_as(client, world.manager)
    edit = reverse("deals:registration_edit", args=[registration.pk])
    assert client.get(edit).status_code == 403


def test_submitting_a_draft_from_its_page(client, world, products):
    registration = register(world.partner_admin_a, products)
    login_as(client, world.partner_admin_a)
    response = client.post(reverse("deals:registration_submit", args=[registration.pk]))
    assert response.status_code == 302
    registration.refresh_from_db()
    assert registration.status == S.SUBMITTED
    login_as(client, world.manager)
    assert (
        client.post(reverse("deals:registration_submit", args=[registration.pk])).status_code == 403
    )


def test_withdrawing_needs_a_reason(client, world, products):
    registration = register(world.partner_admin_a, products, submit=True)
    login_as(client, world.partner_admin_a)
    url = reverse("deals:registration_withdraw", args=[registration.pk])
    response = client.post(url, {"reason": " "})
    assert response.status_code == 200
    assert "Say why you withdraw it." in page(response)
    registration.refresh_from_db()
    assert registration.status == S.SUBMITTED

    response = client.post(url, {"reason": "Customer postponed"})
    assert response.status_code == 302
    registration.refresh_from_db()
    assert registration.status == S.WITHDRAWN
    assert "Customer postponed" in page(client.get(response["Location"]))


# --- extensions -----------------------------------------------------------------------------


def test_extension_requested_by_the_partner_and_granted_by_the_manager(client, world, products):
    registration = register(world.partner_admin_a, products, submit=True)
    registration = services.approve_registration(
        actor=world.manager, registration=registration, reason="ok"
    )
    wanted = registration.expires_on + timedelta(days=30)
    login_as(client, world.partner_admin_a)
    response = client.post(
        reverse("deals:registration_extend", args=[registration.pk]),
        {"requested_until": wanted.isoformat(), "reason": "Board meets next quarter"},
    )
    assert response.status_code == 302
    html = page(client.get(response["Location"]))
    assert "Waiting for the manager" in html and "Request extension" not in html
    extension = ExtensionRequest.objects.get()
    assert (
        client.post(
            reverse("deals:extension_decide", args=[extension.pk]), {"grant": "yes"}
        ).status_code
        == 403
    )

    login_as(client, world.manager)
    html = page(client.get(reverse("deals:registration", args=[registration.pk])))
    assert "Board meets next quarter" in html and "Grant" in html and "Refuse" in html
    response = client.post(
        reverse("deals:extension_decide", args=[extension.pk]), {"grant": "yes", "reason": ""}
    )
    assert response.status_code == 302
    registration.refresh_from_db()
    extension.refresh_from_db()
    assert extension.status == ExtensionStatus.GRANTED and registration.expires_on == wanted
    assert f"Protected until {wanted:%-d %B %Y}" in page(client.get(response["Location"]))


def test_refusing_an_extension_needs_a_reason(client, world, products):
    registration = register(world.partner_admin_a, products, submit=True)
    registration = services.approve_registration(
        actor=world.manager, registration=registration, reason="ok"
    )
    extension = services.request_extension(
        actor=world.partner_admin_a,
        registration=registration,
        requested_until=registration.expires_on + timedelta(days=10),
        reason="Slipping",
    )
    login_as(client, world.manager)
    url = reverse("deals:extension_decide", args=[extension.pk])
    response = client.post(url, {"grant": "no", "reason": ""})
    assert response.status_code == 200
    assert "Say why you refuse" in page(response)
    extension.refresh_from_db()
    assert extension.status == ExtensionStatus.PENDING


def test_an_extension_date_before_the_current_expiry_is_refused_at_its_field(
    client, world, products
):
    registration = register(world.partner_admin_a, products, submit=True)
    registration = services.approve_registration(
        actor=world.manager, registration=registration, reason="ok"
    )
    login_as(client, world.partner_admin_a)
    response = client.post(
        reverse("deals:registration_extend", args=[registration.pk]),
        {"requested_until": in_days(1).isoformat(), "reason": "More time"},
    )
    assert response.status_code == 200
    html = page(response)
    assert 'id="id_requested_until_error"' in html and "Choose a date after" in html
    assert not ExtensionRequest.objects.exists()


# --- who sees what --------------------------------------------------------------------------


def test_a_member_does_not_see_a_colleagues_unshared_registration(client, world, products):
    private = register(world.partner_admin_a, products, company="Private Deal GmbH")
    shared = register(
        world.partner_admin_a, products, company="Shared Deal GmbH", shared_with_account=True
    )
    login_as(client, world.member_a)
    html = page(client.get(reverse("deals:registration_list")))
    assert "Shared Deal GmbH" in html and "Private Deal GmbH" not in html
    assert client.get(reverse("deals:registration", args=[private.pk])).status_code == 404
    assert client.get(reverse("deals:registration", args=[shared.pk])).status_code == 200
    # Shared means seen, not changed by colleagues.
    assert client.get(reverse("deals:registration_edit", args=[shared.pk])).status_code == 403
    login_as(client, world.partner_admin_a)
    assert "Private Deal GmbH" in page(client.get(reverse("deals:registration_list")))


def test_another_partner_gets_404_on_every_page_of_a_registration(client, world, products):
    registration = register(world.partner_admin_a, products, submit=True)
    login_as(client, world.partner_admin_b)
    pk = registration.pk
    for name in ("registration", "registration_edit", "registration_conflicts"):
        assert client.get(reverse(f"deals:{name}", args=[pk])).status_code == 404, name
    for name, data in (
        ("registration_submit", {}),
        ("registration_withdraw", {"reason": "x"}),
        ("registration_decide", {"decision": "approve", "reason": "x"}),
        ("registration_extend", {"requested_until": in_days(200).isoformat(), "reason": "x"}),
    ):
        assert client.post(reverse(f"deals:{name}", args=[pk]), data).status_code == 404, name
    registration.refresh_from_db()
    assert registration.status == S.SUBMITTED


def test_the_list_filters_by_status_conflict_family_and_search(client, world, products, conflict):
    register(world.partner_admin_a, products, company="Draft Only BV", domain="draft.example")
    login_as(client, world.manager)
    url = reverse("deals:registration_list")
    html = page(client.get(url))
    assert "Acme Inc." in html and "Draft Only BV" in html and "ACME, Incorporated" not in html
    html = page(client.get(url, {"conflict": "true"}))
    assert "Acme Inc." in html and "Draft Only BV" not in html
    html = page(client.get(url, {"status": "draft"}))
    assert "Draft Only BV" in html and "Acme Inc." not in html
    html = page(client.get(url, {"q": "draft.example"}))
    assert "Draft Only BV" in html and "Acme Inc." not in html
    html = page(client.get(url, {"product_family": "Analytics"}))
    assert "No registrations match these filters" in html
    html = page(client.get(url, {"sort": "amount"}))
    assert "Draft Only BV" in html


def test_an_empty_list_says_what_to_do_next(client, world):
    login_as(client, world.member_a)
    html = page(client.get(reverse("deals:registration_list")))
    assert "Register your first deal" in html
    assert reverse("deals:registration_add") in html


def test_the_csv_export_is_scoped_and_neutralises_formulas(client, world, products):
    register(world.partner_admin_a, products, company="=HYPERLINK(1)", domain="formula.example")
    register(world.partner_admin_b, products, company="Contoso Customer", domain="cc.example")
    login_as(client, world.partner_admin_a)
    response = client.get(reverse("deals:registration_export"))
    assert response["Content-Type"].startswith("text/csv")
    rows = list(csv.reader(io.StringIO(b"".join(response.streaming_content).decode())))
    assert rows[0][0] == "Customer"
    assert [row[0] for row in rows[1:]] == ["'=HYPERLINK(1)"]
    assert "3 × Gateway" in rows[1]
    assert "Why records matched" not in rows[0]


def test_the_deals_tab_closes_with_the_workspace(client, world):
    workspace = Workspace.objects.create(name="Gold partners", tier=world.tier)
    WorkspaceTab.objects.create(workspace=workspace, tab=PortalTab.HOME, position=0)
    WorkspaceTab.objects.create(workspace=workspace, tab=PortalTab.DEALS, position=1, enabled=False)
    login_as(client, world.partner_admin_a)
    assert client.get(reverse("deals:registration_list")).status_code == 404
    assert client.get(reverse("deals:registration_add")).status_code == 404
