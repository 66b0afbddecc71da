"""The product catalogue: who sees which products, and the rules the database holds."""

import pytest
from django.core.management import call_command
from django.db import IntegrityError

from deals.models import Product

pytestmark = pytest.mark.django_db


@pytest.fixture
def catalogue():
    offered = Product.objects.create(name="Gateway", sku="GW-1", family="Network", list_price=10)
    retired = Product.objects.create(
        name="Old gateway", sku="GW-0", family="Network", list_price=5, active=False
    )
    return offered, retired


@pytest.mark.parametrize("persona", ["member_a", "partner_admin_a", "partner_admin_b"])
def test_partners_see_only_products_that_can_be_offered(world, catalogue, persona):
    offered, retired = catalogue
    visible = set(Product.objects.visible_to(getattr(world, persona)))
    assert offered in visible and retired not in visible


@pytest.mark.parametrize("persona", ["manager", "admin"])
def test_internal_users_see_the_whole_catalogue(world, catalogue, persona):
    assert set(Product.objects.visible_to(getattr(world, persona))) == set(catalogue)


def test_anonymous_sees_no_product(catalogue):
    from django.contrib.auth.models import AnonymousUser

    assert not Product.objects.visible_to(AnonymousUser()).exists()


def test_a_negative_price_is_refused_by_the_database():
    with pytest.raises(IntegrityError):
        Product.objects.create(name="Broken", sku="X-1", family="Network", list_price=-1)


def test_skus_are_unique_whatever_their_case(catalogue):
    with pytest.raises(IntegrityError):
        Product.objects.create(name="Again", sku="gw-1", family="Network", list_price=1)


def test_seed_demo_adds_the_catalogue_once():
    call_command("seed_demo", partners=3, verbosity=0)
    first = Product.objects.count()
    call_command("seed_demo", partners=3, verbosity=0)
    assert first == Product.objects.count() == 8
    assert Product.objects.filter(active=False).count() == 1
