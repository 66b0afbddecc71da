"""The resource library (search, filter, download counted per account) and the FAQ."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.shortcuts import render
from django.views.decorators.http import require_GET

from partners.models import PortalTab
from partners.navigation import require_tab
from prm.access import get_visible_or_404, role_of
from prm.views import page_of
from training import selectors, services
from training.content import render_lesson_body
from training.downloads import download_name, file_download
from training.forms import (
    ArticleSearchForm,
    ResourceFilterForm,
    resource_extension,
)
from training.models import Article, Resource

PAGE_SIZE = 24
FAQ_PAGE_SIZE = 50


def _resource(request, pk) -> Resource:
    require_tab(request, PortalTab.RESOURCES)
    return get_visible_or_404(Resource.objects.prefetch_related("tags"), request.user, pk=pk)


# --- the library ----------------------------------------------------------------------------


@login_required
@require_GET
def resource_list(request):
    require_tab(request, PortalTab.RESOURCES)
    form = ResourceFilterForm(request.GET or None, user=request.user)
    resources = selectors.library(request.user, **form.filters())
    return render(
        request,
        "training/resource_list.html",
        {
            "filter": {"form": form},
            "layout": form.layout,
            "page_obj": page_of(request, resources, PAGE_SIZE),
            "is_partner": role_of(request.user).is_partner,
        },
    )


@login_required
@require_GET
def resource_detail(request, pk):
    resource = _resource(request, pk)
    is_partner = role_of(request.user).is_partner
    return render(
        request,
        "training/resource_detail.html",
        {
            "resource": resource,
            "tags": list(resource.tags.all()),
            "extension": resource_extension(resource.file.name).lstrip(".").upper(),
            "is_partner": is_partner,
            "total_downloads": None if is_partner else selectors.download_total(resource),
            "my_downloads": selectors.my_account_downloads(request.user, resource)
            if is_partner
            else 0,
        },
    )


@login_required
@require_GET
def resource_download(request, pk):
    """The file as an attachment (never rendered inline), counted for the partner's account."""
    resource = _resource(request, pk)
    response = file_download(
        resource.file,
        download_name(
            resource.title,
            resource.file.name,
            fallback=f"resource-{resource.pk}",
            version=resource.version,
        ),
        missing="The file of this resource is missing; tell your partner manager.",
    )
    services.record_download(user=request.user, resource=resource)
    return response


# --- the FAQ / knowledge base ---------------------------------------------------------------


@login_required
@require_GET
def article_list(request):
    require_tab(request, PortalTab.RESOURCES)
    form = ArticleSearchForm(request.GET or None)
    articles = selectors.knowledge_base(request.user, q=form.query())
    return render(
        request,
        "training/article_list.html",
        {
            "filter": {"form": form},
            "page_obj": page_of(
                request,
                articles.only("pk", "title", "slug", "category", "published"),
                FAQ_PAGE_SIZE,
            ),
            "is_partner": role_of(request.user).is_partner,
        },
    )


@login_required
@require_GET
def article_detail(request, slug):
    require_tab(request, PortalTab.RESOURCES)
    article = get_visible_or_404(Article.objects, request.user, slug=slug)
    related = (
        selectors.knowledge_base(request.user)
        .filter(category=article.category)
        .exclude(pk=article.pk)
        .only("pk", "title", "slug")[:5]
    )
    return render(
        request,
        "training/article_detail.html",
        {
            "article": article,
            "body": render_lesson_body(article.body),
            "related": list(related),
            "is_partner": role_of(request.user).is_partner,
        },
    )
