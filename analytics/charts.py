"""Charts: plotly figures built on the server from aggregated data, drawn by plotly.js from
``static/`` (the basic bundle: bar, scatter, pie), each with the same data as CSV.

A chart is registered once by key with ``@chart("key")``: a builder ``(request) -> Chart`` that
scopes everything from ``request.user`` (it is also what the CSV URL runs, with the page's query
string). Pages render it with ``{% include "analytics/partials/chart.html" with chart=... %}``.

Charts read without colour alone: every series also differs by marker symbol, dash or bar
pattern, values are printed on bars, and each chart has a text summary and its CSV.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from decimal import Decimal

from django.http import Http404
from django.utils.safestring import mark_safe

#: Distinct non-colour encodings, assigned to series in order.
SYMBOLS = ("circle", "square", "diamond", "triangle-up", "x", "star", "cross", "hexagon")
DASHES = ("solid", "dash", "dot", "dashdot", "longdash", "longdashdot")
PATTERNS = ("", "/", ".", "x", "\\", "+", "-", "|")
#: A palette that stays apart for the common colour-vision deficiencies (Okabe–Ito).
COLOURS = ("#0072B2", "#E69F00", "#009E73", "#CC79A7", "#56B4E9", "#D55E00", "#F0E442", "#000000")

_JSON_ESCAPES = {ord("<"): "\\u003C", ord(">"): "\\u003E", ord("&"): "\\u0026"}


@dataclass
class Series:
    name: str
    values: list  # one per category (x), None where there is no value


@dataclass
class Chart:
    key: str
    title: str
    kind: str  # "bar", "hbar", "line", "stacked"
    categories: list  # x values (labels), in order
    series: list[Series]
    y_title: str = ""
    x_title: str = ""
    money: bool = False
    summary: str = ""  # one or two sentences: what the chart shows, for screen readers
    empty_message: str = "No data for this period yet."
    query: str = ""  # the page's query string, kept on the CSV link
    extra: dict = field(default_factory=dict)

    @property
    def is_empty(self) -> bool:
        return not any(v not in (None, 0) for s in self.series for v in s.values)

    @property
    def dom_id(self) -> str:
        return f"chart-{self.key}"

    # the same data, as a table

    def csv_header(self) -> list[str]:
        return [self.x_title or "", *[s.name for s in self.series]]

    def csv_rows(self) -> list[list]:
        return [
            [category, *[_plain(s.values[i]) for s in self.series]]
            for i, category in enumerate(self.categories)
        ]

    # the figure

    def figure(self) -> dict:
        import plotly.graph_objects as go

        traces = []
        # Values on bars while they fit; past that, hover and the CSV carry them.
        label_bars = len(self.categories) * max(1, len(self.series)) <= 24
        for i, series in enumerate(self.series):
            colour = COLOURS[i % len(COLOURS)]
            values = [_plain(v) for v in series.values]
            text = [_label(v, self.money) for v in series.values]
            if self.kind in ("bar", "stacked", "hbar"):
                horizontal = self.kind == "hbar"
                traces.append(
                    go.Bar(
                        name=series.name,
                        x=values if horizontal else self.categories,
                        y=self.categories if horizontal else values,
                        orientation="h" if horizontal else "v",
                        text=text if label_bars else None,
                        textposition="inside" if self.kind == "stacked" else "outside",
                        textangle=0,
                        cliponaxis=False,
                        marker={
                            "color": colour,
                            "pattern": {"shape": PATTERNS[i % len(PATTERNS)]},
                        },
                        hovertemplate=f"%{{{'y' if horizontal else 'x'}}}: %{{text}}"
                        f"<extra>{_escape(series.name)}</extra>",
                    )
                )
            else:
                traces.append(
                    go.Scatter(
                        name=series.name,
                        x=self.categories,
                        y=values,
                        mode="lines+markers",
                        line={"color": colour, "dash": DASHES[i % len(DASHES)], "width": 2},
                        marker={"symbol": SYMBOLS[i % len(SYMBOLS)], "size": 8},
                        text=text,
                        hovertemplate=f"%{{x}}: %{{text}}<extra>{_escape(series.name)}</extra>",
                    )
                )
        value_axis = {"rangemode": "tozero", "automargin": True}
        numbers = [v for s in self.series for v in s.values if v is not None]
        if not self.money and all(isinstance(v, int) for v in numbers):
            value_axis["tickformat"] = ",d"  # counts: no 0.5 ticks
            if max(numbers, default=0) <= 10:
                value_axis["dtick"] = 1  # nor the same whole number printed twice
        category_axis = {"automargin": True, "tickangle": 0 if len(self.categories) <= 6 else -30}
        if self.kind == "hbar":
            xaxis = {**value_axis, "title": {"text": self.y_title}}
            yaxis = {**category_axis, "autorange": "reversed", "tickangle": 0}
        else:
            xaxis = {**category_axis, "title": {"text": self.x_title}}
            yaxis = {**value_axis, "title": {"text": self.y_title}}
        layout = go.Layout(
            barmode="stack" if self.kind == "stacked" else "group",
            # Room on the right for the values printed past the end of horizontal bars.
            margin={
                "l": 56,
                "r": 96 if self.kind == "hbar" else 16,
                "t": 40 if len(self.series) > 1 else 16,
                "b": 48,
            },
            height=300,
            legend={"orientation": "h", "x": 0, "xanchor": "left", "y": 1.02, "yanchor": "bottom"},
            showlegend=len(self.series) > 1,
            font={"family": "system-ui, -apple-system, 'Segoe UI', Roboto, sans-serif"},
            paper_bgcolor="rgba(0,0,0,0)",
            plot_bgcolor="rgba(0,0,0,0)",
            xaxis=xaxis,
            yaxis=yaxis,
        )
        return go.Figure(data=traces, layout=layout).to_plotly_json()

    def figure_json(self) -> str:
        """The figure as JSON, safe inside a ``<script type="application/json">``."""
        from plotly.io.json import to_json_plotly

        return mark_safe(to_json_plotly(self.figure()).translate(_JSON_ESCAPES))  # noqa: S308


def _plain(value):
    if isinstance(value, Decimal):
        return float(value)
    return value


def _label(value, money: bool) -> str:
    if value is None:
        return "—"
    if money:
        return f"{float(value):,.0f}"
    if isinstance(value, float):
        return f"{value:,.1f}"
    return f"{value:,}"


def _escape(text: str) -> str:
    return str(text).replace("<", "&lt;").replace(">", "&gt;")


# --- registry -----------------------------------------------------------------------------------

Builder = Callable[..., Chart]
REGISTRY: dict[str, Builder] = {}


def chart(key: str) -> Callable[[Builder], Builder]:
    """Register a chart builder ``(request) -> Chart`` under ``key`` (its CSV URL's name)."""

    def register(builder: Builder) -> Builder:
        if key in REGISTRY and REGISTRY[key] is not builder:
            raise ValueError(f"Chart {key!r} is registered twice.")
        REGISTRY[key] = builder
        return builder

    return register


def build(key: str, request) -> Chart:
    """The registered chart ``key`` for this request; 404 for an unknown key."""
    try:
        builder = REGISTRY[key]
    except KeyError as exc:
        raise Http404("No such chart.") from exc
    result = builder(request)
    result.query = request.GET.urlencode()
    return result


def series_from(categories: Sequence, groups: dict, names: dict, *, default=0) -> list[Series]:
    """Series per group from ``{(category, group): value}``: missing points get ``default``."""
    keys = sorted({g for (_, g) in groups}, key=lambda g: str(names.get(g, g)))
    return [
        Series(str(names.get(g, g)), [groups.get((c, g), default) for c in categories])
        for g in keys
    ]
