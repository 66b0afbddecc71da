"""Lead transitions: every allowed one, every forbidden one, and the SLA return task."""

from datetime import timedelta

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import timezone

from deals import services
from deals.models import Lead, LeadEvent, LeadRejection, LeadStatus, Product
from deals.tasks import return_overdue_leads

pytestmark = pytest.mark.django_db


@pytest.fixture
def product():
    return Product.objects.create(name="Gateway", sku="GW-1", family="Network", list_price=10)


@pytest.fixture
def lead(world, product):
    return services.create_lead(
        actor=world.manager,
        lead=Lead(company="Acme Inc.", domain="https://www.acme.com", country="Germany"),
        products=[product],
    )


@pytest.fixture
def assigned(world, lead, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        return services.assign_lead(actor=world.manager, lead=lead, account=world.a)


def history(lead):
    return list(LeadEvent.objects.filter(lead=lead).values_list("from_status", "to_status"))


# --- create and assign ------------------------------------------------------------------------


def test_a_manager_creates_a_lead_in_the_pool_with_its_customer_key(world, lead, product):
    assert lead.status == LeadStatus.NEW and lead.account is None
    assert lead.customer_domain == "acme.com" and lead.customer_name_key == "acme"
    assert list(lead.products.all()) == [product]
    assert history(lead) == [("", "new")]


@pytest.mark.parametrize("persona", ["partner_admin_a", "member_a"])
def test_partners_cannot_create_leads(world, persona):
    with pytest.raises(PermissionDenied):
        services.create_lead(actor=getattr(world, persona), lead=Lead(company="X"))


def test_assigning_sets_the_tier_deadline_and_tells_the_partner_admins(world, assigned, mailoutbox):
    world.tier.refresh_from_db()
    assert assigned.status == LeadStatus.ASSIGNED and assigned.account == world.a
    expected = assigned.assigned_at + timedelta(hours=world.tier.lead_acceptance_hours)
    assert assigned.accept_by == expected
    assert history(assigned)[-1] == ("new", "assigned")
    assert [m.to for m in mailoutbox] == [[world.partner_admin_a.email]]
    assert "Acme Inc." in mailoutbox[0].subject


@pytest.mark.parametrize("persona", ["partner_admin_a", "member_a", "partner_admin_b"])
def test_partners_cannot_assign(world, lead, persona):
    with pytest.raises(PermissionDenied):
        services.assign_lead(actor=getattr(world, persona), lead=lead, account=world.a)


def test_a_manager_cannot_hand_a_lead_to_a_partner_they_do_not_manage(world, lead):
    with pytest.raises(ValidationError):
        services.assign_lead(actor=world.manager, lead=lead, account=world.b)
    lead.refresh_from_db()
    assert lead.status == LeadStatus.NEW


def test_an_assigned_lead_cannot_be_assigned_again(world, assigned):
    with pytest.raises(ValidationError):
        services.assign_lead(actor=world.admin, lead=assigned, account=world.b)


def test_a_suspended_partner_gets_no_leads(world, lead):
    world.a.status = "suspended"
    world.a.save()
    with pytest.raises(ValidationError):
        services.assign_lead(actor=world.admin, lead=lead, account=world.a)


# --- accept, reject, lose ---------------------------------------------------------------------


@pytest.mark.parametrize("persona", ["partner_admin_a", "member_a"])
def test_the_partner_accepts_an_assigned_lead(world, assigned, persona):
    lead = services.accept_lead(actor=getattr(world, persona), lead=assigned)
    assert lead.status == LeadStatus.ACCEPTED and lead.accepted_by == getattr(world, persona)
    assert history(lead)[-1] == ("assigned", "accepted")


@pytest.mark.parametrize("persona", ["partner_admin_b", "manager", "admin"])
def test_only_the_holding_partner_accepts(world, assigned, persona):
    with pytest.raises(PermissionDenied):
        services.accept_lead(actor=getattr(world, persona), lead=assigned)


def test_a_distributor_above_the_partner_cannot_act_on_its_leads(world, lead):
    services.assign_lead(actor=world.manager, lead=lead, account=world.a_child)
    with pytest.raises(PermissionDenied):
        services.accept_lead(actor=world.partner_admin_a, lead=lead)


def test_a_lead_past_its_deadline_cannot_be_accepted(world, assigned):
    Lead.objects.filter(pk=assigned.pk).update(accept_by=timezone.now() - timedelta(minutes=1))
    with pytest.raises(ValidationError):
        services.accept_lead(actor=world.member_a, lead=assigned)


def test_rejecting_needs_a_reason(world, assigned):
    with pytest.raises(ValidationError) as error:
        services.reject_lead(actor=world.member_a, lead=assigned, reason="  ")
    assert "reason" in error.value.message_dict
    assigned.refresh_from_db()
    assert assigned.status == LeadStatus.ASSIGNED


def test_a_rejected_lead_goes_back_to_the_manager_and_never_to_that_partner_again(
    world, assigned, django_capture_on_commit_callbacks, mailoutbox
):
    mailoutbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        lead = services.reject_lead(actor=world.member_a, lead=assigned, reason="Outside our area")
    assert lead.status == LeadStatus.REJECTED and lead.account is None
    assert LeadRejection.objects.get(lead=lead).account == world.a
    assert [m.to for m in mailoutbox] == [[world.manager.email]]
    assert "Outside our area" in mailoutbox[0].body
    assert world.a not in services.assignable_accounts(world.manager, lead)
    with pytest.raises(ValidationError):
        services.assign_lead(actor=world.manager, lead=lead, account=world.a)
    services.assign_lead(actor=world.manager, lead=lead, account=world.a_child)


def test_an_accepted_lead_cannot_be_rejected(world, assigned):
    services.accept_lead(actor=world.member_a, lead=assigned)
    with pytest.raises(ValidationError):
        services.reject_lead(actor=world.member_a, lead=assigned, reason="Changed our mind")


def test_an_accepted_lead_can_be_marked_lost_with_a_reason(world, assigned):
    services.accept_lead(actor=world.member_a, lead=assigned)
    with pytest.raises(ValidationError):
        services.mark_lead_lost(actor=world.member_a, lead=assigned, reason="")
    lead = services.mark_lead_lost(actor=world.member_a, lead=assigned, reason="Went with a rival")
    assert lead.status == LeadStatus.LOST and lead.reason == "Went with a rival"
    with pytest.raises(ValidationError):
        services.mark_lead_lost(actor=world.manager, lead=lead, reason="again")


def test_a_lead_waiting_for_acceptance_cannot_be_marked_lost(world, assigned):
    with pytest.raises(ValidationError):
        services.mark_lead_lost(actor=world.manager, lead=assigned, reason="x")


# --- the acceptance SLA -----------------------------------------------------------------------


def test_overdue_leads_go_back_to_the_pool_once(world, assigned, lead):
    Lead.objects.filter(pk=assigned.pk).update(accept_by=timezone.now() - timedelta(hours=1))
    assert return_overdue_leads() == 1
    assigned.refresh_from_db()
    assert assigned.status == LeadStatus.NEW and assigned.account is None
    assert history(assigned)[-1] == ("assigned", "new")
    events = LeadEvent.objects.count()
    assert return_overdue_leads() == 0
    assert LeadEvent.objects.count() == events


def test_leads_still_within_their_deadline_stay(world, assigned):
    assert return_overdue_leads() == 0
    assigned.refresh_from_db()
    assert assigned.status == LeadStatus.ASSIGNED


def test_the_sla_return_works_in_one_batch_whatever_the_number(
    world, product, django_assert_max_num_queries
):
    for i in range(30):
        lead = services.create_lead(actor=world.manager, lead=Lead(company=f"Customer {i}"))
        services.assign_lead(actor=world.manager, lead=lead, account=world.a)
    Lead.objects.update(accept_by=timezone.now() - timedelta(minutes=5))
    # Returned, then offered to the rules (none here; tests/deals/test_lead_routing.py has them).
    with django_assert_max_num_queries(16):
        assert services.return_overdue_leads() == 30


# --- who sees what ----------------------------------------------------------------------------


def test_visibility_of_leads(world, assigned, product):
    pool = services.create_lead(actor=world.admin, lead=Lead(company="Pool Co"))
    sees = {p: set(Lead.objects.visible_to(getattr(world, p))) for p in world.personas()}
    assert sees["partner_admin_a"] == sees["member_a"] == {assigned}
    assert sees["partner_admin_b"] == set()
    assert sees["manager"] == {assigned, pool}
    assert sees["other_manager"] == {pool}
    assert sees["admin"] == {assigned, pool}


def test_a_partner_never_sees_who_had_the_lead_before(
    world, lead, django_capture_on_commit_callbacks
):
    world.b.manager = world.manager
    world.b.save()
    from partners.services import sync_account_permissions

    sync_account_permissions([world.b.pk])
    services.assign_lead(actor=world.manager, lead=lead, account=world.b)
    services.reject_lead(actor=world.partner_admin_b, lead=lead, reason="Contoso's secret reason")
    services.assign_lead(actor=world.manager, lead=lead, account=world.a)
    seen = LeadEvent.objects.visible_to(world.member_a).filter(lead=lead)
    assert all(e.account_id in (world.a.pk, None) for e in seen)
    assert "Contoso's secret reason" not in {e.reason for e in seen}
    assert not LeadRejection.objects.visible_to(world.member_a).exists()
    assert LeadEvent.objects.visible_to(world.manager).filter(reason__contains="secret").exists()
