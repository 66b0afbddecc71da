"""Lesson text: Markdown (or HTML) turned into HTML that is safe to show, through an allow-list."""

from __future__ import annotations

import markdown
import nh3
from django.utils.safestring import SafeString, mark_safe

#: What a lesson may contain. Anything else is dropped (its text kept), scripts and styles with
#: their content; no ``on*`` attribute, no ``style``, no ``class``.
ALLOWED_TAGS = {
    "p", "br", "hr", "h2", "h3", "h4", "h5", "ul", "ol", "li", "strong", "em", "b", "i", "code",
    "pre", "blockquote", "a", "img", "table", "thead", "tbody", "tr", "th", "td",
}  # fmt: skip
ALLOWED_ATTRIBUTES = {
    "a": {"href", "title"},
    "img": {"src", "alt", "title"},
    "th": {"scope"},
}
#: No ``javascript:``, ``data:`` or ``vbscript:`` URL survives; relative links do.
URL_SCHEMES = {"http", "https", "mailto"}
DROPPED_WITH_CONTENT = {"script", "style", "iframe", "object", "embed", "template", "noscript"}


def render_lesson_body(text: str) -> SafeString:
    """The lesson's text as sanitised HTML: Markdown first (raw HTML in it passes through to the
    sanitiser), then nh3 with the allow-list; links get ``rel="noopener noreferrer"``."""
    html = markdown.markdown(
        text or "",
        extensions=["tables", "fenced_code", "sane_lists", "toc"],
        # The page's own title is the h1: a lesson's "# Heading" becomes an h2.
        extension_configs={"toc": {"baselevel": 2}},
    )
    cleaned = nh3.clean(
        html,
        tags=ALLOWED_TAGS,
        clean_content_tags=DROPPED_WITH_CONTENT,
        attributes=ALLOWED_ATTRIBUTES,
        url_schemes=URL_SCHEMES,
        link_rel="noopener noreferrer",
        strip_comments=True,
    )
    return mark_safe(cleaned)  # noqa: S308 - nh3 output with the allow-list above
