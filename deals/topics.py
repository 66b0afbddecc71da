"""The deals app's notification topics (each person chooses their emails per topic)."""

from prm.notifications import TopicAudience, register_topic

register_topic(
    "leads.assigned",
    "A lead is assigned to your company",
    group="Leads",
    description="A new lead waits for your company to accept or reject it.",
    audience=TopicAudience.PARTNER,
)
register_topic(
    "leads.returned",
    "A partner turns down a lead or lets it lapse",
    group="Leads",
    description="The lead is back in the pool or offered to another partner.",
    audience=TopicAudience.INTERNAL,
)
register_topic(
    "registrations.decisions",
    "Deal registration submitted or decided",
    group="Deal registrations",
    description="Submitted for approval, approved, rejected or returned for changes.",
)
register_topic(
    "registrations.expiry",
    "Deal registration expiring or expired",
    group="Deal registrations",
    description="The protection of a registration is about to end, or has ended.",
)
register_topic(
    "registrations.extensions",
    "Extension requests and their decisions",
    group="Deal registrations",
    description="A partner asks for more time on a registration, and the answer.",
)


def registration_topic(kind: str) -> str:
    """The topic of a registration event's notification (``deals.tasks.notify_registrations``)."""
    if kind in ("expired", "expiring"):
        return "registrations.expiry"
    if kind.startswith("extension"):
        return "registrations.extensions"
    return "registrations.decisions"
