"""The facilitator's home: what waits for review, who waits for a case key, who withdrew lately
and what a browser refused, who waits to be given access again and what waits to be printed,
in one statement.

Each part is its domain's own query (messages/services.waiting_for_review,
cases/policy.awaiting_case_key_rows and withdrawals_query, security_events.events_about_query,
messages/regrants.waiting_statement and written_for_statement, messages/paper.to_print_statement);
here they are joined with UNION ALL into one statement, built once when the module is imported,
with the facilitator's id and the withdrawals' cut-off as bound values. So a home page costs one
round trip and no statement building, compiling or ORM loading (the page is the one every
facilitator opens first and most often; as five statements its Python cost as much as the rest
of the request: bench/README.md, "Where the facilitator's home's time goes").

Each row says which part it belongs to (``kind``); the columns are shared:

======================  ======================  =========  =========  ==========  =============
kind                    at                      case_id    reference  detail      number
======================  ======================  =========  =========  ==========  =============
security                when it was reported    its case   reference  audit tag   event id
withdrawal              when they withdrew      case       reference  their side
handover                joined (the earliest)   case       reference  all people  in the case
waiting                                                                           items, bounded
second                                                                            items, bounded
request                 when they asked         case       reference  kind
new-key                 a facilitator left      case       reference
handed-over             I handed it over        case       reference  "by-me"/"to-me"
referral-reader                                                                   1 if designated
declined                when it was declined    case       reference  message id
follow-up                                       case       reference  kind:id:due
referral-to-open        when it was accepted    referral   reference
event                   when it happened                              the event
regrant                                         case       reference              people owed
written-for                                     case       reference  side
to-print                released at             case       reference  side:message
======================  ======================  =========  =========  ==========  =============

Each part takes the facilitator's cases as a join to ``case_facilitators``
(cases/policy.facilitated_by), never as ``case_id IN (SELECT ...)``: SQLite makes each such list
a temporary table with a page cache of its own, and the planner may start from either side of a
join (bench/README.md, "The facilitator's home, seventh round").

``handed-over`` says what became of a hand-over (cases/team.py hand_over) lately: "by-me", a
case I handed over and am no longer on (it left my list, so the home says where it went);
"to-me", a case the colleague who added me then handed over (I look after it now).

``referral-reader`` is there when a service manager designated me to read referrals (the home
then links to the referrals inbox).

``follow-up`` is an agreement item of an open case due by ``follow_up_by`` (a week from today,
``casework/rules.follow_up_by``; overdue ones too) and not completed, the soonest due first
(casework/services.follow_ups_query), at most one more than FOLLOW_UPS_SHOWN, so the home knows
to link to the whole list (``/follow-ups``): its kind, id and due day share ``detail`` (a date
does not fit the ``at`` column's type on SQLite).
``referral-to-open`` is a referral accepted to me that I have not opened a case from yet
(referrals/triage.py: its ``case_id`` column holds the referral's id).
``event`` is one of my own newest events (notifications/models.AccountEvent, at most
notifications/services.HOME_SHOWN): "What happened lately", in neutral words.

``second`` counts the items waiting for a second approval (a high-risk case), also bounded.

The count of items waiting for review stops at WAITING_COUNTED: the home says "more than 99"
rather than walk every waiting item of a facilitator with a long queue (the queue page itself
counts them all).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import (
    CompoundSelect,
    Date,
    String,
    bindparam,
    cast,
    exists,
    func,
    literal_column,
    null,
    select,
    union_all,
)
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import Session

from portal import local_time
from portal.accounts.models import Account
from portal.audit.models import AuditEvent
from portal.audit.tags import AuditTag
from portal.cases import path
from portal.cases import policy as case_policy
from portal.cases.models import Case, CaseFacilitator, Side, Supporter, SupporterKind
from portal.casework import rules as casework_rules
from portal.casework import services as casework
from portal.casework.models import AgreementKind
from portal.db import DriverQuery, ReadTransaction, UTCDateTime, utcnow
from portal.homes import store as kept
from portal.homes.models import HomeHead
from portal.messages import paper, regrants
from portal.messages.models import Message
from portal.messages.services import (
    DECLINES_SHOWN,
    DeclineToTell,
    declines_to_tell_query,
    waiting_for_review,
)
from portal.messages.states import MessageState
from portal.notifications import services as notices
from portal.notifications.models import AccountEvent, NoticeEvent
from portal.referrals.models import Referral, ReferralReader
from portal.referrals.states import ReferralState
from portal.workspace import security_events

# Agreement follow-ups shown, the soonest due first (all of them: /follow-ups).
FOLLOW_UPS_SHOWN = 20
# Referrals accepted to me and not yet opened as cases, shown on the home (the oldest first).
REFERRALS_SHOWN = 10
# Hand-overs of the last WITHDRAWALS_DAYS shown on the home, the latest first.
HANDED_OVER_SHOWN = 5
# Counted up to this many; one more is shown as "more than" it.
WAITING_SHOWN = 99
WAITING_COUNTED = WAITING_SHOWN + 1


def _kind(name: str) -> Any:
    return literal_column(f"'{name}'", String).label("kind")


def _statement() -> CompoundSelect[Any]:
    me = bindparam("account_id", type_=String)
    since = bindparam("since", type_=UTCDateTime())
    # The first part gives every column its type (SQLite returns times as text, read as times
    # by the first part's column type).
    events = security_events.events_about_query(me).subquery()
    security = select(
        _kind("security"),
        events.c.at.label("at"),
        events.c.subject_id.label("case_id"),
        events.c.reference.label("reference"),
        events.c.tag.label("detail"),
        events.c.id.label("number"),
    )
    withdrawn = case_policy.withdrawals_query(me, since).subquery()
    withdrawals = select(
        _kind("withdrawal"), withdrawn.c[3], withdrawn.c[0], withdrawn.c[1], withdrawn.c[2], null()
    )
    waiting_for_key = case_policy.awaiting_case_key_rows(me)
    handover = case_policy.handover_cases_query(waiting_for_key).subquery()
    # The people waiting in all the cases ride in ``detail`` (the list stops at HANDOVERS_SHOWN).
    handovers = select(
        _kind("handover"),
        handover.c[3],
        handover.c[0],
        handover.c[1],
        cast(handover.c[4], String),
        handover.c[2],
    )
    waiting_items = (
        select(Message.id)
        .join(CaseFacilitator, case_policy.facilitated_by(Message.case_id, me))
        .where(waiting_for_review())
    )
    bounded = waiting_items.limit(WAITING_COUNTED).subquery()
    waiting = select(_kind("waiting"), null(), null(), null(), null(), func.count()).select_from(
        bounded
    )
    # The same index (ix_messages_waiting holds approved_once), the state tested on its rows.
    second_bounded = (
        waiting_items.where(
            Message.state == literal_column(f"'{MessageState.APPROVED_ONCE.value}'", String)
        )
        .limit(WAITING_COUNTED)
        .subquery()
    )
    second = select(_kind("second"), null(), null(), null(), null(), func.count()).select_from(
        second_bounded
    )
    asked = case_policy.supporter_requests_query(me).subquery()
    requests = select(_kind("request"), asked.c[3], asked.c[0], asked.c[1], asked.c[2], null())
    # Cases waiting for their next key epoch since a facilitator left (cases/team.py): few,
    # found through the facilitator's own cases.
    new_key = (
        select(_kind("new-key"), Case.key_change_since, Case.id, Case.reference, null(), null())
        .join(CaseFacilitator, case_policy.facilitated_by(Case.id, me))
        .where(Case.key_change_since.is_not(None))
    )
    handed = select(AuditEvent.subject_id, AuditEvent.actor_id, AuditEvent.at).where(
        AuditEvent.tag == literal_column(f"'{AuditTag.CASE_HANDED_OVER.value}'", String),
        AuditEvent.at > since,
    )
    # No longer mine: NOT EXISTS, one key lookup a row (NOT IN would be a temporary table).
    still_mine = exists().where(case_policy.facilitated_by(AuditEvent.subject_id, me))
    # Only the newest few: the page shows the newest HANDED_OVER_SHOWN of both kinds. The LIMIT
    # also keeps SQLite from flattening this into the join below, where it started from every
    # case and walked each one's audit events (45 ms at 10,000 cases), not from the tag's index.
    by_me = (
        handed.where(AuditEvent.actor_id == me, ~still_mine)
        .order_by(AuditEvent.at.desc(), AuditEvent.subject_id.desc())
        .limit(HANDED_OVER_SHOWN)
        .subquery()
    )
    handed_by_me = (
        select(_kind("handed-over"), by_me.c.at, Case.id, Case.reference)
        .add_columns(literal_column("'by-me'", String), null())
        .join(by_me, by_me.c.subject_id == Case.id)
    )
    lately = handed.subquery()
    handed_to_me = (
        select(_kind("handed-over"), lately.c.at, Case.id, Case.reference)
        .add_columns(literal_column("'to-me'", String), null())
        .join(lately, lately.c.subject_id == Case.id)
        .join(CaseFacilitator, CaseFacilitator.case_id == Case.id)
        .where(
            CaseFacilitator.account_id == me,
            CaseFacilitator.added_by_id == lately.c.actor_id,
            CaseFacilitator.added_at <= lately.c.at,
        )
    )
    # Declined, and its writer not told yet (messages/services.declines_to_tell_query).
    told = declines_to_tell_query(facilitator_id=me).limit(DECLINES_SHOWN).subquery()
    declined = select(_kind("declined"), told.c[0], told.c[1], told.c[2], told.c[3], null())
    # Designated to read referrals (referrals/models.ReferralReader): the home links to them.
    reader = select(
        _kind("referral-reader"), null(), null(), null(), null(), literal_column("1")
    ).where(ReferralReader.account_id == me)
    # Agreement items to follow up (casework/services.follow_ups_query), the soonest first: one
    # more than shown, so the home knows to link to the whole list.
    due = (
        casework.follow_ups_query(me, bindparam("follow_up_by", type_=Date()))
        .limit(FOLLOW_UPS_SHOWN + 1)
        .subquery()
    )
    # Its kind, id and due day share ``detail`` (a date does not fit the ``at`` column's type on
    # SQLite).
    detail = (
        cast(due.c.kind, String)
        + literal_column("':'", String)
        + due.c.id
        + literal_column("':'", String)
        + cast(due.c.due_on, String)
    )
    follow_ups = select(_kind("follow-up"), null(), due.c.case_id, due.c.reference, detail, null())
    # Accepted to me, no case opened from it yet (referrals/triage.to_open_as_case).
    opened = exists().where(Case.referral_id == Referral.id)
    to_open = (
        select(Referral.state_changed_at, Referral.id, Referral.reference)
        .where(
            Referral.assigned_facilitator_id == me,
            Referral.state == literal_column(f"'{ReferralState.ACCEPTED.value}'", String),
            ~opened,
        )
        .limit(REFERRALS_SHOWN)
        .subquery()
    )
    # The NULLs stay out of the subquery: inside one PostgreSQL types a bare NULL as text,
    # which would not unite with the other parts' columns.
    referrals_to_open = select(_kind("referral-to-open"), *to_open.c, null(), null())
    # My own newest events (ix_account_events_account), for "What happened lately".
    mine = (
        select(AccountEvent.created_at, AccountEvent.event)
        .where(AccountEvent.account_id == me)
        .order_by(AccountEvent.created_at.desc(), AccountEvent.id.desc())
        .limit(notices.HOME_SHOWN)
        .subquery()
    )
    my_events = select(_kind("event"), mine.c.created_at, null(), null(), mine.c.event, null())
    # Someone waits for my browser to give access again (messages/regrants.py): every case,
    # the page lists the first few by reference and counts the people in all. Its ORDER BY
    # goes: a UNION's part keeps no order (sorted below).
    owed = regrants.waiting_statement().order_by(None).subquery()
    regrant_cases = select(_kind("regrant"), null(), owed.c[0], owed.c[1], null(), owed.c[2])
    written = regrants.written_for_statement().subquery()
    written_for = select(_kind("written-for"), null(), written.c[0], written.c[1], written.c[2])
    written_for = written_for.add_columns(null())
    # Released on paper, not printed yet (messages/paper.py): up to one more than shown. The
    # side and the message's id share ``detail``.
    printing = paper.to_print_statement().subquery()
    to_print = select(
        _kind("to-print"),
        printing.c[4],
        printing.c[1],
        printing.c[2],
        cast(printing.c[3], String) + literal_column("':'", String) + printing.c[0],
        null(),
    )
    # For keeping the home (portal/homes): the count of changes to it, read in this statement's
    # snapshot, and the first moment a supporter's access in my cases ends (the key hand-over
    # and regrants parts count only those whose access holds now).
    head = select(_kind("head"), null(), null(), null(), null(), HomeHead.changes).where(
        HomeHead.account_id == me
    )
    ends = (
        select(_kind("until"), func.min(Supporter.ends_at), null(), null(), null(), null())
        .join(CaseFacilitator, case_policy.facilitated_by(Supporter.case_id, me))
        .where(Supporter.revoked_at.is_(None), Supporter.ends_at > bindparam("now"))
    )
    return union_all(
        security,
        withdrawals,
        handovers,
        waiting,
        second,
        requests,
        new_key,
        handed_by_me,
        handed_to_me,
        reader,
        declined,
        follow_ups,
        referrals_to_open,
        my_events,
        regrant_cases,
        written_for,
        to_print,
        head,
        ends,
    )


# Built once, compiled once per dialect and run on the driver (db.DriverQuery): through
# SQLAlchemy's execution, hashing this statement's cache key and converting its constants again
# cost more than the database's work at every page.
HOME = DriverQuery(_statement())


@dataclass(frozen=True)
class Waiting:
    """How many items wait for review, counted up to WAITING_COUNTED."""

    count: int

    @property
    def more_than_shown(self) -> bool:
        return self.count > WAITING_SHOWN

    def __bool__(self) -> bool:
        return self.count > 0

    def __str__(self) -> str:
        return f"more than {WAITING_SHOWN}" if self.more_than_shown else str(self.count)


NewKey = case_policy.NewCaseKey


FollowUp = casework.FollowUp


def _follow_up(case_id: str, reference: str, detail: str, today: date) -> FollowUp:
    kind, item_id, due = detail.split(":", 2)
    due_on = date.fromisoformat(due)
    return FollowUp.of(case_id, reference, item_id, AgreementKind(kind), due_on, today)


@dataclass(frozen=True)
class HandedOver:
    """A case handed over lately: by me (gone from my cases) or to me (mine now)."""

    case_id: str
    reference: str
    at: datetime
    by_me: bool


@dataclass(frozen=True)
class ReferralToOpen:
    """A referral accepted to me, to open as a case."""

    referral_id: str
    reference: str
    accepted_at: datetime


def home_parameters(account_id: str, today: date) -> dict[str, Any]:
    """HOME's values for the facilitator ``account_id`` now."""
    now = utcnow()
    return {
        "account_id": account_id,
        "since": now - timedelta(days=case_policy.WITHDRAWALS_DAYS),
        "follow_up_by": casework_rules.follow_up_by(today),
        "now": now,
    }


@dataclass(frozen=True)
class HomeRead:
    """What the home shows, and, when it was read from the cases, those rows to keep."""

    context: dict[str, Any]
    to_keep: kept.ToKeep | None


# Rows whose list is "lately" (since WITHDRAWALS_DAYS ago): kept ones age out as they are read.
_SINCE_KINDS = frozenset({"withdrawal", "handed-over"})
# Rows of HOME that are not the page's: the head's count and when a supporter's access ends.
_FOR_KEEPING = frozenset({"head", "until", kept.KEPT_KIND})


def facilitator_home(db: Session | ReadTransaction, account: Account) -> HomeRead:
    """What the facilitator's home shows (templates/home.html): the rows kept for it if they
    hold (portal/homes, one index lookup), else from the cases' one statement, to keep."""
    today = path.today()
    parameters = home_parameters(account.id, today)
    kept_for = HOME.fingerprint(_dialect(db))
    rows = kept.KEPT.all(
        db, {"account_id": account.id, "now": parameters["now"], "kept_for": kept_for}
    )
    if any(row[0] == kept.KEPT_KIND for row in rows):
        return HomeRead(shown_context(rows, today, parameters["since"]), None)
    return read_from_cases(db, account.id, today, parameters)


def _dialect(db: Session | ReadTransaction) -> Dialect:
    return db.dialect if isinstance(db, ReadTransaction) else db.get_bind().dialect


def read_from_cases(
    db: Session | ReadTransaction, account_id: str, today: date, parameters: dict[str, Any]
) -> HomeRead:
    """The home from the cases' one statement, with what keeping it needs."""
    rows = HOME.all(db, parameters)
    changes = 0
    # The rows hold until the day ends (the follow-ups are those due within a week of today,
    # the overdue ones among them), or a supporter's access ends before.
    until = local_time.start_of(today + timedelta(days=1))
    for kind, at, _case_id, _reference, _detail, number in rows:
        if kind == "head":
            changes = number
        elif kind == "until" and at is not None:
            until = min(until, at)
    shown = [row for row in rows if row[0] not in _FOR_KEEPING]
    return HomeRead(
        shown_context(shown, today, parameters["since"]),
        kept.ToKeep(account_id, changes, until, shown, HOME.fingerprint(_dialect(db))),
    )


def shown_context(rows: Sequence[tuple[Any, ...]], today: date, since: datetime) -> dict[str, Any]:
    """The page's lists from the statement's rows, kept or just read (each in its order)."""
    events: list[tuple[int, security_events.ShownEvent]] = []
    withdrawals: list[case_policy.Withdrawal] = []
    handovers: list[case_policy.KeyHandover] = []
    asked: list[case_policy.AskedForSupporter] = []
    new_keys: list[NewKey] = []
    handed: list[HandedOver] = []
    people = waiting = second = 0
    reads_referrals = False
    declines: list[DeclineToTell] = []
    follow_ups: list[FollowUp] = []
    to_open: list[ReferralToOpen] = []
    recent: list[notices.RecentEvent] = []
    owed: list[tuple[str, str, int]] = []
    written_for: list[tuple[str, str, str]] = []
    printing: list[tuple[str, str, str, str, datetime]] = []
    for kind, at, case_id, reference, detail, number in rows:
        if kind in _FOR_KEEPING:
            continue
        if kind in _SINCE_KINDS and at <= since:
            # Kept rows read on an earlier day: what went out of "lately" since stays out.
            continue
        if kind == "security":
            events.append((number, security_events.shown(at, detail, case_id, reference)))
        elif kind == "withdrawal":
            withdrawals.append(case_policy.Withdrawal(case_id, reference, Side(detail), at))
        elif kind == "handover":
            handovers.append(case_policy.KeyHandover(case_id, reference, number, at))
            people = int(detail)
        elif kind == "second":
            second = number
        elif kind == "request":
            asked.append(
                case_policy.AskedForSupporter(case_id, reference, SupporterKind(detail), at)
            )
        elif kind == "new-key":
            new_keys.append(NewKey(case_id, reference, at))
        elif kind == "handed-over":
            handed.append(HandedOver(case_id, reference, at, by_me=detail == "by-me"))
        elif kind == "referral-reader":
            reads_referrals = True
        elif kind == "declined":
            declines.append(DeclineToTell(case_id, reference, detail, at))
        elif kind == "follow-up":
            follow_ups.append(_follow_up(case_id, reference, detail, today))
        elif kind == "referral-to-open":
            to_open.append(ReferralToOpen(case_id, reference, at))
        elif kind == "event":
            recent.append(notices.RecentEvent(at, notices.EVENT_WORDS[NoticeEvent(detail)]))
        elif kind == "regrant":
            owed.append((case_id, reference, number))
        elif kind == "written-for":
            written_for.append((case_id, reference, detail))
        elif kind == "to-print":
            side, message_id = detail.split(":", 1)
            printing.append((message_id, case_id, reference, side, at))
        else:
            waiting = number
    # UNION ALL keeps no order between or within its parts: each list is put back in its own.
    events.sort(key=lambda item: item[0], reverse=True)
    withdrawals.sort(key=lambda item: item.withdrawn_at, reverse=True)
    handovers.sort(key=lambda item: (item.waiting_since, item.case_id))
    asked.sort(key=lambda item: (item.asked_at, item.case_id))
    # In each statement's own order (regrants.waiting_statement, written_for_statement,
    # paper.to_print_statement), the rows made into what those modules make of them.
    owed.sort(key=lambda row: (row[1], row[0]))
    written_for.sort(key=lambda row: (row[1], row[2]))
    printing.sort(key=lambda row: (row[4], row[0]))
    return {
        "regrants": regrants.Regrants.from_rows(
            owed, [(case_id, ref, Side(side)) for case_id, ref, side in written_for]
        ),
        "to_print": paper.ToPrint.from_rows(
            [(m, case_id, ref, Side(side), at) for m, case_id, ref, side, at in printing]
        ),
        "queue_count": Waiting(waiting),
        "second_approvals": Waiting(second),
        "handovers": case_policy.KeyHandovers(handovers if people else [], people),
        "withdrawals": withdrawals,
        "security_events": [event for _number, event in events],
        "supporter_requests": asked,
        "new_case_keys": sorted(new_keys, key=lambda item: (item.since, item.case_id)),
        "reads_referrals": reads_referrals,
        "declines": sorted(declines, key=lambda item: (item.at, item.message_id)),
        # The soonest shown; one more says there are more (the page links to them all).
        "follow_ups": sorted(follow_ups, key=lambda item: (item.due_on, item.item_id))[
            :FOLLOW_UPS_SHOWN
        ],
        "more_follow_ups": len(follow_ups) > FOLLOW_UPS_SHOWN,
        "referrals_to_open": sorted(to_open, key=lambda item: (item.accepted_at, item.referral_id)),
        "recent_events": sorted(recent, key=lambda item: item.at, reverse=True),
        "handed_over": sorted(handed, key=lambda item: (item.at, item.case_id), reverse=True)[
            :HANDED_OVER_SHOWN
        ],
    }
