"""Onboarding checklists: each account gets its tier's checklist, the steps the system can see
tick themselves (profile, colleague, course, first deal), partner admins tick the rest, other
companies get 404, and the portal home shows the progress."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.urls import reverse
from django.utils import timezone

from deals import services as deal_services
from deals.models import DealRegistration, Product
from partners.models import AuditEntry
from prm.testing.fixtures import login_as
from prm.testing.world import make_invitation
from training import services
from training.models import ChecklistItem, ChecklistStep, ChecklistTemplate, Course, Lesson
from training.tasks import refresh_checklists

pytestmark = pytest.mark.django_db

PAGE = reverse("training:onboarding")


@pytest.fixture
def basics():
    course = Course.objects.create(title="Partner basics", slug="partner-basics", published=True)
    Lesson.objects.create(course=course, title="Welcome", position=1)
    return course


@pytest.fixture
def templates(world, basics):
    """The Gold checklist (A and B are Gold): six steps, two of them manual; and a default."""
    gold = ChecklistTemplate.objects.create(name="Gold onboarding", tier=world.tier)
    steps = {}
    for position, (key, title, ticks_when) in enumerate(
        [
            ("profile", "Complete your company profile", "profile_complete"),
            ("colleague", "Invite a colleague", "colleague_invited"),
            ("course", "Finish Partner basics", "course_completed"),
            ("kickoff", "Hold the kick-off call", "manual"),
            ("plan", "Agree on a joint business plan", "manual"),
            ("deal", "Register a first deal", "deal_registered"),
        ],
        1,
    ):
        steps[key] = ChecklistStep.objects.create(
            template=gold,
            position=position,
            title=title,
            ticks_when=ticks_when,
            course=basics if ticks_when == "course_completed" else None,
        )
    default = ChecklistTemplate.objects.create(name="Getting started")
    ChecklistStep.objects.create(template=default, title="Say hello", position=1)
    return steps


def item(account, step) -> ChecklistItem:
    services.ensure_checklist(account)
    return ChecklistItem.objects.get(account=account, step=step)


def done(account, step) -> bool:
    return item(account, step).done_at is not None


def complete_profile(account):
    account.website = account.website or "https://example.com"
    account.phone, account.industry = "+49 30 1234", "software"
    account.country, account.description = account.country or "Germany", "We sell networks."
    account.save()


# --- the checklist an account gets ----------------------------------------------------------


def test_each_account_gets_its_tiers_checklist_once(world, templates):
    services.ensure_checklist(world.a)
    services.ensure_checklist(world.a)  # idempotent
    assert ChecklistItem.objects.filter(account=world.a).count() == 6
    world.a.tier = None
    world.a.save()
    services.ensure_checklist(world.a)
    titles = [i.step.title for i in services.checklist_of(world.a)]
    assert titles == ["Say hello"]  # no tier: the default checklist


# --- steps that tick themselves -------------------------------------------------------------


def test_completing_the_profile_ticks_the_step_on_refresh(world, templates):
    services.ensure_checklist(world.b)
    services.refresh_automatic_steps([world.b.pk])
    assert not done(world.b, templates["profile"])  # phone, industry, description missing
    complete_profile(world.b)
    assert services.refresh_automatic_steps([world.b.pk]) == 1
    ticked = item(world.b, templates["profile"])
    assert ticked.done_at and ticked.ticked_automatically and ticked.done_by is None
    world.b.phone = ""
    world.b.save()
    services.refresh_automatic_steps([world.b.pk])
    assert done(world.b, templates["profile"])  # once done, stays done


def test_inviting_a_colleague_ticks_the_step(world, templates):
    services.ensure_checklist(world.b)
    services.refresh_automatic_steps([world.b.pk])
    assert not done(world.b, templates["colleague"])  # B's admin is alone
    make_invitation(world.contact_plain_b, invited_by=world.partner_admin_b)
    refresh_checklists()  # the hourly sweep
    assert done(world.b, templates["colleague"])


def test_a_course_completed_through_the_training_services_ticks_the_step(world, templates, basics):
    services.ensure_checklist(world.a)
    services.refresh_automatic_steps([world.a.pk])
    assert not done(world.a, templates["course"])
    enrollment = services.enroll(actor=world.member_a, course=basics)
    services.complete_lesson(
        actor=world.member_a, enrollment=enrollment, lesson=basics.lessons.get()
    )
    refresh_checklists()
    assert done(world.a, templates["course"])
    assert not done(world.b, templates["course"])  # another company's course is not A's


def test_a_registration_submitted_through_deals_ticks_first_deal(
    world, templates, django_capture_on_commit_callbacks
):
    services.ensure_checklist(world.a)
    product = Product.objects.create(name="Gateway", sku="GW-1", family="Network", list_price=100)
    draft = deal_services.save_registration(
        actor=world.member_a,
        registration=DealRegistration(
            company="Acme Inc.",
            domain="acme.com",
            contact_name="Wile E. Coyote",
            contact_email="wile@acme.com",
            amount=Decimal("25000"),
            expected_close_date=timezone.localdate() + timedelta(days=60),
        ),
        lines=[(product, 3)],
    )
    assert not done(world.a, templates["deal"])
    with django_capture_on_commit_callbacks(execute=True):
        deal_services.submit_registration(actor=world.member_a, registration=draft)
    first_deal = item(world.a, templates["deal"])
    assert first_deal.done_at and first_deal.ticked_automatically
    assert not done(world.b, templates["deal"])
    services.mark_deal_registered(world.a.pk)  # a second deal changes nothing
    assert item(world.a, templates["deal"]).done_at == first_deal.done_at


# --- manual steps -----------------------------------------------------------------------------


def test_partner_admin_ticks_and_unticks_manual_steps(world, templates):
    kickoff = item(world.a, templates["kickoff"])
    ticked = services.tick_step(actor=world.partner_admin_a, item=kickoff)
    assert ticked.done_by == world.partner_admin_a and not ticked.ticked_automatically
    assert AuditEntry.objects.filter(account=world.a, message__contains="kick-off").exists()
    services.untick_step(actor=world.partner_admin_a, item=kickoff)
    assert not done(world.a, templates["kickoff"])


@pytest.mark.parametrize("persona", ["member_a", "partner_admin_b", "manager", "admin"])
def test_only_the_accounts_partner_admins_tick(world, templates, persona):
    kickoff = item(world.a, templates["kickoff"])
    with pytest.raises(PermissionDenied):
        services.tick_step(actor=getattr(world, persona), item=kickoff)
    assert not done(world.a, templates["kickoff"])


def test_automatic_steps_cannot_be_ticked_by_hand(world, templates):
    with pytest.raises(ValidationError):
        services.tick_step(actor=world.partner_admin_a, item=item(world.a, templates["deal"]))


# --- pages --------------------------------------------------------------------------------


def test_checklist_page_shows_progress_and_tick_buttons_for_partner_admins(
    client, world, templates
):
    login_as(client, world.partner_admin_a)
    page = client.get(PAGE).content.decode()
    # A: two people with logins (colleague done); profile, course, manual, deal open.
    assert "1 of 6 done" in page
    assert page.count("Mark done") == 2
    kickoff = item(world.a, templates["kickoff"])
    answer = client.post(
        reverse("training:onboarding_tick", args=[kickoff.pk]),
        {"done": "1"},
        HTTP_HX_REQUEST="true",
    )
    assert answer.status_code == 200
    assert "2 of 6 done" in answer.content.decode() and "Untick" in answer.content.decode()
    assert done(world.a, templates["kickoff"])


def test_members_read_the_checklist_but_cannot_tick(client, world, templates):
    login_as(client, world.member_a)
    page = client.get(PAGE).content.decode()
    assert "of 6 done" in page and "Mark done" not in page
    kickoff = item(world.a, templates["kickoff"])
    answer = client.post(reverse("training:onboarding_tick", args=[kickoff.pk]), {"done": "1"})
    assert answer.status_code == 403
    assert not done(world.a, templates["kickoff"])


def test_another_accounts_checklist_is_404(client, world, templates):
    kickoff = item(world.a, templates["kickoff"])
    login_as(client, world.partner_admin_b)
    assert client.get(reverse("training:onboarding_account", args=[world.a.pk])).status_code == 404
    answer = client.post(reverse("training:onboarding_tick", args=[kickoff.pk]), {"done": "1"})
    assert answer.status_code == 404
    assert not done(world.a, templates["kickoff"])
    login_as(client, world.other_manager)
    assert client.get(reverse("training:onboarding_account", args=[world.a.pk])).status_code == 404


def test_manager_sees_their_partners_checklist_read_only(client, world, templates):
    login_as(client, world.manager)
    page = client.get(reverse("training:onboarding_account", args=[world.a.pk]))
    assert page.status_code == 200
    assert "Hold the kick-off call" in page.content.decode()
    assert "Mark done" not in page.content.decode()


def test_portal_home_shows_the_onboarding_progress(client, world, templates):
    complete_profile(world.a)
    services.tick_step(actor=world.partner_admin_a, item=item(world.a, templates["kickoff"]))
    for persona in ("partner_admin_a", "member_a"):
        login_as(client, getattr(world, persona))
        page = client.get(reverse("partners:portal_home")).content.decode()
        assert "Onboarding" in page and "3 of 6 done" in page
        assert reverse("training:onboarding") in page


def test_portal_home_has_no_panel_without_a_checklist(client, world):
    login_as(client, world.partner_admin_a)
    page = client.get(reverse("partners:portal_home"))
    assert page.status_code == 200 and "onboarding-panel" not in page.content.decode()


# --- admin ----------------------------------------------------------------------------------


def test_admin_step_needs_a_course_exactly_when_a_course_ticks_it(world, basics):
    from training.admin import ChecklistStepForm

    def errors(**data):
        form = ChecklistStepForm(data={"position": 1, "title": "Step", **data})
        return form.errors.get("course")

    assert errors(ticks_when="course_completed")  # which course?
    assert errors(ticks_when="manual", course=basics.pk)  # a course on a manual step
    assert not errors(ticks_when="course_completed", course=basics.pk)
    assert not errors(ticks_when="profile_complete")


def test_admin_pages_of_checklists_open(client, world, templates):
    login_as(client, world.admin)
    template = ChecklistTemplate.objects.get(tier=world.tier)
    assert client.get(reverse("admin:training_checklisttemplate_changelist")).status_code == 200
    page = client.get(reverse("admin:training_checklisttemplate_change", args=[template.pk]))
    assert page.status_code == 200 and "Finish Partner basics" in page.content.decode()
    services.ensure_checklist(world.a)
    assert client.get(reverse("admin:training_checklistitem_changelist")).status_code == 200
