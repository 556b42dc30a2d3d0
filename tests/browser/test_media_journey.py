"""Recordings and scanned letters, end to end in real Chromium with its fake camera and microphone.

The person responsible records (or adds scanned pages) in the composer; the facilitator plays or
looks at everything on the review page and approves; the person harmed sees what it is and how
long, chooses to open it, and it plays. Then the rules that only a real browser can prove: an
upload cut part-way or reloaded part-way finishes without sending again what the server holds,
and a chunk altered or swapped on the server is caught in the browser, so nothing plays.
"""

from __future__ import annotations

import re
import secrets
import time
from pathlib import Path
from urllib.parse import urljoin

import pytest
from playwright.sync_api import Error as PlaywrightError
from playwright.sync_api import Page, Request, Route, expect

from portal import protocol
from tests.browser.pages.letters import (
    QueuePage,
    as_paragraphs,
    facilitator_signs_in,
    paragraphs,
    participant_signs_in,
)
from tests.browser.pages.media import (
    PLAY_MS,
    MediaComposePage,
    MediaInboxPage,
    MediaReviewPage,
    player,
    plays,
    shown_pages,
)
from tests.browser.support.devices import NewContext
from tests.browser.support.letters_backstage import (
    LettersBackstage,
    SeededCase,
    seed_case,
    seeded_portal,
)
from tests.factories import Portal
from tests.support import leaks
from tests.support.browser import BrowserGuard
from tests.support.live_server import LiveServer, LiveServerFactory
from tests.support.media import pdf, png, record_webm

ALL_FORMATS = ["letter", "audio", "video"]
VIDEO_MIME = "video/webm;codecs=vp8,opus"
UPLOAD_PATH = re.compile(r"/api/uploads/([0-9a-f-]{36})/(\d+)/(\d+)/(\d+)$")


def media_case(portal: Portal) -> SeededCase:
    case = seed_case(portal)
    for person in (case.harmed, case.responsible):
        case.world.consent(person, ALL_FORMATS)
    return case


def composer_for(page: Page, live_server: LiveServer, case: SeededCase) -> MediaComposePage:
    home = participant_signs_in(
        page, live_server.base_url, case.responsible.name, case.responsible.password
    )
    home.starts_letter()
    return MediaComposePage(page).arrived()


def review_of_oldest(
    page: Page, live_server: LiveServer, case: SeededCase, what: str
) -> MediaReviewPage:
    """The facilitator starts reviewing the oldest item, ``what`` it is ("a video recording")."""
    facilitator_signs_in(
        page, live_server.base_url, case.facilitator.name, case.facilitator.password
    )
    QueuePage(page).visit(live_server.url("/queue")).reviews_oldest(what)
    return MediaReviewPage(page, what).arrived()


def inbox_of_waiting(page: Page, live_server: LiveServer, case: SeededCase) -> MediaInboxPage:
    home = participant_signs_in(page, live_server.base_url, case.harmed.name, case.harmed.password)
    home.sees_choices_for_waiting_item()
    return MediaInboxPage(page).arrived()


# -- the journeys ----------------------------------------------------------------------------


@pytest.mark.browser
@pytest.mark.parametrize(
    ("kind", "label", "format_label", "video"),
    [
        ("Video with sound", "Video recording", "Video recording", True),
        ("Sound only", "Audio recording", "Audio recording", False),
    ],
)
def test_recording_is_reviewed_played_approved_and_plays_for_the_person_harmed(
    page: Page,
    live_server: LiveServer,
    portal: Portal,
    new_context: NewContext,
    kind: str,
    label: str,
    format_label: str,
    video: bool,
) -> None:
    case = media_case(portal)
    composer = composer_for(page, live_server, case)
    composer.writes("I recorded this because I find writing hard.")
    composer.records(kind, seconds=3)
    my_message = composer.sends()
    expect(my_message.where_it_is).to_contain_text(re.compile("facilitator", re.IGNORECASE))

    # The facilitator plays it on the review page, then approves it; with the sound-only
    # recording they add a written transcript, which the person harmed can read instead.
    facilitator_page = new_context().new_page()
    what = "a video recording" if video else "an audio recording"
    review = review_of_oldest(facilitator_page, live_server, case, what)
    plays(player(facilitator_page, label), video=video)
    transcript = "I am sorry for what I did.\n\nI think about it every day."
    review.approves_unverified(
        "It is a short recording, calm in tone.",
        transcript=None if video else ("A transcript (the same words, written down)", transcript),
    )

    # The person harmed sees what it is and how long before choosing; then it plays.
    harmed_page = new_context().new_page()
    inbox = inbox_of_waiting(harmed_page, live_server, case)
    expect(harmed_page.locator("#item-format")).to_have_text(format_label)
    assert re.search(r"second|minute", inbox.item_length())
    assert harmed_page.locator("video, audio").count() == 0  # nothing of it before choosing
    inbox.opens_media_now()
    plays(player(harmed_page, label), video=video)
    written = harmed_page.get_by_role("heading", name="A written transcript")
    if video:
        expect(written).to_have_count(0)
    else:
        expect(written).to_be_visible()
        section = harmed_page.locator("section.media-transcript")
        assert paragraphs(section.locator(".letter-text")) == as_paragraphs(transcript)


@pytest.mark.browser
def test_two_page_scanned_letter_is_shown_page_by_page_after_approval(
    page: Page,
    live_server: LiveServer,
    portal: Portal,
    new_context: NewContext,
    tmp_path: Path,
) -> None:
    case = media_case(portal)
    first, second = tmp_path / "letter-page-1.png", tmp_path / "letter-page-2.png"
    first.write_bytes(png(320, 200, seed=1))
    second.write_bytes(png(300, 420, seed=2))

    composer = composer_for(page, live_server, case)
    composer.writes("My handwritten letter is in the two pages below.")
    composer.adds_files([first, second])
    composer.sends()

    facilitator_page = new_context().new_page()
    review = review_of_oldest(facilitator_page, live_server, case, "scanned pages")
    assert shown_pages(facilitator_page, 2) == [320, 300]
    review.approves_unverified()

    harmed_page = new_context().new_page()
    inbox = inbox_of_waiting(harmed_page, live_server, case)
    expect(harmed_page.locator("#item-format")).to_have_text("Letter")
    assert "2 pages" in inbox.item_length()
    inbox.opens_media_now()
    assert shown_pages(harmed_page, 2) == [320, 300]


@pytest.mark.browser
def test_a_scanned_page_sent_as_pdf_is_offered_to_the_person_harmed(
    page: Page, live_server: LiveServer, portal: Portal
) -> None:
    case = media_case(portal)
    scan = protocol.Part(kind="page", mime="application/pdf", name="letter.pdf", data=pdf("Sorry"))
    message_id = case.world.write_media_message(
        case.responsible, "My letter is in the PDF.", [scan], format_="letter", length={"pages": 1}
    )
    case.approve(message_id)

    inbox = inbox_of_waiting(page, live_server, case)
    assert "1 page" in inbox.item_length()
    inbox.opens_media_now()
    expect(page.get_by_text("Page 1 of 1 (a PDF)")).to_be_visible(timeout=PLAY_MS)
    expect(page.get_by_role("button", name="Open the PDF")).to_be_visible()
    inbox.check()


# -- resuming ---------------------------------------------------------------------------------


class UploadWatch:
    """Every chunk upload that reached the server, as (part, index); and a switch to cut them.

    A PUT may carry several consecutive chunks (their sizes and hashes in X-Chunks): each of
    them counts as reached, and as stored once the server answered."""

    def __init__(self, page: Page) -> None:
        self.puts = 0  # PUT requests that reached the server
        self.reached: list[tuple[int, int]] = []
        # A PUT the server refused for a moment (busy: 503) is rightly tried again; what must
        # never happen is sending a chunk the server has already said it stored.
        self.stored: set[tuple[int, int]] = set()
        self.sent_again: list[tuple[int, int]] = []
        self.cut_after: int | None = None
        self.object_id = ""
        self.page = page
        page.route(UPLOAD_PATH, self._route)

    def until_server_holds(self, count: int) -> None:
        """Wait until the server has recorded ``count`` chunks (their PUTs may still be
        finishing when a later one is cut)."""
        deadline = time.monotonic() + PLAY_MS / 1000
        while time.monotonic() < deadline:
            path = f"/api/uploads/{self.object_id}/1"
            answer = self.page.request.get(urljoin(self.page.url, path))
            if answer.ok and len(answer.json()["held"]) >= count:
                return
            self.page.wait_for_timeout(100)
        raise AssertionError(f"the server never held {count} chunks")

    def _route(self, route: Route, request: Request) -> None:
        match = UPLOAD_PATH.search(request.url)
        if request.method != "PUT" or match is None:
            route.continue_()
            return
        if self.cut_after is not None and self.puts >= self.cut_after:
            route.abort("connectionreset")  # the connection drops: the server sees nothing
            return
        self.object_id = match.group(1)
        self.puts += 1
        part, first = int(match.group(3)), int(match.group(4))
        listed = request.headers.get("x-chunks")
        count = len(listed.split(",")) if listed else 1
        chunks = [(part, first + offset) for offset in range(count)]
        self.sent_again.extend(chunk for chunk in chunks if chunk in self.stored)
        self.reached.extend(chunks)
        try:
            answer = route.fetch()
        except PlaywrightError:  # the page went away (a reload) with the request on its way
            return
        if answer.ok:
            self.stored.update(chunks)
        route.fulfill(response=answer)


def big_recording(page: Page, *, seconds: int = 6, chunks: int = 2) -> bytes:
    """A real WebM from the fake camera, more than ``chunks`` chunks long (at a high bit
    rate)."""
    recording = record_webm(page, seconds=seconds, video=True, bits_per_second=9_000_000)
    assert len(recording) > chunks * protocol.CHUNK_SIZE, len(recording)
    return recording


def longer_than_one_put(page: Page) -> bytes:
    """A recording the uploader sends in more than one PUT (media/upload.js: the first PUTs
    carry 4 chunks), so that a connection cut after the first leaves some to send."""
    return big_recording(page, seconds=11, chunks=4)


def chunks_in(recording: bytes) -> int:
    return -(-len(recording) // protocol.CHUNK_SIZE)


def file_named(tmp_path: Path, canary: str, data: bytes) -> Path:
    path = tmp_path / f"message for you {canary}.webm"
    path.write_bytes(data)
    return path


def windows(data: bytes, count: int = 8, width: int = 48) -> dict[str, bytes]:
    """Pieces of ``data`` from across it, to look for in clear on the server."""
    step = max(1, (len(data) - width) // count)
    return {f"recording bytes at {i}": data[i : i + width] for i in range(0, step * count, step)}


def send_with_connection_cut(
    page: Page, composer: MediaComposePage, browser_guard: BrowserGuard, text: str, file: Path
) -> UploadWatch:
    """Write, add ``file``, send; the connection drops after the first upload (a PUT of the
    first chunks), and the page says it is waiting (the server holds those chunks)."""
    composer.writes(text)
    composer.adds_files([file])
    # The chunks cut off on their way are reported on the console.
    browser_guard.expect("console", r"ERR_CONNECTION_RESET")
    watch = UploadWatch(page)
    watch.cut_after = 1
    composer.starts_sending()
    expect(page.locator("#upload-status")).to_contain_text(
        "Waiting for the connection", timeout=PLAY_MS
    )
    assert watch.puts == 1
    # Fewer than all of them: some are left to send. Which PUT reaches the server first is a
    # race (the last, short one may overtake a full one), so how many it carried is not fixed.
    assert 0 < len(watch.reached) < chunks_in(file.read_bytes())
    watch.until_server_holds(len(watch.reached))
    return watch


def facilitator_plays_the_file(page: Page, live_server: LiveServer, case: SeededCase) -> None:
    review_of_oldest(page, live_server, case, "a video recording")
    plays(page.locator("video").and_(page.get_by_label(re.compile(r"^Video file"))), video=True)


@pytest.mark.browser
def test_upload_cut_part_way_resumes_without_resending_and_plays(
    page: Page,
    live_server: LiveServer,
    portal: Portal,
    new_context: NewContext,
    browser_guard: BrowserGuard,
    tmp_path: Path,
) -> None:
    case = media_case(portal)
    composer = composer_for(page, live_server, case)
    recording = longer_than_one_put(page)
    canary = f"canary{secrets.token_hex(8)}"
    file = file_named(tmp_path, canary, recording)
    watch = send_with_connection_cut(
        page, composer, browser_guard, "This is the recording I made at the centre.", file
    )
    page.wait_for_timeout(1500)  # it keeps trying while the connection is down
    assert watch.puts == 1
    watch.cut_after = None  # the connection comes back
    composer.finishes_sending()

    # Every chunk reached the server, and nothing it held was sent again.
    assert watch.sent_again == []
    assert set(watch.reached) == {(1, i) for i in range(chunks_in(recording))}
    facilitator_plays_the_file(new_context().new_page(), live_server, case)

    # Neither the file name nor the recording is anywhere on the server in clear.
    live_server.stop()
    folders = [live_server.data_dir, live_server.log_path.parent]
    needles = {"file name": canary.encode(), **windows(recording)}
    assert leaks.find(needles, live_server.database_url, folders) == []


@pytest.mark.browser
def test_page_reloaded_mid_upload_finishes_without_resending_and_plays(
    page: Page,
    live_server: LiveServer,
    portal: Portal,
    new_context: NewContext,
    browser_guard: BrowserGuard,
    tmp_path: Path,
) -> None:
    case = media_case(portal)
    composer = composer_for(page, live_server, case)
    recording = longer_than_one_put(page)
    path = file_named(tmp_path, "reloaded", recording)
    watch = send_with_connection_cut(
        page, composer, browser_guard, "Sent from the library computer.", path
    )
    held = list(watch.reached)

    # The page is reloaded (the tab was closed and opened again, the phone restarted...) while
    # the connection is still down: a retry let through just before the reload could be cut off
    # by it mid-request, and the page would then rightly send that chunk again.
    page.reload()
    watch.cut_after = None
    composer = MediaComposePage(page)
    composer.continues_unsent_message()
    composer.arrived()
    page.get_by_label(re.compile(r"^Choose .* again")).set_input_files(str(path))
    expect(page.get_by_role("status").filter(has_text="again")).to_be_visible()
    composer.sends()

    resent = [chunk for chunk in watch.reached[len(held) :] if chunk in held]
    assert resent == []
    assert watch.sent_again == []
    assert set(watch.reached) == {(1, i) for i in range(chunks_in(recording))}
    facilitator_plays_the_file(new_context().new_page(), live_server, case)


# -- tampering -------------------------------------------------------------------------------


def stored_chunk(live_server: LiveServer, object_id: str, part: int, index: int) -> Path:
    path = (
        live_server.data_dir / "blobs" / object_id[:2] / object_id / "v1" / f"p{part}"
    ) / f"{index}.chunk"
    assert path.is_file(), path
    return path


def altered(path: Path) -> None:
    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 0x01
    path.write_bytes(bytes(data))


def swapped(first: Path, second: Path) -> None:
    a, b = first.read_bytes(), second.read_bytes()
    first.write_bytes(b)
    second.write_bytes(a)


def approved_recording(
    page: Page,
    live_server: LiveServer,
    case: SeededCase,
    *,
    kind: str = "recording",
    mime: str = VIDEO_MIME,
    name: str = "",
    seconds: int = 6,
    chunks: int = 2,
) -> tuple[str, bytes]:
    """A real recording of ``seconds``, more than ``chunks`` chunks, sealed and uploaded as the
    browser would, then approved: its object id and the recording. As a file chosen from disk:
    kind "attachment", mime "video/webm"."""
    page.goto(live_server.url("/sign-in"))
    recording = big_recording(page, seconds=seconds, chunks=chunks)
    part = protocol.Part(kind=kind, mime=mime, name=name, data=recording)
    message_id = case.world.write_media_message(
        case.responsible, "Please watch the recording.", [part], length={"seconds": 6}
    )
    case.approve(message_id)
    object_id = case.responsible.get(f"/api/letters/{message_id}").json()["object_id"]
    return object_id, recording


@pytest.mark.browser
@pytest.mark.parametrize(
    ("kind", "mime", "name", "label"),
    [
        ("recording", VIDEO_MIME, "", "Video recording"),
        # A file chosen from disk is typed without its codecs; the player reads them from it.
        ("attachment", "video/webm", "film.webm", "Video file: film.webm"),
    ],
)
def test_recording_plays_before_the_whole_of_it_has_arrived(
    page: Page,
    live_server: LiveServer,
    portal: Portal,
    new_context: NewContext,
    kind: str,
    mime: str,
    name: str,
    label: str,
) -> None:
    case = media_case(portal)
    # At least four chunks: the first alone, then the rest in GETs of up to four; the first
    # chunk is seconds of video by itself.
    _object_id, recording = approved_recording(
        page, live_server, case, kind=kind, mime=mime, name=name, seconds=12, chunks=3
    )

    # The GET carrying the last chunk (alone, or with the chunks before it: media/open.js
    # FETCH_BATCH to a GET) is held back on its way to the browser until the video is playing.
    harmed_page = new_context().new_page()
    last = chunks_in(recording) - 1
    chunk_get = re.compile(r"/api/content/[0-9a-f-]{36}/1/1/(\d+)(?:\?count=(\d+))?$")

    def carries_the_last(url: str) -> bool:
        found = chunk_get.search(url)
        return found is not None and int(found[1]) + int(found[2] or 1) > last

    held_back: list[Route] = []
    harmed_page.route(carries_the_last, lambda route, _request: held_back.append(route))
    inbox = inbox_of_waiting(harmed_page, live_server, case)
    inbox.opens_media_now()
    plays(player(harmed_page, label), video=True)
    for route in held_back:
        route.continue_()


@pytest.mark.browser
# "altered later": a chunk that arrives in a GET of several, checked in a Worker
# (media/open-workers.js), not on the page's thread like the first.
@pytest.mark.parametrize("tamper", ["altered", "swapped", "altered later"])
def test_chunk_changed_on_the_server_is_caught_and_nothing_plays(
    page: Page,
    live_server: LiveServer,
    portal: Portal,
    new_context: NewContext,
    tamper: str,
) -> None:
    case = media_case(portal)
    object_id, _recording = approved_recording(page, live_server, case)

    if tamper == "altered":
        altered(stored_chunk(live_server, object_id, 1, 0))
    elif tamper == "altered later":
        altered(stored_chunk(live_server, object_id, 1, 1))
    else:
        swapped(
            stored_chunk(live_server, object_id, 1, 0), stored_chunk(live_server, object_id, 1, 1)
        )

    harmed_page = new_context().new_page()
    inbox = inbox_of_waiting(harmed_page, live_server, case)
    inbox.opens_media_now()
    # Pressing play starts the checks; the first bad chunk removes the player, perhaps before
    # play is pressed (the player may read ahead): so play whatever is there in one step, in
    # the page, rather than find the player first and then wait for it.
    harmed_page.evaluate(
        """() => document.querySelectorAll("video, audio").forEach(media => {
            media.muted = true;
            media.play().catch(() => {});
        })"""
    )
    problem = harmed_page.get_by_role("alert").filter(has_text="could not confirm")
    expect(problem).to_be_visible(timeout=PLAY_MS)
    expect(harmed_page.locator("video")).to_have_count(0)


OPEN_WORKER = "/static/js/media/open-worker.js"


@pytest.mark.browser
def test_wiping_the_keys_ends_the_workers_that_check_a_playing_recording(
    page: Page, live_server: LiveServer, portal: Portal, new_context: NewContext
) -> None:
    """The chunks of a playing recording are checked in Workers holding copies of the content
    key (static/js/media/open-workers.js): when the page wipes its keys (quick exit, sign-out,
    the session ending: crypto/keys.js wipeKeys) those Workers end with it."""
    case = media_case(portal)
    approved_recording(page, live_server, case, seconds=12, chunks=3)
    harmed_page = new_context().new_page()
    inbox = inbox_of_waiting(harmed_page, live_server, case)
    inbox.opens_media_now()
    plays(player(harmed_page, "Video recording"), video=True)

    def open_workers() -> list[str]:
        return [w.url for w in harmed_page.workers if w.url.endswith(OPEN_WORKER)]

    assert open_workers(), "the recording's chunks were not checked in a Worker"
    # What quick exit, sign-out and the session ending call, without leaving the page (leaving
    # would end every Worker anyway).
    harmed_page.evaluate("async () => (await import('/static/js/crypto/keys.js')).wipeKeys()")
    deadline = time.monotonic() + 5
    while open_workers():
        assert time.monotonic() < deadline, "a Worker holding the content key outlived the wipe"
        harmed_page.wait_for_timeout(50)
    inbox.check()


# -- a crashed tab -----------------------------------------------------------------------------


@pytest.mark.browser
def test_recording_survives_a_crashed_tab_and_can_still_be_sent(
    page: Page,
    live_server: LiveServer,
    portal: Portal,
    new_context: NewContext,
) -> None:
    case = media_case(portal)
    composer = composer_for(page, live_server, case)
    composer.writes("I was recording when the phone died.")
    page.get_by_role("radio", name="Video with sound", exact=True).check()
    page.get_by_role("button", name="Start recording").click()
    expect(page.locator("#record-clock")).to_contain_text("0:05", timeout=PLAY_MS)

    # The tab dies mid-recording: no stop, no keep, nothing sent. The person comes back on the
    # same device (its storage stays; the session and the tab's keys are gone) and signs in.
    context = page.context
    page.close()
    context.clear_cookies()
    page = context.new_page()
    participant_signs_in(
        page, live_server.base_url, case.responsible.name, case.responsible.password
    )
    page.get_by_role("link", name="Write a letter").click()
    composer = MediaComposePage(page)
    composer.continues_unsent_message()
    composer.arrived()
    composer.sends()

    facilitator_page = new_context().new_page()
    review_of_oldest(facilitator_page, live_server, case, "a video recording")
    plays(player(facilitator_page, "Video recording"), video=True)


# -- cancelling and deleting -------------------------------------------------------------------


def blob_files(live_server: LiveServer) -> list[Path]:
    return [path for path in (live_server.data_dir / "blobs").rglob("*.chunk") if path.is_file()]


@pytest.mark.browser
def test_sending_cancelled_part_way_keeps_nothing_on_the_server(
    page: Page,
    live_server: LiveServer,
    portal: Portal,
    browser_guard: BrowserGuard,
    tmp_path: Path,
) -> None:
    case = media_case(portal)
    composer = composer_for(page, live_server, case)
    file = file_named(tmp_path, "not yet", longer_than_one_put(page))
    watch = send_with_connection_cut(
        page, composer, browser_guard, "I am not sure I want to send this yet.", file
    )
    # The chunks of the one PUT that reached the server.
    assert len(blob_files(live_server)) == len(watch.reached)
    page.get_by_role("button", name="Cancel sending").click()
    expect(page.get_by_text("Sending was cancelled and nothing was sent.")).to_be_visible(
        timeout=PLAY_MS
    )
    # The words and the file are still there to send later; the server kept nothing.
    expect(composer.letter_box).to_have_value("I am not sure I want to send this yet.")
    assert blob_files(live_server) == []


@pytest.mark.browser
def test_withdrawn_recording_deleted_for_good_leaves_no_file_behind(
    page: Page, live_server: LiveServer, portal: Portal
) -> None:
    case = media_case(portal)
    object_id, _recording = approved_recording(page, live_server, case)
    assert blob_files(live_server)

    home = participant_signs_in(
        page, live_server.base_url, case.responsible.name, case.responsible.password
    )
    letter = home.opens_letter().withdraws()
    page.get_by_role("button", name="Delete it for good").click()
    page.get_by_role("button", name="Yes, delete it for good").click()
    expect(page.locator("#content-deleted")).to_contain_text(
        "no longer exist on the portal", timeout=PLAY_MS
    )
    expect(page.get_by_role("button", name=re.compile(r"^Show my "))).to_have_count(0)
    letter.check()
    assert blob_files(live_server) == []
    assert not (live_server.data_dir / "blobs" / object_id[:2] / object_id).exists()


@pytest.mark.browser
def test_a_file_changed_after_it_was_chosen_is_not_sent_and_the_page_says_so_calmly(
    page: Page, live_server: LiveServer, portal: Portal, tmp_path: Path
) -> None:
    case = media_case(portal)
    composer = composer_for(page, live_server, case)
    recording = big_recording(page)
    file = file_named(tmp_path, "changed", recording)
    composer.writes("This is the recording I made at the centre.")
    composer.adds_files([file])
    # Changed on disk once chosen: the browser refuses to read it in the sealing Worker.
    file.write_bytes(recording[: len(recording) // 2])
    puts: list[str] = []
    page.on("request", lambda r: puts.append(r.url) if r.method == "PUT" else None)
    composer.starts_sending()
    expect(page.locator("#upload-alert")).to_contain_text(
        "This device could not prepare your message for sending.", timeout=PLAY_MS
    )
    composer.check()
    assert puts == []


# -- limits ----------------------------------------------------------------------------------


@pytest.mark.browser
def test_a_file_over_the_message_limit_is_refused_before_anything_is_sent(
    page: Page, live_server_factory: LiveServerFactory, tmp_path: Path
) -> None:
    server = live_server_factory(PORTAL_MAX_MESSAGE_BYTES=str(protocol.CHUNK_SIZE))
    stage = LettersBackstage(server)
    try:
        with seeded_portal(server, stage) as portal:
            case = media_case(portal)
            composer = composer_for(page, server, case)
            big = tmp_path / "long film.webm"
            big.write_bytes(b"\x1a\x45\xdf\xa3" + bytes(2 * protocol.CHUNK_SIZE))
            uploads: list[str] = []
            page.on(
                "request", lambda r: uploads.append(r.url) if "/api/uploads/" in r.url else None
            )
            composer.file_input.set_input_files(str(big))
            expect(page.locator("#file-input-error")).to_have_text(
                "“long film.webm” was not added: the message would be 2 MB, and the limit for one "
                "message is 1 MB. Nothing has been sent."
            )
            expect(page.get_by_role("list", name="Files you added")).to_be_hidden()
            composer.check()
            assert uploads == []
    finally:
        stage.close()
