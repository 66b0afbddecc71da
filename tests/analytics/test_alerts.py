"""Alert rules: each condition matches exactly its records, evaluation works in sets (the same
queries for 3 and 30 matches), an alert fires once per occurrence, the alerts page and its
acknowledge / snooze buttons, and who sees which alert."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from itertools import count

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from analytics.alerts import evaluate_rule, install_alert_rules, matches_for
from analytics.models import (
    Alert,
    AlertAudience,
    AlertChannel,
    AlertCondition,
    AlertRule,
    Goal,
    GoalStatus,
    Survey,
    SurveyDistribution,
    SurveyInvitation,
    SurveyResponse,
)
from deals.models import (
    DealRegistration,
    Lead,
    LeadStatus,
    Opportunity,
    OpportunityStatus,
    PipelineStage,
    RegistrationStatus,
)
from partners.models import AccountStatus, PartnerAccount
from prm.models import Notification
from prm.testing.fixtures import login_as
from training.models import Certificate, Course

pytestmark = pytest.mark.django_db

_serial = count(1)


def _rule(condition, threshold=0, audience=AlertAudience.MANAGER, channel=AlertChannel.IN_APP):
    return AlertRule.objects.create(
        name=f"Rule {condition}",
        condition=condition,
        threshold=threshold,
        audience=audience,
        channel=channel,
    )


def _subjects(rule, now=None):
    return {m.subject for m in matches_for(rule, now)}


def _registration(world, *, status=RegistrationStatus.SUBMITTED, hours=50, account=None):
    n = next(_serial)
    return DealRegistration.objects.create(
        account=account or world.a,
        created_by=world.member_a,
        company=f"Customer {n} Ltd",
        contact_name="Pat",
        contact_email="pat@customer.example",
        amount=1000,
        expected_close_date=timezone.localdate() + timedelta(days=60),
        status=status,
        submitted_at=timezone.now() - timedelta(hours=hours),
    )


def _lead(world, *, status=LeadStatus.ASSIGNED, hours=-5, account=None):
    """A lead whose deadline is ``hours`` from now (negative: passed)."""
    n = next(_serial)
    return Lead.objects.create(
        company=f"Lead {n} GmbH",
        account=account or world.a,
        status=status,
        assigned_at=timezone.now() - timedelta(days=3),
        accept_by=timezone.now() + timedelta(hours=hours),
    )


def _opportunity(world, *, days=20, status=OpportunityStatus.OPEN, account=None):
    """An opportunity whose close date was ``days`` ago."""
    n = next(_serial)
    return Opportunity.objects.create(
        stage=PipelineStage.objects.order_by("pk").first(),
        account=account or world.a,
        name=f"Deal {n}",
        company=f"Buyer {n}",
        amount=100,
        close_date=timezone.localdate() - timedelta(days=days),
        status=status,
    )


def _certificate(world, *, days=10, revoked=False):
    """member_a's certificate expiring in ``days``."""
    n = next(_serial)
    course, _ = Course.objects.get_or_create(
        slug="alert-cert", defaults={"title": "Network Associate", "is_certification": True}
    )
    return Certificate.objects.create(
        number=f"ALERT-{n}",
        user=world.member_a,
        course=course,
        account=world.a,
        issued_on=date(2025, 1, 1),
        expires_on=timezone.localdate() + timedelta(days=days),
        revoked_at=timezone.now() if revoked else None,
    )


def _response(world, *, nps, days=2, account=None):
    """A survey answer with ``nps``, submitted ``days`` ago (its own invitation)."""
    survey, _ = Survey.objects.get_or_create(title="Partner pulse")
    distribution, _ = SurveyDistribution.objects.get_or_create(
        survey=survey, name="Quarterly", defaults={"trigger": "once"}
    )
    invitation = SurveyInvitation.objects.create(
        survey=survey,
        distribution=distribution,
        user=world.partner_admin_a,
        account=account or world.a,
        occasion=f"test-{next(_serial)}",
        expires_at=timezone.now() + timedelta(days=30),
    )
    return SurveyResponse.objects.create(
        invitation=invitation,
        survey=survey,
        account=invitation.account,
        user=world.partner_admin_a,
        nps=nps,
        submitted_at=timezone.now() - timedelta(days=days),
    )


# --- each condition matches exactly its records ------------------------------------------------


def test_registration_waiting_matches_submitted_ones_past_the_threshold(world):
    rule = _rule(AlertCondition.REGISTRATION_WAITING, 48)
    waiting = _registration(world, hours=52)
    _registration(world, hours=10)  # not long enough
    _registration(world, status=RegistrationStatus.REJECTED, hours=100)  # decided
    _registration(world, status=RegistrationStatus.DRAFT, hours=100)
    [match] = matches_for(rule)
    assert match.subject == f"registration:{waiting.pk}"
    assert match.account_id == world.a.pk
    assert waiting.company in match.title
    assert match.why == "Waiting 52 h for a decision (rule: more than 48 h)"
    assert match.action == "Approve, return or reject it"
    assert match.url == reverse("deals:registration", args=[waiting.pk])


def test_lead_not_accepted_matches_assigned_leads_past_their_deadline(world):
    rule = _rule(AlertCondition.LEAD_NOT_ACCEPTED)
    late = _lead(world, hours=-5)
    _lead(world, hours=5)  # still time
    _lead(world, status=LeadStatus.ACCEPTED, hours=-5)
    assert _subjects(rule) == {f"lead:{late.pk}"}
    assert matches_for(rule)[0].url == reverse("deals:lead", args=[late.pk])


def test_partner_inactive_needs_no_login_and_no_activity_in_the_window(world):
    rule = _rule(AlertCondition.PARTNER_INACTIVE, 30)
    old = timezone.now() - timedelta(days=200)
    PartnerAccount.objects.update(created_at=old)
    # A: its partner admin logged in last week. A's child: nothing at all. B: a registration.
    world.partner_admin_a.last_login = timezone.now() - timedelta(days=7)
    world.partner_admin_a.save(update_fields=["last_login"])
    world.partner_admin_b.last_login = old
    world.partner_admin_b.save(update_fields=["last_login"])
    _registration(world, account=world.b, hours=1)
    assert _subjects(rule) == {f"account:{world.a_child.pk}"}
    # A new partner is not "inactive" yet; an inactive account is the other rule's business.
    PartnerAccount.objects.filter(pk=world.a_child.pk).update(created_at=timezone.now())
    assert _subjects(rule) == set()
    PartnerAccount.objects.filter(pk=world.a_child.pk).update(
        created_at=old, status=AccountStatus.SUSPENDED
    )
    assert _subjects(rule) == set()
    # B's registration is older than the window and B's login too: B is inactive.
    DealRegistration.objects.filter(account=world.b).update(created_at=old)
    [match] = matches_for(rule)
    assert match.subject == f"account:{world.b.pk}"
    assert "30 days" in match.why and "last login" in match.why


def test_goal_behind_pace_from_mid_quarter_only(world):
    rule = _rule(AlertCondition.GOAL_BEHIND)
    quarter = date(2026, 7, 1)
    behind = Goal.objects.create(
        account=world.a, quarter=quarter, kpi="deals_registered", target=100,
        status=GoalStatus.ACCEPTED,
    )  # fmt: skip
    Goal.objects.create(  # reached: a target of 0 registrations
        account=world.b, quarter=quarter, kpi="deals_registered", target=0,
        status=GoalStatus.ACCEPTED,
    )  # fmt: skip
    Goal.objects.create(  # only proposed
        account=world.a_child, quarter=quarter, kpi="deals_registered", target=100,
        status=GoalStatus.PROPOSED,
    )  # fmt: skip
    day_60 = timezone.make_aware(datetime(2026, 8, 30, 12))
    day_20 = timezone.make_aware(datetime(2026, 7, 21, 12))
    assert _subjects(rule, day_20) == set()
    [match] = matches_for(rule, day_60)
    assert match.subject == f"goal:{behind.pk}"
    assert "behind pace" in match.title and world.a.name in match.title
    assert match.url.startswith(reverse("analytics:account_goals", args=[world.a.pk]))


def test_certification_expiring_within_the_threshold_and_not_revoked(world):
    rule = _rule(AlertCondition.CERTIFICATION_EXPIRING, 30)
    soon = _certificate(world, days=10)
    _certificate(world, days=40)
    _certificate(world, days=10, revoked=True)
    _certificate(world, days=-1)  # expired already
    [match] = matches_for(rule)
    assert match.subject == f"certificate:{soon.pk}"
    assert "in 10 days" in match.why
    assert match.url == reverse("training:certificate", args=[soon.pk])


def test_opportunity_overdue_counts_days_past_the_close_date(world):
    rule = _rule(AlertCondition.OPPORTUNITY_OVERDUE, 14)
    late = _opportunity(world, days=20)
    _opportunity(world, days=5)
    _opportunity(world, days=30, status=OpportunityStatus.WON)
    [match] = matches_for(rule)
    assert match.subject == f"opportunity:{late.pk}"
    assert "20 days ago" in match.why


def test_detractor_matches_recent_low_scores(world):
    rule = _rule(AlertCondition.DETRACTOR, 6)
    low = _response(world, nps=3)
    _response(world, nps=9)
    _response(world, nps=3, days=40)  # too old
    _response(world, nps=None)
    [match] = matches_for(rule)
    assert match.subject == f"response:{low.pk}"
    assert "3 of 10" in match.title


def test_account_deactivated_matches_inactive_and_suspended_accounts(world):
    rule = _rule(AlertCondition.ACCOUNT_DEACTIVATED, audience=AlertAudience.MANAGER_AND_ADMINS)
    PartnerAccount.objects.filter(pk=world.b.pk).update(status=AccountStatus.SUSPENDED)
    PartnerAccount.objects.filter(pk=world.a_child.pk).update(status=AccountStatus.ONBOARDING)
    [match] = matches_for(rule)
    assert match.subject == f"account:{world.b.pk}"
    assert match.title == "Contoso Partners is suspended"


# --- in sets -----------------------------------------------------------------------------------

MAKERS = {
    AlertCondition.REGISTRATION_WAITING: lambda w: _registration(w, hours=60),
    AlertCondition.LEAD_NOT_ACCEPTED: lambda w: _lead(w),
    AlertCondition.CERTIFICATION_EXPIRING: lambda w: _certificate(w, days=5),
    AlertCondition.OPPORTUNITY_OVERDUE: lambda w: _opportunity(w, days=40),
    AlertCondition.DETRACTOR: lambda w: _response(w, nps=2),
}


def _evaluation_queries(rule) -> int:
    with CaptureQueriesContext(connection) as queries:
        evaluate_rule(rule)
    return len(queries)


@pytest.mark.parametrize("condition", list(MAKERS))
def test_evaluation_costs_the_same_for_3_and_30_matches(world, condition):
    rule = _rule(condition, 14)
    for _ in range(3):
        MAKERS[condition](world)
    small = _evaluation_queries(rule)
    assert Alert.objects.filter(rule=rule).count() == 3
    Alert.objects.filter(rule=rule).delete()
    for _ in range(27):
        MAKERS[condition](world)
    assert _evaluation_queries(rule) == small
    assert Alert.objects.filter(rule=rule).count() == 30
    # The next run: nothing new, nothing cleared, still the same few queries.
    assert _evaluation_queries(rule) <= small


@pytest.mark.parametrize("condition", list(MAKERS))
def test_only_new_matches_get_their_alert_text_written(world, monkeypatch, condition):
    """The matchers read cheap rows; the text and link are built for new matches only (at 600k
    overdue opportunities, describing every match on every run is what cost the time)."""
    from analytics import alerts

    rule = _rule(condition, 14)
    for _ in range(3):
        MAKERS[condition](world)
    described, real = [], alerts.Match
    monkeypatch.setattr(alerts, "Match", lambda **kw: described.append(kw) or real(**kw))
    evaluate_rule(rule)
    assert len(described) == 3
    by_subject = {alert.subject: alert for alert in Alert.objects.filter(rule=rule)}
    for text in described:  # the alerts say what the matcher described
        alert = by_subject[text["subject"]]
        assert (alert.title, alert.why, alert.url) == (text["title"], text["why"], text["url"])
    described.clear()
    evaluate_rule(rule)
    assert described == []
    MAKERS[condition](world)
    evaluate_rule(rule)
    assert len(described) == 1 and described[0]["subject"] not in by_subject


def test_partner_inactive_costs_the_same_for_few_and_many_accounts(world):
    rule = _rule(AlertCondition.PARTNER_INACTIVE, 30)
    old = timezone.now() - timedelta(days=90)
    PartnerAccount.objects.update(created_at=old)
    small = _evaluation_queries(rule)
    PartnerAccount.objects.bulk_create(
        [
            PartnerAccount(name=f"Quiet {i}", status=AccountStatus.ACTIVE, manager=world.manager)
            for i in range(30)
        ]
    )
    PartnerAccount.objects.update(created_at=old)
    assert _evaluation_queries(rule) == small
    assert Alert.objects.filter(rule=rule, cleared_at__isnull=True).count() == 33


# --- once per occurrence -----------------------------------------------------------------------


def test_an_alert_fires_once_clears_and_fires_again_when_the_condition_returns(
    world, django_capture_on_commit_callbacks
):
    rule = _rule(AlertCondition.REGISTRATION_WAITING, 48, channel=AlertChannel.EMAIL)
    reg = _registration(world, hours=52)
    with django_capture_on_commit_callbacks(execute=True):
        first = evaluate_rule(rule)
    [alert] = Alert.objects.filter(rule=rule)
    assert first.raised == [alert.pk]
    assert alert.cleared_at is None and alert.account == world.a
    bells = Notification.objects.filter(key=f"alert:{alert.pk}")
    assert list(bells.values_list("user", flat=True)) == [world.manager.pk]
    assert bells.get().url == reverse("deals:registration", args=[reg.pk])

    with django_capture_on_commit_callbacks(execute=True):
        again = evaluate_rule(rule)
    assert again.raised == [] and again.cleared == 0
    assert Alert.objects.filter(rule=rule).count() == 1
    assert Notification.objects.filter(key__startswith="alert:").count() == 1

    DealRegistration.objects.filter(pk=reg.pk).update(status=RegistrationStatus.RETURNED)
    cleared = evaluate_rule(rule)
    assert cleared.cleared == 1 and cleared.raised == []
    alert.refresh_from_db()
    assert alert.cleared_at is not None

    DealRegistration.objects.filter(pk=reg.pk).update(status=RegistrationStatus.SUBMITTED)
    with django_capture_on_commit_callbacks(execute=True):
        back = evaluate_rule(rule)
    assert len(back.raised) == 1 and back.raised != [alert.pk]
    assert Alert.objects.filter(rule=rule).count() == 2
    assert Notification.objects.filter(key__startswith="alert:").count() == 2


def test_audiences_and_channels(world, django_capture_on_commit_callbacks, mailoutbox):
    _certificate(world, days=3)
    partner = _rule(AlertCondition.CERTIFICATION_EXPIRING, 30, AlertAudience.PARTNER_ADMINS)
    admins = _rule(AlertCondition.CERTIFICATION_EXPIRING, 30, AlertAudience.ADMINS)
    both = _rule(
        AlertCondition.CERTIFICATION_EXPIRING,
        30,
        AlertAudience.MANAGER_AND_ADMINS,
        AlertChannel.EMAIL,
    )
    digest = _rule(
        AlertCondition.CERTIFICATION_EXPIRING, 30, AlertAudience.MANAGER, AlertChannel.DIGEST
    )
    with django_capture_on_commit_callbacks(execute=True):
        for rule in (partner, admins, both, digest):
            evaluate_rule(rule)

    def told(rule):
        alert = Alert.objects.get(rule=rule)
        return set(
            Notification.objects.filter(key=f"alert:{alert.pk}").values_list("user", flat=True)
        )

    assert told(partner) == {world.partner_admin_a.pk}
    assert told(admins) == {world.admin.pk}
    assert told(both) == {world.manager.pk, world.admin.pk}
    assert told(digest) == {world.manager.pk}
    # Only the email channel sends an email now (in-app: none; digest: with the daily digest).
    # One email each, with their own preferences link.
    assert sorted(m.to[0] for m in mailoutbox) == sorted([world.manager.email, world.admin.email])
    # The digest channel's entries wait for the daily digest.
    digest_alert = Alert.objects.get(rule=digest)
    assert Notification.objects.get(key=f"alert:{digest_alert.pk}").in_digest


def test_a_manager_without_an_active_manager_tells_the_admins(
    world, django_capture_on_commit_callbacks
):
    PartnerAccount.objects.filter(pk=world.a.pk).update(manager=None)
    rule = _rule(AlertCondition.OPPORTUNITY_OVERDUE, 1)
    _opportunity(world, days=5)
    with django_capture_on_commit_callbacks(execute=True):
        evaluate_rule(rule)
    alert = Alert.objects.get(rule=rule)
    assert set(
        Notification.objects.filter(key=f"alert:{alert.pk}").values_list("user", flat=True)
    ) == {world.admin.pk}


def test_deactivating_an_account_evaluates_its_rule_at_once(
    world, django_capture_on_commit_callbacks
):
    from partners.services import change_account_status

    rule = _rule(AlertCondition.ACCOUNT_DEACTIVATED, audience=AlertAudience.MANAGER_AND_ADMINS)
    rule.last_run_at = timezone.now()
    rule.save()
    with django_capture_on_commit_callbacks(execute=True):
        change_account_status(actor=world.admin, account=world.b, status=AccountStatus.SUSPENDED)
    alert = Alert.objects.get(rule=rule, subject=f"account:{world.b.pk}")
    assert set(
        Notification.objects.filter(key=f"alert:{alert.pk}").values_list("user", flat=True)
    ) == {world.other_manager.pk, world.admin.pk}
    with django_capture_on_commit_callbacks(execute=True):
        change_account_status(actor=world.admin, account=world.b, status=AccountStatus.ACTIVE)
    alert.refresh_from_db()
    assert alert.cleared_at is not None


def test_due_rules_respect_their_interval(world):
    from analytics.tasks import evaluate_alert_rules

    rule = _rule(AlertCondition.OPPORTUNITY_OVERDUE, 1)
    idle = _rule(AlertCondition.REGISTRATION_WAITING, 1)
    idle.active = False
    idle.save()
    _opportunity(world, days=5)
    _registration(world, hours=5)
    assert evaluate_alert_rules() == 1
    rule.refresh_from_db()
    assert rule.last_run_at is not None
    _opportunity(world, days=6)
    assert evaluate_alert_rules() == 0  # not due for another hour
    AlertRule.objects.filter(pk=rule.pk).update(last_run_at=timezone.now() - timedelta(hours=2))
    assert evaluate_alert_rules() == 1
    assert not Alert.objects.filter(rule=idle).exists()


def test_install_alert_rules_ships_every_condition_once(world):
    created = install_alert_rules()
    assert {rule.condition for rule in created} == set(AlertCondition.values)
    AlertRule.objects.filter(condition=AlertCondition.REGISTRATION_WAITING).update(threshold=24)
    assert install_alert_rules() == []
    assert AlertRule.objects.get(condition=AlertCondition.REGISTRATION_WAITING).threshold == 24


# --- the page, acknowledge and snooze ----------------------------------------------------------


def _alert(world, *, account=None, audience=AlertAudience.MANAGER, title="Registration waiting"):
    rule, _ = AlertRule.objects.get_or_create(
        name=f"Page rule {audience}",
        defaults={"condition": AlertCondition.REGISTRATION_WAITING, "audience": audience},
    )
    n = next(_serial)
    return Alert.objects.create(
        rule=rule,
        subject=f"registration:{n}",
        account=account or world.a,
        title=f"{title} {n}",
        why="Waiting 52 h for a decision (rule: more than 48 h)",
        action="Approve, return or reject it",
        url="/registrations/1/",
    )


def _row(alert) -> str:
    return f'id="alert-{alert.pk}"'


def test_the_page_lists_open_alerts_with_why_and_what_to_do(client, world):
    mine = _alert(world)
    other = _alert(world, account=world.b, title="Other book")
    cleared = _alert(world, title="Old news")
    Alert.objects.filter(pk=cleared.pk).update(cleared_at=timezone.now())
    login_as(client, world.manager)
    page = client.get(reverse("analytics:alert_list")).content.decode()
    assert mine.title in page
    assert "Waiting 52 h for a decision" in page and "Approve, return or reject it" in page
    assert other.title not in page  # another manager's partner
    assert cleared.title not in page  # cleared: not in the default list
    page = client.get(reverse("analytics:alert_list"), {"state": "cleared"}).content.decode()
    assert cleared.title in page and mine.title not in page


def test_empty_state_says_where_alerts_come_from(client, world):
    login_as(client, world.manager)
    page = client.get(reverse("analytics:alert_list")).content.decode()
    assert "Alerts appear here when a rule fires" in page


def test_acknowledge_takes_an_alert_off_the_default_list(client, world):
    alert = _alert(world)
    login_as(client, world.manager)
    response = client.post(reverse("analytics:alert_acknowledge", args=[alert.pk]))
    assert response.status_code == 302
    alert.refresh_from_db()
    assert alert.acknowledged_by == world.manager and alert.acknowledged_at is not None
    assert _row(alert) not in client.get(reverse("analytics:alert_list")).content.decode()
    page = client.get(reverse("analytics:alert_list"), {"state": "acknowledged"}).content.decode()
    assert alert.title in page and "Acknowledged by" in page


def test_acknowledge_with_htmx_returns_the_row(client, world):
    alert = _alert(world)
    login_as(client, world.manager)
    response = client.post(
        reverse("analytics:alert_acknowledge", args=[alert.pk]), headers={"HX-Request": "true"}
    )
    body = response.content.decode()
    assert response.status_code == 200
    assert f'id="alert-{alert.pk}"' in body and "Acknowledged" in body
    assert 'hx-swap-oob="true"' in body


def test_snooze_hides_an_alert_until_then(client, world):
    alert = _alert(world)
    login_as(client, world.manager)
    client.post(reverse("analytics:alert_snooze", args=[alert.pk]), {"length": "1w"})
    alert.refresh_from_db()
    assert alert.snoozed_until > timezone.now() + timedelta(days=6)
    assert _row(alert) not in client.get(reverse("analytics:alert_list")).content.decode()
    page = client.get(reverse("analytics:alert_list"), {"state": "snoozed"}).content.decode()
    assert alert.title in page and "Snoozed until" in page
    # Once the snooze is over it is back on the default list.
    Alert.objects.filter(pk=alert.pk).update(snoozed_until=timezone.now() - timedelta(minutes=1))
    assert alert.title in client.get(reverse("analytics:alert_list")).content.decode()


def test_a_bad_snooze_length_changes_nothing_and_says_why(client, world):
    alert = _alert(world)
    login_as(client, world.manager)
    response = client.post(
        reverse("analytics:alert_snooze", args=[alert.pk]), {"length": "forever"}, follow=True
    )
    alert.refresh_from_db()
    assert alert.snoozed_until is None
    assert "Choose how long to snooze" in response.content.decode()


def test_partner_admins_see_only_their_own_partner_alerts(client, world):
    internal = _alert(world, title="Manager business")
    theirs = _alert(world, audience=AlertAudience.PARTNER_ADMINS, title="Certificate expiring")
    others = _alert(
        world, account=world.b, audience=AlertAudience.PARTNER_ADMINS, title="Contoso cert"
    )
    login_as(client, world.partner_admin_a)
    page = client.get(reverse("analytics:alert_list")).content.decode()
    assert theirs.title in page
    assert internal.title not in page and others.title not in page
    assert (
        client.post(reverse("analytics:alert_acknowledge", args=[internal.pk])).status_code == 404
    )
    assert client.post(reverse("analytics:alert_snooze", args=[others.pk])).status_code == 404
    assert client.post(reverse("analytics:alert_acknowledge", args=[theirs.pk])).status_code == 302
    # The manager does not see the alert addressed to the partner's admins.
    login_as(client, world.manager)
    assert (
        theirs.title
        not in client.get(reverse("analytics:alert_list"), {"state": "all"}).content.decode()
    )


def test_members_and_other_companies_are_refused(client, world):
    alert = _alert(world)
    login_as(client, world.member_a)
    assert client.get(reverse("analytics:alert_list")).status_code == 403
    assert client.post(reverse("analytics:alert_acknowledge", args=[alert.pk])).status_code == 403
    login_as(client, world.other_manager)
    assert client.post(reverse("analytics:alert_acknowledge", args=[alert.pk])).status_code == 404
    assert client.post(reverse("analytics:alert_snooze", args=[alert.pk])).status_code == 404
    alert.refresh_from_db()
    assert alert.acknowledged_at is None and alert.snoozed_until is None


def test_filters_by_kind_and_partner(client, world):
    waiting = _alert(world, title="Waiting one")
    rule = _rule(AlertCondition.OPPORTUNITY_OVERDUE)
    overdue = Alert.objects.create(
        rule=rule, subject="opportunity:1", account=world.a_child, title="Overdue one", why="x",
        action="y",
    )  # fmt: skip
    login_as(client, world.manager)
    url = reverse("analytics:alert_list")
    page = client.get(url, {"condition": "opportunity_overdue"}).content.decode()
    assert overdue.title in page and waiting.title not in page
    page = client.get(url, {"partner": "retail"}).content.decode()
    assert overdue.title in page and waiting.title not in page
    page = client.get(url, {"since": "not a date"}).content.decode()
    assert "Enter a valid date" in page
