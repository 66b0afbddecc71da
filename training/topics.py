"""The training app's notification topics (each person chooses their emails per topic)."""

from prm.notifications import TopicAudience, register_topic

register_topic(
    "training.enrollments",
    "You are enrolled in a course",
    group="Training",
    description="Someone enrolled you in a course.",
    audience=TopicAudience.PARTNER,
)
register_topic(
    "training.certificates",
    "A certificate is about to expire",
    group="Training",
    description="Your certificate, or a colleague's as partner admin, needs renewing soon.",
    audience=TopicAudience.PARTNER,
)
