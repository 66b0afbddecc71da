"""The base table every list uses: database pagination without COUNT(*), a stable order, CSV."""

from __future__ import annotations

import csv

import django_tables2 as tables
from django.db.models import QuerySet
from django.http import StreamingHttpResponse

#: Cells starting with these are formulas to a spreadsheet: neutralise them (ARCHITECTURE §7).
_FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")


def safe_cell(value) -> str:
    text = "" if value is None else str(value)
    return "'" + text if text.startswith(_FORMULA_PREFIXES) else text


class _Echo:
    def write(self, value):
        return value


class PRMTable(tables.Table):
    """A django-tables2 table with a unique tie-breaker in every ordering and a CSV export."""

    class Meta:
        attrs = {"class": "table table-hover align-middle mb-0"}
        template_name = "prm/partials/table.html"

    def _tie_break(self) -> None:
        queryset = getattr(self.data, "data", None)
        if isinstance(queryset, QuerySet):
            ordering = list(queryset.query.order_by) or list(queryset.model._meta.ordering)
            if not {"pk", "-pk", "id", "-id"} & {str(o) for o in ordering}:
                last_desc = bool(ordering) and str(ordering[-1]).startswith("-")
                self.data.data = queryset.order_by(*ordering, "-pk" if last_desc else "pk")

    def paginate(self, *args, **kwargs):
        self._tie_break()
        return super().paginate(*args, **kwargs)

    def as_csv_response(self, filename: str) -> StreamingHttpResponse:
        """Every filtered row (not one page), streamed, cells neutralised against formulas."""
        self._tie_break()
        writer = csv.writer(_Echo())
        rows = (writer.writerow([safe_cell(cell) for cell in row]) for row in self.as_values())
        response = StreamingHttpResponse(rows, content_type="text/csv; charset=utf-8")
        response["Content-Disposition"] = f'attachment; filename="{filename}"'
        return response
