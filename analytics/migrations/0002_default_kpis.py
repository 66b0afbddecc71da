from django.db import migrations

# code, label, unit, direction, description
DEFAULTS = [
    ("won_revenue", "Won revenue", "money", "up", "Deals won in the period."),
    ("pipeline_value", "Pipeline", "money", "up", "Open deals expected to close in the period."),
    (
        "weighted_pipeline",
        "Weighted pipeline",
        "money",
        "up",
        "Open deals closing in the period × their stage's chance of winning.",
    ),
    ("new_pipeline", "New pipeline", "money", "up", "Deals opened in the period."),
    ("deals_registered", "Deals registered", "count", "up", "Registrations submitted."),
    (
        "approval_rate",
        "Registration approval rate",
        "percent",
        "up",
        "Approved ÷ decided registrations.",
    ),
    (
        "decision_hours",
        "Time to decision",
        "hours",
        "down",
        "Median hours from a registration's submission to its decision.",
    ),
    ("win_rate", "Win rate", "percent", "up", "Won ÷ (won + lost) deals closed in the period."),
    ("average_deal", "Average deal size", "money", "up", "Won revenue ÷ deals won."),
    (
        "sales_cycle_days",
        "Sales cycle",
        "days",
        "down",
        "Median days from opening a deal to winning it.",
    ),
    (
        "lead_acceptance_rate",
        "Lead acceptance rate",
        "percent",
        "up",
        "Leads accepted ÷ leads answered (accepted, rejected or let lapse).",
    ),
    (
        "lead_accept_hours",
        "Time to accept a lead",
        "hours",
        "down",
        "Median hours from a lead's assignment to its acceptance.",
    ),
    (
        "certified_people",
        "Certified people",
        "people",
        "up",
        "People holding a valid certificate at the end of the period.",
    ),
    (
        "training_completion",
        "Training completion",
        "percent",
        "up",
        "Completed ÷ started course enrollments.",
    ),
    ("satisfaction", "Satisfaction (NPS)", "score", "up", "Net promoter score from surveys."),
    (
        "health_score",
        "Health score",
        "score",
        "up",
        "0–100: win rate 30%, lead acceptance 20%, approval rate 15%, training completion 15%, "
        "satisfaction 20%; parts without data are left out.",
    ),
]


def add_defaults(apps, schema_editor):
    KpiDefinition = apps.get_model("analytics", "KpiDefinition")
    for position, (code, label, unit, direction, description) in enumerate(DEFAULTS):
        KpiDefinition.objects.get_or_create(
            code=code,
            defaults={
                "label": label,
                "unit": unit,
                "direction": direction,
                "description": description,
                "position": position * 10,
                "goal_allowed": code not in ("health_score", "satisfaction"),
            },
        )


class Migration(migrations.Migration):
    dependencies = [("analytics", "0001_initial")]

    operations = [migrations.RunPython(add_defaults, migrations.RunPython.noop)]
