"""Custom fields as their users meet them: an admin defines typed fields in the admin; they come
back in the portal's forms (typed, required, bad input at the field), on detail pages, as list
filters and as CSV columns; internal-only fields never reach partners and survive their edits;
retired (inactive) fields disappear; none of it costs a query per row."""

from __future__ import annotations

import csv
import io
from datetime import date, timedelta
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from deals.models import DealRegistration, Lead, Opportunity, PipelineStage, Product
from partners.models import PartnerAccount
from prm.admin import CustomFieldForm
from prm.customfields import fields_for
from prm.models import CustomField, CustomFieldTarget, CustomFieldType
from prm.testing.fixtures import login_as

pytestmark = pytest.mark.django_db

T = CustomFieldType
ACCOUNT = CustomFieldTarget.PARTNER_ACCOUNT


def add_field(target, key, field_type=T.TEXT, *, label=None, **extra) -> CustomField:
    return CustomField.objects.create(
        target=target,
        key=key,
        label=label or key.replace("_", " ").capitalize(),
        field_type=field_type,
        **extra,
    )


@pytest.fixture
def account_fields(db) -> dict[str, CustomField]:
    """One field of each type on partner accounts, plus an internal-only note."""
    return {
        "motto": add_field(ACCOUNT, "motto", label="Company motto", position=1),
        "revenue": add_field(ACCOUNT, "revenue", T.NUMBER, label="Annual revenue", position=2),
        "renewal": add_field(ACCOUNT, "renewal", T.DATE, label="Contract renewal", position=3),
        "segment": add_field(
            ACCOUNT,
            "segment",
            T.CHOICE,
            label="Segment",
            choices="SMB\nMid-market\nEnterprise",
            position=4,
        ),
        "msp": add_field(ACCOUNT, "msp", T.BOOLEAN, label="Managed service provider", position=5),
        "risk": add_field(ACCOUNT, "risk", label="Churn risk note", internal_only=True, position=6),
    }


def page(response) -> str:
    return response.content.decode()


def csv_rows(response) -> list[list[str]]:
    return list(csv.reader(io.StringIO(b"".join(response.streaming_content).decode())))


def profile_data(account: PartnerAccount, **custom) -> dict:
    data = {
        "name": account.name,
        "website": account.website,
        "phone": account.phone,
        "country": account.country,
        "industry": account.industry,
        "description": account.description,
    }
    data.update({f"custom_{key}": value for key, value in custom.items()})
    return data


# --- the admin ------------------------------------------------------------------------------


def admin_form(**overrides) -> CustomFieldForm:
    data = {
        "target": CustomFieldTarget.LEAD,
        "label": "Budget holder",
        "key": "budget_holder",
        "field_type": T.TEXT,
        "choices": "",
        "help_text": "",
        "position": 0,
        "active": "on",
        **overrides,
    }
    return CustomFieldForm(data=data)


def test_a_valid_field_passes_and_choice_options_are_tidied():
    assert admin_form().is_valid()
    form = admin_form(field_type=T.CHOICE, choices=" Gold \n\nSilver\n")
    assert form.is_valid(), form.errors
    assert form.save().options == ["Gold", "Silver"]


@pytest.mark.parametrize(
    ("overrides", "field", "message"),
    [
        ({"key": "Budget Holder"}, "key", "lower-case letters"),
        ({"key": "budget-holder"}, "key", "lower-case letters"),
        ({"key": "budget__holder"}, "key", "single underscores"),
        ({"key": "9lives"}, "key", "starting with a letter"),
        ({"key": "contains"}, "key", "reserved"),
        ({"field_type": T.CHOICE}, "choices", "List the options"),
        ({"field_type": T.CHOICE, "choices": "A\nA"}, "choices", "Each option once"),
        ({"field_type": T.NUMBER, "choices": "1\n2"}, "choices", "Only a choice field"),
        ({"field_type": T.BOOLEAN, "required": "on"}, "required", "can't be required"),
    ],
)
def test_the_admin_form_refuses_bad_definitions(overrides, field, message):
    form = admin_form(**overrides)
    assert not form.is_valid()
    assert message in " ".join(form.errors[field])


def test_the_same_key_twice_for_one_record_type_is_refused(db):
    add_field(CustomFieldTarget.LEAD, "budget_holder")
    assert not admin_form().is_valid()
    assert admin_form(target=CustomFieldTarget.OPPORTUNITY).is_valid()


def test_the_admin_lists_fields_and_locks_the_key_after_creation(client, world):
    field = add_field(CustomFieldTarget.LEAD, "budget_holder", label="Budget holder")
    login_as(client, world.admin)
    listing = page(client.get(reverse("admin:prm_customfield_changelist")))
    assert "Budget holder" in listing and "Leads" in listing
    change = client.get(reverse("admin:prm_customfield_change", args=[field.pk]))
    assert 'name="key"' not in page(change) and "budget_holder" in page(change)
    add = client.get(reverse("admin:prm_customfield_add"))
    assert 'name="key"' in page(add)


# --- forms: each type round-trips, required, bad input ---------------------------------------


def test_each_type_round_trips_through_the_profile_form(client, world, account_fields):
    login_as(client, world.partner_admin_a)
    url = reverse("partners:partner_edit", args=[world.a.pk])
    response = client.post(
        url,
        profile_data(
            world.a,
            motto="Always on",
            revenue="1250.50",
            renewal="2027-03-31",
            segment="Mid-market",
            msp="on",
        ),
    )
    assert response.status_code == 302, response.context and response.context["form"].errors
    world.a.refresh_from_db()
    assert world.a.custom == {
        "motto": "Always on",
        "revenue": "1250.5",
        "renewal": "2027-03-31",
        "segment": "Mid-market",
        "msp": True,
    }
    form = client.get(url).context["form"]
    assert form["custom_motto"].value() == "Always on"
    assert form["custom_revenue"].value() == Decimal("1250.5")
    assert form["custom_renewal"].value() == date(2027, 3, 31)
    assert form["custom_segment"].value() == "Mid-market"
    assert form["custom_msp"].value() is True
    assert form.fields["custom_renewal"].widget.input_type == "date"
    assert form.fields["custom_segment"].choices[0] == ("", "—")

    # Emptied: the values go (unticked is "No"), the record keeps no stale key.
    client.post(url, profile_data(world.a, motto="", revenue="", renewal="", segment=""))
    world.a.refresh_from_db()
    assert world.a.custom == {"msp": False}


@pytest.mark.parametrize(
    ("key", "value", "message"),
    [
        ("revenue", "abc", "Enter a number."),
        ("renewal", "31/31/2027", "Enter a valid date."),
        ("segment", "Galactic", "Select a valid choice."),
    ],
)
def test_bad_input_is_a_field_error_the_form_is_refilled_and_nothing_saved(
    client, world, account_fields, key, value, message
):
    login_as(client, world.partner_admin_a)
    data = profile_data(world.a, motto="Always on", **{key: value})
    data["name"] = "Northwind Renamed"
    response = client.post(reverse("partners:partner_edit", args=[world.a.pk]), data)
    assert response.status_code == 200
    form = response.context["form"]
    assert list(form.errors) == [f"custom_{key}"] and message in form.errors[f"custom_{key}"][0]
    assert 'value="Northwind Renamed"' in page(response)
    assert 'value="Always on"' in page(response)
    world.a.refresh_from_db()
    assert (world.a.name, world.a.custom) != ("Northwind Renamed", {})
    assert world.a.name != "Northwind Renamed" and world.a.custom == {}


def test_a_required_field_must_be_filled(client, world, account_fields):
    account_fields["motto"].required = True
    account_fields["motto"].save()
    login_as(client, world.partner_admin_a)
    response = client.post(
        reverse("partners:partner_edit", args=[world.a.pk]), profile_data(world.a, motto="")
    )
    assert response.context["form"].errors == {"custom_motto": ["This field is required."]}
    assert "(optional)" not in page(response).split("Company motto")[1][:40]


# --- internal-only fields -------------------------------------------------------------------


def test_an_internal_field_is_the_managers_alone_and_survives_a_partners_edit(
    client, world, account_fields
):
    url = reverse("partners:partner_edit", args=[world.a.pk])
    login_as(client, world.manager)
    manager_form = client.get(url).context["form"]
    assert "custom_risk" in manager_form.fields
    data = {
        name: manager_form[name].value() or ""
        for name in manager_form.fields
        if manager_form[name].value() is not None
    }
    data.update({"custom_risk": "Talks to a competitor", "custom_motto": "Always on"})
    assert client.post(url, data).status_code == 302
    world.a.refresh_from_db()
    assert world.a.custom == {"risk": "Talks to a competitor", "motto": "Always on", "msp": False}
    detail = page(client.get(reverse("partners:partner", args=[world.a.pk])))
    assert "Churn risk note" in detail and "Talks to a competitor" in detail

    login_as(client, world.partner_admin_a)
    assert "custom_risk" not in client.get(url).context["form"].fields
    detail = page(client.get(reverse("partners:partner", args=[world.a.pk])))
    assert "Company motto" in detail and "Always on" in detail
    assert "Churn risk" not in detail and "competitor" not in detail
    response = client.post(url, profile_data(world.a, motto="Never off"))
    assert response.status_code == 302
    world.a.refresh_from_db()
    assert world.a.custom["motto"] == "Never off"
    assert world.a.custom["risk"] == "Talks to a competitor"


@pytest.fixture
def products(db):
    return {
        "gateway": Product.objects.create(
            name="Gateway", sku="GW-1", family="Network", list_price=100
        )
    }


def registration_data(products, **custom) -> dict:
    data = {
        "company": "Brandt Maschinenbau GmbH",
        "domain": "brandt-maschinenbau.de",
        "contact_name": "Birgit Brandt",
        "contact_email": "birgit@brandt-maschinenbau.de",
        "amount": "48000",
        "currency": "EUR",
        "expected_close_date": (timezone.localdate() + timedelta(days=45)).isoformat(),
        "lines-TOTAL_FORMS": "1",
        "lines-INITIAL_FORMS": "0",
        "lines-MIN_NUM_FORMS": "1",
        "lines-MAX_NUM_FORMS": "20",
        "lines-0-product": str(products["gateway"].pk),
        "lines-0-quantity": "4",
        "action": "draft",
    }
    data.update({f"custom_{key}": value for key, value in custom.items()})
    return data


def test_registration_fields_in_form_detail_and_csv_hide_internal_ones_from_partners(
    client, world, products
):
    target = CustomFieldTarget.REGISTRATION
    add_field(target, "project_code", label="Project code", required=True, position=1)
    add_field(target, "seats", T.NUMBER, label="Seats", position=2)
    add_field(target, "mdf_fund", T.BOOLEAN, label="MDF funded", internal_only=True, position=3)

    login_as(client, world.member_a)
    form_page = client.get(reverse("deals:registration_add"))
    assert "Project code" in page(form_page) and "MDF funded" not in page(form_page)
    missing = client.post(reverse("deals:registration_add"), registration_data(products))
    assert missing.context["form"].errors == {"custom_project_code": ["This field is required."]}
    assert not DealRegistration.objects.exists()
    response = client.post(
        reverse("deals:registration_add"),
        registration_data(products, project_code="BR-7", seats="250"),
    )
    registration = DealRegistration.objects.get()
    assert response.status_code == 302
    assert registration.custom == {"project_code": "BR-7", "seats": "250"}

    # An admin ticks the internal flag; the partner's later edit keeps it.
    registration.custom["mdf_fund"] = True
    registration.save(update_fields=["custom"])
    edit = reverse("deals:registration_edit", args=[registration.pk])
    assert client.post(edit, registration_data(products, project_code="BR-8", seats="300"))
    registration.refresh_from_db()
    assert registration.custom == {"project_code": "BR-8", "seats": "300", "mdf_fund": True}

    detail = page(client.get(reverse("deals:registration", args=[registration.pk])))
    assert "BR-8" in detail and "Seats" in detail and "MDF funded" not in detail
    rows = csv_rows(client.get(reverse("deals:registration_export")))
    assert rows[0][-2:] == ["Project code", "Seats"] and "MDF funded" not in rows[0]
    assert rows[1][-2:] == ["BR-8", "300"]

    login_as(client, world.manager)
    detail = page(client.get(reverse("deals:registration", args=[registration.pk])))
    assert "MDF funded" in detail and "Internal" in detail
    rows = csv_rows(client.get(reverse("deals:registration_export")))
    assert rows[0][-3:] == ["Project code", "Seats", "MDF funded"]
    assert rows[1][-3:] == ["BR-8", "300", "Yes"]


def test_the_lead_form_and_detail_carry_custom_fields(client, world):
    add_field(CustomFieldTarget.LEAD, "campaign", label="Campaign")
    add_field(CustomFieldTarget.LEAD, "event_day", T.DATE, label="Met on")
    login_as(client, world.manager)
    response = client.post(
        reverse("deals:lead_add"),
        {"company": "Acme Bricks Ltd", "source": "event", "custom_campaign": "Fair 2026",
         "custom_event_day": "2026-10-02"},
    )  # fmt: skip
    lead = Lead.objects.get()
    assert response.status_code == 302
    assert lead.custom == {"campaign": "Fair 2026", "event_day": "2026-10-02"}
    detail = page(client.get(reverse("deals:lead", args=[lead.pk])))
    assert "Fair 2026" in detail and "02 Oct 2026" in detail


def open_opportunity(world, name="Brandt Maschinenbau", **fields) -> Opportunity:
    return Opportunity.objects.create(
        account=world.a,
        owner=world.member_a,
        name=name,
        company=name,
        stage=PipelineStage.objects.filter(active=True).order_by("position").first(),
        amount=1000,
        currency="EUR",
        close_date=timezone.localdate() + timedelta(days=30),
        **fields,
    )


def test_the_opportunity_form_saves_custom_fields_and_keeps_internal_ones(client, world):
    add_field(CustomFieldTarget.OPPORTUNITY, "champion", label="Champion")
    add_field(CustomFieldTarget.OPPORTUNITY, "discount_ok", T.BOOLEAN, internal_only=True)
    opportunity = open_opportunity(world, custom={"discount_ok": True})
    url = reverse("deals:opportunity", args=[opportunity.pk])
    login_as(client, world.member_a)
    form = client.get(url).context["edit_form"]
    assert "custom_champion" in form.fields and "custom_discount_ok" not in form.fields
    bad = client.post(
        url,
        {"stage": opportunity.stage_id, "amount": "abc", "close_date": opportunity.close_date,
         "custom_champion": "Dr. Brandt"},
    )  # fmt: skip
    assert "amount" in bad.context["edit_form"].errors and "Dr. Brandt" in page(bad)
    opportunity.refresh_from_db()
    assert opportunity.custom == {"discount_ok": True}
    response = client.post(
        url,
        {"stage": opportunity.stage_id, "amount": "1000", "close_date": opportunity.close_date,
         "custom_champion": "Dr. Brandt"},
    )  # fmt: skip
    assert response.status_code == 302
    opportunity.refresh_from_db()
    assert opportunity.custom == {"discount_ok": True, "champion": "Dr. Brandt"}
    assert "Dr. Brandt" in page(client.get(url))


# --- filters and exports --------------------------------------------------------------------


def test_the_partner_list_filters_by_custom_values_and_exports_them(client, world, account_fields):
    world.a.custom = {"segment": "Enterprise", "revenue": "2000000", "msp": True}
    world.a.save(update_fields=["custom"])
    world.b.custom = {"segment": "SMB", "revenue": "150000.5", "motto": "Contoso cares"}
    world.b.save(update_fields=["custom"])
    login_as(client, world.admin)
    url = reverse("partners:partner_list")

    def names(query: dict) -> set[str]:
        table = client.get(url, query).context["table"]
        return {row.record.name for row in table.paginated_rows}

    assert names({"custom_segment": "Enterprise"}) == {world.a.name}
    assert names({"custom_revenue": "150000.50"}) == {world.b.name}
    assert names({"custom_motto": "CARES"}) == {world.b.name}
    assert names({"custom_msp": "true"}) == {world.a.name}
    assert world.b.name in names({"custom_msp": "false"})
    assert world.a.name not in names({"custom_msp": "false"})
    form = client.get(url, {"custom_segment": "Galactic"}).context["filter"].form
    assert "custom_segment" in form.errors

    rows = csv_rows(client.get(reverse("partners:partner_export")))
    header = rows[0]
    assert header[-6:] == [
        "Company motto",
        "Annual revenue",
        "Contract renewal",
        "Segment",
        "Managed service provider",
        "Churn risk note",
    ]
    by_name = {row[0]: dict(zip(header, row, strict=True)) for row in rows[1:]}
    assert by_name[world.a.name]["Segment"] == "Enterprise"
    assert by_name[world.a.name]["Managed service provider"] == "Yes"
    assert by_name[world.b.name]["Annual revenue"] == "150000.5"


def test_a_partner_filters_its_opportunities_by_a_date_but_never_by_an_internal_field(
    client, world
):
    add_field(CustomFieldTarget.OPPORTUNITY, "kickoff", T.DATE, label="Kick-off")
    add_field(CustomFieldTarget.OPPORTUNITY, "margin", T.NUMBER, internal_only=True)
    open_opportunity(world, custom={"kickoff": "2026-12-01", "margin": "12"})
    open_opportunity(world, name="Globex", custom={"kickoff": "2027-01-15"})
    login_as(client, world.member_a)
    response = client.get(reverse("deals:opportunity_list"), {"custom_kickoff": "2027-01-15"})
    assert [row.record.name for row in response.context["table"].paginated_rows] == ["Globex"]
    assert "custom_margin" not in response.context["filter"].filters
    assert "Kick-off" in page(response)


def test_inactive_fields_disappear_everywhere(client, world, account_fields):
    world.a.custom = {"motto": "Always on", "segment": "SMB"}
    world.a.save(update_fields=["custom"])
    for field in account_fields.values():
        if field.key != "segment":
            field.active = False
            field.save()
    login_as(client, world.admin)
    edit = client.get(reverse("partners:partner_edit", args=[world.a.pk])).context["form"]
    assert [n for n in edit.fields if n.startswith("custom_")] == ["custom_segment"]
    detail = page(client.get(reverse("partners:partner", args=[world.a.pk])))
    assert "Segment" in detail and "Company motto" not in detail and "Always on" not in detail
    listing = client.get(reverse("partners:partner_list"))
    assert [n for n in listing.context["filter"].filters if n.startswith("custom_")] == [
        "custom_segment"
    ]
    header = csv_rows(client.get(reverse("partners:partner_export")))[0]
    assert header[-1] == "Segment" and "Company motto" not in header
    assert fields_for(PartnerAccount, world.admin) == [account_fields["segment"]]
    # the stored value of a retired field is kept, should it come back
    assert world.a.custom["motto"] == "Always on"


def test_a_record_type_without_fields_shows_no_custom_card(client, world):
    login_as(client, world.partner_admin_a)
    assert "More details" not in page(client.get(reverse("partners:partner", args=[world.a.pk])))


# --- query counts ---------------------------------------------------------------------------


def _count(client, url) -> int:
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url)
        if response.streaming:
            b"".join(response.streaming_content)
    assert response.status_code == 200, url
    return len(queries.captured_queries)


LIST_PAGES = [
    ("manager", "partners:partner_list", ACCOUNT),
    ("manager", "partners:partner_export", ACCOUNT),
    ("manager", "deals:lead_list", CustomFieldTarget.LEAD),
    ("manager", "deals:lead_export", CustomFieldTarget.LEAD),
    ("member_a", "deals:registration_list", CustomFieldTarget.REGISTRATION),
    ("member_a", "deals:registration_export", CustomFieldTarget.REGISTRATION),
    ("member_a", "deals:opportunity_list", CustomFieldTarget.OPPORTUNITY),
    ("member_a", "deals:opportunity_export", CustomFieldTarget.OPPORTUNITY),
]


def add_rows(world, target, count: int, custom: dict) -> None:
    for i in range(count):
        if target == ACCOUNT:
            PartnerAccount.objects.filter(pk=world.a.pk).update(custom=custom)
        elif target == CustomFieldTarget.LEAD:
            Lead.objects.create(company=f"Lead {i}", custom=custom, created_by=world.manager)
        elif target == CustomFieldTarget.REGISTRATION:
            DealRegistration.objects.create(
                account=world.a,
                created_by=world.member_a,
                company=f"Company {i}",
                amount=10,
                expected_close_date=timezone.localdate() + timedelta(days=30),
                custom=custom,
            )
        else:
            open_opportunity(world, name=f"Deal {i}", custom=custom)


@pytest.mark.parametrize(("persona", "url_name", "target"), LIST_PAGES)
def test_three_custom_fields_cost_no_query_per_row(client, world, persona, url_name, target):
    custom = {"code": "X-1", "size": "3", "tier_choice": "A"}
    add_rows(world, target, 1, custom)
    url = reverse(url_name)
    login_as(client, getattr(world, persona))
    client.get(url)  # warm-up
    without_fields = _count(client, url)
    add_field(target, "code", label="Code")
    add_field(target, "size", T.NUMBER)
    add_field(target, "tier_choice", T.CHOICE, choices="A\nB")
    assert _count(client, url) == without_fields
    add_rows(world, target, 6, custom)
    assert _count(client, url) == without_fields
