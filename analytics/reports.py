"""Saved reports: what each record type offers (columns, filters, grouping, sort), checking a
definition, and running it for a viewer in SQL.

A report always runs on ``Model.objects.visible_to(viewer)`` — the person looking at it, never
the person who defined it — so a report an admin built over every opportunity shows a manager
their book and a partner admin their own company. Rows are read with ``.values()`` (no model
instances, no per-row queries); grouping, sums, filters and sort happen in the database,
custom fields included (a JSON key transform of ``custom``).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation

from django.core.exceptions import ValidationError
from django.db import models, transaction
from django.db.models import Case, Count, F, Q, Sum, Value, When
from django.db.models.fields.json import KeyTextTransform
from django.db.models.functions import Cast, Coalesce, Concat, NullIf, Trim, TruncMonth
from django.utils import timezone
from django.utils.formats import number_format

from analytics.models import ReportRecordType, SavedReport
from prm import customfields
from prm.access import Role, role_of

PER_PAGE = 50
MAX_FILTERS = 5
#: Groups a chart shows at most (the biggest first when it plots a sum).
CHART_GROUPS = 30

TEXT, NUMBER, MONEY, DATE, CHOICE, BOOL = "text", "number", "money", "date", "choice", "bool"
NUMERIC = (NUMBER, MONEY)
GROUPABLE = (TEXT, CHOICE, DATE, BOOL)

#: Filter operators: key → how the definition summary reads it.
OPS = {
    "contains": "contains",
    "equals": "is",
    "gt": ">",
    "gte": "≥",
    "lt": "<",
    "lte": "≤",
    "on": "on",
    "before": "before",
    "after": "after",
    "this_quarter": "is in this quarter",
    "last_quarter": "is in last quarter",
}
OPS_BY_TYPE = {
    TEXT: ("contains", "equals"),
    NUMBER: ("equals", "gt", "gte", "lt", "lte"),
    MONEY: ("equals", "gt", "gte", "lt", "lte"),
    DATE: ("on", "before", "after", "this_quarter", "last_quarter"),
    CHOICE: ("equals",),
    BOOL: ("equals",),
}
#: Operators that take no value.
RELATIVE_OPS = ("this_quarter", "last_quarter")
OP_LABELS = {
    "contains": "contains",
    "equals": "is / equals",
    "gt": "greater than",
    "gte": "at least",
    "lt": "less than",
    "lte": "at most",
    "on": "on (date)",
    "before": "before (date)",
    "after": "after (date)",
    "this_quarter": "this quarter",
    "last_quarter": "last quarter",
}


def person(prefix: str):
    """A person's name as people read it ("Maya Manager", else their email), in SQL."""
    full = Trim(Concat(F(f"{prefix}__first_name"), Value(" "), F(f"{prefix}__last_name")))
    return Coalesce(NullIf(full, Value("")), F(f"{prefix}__email"), output_field=models.CharField())


@dataclass(frozen=True)
class Column:
    key: str
    label: str
    path: str | None  # ORM path; None when ``expression`` builds the value
    type: str
    choices: tuple = ()  # (value, label) pairs of a choice column
    timestamp: bool = False  # a date column stored as a datetime (filters on its local date)
    expression: object = None  # a callable returning a query expression, for computed columns
    custom: object = None  # the CustomField of a "custom:<key>" column

    def expr(self):
        if self.expression is not None:
            return self.expression()
        return F(self.path)

    @property
    def choice_labels(self) -> dict:
        return {str(value): str(label) for value, label in self.choices}


@dataclass(frozen=True)
class RecordType:
    key: str
    label: str
    model_path: str  # "app_label.ModelName"
    columns: tuple[Column, ...]
    default_columns: tuple[str, ...]
    custom_fields: bool = True

    @property
    def model(self):
        from django.apps import apps

        return apps.get_model(self.model_path)


def _choices(path: str) -> tuple:
    module, name = path.rsplit(".", 1)
    from importlib import import_module

    return tuple(getattr(import_module(module), name).choices)


def _registry() -> dict[str, RecordType]:
    region = _choices("partners.models.Region")
    industry = _choices("partners.models.Industry")
    partner = Column("partner", "Partner", "account__name", TEXT)
    tier = Column("tier", "Tier", "account__tier__name", TEXT)
    account_region = Column("region", "Region", "account__region", CHOICE, region)
    manager = Column(
        "manager", "Partner manager", None, TEXT, expression=lambda: person("account__manager")
    )
    currency = Column("currency", "Currency", "currency", TEXT)
    created = Column("created_at", "Created", "created_at", DATE, timestamp=True)
    return {
        ReportRecordType.PARTNERS: RecordType(
            ReportRecordType.PARTNERS,
            "Partners",
            "partners.PartnerAccount",
            (
                Column("name", "Partner", "name", TEXT),
                Column("tier", "Tier", "tier__name", TEXT),
                Column(
                    "status", "Status", "status", CHOICE, _choices("partners.models.AccountStatus")
                ),
                Column("region", "Region", "region", CHOICE, region),
                Column("country", "Country", "country", TEXT),
                Column("industry", "Industry", "industry", CHOICE, industry),
                Column(
                    "manager", "Partner manager", None, TEXT, expression=lambda: person("manager")
                ),
                Column("parent", "Parent account", "parent__name", TEXT),
                Column("partner_since", "Partner since", "partner_since", DATE),
                created,
            ),
            ("name", "tier", "status", "region", "manager"),
        ),
        ReportRecordType.LEADS: RecordType(
            ReportRecordType.LEADS,
            "Leads",
            "deals.Lead",
            (
                Column("company", "Company", "company", TEXT),
                Column("contact_name", "Contact", "contact_name", TEXT),
                Column("status", "Status", "status", CHOICE, _choices("deals.models.LeadStatus")),
                Column("source", "Source", "source", CHOICE, _choices("deals.models.LeadSource")),
                partner,
                tier,
                Column("region", "Lead region", "region", CHOICE, region),
                Column("country", "Country", "country", TEXT),
                Column("industry", "Industry", "industry", CHOICE, industry),
                Column("estimated_value", "Estimated value", "estimated_value", MONEY),
                currency,
                Column("assigned_at", "Assigned", "assigned_at", DATE, timestamp=True),
                Column("accepted_at", "Accepted", "accepted_at", DATE, timestamp=True),
                created,
            ),
            ("company", "status", "partner", "estimated_value", "created_at"),
        ),
        ReportRecordType.REGISTRATIONS: RecordType(
            ReportRecordType.REGISTRATIONS,
            "Deal registrations",
            "deals.DealRegistration",
            (
                Column("company", "Customer", "company", TEXT),
                partner,
                tier,
                account_region,
                manager,
                Column(
                    "status",
                    "Status",
                    "status",
                    CHOICE,
                    _choices("deals.models.RegistrationStatus"),
                ),
                Column("product_family", "Product family", "product_family", TEXT),
                Column("amount", "Estimated amount", "amount", MONEY),
                currency,
                Column("expected_close_date", "Expected close", "expected_close_date", DATE),
                Column("submitted_at", "Submitted", "submitted_at", DATE, timestamp=True),
                Column("decided_at", "Decided", "decided_at", DATE, timestamp=True),
                Column("expires_on", "Protected until", "expires_on", DATE),
                Column("conflict", "Possible conflict", "conflict", BOOL),
                Column(
                    "created_by",
                    "Registered by",
                    None,
                    TEXT,
                    expression=lambda: person("created_by"),
                ),
            ),
            ("company", "partner", "status", "amount", "submitted_at"),
        ),
        ReportRecordType.OPPORTUNITIES: RecordType(
            ReportRecordType.OPPORTUNITIES,
            "Opportunities",
            "deals.Opportunity",
            (
                Column("name", "Opportunity", "name", TEXT),
                Column("company", "Customer", "company", TEXT),
                partner,
                tier,
                account_region,
                manager,
                Column("stage", "Stage", "stage__name", TEXT),
                Column("amount", "Amount", "amount", MONEY),
                currency,
                Column("close_date", "Expected close", "close_date", DATE),
                Column(
                    "status", "Status", "status", CHOICE, _choices("deals.models.OpportunityStatus")
                ),
                Column("closed_at", "Closed", "closed_at", DATE, timestamp=True),
                Column("owner", "Owner", None, TEXT, expression=lambda: person("owner")),
                Column("product_family", "Product family", "product_family", TEXT),
                created,
            ),
            ("name", "partner", "stage", "amount", "close_date", "status"),
        ),
        ReportRecordType.ENROLLMENTS: RecordType(
            ReportRecordType.ENROLLMENTS,
            "Course enrollments",
            "training.Enrollment",
            (
                Column("person", "Person", None, TEXT, expression=lambda: person("user")),
                Column("email", "Email", "user__email", TEXT),
                Column("partner", "Partner", "user__contact__account__name", TEXT),
                Column("tier", "Tier", "user__contact__account__tier__name", TEXT),
                Column("course", "Course", "course__title", TEXT),
                Column("certification", "Certification course", "course__is_certification", BOOL),
                Column(
                    "status",
                    "Status",
                    "status",
                    CHOICE,
                    _choices("training.models.EnrollmentStatus"),
                ),
                Column("enrolled_at", "Enrolled", "enrolled_at", DATE, timestamp=True),
                Column("completed_at", "Completed", "completed_at", DATE, timestamp=True),
            ),
            ("person", "partner", "course", "status", "enrolled_at"),
            custom_fields=False,
        ),
    }


_REGISTRY: dict[str, RecordType] | None = None


def record_types() -> dict[str, RecordType]:
    global _REGISTRY
    if _REGISTRY is None:
        _REGISTRY = _registry()
    return _REGISTRY


def get_record_type(key: str) -> RecordType:
    try:
        return record_types()[key]
    except KeyError as exc:
        raise ValidationError({"record_type": "Pick a record type from the list."}) from exc


# --- custom fields as columns ---------------------------------------------------------------------


def _custom_column(custom_field) -> Column:
    from prm.models import CustomFieldType

    key = custom_field.key
    kind = custom_field.field_type
    if kind == CustomFieldType.NUMBER:
        col_type = NUMBER

        def expression():
            return Cast(
                NullIf(KeyTextTransform(key, "custom"), Value("")),
                models.DecimalField(max_digits=24, decimal_places=6),
            )
    elif kind == CustomFieldType.DATE:
        col_type = DATE

        def expression():
            return Cast(NullIf(KeyTextTransform(key, "custom"), Value("")), models.DateField())
    elif kind == CustomFieldType.BOOLEAN:
        col_type = BOOL

        def expression():
            yes = Q(**{f"custom__{key}": True}) | Q(**{f"custom__{key}": "true"})
            no = Q(**{f"custom__{key}": False}) | Q(**{f"custom__{key}": "false"})
            return Case(
                When(yes, then=Value(True)),
                When(no, then=Value(False)),
                default=None,
                output_field=models.BooleanField(),
            )
    else:
        col_type = CHOICE if kind == CustomFieldType.CHOICE else TEXT

        def expression():
            return KeyTextTransform(key, "custom")

    choices = tuple((o, o) for o in custom_field.options) if col_type == CHOICE else ()
    return Column(
        f"custom:{key}",
        custom_field.label,
        None,
        col_type,
        choices,
        expression=expression,
        custom=custom_field,
    )


def columns_for(kind: RecordType, user) -> dict[str, Column]:
    """Every column of ``kind`` the user may use, in order: built-in, then custom fields (one
    query for those)."""
    columns = {c.key: c for c in kind.columns}
    if kind.custom_fields:
        for custom_field in customfields.fields_for(kind.model, user):
            column = _custom_column(custom_field)
            columns[column.key] = column
    return columns


# --- a definition, checked --------------------------------------------------------------------


@dataclass
class Filter:
    column: Column
    op: str
    value: object  # parsed: str, Decimal, date, bool, or None for relative ops
    raw: str = ""

    def describe(self) -> str:
        if self.op in RELATIVE_OPS:
            return f"{self.column.label} {OPS[self.op]}"
        return f"{self.column.label} {OPS[self.op]} {_words(self.column, self.value)}"


@dataclass
class Plan:
    """A definition checked against what the viewer may use: ready to run."""

    kind: RecordType
    columns: list[Column]
    filters: list[Filter] = field(default_factory=list)
    group: Column | None = None
    sort: Column | None = None
    descending: bool = False
    notices: list[str] = field(default_factory=list)

    @property
    def sums(self) -> list[Column]:
        return [c for c in self.columns if c.type in NUMERIC]

    def headers(self) -> list[tuple[str, str]]:
        """(label, type) of each column of the result (grouped: group, count, sums)."""
        if self.group is None:
            return [(c.label, c.type) for c in self.columns]
        return [
            (self.group.label + (" (month)" if self.group.type == DATE else ""), TEXT),
            ("Count", NUMBER),
            *[(f"Sum of {c.label.lower()}", c.type) for c in self.sums],
        ]

    def describe(self) -> str:
        """The definition in words, for the report page."""
        text = self.kind.label
        if self.filters:
            text += " where " + " and ".join(f.describe() for f in self.filters)
        if self.group is not None:
            text += f", grouped by {self.group.label.lower()}"
            text += " (by month)" if self.group.type == DATE else ""
            text += ", with the count" + (
                " and the sum of " + ", ".join(c.label.lower() for c in self.sums)
                if self.sums
                else ""
            )
        if self.sort is not None:
            order = "highest first" if self.descending else "lowest first"
            if self.sort.type in (TEXT, CHOICE):
                order = "Z to A" if self.descending else "A to Z"
            elif self.sort.type == DATE:
                order = "latest first" if self.descending else "earliest first"
            text += f", sorted by {self.sort.label.lower()} ({order})"
        return text + "."


def _words(column: Column, value) -> str:
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, dt.date):
        return value.strftime("%d %b %Y")
    if isinstance(value, Decimal):
        return number_format(value, force_grouping=True)
    if column.type == CHOICE:
        return f"“{column.choice_labels.get(str(value), value)}”"
    return f"“{value}”"


def parse_value(column: Column, op: str, raw: str):
    """The typed value of a filter; ValidationError with a message for the value field."""
    raw = (raw or "").strip()
    if op in RELATIVE_OPS:
        return None
    if raw == "":
        raise ValidationError("Enter a value to compare with.")
    if column.type in NUMERIC:
        try:
            value = Decimal(raw.replace(",", "").replace(" ", ""))
        except InvalidOperation as exc:
            raise ValidationError(f"“{raw}” is not a number. Enter e.g. 10000 or 99.50.") from exc
        if not value.is_finite():
            raise ValidationError(f"“{raw}” is not a number.")
        return value
    if column.type == DATE:
        try:
            return dt.date.fromisoformat(raw)
        except ValueError as exc:
            raise ValidationError(f"“{raw}” is not a date. Enter it as YYYY-MM-DD.") from exc
    if column.type == BOOL:
        answer = raw.lower()
        if answer in ("yes", "true", "1", "y"):
            return True
        if answer in ("no", "false", "0", "n"):
            return False
        raise ValidationError("Enter yes or no.")
    if column.type == CHOICE:
        for value, label in column.choices:
            if raw.lower() in (str(value).lower(), str(label).lower()):
                return str(value)
        options = ", ".join(str(label) for _, label in column.choices)
        raise ValidationError(f"“{raw}” is not one of the options: {options}.")
    if len(raw) > 200:
        raise ValidationError("Keep it under 200 characters.")
    return raw


def check(
    *,
    user,
    record_type: str,
    columns: list[str],
    filters: list[dict],
    group_by: str = "",
    sort: str = "",
    descending: bool = False,
    strict: bool = True,
) -> Plan:
    """Check a definition for ``user``. ``strict`` (the form): anything unknown raises a
    ValidationError keyed by the form's field names (``columns``, ``filter_<i>_field``,
    ``filter_<i>_op``, ``filter_<i>_value``, ``group_by``, ``sort``). Not strict (a stored
    report): what no longer exists or the viewer may not use is skipped with a notice."""
    kind = get_record_type(record_type)
    available = columns_for(kind, user)
    errors: dict[str, list] = {}
    notices: list[str] = []

    def problem(name, message, notice):
        if strict:
            errors.setdefault(name, []).append(message)
        else:
            notices.append(notice)

    chosen: list[Column] = []
    for key in columns or []:
        if key in available:
            if available[key] not in chosen:
                chosen.append(available[key])
        else:
            problem(
                "columns",
                f"“{key}” is not a column of {kind.label.lower()}.",
                f"The column “{_key_label(key)}” no longer exists and is left out.",
            )
    if not chosen and strict and "columns" not in errors:
        errors["columns"] = ["Pick at least one column."]
    if not chosen and not strict:
        chosen = [available[k] for k in kind.default_columns]

    parsed: list[Filter] = []
    for i, spec in enumerate((filters or [])[:MAX_FILTERS]):
        key, op, raw = spec.get("field", ""), spec.get("op", ""), str(spec.get("value") or "")
        if not key:
            continue
        column = available.get(key)
        if column is None:
            problem(
                f"filter_{i}_field",
                "Pick a field from the list.",
                f"A filter on “{_key_label(key)}”, a field that no longer exists, is left out.",
            )
            continue
        if op not in OPS_BY_TYPE[column.type]:
            allowed = ", ".join(OP_LABELS[o] for o in OPS_BY_TYPE[column.type])
            problem(
                f"filter_{i}_op",
                f"{column.label} can be filtered with: {allowed}.",
                f"A filter on {column.label.lower()} no longer applies and is left out.",
            )
            continue
        try:
            value = parse_value(column, op, raw)
        except ValidationError as exc:
            problem(
                f"filter_{i}_value",
                exc.messages[0],
                f"A filter on {column.label.lower()} no longer applies and is left out.",
            )
            continue
        parsed.append(Filter(column, op, value, raw))

    group = None
    if group_by:
        group = available.get(group_by)
        if group is None:
            problem(
                "group_by",
                "Pick a column from the list to group by.",
                f"The grouping by “{_key_label(group_by)}” no longer exists and is left out.",
            )
        elif group.type not in GROUPABLE:
            problem(
                "group_by",
                f"Group by a text, choice or date column; {group.label} is a number.",
                f"The grouping by {group.label.lower()} is left out.",
            )
            group = None

    sort_column = None
    if sort:
        sort_column = available.get(sort)
        if sort_column is None:
            problem(
                "sort",
                "Pick a column from the list to sort by.",
                f"The sort by “{_key_label(sort)}” no longer exists and is left out.",
            )
    if errors:
        raise ValidationError(errors)
    return Plan(kind, chosen, parsed, group, sort_column, bool(descending), notices)


def _key_label(key: str) -> str:
    return key.removeprefix("custom:").replace("_", " ")


def plan_for(report: SavedReport, user) -> Plan:
    """The stored ``report`` checked for ``user`` (never raises for what went stale)."""
    return check(
        user=user,
        record_type=report.record_type,
        columns=list(report.columns or []),
        filters=[f for f in (report.filters or []) if isinstance(f, dict)],
        group_by=report.group_by,
        sort=report.sort,
        descending=report.descending,
        strict=False,
    )


# --- running it ---------------------------------------------------------------------------------


def _quarter_start(day: dt.date) -> dt.date:
    return dt.date(day.year, 3 * ((day.month - 1) // 3) + 1, 1)


def _next_quarter(start: dt.date) -> dt.date:
    return dt.date(start.year + (start.month == 10), (start.month + 2) % 12 + 1, 1)


def _condition(alias: str, flt: Filter, today: dt.date) -> Q:
    column, op, value = flt.column, flt.op, flt.value
    if column.type == TEXT:
        return Q(**{f"{alias}__{'icontains' if op == 'contains' else 'iexact'}": value})
    if column.type in NUMERIC:
        lookup = {"equals": "exact", "gt": "gt", "gte": "gte", "lt": "lt", "lte": "lte"}[op]
        return Q(**{f"{alias}__{lookup}": value})
    if column.type == DATE:
        target = f"{alias}__date" if column.timestamp else alias
        if op in RELATIVE_OPS:
            start = _quarter_start(today)
            if op == "last_quarter":
                start = _quarter_start(start - dt.timedelta(days=1))
            return Q(**{f"{target}__gte": start, f"{target}__lt": _next_quarter(start)})
        lookup = {"on": "exact", "before": "lt", "after": "gt"}[op]
        return Q(**{f"{target}__{lookup}": value})
    return Q(**{alias: value})


def aliases(plan: Plan) -> dict[str, str]:
    """Column key → the name it is selected under (never a model field's name)."""
    keys = [c.key for c in plan.columns]
    for extra in (
        *(f.column for f in plan.filters),
        plan.group,
        plan.sort,
    ):
        if extra is not None and extra.key not in keys:
            keys.append(extra.key)
    return {key: f"rc{i}" for i, key in enumerate(keys)}


def rows_queryset(plan: Plan, user, *, today: dt.date | None = None):
    """The report's rows as a ``values()`` queryset, filtered, grouped and sorted in SQL,
    starting from what ``user`` may see."""
    today = today or timezone.localdate()
    names = aliases(plan)
    everything = {c.key: c for c in (*plan.columns, *(f.column for f in plan.filters))}
    for extra in (plan.group, plan.sort):
        if extra is not None:
            everything[extra.key] = extra
    queryset = plan.kind.model.objects.visible_to(user)
    queryset = queryset.alias(**{names[k]: c.expr() for k, c in everything.items()})
    for flt in plan.filters:
        queryset = queryset.filter(_condition(names[flt.column.key], flt, today))

    if plan.group is None:
        shown = [names[c.key] for c in plan.columns]
        queryset = queryset.annotate(**{n: F(n) for n in shown})
        order = ["-pk" if plan.descending else "pk"]
        if plan.sort is not None:
            sort = F(names[plan.sort.key])
            order.insert(
                0, sort.desc(nulls_last=True) if plan.descending else sort.asc(nulls_last=True)
            )
        return queryset.order_by(*order).values(*shown)

    group_alias = names[plan.group.key]
    key = "rgroup"
    group_expr = F(group_alias)
    if plan.group.type == DATE:
        group_expr = TruncMonth(group_alias, output_field=models.DateField())
    sums = {f"rsum{i}": Sum(names[c.key]) for i, c in enumerate(plan.sums)}
    queryset = (
        queryset.annotate(**{key: group_expr})
        .order_by()
        .values(key)
        .annotate(rcount=Count("pk"), **sums)
    )
    order_by = F(key)
    if plan.sort is not None and plan.sort.type in NUMERIC and plan.sort in plan.sums:
        order_by = F(f"rsum{plan.sums.index(plan.sort)}")
    direction = order_by.desc(nulls_last=True) if plan.descending else order_by.asc(nulls_last=True)
    return queryset.order_by(direction, F(key).asc(nulls_last=True))


def as_rows(plan: Plan, records) -> list[list]:
    """Typed cells of each record (dicts from ``rows_queryset``), in header order."""
    return list(iter_rows(plan, records))


def iter_rows(plan: Plan, records):
    """Typed cells of each record, lazily (exports stream): strings, Decimals, dates, booleans,
    None. Choice values become their labels; a month group reads "2026-11"."""
    names = aliases(plan)
    if plan.group is None:
        getters = [(names[c.key], c) for c in plan.columns]
        for record in records:
            yield [_cell(c, record.get(alias)) for alias, c in getters]
        return
    sum_keys = [f"rsum{i}" for i in range(len(plan.sums))]
    for record in records:
        group = _cell(plan.group, record.get("rgroup"))
        if plan.group.type == DATE and isinstance(group, dt.date):
            group = group.strftime("%Y-%m")
        yield [group, record.get("rcount") or 0, *[_number(record.get(k)) for k in sum_keys]]


def _number(value):
    if value is None:
        return None
    return value if isinstance(value, Decimal) else Decimal(str(value))


def _cell(column: Column, value):
    if value is None or value == "":
        return None
    if column.type == CHOICE:
        return column.choice_labels.get(str(value), str(value))
    if column.type == DATE:
        if isinstance(value, dt.datetime):
            return timezone.localtime(value).date() if timezone.is_aware(value) else value.date()
        if isinstance(value, str):
            try:
                return dt.date.fromisoformat(value[:10])
            except ValueError:
                return None
        return value
    if column.type in NUMERIC:
        return _number(value)
    if column.type == BOOL:
        return bool(value)
    return str(value)


def display(value, kind: str) -> str:
    """A cell as the page shows it."""
    if value is None:
        return "—"
    if isinstance(value, bool):
        return "Yes" if value else "No"
    if isinstance(value, dt.date):
        return value.strftime("%d %b %Y")
    if kind == MONEY:
        return number_format(value, decimal_pos=2, force_grouping=True)
    if isinstance(value, int | Decimal):
        return number_format(value, force_grouping=True)
    return str(value)


def flat(value) -> str:
    """A cell for CSV: ISO dates, plain numbers, yes/no."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, dt.date):
        return value.isoformat()
    return str(value)


# --- writes -------------------------------------------------------------------------------------


def may_edit(report: SavedReport, user) -> bool:
    role = role_of(user)
    return role is Role.ADMIN or (role.is_internal and report.owner_id == user.pk)


@transaction.atomic
def save_report(
    *,
    actor,
    report: SavedReport,
    plan: Plan,
    name: str,
    description: str,
    shared: bool | None = None,
    shared_with_partners: bool | None = None,
) -> SavedReport:
    """Create or update ``report`` from a checked plan. Internal users only; the sharing flags
    change only when an admin sets them."""
    role = role_of(actor)
    if not role.is_internal or (report.pk and not may_edit(report, actor)):
        from django.core.exceptions import PermissionDenied

        raise PermissionDenied("Only its owner or an admin edits a report.")
    report.name = name
    report.description = description
    report.record_type = plan.kind.key
    report.columns = [c.key for c in plan.columns]
    report.filters = [
        {"field": f.column.key, "op": f.op, "value": f.raw.strip()} for f in plan.filters
    ]
    report.group_by = plan.group.key if plan.group else ""
    report.sort = plan.sort.key if plan.sort else ""
    report.descending = plan.descending
    if report.pk is None:
        report.owner = actor
    if role is Role.ADMIN:
        if shared is not None:
            report.shared = shared
        if shared_with_partners is not None:
            report.shared_with_partners = shared_with_partners
    report.full_clean(exclude=["owner", "columns", "filters"])
    report.save()
    return report


@transaction.atomic
def delete_report(*, actor, report: SavedReport) -> None:
    if not may_edit(report, actor):
        from django.core.exceptions import PermissionDenied

        raise PermissionDenied("Only its owner or an admin deletes a report.")
    report.delete()
