"""Saved reports: the list, the builder (add / edit), the report as a table and a chart, its
CSV and XLSX, and deleting it. Rows always come from the viewer's ``visible_to``."""

from __future__ import annotations

import datetime as dt
import tempfile
from decimal import Decimal

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import FileResponse, QueryDict
from django.shortcuts import redirect, render
from django.utils.text import slugify
from django.views.decorators.http import require_POST

from analytics import charts
from analytics import reports as engine
from analytics.forms import ReportForm
from analytics.models import SavedReport
from prm.access import Role, get_visible_or_404, require, role_of
from prm.tables import csv_response
from prm.views import page_of

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
REPORTS_PER_PAGE = 50


def _may_list(user) -> bool:
    role = role_of(user)
    return role.is_internal or role is Role.PARTNER_ADMIN


@login_required
def report_list(request):
    """Internal users: their own reports and the shared ones (admins: all). Partner admins: the
    ones shared with partners, which run on their own company's records."""
    require(_may_list(request.user), "Reports are for partner managers and partner admins.")
    role = role_of(request.user)
    reports = (
        SavedReport.objects.visible_to(request.user).select_related("owner").order_by("name", "pk")
    )
    page = page_of(request, reports, REPORTS_PER_PAGE)
    kinds = dict(engine.record_types())
    items = [
        {
            "report": report,
            "kind": kinds[report.record_type].label if report.record_type in kinds else "",
            "mine": report.owner_id == request.user.pk,
            "can_edit": engine.may_edit(report, request.user),
        }
        for report in page.object_list
    ]
    return render(
        request,
        "analytics/report_list.html",
        {"page_obj": page, "items": items, "is_internal": role.is_internal},
    )


def _form_page(request, form, report=None, notices=()):
    # Picking another record type re-renders its columns and filters in place (HTMX); without
    # JavaScript, the "Update choices" button does the same with a full page.
    form.fields["record_type"].widget.attrs.update(
        {
            "hx-post": request.path,
            "hx-trigger": "change",
            "hx-vals": '{"refresh": "1"}',
            "hx-include": "closest form",
            "hx-target": "#report-fields",
            "hx-select": "#report-fields",
            "hx-swap": "outerHTML",
        }
    )
    return render(
        request,
        "analytics/report_form.html",
        {"form": form, "report": report, "notices": notices},
    )


def _edit(request, report: SavedReport | None):
    is_admin = role_of(request.user) is Role.ADMIN
    if request.method == "POST" and request.POST.get("refresh"):
        # "Update choices": the same page for the (new) record type, nothing saved, nothing lost.
        initial = _initial_from_post(request.POST)
        form = ReportForm(initial=initial, user=request.user, is_admin=is_admin)
        form.initial["columns"] = [c for c in initial.get("columns", []) if c in form.available]
        if not form.initial["columns"]:
            form.initial["columns"] = list(form.kind.default_columns)
        return _form_page(request, form, report)
    if request.method == "POST":
        form = ReportForm(request.POST, user=request.user, is_admin=is_admin)
        if form.is_valid():
            data = form.cleaned_data
            saved = engine.save_report(
                actor=request.user,
                report=report or SavedReport(),
                plan=form.plan,
                name=data["name"],
                description=data["description"],
                shared=data.get("shared") if is_admin else None,
                shared_with_partners=data.get("shared_with_partners") if is_admin else None,
            )
            messages.success(request, f"Report “{saved.name}” saved.")
            return redirect("analytics:report", pk=saved.pk)
        return _form_page(request, form, report)
    notices = []
    if report is None:
        initial = {"record_type": "opportunities"}
        form = ReportForm(initial=initial, user=request.user, is_admin=is_admin)
        form.initial["columns"] = list(form.kind.default_columns)
    else:
        notices = engine.plan_for(report, request.user).notices
        form = ReportForm(
            initial=ReportForm.initial_from(report), user=request.user, is_admin=is_admin
        )
    return _form_page(request, form, report, notices)


def _initial_from_post(post: QueryDict) -> dict:
    initial = {key: post.get(key, "") for key in post if key not in ("csrfmiddlewaretoken",)}
    initial["columns"] = post.getlist("columns")
    for flag in ("shared", "shared_with_partners"):
        initial[flag] = bool(post.get(flag))
    return initial


@login_required
def report_add(request):
    require(role_of(request.user).is_internal, "Reports are defined by partner managers.")
    return _edit(request, None)


@login_required
def report_edit(request, pk):
    report = get_visible_or_404(SavedReport.objects, request.user, pk=pk)
    require(engine.may_edit(report, request.user), "Only its owner or an admin edits a report.")
    return _edit(request, report)


@login_required
@require_POST
def report_delete(request, pk):
    report = get_visible_or_404(SavedReport.objects, request.user, pk=pk)
    require(engine.may_edit(report, request.user), "Only its owner or an admin deletes a report.")
    name = report.name
    engine.delete_report(actor=request.user, report=report)
    messages.success(request, f"Report “{name}” deleted.")
    return redirect("analytics:report_list")


def _open(request, pk):
    report = get_visible_or_404(SavedReport.objects.select_related("owner"), request.user, pk=pk)
    return report, engine.plan_for(report, request.user)


@login_required
def report(request, pk):
    """The report on the viewer's records: 50 rows a page, the definition in words, the chart
    when it is grouped, CSV and XLSX of every row."""
    report, plan = _open(request, pk)
    page = page_of(request, engine.rows_queryset(plan, request.user), engine.PER_PAGE)
    headers = plan.headers()
    rows = [
        [
            {"text": engine.display(value, kind), "numeric": kind in engine.NUMERIC}
            for value, (_, kind) in zip(cells, headers, strict=True)
        ]
        for cells in engine.as_rows(plan, page.object_list)
    ]
    chart = report_chart(request.user, report, plan) if plan.group is not None else None
    return render(
        request,
        "analytics/report.html",
        {
            "report": report,
            "plan": plan,
            "headers": [
                {"label": label, "numeric": kind in engine.NUMERIC} for label, kind in headers
            ],
            "rows": rows,
            "page_obj": page,
            "chart": chart,
            "can_edit": engine.may_edit(report, request.user),
            "is_partner": role_of(request.user).is_partner,
        },
    )


def _filename(report, extension: str) -> str:
    return f"{slugify(report.name) or 'report'}.{extension}"


@login_required
def report_export_csv(request, pk):
    """Every row of the report for the viewer (not one page), streamed."""
    report, plan = _open(request, pk)
    records = engine.rows_queryset(plan, request.user).iterator(chunk_size=2000)
    rows = ([engine.flat(v) for v in cells] for cells in engine.iter_rows(plan, records))
    return csv_response(_filename(report, "csv"), [h for h, _ in plan.headers()], rows)


@login_required
def report_export_xlsx(request, pk):
    """Every row as a spreadsheet: numbers as numbers, dates as dates, text never a formula."""
    import xlsxwriter

    report, plan = _open(request, pk)
    output = tempfile.TemporaryFile()  # noqa: SIM115 — FileResponse closes it
    workbook = xlsxwriter.Workbook(output, {"constant_memory": True, "in_memory": False})
    sheet = workbook.add_worksheet((report.name or "Report")[:31].translate(_SHEET_NAME))
    bold = workbook.add_format({"bold": True})
    money = workbook.add_format({"num_format": "#,##0.00"})
    number = workbook.add_format({"num_format": "#,##0.####"})
    date = workbook.add_format({"num_format": "yyyy-mm-dd"})
    headers = plan.headers()
    for col, (label, _) in enumerate(headers):
        sheet.write_string(0, col, label, bold)
        sheet.set_column(col, col, max(12, min(40, len(label) + 4)))
    records = engine.rows_queryset(plan, request.user).iterator(chunk_size=2000)
    for row, cells in enumerate(engine.iter_rows(plan, records), start=1):
        for col, (value, (_, kind)) in enumerate(zip(cells, headers, strict=True)):
            if value is None:
                continue
            if isinstance(value, bool):
                sheet.write_string(row, col, "Yes" if value else "No")
            elif isinstance(value, Decimal | int | float):
                sheet.write_number(
                    row, col, float(value), money if kind == engine.MONEY else number
                )
            elif isinstance(value, dt.date):
                sheet.write_datetime(row, col, dt.datetime.combine(value, dt.time()), date)
            else:
                sheet.write_string(row, col, str(value))
    workbook.close()
    output.seek(0)
    return FileResponse(
        output, as_attachment=True, filename=_filename(report, "xlsx"), content_type=XLSX
    )


#: Characters Excel refuses in a sheet name.
_SHEET_NAME = str.maketrans(dict.fromkeys("[]:*?/\\", " "))


# --- the chart of a grouped report --------------------------------------------------------------


def report_chart(user, report: SavedReport, plan: engine.Plan) -> charts.Chart:
    """A bar per group (the report's order, the first groups only): the sum of the first money
    column, or the count when it has none."""
    money = next((c for c in plan.sums if c.type == engine.MONEY), None)
    categories, values = [], []
    if plan.group is not None:
        records = engine.rows_queryset(plan, user)[: engine.CHART_GROUPS]
        index = 2 + plan.sums.index(money) if money is not None else 1
        for cells in engine.iter_rows(plan, records):
            label = cells[0]
            if isinstance(label, bool):
                label = "Yes" if label else "No"
            categories.append("(blank)" if label is None else str(label))
            values.append(cells[index])
    measure = f"Sum of {money.label.lower()}" if money is not None else "Count"
    group = plan.group.label if plan.group is not None else ""
    chart = charts.Chart(
        key="report",
        title=f"{measure} by {group.lower()}" if group else report.name,
        kind="bar",
        categories=categories,
        series=[charts.Series(measure, values)],
        x_title=group
        + (" (month)" if plan.group is not None and plan.group.type == engine.DATE else ""),
        y_title=measure,
        money=money is not None,
        summary=_summary(categories, values, measure, group),
        empty_message="No rows match this report yet."
        if plan.group is not None
        else "Choose a grouping to see this report as a chart.",
    )
    chart.query = f"report={report.pk}"
    return chart


def _summary(categories, values, measure, group) -> str:
    if not categories:
        return ""
    pairs = [(c, v) for c, v in zip(categories, values, strict=True) if v is not None]
    if not pairs:
        return ""
    top = max(pairs, key=lambda p: p[1])
    count = len(categories)
    highest = engine.display(top[1], engine.NUMBER)
    return (
        f"{measure} per {group.lower()}, {count} bar{'s' if count != 1 else ''}; "
        f"the highest is {top[0]} ({highest})."
    )


@charts.chart("report")
def report_chart_builder(request) -> charts.Chart:
    """``?report=<pk>``: the chart of a saved report the user may open (else 404)."""
    report = get_visible_or_404(SavedReport.objects, request.user, pk=request.GET.get("report"))
    return report_chart(request.user, report, engine.plan_for(report, request.user))
