"""Every write to deals data: a plain function per use case, one module per record type.

Each function takes the acting user, checks permission, writes in a transaction, records the
record's history and enqueues notifications after commit. Callers use ``deals.services.<name>``.
"""

from deals.services.leads import *  # noqa: F403
from deals.services.opportunities import *  # noqa: F403
from deals.services.registrations import *  # noqa: F403
