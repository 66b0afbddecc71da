"""The analytics app's notification topics: goals, quarterly reviews, surveys and one per alert
condition (whose default is the alert rule's channel)."""

from analytics.models import AlertCondition
from prm.notifications import TopicAudience, register_topic

register_topic(
    "goals",
    "Goals set, proposed or agreed",
    group="Goals and quarterly reviews",
    description="A goal for your company (or your partner) is set, proposed or agreed.",
)
register_topic(
    "reviews",
    "Quarterly reviews",
    group="Goals and quarterly reviews",
    description="A quarterly review is ready, or the partner acknowledged it.",
)
register_topic(
    "surveys",
    "Feedback surveys",
    group="Surveys",
    description="An invitation to answer a short survey, and its one reminder.",
    audience=TopicAudience.PARTNER,
)


def alert_topic(condition: str) -> str:
    return f"alert:{condition}"


for condition in AlertCondition:
    register_topic(
        alert_topic(condition.value),
        condition.label,
        group="Alerts",
        description="Alerts of rules on this condition. Rules set to the bell only never email.",
        default=None,
        audience=TopicAudience.NOT_MEMBERS,  # partner members get no alerts
    )
