"""Analytics forms: goals (set or proposed for a quarter) and reports."""

from __future__ import annotations

from decimal import Decimal

from django import forms

from analytics import kpis
from analytics import reports as report_engine
from analytics.models import KpiDefinition, ReportRecordType

# --- goals --------------------------------------------------------------------------------------

#: How many quarters ahead a goal can be set (the current one included).
GOAL_QUARTERS_AHEAD = 4


def goal_quarters(today=None) -> list[kpis.Period]:
    """The quarters goals can still be set for: this one and the next few (past ones are read
    only)."""
    quarter = kpis.Period.quarter(today or kpis.local_today())
    out = []
    for _ in range(GOAL_QUARTERS_AHEAD):
        out.append(quarter)
        quarter = quarter.next()
    return out


class GoalForm(forms.Form):
    """One target for one KPI in one quarter; the service checks the rest (quarter still open,
    the KPI takes goals, percentages at most 100) and its errors come back at these fields."""

    quarter = forms.ChoiceField(label="Quarter")
    kpi = forms.ChoiceField(label="KPI")
    target = forms.DecimalField(
        label="Target",
        min_value=Decimal(0),
        max_digits=16,
        decimal_places=2,
        help_text="In the KPI's unit: money in the reporting currency, rates in percent (0–100).",
    )
    note = forms.CharField(label="Note", max_length=300, required=False)

    def __init__(self, *args, definitions=None, **kwargs):
        super().__init__(*args, **kwargs)
        if definitions is None:
            definitions = KpiDefinition.objects.filter(goal_allowed=True)
        self.fields["kpi"].choices = [("", "Choose a KPI…")] + [
            (d.code, f"{d.label} ({d.get_unit_display().split(' (')[0].lower()})")
            for d in definitions
            if d.goal_allowed
        ]
        self.fields["quarter"].choices = [(q.key, q.label) for q in goal_quarters()]
        self.fields["target"].widget.attrs.update({"min": "0", "step": "any"})

    def clean_quarter(self):
        return kpis.Period.parse(self.cleaned_data["quarter"]).start


# --- reports --------------------------------------------------------------------------------------


class ReportForm(forms.Form):
    """A saved report's definition: record type, columns, up to five filters, grouping, sort.

    Column, filter and grouping choices follow the record type (the submitted one when the page
    is re-rendered for a new type); the engine checks the whole definition (``clean``), so an
    error lands at the field it is about. The sharing flags exist for admins only.
    """

    name = forms.CharField(max_length=120)
    description = forms.CharField(max_length=300, required=False)
    record_type = forms.ChoiceField(choices=ReportRecordType.choices)
    columns = forms.MultipleChoiceField(
        widget=forms.CheckboxSelectMultiple,
        help_text="Shown in this order. With a grouping, the number columns are summed.",
    )
    group_by = forms.ChoiceField(
        required=False,
        label="Group by",
        help_text="One line per value (dates: per month) with a count and sums, and a chart.",
    )
    sort = forms.ChoiceField(required=False, label="Sort by")
    descending = forms.TypedChoiceField(
        label="Direction",
        choices=[("", "Ascending"), ("1", "Descending")],
        coerce=bool,
        empty_value=False,
        required=False,
        help_text="Ascending: A–Z, lowest and earliest first.",
    )
    shared = forms.BooleanField(
        required=False, label="Share with all partner managers", help_text="Admins only."
    )
    shared_with_partners = forms.BooleanField(
        required=False,
        label="Share with partner admins",
        help_text="Each partner admin runs it on their own company's records only.",
    )

    def __init__(self, *args, user, is_admin: bool, **kwargs):
        super().__init__(*args, **kwargs)
        self.user = user
        if not is_admin:
            del self.fields["shared"], self.fields["shared_with_partners"]
        self.kind = report_engine.get_record_type(self._current_record_type())
        self.available = report_engine.columns_for(self.kind, user)
        choices = [(c.key, c.label) for c in self.available.values()]
        self.fields["columns"].choices = choices
        self.fields["group_by"].choices = [("", "No grouping")] + [
            (c.key, c.label) for c in self.available.values() if c.type in report_engine.GROUPABLE
        ]
        self.fields["sort"].choices = [("", "Default order")] + choices
        ops = [("", "—")] + [(k, report_engine.OP_LABELS[k]) for k in report_engine.OPS]
        for i in range(report_engine.MAX_FILTERS):
            self.fields[f"filter_{i}_field"] = forms.ChoiceField(
                required=False, choices=[("", "—")] + choices, label=f"Filter {i + 1}: field"
            )
            self.fields[f"filter_{i}_op"] = forms.ChoiceField(
                required=False, choices=ops, label=f"Filter {i + 1}: condition"
            )
            self.fields[f"filter_{i}_value"] = forms.CharField(
                required=False, max_length=200, label=f"Filter {i + 1}: value"
            )

    def _current_record_type(self) -> str:
        valid = set(ReportRecordType.values)
        value = self.data.get(self.add_prefix("record_type")) if self.is_bound else None
        if value in valid:
            return value
        value = self.initial.get("record_type")
        return value if value in valid else ReportRecordType.OPPORTUNITIES

    def filter_rows(self):
        """(field, op, value) bound fields of each filter row, for the template."""
        return [
            (self[f"filter_{i}_field"], self[f"filter_{i}_op"], self[f"filter_{i}_value"])
            for i in range(report_engine.MAX_FILTERS)
        ]

    def clean(self):
        data = super().clean()
        if self.errors:
            return data
        filters = [
            {
                "field": data.get(f"filter_{i}_field") or "",
                "op": data.get(f"filter_{i}_op") or "",
                "value": data.get(f"filter_{i}_value") or "",
            }
            for i in range(report_engine.MAX_FILTERS)
        ]
        for i, spec in enumerate(filters):
            if spec["field"] and not spec["op"]:
                self.add_error(f"filter_{i}_op", "Pick a condition for this filter.")
            elif spec["op"] and not spec["field"]:
                self.add_error(f"filter_{i}_field", "Pick the field this condition is about.")
        if self.errors:
            return data
        try:
            self.plan = report_engine.check(
                user=self.user,
                record_type=data["record_type"],
                columns=data.get("columns") or [],
                filters=filters,
                group_by=data.get("group_by") or "",
                sort=data.get("sort") or "",
                descending=bool(data.get("descending")),
            )
        except forms.ValidationError as exc:
            for name, errors in exc.error_dict.items():
                self.add_error(name if name in self.fields else None, errors)
        return data

    @classmethod
    def initial_from(cls, report) -> dict:
        """The form's initial values from a stored report."""
        initial = {
            "name": report.name,
            "description": report.description,
            "record_type": report.record_type,
            "columns": list(report.columns or []),
            "group_by": report.group_by,
            "sort": report.sort,
            "descending": "1" if report.descending else "",
            "shared": report.shared,
            "shared_with_partners": report.shared_with_partners,
        }
        for i, spec in enumerate((report.filters or [])[: report_engine.MAX_FILTERS]):
            if isinstance(spec, dict):
                initial[f"filter_{i}_field"] = spec.get("field", "")
                initial[f"filter_{i}_op"] = spec.get("op", "")
                initial[f"filter_{i}_value"] = spec.get("value", "")
        return initial


# --- surveys ------------------------------------------------------------------------------------


class SurveyAnswerForm(forms.Form):
    """One answer sheet: a field per question (``q<id>``), checked per kind (NPS 0–10, rating
    1–5, one of the options, text up to 4,000 characters) with the message at the question."""

    TEXT_MAX = 4000

    def __init__(self, *args, questions, **kwargs):
        super().__init__(*args, **kwargs)
        from analytics.models import QuestionKind

        self.questions = list(questions)
        for question in self.questions:
            required = question.required
            if question.kind in (QuestionKind.NPS, QuestionKind.RATING):
                low, high = (0, 10) if question.kind == QuestionKind.NPS else (1, 5)
                message = f"Choose a score from {low} to {high}."
                field = forms.TypedChoiceField(
                    choices=[(n, str(n)) for n in range(low, high + 1)],
                    coerce=int,
                    empty_value=None,
                    widget=forms.RadioSelect,
                    error_messages={"required": message, "invalid_choice": message},
                )
            elif question.kind == QuestionKind.CHOICE:
                field = forms.ChoiceField(
                    choices=[(option, option) for option in question.option_list],
                    widget=forms.RadioSelect,
                    error_messages={
                        "required": "Choose one of the options.",
                        "invalid_choice": "Choose one of the options listed.",
                    },
                )
            else:
                field = forms.CharField(
                    max_length=self.TEXT_MAX,
                    widget=forms.Textarea(attrs={"rows": 4}),
                    error_messages={
                        "required": "Please write a few words here.",
                        "max_length": "Keep your answer under 4,000 characters "
                        "(it has %(show_value)d).",
                    },
                )
            field.required = required
            field.label = question.text
            self.fields[self.name_of(question)] = field

    @staticmethod
    def name_of(question) -> str:
        return f"q{question.pk}"

    def rows(self):
        """(question, bound field) in question order, for the template."""
        return [(q, self[self.name_of(q)]) for q in self.questions]

    def values(self) -> dict:
        """Question id → the cleaned answer (after ``is_valid()``)."""
        return {q.pk: self.cleaned_data.get(self.name_of(q)) for q in self.questions}
