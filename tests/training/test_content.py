"""Lesson text is Markdown or HTML, sanitised through an allow-list before it reaches a page."""

from __future__ import annotations

import pytest

from training.content import render_lesson_body


@pytest.mark.parametrize(
    "hostile",
    [
        "<script>alert('x')</script>",
        '<img src="x.png" onerror="alert(1)">',
        "[click](javascript:alert(1))",
        '<a href="JaVaScRiPt:alert(1)">click</a>',
        '<p onclick="alert(1)">text</p>',
        '<iframe src="https://evil.example"></iframe>',
        "<style>body{display:none}</style>",
        '<a href="data:text/html,<script>alert(1)</script>">x</a>',
    ],
)
def test_hostile_markup_is_removed(hostile):
    html = render_lesson_body(f"Intro\n\n{hostile}\n\nOutro").lower()
    for marker in ("<script", "onerror", "onclick", "javascript:", "<iframe", "<style", "data:"):
        assert marker not in html
    assert "intro" in html and "outro" in html


def test_markdown_becomes_html_and_links_are_safe():
    html = render_lesson_body(
        "# Welcome\n\nSome **bold** and a [link](https://example.com).\n\n- one\n- two"
    )
    assert "<h2>Welcome</h2>" in html  # the page's own title is the h1
    assert "<strong>bold</strong>" in html
    assert '<a href="https://example.com" rel="noopener noreferrer">link</a>' in html
    assert "<li>one</li>" in html


def test_empty_body_renders_nothing():
    assert render_lesson_body("") == ""
