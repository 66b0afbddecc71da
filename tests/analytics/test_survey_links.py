"""The personal survey link: it works signed out for its own person; a tampered, expired, closed,
answered or someone else's link gets a clear page (403/410, never a 500); answers are checked per
question with the message at the question; a double submit stores one response."""

from __future__ import annotations

from datetime import timedelta
from unittest import mock

import pytest
from django.core import signing
from django.urls import reverse
from django.utils import timezone

from analytics import surveys
from analytics.models import Survey, SurveyAnswer, SurveyInvitation, SurveyResponse
from prm.testing.fixtures import login_as
from tests.analytics.test_surveys import distribute, make_survey

pytestmark = pytest.mark.django_db


@pytest.fixture
def survey(world):
    return make_survey()


@pytest.fixture
def invitation(world, survey):
    return SurveyInvitation.objects.create(
        survey=survey,
        distribution=distribute(survey, active=False),
        user=world.member_a,
        account=world.a,
        occasion="once",
        expires_at=timezone.now() + timedelta(days=14),
    )


def link(invitation) -> str:
    return surveys.answer_path(invitation)


def fields(survey) -> dict:
    return {q.kind: f"q{q.pk}" for q in surveys.questions_of(survey)}


def good_answers(survey, **overrides) -> dict:
    names = fields(survey)
    data = {names["nps"]: "9", names["rating"]: "4", names["choice"]: "Portal", names["text"]: ""}
    data.update({names[kind]: value for kind, value in overrides.items()})
    return data


def refused(response, status: int, heading: str) -> str:
    body = response.content.decode()
    assert response.status_code == status, (response.status_code, body[:500])
    assert heading in body
    main = body[body.index("<main") : body.index("</main>")]
    assert "Send my answers" not in main  # no form on a refusal page
    return main


def test_the_link_works_signed_out_and_shows_the_questions(client, invitation, survey):
    response = client.get(link(invitation))
    body = response.content.decode()
    assert response.status_code == 200
    assert "Partner satisfaction" in body and "How likely to recommend us?" in body
    assert "Northwind Systems" in body
    assert body.count('type="radio"') == 11 + 5 + 3


def test_the_link_works_for_its_own_person_signed_in(client, world, invitation):
    login_as(client, world.member_a)
    assert client.get(link(invitation)).status_code == 200


def test_a_tampered_link_is_not_valid(client, invitation):
    token = surveys.link_token(invitation)
    flipped = token[:-1] + ("A" if token[-1] != "A" else "B")
    for bad in (flipped, token.replace(":", ":A", 1), "nonsense", "1:2"):
        response = client.get(reverse("analytics:survey_answer", args=[bad]))
        refused(response, 403, "This link is not valid")
    # Signed right but for another invitation id (or another person): still not valid.
    forged = signing.dumps([invitation.pk, invitation.user_id + 999], salt=surveys.LINK_SALT)
    refused(client.get(reverse("analytics:survey_answer", args=[forged])), 403, "not valid")
    other_salt = signing.dumps([invitation.pk, invitation.user_id])
    refused(client.get(reverse("analytics:survey_answer", args=[other_salt])), 403, "not valid")


def test_an_expired_link_is_refused(client, invitation):
    SurveyInvitation.objects.filter(pk=invitation.pk).update(
        expires_at=timezone.now() - timedelta(minutes=1)
    )
    refused(client.get(link(invitation)), 410, "This link has expired")
    refused(client.post(link(invitation), good_answers(invitation.survey)), 410, "expired")
    assert not SurveyResponse.objects.exists()


@pytest.mark.parametrize("persona", ["partner_admin_a", "partner_admin_b", "manager", "admin"])
def test_someone_else_signed_in_is_refused_without_learning_whose_link_it_is(
    client, world, invitation, persona
):
    login_as(client, getattr(world, persona))
    body = refused(client.get(link(invitation)), 403, "This link belongs to another person")
    for secret in ("Jamie", "jamie@northwind.example", "Partner satisfaction", "Northwind"):
        assert secret not in body, secret
    refused(client.post(link(invitation), good_answers(invitation.survey)), 403, "another person")
    assert not SurveyResponse.objects.exists()


def test_a_closed_survey_takes_no_answers(client, invitation, survey):
    Survey.objects.filter(pk=survey.pk).update(closes_on=timezone.localdate() - timedelta(days=1))
    refused(client.get(link(invitation)), 410, "This survey is closed")
    Survey.objects.filter(pk=survey.pk).update(closes_on=None, active=False)
    refused(client.post(link(invitation), good_answers(survey)), 410, "This survey is closed")
    assert not SurveyResponse.objects.exists()


def test_submitting_stores_the_answers_once_and_thanks(client, invitation, survey):
    data = good_answers(survey, text="Faster approvals, please")
    response = client.post(link(invitation), data)
    assert response.status_code == 302
    assert response["Location"].endswith("?thanks=1")
    thanks = client.get(response["Location"])
    assert thanks.status_code == 200 and "your answers are in" in thanks.content.decode()
    stored = SurveyResponse.objects.get()
    assert (stored.user, stored.account, stored.nps) == (invitation.user, invitation.account, 9)
    answers = {a.question.kind: a for a in SurveyAnswer.objects.select_related("question")}
    assert (answers["nps"].number, answers["rating"].number) == (9, 4)
    assert answers["choice"].choice == "Portal"
    assert answers["text"].text == "Faster approvals, please"
    invitation.refresh_from_db()
    assert invitation.responded_at is not None


def test_an_answered_link_says_thanks_and_shows_no_answers(client, invitation, survey):
    client.post(link(invitation), good_answers(survey, text="Private remark"))
    body = refused(client.get(link(invitation)), 410, "Thanks — you already answered")
    assert "Private remark" not in body and "Portal" not in body


def test_a_double_submit_stores_one_response(client, invitation, survey):
    data = good_answers(survey)
    first = client.post(link(invitation), data)
    second = client.post(link(invitation), data)
    assert first.status_code == 302
    refused(second, 410, "you already answered")
    assert SurveyResponse.objects.count() == 1
    assert SurveyAnswer.objects.count() == 3  # the optional text was left empty


def test_two_submits_racing_past_the_check_store_one_response(client, invitation, survey):
    """Both requests found the invitation unanswered; the OneToOne keeps the second out and it
    gets the same thanks, not a 500."""
    stale = SurveyInvitation.objects.select_related("survey", "account", "user").get(
        pk=invitation.pk
    )
    surveys.submit_response(
        invitation=stale,
        questions=surveys.questions_of(survey),
        values={
            q.pk: v for q, v in zip(surveys.questions_of(survey), [3, 1, "Leads", ""], strict=True)
        },
    )
    with mock.patch.object(surveys, "invitation_for_link", return_value=stale):
        response = client.post(link(invitation), good_answers(survey))
    assert response.status_code == 302 and response["Location"].endswith("?thanks=1")
    assert SurveyResponse.objects.get().nps == 3
    with pytest.raises(surveys.AlreadyAnswered):
        surveys.submit_response(invitation=stale, questions=surveys.questions_of(survey), values={})


def test_each_answer_is_checked_at_its_question_and_the_form_comes_back_filled(
    client, invitation, survey
):
    names = fields(survey)
    long_text = "x" * 4001
    data = {
        names["nps"]: "11",
        names["rating"]: "",
        names["choice"]: "Bribes",
        names["text"]: long_text,
    }
    response = client.post(link(invitation), data)
    body = response.content.decode()
    assert response.status_code == 200
    assert "Choose a score from 0 to 10." in body
    assert "Choose a score from 1 to 5." in body
    assert "Choose one of the options listed." in body
    assert "Keep your answer under 4,000 characters (it has 4001)." in body
    assert long_text in body  # what was typed is kept
    assert not SurveyResponse.objects.exists()
    # A valid score is kept checked while another answer is fixed.
    data = good_answers(survey, nps="7", rating="")
    body = client.post(link(invitation), data).content.decode()
    assert f'name="{names["nps"]}" id="id_{names["nps"]}_7" value="7" checked' in body
    assert "Choose a score from 1 to 5." in body


def test_an_unknown_user_id_or_deactivated_person_is_not_valid(client, world, invitation):
    world.member_a.is_active = False
    world.member_a.save()
    refused(client.get(link(invitation)), 403, "This link is not valid")
