"""Quarterly goals: who may set, propose, accept and remove them (services), what each rule
refuses and where, and the two goals pages (progress, the proposal → agreement flow, bad input
shown at its field with the form refilled)."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404
from django.utils import timezone

from analytics import kpis, services
from analytics.models import Goal, GoalStatus, KpiDefinition
from deals.models import Opportunity, OpportunityStatus, PipelineStage
from prm.models import Notification
from prm.testing.fixtures import login_as

pytestmark = pytest.mark.django_db


def this_quarter() -> kpis.Period:
    return kpis.Period.current_quarter()


def goal_of(account, kpi="won_revenue", target="50000", *, quarter=None, status="accepted"):
    """A goal made with the ORM (any quarter, past ones included)."""
    return Goal.objects.create(
        account=account,
        quarter=(quarter or this_quarter()).start,
        kpi=kpi,
        target=Decimal(target),
        status=status,
    )


def won_deal(account, amount="20000"):
    stage = PipelineStage.objects.filter(active=True).order_by("position").first()
    return Opportunity.objects.create(
        name="Won deal",
        company="Brandt GmbH",
        account=account,
        stage=stage,
        amount=Decimal(amount),
        currency="USD",
        close_date=timezone.localdate(),
        status=OpportunityStatus.WON,
        closed_at=timezone.now(),
    )


def set_goal(world, actor=None, **fields):
    values = {
        "account": world.a,
        "quarter": this_quarter().start,
        "kpi": "won_revenue",
        "target": "50000",
        **fields,
    }
    return services.set_goal(actor=actor or world.manager, **values)


def propose_goal(world, actor=None, **fields):
    values = {
        "account": world.a,
        "quarter": this_quarter().start,
        "kpi": "deals_registered",
        "target": "12",
        **fields,
    }
    return services.propose_goal(actor=actor or world.partner_admin_a, **values)


# --- services: who may do what -------------------------------------------------------------------


def test_manager_sets_an_agreed_goal_and_the_partner_admins_are_told(
    world, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        goal = set_goal(world, note="Stretch, with the new product line")
    goal.refresh_from_db()
    assert (goal.status, goal.target, goal.set_by) == ("accepted", Decimal("50000"), world.manager)
    told = Notification.objects.filter(key__startswith=f"goal-set:{goal.pk}:")
    assert {n.user for n in told} == {world.partner_admin_a}  # not the member, not B
    assert "/goals/?period=" in told.get().url


def test_setting_a_goal_again_changes_it_instead_of_adding_one(world):
    set_goal(world, target="50000")
    set_goal(world, target="65000")
    assert Goal.objects.get(account=world.a).target == Decimal("65000")


def test_admin_sets_goals_for_any_partner(world):
    assert set_goal(world, actor=world.admin, account=world.b).account == world.b


def test_manager_of_another_book_cannot_set_a_goal_it_is_not_found(world):
    with pytest.raises(Http404):
        set_goal(world, actor=world.other_manager)
    assert not Goal.objects.exists()


def test_partner_admin_cannot_set_an_agreed_goal(world):
    with pytest.raises(PermissionDenied):
        set_goal(world, actor=world.partner_admin_a)


def test_partner_admin_proposes_and_the_manager_is_told(world, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        goal = propose_goal(world, note="We hired two sellers")
    assert (goal.status, goal.proposed_by, goal.set_by) == ("proposed", world.partner_admin_a, None)
    told = Notification.objects.get(key__startswith=f"goal-proposed:{goal.pk}:")
    assert told.user == world.manager
    assert told.url.startswith(f"/partners/{world.a.pk}/goals/")


def test_partner_admin_of_another_company_cannot_propose_it_is_not_found(world):
    with pytest.raises(Http404):
        propose_goal(world, actor=world.partner_admin_b)
    assert not Goal.objects.exists()


def test_member_cannot_propose_goals(world):
    with pytest.raises(PermissionDenied):
        propose_goal(world, actor=world.member_a)


def test_distributor_admin_cannot_propose_for_its_child_account(world):
    with pytest.raises(PermissionDenied):  # sees the child read-only
        propose_goal(world, account=world.a_child)


def test_a_proposal_cannot_overwrite_an_agreed_goal(world):
    set_goal(world, kpi="deals_registered", target="10")
    with pytest.raises(ValidationError) as error:
        propose_goal(world, kpi="deals_registered", target="3")
    assert "ask your manager" in error.value.message_dict["kpi"][0]
    goal = Goal.objects.get()
    assert (goal.target, goal.status) == (Decimal("10"), "accepted")


def test_manager_accepts_a_proposal_and_the_partner_admins_are_told(
    world, django_capture_on_commit_callbacks
):
    proposal = propose_goal(world)
    with django_capture_on_commit_callbacks(execute=True):
        services.accept_goal(actor=world.manager, goal=proposal)
    proposal.refresh_from_db()
    assert (proposal.status, proposal.set_by) == ("accepted", world.manager)
    assert Notification.objects.filter(
        key__startswith=f"goal-accepted:{proposal.pk}:", user=world.partner_admin_a
    ).exists()
    with pytest.raises(ValidationError, match="already agreed"):
        services.accept_goal(actor=world.manager, goal=proposal)


def test_only_the_manager_side_accepts(world):
    proposal = propose_goal(world)
    with pytest.raises(PermissionDenied):
        services.accept_goal(actor=world.partner_admin_a, goal=proposal)
    with pytest.raises(Http404):
        services.accept_goal(actor=world.other_manager, goal=proposal)
    assert Goal.objects.get().status == GoalStatus.PROPOSED


def test_removing_goals(world):
    agreed = set_goal(world)
    proposal = propose_goal(world)
    with pytest.raises(PermissionDenied):  # an agreed goal changes only with the manager
        services.remove_goal(actor=world.partner_admin_a, goal=agreed)
    with pytest.raises(Http404):
        services.remove_goal(actor=world.partner_admin_b, goal=proposal)
    services.remove_goal(actor=world.partner_admin_a, goal=proposal)  # withdrawn
    services.remove_goal(actor=world.manager, goal=agreed)
    assert not Goal.objects.exists()


def test_past_quarters_are_read_only(world):
    past = goal_of(world.a, quarter=this_quarter().previous(), status="proposed")
    with pytest.raises(ValidationError, match="quarter is over"):
        services.accept_goal(actor=world.manager, goal=past)
    with pytest.raises(ValidationError, match="quarter is over"):
        services.remove_goal(actor=world.manager, goal=past)
    assert Goal.objects.filter(pk=past.pk, status="proposed").exists()


# --- services: validation, field by field --------------------------------------------------------


@pytest.mark.parametrize(
    ("fields", "field", "message"),
    [
        ({"target": "-5"}, "target", "can't be negative"),
        ({"target": "abc"}, "target", "as a number"),
        ({"kpi": "win_rate", "target": "120"}, "target", "at most 100"),
        ({"kpi": "health_score", "target": "80"}, "kpi", "takes no goals"),
        ({"kpi": "no_such_kpi"}, "kpi", "Choose one of the KPIs"),
        ({"quarter": "first-of-month"}, "quarter", "Choose a quarter"),
        ({"quarter": "previous"}, "quarter", "quarter is over"),
        ({"note": "x" * 301}, "note", "under 300"),
    ],
)
def test_a_goal_that_breaks_a_rule_is_refused_at_its_field(world, fields, field, message):
    if fields.get("quarter") == "first-of-month":
        fields["quarter"] = this_quarter().start + timedelta(days=1)
    elif fields.get("quarter") == "previous":
        fields["quarter"] = this_quarter().previous().start
    for write in (set_goal, lambda w, **f: propose_goal(w, **{"kpi": "won_revenue", **f})):
        with pytest.raises(ValidationError) as error:
            write(world, **fields)
        assert message in " ".join(error.value.message_dict[field])
    assert not Goal.objects.exists()


def test_an_admin_switching_goals_off_for_a_kpi_closes_it_to_new_goals(world):
    KpiDefinition.objects.filter(code="win_rate").update(goal_allowed=False)
    with pytest.raises(ValidationError) as error:
        set_goal(world, kpi="win_rate", target="40")
    assert "kpi" in error.value.message_dict


def test_a_percent_goal_of_100_and_a_future_quarter_are_fine(world):
    goal = set_goal(world, kpi="win_rate", target="100", quarter=this_quarter().next().start)
    assert goal.target == Decimal("100")


# --- pages ---------------------------------------------------------------------------------------


def account_goals_url(world, query=""):
    return f"/partners/{world.a.pk}/goals/{query}"


def test_manager_page_shows_progress_against_target_and_pace(client, world):
    goal_of(world.a, "won_revenue", "50000")
    won_deal(world.a, "20000")
    login_as(client, world.manager)
    page = client.get(account_goals_url(world)).content.decode()
    assert "Won revenue" in page
    assert "20,000" in page and "50,000" in page  # actual of target
    assert "40%" in page  # 20 000 of 50 000
    assert 'role="progressbar"' in page and 'aria-valuetext="40% of the target' in page
    # the state is said in words, not by colour alone
    assert any(label in page for label in ("Achieved", "On pace", "Behind pace"))
    assert "Set a target" in page


def test_manager_sets_a_target_with_the_form(client, world):
    login_as(client, world.manager)
    response = client.post(
        account_goals_url(world),
        {"quarter": this_quarter().key, "kpi": "deals_registered", "target": "8", "note": "Q push"},
    )
    assert response.status_code == 302
    assert response["Location"].endswith(f"?period={this_quarter().key}")
    goal = Goal.objects.get(account=world.a)
    assert (goal.kpi, goal.target, goal.status) == ("deals_registered", Decimal("8"), "accepted")


def test_bad_input_comes_back_at_the_field_with_the_form_refilled(client, world):
    login_as(client, world.manager)
    response = client.post(
        account_goals_url(world),
        {"quarter": this_quarter().key, "kpi": "win_rate", "target": "150", "note": "Keep me"},
    )
    page = response.content.decode()
    assert response.status_code == 200
    assert 'id="id_target_error"' in page and "A percentage target is at most 100." in page
    assert 'value="150"' in page and 'value="Keep me"' in page
    assert '<option value="win_rate" selected>' in page
    assert not Goal.objects.exists()


def test_proposal_then_agreement_through_the_pages(client, world):
    login_as(client, world.partner_admin_a)
    response = client.post(
        "/goals/",
        {"quarter": this_quarter().key, "kpi": "deals_registered", "target": "6", "note": ""},
    )
    assert response.status_code == 302
    proposal = Goal.objects.get()
    assert proposal.status == "proposed"
    assert "Proposed, waiting for your partner manager" in client.get("/goals/").content.decode()

    login_as(client, world.manager)
    page = client.get(account_goals_url(world)).content.decode()
    assert "Proposed by the partner" in page
    assert f"/goals/{proposal.pk}/accept/" in page
    response = client.post(f"/goals/{proposal.pk}/accept/")
    assert response.status_code == 302
    assert response["Location"] == account_goals_url(world, f"?period={this_quarter().key}")
    proposal.refresh_from_db()
    assert proposal.status == "accepted"

    login_as(client, world.partner_admin_a)
    page = client.get("/goals/").content.decode()
    assert "Agreed goals" in page and "Deals registered" in page
    assert f"/goals/{proposal.pk}/delete/" not in page  # agreed: no withdrawing it


def test_members_read_their_goals_without_a_form(client, world):
    goal_of(world.a, "won_revenue", "50000")
    login_as(client, world.member_a)
    page = client.get("/goals/").content.decode()
    assert "Won revenue" in page
    assert "Propose a target" not in page and 'name="target"' not in page
    response = client.post("/goals/", {"quarter": this_quarter().key, "kpi": "won_revenue"})
    assert response.status_code == 403


def test_partner_pages_show_only_their_own_company(client, world):
    goal_of(world.b, "won_revenue", "777777")
    login_as(client, world.partner_admin_a)
    assert "777,777" not in client.get("/goals/").content.decode()


def test_past_quarter_is_shown_read_only(client, world):
    past = this_quarter().previous()
    goal_of(world.a, "won_revenue", "1000", quarter=past)
    login_as(client, world.manager)
    page = client.get(account_goals_url(world, f"?period={past.key}")).content.decode()
    assert past.label in page and "read only" in page
    assert "Set a target" not in page and "/delete/" not in page


def test_an_unknown_period_falls_back_to_this_quarter_with_a_message(client, world):
    login_as(client, world.manager)
    page = client.get(account_goals_url(world, "?period=someday")).content.decode()
    assert "is not a quarter we know" in page
    assert this_quarter().label in page


def test_internal_users_are_sent_from_the_partner_goals_page_to_the_partner_list(client, world):
    login_as(client, world.manager)
    response = client.get("/goals/")
    assert response.status_code == 302 and response["Location"] == "/partners/"


def test_partner_profile_links_to_the_goals_for_internal_users(client, world):
    login_as(client, world.manager)
    assert account_goals_url(world) in client.get(f"/partners/{world.a.pk}/").content.decode()
    login_as(client, world.partner_admin_a)
    assert account_goals_url(world) not in client.get(f"/partners/{world.a.pk}/").content.decode()


# --- admin -------------------------------------------------------------------------------------


def test_goals_added_in_admin_go_through_the_service(client, world):
    login_as(client, world.admin)
    response = client.post(
        "/admin/analytics/goal/add/",
        {
            "account": world.a.pk,
            "quarter": this_quarter().start.isoformat(),
            "kpi": "win_rate",
            "target": "130",
            "note": "",
        },
    )
    assert response.status_code == 200
    assert "A percentage target is at most 100." in response.content.decode()
    assert not Goal.objects.exists()
    response = client.post(
        "/admin/analytics/goal/add/",
        {
            "account": world.a.pk,
            "quarter": this_quarter().start.isoformat(),
            "kpi": "win_rate",
            "target": "45",
            "note": "",
        },
    )
    assert response.status_code == 302
    goal = Goal.objects.get()
    assert (goal.status, goal.set_by, goal.target) == ("accepted", world.admin, Decimal("45"))


def test_kpi_definitions_cannot_be_added_or_deleted_in_admin(client, world):
    definition = KpiDefinition.objects.get(code="win_rate")
    login_as(client, world.admin)
    assert client.get("/admin/analytics/kpidefinition/add/").status_code == 403
    assert client.get(f"/admin/analytics/kpidefinition/{definition.pk}/delete/").status_code == 403
    assert client.get("/admin/analytics/kpidefinition/").status_code == 200
