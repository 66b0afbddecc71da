"""The resource library: who sees what (tier, account, published) including the file's download
URL, the download itself (attachment, safe name, type, nosniff), download counts per account,
search and filters, and uploads refused in the admin for their type or size."""

from __future__ import annotations

import pytest
from django.core.files.base import ContentFile
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from partners.models import Tier
from prm.testing.fixtures import login_as
from training import services
from training.demo import demo_pdf, demo_png
from training.models import Resource, ResourceDownload, ResourceTag

pytestmark = pytest.mark.django_db

PDF = demo_pdf("Sample")


def make_resource(title="Sales deck", *, filename="deck.pdf", content=PDF, tags=(), **fields):
    resource = Resource(title=title, file_size=len(content), **fields)
    resource.file.save(filename, ContentFile(content), save=False)
    resource.save()
    resource.tags.set(tags)
    return resource


@pytest.fixture
def platinum():
    return Tier.objects.create(name="Test Platinum", rank=95)


def urls(resource):
    return [
        reverse("training:resource", args=[resource.pk]),
        reverse("training:resource_download", args=[resource.pk]),
    ]


# --- visibility -------------------------------------------------------------------------------


def test_a_resource_for_account_a_is_a_404_for_account_b_including_its_download(client, world):
    resource = make_resource("A's co-marketing plan")
    resource.accounts.add(world.a)
    for user in (world.member_a, world.partner_admin_a, world.manager, world.admin):
        login_as(client, user)
        for url in urls(resource):
            assert client.get(url).status_code == 200, (user, url)
    login_as(client, world.partner_admin_b)
    for url in urls(resource):
        assert client.get(url).status_code == 404, url
    listing = client.get(reverse("training:resource_list")).content.decode()
    assert "A&#x27;s co-marketing plan" not in listing and "co-marketing" not in listing


def test_a_resource_for_another_tier_is_a_404_for_partners_including_its_download(
    client, world, platinum
):
    resource = make_resource("Platinum price list")
    resource.tiers.add(platinum)
    for user in (world.member_a, world.partner_admin_b):
        login_as(client, user)
        for url in urls(resource):
            assert client.get(url).status_code == 404, (user, url)
        assert "Platinum price list" not in client.get(reverse("training:resource_list")).text
    login_as(client, world.manager)  # internal users see the whole library
    assert client.get(urls(resource)[0]).status_code == 200


def test_a_resource_for_gold_is_open_to_gold_and_closed_to_a_partner_moved_to_silver(client, world):
    resource = make_resource("Gold price list")
    resource.tiers.add(world.tier)  # the world's tier: Gold
    world.b.tier = Tier.objects.create(name="Test Silver", rank=21)
    world.b.save(update_fields=["tier"])
    login_as(client, world.member_a)
    assert client.get(urls(resource)[1]).status_code == 200
    login_as(client, world.partner_admin_b)
    for url in urls(resource):
        assert client.get(url).status_code == 404
    assert not ResourceDownload.objects.filter(account=world.b).exists()


def test_an_unpublished_resource_is_a_404_for_partners_and_a_preview_for_internal_users(
    client, world
):
    resource = make_resource("Launch deck (draft)", published=False)
    login_as(client, world.partner_admin_a)
    for url in urls(resource):
        assert client.get(url).status_code == 404
    login_as(client, world.admin)
    page = client.get(urls(resource)[0]).content.decode()
    assert "partners don&#x27;t see it" in page or "partners don't see it" in page


# --- the download -----------------------------------------------------------------------------


def test_the_download_is_an_attachment_with_a_safe_name_its_type_and_nosniff(client, world):
    resource = make_resource(
        'Deck "Q3" <script>../../etc', filename="weird name.PDF", version="2.1"
    )
    login_as(client, world.member_a)
    response = client.get(urls(resource)[1])
    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    assert response["X-Content-Type-Options"] == "nosniff"
    disposition = response["Content-Disposition"]
    assert disposition.startswith("attachment;")
    assert 'filename="deck-q3-scriptetc-21.pdf"' in disposition
    assert b"".join(response.streaming_content) == PDF


def test_a_png_is_served_as_an_image_attachment(client, world):
    resource = make_resource("Logo", filename="logo.png", content=demo_png())
    login_as(client, world.member_a)
    response = client.get(urls(resource)[1])
    assert response["Content-Type"] == "image/png"
    assert response["Content-Disposition"].startswith("attachment;")


def test_a_missing_file_is_a_404_with_nothing_counted(client, world):
    resource = make_resource("Gone")
    resource.file.storage.delete(resource.file.name)
    login_as(client, world.member_a)
    assert client.get(urls(resource)[1]).status_code == 404
    assert not ResourceDownload.objects.exists()


def test_downloads_are_counted_per_account_one_row_each(client, world):
    resource = make_resource()
    download = urls(resource)[1]
    for user in (world.member_a, world.partner_admin_a, world.partner_admin_b):
        login_as(client, user)
        assert client.get(download).status_code == 200
    rows = {row.account_id: row.count for row in ResourceDownload.objects.all()}
    assert rows == {world.a.pk: 2, world.b.pk: 1}
    login_as(client, world.member_a)
    page = client.get(urls(resource)[0]).content.decode()
    assert "downloaded 2 times" in page


def test_internal_users_download_without_counting(client, world):
    resource = make_resource()
    for user in (world.manager, world.admin):
        login_as(client, user)
        assert client.get(urls(resource)[1]).status_code == 200
    assert not ResourceDownload.objects.exists()
    assert services.record_download(user=world.admin, resource=resource) is None


def test_the_service_refuses_to_count_a_resource_the_account_does_not_see(world):
    from django.core.exceptions import PermissionDenied

    resource = make_resource()
    resource.accounts.add(world.a)
    with pytest.raises(PermissionDenied):
        services.record_download(user=world.partner_admin_b, resource=resource)
    row = services.record_download(user=world.member_a, resource=resource)
    row = services.record_download(user=world.partner_admin_a, resource=resource)
    assert (row.account_id, row.count) == (world.a.pk, 2)
    assert ResourceDownload.objects.count() == 1


# --- search and filters -----------------------------------------------------------------------


@pytest.fixture
def library(world):
    pricing = ResourceTag.objects.create(name="Pricing", slug="pricing")
    brand = ResourceTag.objects.create(name="Brand", slug="brand")
    make_resource("Price list 2026", category="price_list", tags=[pricing])
    make_resource(
        "Logo pack", category="logo", filename="logo.png", content=demo_png(), tags=[brand]
    )
    make_resource(
        "Secure Edge deck", category="sales_deck", description="Pitch with customer stories"
    )
    return {"pricing": pricing, "brand": brand}


@pytest.mark.parametrize(
    ("query", "shown", "hidden"),
    [
        ("q=customer+stories", ["Secure Edge deck"], ["Price list 2026", "Logo pack"]),
        ("q=brand", ["Logo pack"], ["Price list 2026", "Secure Edge deck"]),  # a tag's name
        ("category=price_list", ["Price list 2026"], ["Logo pack", "Secure Edge deck"]),
        ("tag=brand", ["Logo pack"], ["Price list 2026", "Secure Edge deck"]),
        ("tag=pricing&view=table", ["Price list 2026"], ["Logo pack", "Secure Edge deck"]),
        ("q=price&category=logo", [], ["Price list 2026", "Logo pack", "Secure Edge deck"]),
    ],
)
def test_search_and_filters(client, world, library, query, shown, hidden):
    login_as(client, world.member_a)
    page = client.get(reverse("training:resource_list") + "?" + query).content.decode()
    for title in shown:
        assert title in page
    for title in hidden:
        assert title not in page
    if not shown:
        assert "No resource matches these filters" in page


def test_the_table_layout_lists_download_buttons(client, world, library):
    login_as(client, world.member_a)
    page = client.get(reverse("training:resource_list") + "?view=table").content.decode()
    assert "<table" in page and 'aria-label="Download Logo pack"' in page


def test_an_empty_library_says_so(client, world):
    login_as(client, world.member_a)
    assert "No resources yet" in client.get(reverse("training:resource_list")).content.decode()


def test_the_library_paginates(client, world):
    for i in range(30):
        make_resource(f"Deck {i:02d}")
    login_as(client, world.member_a)
    first = client.get(reverse("training:resource_list")).content.decode()
    second = client.get(reverse("training:resource_list") + "?page=2").content.decode()
    assert "Deck 00" in first and "Deck 29" not in first
    assert "Deck 29" in second and 'rel="prev"' in second


# --- uploads in the admin ---------------------------------------------------------------------


def _post(client, upload, **extra):
    data = {
        "title": "Uploaded",
        "description": "",
        "category": "document",
        "version": "1",
        "published_on": "2026-01-15",
        "published": "on",
        "file": upload,
        **extra,
    }
    return client.post(reverse("admin:training_resource_add"), data)


def test_an_admin_uploads_a_pdf_and_its_size_is_kept(client, world):
    login_as(client, world.admin)
    response = _post(client, SimpleUploadedFile("deck.pdf", PDF, "application/pdf"))
    assert response.status_code == 302, response.content.decode()[:2000]
    resource = Resource.objects.get(title="Uploaded")
    assert resource.file_size == len(PDF)
    assert resource.file.name.endswith(".pdf")


@pytest.mark.parametrize(
    ("name", "content", "content_type", "message"),
    [
        ("setup.exe", b"MZ\x90\x00", "application/x-msdownload", "files .exe can"),
        ("logo.svg", b"<svg onload=alert(1)>", "image/svg+xml", "files .svg can"),
        ("page.html", b"<script>alert(1)</script>", "text/html", "files .html can"),
        ("noextension", b"%PDF-1.4", "application/pdf", "without an extension"),
        ("deck.pdf", b"<html><script>", "text/html", "was sent as text/html"),
        ("deck.pdf", b"MZ\x90\x00 not a pdf", "application/pdf", "isn&#x27;t a real .pdf file"),
        ("logo.png", PDF, "application/octet-stream", "isn&#x27;t a real .png file"),
    ],
)
def test_an_upload_of_the_wrong_type_is_refused_with_a_clear_message(
    client, world, name, content, content_type, message
):
    login_as(client, world.admin)
    response = _post(client, SimpleUploadedFile(name, content, content_type))
    assert response.status_code == 200  # the form again
    html = response.content.decode()
    assert message in html, html[html.find("errorlist") - 200 : html.find("errorlist") + 600]
    assert "PDF, Word (.docx), Excel (.xlsx), PowerPoint (.pptx), PNG or JPEG" in html or (
        "real" in message
    )
    assert 'value="Uploaded"' in html  # what was typed comes back
    assert not Resource.objects.exists()


def test_an_upload_over_the_size_limit_is_refused_with_a_clear_message(client, world, settings):
    settings.PRM_MAX_UPLOAD_MB = 1
    login_as(client, world.admin)
    big = PDF + b"0" * (1024 * 1024 + 200_000)
    response = _post(client, SimpleUploadedFile("big.pdf", big, "application/pdf"))
    assert response.status_code == 200
    assert "is 1.2 MB; files may be at most 1 MB." in response.content.decode()
    assert not Resource.objects.exists()


def test_a_page_past_the_end_shows_the_first_page(client, world):
    make_resource("Only deck")
    login_as(client, world.member_a)
    for page in ("99", "0", "abc"):
        response = client.get(reverse("training:resource_list") + f"?page={page}")
        assert response.status_code == 200 and "Only deck" in response.content.decode()
