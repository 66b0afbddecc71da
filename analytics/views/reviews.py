"""Quarterly reviews: the list (a partner's own; an internal user's book, with filters), the
quarterly business review page (printable), the manager's edit form (comments, next quarter's
targets, "apply the proposed goals") and the partner admin's acknowledgement."""

from __future__ import annotations

from django import forms
from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_POST

from analytics import kpis
from analytics import reviews as review_service
from analytics.models import KpiDefinition, QuarterlyReview
from partners.models import PortalTab
from partners.navigation import require_tab
from prm.access import get_visible_or_404, require, role_of
from prm.views import apply_errors, page_of

REVIEWS_PER_PAGE = 25
ACKNOWLEDGED_CHOICES = {"": "Any", "yes": "Acknowledged", "no": "Waiting"}


def _portal(request) -> None:
    if role_of(request.user).is_partner:
        require_tab(request, PortalTab.DASHBOARD)


def _quarter_filter(request) -> kpis.Period | None:
    text = request.GET.get("quarter", "").strip()
    if not text:
        return None
    try:
        return kpis.Period.quarter(kpis.Period.parse(text).start)
    except ValueError:
        messages.warning(
            request, f"“{text[:40]}” is not a quarter (try 2026-Q3), so every quarter is listed."
        )
        return None


@login_required
def review_list(request):
    """A partner's reviews (its own account's); for internal users, the reviews of their book
    with filters: quarter, acknowledged or waiting, partner name."""
    _portal(request)
    role = role_of(request.user)
    reviews = QuarterlyReview.objects.visible_to(request.user).select_related(
        "account", "acknowledged_by"
    )
    quarter = _quarter_filter(request)
    acknowledged = request.GET.get("acknowledged", "")
    if acknowledged not in ACKNOWLEDGED_CHOICES:
        messages.warning(request, "Choose acknowledged or waiting: every review is listed.")
        acknowledged = ""
    query = request.GET.get("q", "").strip()[:100]
    if quarter is not None:
        reviews = reviews.filter(quarter=quarter.start)
    if acknowledged:
        reviews = reviews.filter(acknowledged_at__isnull=acknowledged == "no")
    if query and role.is_internal:
        reviews = reviews.filter(account__name__icontains=query)
    account = request.GET.get("account", "")
    if account.isdigit():  # from a partner's page (still within visible_to)
        reviews = reviews.filter(account_id=int(account))
    page = page_of(request, reviews.order_by("-quarter", "account__name", "pk"), REVIEWS_PER_PAGE)
    rows = list(page.object_list)
    for item in rows:
        item.achieved, item.goal_count = review_service.achieved_summary(item)
    this_quarter = kpis.Period.current_quarter()
    quarters = [this_quarter.previous()]
    for _ in range(7):
        quarters.append(quarters[-1].previous())
    return render(
        request,
        "analytics/review_list.html",
        {
            "page_obj": page,
            "reviews": rows,
            "is_internal": role.is_internal,
            "quarter": quarter,
            "quarters": quarters,
            "acknowledged": acknowledged,
            "acknowledged_choices": ACKNOWLEDGED_CHOICES.items(),
            "q": query,
            "filtered": bool(quarter or acknowledged or query or account.isdigit()),
        },
    )


def _review(request, pk) -> QuarterlyReview:
    return get_visible_or_404(
        QuarterlyReview.objects.select_related("account__manager", "acknowledged_by"),
        request.user,
        pk=pk,
    )


def _page_context(request, review: QuarterlyReview) -> dict:
    definitions = {d.code: d for d in KpiDefinition.objects.all()}
    achieved, goal_count = review_service.achieved_summary(review)
    quarter = kpis.Period.quarter(review.quarter)
    return {
        "review": review,
        "figures": review.figures,
        "kpi_rows": review_service.kpi_rows(review),
        "quarter": quarter,
        "next_quarter": quarter.next(),
        "currency": review.figures.get("currency") or settings.PRM_REPORTING_CURRENCY,
        "proposals": review_service.proposal_rows(review, definitions),
        "proposal_rule": review_service.PROPOSAL_RULE,
        "achieved": achieved,
        "goal_count": goal_count,
        "can_edit": review_service.can_edit(request.user, review),
        "can_acknowledge": review_service.can_acknowledge(request.user, review)
        and review.acknowledged_at is None,
        "is_internal": role_of(request.user).is_internal,
    }


@login_required
def review(request, pk):
    """The quarterly business review page (prints cleanly)."""
    _portal(request)
    found = _review(request, pk)
    return render(request, "analytics/review.html", _page_context(request, found))


class ReviewForm(forms.Form):
    """The manager's comments and one target field per proposed goal (``target_<kpi>``)."""

    manager_comments = forms.CharField(
        label="Your comments",
        required=False,
        max_length=4000,
        widget=forms.Textarea(attrs={"rows": 6}),
        help_text="What went well, what to work on next quarter. The partner reads this.",
    )

    def __init__(self, *args, proposals=(), currency="", **kwargs):
        super().__init__(*args, **kwargs)
        self.proposal_codes = []
        for item in proposals:
            code = item["kpi"]
            unit = {"money": currency, "percent": "%", "hours": "h", "days": "days"}.get(
                item["unit"], ""
            )
            self.fields[f"target_{code}"] = forms.CharField(
                label=f"{item['label']}" + (f" ({unit})" if unit else ""),
                required=False,
                max_length=30,
                initial=item["target"],
                help_text="Leave empty to drop this goal.",
                widget=forms.TextInput(attrs={"inputmode": "decimal"}),
            )
            self.proposal_codes.append(code)

    def target_fields(self):
        return [self[f"target_{code}"] for code in self.proposal_codes]


def _form(review, context, data=None):
    return ReviewForm(
        data,
        proposals=context["proposals"],
        currency=context["currency"],
        initial={"manager_comments": review.manager_comments},
    )


@login_required
def review_edit(request, pk):
    """The account's manager (or an admin): comments, next quarter's targets, and "apply the
    proposed goals" (sets them as next quarter's goals, all or none)."""
    _portal(request)
    found = _review(request, pk)
    require(review_service.can_edit(request.user, found), "Only the manager edits the review.")
    context = _page_context(request, found)
    url = reverse("analytics:review", args=[found.pk])
    if request.method == "POST" and "apply" in request.POST:
        try:
            goals = review_service.apply_proposed_goals(actor=request.user, review=found)
        except ValidationError as error:
            messages.error(request, " ".join(error.messages))
            return redirect(reverse("analytics:review_edit", args=[found.pk]))
        messages.success(
            request,
            f"{len(goals)} goal{'s' if len(goals) != 1 else ''} set for "
            f"{context['next_quarter'].label}. The partner's admins have been told.",
        )
        return redirect(url)
    form = _form(found, context, request.POST if request.method == "POST" else None)
    if request.method == "POST" and form.is_valid():
        try:
            review_service.update_review(
                actor=request.user,
                review=found,
                comments=form.cleaned_data["manager_comments"],
                targets={code: form.cleaned_data[f"target_{code}"] for code in form.proposal_codes},
            )
        except ValidationError as error:
            apply_errors(form, error)
        else:
            messages.success(request, "Review saved.")
            return redirect(url)
    return render(request, "analytics/review_form.html", {**context, "form": form})


@login_required
@require_POST
def review_acknowledge(request, pk):
    """The account's partner admins acknowledge the review, once; the manager is told."""
    _portal(request)
    found = _review(request, pk)
    require(
        review_service.can_acknowledge(request.user, found),
        "Only your company's partner admins acknowledge the review.",
    )
    try:
        review_service.acknowledge_review(actor=request.user, review=found)
    except ValidationError as error:
        messages.info(request, " ".join(error.messages))
    else:
        messages.success(request, "Thank you: your partner manager has been told.")
    return redirect(reverse("analytics:review", args=[found.pk]))


__all__ = ["review", "review_acknowledge", "review_edit", "review_list"]
