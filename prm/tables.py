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

    def _export_getters(self):
        """One plain function per exported column: ``value_<name>`` if the table defines it,
        else the accessor (choice fields by their label). Skips django-tables2's per-cell
        rendering machinery, which costs about a millisecond a row."""
        getters = []
        for column in self.columns.iterall():
            if column.column.exclude_from_export:
                continue
            method = getattr(self, f"value_{column.name}", None)
            if method is not None:
                getters.append((column.header, lambda record, m=method: m(record=record)))
                continue
            accessor = column.accessor
            field = accessor.get_field(self._meta.model) if self._meta.model else None
            if field is not None and field.choices:
                display = f"get_{field.name}_display"
                prefix = accessor.split(accessor.SEPARATOR)[:-1]
                owner = type(accessor)(accessor.SEPARATOR.join(prefix)) if prefix else None
                getters.append(
                    (
                        column.header,
                        lambda record, o=owner, d=display: getattr(
                            o.resolve(record) if o else record, d
                        )(),
                    )
                )
            else:
                getters.append(
                    (column.header, lambda record, a=accessor: a.resolve(record, quiet=True))
                )
        return getters

    def as_csv_response(self, filename: str) -> StreamingHttpResponse:
        """Every filtered row (not one page), streamed in chunks, cells neutralised against
        spreadsheet formulas."""
        self._tie_break()
        getters = self._export_getters()
        records = self.data.data.iterator(chunk_size=2000)
        return csv_response(
            filename,
            [header for header, _ in getters],
            ([get(record) for _, get in getters] for record in records),
        )


def csv_response(filename: str, header, rows) -> StreamingHttpResponse:
    """A streamed CSV download: ``header`` then ``rows`` (any iterable of sequences), every cell
    neutralised against spreadsheet formulas."""
    writer = csv.writer(_Echo())

    def lines():
        yield writer.writerow([safe_cell(cell) for cell in header])
        for row in rows:
            yield writer.writerow([safe_cell(cell) for cell in row])

    response = StreamingHttpResponse(lines(), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response
