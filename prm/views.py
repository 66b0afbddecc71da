"""Shared view building blocks and the project-level views: home, health check, the bell."""

from urllib.parse import urlsplit

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.contrib.auth.views import redirect_to_login
from django.core.paginator import EmptyPage, PageNotAnInteger
from django.db import connection
from django.http import JsonResponse
from django.shortcuts import redirect, render
from django.template.defaultfilters import pluralize
from django.urls import reverse
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods, require_POST
from django_filters.views import FilterView
from django_htmx.http import HttpResponseClientRedirect
from django_tables2 import SingleTableMixin
from django_tables2.paginators import LazyPaginator

from prm.access import get_visible_or_404, require, role_of
from prm.models import Notification


@login_required
def home(request):
    role = role_of(request.user)
    if role.is_partner:
        return redirect("partners:portal_home")
    if role.is_internal:
        return redirect("partners:partner_list")
    return redirect("account_logout")


@never_cache
def healthz(request):
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
    return JsonResponse({"status": "ok"})


class ScopedTableView(SingleTableMixin, FilterView):
    """A list page: declare ``model``, ``table_class``, ``filterset_class``, ``template_name``.

    Rows always start from ``model.objects.visible_to(user)``; ``export=True`` in ``as_view``
    turns the same page into a CSV of every filtered row.
    """

    export = False
    export_filename = "export.csv"
    # django-tables2 takes the paginator from the view, not the table: no COUNT(*) per page view.
    paginator_class = LazyPaginator
    # Not ``paginate_by``: that would make ListView paginate (and query) the rows a second time.
    table_pagination = {"per_page": 25}
    internal_only = False

    def dispatch(self, request, *args, **kwargs):
        if not request.user.is_authenticated:
            return redirect_to_login(request.get_full_path())
        if self.internal_only:
            require(role_of(request.user).is_internal, "This page is for partner managers.")
        return super().dispatch(request, *args, **kwargs)

    def get_queryset(self):
        return self.model.objects.visible_to(self.request.user)

    def get_filterset_kwargs(self, filterset_class):
        kwargs = super().get_filterset_kwargs(filterset_class)
        kwargs["request"] = self.request
        return kwargs

    def get_table_pagination(self, table):
        return False if self.export else super().get_table_pagination(table)

    def render_to_response(self, context, **kwargs):
        if self.export:
            return context["table"].as_csv_response(self.export_filename)
        return super().render_to_response(context, **kwargs)


def page_of(request, items, per_page: int, param: str = "page"):
    """One page of ``items`` without a COUNT(*) (one extra row tells whether a next page
    exists); a page past the end, or not a number, shows the first page instead of an error.
    The page carries ``previous_url`` and ``next_url`` that keep the other query parameters."""
    paginator = LazyPaginator(items, per_page)
    try:
        page = paginator.page(request.GET.get(param) or 1)
    except (EmptyPage, PageNotAnInteger):
        page = paginator.page(1)
    query = request.GET.copy()

    def link(number):
        query[param] = number
        return f"?{query.urlencode()}"

    page.previous_url = link(page.previous_page_number()) if page.has_previous() else ""
    page.next_url = link(page.next_page_number()) if page.has_next() else ""
    return page


def apply_errors(form, error) -> None:
    """A service's ValidationError shown on the form: at its field when the form has one."""
    if hasattr(error, "error_dict"):
        for name, errors in error.error_dict.items():
            form.add_error(name if name in form.fields else None, errors)
    else:
        form.add_error(None, error)


def render_htmx_or_redirect(request, *, partial: str, context: dict, redirect_to: str):
    """After an in-page action: HTMX gets the fragment (and the messages, out of band);
    a plain form post is redirected back so a reload never re-submits."""
    if getattr(request, "htmx", False):
        return render(request, partial, {**context, "oob_messages": True})
    return redirect(redirect_to)


# --- notifications: the bell's menu, the list, opening one, marking all read --------------------

#: How many of the latest notifications the bell's dropdown shows.
BELL_MENU_SIZE = 8
NOTIFICATIONS_PER_PAGE = 25


def site_path(url: str) -> str | None:
    """``url`` when it is a path on this site (``/registrations/42/``), else None.

    A notification's link is followed only to our own pages: no scheme, no host, no
    protocol-relative ``//host`` or ``/\\host`` and no control characters that browsers strip.
    """
    if not url or not url.startswith("/") or url.startswith(("//", "/\\")):
        return None
    if any(ord(char) < 33 or ord(char) == 127 for char in url):
        return None
    parts = urlsplit(url)
    if parts.scheme or parts.netloc:
        return None
    return url if url_has_allowed_host_and_scheme(url, allowed_hosts=None) else None


def _list_or(target: str) -> str:
    """``target`` if it is a page of this site, else the notification list."""
    return site_path(target) or reverse("notifications")


@login_required
def notification_list(request):
    """Everything the bell has said to this person, newest first, unread ones highlighted."""
    only_unread = request.GET.get("show") == "unread"
    notifications = Notification.objects.visible_to(request.user).order_by("-created_at", "-pk")
    if only_unread:
        notifications = notifications.unread()
    page = page_of(request, notifications, NOTIFICATIONS_PER_PAGE)
    return render(
        request,
        "prm/notifications.html",
        {"page_obj": page, "notifications": page.object_list, "only_unread": only_unread},
    )


@never_cache
def notification_menu(request):
    """The bell's dropdown (loaded by HTMX when it opens): the latest few, read or not."""
    current = site_path(request.htmx.current_url_abs_path or "") if request.htmx else None
    if not request.user.is_authenticated:
        if request.htmx:  # the session ended: the whole page goes to the sign-in form
            return HttpResponseClientRedirect(redirect_to_login(current or "/").url)
        return redirect_to_login(request.get_full_path())
    notifications = Notification.objects.visible_to(request.user).order_by("-created_at", "-pk")
    return render(
        request,
        "prm/partials/notification_menu.html",
        {
            "notifications": notifications[:BELL_MENU_SIZE],
            "next_url": current or "",
        },
    )


@login_required
@require_http_methods(["GET", "POST"])
def notification_open(request, pk):
    """Mark one notification read and go to its page.

    A link (GET), not a form: it is a navigation (open in a new tab works), and the only change
    is the person's own read mark, which is idempotent. Another person's notification is a 404;
    a link that leaves the site is never followed (the list instead).
    """
    notification = get_visible_or_404(Notification.objects, request.user, pk=pk)
    if notification.read_at is None:
        Notification.objects.visible_to(request.user).unread().filter(pk=notification.pk).update(
            read_at=timezone.now()
        )
    target = site_path(notification.url)
    if target is None:
        if notification.url:
            messages.info(request, "This notification's link is not a page of this site.")
        return redirect("notifications")
    return redirect(target)


@login_required
@require_POST
def notifications_read_all(request):
    """Mark every unread notification of this person read, then back to where they were."""
    marked = Notification.objects.visible_to(request.user).unread().update(read_at=timezone.now())
    if marked:
        messages.success(request, f"Marked {marked} notification{pluralize(marked)} as read.")
    return redirect(_list_or(request.POST.get("next", "")))


# --- email preferences: signed in, at the signed link of an email, and one-click unsubscribe ----


def _link_refused(request, *, title: str, text: str, status: int):
    return render(
        request,
        "prm/link_refused.html",
        {
            "title": title,
            "text": text,
            "next": reverse("notification_preferences"),
            "next_label": "Your email preferences",
            "sign_in_label": "Sign in to change your email preferences",
        },
        status=status,
    )


def _person_of_link(request, token: str, *, salt: str):
    """(the person, their data) a link of an email is for, or (None, a refusal page)."""
    from django.contrib.auth import get_user_model
    from django.core import signing

    from prm.mail import read_token

    try:
        data = read_token(token, salt=salt)
    except signing.SignatureExpired:
        return None, _link_refused(
            request,
            title="This link has expired",
            text="Links in our emails work for 90 days. Use the link of a newer email, or sign "
            "in and open Email preferences from your account menu.",
            status=410,
        )
    except signing.BadSignature:
        return None, _link_refused(
            request,
            title="This link is not valid",
            text="It may have been cut short when it was copied. Use the link in the email "
            "as it is, or sign in and open Email preferences from your account menu.",
            status=400,
        )
    person = get_user_model().objects.filter(pk=data["u"], is_active=True).first()
    if person is None:
        return None, _link_refused(
            request,
            title="This link is not valid",
            text="The account it was sent to no longer exists.",
            status=400,
        )
    if request.user.is_authenticated and request.user.pk != person.pk:
        return None, _link_refused(
            request,
            title="This link is for someone else",
            text="You are signed in as another person. Sign out to use it, or change your own "
            "email preferences from your account menu.",
            status=403,
        )
    return person, data


def _email_preferences(request, person, *, token: str = ""):
    from prm.forms import EmailPreferencesForm
    from prm.models import NotificationPreference
    from prm.notifications import topics_for

    # ``person`` is the signed-in user, or the person a signed link names (checked above).
    saved = dict(NotificationPreference.objects.visible_to(person).values_list("topic", "mode"))
    form = EmailPreferencesForm(
        request.POST or None, user=person, topics=topics_for(person), saved=saved
    )
    if request.method == "POST":
        if form.is_valid():
            form.save()
            messages.success(request, "Your email preferences are saved.")
            return redirect(request.path)
        messages.error(request, "Some choices are missing: see the topics marked below.")
    return render(
        request,
        "prm/notification_preferences.html",
        {"form": form, "person": person, "signed_link": bool(token)},
    )


@login_required
@require_http_methods(["GET", "POST"])
def notification_preferences(request):
    """Which emails this person gets: per topic, instant, in the daily digest, or none."""
    return _email_preferences(request, request.user)


@never_cache
@require_http_methods(["GET", "POST"])
def notification_preferences_signed(request, token):
    """The same form at the signed link in every email: no sign-in, only that person's."""
    from prm.mail import PREFERENCES_SALT

    person, refusal = _person_of_link(request, token, salt=PREFERENCES_SALT)
    if person is None:
        return refusal
    return _email_preferences(request, person, token=token)


@csrf_exempt  # mail clients POST here (RFC 8058); the signed token is the credential
@never_cache
@require_http_methods(["GET", "POST"])
def notification_unsubscribe(request, token):
    """``List-Unsubscribe``: a POST turns off the email of that email's topics for its person;
    a GET (a person following the link, or a scanner prefetching it) only asks to confirm."""
    from prm.forms import turn_off
    from prm.mail import UNSUBSCRIBE_SALT, preferences_token
    from prm.notifications import get_topic

    person, data = _person_of_link(request, token, salt=UNSUBSCRIBE_SALT)
    if person is None:
        return data
    topics = [topic for code in data.get("t") or [] if (topic := get_topic(code))]
    if request.method == "POST" and topics:
        turn_off(person, [topic.code for topic in topics])
    return render(
        request,
        "prm/notification_unsubscribe.html",
        {
            "person": person,
            "topics": topics,
            "done": request.method == "POST",
            "preferences_url": reverse(
                "notification_preferences_signed", args=[preferences_token(person)]
            ),
        },
    )
