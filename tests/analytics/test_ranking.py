"""The ranked table: the book's partners of a quarter, a column per KPI, sortable in SQL with
empty values last, filtered by tier / region / (admins) manager, exported as CSV.

Scores are written by ``refresh_scores`` and then given hand-picked values, so the order each
sort must give can be read off the table below:

    partner            tier      region  manager        win rate  won revenue  health
    Northwind Systems  Gold      EMEA    manager        80.0      1,000        70.0
    Northwind Retail   Silver    —       manager        —         2,500        —
    Contoso Partners   Platinum  NA      other_manager  50.0      7,777        90.0
"""

from __future__ import annotations

import csv
import io
from decimal import Decimal

import pytest
from django.urls import reverse

from analytics.kpis import Period
from analytics.models import KpiDefinition, PartnerScore
from analytics.services import refresh_scores
from partners.models import PartnerAccount, Tier
from prm.testing.fixtures import login_as

pytestmark = pytest.mark.django_db

RANKING = "/manager/dashboard/partners/"
EXPORT = "/manager/dashboard/partners/export.csv"
A, A1, B = "Northwind Systems", "Northwind Retail", "Contoso Partners"


@pytest.fixture
def ranked(world):
    world.silver = Tier.objects.create(name="Silver", rank=20)
    world.platinum = Tier.objects.create(name="Platinum", rank=40)
    PartnerAccount.objects.filter(pk=world.a_child.pk).update(tier=world.silver)
    PartnerAccount.objects.filter(pk=world.b.pk).update(tier=world.platinum)
    world.quarter = Period.current_quarter()
    assert refresh_scores(world.quarter) == 3
    figures = {
        world.a: {"win_rate": 80.0, "won_revenue": Decimal(1000), "health_score": 70.0},
        world.a_child: {"win_rate": None, "won_revenue": Decimal(2500), "health_score": None},
        world.b: {"win_rate": 50.0, "won_revenue": Decimal(7777), "health_score": 90.0},
    }
    for account, values in figures.items():
        PartnerScore.objects.filter(account=account).update(**values)
    return world


def csv_rows(client, query=""):
    response = client.get(EXPORT + query)
    assert response.status_code == 200
    body = b"".join(response.streaming_content).decode()
    return list(csv.DictReader(io.StringIO(body)))


def names_in_page(client, query="") -> list[str]:
    """The partners in the order the page lists them."""
    response = client.get(RANKING + query)
    assert response.status_code == 200
    text = response.content.decode()
    body = text[text.index("<tbody") :]
    found = [(body.find(f">{name}<"), name) for name in (A, A1, B)]
    return [name for position, name in sorted(found) if position >= 0]


def test_a_manager_sees_only_their_book(client, ranked):
    login_as(client, ranked.manager)
    assert names_in_page(client) == [A, A1]
    rows = csv_rows(client)
    assert [row["Partner"] for row in rows] == [A, A1]
    assert "7777" not in str(rows)


def test_admin_sees_every_partner_and_can_pick_a_managers_book(client, ranked):
    login_as(client, ranked.admin)
    assert names_in_page(client) == [B, A, A1]  # health score, highest first, empty last
    assert names_in_page(client, f"?manager={ranked.other_manager.pk}") == [B]
    assert [r["Partner"] for r in csv_rows(client, f"?manager={ranked.manager.pk}")] == [A, A1]


def test_the_manager_filter_is_only_for_admins(client, ranked):
    login_as(client, ranked.manager)
    response = client.get(RANKING + f"?manager={ranked.other_manager.pk}")
    assert 'name="manager"' not in response.content.decode()
    assert names_in_page(client, f"?manager={ranked.other_manager.pk}") == [A, A1]
    assert B not in str(csv_rows(client, f"?manager={ranked.other_manager.pk}"))


def test_tier_and_region_filters(client, ranked):
    login_as(client, ranked.admin)
    assert names_in_page(client, f"?tier={ranked.silver.pk}") == [A1]
    assert names_in_page(client, "?region=na") == [B]
    assert [r["Partner"] for r in csv_rows(client, "?region=emea")] == [A]


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("?sort=-win_rate", [A, B, A1]),
        ("?sort=win_rate", [B, A, A1]),  # empty last both ways
        ("?sort=-won_revenue", [B, A1, A]),
        ("?sort=won_revenue", [A, A1, B]),
        ("?sort=account", [B, A1, A]),
        ("?sort=-tier", [B, A, A1]),
        ("?kpi=win_rate", [A, B, A1]),  # "rank by" preselects the KPI's best first
        ("?kpi=won_revenue", [B, A1, A]),
        ("?sort=bogus", [B, A, A1]),  # an unknown column keeps the default order
    ],
)
def test_sort_by_any_column_in_sql_with_empty_values_last(client, ranked, query, expected):
    login_as(client, ranked.admin)
    assert names_in_page(client, query) == expected
    assert [r["Partner"] for r in csv_rows(client, query)] == expected


def test_columns_are_the_kpis_with_their_admin_labels(client, ranked):
    KpiDefinition.objects.filter(code="win_rate").update(label="Deals won of deals closed")
    login_as(client, ranked.admin)
    text = client.get(RANKING).content.decode()
    assert "Deals won of deals closed (%)" in text
    assert "80%" in text and "7,777" in text  # formatted by unit
    rows = csv_rows(client)
    assert rows[0]["#"] == "1" and rows[2]["#"] == "3"
    assert rows[0]["Deals won of deals closed (%)"] == "50.0"
    assert rows[0]["Won revenue (USD)"] == "7777.00"
    assert rows[1]["Tier"] == "Gold" and rows[1]["Region"] == "EMEA"


def test_partner_names_link_to_their_scorecard(client, ranked):
    login_as(client, ranked.manager)
    text = client.get(RANKING).content.decode()
    assert reverse("analytics:account_scorecard", args=[ranked.a.pk]) in text


def test_an_unscored_quarter_says_so_and_when_it_will_be_filled(client, ranked):
    login_as(client, ranked.manager)
    text = client.get(RANKING + "?period=2020-Q1").content.decode()
    assert "No partner scores for Q1 2020 yet" in text
    assert "refreshed every 15 minutes" in text


def test_filters_that_match_nobody_say_so(client, ranked):
    login_as(client, ranked.manager)
    text = client.get(RANKING + "?region=apac").content.decode()
    assert "No partners match these filters" in text


def test_a_bad_period_falls_back_to_this_quarter_with_a_message(client, ranked):
    login_as(client, ranked.manager)
    text = client.get(RANKING + "?period=soon").content.decode()
    assert "is not a period" in text
    assert names_in_page(client, "?period=soon") == [A, A1]


@pytest.mark.parametrize("persona", ["partner_admin_a", "member_a", "partner_admin_b"])
def test_partners_get_403(client, ranked, persona):
    login_as(client, getattr(ranked, persona))
    assert client.get(RANKING).status_code == 403
    assert client.get(EXPORT).status_code == 403


def test_the_ranked_kpi_is_the_first_column_after_the_partner(client, ranked):
    login_as(client, ranked.admin)

    def headers(query):
        text = client.get(RANKING + query).content.decode()
        return text[text.index("<thead") : text.index("</thead>")]

    by_revenue = headers("?kpi=won_revenue")
    assert by_revenue.index("Won revenue (USD)") < by_revenue.index("Health score")
    by_health = headers("")  # the default
    assert by_health.index("Health score") < by_health.index("Won revenue (USD)")
