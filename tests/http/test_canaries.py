"""The server never holds letters, media, file names, feedback, notes or names in clear."""

from __future__ import annotations

import secrets

import pytest

from portal import protocol
from portal.accounts.models import Role
from portal.settings import Settings
from tests.cases_world import CaseWorld
from tests.factories import Portal
from tests.support import leaks
from tests.support.blobs import StoredBlobs


@pytest.fixture
def settings_env(settings_env: dict[str, str], request: pytest.FixtureRequest) -> dict[str, str]:
    # The media test runs on both blob stores (it asks for blob_store_env); letters need none.
    if "blob_store_env" not in request.fixturenames:
        return settings_env
    blob_store_env: dict[str, str] = request.getfixturevalue("blob_store_env")
    return {**settings_env, **blob_store_env}


def test_journey_leaves_no_plaintext_behind(portal: Portal, settings: Settings) -> None:
    canary = {
        name: f"canary-{name}-{secrets.token_hex(8)}"
        for name in ["letter", "revision", "feedback", "note", "harmed-name", "responsible-name"]
    }
    world = CaseWorld.build(portal, names=(canary["harmed-name"], canary["responsible-name"]))
    message_id = world.write_letter(world.responsible, f"Dear reader, {canary['letter']}")
    assert world.return_with_feedback(message_id, canary["feedback"]).status_code == 200
    world.revise_letter(world.responsible, message_id, f"Again: {canary['revision']}")
    assert world.approve(message_id, note=canary["note"]).status_code == 200
    assert canary["revision"] in world.open_letter(world.harmed, message_id)

    needles = {name: value.encode() for name, value in canary.items()}
    # Not vacuous: something the server does keep, the author's public key, is found.
    needles["public key (stored on purpose)"] = world.responsible.public_key
    hits = leaks.find(needles, settings.database_url, [settings.data_dir])
    leaked = [hit for hit in hits if not hit.startswith("public key")]
    assert leaked == []
    assert "public key (stored on purpose) in the database" in hits


def test_media_message_leaves_no_plaintext_behind(
    portal: Portal, settings: Settings, blob_store_env: dict[str, str]
) -> None:
    """In the database, the data folder and, with PORTAL_BLOB_STORE=s3, the bucket: its keys,
    metadata and objects."""
    pattern = f"canary-media-{secrets.token_hex(8)}|".encode()
    file_name = f"canary-file-name-{secrets.token_hex(8)}.webm"
    transcript = f"canary-transcript-{secrets.token_hex(8)}"
    world = CaseWorld.build(portal)
    world.consent(world.responsible, ["letter", "video"])
    world.consent(world.harmed, ["letter", "video"])
    # A known pattern over several chunks: any clear copy of any piece of it would match.
    recording = pattern * (int(1.5 * protocol.CHUNK_SIZE) // len(pattern))
    media = [protocol.Part("attachment", "video/webm", file_name, recording)]
    message_id = world.write_media_message(
        world.responsible, "With a file.", media, length={"seconds": 42}
    )
    assert world.approve(message_id, transcript=transcript).status_code == 200
    _released, parts = world.open_media(world.harmed, message_id)
    assert (parts[1].name, parts[1].data) == (file_name, recording)

    needles = {
        "media pattern": pattern,
        "file name": file_name.encode(),
        "transcript": transcript.encode(),
    }
    stored = StoredBlobs(settings)
    hits = leaks.find(
        needles, settings.database_url, [settings.data_dir], extra=stored.bucket_contents()
    )
    assert hits == []
    # Not vacuous: the blobs are there, in the data folder or the bucket that was searched.
    assert len(stored.chunks()) == 2
    assert len(stored.bucket_contents()) == (2 if blob_store_env else 0)


def test_two_person_approval_leaves_no_plaintext_behind(portal: Portal, settings: Settings) -> None:
    """A high-risk case: the first approver's note to the second facilitator, the second's note
    to the recipient and the letter are nowhere in clear."""
    canary = {
        name: f"canary-{name}-{secrets.token_hex(8)}"
        for name in ["letter", "approval-note", "note"]
    }
    world = CaseWorld.build(portal)
    colleague = portal.person(Role.FACILITATOR)
    world.add_colleague(colleague)
    assert world.mark_high_risk("domestic_abuse").status_code == 200
    message_id = world.write_letter(world.responsible, canary["letter"])
    assert world.approve_once(message_id, note=canary["approval-note"]).status_code == 200
    second = world.approve(message_id, canary["note"], facilitator=colleague, claim=False)
    assert second.status_code == 200
    assert world.open_letter(world.harmed, message_id) == canary["letter"]
    needles = {name: value.encode() for name, value in canary.items()}
    assert leaks.find(needles, settings.database_url, [settings.data_dir]) == []


def test_supporters_and_what_they_write_leave_no_plaintext_behind(
    portal: Portal, settings: Settings
) -> None:
    """Supporters' and representatives' names, a letter written on a participant's behalf, the
    feedback to its writer, and a letter to someone whose side a representative holds: nowhere
    in clear."""
    canary = {
        name: f"canary-{name}-{secrets.token_hex(8)}"
        for name in ["supporter-name", "on-behalf", "feedback", "held-name", "to-held"]
    }
    world = CaseWorld.build(portal)
    writer, _place = world.add_writer(world.responsible, display_name=canary["supporter-name"])
    written = world.write_letter(writer, canary["on-behalf"])
    assert world.return_with_feedback(written, canary["feedback"], writer).status_code == 200
    kai = world.add_without_access("person_responsible", canary["held-name"])
    holder, _held = world.add_supporter(kai, kind="representative")
    to_held = world.write_letter(world.harmed, canary["to-held"], to=kai)
    assert world.approve(to_held, recipient=holder).status_code == 200
    assert world.open_letter(holder, to_held) == canary["to-held"]
    needles = {name: value.encode() for name, value in canary.items()}
    assert leaks.find(needles, settings.database_url, [settings.data_dir]) == []
