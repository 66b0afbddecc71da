"""The partners app's notification topics (each person chooses their emails per topic)."""

from prm.notifications import TopicAudience, register_topic

register_topic(
    "partners.account_status",
    "A partner account's status changes",
    group="Partner accounts",
    description="A partner you manage is activated, deactivated or suspended.",
    audience=TopicAudience.INTERNAL,
)
