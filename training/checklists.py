"""Which onboarding steps the system can see done, evaluated in sets of accounts.

Each check answers for a whole list of account ids in one query (``satisfied``), so a refresh of
10 or 10,000 accounts costs the same handful of queries per batch.

What each automatic step means:

- ``profile_complete``: the fields a partner admin fills in on the company profile form
  (``partners.forms.PartnerProfileForm``) are all filled: website, phone, country, industry and
  "about the company". Region and tier are set by the vendor, so they do not count.
- ``colleague_invited``: at least two people of the account have portal access, counting a
  person once they have a login or an invitation that was not revoked (the first partner admin
  plus one colleague).
- ``course_completed``: a person of the account has a completed enrollment in the step's course.
- ``deal_registered``: not evaluated here. The deals app enqueues ``training.deal_registered``
  when a registration is submitted (training must not read deals).

A step that was ticked stays ticked: onboarding records that something happened once, so a
profile edited later does not untick "Complete your profile".
"""

from __future__ import annotations

from collections.abc import Iterable

from django.db.models import Count, Exists, OuterRef, Q

from partners.models import Contact, Invitation, PartnerAccount, PortalAccess
from training.models import Enrollment, EnrollmentStatus, StepCheck

__all__ = ["AUTOMATIC_CHECKS", "PROFILE_FIELDS", "accounts_with_complete_profile", "satisfied"]

#: The company profile fields a partner admin fills in themselves.
PROFILE_FIELDS = ("website", "phone", "country", "industry", "description")

#: The checks ``satisfied`` evaluates (``deal_registered`` is ticked by its task).
AUTOMATIC_CHECKS = (
    StepCheck.PROFILE_COMPLETE,
    StepCheck.COLLEAGUE_INVITED,
    StepCheck.COURSE_COMPLETED,
)


def accounts_with_complete_profile(account_ids: Iterable[int]) -> set[int]:
    accounts = PartnerAccount.objects.filter(pk__in=list(account_ids))
    for field in PROFILE_FIELDS:
        accounts = accounts.exclude(**{field: ""})
    return set(accounts.values_list("pk", flat=True))


def accounts_with_colleague(account_ids: Iterable[int]) -> set[int]:
    invited = Invitation.objects.filter(contact=OuterRef("pk"), revoked_at__isnull=True)
    people = (
        Contact.objects.filter(account_id__in=list(account_ids))
        .exclude(portal_access=PortalAccess.NONE)
        .filter(Q(user__isnull=False) | Exists(invited))
        .values("account_id")
        .annotate(people=Count("pk"))
        .filter(people__gte=2)
    )
    return {row["account_id"] for row in people}


def courses_completed(account_ids: Iterable[int], course_ids: Iterable[int]) -> set[tuple]:
    """(account id, course id) pairs where a person of the account completed the course."""
    course_ids = list(course_ids)
    if not course_ids:
        return set()
    done = (
        Enrollment.objects.filter(
            status=EnrollmentStatus.COMPLETED,
            course_id__in=course_ids,
            user__contact__account_id__in=list(account_ids),
        )
        .values_list("user__contact__account_id", "course_id")
        .distinct()
    )
    return set(done)


def satisfied(items) -> list:
    """The open ``ChecklistItem`` rows among ``items`` (with ``step`` loaded) that the system
    sees done: at most one query per kind of check, whatever the number of accounts."""
    by_check: dict[str, list] = {}
    for item in items:
        by_check.setdefault(item.step.ticks_when, []).append(item)
    done = []
    if StepCheck.PROFILE_COMPLETE in by_check:
        group = by_check[StepCheck.PROFILE_COMPLETE]
        complete = accounts_with_complete_profile({i.account_id for i in group})
        done += [i for i in group if i.account_id in complete]
    if StepCheck.COLLEAGUE_INVITED in by_check:
        group = by_check[StepCheck.COLLEAGUE_INVITED]
        invited = accounts_with_colleague({i.account_id for i in group})
        done += [i for i in group if i.account_id in invited]
    if StepCheck.COURSE_COMPLETED in by_check:
        group = [i for i in by_check[StepCheck.COURSE_COMPLETED] if i.step.course_id]
        pairs = courses_completed({i.account_id for i in group}, {i.step.course_id for i in group})
        done += [i for i in group if (i.account_id, i.step.course_id) in pairs]
    return done
