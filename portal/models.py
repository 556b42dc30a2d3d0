"""Every table, imported in one place: SQLAlchemy must know all of them before the first flush
(foreign keys between domains are resolved by table name). With them, the listeners that count
each session's changes to the facilitators' homes (portal/homes/changes.py): wherever the
tables are known, so are they."""

from portal import leases
from portal.accounts import models as accounts
from portal.audit import models as audit
from portal.cases import models as cases
from portal.casework import models as casework
from portal.content import models as content
from portal.factors import models as factors
from portal.feedback import models as feedback
from portal.homes import changes as _home_changes  # noqa: F401 (its listeners count changes)
from portal.homes import models as homes
from portal.invitations import models as invitations
from portal.messages import models as messages
from portal.notifications import models as notifications
from portal.referrals import models as referrals
from portal.trust import models as trust

__all__ = [
    "accounts",
    "audit",
    "cases",
    "casework",
    "content",
    "factors",
    "feedback",
    "homes",
    "invitations",
    "leases",
    "messages",
    "notifications",
    "referrals",
    "trust",
]
