"""Feedback surveys: distribution in sets (idempotent, the fatigue rule, audience / tier / account
filters, quarterly occasions in the configured time zone, the deal-won and course-completed
triggers), invitation and reminder emails once each, and the results pages with their scoping."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from analytics import kpis, surveys
from analytics.models import (
    KpiCode,
    QuestionKind,
    Survey,
    SurveyAudienceRole,
    SurveyDistribution,
    SurveyInvitation,
    SurveyQuestion,
    SurveyResponse,
    SurveySettings,
    SurveyTrigger,
)
from partners.models import AccountStatus, PartnerAccount, PortalAccess, Tier
from prm.testing.fixtures import login_as
from prm.testing.world import make_partner_user

pytestmark = pytest.mark.django_db


def make_survey(title="Partner satisfaction", *, closes_on=None, active=True) -> Survey:
    survey = Survey.objects.create(title=title, closes_on=closes_on, active=active)
    SurveyQuestion.objects.create(
        survey=survey, position=1, kind=QuestionKind.NPS, text="How likely to recommend us?"
    )
    SurveyQuestion.objects.create(
        survey=survey, position=2, kind=QuestionKind.RATING, text="How is your manager?"
    )
    SurveyQuestion.objects.create(
        survey=survey,
        position=3,
        kind=QuestionKind.CHOICE,
        text="What first?",
        options="Leads\nTraining\nPortal",
    )
    SurveyQuestion.objects.create(
        survey=survey, position=4, kind=QuestionKind.TEXT, text="Anything else?", required=False
    )
    return survey


def distribute(survey, trigger=SurveyTrigger.ONCE, **fields) -> SurveyDistribution:
    tiers = fields.pop("tiers", [])
    accounts = fields.pop("accounts", [])
    distribution = SurveyDistribution.objects.create(
        survey=survey, name=f"{trigger} {survey.pk}", trigger=trigger, **fields
    )
    distribution.tiers.set(tiers)
    distribution.accounts.set(accounts)
    return distribution


def rules(fatigue_days=30, link_days=14) -> SurveySettings:
    settings = SurveySettings.current()
    settings.fatigue_days, settings.link_days = fatigue_days, link_days
    settings.save()
    return settings


def invited(**lookup) -> set:
    return set(SurveyInvitation.objects.filter(**lookup).values_list("user__email", flat=True))


def partner_users(account, count: int, *, start=0, access=PortalAccess.MEMBER) -> list:
    return [
        make_partner_user(account, f"p{i}@{account.pk}.example", access, first=f"P{i}")[0]
        for i in range(start, start + count)
    ]


WORLD_PEOPLE = {"alex@northwind.example", "jamie@northwind.example", "sam@contoso.example"}


# --- distribution -------------------------------------------------------------------------------


def test_a_once_distribution_asks_every_active_partner_user_once(world):
    rules()
    survey = make_survey()
    distribution = distribute(survey)
    assert surveys.distribute_due() == 3
    assert invited(distribution=distribution) == WORLD_PEOPLE
    assert set(SurveyInvitation.objects.values_list("occasion", flat=True)) == {"once"}
    # Running it again (the next hourly beat) issues nothing new.
    assert surveys.distribute_due() == 0
    assert SurveyInvitation.objects.count() == 3


def test_internal_users_blocked_accounts_and_people_without_access_are_never_asked(world):
    rules()
    distribute(make_survey())
    PartnerAccount.objects.filter(pk=world.b.pk).update(status=AccountStatus.SUSPENDED)
    world.member_a.is_active = False
    world.member_a.save()
    surveys.distribute_due()
    assert invited() == {"alex@northwind.example"}


def test_distribution_costs_the_same_queries_for_5_and_40_recipients(world):
    rules(fatigue_days=0)
    survey = make_survey()
    partner_users(world.a, 2)

    def measure(distribution) -> tuple[int, int]:
        with CaptureQueriesContext(connection) as queries:
            issued = surveys.distribute_due()
        SurveyDistribution.objects.filter(pk=distribution.pk).update(active=False)
        return issued, len(queries)

    small = measure(distribute(survey))
    partner_users(world.b, 35, start=100)
    big = measure(distribute(survey))
    assert (small[0], big[0]) == (5, 40)
    assert small[1] == big[1], "per-recipient queries in distribute_due"


def test_fatigue_rule_skips_whoever_was_asked_any_survey_recently(world):
    rules(fatigue_days=30)
    earlier = make_survey("Onboarding feedback")
    SurveyInvitation.objects.create(
        survey=earlier,
        distribution=distribute(earlier, active=False),
        user=world.member_a,
        account=world.a,
        occasion="once",
        expires_at=timezone.now() + timedelta(days=3),
    )
    SurveyInvitation.objects.filter(user=world.member_a).update(
        created_at=timezone.now() - timedelta(days=10)
    )
    survey = make_survey()
    distribute(survey)
    surveys.distribute_due()
    assert invited(survey=survey) == WORLD_PEOPLE - {"jamie@northwind.example"}

    # With a 7-day rule, ten days ago is long enough: Jamie is asked on the next run.
    rules(fatigue_days=7)
    surveys.distribute_due()
    assert "jamie@northwind.example" in invited(survey=survey)


def test_fatigue_rule_holds_within_one_run_across_surveys(world):
    rules(fatigue_days=30)
    first, second = make_survey("First"), make_survey("Second")
    distribute(first)
    distribute(second)
    assert surveys.distribute_due() == 3
    assert invited(survey=first) == WORLD_PEOPLE
    assert invited(survey=second) == set()


def test_audience_tier_and_account_filters(world):
    rules(fatigue_days=0)
    silver = Tier.objects.create(name="Silver", rank=20)
    PartnerAccount.objects.filter(pk=world.b.pk).update(tier=silver)
    admins = distribute(make_survey("Admins"), audience=SurveyAudienceRole.PARTNER_ADMIN)
    members = distribute(make_survey("Members"), audience=SurveyAudienceRole.PARTNER_MEMBER)
    of_silver = distribute(make_survey("Silver"), tiers=[silver])
    of_a = distribute(make_survey("Account A"), accounts=[world.a])
    surveys.distribute_due()
    assert invited(distribution=admins) == {"alex@northwind.example", "sam@contoso.example"}
    assert invited(distribution=members) == {"jamie@northwind.example"}
    assert invited(distribution=of_silver) == {"sam@contoso.example"}
    assert invited(distribution=of_a) == {"alex@northwind.example", "jamie@northwind.example"}


def test_closed_inactive_or_not_yet_started_distributions_issue_nothing(world):
    rules()
    today = timezone.localdate()
    distribute(make_survey("Closed", closes_on=today - timedelta(days=1)))
    distribute(make_survey("Switched off", active=False))
    distribute(make_survey("Paused"), active=False)
    distribute(make_survey("Later"), starts_on=today + timedelta(days=3))
    assert surveys.distribute_due() == 0
    assert not SurveyInvitation.objects.exists()


def test_quarterly_occasion_is_the_quarter_in_the_configured_time_zone(world, settings):
    settings.TIME_ZONE = "Europe/Berlin"
    rules(fatigue_days=0)
    distribution = distribute(make_survey(), SurveyTrigger.QUARTERLY)
    # 22:59 UTC on 31 December is 23:59 in Berlin: still Q4.
    assert surveys.distribute_due(now=datetime(2026, 12, 31, 22, 59, tzinfo=UTC)) == 3
    assert surveys.distribute_due(now=datetime(2026, 12, 31, 22, 59, 30, tzinfo=UTC)) == 0
    # 23:00 UTC is midnight in Berlin: Q1 2027 has begun, everyone is asked again, once.
    assert surveys.distribute_due(now=datetime(2026, 12, 31, 23, 0, tzinfo=UTC)) == 3
    assert surveys.distribute_due(now=datetime(2027, 1, 2, 9, 0, tzinfo=UTC)) == 0
    occasions = SurveyInvitation.objects.filter(distribution=distribution)
    assert sorted(set(occasions.values_list("occasion", flat=True))) == ["2026-Q4", "2027-Q1"]
    assert occasions.filter(occasion="2027-Q1").count() == 3


def test_quarterly_occasion_across_the_march_daylight_saving_change(world, settings):
    settings.TIME_ZONE = "Europe/Berlin"
    rules(fatigue_days=0)
    distribute(make_survey(), SurveyTrigger.QUARTERLY)
    # 31 March 2026 is in summer time (UTC+2): 22:00 UTC is already 1 April, Q2.
    assert surveys.quarter_occasion(datetime(2026, 3, 31, 21, 59, tzinfo=UTC)) == "2026-Q1"
    assert surveys.quarter_occasion(datetime(2026, 3, 31, 22, 0, tzinfo=UTC)) == "2026-Q2"
    hours = [datetime(2026, 3, 31, 20, tzinfo=UTC) + timedelta(hours=h) for h in range(6)]
    issued = [surveys.distribute_due(now=moment) for moment in hours]
    assert issued == [3, 0, 3, 0, 0, 0]


def test_invitation_links_expire_with_the_link_days_or_the_closing_day(world):
    rules(link_days=14)
    now = timezone.now()
    distribute(make_survey("Long"))
    closing = timezone.localdate(now) + timedelta(days=3)
    distribute(make_survey("Short", closes_on=closing))
    rules(fatigue_days=0, link_days=14)
    surveys.distribute_due(now=now)
    long = SurveyInvitation.objects.filter(survey__title="Long").first()
    short = SurveyInvitation.objects.filter(survey__title="Short").first()
    assert long.expires_at == now + timedelta(days=14)
    assert timezone.localtime(short.expires_at).date() == closing + timedelta(days=1)


# --- event triggers -----------------------------------------------------------------------------


def test_winning_a_deal_asks_its_owner_through_the_task(world, django_capture_on_commit_callbacks):
    from deals import services as deal_services
    from deals.models import Opportunity, PipelineStage

    rules()
    survey = make_survey("After a win")
    distribute(survey, SurveyTrigger.DEAL_WON)
    distribute(make_survey("Every quarter"), SurveyTrigger.QUARTERLY, active=False)
    deal = Opportunity.objects.create(
        account=world.a,
        owner=world.member_a,
        name="Big win",
        company="Customer Ltd",
        stage=PipelineStage.objects.order_by("position").first(),
        amount=Decimal(5000),
        close_date=timezone.localdate() + timedelta(days=10),
    )
    with django_capture_on_commit_callbacks(execute=True):
        deal_services.close_opportunity(
            actor=world.manager, opportunity=deal, won=True, reason="Signed"
        )
    invitation = SurveyInvitation.objects.get(survey=survey)
    assert (invitation.user, invitation.occasion) == (world.member_a, f"deal:{deal.pk}")
    # The same deal again (a retried task) asks nobody new.
    assert surveys.survey_after_deal_won([deal.pk]) == 0


def test_a_deal_owned_internally_asks_the_winning_partner_people_in_the_audience(world):
    from deals.models import Opportunity, PipelineStage

    rules(fatigue_days=0)
    survey = make_survey()
    distribute(survey, SurveyTrigger.DEAL_WON, audience=SurveyAudienceRole.PARTNER_ADMIN)
    deal = Opportunity.objects.create(
        account=world.a,
        owner=world.manager,
        name="Won",
        company="Customer Ltd",
        stage=PipelineStage.objects.order_by("position").first(),
        amount=1,
        close_date=date(2030, 1, 1),
        status="won",
    )
    lost = Opportunity.objects.create(
        account=world.b,
        owner=world.partner_admin_b,
        name="Lost",
        company="Other Ltd",
        stage=PipelineStage.objects.order_by("position").first(),
        amount=1,
        close_date=date(2030, 1, 1),
        status="lost",
    )
    assert surveys.survey_after_deal_won([deal.pk, lost.pk]) == 1
    assert invited(survey=survey) == {"alex@northwind.example"}


def test_completing_a_course_asks_the_learner(world, django_capture_on_commit_callbacks):
    from training import services as training_services
    from training.models import Course, Lesson

    rules()
    survey = make_survey("After a course")
    distribute(survey, SurveyTrigger.COURSE_COMPLETED)
    course = Course.objects.create(title="Basics", slug="basics", published=True)
    lesson = Lesson.objects.create(course=course, title="One", position=1, body="Text")
    enrollment = training_services.enroll(actor=world.member_a, course=course)
    with django_capture_on_commit_callbacks(execute=True):
        training_services.complete_lesson(
            actor=world.member_a, enrollment=enrollment, lesson=lesson
        )
    invitation = SurveyInvitation.objects.get(survey=survey)
    assert (invitation.user, invitation.occasion) == (world.member_a, f"course:{course.pk}")


# --- emails -------------------------------------------------------------------------------------


def test_each_invitation_is_emailed_once_with_its_personal_link(
    world, mailoutbox, django_capture_on_commit_callbacks
):
    rules()
    distribute(make_survey())
    with django_capture_on_commit_callbacks(execute=True):
        surveys.distribute_due()
    assert sorted(m.to[0] for m in mailoutbox) == sorted(WORLD_PEOPLE)
    message = next(m for m in mailoutbox if m.to == ["jamie@northwind.example"])
    invitation = SurveyInvitation.objects.get(user=world.member_a)
    link = surveys.answer_path(invitation)
    assert message.subject == "Partner satisfaction: a few questions for you"
    assert link in message.body
    html, kind = message.alternatives[0]
    assert kind == "text/html" and link in html
    # A retried task sends nothing twice.
    surveys.send_invitations([invitation.pk])
    assert len(mailoutbox) == 3


def test_non_responders_get_one_reminder(world, mailoutbox, django_capture_on_commit_callbacks):
    rules()
    survey = make_survey()
    distribute(survey, remind_after_days=5)
    surveys.distribute_due()
    answered = SurveyInvitation.objects.get(user=world.partner_admin_a)
    SurveyInvitation.objects.filter(pk=answered.pk).update(responded_at=timezone.now())
    now = timezone.now()
    assert surveys.remind_non_responders(now=now + timedelta(days=4)) == 0
    with django_capture_on_commit_callbacks(execute=True):
        assert surveys.remind_non_responders(now=now + timedelta(days=5, minutes=1)) == 2
    assert sorted(m.to[0] for m in mailoutbox) == ["jamie@northwind.example", "sam@contoso.example"]
    assert all(m.subject == "Reminder: Partner satisfaction" for m in mailoutbox)
    # Once: the next daily run reminds nobody; expired links are not reminded either.
    assert surveys.remind_non_responders(now=now + timedelta(days=6)) == 0
    assert SurveyInvitation.objects.filter(reminded_at__isnull=False).count() == 2


# --- satisfaction KPI ---------------------------------------------------------------------------


def answer_sheet(invitation, nps, *, rating=4, choice="Leads", text=""):
    questions = surveys.questions_of(invitation.survey)
    values = dict(zip([q.pk for q in questions], [nps, rating, choice, text], strict=True))
    return surveys.submit_response(invitation=invitation, questions=questions, values=values)


def invite(survey, user, account, occasion="once"):
    distribution = survey.distributions.first() or distribute(survey, active=False)
    return SurveyInvitation.objects.create(
        survey=survey,
        distribution=distribution,
        user=user,
        account=account,
        occasion=occasion,
        expires_at=timezone.now() + timedelta(days=14),
    )


def test_answers_feed_the_satisfaction_kpi_as_a_net_promoter_score(world):
    survey = make_survey()
    people = [world.partner_admin_a, world.member_a, *partner_users(world.a, 3)]
    for user, score in zip(people, [10, 9, 8, 6, 3], strict=True):
        answer_sheet(invite(survey, user, world.a), score)
    assert sorted(SurveyResponse.objects.values_list("nps", flat=True)) == [3, 6, 8, 9, 10]
    accounts = PartnerAccount.objects.visible_to(world.manager)
    values = kpis.compute(accounts, kpis.Period.current_quarter())[None]
    # 2 promoters (10, 9), 2 detractors (6, 3) of 5 answers: (2 − 2) / 5 = 0.
    assert values[KpiCode.SATISFACTION] == 0
    answer_sheet(invite(survey, partner_users(world.a, 1, start=50)[0], world.a), 10)
    values = kpis.compute(accounts, kpis.Period.current_quarter())[None]
    assert values[KpiCode.SATISFACTION] == pytest.approx(100 * (3 - 2) / 6, abs=0.1)


# --- results ------------------------------------------------------------------------------------


@pytest.fixture
def answered(world):
    """A's two people and B's admin answered; a third person of A was asked and has not."""
    survey = make_survey()
    answer_sheet(invite(survey, world.partner_admin_a, world.a), 10, rating=5, text="Great leads")
    answer_sheet(invite(survey, world.member_a, world.a), 4, rating=2, choice="Training")
    answer_sheet(invite(survey, world.partner_admin_b, world.b), 9, rating=3, text="Contoso secret")
    invite(survey, partner_users(world.a, 1)[0], world.a)
    return survey


def results_page(client, user, survey, query=""):
    login_as(client, user)
    return client.get(reverse("analytics:survey_results", args=[survey.pk]) + query)


def figure(body: str, name: str) -> str:
    start = body.index(f'data-figure="{name}">') + len(f'data-figure="{name}">')
    return body[start : body.index("<", start)]


def test_results_for_the_admin_cover_every_partner(client, world, answered):
    body = results_page(client, world.admin, answered).content.decode()
    assert [figure(body, n) for n in ("invited", "answered", "rate", "nps")] == [
        "4",
        "3",
        "75%",
        "33",  # promoters 10, 9; detractor 4: (2 − 1) / 3
    ]
    assert "Contoso secret" in body and "Great leads" in body
    assert "Northwind Systems" in body and "Contoso Partners" in body
    results = surveys.survey_results(answered, world.admin)
    rating = next(s for s in results.scores if s.question.kind == QuestionKind.RATING)
    assert (rating.overall, rating.answers) == (pytest.approx(3.3, abs=0.05), 3)
    choice = results.choices[0]
    assert [(o, n) for o, n, _ in choice[1]] == [("Leads", 2), ("Training", 1), ("Portal", 0)]


def test_a_manager_sees_only_their_partners_answers(client, world, answered):
    body = results_page(client, world.manager, answered).content.decode()
    assert [figure(body, n) for n in ("invited", "answered", "nps")] == ["3", "2", "0"]
    assert "Great leads" in body
    assert "Contoso secret" not in body and "Contoso Partners" not in body
    other = results_page(client, world.other_manager, answered).content.decode()
    assert [figure(other, n) for n in ("invited", "answered", "nps")] == ["1", "1", "100"]
    assert "Contoso secret" in other and "Great leads" not in other


def test_scores_per_tier_are_grouped_by_the_partner_tier(world, answered):
    silver = Tier.objects.create(name="Silver", rank=20)
    PartnerAccount.objects.filter(pk=world.b.pk).update(tier=silver)
    results = surveys.survey_results(answered, world.admin)
    names = [row[1] for row in results.tiers]
    rating = next(s for s in results.scores if s.question.kind == QuestionKind.RATING)
    by_name = dict(zip(names, rating.by_tier, strict=True))
    assert by_name == {"Gold": 3.5, "Silver": 3.0}
    tiers = {row[1]: row[2:] for row in results.tiers}
    assert tiers["Gold"] == (3, 2, pytest.approx(66.7), 0.0)
    assert tiers["Silver"] == (1, 1, 100.0, 100.0)


def test_partners_never_reach_results(client, world, answered):
    for persona in ("partner_admin_a", "member_a", "partner_admin_b"):
        assert results_page(client, getattr(world, persona), answered).status_code == 404
        response = client.get(
            reverse("analytics:chart_csv", args=["survey-nps-trend"]) + f"?survey={answered.pk}"
        )
        assert response.status_code == 404


def test_the_nps_trend_chart_has_the_quarter_figures(client, world, answered):
    login_as(client, world.manager)
    response = client.get(
        reverse("analytics:chart_csv", args=["survey-nps-trend"]) + f"?survey={answered.pk}"
    )
    rows = b"".join(response.streaming_content).decode().strip().splitlines()
    this_quarter = kpis.Period.current_quarter().label
    assert rows[-1] == f"{this_quarter},0.0"  # A only: 10 and 4 → (1 − 1) / 2
    assert len(rows) == 7  # the header and six quarters


def test_free_text_answers_are_paginated_newest_first(client, world):
    survey = make_survey()
    people = partner_users(world.a, 23)
    base = timezone.now() - timedelta(days=1)
    for i, user in enumerate(people):
        answer_sheet(invite(survey, user, world.a), 9, text=f"Comment {i:02d}")
        SurveyResponse.objects.filter(user=user).update(submitted_at=base + timedelta(minutes=i))
    body = results_page(client, world.manager, survey).content.decode()
    assert body.index("Comment 22") < body.index("Comment 21")
    assert "Comment 02" not in body
    second = results_page(client, world.manager, survey, "?page=2").content.decode()
    assert "Comment 02" in second and "Comment 00" in second and "Comment 22" not in second


# --- the Surveys tab ----------------------------------------------------------------------------


def test_internal_survey_list_counts_what_the_viewer_sees(client, world, answered):
    login_as(client, world.manager)
    body = client.get(reverse("analytics:survey_list")).content.decode()
    assert "Partner satisfaction" in body
    assert reverse("analytics:survey_results", args=[answered.pk]) in body
    row = body[body.index("Partner satisfaction") :]
    cells = [c.split("<")[0].strip() for c in row.split('class="text-end">')[1:5]]
    assert cells == ["3", "2", "67%", "0"]


def test_a_partner_sees_their_open_invitations_and_own_answers_only(client, world, answered):
    waiting = make_survey("Quarterly check-in")
    invite(waiting, world.member_a, world.a)
    invite(waiting, world.partner_admin_a, world.a)
    login_as(client, world.member_a)
    body = client.get(reverse("analytics:survey_list")).content.decode()
    assert "Surveys waiting for you" in body and "Quarterly check-in" in body
    mine = SurveyInvitation.objects.get(survey=waiting, user=world.member_a)
    colleague = SurveyInvitation.objects.get(survey=waiting, user=world.partner_admin_a)
    assert surveys.answer_path(mine) in body
    assert surveys.answer_path(colleague) not in body
    assert "Training" in body  # Jamie's own choice
    assert "Great leads" not in body and "Contoso secret" not in body
    login_as(client, world.partner_admin_b)
    body = client.get(reverse("analytics:survey_list")).content.decode()
    assert "Contoso secret" in body and "Great leads" not in body
    assert "Quarterly check-in" not in body


# --- demo ---------------------------------------------------------------------------------------


def test_demo_survey_has_answers_with_detractors_and_is_seeded_once(world):
    from collections import Counter
    from types import SimpleNamespace

    from analytics.demo import seed_surveys

    report = SimpleNamespace(created=Counter())
    seed_surveys(report)
    seed_surveys(report)
    survey = Survey.objects.get(title="Partner satisfaction")
    assert report.created["surveys"] == 1
    kinds = sorted(survey.questions.values_list("kind", flat=True))
    assert kinds == ["choice", "nps", "rating", "text"]
    assert survey.distributions.get().trigger == SurveyTrigger.QUARTERLY
    scores = list(SurveyResponse.objects.values_list("nps", flat=True))
    assert len(scores) >= 10 and min(scores) <= 6
    # This quarter's invitations wait for some of the people, with links that work.
    waiting = surveys.open_invitations_of(world.member_a) or surveys.open_invitations_of(
        world.partner_admin_b
    )
    assert waiting


# --- admin --------------------------------------------------------------------------------------


def _question_formset(survey, rows):
    from django.forms import inlineformset_factory

    from analytics.admin import SurveyQuestionFormSet

    formset_class = inlineformset_factory(
        Survey,
        SurveyQuestion,
        formset=SurveyQuestionFormSet,
        fields=("position", "text", "kind", "options", "required"),
        extra=len(rows),
    )
    data = {"questions-TOTAL_FORMS": str(len(rows)), "questions-INITIAL_FORMS": "0"}
    for i, (kind, options) in enumerate(rows):
        data |= {
            f"questions-{i}-position": str(i),
            f"questions-{i}-text": f"Question {i}",
            f"questions-{i}-kind": kind,
            f"questions-{i}-options": options,
            f"questions-{i}-required": "on",
        }
    return formset_class(data, instance=survey, prefix="questions")


def test_admin_refuses_a_choice_without_options_and_a_second_nps_question(world):
    survey = Survey.objects.create(title="Draft")
    formset = _question_formset(survey, [("nps", ""), ("choice", "  \n"), ("nps", "")])
    assert not formset.is_valid()
    assert formset.forms[1].errors["options"] == [
        "A choice question needs its options, one per line."
    ]
    assert "one 0–10 (NPS) question at most" in formset.forms[2].errors["kind"][0]
    assert _question_formset(survey, [("nps", ""), ("choice", "A\nB"), ("text", "")]).is_valid()
