"""The data behind every chart, as CSV: the same builder the page drew it with."""

from django.contrib.auth.decorators import login_required

from analytics import charts
from prm.tables import csv_response


@login_required
def chart_csv(request, key):
    """CSV of chart ``key`` for the viewer (its builder scopes by ``request.user``)."""
    chart = charts.build(key, request)
    return csv_response(f"{key}.csv", chart.csv_header(), chart.csv_rows())
