"""Saved reports: the engine (columns, filters, grouping, sort, custom fields), who sees which
rows (always the viewer's visible_to, in the page, the chart, the CSV and the XLSX), the builder's
handling of bad input, and the pages."""

from __future__ import annotations

import csv
import datetime as dt
import io
import re
import zipfile
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone

from analytics import reports as engine
from analytics.models import SavedReport
from deals.models import Opportunity, PipelineStage
from prm.models import CustomField
from prm.testing.fixtures import login_as

pytestmark = pytest.mark.django_db

TODAY = dt.date(2026, 11, 23)


def deal(account, name, amount, *, stage="Qualification", status="open", close=TODAY, **extra):
    return Opportunity.objects.create(
        account=account,
        name=name,
        company=f"{name} Customer",
        stage=PipelineStage.objects.get(name=stage),
        amount=Decimal(amount),
        close_date=close,
        status=status,
        **extra,
    )


@pytest.fixture
def deals(world):
    """Three deals of A, one of its child account, two of B (other_manager's)."""
    return {
        "a1": deal(world.a, "Alpha Rollout", "1000.00", stage="Proposal"),
        "a2": deal(world.a, "Alpha Renewal", "2500.50", close=dt.date(2026, 8, 1)),
        "a3": deal(world.a, "=HYPERLINK(1)", "300.00", status="won", close=dt.date(2026, 10, 5)),
        "child": deal(world.a_child, "Retail Kiosk", "700.00"),
        "b1": deal(world.b, "Contoso Secret", "9999.00", stage="Proposal"),
        "b2": deal(world.b, "Contoso Hidden", "50.00"),
    }


def run(user, *, today=TODAY, **definition):
    definition.setdefault("record_type", "opportunities")
    definition.setdefault("columns", ["name"])
    definition.setdefault("filters", [])
    plan = engine.check(user=user, **definition)
    return plan, engine.as_rows(plan, engine.rows_queryset(plan, user, today=today))


def names(rows):
    return sorted(r[0] for r in rows)


def saved(owner, **fields):
    fields.setdefault("record_type", "opportunities")
    fields.setdefault("columns", ["name", "partner", "amount"])
    return SavedReport.objects.create(name=fields.pop("name", "All deals"), owner=owner, **fields)


# --- the engine ---------------------------------------------------------------------------------


def test_columns_come_typed_and_in_the_chosen_order(world, deals):
    plan, rows = run(
        world.admin,
        columns=["amount", "name", "partner", "stage", "status", "close_date", "manager"],
        filters=[{"field": "name", "op": "equals", "value": "Alpha Rollout"}],
    )
    assert [h for h, _ in plan.headers()][:3] == ["Amount", "Opportunity", "Partner"]
    assert rows == [
        [
            Decimal("1000.00"),
            "Alpha Rollout",
            "Northwind Systems",
            "Proposal",
            "Open",  # the choice's label, not its stored value
            TODAY,
            "Maya Manager",
        ]
    ]


@pytest.mark.parametrize(
    "flt, expected",
    [
        ({"field": "name", "op": "contains", "value": "alpha"}, ["Alpha Renewal", "Alpha Rollout"]),
        ({"field": "name", "op": "equals", "value": "alpha renewal"}, ["Alpha Renewal"]),
        ({"field": "amount", "op": "equals", "value": "700"}, ["Retail Kiosk"]),
        ({"field": "amount", "op": "gt", "value": "1000"}, ["Alpha Renewal"]),
        ({"field": "amount", "op": "gte", "value": "1,000"}, ["Alpha Renewal", "Alpha Rollout"]),
        ({"field": "amount", "op": "lt", "value": "700"}, ["=HYPERLINK(1)"]),
        ({"field": "amount", "op": "lte", "value": "700"}, ["=HYPERLINK(1)", "Retail Kiosk"]),
        ({"field": "close_date", "op": "on", "value": "2026-08-01"}, ["Alpha Renewal"]),
        ({"field": "close_date", "op": "before", "value": "2026-10-05"}, ["Alpha Renewal"]),
        (
            {"field": "close_date", "op": "after", "value": "2026-10-05"},
            ["Alpha Rollout", "Retail Kiosk"],
        ),
        (
            {"field": "close_date", "op": "this_quarter", "value": ""},
            ["=HYPERLINK(1)", "Alpha Rollout", "Retail Kiosk"],
        ),
        ({"field": "close_date", "op": "last_quarter", "value": ""}, ["Alpha Renewal"]),
        ({"field": "status", "op": "equals", "value": "Won"}, ["=HYPERLINK(1)"]),
        ({"field": "stage", "op": "equals", "value": "proposal"}, ["Alpha Rollout"]),
    ],
)
def test_each_filter_operator_selects_the_right_rows(world, deals, flt, expected):
    _, rows = run(world.manager, filters=[flt])  # the manager's book: A and its child
    assert names(rows) == expected


def test_filters_on_timestamps_use_the_day(world, deals):
    closed = timezone.make_aware(dt.datetime(2026, 10, 5, 23, 30))
    Opportunity.objects.filter(pk=deals["a3"].pk).update(closed_at=closed)
    _, rows = run(
        world.admin,
        columns=["name", "closed_at"],
        filters=[{"field": "closed_at", "op": "on", "value": "2026-10-05"}],
    )
    assert rows == [["=HYPERLINK(1)", dt.date(2026, 10, 5)]]


def test_grouping_counts_and_sums_every_money_column_in_sql(world, deals):
    plan, rows = run(world.admin, columns=["partner", "amount"], group_by="partner", sort="partner")
    assert [h for h, _ in plan.headers()] == ["Partner", "Count", "Sum of amount"]
    assert rows == [
        ["Contoso Partners", 2, Decimal("10049.00")],
        ["Northwind Retail", 1, Decimal("700.00")],
        ["Northwind Systems", 3, Decimal("3800.50")],
    ]


def test_grouping_by_a_date_gives_one_row_per_month(world, deals):
    _, rows = run(world.manager, columns=["amount"], group_by="close_date", sort="close_date")
    assert rows == [
        ["2026-08", 1, Decimal("2500.50")],
        ["2026-10", 1, Decimal("300.00")],
        ["2026-11", 2, Decimal("1700.00")],
    ]


def test_grouped_rows_sort_by_a_sum(world, deals):
    _, rows = run(world.admin, columns=["amount"], group_by="stage", sort="amount", descending=True)
    assert [r[0] for r in rows] == ["Proposal", "Qualification"]


def test_sort_by_any_column_both_ways_with_a_stable_tie_break(world, deals):
    _, up = run(world.manager, columns=["name", "amount"], sort="amount")
    _, down = run(world.manager, columns=["name", "amount"], sort="amount", descending=True)
    assert [r[1] for r in up] == sorted(r[1] for r in up)
    assert [r[0] for r in down] == [r[0] for r in reversed(up)]
    deal(world.a, "Same Amount", "1000.00")
    _, tied = run(world.manager, columns=["name", "amount"], sort="amount")
    assert [r[0] for r in tied if r[1] == Decimal("1000.00")] == ["Alpha Rollout", "Same Amount"]


def test_every_record_type_runs(world, deals):
    for key, kind in engine.record_types().items():
        plan, _ = run(world.admin, record_type=key, columns=[c.key for c in kind.columns])
        assert len(plan.columns) == len(kind.columns)
    _, partners = run(world.manager, record_type="partners", columns=["name", "manager"])
    assert sorted(partners) == [
        ["Northwind Retail", "Maya Manager"],
        ["Northwind Systems", "Maya Manager"],
    ]


def test_custom_fields_are_columns_filters_and_groups(world, deals):
    CustomField.objects.create(
        target="deals.opportunity",
        label="Segment",
        key="segment",
        field_type="choice",
        choices="SMB\nEnterprise",
    )
    CustomField.objects.create(
        target="deals.opportunity", label="Seats", key="seats", field_type="number"
    )
    CustomField.objects.create(
        target="deals.opportunity",
        label="Secret score",
        key="score",
        field_type="number",
        internal_only=True,
    )
    for key, custom in {
        "a1": {"segment": "Enterprise", "seats": "120", "score": "9"},
        "a2": {"segment": "SMB", "seats": "15"},
        "a3": {"segment": "Enterprise", "seats": "8.5"},
    }.items():
        Opportunity.objects.filter(pk=deals[key].pk).update(custom=custom)

    plan, rows = run(
        world.manager,
        columns=["name", "custom:segment", "custom:seats"],
        filters=[{"field": "custom:seats", "op": "gt", "value": "10"}],
        sort="custom:seats",
    )
    assert rows == [
        ["Alpha Renewal", "SMB", Decimal("15")],
        ["Alpha Rollout", "Enterprise", Decimal("120")],
    ]
    _, grouped = run(
        world.manager, columns=["custom:seats"], group_by="custom:segment", sort="custom:segment"
    )
    assert grouped[:2] == [["Enterprise", 2, Decimal("128.5")], ["SMB", 1, Decimal("15")]]

    # An internal-only field is no column for a partner: a stored report using it skips it.
    report = saved(world.admin, columns=["name", "custom:score"], shared_with_partners=True)
    plan = engine.plan_for(report, world.partner_admin_a)
    assert [c.key for c in plan.columns] == ["name"]
    assert plan.notices


def test_a_stored_report_on_a_deleted_custom_field_is_skipped_with_a_notice(client, world, deals):
    field = CustomField.objects.create(
        target="deals.opportunity", label="Region code", key="region_code", field_type="text"
    )
    report = saved(
        world.manager,
        columns=["name", "custom:region_code"],
        filters=[{"field": "custom:region_code", "op": "equals", "value": "N1"}],
        group_by="custom:region_code",
    )
    field.delete()
    login_as(client, world.manager)
    response = client.get(reverse("analytics:report", args=[report.pk]))
    assert response.status_code == 200
    body = response.content.decode()
    assert "no longer applies" in body or "no longer exists" in body
    assert "Alpha Rollout" in body  # the filter is gone, the rows are there


# --- security: the viewer's rows, never the owner's ---------------------------------------------


def test_an_admins_report_shows_a_manager_only_their_book(client, world, deals):
    report = saved(world.admin, shared=True)
    login_as(client, world.manager)
    body = client.get(reverse("analytics:report", args=[report.pk])).content.decode()
    assert "Alpha Rollout" in body and "Retail Kiosk" in body
    assert "Contoso" not in body


def test_a_report_shared_with_partners_shows_each_partner_admin_their_own_rows(
    client, world, deals
):
    report = saved(world.admin, shared_with_partners=True)
    login_as(client, world.partner_admin_b)
    body = client.get(reverse("analytics:report", args=[report.pk])).content.decode()
    assert "Contoso Secret" in body and "Contoso Hidden" in body
    assert "Alpha" not in body and "Northwind" not in body


def test_members_and_other_companies_cannot_open_reports(client, world, deals):
    shared = saved(world.admin, shared_with_partners=True)
    private = saved(world.manager, name="Maya's own")
    login_as(client, world.member_a)
    assert client.get(reverse("analytics:report", args=[shared.pk])).status_code == 404
    assert client.get(reverse("analytics:report_list")).status_code == 403
    login_as(client, world.partner_admin_b)
    assert client.get(reverse("analytics:report", args=[private.pk])).status_code == 404
    assert client.get(reverse("analytics:report_export_csv", args=[private.pk])).status_code == 404
    login_as(client, world.other_manager)
    assert client.get(reverse("analytics:report", args=[private.pk])).status_code == 404


def test_the_csv_has_every_viewer_row_neutralised(client, world, deals):
    report = saved(world.admin, shared=True)
    login_as(client, world.manager)
    response = client.get(reverse("analytics:report_export_csv", args=[report.pk]))
    content = b"".join(response.streaming_content).decode()
    rows = list(csv.reader(io.StringIO(content)))
    assert rows[0] == ["Opportunity", "Partner", "Amount"]
    assert sorted(r[0] for r in rows[1:]) == [
        "'=HYPERLINK(1)",
        "Alpha Renewal",
        "Alpha Rollout",
        "Retail Kiosk",
    ]
    assert "Contoso" not in content


def _sheet(response) -> str:
    data = b"".join(response.streaming_content)
    with zipfile.ZipFile(io.BytesIO(data)) as book:
        sheet = book.read("xl/worksheets/sheet1.xml").decode()
        strings = (
            book.read("xl/sharedStrings.xml").decode()
            if "xl/sharedStrings.xml" in book.namelist()
            else ""
        )
    return sheet + strings


def test_the_xlsx_obeys_the_same_scoping_with_typed_cells(client, world, deals):
    report = saved(world.admin, shared_with_partners=True, columns=["name", "amount", "close_date"])
    login_as(client, world.partner_admin_b)
    response = client.get(reverse("analytics:report_export_xlsx", args=[report.pk]))
    assert response["Content-Type"] == (
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    )
    xml = _sheet(response)
    assert "Contoso Secret" in xml
    assert "Alpha" not in xml and "HYPERLINK" not in xml
    assert "<v>9999</v>" in xml  # a number cell, not text

    login_as(client, world.admin)
    xml = _sheet(client.get(reverse("analytics:report_export_xlsx", args=[report.pk])))
    assert "=HYPERLINK(1)" in xml  # a string ...
    assert "<f>" not in xml  # ... never a formula


# --- the builder --------------------------------------------------------------------------------


def form_data(**overrides):
    data = {
        "name": "Big deals",
        "description": "",
        "record_type": "opportunities",
        "columns": ["name", "partner", "amount"],
        "group_by": "",
        "sort": "amount",
        "descending": "1",
    }
    data.update(overrides)
    return data


def test_a_manager_builds_a_report_and_lands_on_it(client, world, deals):
    login_as(client, world.manager)
    data = form_data(filter_0_field="amount", filter_0_op="gte", filter_0_value="1000")
    response = client.post(reverse("analytics:report_add"), data)
    report = SavedReport.objects.get()
    assert response.status_code == 302
    assert response["Location"] == reverse("analytics:report", args=[report.pk])
    assert report.owner == world.manager
    assert report.filters == [{"field": "amount", "op": "gte", "value": "1000"}]
    assert not report.shared  # not an admin: the share flags are not theirs
    body = client.get(response["Location"]).content.decode()
    assert "Opportunities where Amount ≥ 1,000" in body
    assert body.index("Alpha Renewal") < body.index("Alpha Rollout")  # amount, highest first


def test_a_manager_cannot_share_but_an_admin_can(client, world):
    login_as(client, world.manager)
    client.post(reverse("analytics:report_add"), form_data(shared_with_partners="on"))
    assert not SavedReport.objects.get().shared_with_partners
    login_as(client, world.admin)
    client.post(reverse("analytics:report_add"), form_data(name="B", shared_with_partners="on"))
    assert SavedReport.objects.get(name="B").shared_with_partners


@pytest.mark.parametrize(
    "overrides, field, message",
    [
        ({"columns": ["name", "no_such_column"]}, "columns", "no_such_column"),
        (
            {"filter_1_field": "amount", "filter_1_op": "gt", "filter_1_value": "lots"},
            "filter_1_value",
            "is not a number",
        ),
        (
            {"filter_0_field": "name", "filter_0_op": "gt", "filter_0_value": "x"},
            "filter_0_op",
            "can be filtered with",
        ),
        (
            {"filter_0_field": "close_date", "filter_0_op": "on", "filter_0_value": "31/12/2026"},
            "filter_0_value",
            "YYYY-MM-DD",
        ),
        ({"group_by": "amount"}, "group_by", "Select a valid choice"),
    ],
)
def test_bad_input_is_an_error_at_its_field_nothing_saved_form_refilled(
    client, world, overrides, field, message
):
    login_as(client, world.manager)
    response = client.post(reverse("analytics:report_add"), form_data(**overrides))
    assert response.status_code == 200
    form = response.context["form"]
    assert message in " ".join(form.errors[field])
    assert not SavedReport.objects.exists()
    body = response.content.decode()
    assert 'value="Big deals"' in body  # what was typed comes back
    for key, value in overrides.items():
        if isinstance(value, str) and key.endswith("_value"):
            assert f'value="{value}"' in body


def test_changing_the_record_type_offers_its_columns_and_keeps_what_was_typed(client, world):
    login_as(client, world.manager)
    response = client.post(
        reverse("analytics:report_add"),
        form_data(record_type="enrollments", refresh="1", description="Keep me"),
    )
    assert response.status_code == 200
    body = response.content.decode()
    assert 'name="columns" value="course"' in body
    assert 'name="columns" value="stage"' not in body
    assert "Keep me" in body and 'value="Big deals"' in body
    assert not response.context["form"].errors
    assert not SavedReport.objects.exists()


def test_only_the_owner_or_an_admin_edits_or_deletes(client, world):
    report = saved(world.admin, shared=True)
    login_as(client, world.manager)
    assert client.get(reverse("analytics:report_edit", args=[report.pk])).status_code == 403
    assert client.post(reverse("analytics:report_delete", args=[report.pk])).status_code == 403
    own = saved(world.manager, name="Mine")
    response = client.post(
        reverse("analytics:report_edit", args=[own.pk]), form_data(name="Renamed")
    )
    assert response.status_code == 302
    own.refresh_from_db()
    assert own.name == "Renamed" and own.owner == world.manager
    client.post(reverse("analytics:report_delete", args=[own.pk]))
    assert not SavedReport.objects.filter(pk=own.pk).exists()
    assert SavedReport.objects.filter(pk=report.pk).exists()


# --- the pages ----------------------------------------------------------------------------------


def test_the_list_shows_mine_and_shared_with_badges(client, world):
    saved(world.manager, name="Maya's pipeline")
    saved(world.admin, name="Company-wide pipeline", shared=True)
    saved(world.admin, name="Partner pipeline", shared_with_partners=True)
    saved(world.other_manager, name="Otto's private")
    login_as(client, world.manager)
    body = client.get(reverse("analytics:report_list")).content.decode()
    assert "Maya&#x27;s pipeline" in body and "Company-wide pipeline" in body
    assert "Shared with managers" in body
    assert "Otto" not in body and "Partner pipeline" not in body
    login_as(client, world.partner_admin_a)
    body = client.get(reverse("analytics:report_list")).content.decode()
    assert "Partner pipeline" in body
    assert "Company-wide" not in body and "New report" not in body


def test_an_empty_list_explains_reports_and_links_to_new_report(client, world):
    login_as(client, world.manager)
    body = client.get(reverse("analytics:report_list")).content.decode()
    assert "No reports yet" in body
    assert reverse("analytics:report_add") in body


def test_a_grouped_report_has_a_chart_and_its_csv(client, world, deals):
    report = saved(world.admin, shared=True, columns=["amount"], group_by="partner")
    login_as(client, world.manager)
    body = client.get(reverse("analytics:report", args=[report.pk])).content.decode()
    assert 'id="chart-report"' in body
    assert f"report.csv?report={report.pk}" in body
    response = client.get(reverse("analytics:chart_csv", args=["report"]), {"report": report.pk})
    rows = list(csv.reader(io.StringIO(b"".join(response.streaming_content).decode())))
    assert rows[1:] == [["Northwind Retail", "700.0"], ["Northwind Systems", "3800.5"]]
    login_as(client, world.partner_admin_b)
    response = client.get(reverse("analytics:chart_csv", args=["report"]), {"report": report.pk})
    assert response.status_code == 404


def test_the_report_pages_fifty_rows_at_a_time(client, world):
    Opportunity.objects.bulk_create(
        Opportunity(
            account=world.a,
            name=f"Paged Deal {i:03d}",
            company="Paged",
            stage=PipelineStage.objects.get(name="Qualification"),
            amount=i,
            close_date=TODAY,
        )
        for i in range(60)
    )
    report = saved(world.manager, columns=["name"], sort="name")
    login_as(client, world.manager)
    first = client.get(reverse("analytics:report", args=[report.pk])).content.decode()
    assert "Paged Deal 049" in first and "Paged Deal 050" not in first
    second = client.get(reverse("analytics:report", args=[report.pk]), {"page": 2})
    assert "Paged Deal 059" in second.content.decode()
    assert re.search(r"Paged Deal 0[0-4]\d", second.content.decode()) is None
