"""Registration transitions: every allowed one, every forbidden one, who may see what, bad
input, the one-approval-per-customer-and-family constraint, extensions, expiry, notifications."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, connection, transaction
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from deals import selectors, services
from deals.models import (
    DealRegistration,
    ExtensionRequest,
    ExtensionStatus,
    Product,
    RegistrationEvent,
    RegistrationLine,
    RegistrationStatus,
)
from deals.tasks import expire_registrations, notify_registrations, warn_expiring_registrations
from partners.models import PortalAccess
from prm import tasks as prm_tasks
from prm.models import Notification
from prm.testing.world import make_partner_user

pytestmark = pytest.mark.django_db

S = RegistrationStatus


@pytest.fixture
def products():
    return {
        "gateway": Product.objects.create(
            name="Gateway", sku="GW-1", family="Network", list_price=100
        ),
        "switch": Product.objects.create(
            name="Switch", sku="SW-1", family="Network", list_price=50
        ),
        "firewall": Product.objects.create(
            name="Firewall", sku="FW-1", family="Security", list_price=80
        ),
        "legacy": Product.objects.create(
            name="Old Router", sku="OR-1", family="Network", list_price=10, active=False
        ),
    }


def registration(**fields) -> DealRegistration:
    values = {
        "company": "Acme Inc.",
        "domain": "acme.com",
        "contact_name": "Wile E. Coyote",
        "contact_email": "wile@acme.com",
        "amount": Decimal("25000"),
        "expected_close_date": timezone.localdate() + timedelta(days=60),
    }
    values.update(fields)
    return DealRegistration(**values)


@pytest.fixture
def draft_of(products):
    def make(actor, lines=None, **fields):
        return services.save_registration(
            actor=actor,
            registration=registration(**fields),
            lines=lines or [(products["gateway"], 3)],
        )

    return make


@pytest.fixture
def draft(world, draft_of):
    return draft_of(world.member_a)


@pytest.fixture
def submitted(world, draft):
    return services.submit_registration(actor=world.member_a, registration=draft)


def history(reg):
    return list(
        RegistrationEvent.objects.filter(registration=reg)
        .order_by("created_at", "pk")
        .values_list("from_status", "to_status")
    )


def reasons(reg):
    return list(
        RegistrationEvent.objects.filter(registration=reg)
        .order_by("created_at", "pk")
        .values_list("reason", flat=True)
    )


def fresh(reg):
    return DealRegistration.objects.get(pk=reg.pk)


# --- create and edit ----------------------------------------------------------------------------


def test_a_partner_saves_a_draft_for_their_company_with_its_lines(world, draft, products):
    assert draft.status == S.DRAFT and draft.account == world.a
    assert draft.created_by == world.member_a
    assert draft.product_family == "Network"
    assert draft.customer_domain == "acme.com" and draft.customer_name_key == "acme"
    assert [(line.product, line.quantity) for line in draft.lines.all()] == [
        (products["gateway"], 3)
    ]
    assert history(draft) == [("", "draft")]


@pytest.mark.parametrize("persona", ["manager", "admin", "other_manager"])
def test_internal_users_do_not_register_deals(world, draft_of, persona):
    with pytest.raises(PermissionDenied):
        draft_of(getattr(world, persona))
    assert not DealRegistration.objects.exists()


def test_editing_replaces_the_lines_and_keeps_the_history_short(world, draft, products):
    draft.company = "Acme Bricks Ltd"
    draft.domain = "https://www.acmebricks.co.uk"
    services.save_registration(
        actor=world.member_a,
        registration=draft,
        lines=[(products["switch"], 2), (products["gateway"], 1)],
    )
    saved = fresh(draft)
    assert saved.customer_domain == "acmebricks.co.uk" and saved.customer_name_key == "acmebricks"
    assert sorted(saved.lines.values_list("product__sku", "quantity")) == [
        ("GW-1", 1),
        ("SW-1", 2),
    ]
    assert history(saved) == [("", "draft")]


def test_editing_cannot_move_a_registration_to_another_status_or_company(world, draft):
    draft.status = S.APPROVED
    draft.account = world.b
    services.save_registration(
        actor=world.member_a, registration=draft, lines=[(draft.lines.first().product, 1)]
    )
    saved = fresh(draft)
    assert saved.status == S.DRAFT and saved.account == world.a
    assert draft.status == S.DRAFT and draft.account_id == world.a.pk


@pytest.mark.parametrize("persona", ["partner_admin_a", "member_a"])
def test_the_creator_and_the_partner_admin_may_edit(world, draft, persona):
    draft.notes = "Met their CTO"
    services.save_registration(
        actor=getattr(world, persona), registration=draft, lines=[(draft.lines.first().product, 1)]
    )
    assert fresh(draft).notes == "Met their CTO"


def test_a_colleague_who_did_not_create_it_may_not_edit(world, draft_of, products):
    from partners.models import PortalAccess
    from partners.services import sync_account_permissions
    from prm.testing.world import make_partner_user

    colleague, _ = make_partner_user(world.a, "kim@northwind.example", PortalAccess.MEMBER)
    sync_account_permissions([world.a.pk])
    mine = draft_of(world.member_a, shared_with_account=True)
    assert selectors.DealRegistration.objects.visible_to(colleague).filter(pk=mine.pk).exists()
    assert not services.can_edit_registration(colleague, mine)
    with pytest.raises(PermissionDenied):
        services.save_registration(
            actor=colleague, registration=mine, lines=[(products["gateway"], 1)]
        )
    with pytest.raises(PermissionDenied):
        services.submit_registration(actor=colleague, registration=mine)


@pytest.mark.parametrize(
    "persona", ["partner_admin_b", "manager", "admin", "other_manager", "partner_admin_a"]
)
def test_only_the_partner_side_of_its_own_account_edits(world, draft_of, products, persona):
    child_user = _child_user(world)
    reg = draft_of(child_user)
    actor = getattr(world, persona)
    assert not services.can_edit_registration(actor, reg)
    with pytest.raises(PermissionDenied):
        services.save_registration(actor=actor, registration=reg, lines=[(products["gateway"], 1)])
    with pytest.raises(PermissionDenied):
        services.submit_registration(actor=actor, registration=reg)
    with pytest.raises(PermissionDenied):
        services.withdraw_registration(actor=actor, registration=reg, reason="No")


def _child_user(world):
    """A partner admin of A's reseller child (partner_admin_a reads its records only)."""
    from partners.models import PortalAccess
    from partners.services import sync_account_permissions
    from prm.testing.world import make_partner_user

    user, _ = make_partner_user(world.a_child, "lee@retail.example", PortalAccess.ADMIN)
    sync_account_permissions([world.a.pk])
    return user


# --- bad input ----------------------------------------------------------------------------------


def _bad(world, products, field, lines=None, **fields):
    counts = (DealRegistration.objects.count(), RegistrationLine.objects.count())
    events = RegistrationEvent.objects.count()
    with pytest.raises(ValidationError) as error:
        services.save_registration(
            actor=world.member_a,
            registration=registration(**fields),
            lines=[(products["gateway"], 1)] if lines is None else lines,
        )
    assert field in error.value.message_dict, error.value.message_dict
    assert (DealRegistration.objects.count(), RegistrationLine.objects.count()) == counts
    assert RegistrationEvent.objects.count() == events
    return error.value.message_dict[field]


def test_a_close_date_in_the_past_is_refused(world, products):
    yesterday = timezone.localdate() - timedelta(days=1)
    assert "past" in _bad(world, products, "expected_close_date", expected_close_date=yesterday)[0]


def test_a_negative_amount_is_refused(world, products):
    assert "negative" in _bad(world, products, "amount", amount=Decimal("-1"))[0]


def test_oversized_notes_are_refused(world, products):
    assert "4000" in _bad(world, products, "notes", notes="x" * 4001)[0]


def test_an_inactive_product_is_refused(world, products):
    message = _bad(world, products, "lines", lines=[(products["legacy"], 1)])
    assert "Old Router" in message[0]


def test_an_unknown_product_is_refused(world, products):
    ghost = Product.objects.create(name="Ghost", sku="GH-1", family="Network", list_price=1)
    Product.objects.filter(pk=ghost.pk).delete()
    assert "Ghost" in _bad(world, products, "lines", lines=[(ghost, 1)])[0]


def test_products_of_two_families_are_refused(world, products):
    message = _bad(
        world, products, "lines", lines=[(products["gateway"], 1), (products["firewall"], 1)]
    )
    assert message == ["A registration covers one product family: register Security separately."]


@pytest.mark.parametrize(
    "lines", [[], "gateway-twice", "zero-quantity"], ids=["none", "twice", "zero"]
)
def test_lines_need_products_once_with_a_quantity(world, products, lines):
    if lines == "gateway-twice":
        lines = [(products["gateway"], 1), (products["gateway"], 2)]
    elif lines == "zero-quantity":
        lines = [(products["gateway"], 0)]
    _bad(world, products, "lines", lines=lines)


def test_every_wrong_field_is_reported_at_once(world, products):
    with pytest.raises(ValidationError) as error:
        services.save_registration(
            actor=world.member_a,
            registration=registration(
                amount=Decimal("-5"),
                contact_email="not-an-email",
                expected_close_date=timezone.localdate() - timedelta(days=3),
            ),
            lines=[],
        )
    assert {"amount", "contact_email", "expected_close_date", "lines"} <= set(
        error.value.message_dict
    )
    assert not DealRegistration.objects.exists()


def test_a_failed_edit_changes_nothing(world, draft, products):
    draft.amount = Decimal("-1")
    draft.notes = "changed"
    with pytest.raises(ValidationError):
        services.save_registration(
            actor=world.member_a, registration=draft, lines=[(products["firewall"], 1)]
        )
    saved = fresh(draft)
    assert saved.amount == Decimal("25000") and saved.notes == ""
    assert list(saved.lines.values_list("product__sku", flat=True)) == ["GW-1"]


# --- submit, return, resubmit, approve, reject, withdraw -----------------------------------------


def test_submitting_puts_it_under_review_and_tells_the_manager(
    world, draft, django_capture_on_commit_callbacks, mailoutbox
):
    with django_capture_on_commit_callbacks(execute=True):
        reg = services.submit_registration(actor=world.member_a, registration=draft)
    assert reg.status == S.SUBMITTED and reg.submitted_at is not None and not reg.conflict
    assert draft.status == S.SUBMITTED  # the caller's instance is current
    assert history(reg) == [("", "draft"), ("draft", "submitted")]
    notes = Notification.objects.filter(key__startswith="registration-submitted")
    assert [n.user for n in notes] == [world.manager]
    assert "Acme Inc." in notes[0].title
    assert [m.to for m in mailoutbox] == [[world.manager.email]]
    assert "Acme Inc." in mailoutbox[0].subject


def test_with_no_manager_the_admins_are_told(
    world, draft, django_capture_on_commit_callbacks, mailoutbox
):
    world.a.manager = None
    world.a.save()
    with django_capture_on_commit_callbacks(execute=True):
        services.submit_registration(actor=world.member_a, registration=draft)
    assert [m.to for m in mailoutbox] == [[world.admin.email]]


def test_a_registration_without_products_cannot_be_submitted(world, draft):
    draft.lines.all().delete()
    with pytest.raises(ValidationError) as error:
        services.submit_registration(actor=world.member_a, registration=draft)
    assert "lines" in error.value.message_dict
    assert fresh(draft).status == S.DRAFT


def test_a_draft_whose_close_date_passed_must_be_changed_before_submitting(world, draft):
    DealRegistration.objects.filter(pk=draft.pk).update(
        expected_close_date=timezone.localdate() - timedelta(days=1)
    )
    with pytest.raises(ValidationError) as error:
        services.submit_registration(actor=world.member_a, registration=draft)
    assert "expected_close_date" in error.value.message_dict


def test_a_submitted_registration_cannot_be_submitted_or_edited_again(world, submitted, products):
    with pytest.raises(ValidationError):
        services.submit_registration(actor=world.member_a, registration=submitted)
    with pytest.raises(ValidationError):
        services.save_registration(
            actor=world.member_a, registration=submitted, lines=[(products["gateway"], 1)]
        )
    assert not services.can_edit_registration(world.member_a, submitted)


@pytest.mark.parametrize("persona", ["manager", "admin"])
def test_the_manager_or_an_admin_approves_with_the_tier_expiry(
    world, submitted, persona, django_capture_on_commit_callbacks, mailoutbox
):
    world.tier.registration_days = 120
    world.tier.save()
    actor = getattr(world, persona)
    assert services.can_decide_registration(actor, submitted)
    with django_capture_on_commit_callbacks(execute=True):
        reg = services.approve_registration(actor=actor, registration=submitted, reason="Good fit")
    assert reg.status == S.APPROVED
    assert reg.expires_on == timezone.localdate() + timedelta(days=120)
    assert reg.decided_by == actor and reg.decision_reason == "Good fit"
    assert history(reg)[-1] == ("submitted", "approved")
    assert reasons(reg)[-1] == "Good fit"
    told = set(
        Notification.objects.filter(key__startswith="registration-approved").values_list(
            "user__email", flat=True
        )
    )
    assert told == {world.member_a.email, world.partner_admin_a.email}
    assert sorted(m.to[0] for m in mailoutbox[-len(told) :]) == sorted(told)  # one each
    assert "approved" in mailoutbox[-1].subject.lower()


def test_without_a_tier_protection_lasts_90_days(world, submitted):
    world.a.tier = None
    world.a.save()
    reg = services.approve_registration(actor=world.manager, registration=submitted, reason="")
    assert reg.expires_on == timezone.localdate() + timedelta(days=90)


@pytest.mark.parametrize("persona", ["member_a", "partner_admin_a", "partner_admin_b"])
@pytest.mark.parametrize("decision", ["approve", "reject", "return"])
def test_partners_can_never_decide(world, submitted, persona, decision):
    actor = getattr(world, persona)
    assert not services.can_decide_registration(actor, submitted)
    with pytest.raises(PermissionDenied):
        getattr(services, f"{decision}_registration")(
            actor=actor, registration=submitted, reason="Because"
        )
    assert fresh(submitted).status == S.SUBMITTED


@pytest.mark.parametrize("decision", ["approve", "reject", "return"])
def test_another_manager_cannot_decide_nor_see_it(world, submitted, decision):
    assert (
        not DealRegistration.objects.visible_to(world.other_manager)
        .filter(pk=submitted.pk)
        .exists()
    )
    assert not services.can_decide_registration(world.other_manager, submitted)
    with pytest.raises(PermissionDenied):
        getattr(services, f"{decision}_registration")(
            actor=world.other_manager, registration=submitted, reason="Because"
        )
    assert selectors.registration_conflicts(submitted, world.other_manager) == []
    assert submitted not in selectors.review_queue(world.other_manager)


def test_a_manager_with_the_global_view_permission_sees_and_decides(world, submitted):
    from django.contrib.auth.models import Permission

    world.other_manager.user_permissions.add(
        Permission.objects.get(codename="view_dealregistration")
    )
    from django.contrib.auth import get_user_model

    viewer = get_user_model().objects.get(pk=world.other_manager.pk)
    assert submitted in selectors.review_queue(viewer)
    services.approve_registration(actor=viewer, registration=submitted)
    assert fresh(submitted).status == S.APPROVED


@pytest.mark.parametrize("decision", ["reject", "return"])
def test_rejecting_and_returning_need_a_reason(world, submitted, decision):
    with pytest.raises(ValidationError) as error:
        getattr(services, f"{decision}_registration")(
            actor=world.manager, registration=submitted, reason="  "
        )
    assert "reason" in error.value.message_dict
    assert fresh(submitted).status == S.SUBMITTED


def test_returned_the_partner_edits_and_resubmits_then_it_is_approved(
    world, submitted, products, django_capture_on_commit_callbacks, mailoutbox
):
    with django_capture_on_commit_callbacks(execute=True):
        services.return_registration(
            actor=world.manager, registration=submitted, reason="Which site is it for?"
        )
    assert fresh(submitted).status == S.RETURNED
    assert sorted(m.to[0] for m in mailoutbox[-2:]) == sorted(
        [world.member_a.email, world.partner_admin_a.email]
    )
    assert "Which site is it for?" in mailoutbox[-1].body
    assert services.can_edit_registration(world.member_a, fresh(submitted))
    with pytest.raises(ValidationError):
        services.approve_registration(actor=world.manager, registration=submitted)
    reg = fresh(submitted)
    reg.notes = "The Berlin site"
    services.save_registration(
        actor=world.member_a, registration=reg, lines=[(products["gateway"], 3)]
    )
    services.submit_registration(actor=world.member_a, registration=reg)
    services.approve_registration(actor=world.manager, registration=reg)
    assert history(reg) == [
        ("", "draft"),
        ("draft", "submitted"),
        ("submitted", "returned"),
        ("returned", "submitted"),
        ("submitted", "approved"),
    ]
    assert reasons(reg)[2] == "Which site is it for?"


def test_a_rejected_registration_is_approved_only_after_resubmission(
    world, submitted, django_capture_on_commit_callbacks, mailoutbox
):
    with django_capture_on_commit_callbacks(execute=True):
        services.reject_registration(
            actor=world.manager, registration=submitted, reason="Already our direct customer"
        )
    reg = fresh(submitted)
    assert reg.status == S.REJECTED and reg.decision_reason == "Already our direct customer"
    assert sorted(m.to[0] for m in mailoutbox[-2:]) == sorted(
        [world.member_a.email, world.partner_admin_a.email]
    )
    assert "rejected" in mailoutbox[-1].subject.lower()
    with pytest.raises(ValidationError) as error:
        services.approve_registration(actor=world.manager, registration=reg)
    assert "resubmit" in error.value.messages[0]
    assert fresh(reg).status == S.REJECTED
    services.submit_registration(actor=world.member_a, registration=reg)
    services.approve_registration(actor=world.manager, registration=reg)
    assert fresh(reg).status == S.APPROVED


@pytest.mark.parametrize("decision", ["approve", "reject", "return"])
def test_a_draft_cannot_be_decided(world, draft, decision):
    with pytest.raises(ValidationError):
        getattr(services, f"{decision}_registration")(
            actor=world.manager, registration=draft, reason="x"
        )


def test_an_approved_registration_cannot_be_decided_again(world, submitted):
    services.approve_registration(actor=world.manager, registration=submitted)
    for decision in ("approve", "reject", "return"):
        with pytest.raises(ValidationError):
            getattr(services, f"{decision}_registration")(
                actor=world.manager, registration=submitted, reason="x"
            )
    with pytest.raises(ValidationError):
        services.withdraw_registration(actor=world.member_a, registration=submitted, reason="x")


@pytest.mark.parametrize("stage", ["draft", "submitted", "returned"])
def test_the_partner_withdraws_with_a_reason(world, draft, stage):
    if stage != "draft":
        services.submit_registration(actor=world.member_a, registration=draft)
    if stage == "returned":
        services.return_registration(actor=world.manager, registration=draft, reason="More?")
    with pytest.raises(ValidationError) as error:
        services.withdraw_registration(actor=world.member_a, registration=draft, reason="")
    assert "reason" in error.value.message_dict
    reg = services.withdraw_registration(
        actor=world.partner_admin_a, registration=draft, reason="Customer went quiet"
    )
    assert reg.status == S.WITHDRAWN
    assert history(reg)[-1] == (stage, "withdrawn")
    assert reasons(reg)[-1] == "Customer went quiet"


@pytest.mark.parametrize("end", ["withdrawn", "expired"])
def test_withdrawn_and_expired_registrations_cannot_be_resubmitted(world, submitted, products, end):
    if end == "withdrawn":
        services.withdraw_registration(actor=world.member_a, registration=submitted, reason="x")
    else:
        services.approve_registration(actor=world.manager, registration=submitted)
        services.expire_registrations(today=timezone.localdate() + timedelta(days=400))
    reg = fresh(submitted)
    assert reg.status == end
    with pytest.raises(ValidationError):
        services.submit_registration(actor=world.member_a, registration=reg)
    with pytest.raises(ValidationError):
        services.save_registration(
            actor=world.member_a, registration=reg, lines=[(products["gateway"], 1)]
        )
    with pytest.raises(ValidationError):
        services.withdraw_registration(actor=world.member_a, registration=reg, reason="x")
    with pytest.raises(ValidationError):
        services.approve_registration(actor=world.manager, registration=reg)


def test_a_rejected_registration_cannot_be_withdrawn(world, submitted):
    services.reject_registration(actor=world.manager, registration=submitted, reason="No")
    with pytest.raises(ValidationError):
        services.withdraw_registration(actor=world.member_a, registration=submitted, reason="x")


# --- who sees what --------------------------------------------------------------------------------


def test_a_member_sees_a_colleagues_registration_only_when_shared(world, draft_of):
    mine = draft_of(world.partner_admin_a, company="Globex")
    shared = draft_of(world.partner_admin_a, company="Initech", shared_with_account=True)
    seen = set(DealRegistration.objects.visible_to(world.member_a))
    assert shared in seen and mine not in seen
    assert {mine, shared} <= set(DealRegistration.objects.visible_to(world.partner_admin_a))


def test_the_partner_admin_sees_everything_of_the_account(world, draft_of):
    private = draft_of(world.member_a)
    assert private in DealRegistration.objects.visible_to(world.partner_admin_a)
    assert services.can_edit_registration(world.partner_admin_a, private)


def test_account_b_never_sees_account_a(world, draft_of):
    reg = draft_of(world.member_a, shared_with_account=True)
    assert not DealRegistration.objects.visible_to(world.partner_admin_b).filter(pk=reg.pk)
    assert not RegistrationEvent.objects.visible_to(world.partner_admin_b).filter(registration=reg)
    assert not selectors.review_queue(world.partner_admin_b).exists()


def test_a_distributor_admin_reads_but_cannot_edit_a_resellers_registration(world, draft_of):
    reg = draft_of(_child_user(world))
    assert reg.account == world.a_child
    assert reg in DealRegistration.objects.visible_to(world.partner_admin_a)
    assert not services.can_edit_registration(world.partner_admin_a, reg)
    assert not services.can_withdraw_registration(world.partner_admin_a, reg)


def test_the_review_queue_lists_conflicts_first_then_the_oldest(world, draft_of):
    first = draft_of(world.member_a, company="Globex", domain="globex.com")
    second = draft_of(world.member_a, company="Initech", domain="initech.com")
    services.submit_registration(actor=world.member_a, registration=first)
    services.submit_registration(actor=world.member_a, registration=second)
    held = draft_of(world.partner_admin_b, company="Umbrella", domain="umbrella.com")
    services.submit_registration(actor=world.partner_admin_b, registration=held)
    flagged = draft_of(world.member_a, company="Umbrella Corporation")
    services.submit_registration(actor=world.member_a, registration=flagged)
    assert fresh(flagged).conflict
    assert list(selectors.review_queue(world.manager)) == [flagged, first, second]
    assert list(selectors.review_queue(world.admin))[:1] == [flagged]


# --- the database holds one approval per customer and family -----------------------------------


def test_two_approvals_for_one_customer_and_family_are_impossible_in_the_database(world, draft_of):
    first = draft_of(world.member_a)
    second = draft_of(world.partner_admin_b, company="ACME, Incorporated", domain="")
    expiry = timezone.localdate() + timedelta(days=30)
    DealRegistration.objects.filter(pk=first.pk).update(status=S.APPROVED, expires_on=expiry)
    second.status, second.expires_on = S.APPROVED, expiry
    with pytest.raises(IntegrityError), transaction.atomic():
        second.save()
    by_domain = draft_of(world.partner_admin_b, company="Totally Different", domain="acme.com")
    with pytest.raises(IntegrityError), transaction.atomic():
        DealRegistration.objects.filter(pk=by_domain.pk).update(
            status=S.APPROVED, expires_on=expiry
        )


def test_approving_over_another_approval_is_a_clear_error(world, draft_of):
    first = draft_of(world.partner_admin_b)
    services.submit_registration(actor=world.partner_admin_b, registration=first)
    services.approve_registration(actor=world.admin, registration=first)
    second = draft_of(world.member_a, company="ACME, Incorporated", domain="www.acme.com")
    services.submit_registration(actor=world.member_a, registration=second)
    with pytest.raises(ValidationError) as error:
        services.approve_registration(actor=world.manager, registration=second)
    until = fresh(first).expires_on
    assert error.value.messages == [
        f"Another partner's approved registration protects this customer for Network until "
        f"{until:%-d %B %Y}."
    ]
    assert "Contoso" not in error.value.messages[0]
    assert fresh(second).status == S.SUBMITTED
    assert history(second)[-1] == ("draft", "submitted")


def test_another_product_family_of_the_same_customer_can_be_approved(world, draft_of, products):
    first = draft_of(world.partner_admin_b)
    services.submit_registration(actor=world.partner_admin_b, registration=first)
    services.approve_registration(actor=world.admin, registration=first)
    second = draft_of(world.member_a, lines=[(products["firewall"], 1)])
    services.submit_registration(actor=world.member_a, registration=second)
    services.approve_registration(actor=world.manager, registration=second)
    assert fresh(second).status == S.APPROVED and fresh(second).product_family == "Security"


# --- extensions ---------------------------------------------------------------------------------


@pytest.fixture
def approved(world, submitted):
    return services.approve_registration(actor=world.manager, registration=submitted)


def test_the_partner_asks_for_an_extension_and_the_manager_grants_it(
    world, approved, django_capture_on_commit_callbacks, mailoutbox
):
    until = approved.expires_on + timedelta(days=30)
    with django_capture_on_commit_callbacks(execute=True):
        extension = services.request_extension(
            actor=world.member_a, registration=approved, requested_until=until, reason="PO late"
        )
    assert extension.status == ExtensionStatus.PENDING
    assert mailoutbox[-1].to == [world.manager.email]
    with pytest.raises(PermissionDenied):
        services.decide_extension(
            actor=world.partner_admin_a, extension=extension, grant=True, reason=""
        )
    with django_capture_on_commit_callbacks(execute=True):
        services.decide_extension(actor=world.manager, extension=extension, grant=True, reason="")
    assert fresh(approved).expires_on == until
    assert ExtensionRequest.objects.get().status == ExtensionStatus.GRANTED
    assert sorted(m.to[0] for m in mailoutbox[-2:]) == sorted(
        [world.member_a.email, world.partner_admin_a.email]
    )
    assert history(approved)[-2:] == [("approved", "approved"), ("approved", "approved")]


def test_a_refused_extension_needs_a_reason_and_changes_nothing(world, approved):
    before = approved.expires_on
    extension = services.request_extension(
        actor=world.member_a,
        registration=approved,
        requested_until=before + timedelta(days=10),
        reason="Budget",
    )
    with pytest.raises(ValidationError):
        services.decide_extension(actor=world.manager, extension=extension, grant=False, reason="")
    services.decide_extension(actor=world.manager, extension=extension, grant=False, reason="No")
    assert fresh(approved).expires_on == before
    with pytest.raises(ValidationError):
        services.decide_extension(actor=world.manager, extension=extension, grant=True, reason="")


def test_extension_requests_are_checked(world, approved, submitted):
    today = timezone.localdate()
    ask = services.request_extension
    with pytest.raises(ValidationError) as error:
        ask(
            actor=world.member_a,
            registration=approved,
            requested_until=approved.expires_on,
            reason="x",
        )
    assert "requested_until" in error.value.message_dict
    with pytest.raises(ValidationError) as error:
        ask(
            actor=world.member_a,
            registration=approved,
            requested_until=today + timedelta(days=400),
            reason="x",
        )
    assert "requested_until" in error.value.message_dict
    with pytest.raises(PermissionDenied):
        ask(
            actor=world.partner_admin_b,
            registration=approved,
            requested_until=approved.expires_on + timedelta(days=5),
            reason="x",
        )
    ask(
        actor=world.member_a,
        registration=approved,
        requested_until=approved.expires_on + timedelta(days=5),
        reason="x",
    )
    with pytest.raises(ValidationError):
        ask(
            actor=world.member_a,
            registration=approved,
            requested_until=approved.expires_on + timedelta(days=6),
            reason="again",
        )
    assert ExtensionRequest.objects.count() == 1


def test_only_an_approved_registration_can_be_extended(world, draft):
    with pytest.raises(ValidationError):
        services.request_extension(
            actor=world.member_a,
            registration=draft,
            requested_until=timezone.localdate() + timedelta(days=30),
            reason="x",
        )


# --- expiry and its warning ---------------------------------------------------------------------


def test_expiry_warns_14_days_ahead_once_then_expires_once(
    world, approved, django_capture_on_commit_callbacks, mailoutbox
):
    expires = approved.expires_on
    told = {world.member_a.email, world.partner_admin_a.email}
    with django_capture_on_commit_callbacks(execute=True):
        assert services.warn_expiring_registrations(today=expires - timedelta(days=15)) == 0
        assert services.warn_expiring_registrations(today=expires - timedelta(days=14)) == 1
    with django_capture_on_commit_callbacks(execute=True):
        assert services.warn_expiring_registrations(today=expires - timedelta(days=10)) == 0
    warnings = Notification.objects.filter(key__startswith="registration-expiring")
    assert set(warnings.values_list("user__email", flat=True)) == told
    # Once: one email each of the two people.
    assert sum("expiring" in m.subject.lower() for m in mailoutbox) == len(told)

    with django_capture_on_commit_callbacks(execute=True):
        assert services.expire_registrations(today=expires) == 0
        assert services.expire_registrations(today=expires + timedelta(days=1)) == 1
    with django_capture_on_commit_callbacks(execute=True):
        assert services.expire_registrations(today=expires + timedelta(days=2)) == 0
    assert fresh(approved).status == S.EXPIRED
    assert history(approved)[-1] == ("approved", "expired")
    expired = Notification.objects.filter(key__startswith="registration-expired")
    assert set(expired.values_list("user__email", flat=True)) == told
    # Once: one email each of the two people.
    assert sum("expired" in m.subject.lower() for m in mailoutbox) == len(told)


def test_an_extension_earns_a_new_warning_for_the_new_date(world, approved):
    expires = approved.expires_on
    assert services.warn_expiring_registrations(today=expires - timedelta(days=3)) == 1
    extension = services.request_extension(
        actor=world.member_a,
        registration=approved,
        requested_until=expires + timedelta(days=30),
        reason="x",
    )
    services.decide_extension(actor=world.manager, extension=extension, grant=True, reason="")
    assert services.warn_expiring_registrations(today=expires - timedelta(days=2)) == 0
    assert services.warn_expiring_registrations(today=expires + timedelta(days=20)) == 1


def test_the_tasks_run_the_services(world, approved):
    DealRegistration.objects.filter(pk=approved.pk).update(
        expires_on=timezone.localdate() + timedelta(days=3)
    )
    assert warn_expiring_registrations() == 1
    assert warn_expiring_registrations() == 0
    DealRegistration.objects.filter(pk=approved.pk).update(
        expires_on=timezone.localdate() - timedelta(days=1)
    )
    assert expire_registrations() == 1
    assert expire_registrations() == 0


def test_a_submitter_who_left_the_company_is_not_told(
    world, submitted, django_capture_on_commit_callbacks, mailoutbox
):
    world.contact_member_a.account = world.b
    world.contact_member_a.save()
    with django_capture_on_commit_callbacks(execute=True):
        services.reject_registration(actor=world.manager, registration=submitted, reason="No")
    assert [m.to for m in mailoutbox] == [[world.partner_admin_a.email]]
    assert not Notification.objects.filter(user=world.member_a).exists()


def test_a_product_retired_after_the_draft_blocks_the_submission(world, draft, products):
    Product.objects.filter(pk=products["gateway"].pk).update(active=False)
    with pytest.raises(ValidationError) as error:
        services.submit_registration(actor=world.member_a, registration=draft)
    assert "Gateway" in error.value.message_dict["lines"][0]
    assert fresh(draft).status == S.DRAFT


def test_expiring_many_registrations_enqueues_one_notification_task(
    world, monkeypatch, django_capture_on_commit_callbacks, mailoutbox
):
    bystander, _ = make_partner_user(world.a, "casey@northwind.example", PortalAccess.MEMBER)
    today = timezone.localdate()
    submitters = (
        [(world.a, world.member_a)] * 15
        + [(world.a, world.partner_admin_a)] * 5
        + [(world.b, world.partner_admin_b)] * 10
    )
    ended = []
    for i, (account, creator) in enumerate(submitters):
        reg = registration(
            company=f"Customer {i} Ltd",
            domain=f"customer{i}.example",
            account=account,
            created_by=creator,
            status=S.APPROVED,
            product_family="Network",
            expires_on=today - timedelta(days=1 + i % 3),
        )
        reg.set_customer_key()
        ended.append(reg)
    DealRegistration.objects.bulk_create(ended)
    sent = []
    publish = prm_tasks._publish

    def counted(pending):
        sent.append((pending.task_name, pending.args))
        return publish(pending)

    monkeypatch.setattr(prm_tasks, "_publish", counted)
    with django_capture_on_commit_callbacks(execute=True):
        assert services.expire_registrations(today=today) == 30

    # One task for the whole run, not one per registration.
    assert [(name, len(args[0])) for name, args in sent] == [("deals.notify_registrations", 30)]
    # Each person told once per registration: the partner admins of its account, and the
    # submitter while a portal user there; not a colleague who did not register it.
    told = {
        world.member_a.email: 15,
        world.partner_admin_a.email: 20,
        world.partner_admin_b.email: 10,
    }
    bells = Notification.objects.filter(key__startswith="registration-expired:")
    assert bells.values("user_id", "key").distinct().count() == bells.count() == sum(told.values())
    for email, count in told.items():
        titles = set(bells.filter(user__email=email).values_list("title", flat=True))
        assert len(titles) == count
    assert not bells.filter(user=bystander).exists()
    assert len(mailoutbox) == 45  # one email per bell entry: each person their own

    # A re-run of the batch (a retry) tells nobody twice.
    notify_registrations(sent[0][1][0])
    assert Notification.objects.filter(key__startswith="registration-expired:").count() == 45
    assert len(mailoutbox) == 45
    sent.clear()
    with django_capture_on_commit_callbacks(execute=True):
        assert services.expire_registrations(today=today) == 0
    assert sent == []


def test_the_batch_notification_loads_its_data_in_a_few_queries(world, approved):
    others = [
        services.approve_registration(
            actor=world.manager,
            registration=services.submit_registration(
                actor=world.member_a,
                registration=services.save_registration(
                    actor=world.member_a,
                    registration=registration(company=f"Other {i} Ltd", domain=f"o{i}.example"),
                    lines=[(Product.objects.get(sku="GW-1"), 1)],
                ),
            ),
        )
        for i in range(4)
    ]
    today = max(r.expires_on for r in [approved, *others]) + timedelta(days=1)
    services.expire_registrations(today=today)
    ids = list(RegistrationEvent.objects.filter(to_status=S.EXPIRED).values_list("pk", flat=True))
    assert len(ids) == 5
    Notification.objects.all().delete()
    with CaptureQueriesContext(connection) as queries:
        assert notify_registrations(ids) == 10
    loads = [q["sql"] for q in queries.captured_queries if "partners_contact" in q["sql"]]
    events = [
        q["sql"] for q in queries.captured_queries if 'FROM "deals_registrationevent"' in q["sql"]
    ]
    assert (len(loads), len(events)) == (1, 1)
