"""The FAQ / knowledge base: sanitised Markdown, visibility by tier and publication, search
grouped by category."""

from __future__ import annotations

import pytest
from django.urls import reverse

from partners.models import Tier
from prm.testing.fixtures import login_as
from training.models import Article

pytestmark = pytest.mark.django_db


def make_article(title="How do I register a deal?", *, slug=None, category="Deals", **fields):
    fields.setdefault("body", "Open **Deals** and click *Register*.")
    return Article.objects.create(
        title=title,
        slug=slug or title.lower().replace(" ", "-").strip("?"),
        category=category,
        **fields,
    )


def test_the_body_is_rendered_markdown_without_scripts_or_event_handlers(client, world):
    article = make_article(
        body=(
            "Read **this**.\n\n<script>alert('x')</script>\n\n"
            '<img src="x" onerror="alert(1)">\n\n<a href="javascript:alert(2)">click</a>\n\n'
            '<p onclick="steal()">Hello</p>'
        )
    )
    login_as(client, world.member_a)
    page = client.get(reverse("training:article", args=[article.slug])).content.decode()
    assert "<strong>this</strong>" in page
    body = page[page.find("article-body") :]
    assert "<script>alert" not in body
    assert "onerror" not in page and "onclick" not in page
    assert "javascript:alert" not in page
    assert "Hello" in page


def test_an_unpublished_article_is_a_404_for_partners_and_a_preview_for_internal_users(
    client, world
):
    article = make_article(published=False)
    url = reverse("training:article", args=[article.slug])
    for user in (world.member_a, world.partner_admin_b):
        login_as(client, user)
        assert client.get(url).status_code == 404
        assert article.title not in client.get(reverse("training:article_list")).content.decode()
    login_as(client, world.manager)
    assert client.get(url).status_code == 200


def test_an_article_for_another_tier_is_a_404_for_partners(client, world):
    article = make_article()
    article.tiers.add(Tier.objects.create(name="Test Platinum", rank=95))
    url = reverse("training:article", args=[article.slug])
    for user in (world.member_a, world.partner_admin_b):
        login_as(client, user)
        assert client.get(url).status_code == 404
    article.tiers.add(world.tier)
    login_as(client, world.member_a)
    assert client.get(url).status_code == 200


def test_the_faq_is_grouped_by_category_and_searchable(client, world):
    make_article("How long is a deal protected?", category="Deal registration")
    make_article("Do certificates expire?", category="Training", body="Yes, after a year.")
    make_article("How do I invite a colleague?", category="Portal", body="Open My company.")
    login_as(client, world.member_a)
    page = client.get(reverse("training:article_list")).content.decode()
    headings = [f">{name}</h2>" for name in ("Deal registration", "Portal", "Training")]
    positions = [page.index(heading) for heading in headings]
    assert positions == sorted(positions)
    found = client.get(reverse("training:article_list") + "?q=a+year").content.decode()
    assert "Do certificates expire?" in found
    assert "How long is a deal protected?" not in found
    none = client.get(reverse("training:article_list") + "?q=zzz").content.decode()
    assert "No article matches your search" in none


def test_an_empty_faq_says_so(client, world):
    login_as(client, world.member_a)
    assert "No articles yet" in client.get(reverse("training:article_list")).content.decode()


def test_the_library_and_faq_link_to_each_other(client, world):
    login_as(client, world.member_a)
    faq = client.get(reverse("training:article_list")).content.decode()
    assert reverse("training:resource_list") in faq
    library = client.get(reverse("training:resource_list")).content.decode()
    assert reverse("training:article_list") in library
