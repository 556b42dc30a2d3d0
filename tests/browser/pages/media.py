"""Page objects for media messages: recording and adding files in the composer, and the players
and scanned pages on the review, inbox and letter pages.

A player counts as playing only when the browser says so itself: its ``currentTime`` moves on,
and for video, ``getVideoPlaybackQuality().totalVideoFrames`` is above zero.
"""

from __future__ import annotations

import re
from pathlib import Path

from playwright.sync_api import Locator, Page, expect

from tests.browser.pages.letters import (
    UUID,
    ComposePage,
    InboxPage,
    LetterPage,
    QueuePage,
    ReviewPage,
)
from tests.support.browser import PageObject

# Encrypting and sending a few MiB on a slow test machine.
SEND_MS = 60_000
PLAY_MS = 20_000


class MediaParts(PageObject):
    """Recording and adding files, where the participants' composer offers them: the compose
    page, and the enter page a facilitator uses for someone without access."""

    def records(self, kind: str, seconds: float) -> None:
        """``kind``: "Sound only" or "Video with sound". Records, then keeps the recording."""
        self.page.get_by_role("radio", name=kind, exact=True).check()
        self.page.get_by_role("button", name="Start recording").click()
        stop = self.page.get_by_role("button", name="Stop recording")
        expect(stop).to_be_visible(timeout=PLAY_MS)
        expect(self.page.locator("#record-clock")).to_contain_text("0:01", timeout=PLAY_MS)
        self.check()
        self.page.wait_for_timeout(int(seconds * 1000))
        stop.click()
        keep = self.page.get_by_role("button", name="Keep this recording")
        expect(keep).to_be_visible(timeout=PLAY_MS)
        self.check()
        keep.click()

    @property
    def file_input(self) -> Locator:
        return self.page.get_by_label("Choose files to add")

    def adds_files(self, paths: list[Path]) -> None:
        self.file_input.set_input_files([str(path) for path in paths])
        expect(
            self.page.get_by_role("list", name="Files you added").get_by_role("listitem")
        ).to_have_count(len(paths))
        self.check()


class MediaComposePage(MediaParts, ComposePage):
    """The composer, with its recording and file sections."""

    def starts_sending(self) -> None:
        """Send and confirm, without waiting for the upload to finish."""
        self.page.get_by_role("button", name="Send to your facilitator").click()
        yes = self.page.get_by_role("button", name="Yes, send it to my facilitator")
        expect(yes).to_be_visible()
        self.check()
        yes.click()

    def finishes_sending(self) -> LetterPage:
        expect(self.page).to_have_url(re.compile(rf"/letters/{UUID}$"), timeout=SEND_MS)
        return LetterPage(self.page).arrived()

    def sends(self) -> LetterPage:
        self.starts_sending()
        return self.finishes_sending()

    def continues_unsent_message(self) -> None:
        heading = self.page.get_by_role("heading", name="You have a message that was not sent yet")
        expect(heading).to_be_visible(timeout=PLAY_MS)
        self.check()
        self.page.get_by_role("button", name="Continue with this message").click()


def plays(player: Locator, *, video: bool) -> None:
    """Press play on a player and wait until the browser shows it is really playing."""
    expect(player).to_be_visible(timeout=PLAY_MS)
    assert player.evaluate("media => media.autoplay") is False
    assert player.evaluate("media => media.paused") is True  # nothing starts by itself
    player.evaluate("media => { media.muted = true; return media.play(); }")
    player.page.wait_for_function(
        "media => media.currentTime > 0.5", arg=player.element_handle(), timeout=PLAY_MS
    )
    if video:
        frames = player.evaluate("media => media.getVideoPlaybackQuality().totalVideoFrames")
        assert frames > 0
    player.evaluate("media => media.pause()")


def player(page: Page, name: str) -> Locator:
    """ "Video recording" or "Audio recording" (static/js/media/message-view.js)."""
    return page.locator("video, audio").and_(page.get_by_label(name, exact=True))


def shown_pages(page: Page, count: int) -> list[int]:
    """The natural widths of the scanned pages shown, "Page 1 of N" to "Page N of N"."""
    widths = []
    for number in range(1, count + 1):
        image = page.get_by_role("img", name=f"Page {number} of {count}")
        expect(image).to_be_visible(timeout=PLAY_MS)
        page.wait_for_function(
            "image => image.complete && image.naturalWidth > 0",
            arg=image.element_handle(),
            timeout=PLAY_MS,
        )
        widths.append(int(image.evaluate("image => image.naturalWidth")))
    return widths


class MediaReviewPage(ReviewPage):
    def approves_unverified(
        self, note: str | None = None, *, transcript: tuple[str, str] | None = None
    ) -> QueuePage:
        """Approve when the recipient's key was not compared in person (seeded cases).

        ``transcript``: ("A transcript (the same words, written down)" or "A translation",
        its text), locked for the recipient and released with the message.
        """
        approve = "Approve it and offer it to the recipient"
        self.page.get_by_role("radio", name=approve).check()
        self.page.get_by_label("I understand, and I want to approve it anyway").check()
        if transcript is not None:
            kind, text = transcript
            self.page.get_by_role("radio", name=kind).check()
            self.page.get_by_role("textbox", name="Transcript or translation").fill(text)
        return self._decides(approve, "Note for the recipient (optional)", note, "Yes, approve it")


class MediaInboxPage(InboxPage):
    def opens_media_now(self) -> None:
        self.page.get_by_role("checkbox", name="Let the writer know I have opened it").set_checked(
            False
        )
        self.page.get_by_role("button", name="Open it now").click()
        expect(self.page.get_by_role("heading", name="The written letter")).to_be_visible(
            timeout=PLAY_MS
        )
        self.check()

    def item_length(self) -> str:
        return self.page.locator("#item-length").inner_text()
