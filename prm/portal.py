"""Panels of the partner portal's home page, contributed by apps that ``partners`` must not read.

An app registers a panel in its ``AppConfig.ready``::

    register_home_panel("onboarding", "training/partials/onboarding_home_panel.html", fn)

``fn(request)`` returns the panel's template context, or ``None`` to leave the panel out (for
example when the user has nothing to see). The portal home renders ``home_panels(request)`` in
registration order. ``prm`` reads none of the apps: the apps come to it.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from django.template.loader import render_to_string

__all__ = ["HomePanel", "home_panels", "register_home_panel"]


@dataclass(frozen=True)
class HomePanel:
    name: str
    template: str
    context: dict
    html: str  # rendered with the request (safe): ``{{ panel.html }}``


_PANELS: dict[str, tuple[str, Callable]] = {}


def register_home_panel(name: str, template: str, context_fn: Callable) -> None:
    """Add (or replace, by ``name``) a panel of the portal home."""
    _PANELS[name] = (template, context_fn)


def home_panels(request) -> list[HomePanel]:
    """The panels to show to ``request.user``: those whose context function returned a dict."""
    panels = []
    for name, (template, context_fn) in _PANELS.items():
        context = context_fn(request)
        if context is not None:
            html = render_to_string(template, context, request=request)
            panels.append(HomePanel(name=name, template=template, context=context, html=html))
    return panels
