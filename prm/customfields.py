"""Custom fields: typed fields admins add to partner accounts, leads, registrations and
opportunities (``prm.models.CustomField``); values live in each record's ``custom`` JSON under
the field's ``key`` (text and choice as strings, numbers as strings of a Decimal, dates as ISO
strings, booleans as true/false).

Every list, form, detail page, filter, report and export that shows them asks this module:
``fields_for`` (the one query), ``CustomFieldsFormMixin`` (forms), ``add_custom_filters``
(filtersets), ``CustomFieldsExportMixin`` (CSV exports) and the ``custom_fields`` template tag
(detail pages).
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal, InvalidOperation

import django_filters
from django import forms
from django.db.models import Q

from prm.models import CustomField, CustomFieldType

#: Form fields and filters of custom fields are named ``custom_<key>``.
PREFIX = "custom_"


def fields_for(model, user) -> list[CustomField]:
    """The active custom fields of ``model`` this user may see, in order (one query).

    Remembered on the user object, which lives for one request: a page whose filters, form,
    export and detail card all ask reads the fields once.
    """
    cache = getattr(user, "_prm_custom_fields", None)
    if cache is None:
        cache = {}
        if user is not None:
            user._prm_custom_fields = cache
    label = model._meta.label_lower
    if label not in cache:
        cache[label] = list(CustomField.objects.visible_to(user).for_model(model))
    return list(cache[label])


def value_of(obj, field: CustomField):
    """The typed value of ``field`` on ``obj`` (None when unset or unreadable)."""
    raw = (getattr(obj, "custom", None) or {}).get(field.key)
    if raw in (None, ""):
        return None
    try:
        if field.field_type == CustomFieldType.NUMBER:
            return Decimal(str(raw))
        if field.field_type == CustomFieldType.DATE:
            return date.fromisoformat(str(raw))
        if field.field_type == CustomFieldType.BOOLEAN:
            return bool(raw) if not isinstance(raw, str) else raw.lower() in ("true", "1", "yes")
    except (InvalidOperation, ValueError):
        return None
    return str(raw)


def display(obj, field: CustomField) -> str:
    """The value as people read it: "Yes"/"No", a date as 23 Nov 2026, blank when unset."""
    value = value_of(obj, field)
    if value is None:
        return ""
    if isinstance(value, bool):
        return "Yes" if value else "No"
    if isinstance(value, date):
        return f"{value:%d %b %Y}"
    return str(value)


def number_text(value: Decimal) -> str:
    """A number as it is stored and filtered: plain digits, no exponent, no trailing zeros
    (``1000.00`` → ``"1000"``), so that one value has one spelling."""
    text = format(value.normalize(), "f")
    return "0" if text in ("-0", "") else text


def stored(field: CustomField, value):
    """A cleaned form value as JSON (None: remove the key)."""
    if value in (None, "") and field.field_type != CustomFieldType.BOOLEAN:
        return None
    match field.field_type:
        case CustomFieldType.NUMBER:
            return number_text(value)
        case CustomFieldType.DATE:
            return value.isoformat()
        case CustomFieldType.BOOLEAN:
            return bool(value)
    return str(value).strip() or None


# --- forms ----------------------------------------------------------------------------------


def form_field(field: CustomField, current=None) -> forms.Field:
    """The Django form field of one custom field (``current``: the record's value, kept as a
    choice when an admin has since removed that option)."""
    common = {"label": field.label, "help_text": field.help_text, "required": field.required}
    match field.field_type:
        case CustomFieldType.NUMBER:
            return forms.DecimalField(
                max_digits=20,
                decimal_places=6,
                widget=forms.NumberInput(attrs={"step": "any", "inputmode": "decimal"}),
                **common,
            )
        case CustomFieldType.DATE:
            return forms.DateField(
                widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"), **common
            )
        case CustomFieldType.CHOICE:
            options = field.options
            if current and current not in options:
                options = [*options, current]
            return forms.ChoiceField(
                choices=[("", "—"), *((option, option) for option in options)], **common
            )
        case CustomFieldType.BOOLEAN:
            return forms.BooleanField(label=field.label, help_text=field.help_text, required=False)
    return forms.CharField(max_length=500, **common)


class CustomFieldsFormMixin:
    """Adds a typed field per custom field the user may see (``custom_<key>``) to a form.

    Call ``self.add_custom_fields(user)`` at the end of ``__init__`` (``instance=`` for a plain
    form that edits a record). The cleaned values are merged into the record's ``custom``:
    keys the user cannot see (internal-only or inactive fields) are kept as they were. A
    ModelForm writes them to ``self.instance.custom``; a plain form replaces its ``custom_*``
    cleaned values by one ``custom`` dict, ready for the service.
    """

    custom_fields: list[CustomField] = []

    def add_custom_fields(self, user, *, instance=None, model=None) -> None:
        self.custom_instance = instance if instance is not None else self.instance
        model = model or type(self.custom_instance)
        self.custom_fields = fields_for(model, user)
        for field in self.custom_fields:
            value = value_of(self.custom_instance, field)
            self.fields[PREFIX + field.key] = form_field(field, current=value)
            if field.field_type == CustomFieldType.BOOLEAN:
                value = bool(value)
            if value is not None:
                self.initial.setdefault(PREFIX + field.key, value)

    def custom_bound_fields(self) -> list:
        """The custom fields' bound fields, for templates that lay out fields one by one."""
        return [self[PREFIX + field.key] for field in self.custom_fields]

    def merged_custom(self) -> dict:
        custom = dict(getattr(self.custom_instance, "custom", None) or {})
        for field in self.custom_fields:
            name = PREFIX + field.key
            if name not in self.cleaned_data:  # invalid: the form comes back with the error
                continue
            value = stored(field, self.cleaned_data[name])
            if value is None:
                custom.pop(field.key, None)
            else:
                custom[field.key] = value
        return custom

    def _post_clean(self):
        super()._post_clean()
        if not self.custom_fields:
            return
        custom = self.merged_custom()
        if isinstance(self, forms.BaseModelForm):
            self.instance.custom = custom
        else:
            for field in self.custom_fields:
                self.cleaned_data.pop(PREFIX + field.key, None)
            self.cleaned_data["custom"] = custom


# --- filters --------------------------------------------------------------------------------


def _filter_number(key):
    def method(queryset, name, value):
        return queryset.filter(**{f"custom__{key}": number_text(value)})

    return method


def _filter_date(key):
    def method(queryset, name, value):
        return queryset.filter(**{f"custom__{key}": value.isoformat()})

    return method


def _filter_boolean(key):
    def method(queryset, name, value):
        if value:
            return queryset.filter(**{f"custom__{key}": True})
        return queryset.filter(Q(**{f"custom__{key}": False}) | ~Q(custom__has_key=key))

    return method


def custom_filter(field: CustomField):
    """The django-filter filter of one custom field (JSON key lookups: SQLite and PostgreSQL)."""
    name = f"custom__{field.key}"
    match field.field_type:
        case CustomFieldType.NUMBER:
            return django_filters.NumberFilter(label=field.label, method=_filter_number(field.key))
        case CustomFieldType.DATE:
            return django_filters.DateFilter(
                label=field.label,
                method=_filter_date(field.key),
                widget=forms.DateInput(attrs={"type": "date"}),
            )
        case CustomFieldType.CHOICE:
            return django_filters.ChoiceFilter(
                field_name=name,
                label=field.label,
                choices=[(option, option) for option in field.options],
                empty_label="Any",
            )
        case CustomFieldType.BOOLEAN:
            return django_filters.BooleanFilter(
                label=field.label,
                method=_filter_boolean(field.key),
                widget=forms.Select(choices=[("", "Any"), ("true", "Yes"), ("false", "No")]),
            )
    return django_filters.CharFilter(field_name=name, lookup_expr="icontains", label=field.label)


def add_custom_filters(filterset, model, user) -> None:
    """Add a filter per custom field of ``model`` that ``user`` may see (``custom_<key>``) to a
    FilterSet instance; call it at the end of ``__init__``."""
    for field in fields_for(model, user):
        filter_ = custom_filter(field)
        filter_.model = model
        filter_.parent = filterset
        filterset.filters[PREFIX + field.key] = filter_


# --- exports --------------------------------------------------------------------------------


class CustomFieldsExportMixin:
    """A PRMTable whose CSV export ends with a column per custom field the viewer may see (the
    value from the row's ``custom``: no query per row)."""

    def _export_getters(self):
        getters = super()._export_getters()
        request = getattr(self, "request", None)
        if request is None:
            return getters
        for field in fields_for(self._meta.model, request.user):
            getters.append((field.label, lambda record, f=field: display(record, f)))
        return getters
