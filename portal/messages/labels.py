"""Plain words for states, as each reader should see them."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import TYPE_CHECKING

from portal.cases.models import Format, Side, SupporterKind
from portal.db import utcnow
from portal.messages.states import MessageState

if TYPE_CHECKING:
    from portal.messages.models import Message

S = MessageState

FOR_AUTHOR = {
    S.SUBMITTED: "Sent to your facilitator",
    S.IN_REVIEW: "Your facilitator is reading it",
    S.APPROVED_ONCE: "Your facilitators are reading it",
    S.RETURNED: "Returned to you with suggestions",
    S.AWAITING_RECIPIENT: "Approved: waiting for the other person to choose",
    S.HELD: "Approved: on hold",
    S.OPENED: "Approved and passed on",
    # Said only once a facilitator has talked it through with them (``for_author``).
    S.DECLINED: "Not received: your facilitator has talked to you about it",
    S.WITHHELD: "Not passed on",
    S.WITHDRAWN: "Withdrawn",
}

FOR_STAFF = {
    S.SUBMITTED: "Waiting for review",
    S.IN_REVIEW: "Being reviewed",
    S.APPROVED_ONCE: "Waiting for a second approval",
    S.RETURNED: "Returned for changes",
    S.AWAITING_RECIPIENT: "Approved, waiting for the recipient",
    S.HELD: "Held at the recipient's request",
    S.OPENED: "Opened by the recipient",
    S.DECLINED: "Declined by the recipient",
    S.WITHHELD: "Withheld",
    S.WITHDRAWN: "Withdrawn",
}

TIMELINE_FOR_AUTHOR = {
    S.SUBMITTED: "Sent to your facilitator",
    S.IN_REVIEW: "Your facilitator started reading it",
    S.APPROVED_ONCE: "A second facilitator is to read it",
    S.RETURNED: "Returned to you with suggestions",
    S.AWAITING_RECIPIENT: "Approved and waiting for the other person",
    S.HELD: "Put on hold",
    S.OPENED: "Opened by the other person",
    S.DECLINED: "Not received: your facilitator has talked to you about it",
    S.WITHHELD: "Your facilitator decided not to pass it on",
    S.WITHDRAWN: "Withdrawn",
}


@dataclass(frozen=True)
class RecipientWords:
    """How something passed on is spoken of to its recipient: never what it is about."""

    home: str  # the notice in "Waiting for you" on their home page
    link: str  # the link from there to the inbox page
    page: str  # the first sentence of the inbox page


_PASSED_ON = (
    "Your facilitator has passed on something for you. You can choose if and when to look at it."
)
FOR_RECIPIENT = {
    S.AWAITING_RECIPIENT: RecipientWords(
        home=_PASSED_ON,
        link="See your choices",
        page=_PASSED_ON,
    ),
    S.HELD: RecipientWords(
        home="Your facilitator is keeping something for you. It stays with them for now. You can"
        " talk to them about it at any time.",
        link="See your choices",
        page="Your facilitator is keeping this for you. It stays with them for now, and it will"
        " not be shown here.",
    ),
    S.OPENED: RecipientWords(
        home="You have looked at something your facilitator passed on to you.",
        link="Go to it again",
        page="You have opened this before. You can read it again whenever you want, or leave it.",
    ),
}


_PASSED_ON_FOR_THEM = (
    "Your facilitator has passed on something for the person you represent. You can choose if "
    "and when to look at it."
)
# The same, for the representative who holds the side of a participant without an account:
# it is not theirs, so the words say whose it is.
FOR_HOLDER = {
    S.AWAITING_RECIPIENT: RecipientWords(
        home=_PASSED_ON_FOR_THEM,
        link="See the choices",
        page=_PASSED_ON_FOR_THEM,
    ),
    S.HELD: RecipientWords(
        home="Your facilitator is keeping something for the person you represent. It stays with"
        " them for now. You can talk to them about it at any time.",
        link="See the choices",
        page="Your facilitator is keeping this for the person you represent. It stays with them"
        " for now, and it will not be shown here.",
    ),
    S.OPENED: RecipientWords(
        home="You have looked at something your facilitator passed on for the person you"
        " represent.",
        link="Go to it again",
        page="You have opened this before. You can read it again whenever you want, or leave it.",
    ),
}


def recipient_words(state: MessageState, *, holder: bool) -> RecipientWords:
    """How it is spoken of to the participant, or to the representative holding their side."""
    return (FOR_HOLDER if holder else FOR_RECIPIENT)[state]


def author_state(message: Message) -> MessageState:
    """The state as the writer's side may know it. Opened, when the recipient chose not to
    tell: it still waits. Declined: it still waits until a facilitator has talked it through
    with them (``decline_told_at``), so nobody learns of a decline from a page."""
    if message.state is S.OPENED and not message.author_may_see_opened:
        return S.AWAITING_RECIPIENT
    if message.state is S.DECLINED and message.decline_told_at is None:
        return S.AWAITING_RECIPIENT
    return message.state


def for_author(message: Message) -> str:
    return FOR_AUTHOR[author_state(message)]


FORMAT_NOUNS = {
    Format.LETTER: "letter",
    Format.AUDIO: "audio recording",
    Format.VIDEO: "video recording",
}


def format_noun(format_: Format, *, pages: int | None = None) -> str:
    """What a message is, for headings and confirmations ("Withdraw this video recording?"):
    "letter", "audio recording", "video recording", or "scanned pages" for a letter whose
    author's browser declared scanned pages (the declared format and page count are the only
    facts about the content the server holds in clear)."""
    if format_ is Format.LETTER and pages:
        return "scanned pages"
    return FORMAT_NOUNS[format_]


def this_noun(noun: str) -> str:
    """ "this letter", or "these scanned pages": a noun from ``format_noun`` pointed at."""
    return f"these {noun}" if noun.endswith("pages") else f"this {noun}"


def age_text(since: datetime) -> str:
    seconds = max(0, int((utcnow() - since).total_seconds()))
    if seconds < 3600:
        minutes = max(1, seconds // 60)
        return f"{minutes} minute{'s' if minutes != 1 else ''}"
    if seconds < 86400:
        hours = seconds // 3600
        return f"{hours} hour{'s' if hours != 1 else ''}"
    days = seconds // 86400
    return f"{days} day{'s' if days != 1 else ''}"


def size_hint(ciphertext_bytes: int) -> str:
    """A rough length for a letter, from its size (about 3,000 characters a page)."""
    pages = max(1, round(ciphertext_bytes / 3000))
    return "about 1 page" if pages == 1 else f"about {pages} pages"


def duration_hint(seconds: int) -> str:
    """A recording's declared length in words: "less than a minute", "about 3 minutes"."""
    if seconds < 45:
        return "less than a minute"
    minutes = max(1, round(seconds / 60))
    if minutes < 90:
        return "about 1 minute" if minutes == 1 else f"about {minutes} minutes"
    hours = round(minutes / 60, 1)
    text = f"{hours:g}"
    return f"about {text} hour{'s' if text != '1' else ''}"


def length_hint(seconds: int | None, pages: int | None, ciphertext_bytes: int) -> str:
    """What the recipient sees before choosing to open: declared length, else text length.

    Recordings give their duration, scanned letters their page count (both declared by the
    author's browser); a text letter keeps the estimate from its size.
    """
    if seconds is not None:
        return duration_hint(seconds)
    if pages is not None and pages > 0:
        return "1 page" if pages == 1 else f"{pages} pages"
    return size_hint(ciphertext_bytes)


def length_json(seconds: int | None, pages: int | None) -> dict[str, int]:
    found = {"seconds": seconds, "pages": pages}
    return {name: value for name, value in found.items() if value is not None}


# -- what a message is, in every form a sentence needs ---------------------------------------------

_ARTICLES = {"letter": "a", "audio recording": "an", "video recording": "a"}


@dataclass(frozen=True)
class MessageNoun:
    """A message named by what it is, in the three forms headings and sentences need."""

    a: str  # "a video recording", "scanned pages": "Review a video recording"
    the: str  # "the video recording": "The video recording" (a section heading)
    this: str  # "this video recording", "these scanned pages": "Approve this video recording?"


def message_noun(format_: Format, *, pages: int | None = None) -> MessageNoun:
    """``format_noun`` in the three forms; pages take no article ("scanned pages")."""
    noun = format_noun(format_, pages=pages)
    article = _ARTICLES.get(noun)
    return MessageNoun(f"{article} {noun}" if article else noun, f"the {noun}", this_noun(noun))


def format_nouns() -> dict[str, str]:
    """Every format's noun by its value, for a page that compares what the author declared with
    what the browser finds in the sealed manifest (only the browser can read that)."""
    return {format_.value: message_noun(format_).a for format_ in Format}


class Reader(StrEnum):
    """Who a "written on behalf" label speaks to."""

    STAFF = "staff"
    RECIPIENT = "recipient"
    PARTICIPANT = "participant"  # the one it was written for
    WRITER = "writer"  # the supporter or representative who wrote it


def on_behalf_label(kind: SupporterKind, side: Side, reader: Reader) -> str:
    """Says that a supporter or representative wrote it for a participant: every page that shows
    such a message says so, in words for its reader (their name stays sealed to the case key)."""
    who = kind.label.lower()
    whose = side.label.lower()
    if reader is Reader.STAFF:
        return f"Written by the {whose}'s {who} on their behalf"
    if reader is Reader.RECIPIENT:
        return f"Written on behalf of the {whose} by their {who}"
    if reader is Reader.PARTICIPANT:
        return f"Written for you by your {who}"
    return f"You wrote this for the {whose}"


def written_for(message: Message, reader: Reader) -> str | None:
    """``message``'s "written on behalf" label for ``reader``, or None when its author wrote it."""
    place = message.written_by
    if place is None:
        return None
    return on_behalf_label(place.kind, message.author.side, reader)


# A supporter or representative who may write waits for a facilitator's browser to give them
# the case's public key, as the participant does (said by the composer and by every refusal).
NOT_SET_UP_ON_BEHALF = (
    "The facilitator has not finished setting up your place in this case yet. They can see "
    "that it is waiting for them, and you do not need to do anything."
)
