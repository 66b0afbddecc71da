"""SQL building blocks the KPIs are written with, the same on PostgreSQL and SQLite."""

from __future__ import annotations

import statistics
from decimal import Decimal

from django.db.models import Aggregate, Case, DecimalField, F, FloatField, Func, Value, When

MONEY = DecimalField(max_digits=20, decimal_places=2)


class Median(Aggregate):
    """The median of an expression per group: ``percentile_cont(0.5)`` on PostgreSQL, a
    registered aggregate on SQLite (``register_sqlite_functions``)."""

    function = "PERCENTILE_CONT"
    name = "Median"
    template = "%(function)s(0.5) WITHIN GROUP (ORDER BY %(expressions)s)"
    output_field = FloatField()
    allow_distinct = False

    def as_sqlite(self, compiler, connection, **extra_context):
        clone = self.copy()
        clone.function, clone.template = "PRM_MEDIAN", "%(function)s(%(expressions)s)"
        return clone.as_sql(compiler, connection, **extra_context)


class _SQLiteMedian:
    def __init__(self):
        self.values = []

    def step(self, value):
        if value is not None:
            self.values.append(value)

    def finalize(self):
        return statistics.median(self.values) if self.values else None


def register_sqlite_functions(sender, connection, **kwargs):
    """``connection_created`` receiver: SQLite has no median, so give it one."""
    if connection.vendor == "sqlite":
        connection.connection.create_aggregate("PRM_MEDIAN", 1, _SQLiteMedian)


class HoursBetween(Func):
    """Hours from ``start`` to ``end`` (two datetimes) as a float."""

    output_field = FloatField()
    arity = 2

    #: Per database: the template over "end - start" and how the two arguments are joined.
    VENDOR_SQL = {
        "postgresql": ("(EXTRACT(EPOCH FROM (%(expressions)s)) / 3600.0)", " - "),
        "sqlite": ("((julianday(%(expressions)s)) * 24.0)", ") - julianday("),
    }

    def _end_minus_start(self, compiler, connection, **extra_context):
        start, end = self.get_source_expressions()
        clone = self.copy()
        clone.set_source_expressions([end, start])  # given (start, end); computed end − start
        template, joiner = self.VENDOR_SQL[connection.vendor]
        return Func.as_sql(
            clone, compiler, connection, template=template, arg_joiner=joiner, **extra_context
        )

    as_postgresql = as_sqlite = _end_minus_start


def converted(amount_field: str, currency_field: str, rates: dict[str, Decimal]):
    """``amount`` in the reporting currency: a CASE over the stored rates. An amount in a
    currency without a rate is left out of money figures (NULL), never summed as if it were
    the reporting currency."""
    from django.conf import settings

    base = settings.PRM_REPORTING_CURRENCY
    whens = [When(**{currency_field: base}, then=F(amount_field))]
    whens += [
        When(**{currency_field: code}, then=F(amount_field) * Value(rate, output_field=MONEY))
        for code, rate in sorted(rates.items())
        if code != base
    ]
    return Case(*whens, default=Value(None, output_field=MONEY), output_field=MONEY)


def weighted(amount, percent_field: str):
    """``amount`` × ``percent_field`` ÷ 100 (a stage's probability, say), as a product with
    0.01: SQLite stores a whole amount as an integer and casts ``100`` to one too, so
    ``1001 * 25 / 100`` would be the integer 250 there, not 250.25."""
    return amount * F(percent_field) * Value(Decimal("0.01"), output_field=MONEY)
