"""Reads behind the analytics pages, one module per area (re-exported here)."""

from analytics.selectors.dashboard import (
    Book,
    Forecast,
    Total,
    book_for,
    forecast,
    top_partners,
    totals,
    trend_projection,
)
from analytics.selectors.goals import CUMULATIVE, GoalProgress, goal_progress, goals_with_progress
from analytics.selectors.scorecard import (
    KpiTile,
    TrainingStatus,
    format_kpi,
    kpi_tiles,
    pipeline_by_stage,
    scorecard_account,
    scorecard_data,
    top_open_opportunities,
    training_status,
)

__all__ = [
    # manager dashboard
    "Book",
    "Forecast",
    "Total",
    "book_for",
    "forecast",
    "top_partners",
    "totals",
    "trend_projection",
    "CUMULATIVE",
    "GoalProgress",
    "goal_progress",
    "goals_with_progress",
    # scorecard
    "KpiTile",
    "TrainingStatus",
    "format_kpi",
    "kpi_tiles",
    "pipeline_by_stage",
    "scorecard_account",
    "scorecard_data",
    "top_open_opportunities",
    "training_status",
]
