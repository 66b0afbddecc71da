"""Survey pages: the personal answer link (works signed out), the Surveys tab (a partner's own
open invitations and answers; the survey list for internal users) and a survey's results."""

from __future__ import annotations

import contextlib

from django.contrib.auth.decorators import login_required
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.cache import never_cache

from analytics import charts, surveys
from analytics.charts import Chart, Series, chart
from analytics.forms import SurveyAnswerForm
from analytics.models import Survey
from partners.models import PortalTab
from partners.navigation import require_tab
from prm.access import get_visible_or_404, role_of
from prm.views import page_of

TEXT_ANSWERS_PER_PAGE = 20


def _refused(request, refusal: surveys.LinkRefused):
    status, title, text = surveys.REFUSALS[refusal.reason]
    survey = refusal.invitation.survey if refusal.invitation is not None else None
    # Only the link's own person learns which survey it is (never the one who holds another's).
    if refusal.reason in ("invalid", "other_person"):
        survey = None
    return render(
        request,
        "prm/link_refused.html",
        {
            "title": title,
            "text": text,
            "eyebrow": survey.title if survey is not None else "",
            "next": reverse("home"),
            "next_label": "Go to the portal",
            "sign_in_label": "Sign in to the portal",
        },
        status=status,
    )


@never_cache
def survey_answer(request, token):
    """The personal link: the questions, then the answers stored once. No sign-in needed; it
    works for its own person only (someone else signed in gets a 403 page)."""
    try:
        invitation = surveys.invitation_for_link(token, request.user)
    except surveys.LinkRefused as refusal:
        if refusal.reason == "answered" and request.GET.get("thanks"):
            return render(
                request, "analytics/survey_thanks.html", {"survey": refusal.invitation.survey}
            )
        return _refused(request, refusal)
    survey = invitation.survey
    questions = surveys.questions_of(survey)
    form = SurveyAnswerForm(request.POST or None, questions=questions)
    if request.method == "POST" and form.is_valid():
        # A second submit (another tab, a double click) finds the first one stored: same thanks.
        with contextlib.suppress(surveys.AlreadyAnswered):
            surveys.submit_response(
                invitation=invitation, questions=questions, values=form.values()
            )
        return redirect(reverse("analytics:survey_answer", args=[token]) + "?thanks=1")
    return render(
        request,
        "analytics/survey_answer.html",
        {
            "survey": survey,
            "invitation": invitation,
            "form": form,
            "rows": form.rows(),
            "expires_at": timezone.localtime(invitation.expires_at),
        },
    )


@login_required
def survey_list(request):
    """The Surveys tab. Partners: the surveys waiting for them and their own past answers.
    Internal users: every survey with its invitations, responses and NPS over their partners."""
    role = role_of(request.user)
    if role.is_partner:
        require_tab(request, PortalTab.SURVEYS)
        page = page_of(
            request,
            surveys.own_responses(request.user).prefetch_related("answers__question"),
            10,
        )
        return render(
            request,
            "analytics/survey_list_partner.html",
            {"waiting": surveys.open_invitations_of(request.user), "page_obj": page},
        )
    if not role.is_internal:
        raise Http404("No surveys here.")
    page = page_of(request, surveys.surveys_with_counts(request.user), 25)
    today = timezone.localdate()
    for survey in page.object_list:
        survey.is_open = surveys.survey_is_open(survey, today)
        survey.response_rate = surveys.rate(survey.answered or 0, survey.invited or 0)
        survey.nps = surveys.net_promoter_score(
            survey.promoters, survey.detractors, survey.nps_answers
        )
    return render(
        request,
        "analytics/survey_list.html",
        {"page_obj": page, "is_admin": request.user.is_superuser},
    )


@login_required
def survey_results(request, pk):
    """One survey's results over the viewer's partners (internal users only: 404 otherwise)."""
    survey = get_visible_or_404(Survey.objects, request.user, pk=pk)
    results = surveys.survey_results(survey, request.user)
    answers = page_of(request, surveys.text_answers(survey, request.user), TEXT_ANSWERS_PER_PAGE)
    return render(
        request,
        "analytics/survey_results.html",
        {
            "survey": survey,
            "results": results,
            "is_open": surveys.survey_is_open(survey),
            "text_answers": answers,
            "nps_chart": charts.build("survey-nps-trend", _with_survey(request, survey)),
            "is_admin": request.user.is_superuser,
        },
    )


def _with_survey(request, survey):
    """The request as the chart builder reads it: ``?survey=<pk>`` (its CSV link keeps it)."""
    query = request.GET.copy()
    for key in list(query):
        if key != "survey":
            del query[key]
    query["survey"] = str(survey.pk)
    request = _Scoped(request, query)
    return request


class _Scoped:
    def __init__(self, request, query):
        self._request, self.GET = request, query

    def __getattr__(self, name):
        return getattr(self._request, name)


class NpsChart(Chart):
    """An NPS of 0 is a value, not "nothing": empty only when no quarter has answers."""

    @property
    def is_empty(self) -> bool:
        return all(v is None for s in self.series for v in s.values)


@chart("survey-nps-trend")
def nps_trend_chart(request) -> Chart:
    """A survey's NPS per quarter over the last six quarters, of the responses the viewer sees
    (one grouped query); ``?survey=<pk>``."""
    try:
        pk = int(request.GET.get("survey", ""))
    except ValueError as exc:
        raise Http404("Which survey?") from exc
    survey = get_visible_or_404(Survey.objects, request.user, pk=pk)
    quarters = surveys.trailing_quarters(6)
    points = surveys.nps_by_quarter(survey, request.user, quarters)
    values = [points.get(q.start, (None, 0))[0] for q in quarters]
    answered = sum(n for _, n in points.values())
    latest = next((v for v in reversed(values) if v is not None), None)
    summary = f"Net promoter score per quarter from {answered} answer{'s' if answered != 1 else ''}"
    summary += f"; latest {latest:+.0f}." if latest is not None else "."
    return NpsChart(
        key="survey-nps-trend",
        title="NPS by quarter",
        kind="line",
        categories=[q.label for q in quarters],
        series=[Series("NPS", values)],
        x_title="Quarter",
        y_title="NPS (−100 to 100)",
        summary=summary,
        empty_message="No 0–10 answers in the last six quarters yet.",
    )
