"""Who may invite whom, and who may see and revoke an invitation: the one place these rules live."""

from __future__ import annotations

from portal.accounts.models import Account, Role
from portal.invitations.models import Invitation

# The service manager brings in staff; facilitators bring in the people in their cases.
INVITABLE_ROLES: dict[Role, tuple[Role, ...]] = {
    Role.SERVICE_MANAGER: (Role.FACILITATOR, Role.SERVICE_MANAGER),
    Role.FACILITATOR: (Role.PARTICIPANT, Role.SUPPORTER),
    Role.PARTICIPANT: (),
    Role.SUPPORTER: (),
}

STAFF = frozenset({Role.SERVICE_MANAGER, Role.FACILITATOR})
# People in a case are invited from its case page: their invitation names their place there.
IN_A_CASE = frozenset({Role.PARTICIPANT, Role.SUPPORTER})


def roles_invitable_by(account: Account) -> tuple[Role, ...]:
    return INVITABLE_ROLES[account.role]


def roles_invitable_from_invitations_page(account: Account) -> tuple[Role, ...]:
    return tuple(role for role in INVITABLE_ROLES[account.role] if role not in IN_A_CASE)


def can_invite(account: Account, role: Role) -> bool:
    return role in INVITABLE_ROLES[account.role]


def can_manage_invitation(account: Account, invitation: Invitation) -> bool:
    """The person who made an invitation may see and revoke it; so may the service manager."""
    return invitation.created_by_id == account.id or account.role is Role.SERVICE_MANAGER
