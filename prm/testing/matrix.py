"""The URL walker of the permission matrix: every pattern of the resolver, and its answers.

``iter_routes()`` lists every URL pattern (recursively, with namespaces). A test module declares a
``Case`` per pattern (how to build its URL from the world, which method, what each persona gets) or
a rule that covers a whole family of patterns (Django admin's per-model views);
``coverage_problems`` reports patterns nobody declared and declarations that match no pattern.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from django.urls import URLPattern, URLResolver, get_resolver, resolve, reverse

#: Who the matrix requests every URL as (attribute names of ``prm.testing.world.World``).
PERSONAS = (
    "anonymous",
    "member_a",
    "partner_admin_a",
    "partner_admin_b",
    "manager",
    "other_manager",
    "admin",
)


@dataclass(frozen=True)
class Route:
    """One URL pattern as the resolver sees it."""

    name: (
        str | None
    )  # qualified: "partners:partner", "admin:index", "account_login"; None if unnamed
    route: str  # the whole pattern text from the root: "partners/<int:pk>/"
    namespace: str  # "partners", "admin", "" for none
    callback: Callable

    @property
    def key(self) -> str:
        """How the matrix names it: the URL name, or the pattern text of an unnamed pattern."""
        return self.name or self.route


def iter_routes(resolver: URLResolver | None = None) -> list[Route]:
    """Every URL pattern reachable from ``resolver`` (the root URLconf by default)."""
    routes: list[Route] = []

    def walk(node: URLResolver, prefix: str, namespace: str) -> None:
        for entry in node.url_patterns:
            text = _join(prefix, str(entry.pattern))
            if isinstance(entry, URLResolver):
                inner = namespace
                if entry.namespace:
                    inner = f"{namespace}:{entry.namespace}" if namespace else entry.namespace
                walk(entry, text, inner)
            elif isinstance(entry, URLPattern):
                name = None
                if entry.name:
                    name = f"{namespace}:{entry.name}" if namespace else entry.name
                routes.append(Route(name, text, namespace, entry.callback))

    walk(resolver or get_resolver(), "", "")
    return routes


def _join(prefix: str, pattern: str) -> str:
    # As the resolver joins them (URLResolver._join_route), so that ``resolve(url).route``
    # equals the text computed here.
    return prefix + pattern.removeprefix("^") if prefix else pattern


@dataclass(frozen=True)
class Redirect:
    """A redirect (any 3xx, asserted as 302), optionally to a given page.

    ``to`` is a URL name; the Location's path must be that page (query string ignored).
    """

    to: str = ""

    def describe(self) -> str:
        return f"302 → {self.to}" if self.to else "302"

    def matches(self, response) -> bool:
        if response.status_code not in (301, 302, 303, 307, 308):
            return False
        if not self.to:
            return True
        location = response.headers.get("Location", "")
        return location.split("?", 1)[0] == reverse(self.to)


#: Sent to the sign-in page (not logged in, or the session was ended).
LOGIN = Redirect("account_login")
#: Sent to the admin's sign-in page (which itself hands over to allauth's).
ADMIN_LOGIN = Redirect("admin:login")
#: Any redirect: after a successful action, or to the page the user belongs on.
REDIRECT = Redirect()

Expectation = int | Redirect


def describe(expected: Expectation) -> str:
    return expected.describe() if isinstance(expected, Redirect) else str(expected)


def answer_matches(expected: Expectation, response) -> bool:
    if isinstance(expected, Redirect):
        return expected.matches(response)
    return response.status_code == expected


@dataclass(frozen=True)
class Case:
    """How to request one URL pattern and what each persona must get.

    ``kwargs`` builds the URL's keyword arguments from the world; ``path`` builds the whole path
    instead (for unnamed patterns, which ``reverse`` can't build). ``data`` is the POST body.
    """

    expect: Mapping[str, Expectation]
    kwargs: Callable[[Any], dict] | None = None
    path: Callable[[Any], str] | None = None
    method: str = "GET"
    data: Callable[[Any], dict] | None = None
    headers: Mapping[str, str] = field(default_factory=dict)
    why: str = ""

    def __post_init__(self):
        missing = set(PERSONAS) - set(self.expect)
        unknown = set(self.expect) - set(PERSONAS)
        if missing or unknown:
            raise ValueError(f"expectations must name every persona: missing {missing}, {unknown}")

    def url(self, route: Route, world) -> str:
        if self.path is not None:
            return self.path(world)
        if route.name is None:
            raise ValueError(f"{route.route}: an unnamed pattern needs path=")
        return reverse(route.name, kwargs=self.kwargs(world) if self.kwargs else None)


def same_for(personas: Iterable[str], expected: Expectation) -> dict[str, Expectation]:
    return dict.fromkeys(personas, expected)


def everyone(expected: Expectation, **overrides: Expectation) -> dict[str, Expectation]:
    """The same answer for every persona, except those named."""
    return {**same_for(PERSONAS, expected), **overrides}


#: A rule covers the patterns it returns a Case for (None: not mine).
Rule = Callable[[Route], "Case | None"]


def case_for(route: Route, cases: Mapping[str, Case], rules: Iterable[Rule]) -> Case | None:
    """The explicit case for a pattern if there is one, else the first rule that covers it."""
    if route.key in cases:
        return cases[route.key]
    for rule in rules:
        found = rule(route)
        if found is not None:
            return found
    return None


def coverage_problems(
    routes: Iterable[Route], cases: Mapping[str, Case], rules: Iterable[Rule]
) -> list[str]:
    """Patterns with no case and no rule, duplicated keys, and cases that match no pattern."""
    routes = list(routes)
    rules = list(rules)
    problems = []
    keys = [r.key for r in routes]
    for key in sorted({k for k in keys if keys.count(k) > 1}):
        problems.append(f"two patterns are both called {key!r}: the matrix can't tell them apart")
    for route in routes:
        if case_for(route, cases, rules) is None:
            problems.append(f"no matrix entry for {route.key!r} ({route.route})")
    for key in sorted(set(cases) - set(keys)):
        problems.append(f"stale matrix entry {key!r}: no URL pattern has this name any more")
    return problems


def check_resolves_to(route: Route, url: str) -> None:
    """The URL the matrix built really is served by this pattern (not a neighbour)."""
    match = resolve(url.split("?", 1)[0])
    if match.route != route.route:
        raise AssertionError(f"{url} resolves to {match.route!r}, not to {route.route!r}")
