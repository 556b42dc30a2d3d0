"""Random sequences of real requests against the invariants of delivery.

A Hypothesis state machine drives one case through its API (real crypto, real database):
letters are written, claimed, approved, returned, revised, withheld, withdrawn, opened, held,
declined, and the case is paused and resumed, in random order. After every step:
- nothing is readable by the recipient unless it was approved and they chose to open it;
- withdrawn or withheld letters never reach the recipient;
- while the case is paused, nothing moves towards delivery.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import pytest
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, rule, run_state_machine_as_test

from portal.messages.models import Message
from portal.messages.states import MessageState
from tests.cases_world import CaseWorld
from tests.factories import Portal

S = MessageState


@dataclass
class Expect:
    """What the test knows about one letter from the outside."""

    approved: bool = False  # the version now current was approved
    chose_to_open: bool = False
    stopped: bool = False  # withdrawn or withheld at some point
    states: list[str] = field(default_factory=list)


def _run(portal: Portal) -> None:
    world = CaseWorld.build(portal)

    class Delivery(RuleBasedStateMachine):
        def __init__(self) -> None:
            super().__init__()
            self.letters: dict[str, Expect] = {}
            # Examples share the case: each starts with it open, whatever the last one did.
            world.facilitator.post_json(f"/api/cases/{world.case_id}/status", {"status": "open"})
            self.paused = False

        def _state(self, message_id: str) -> MessageState:
            with portal.db() as db:
                message = db.get(Message, message_id)
                assert message is not None
                return message.state

        def _pick(self, data: st.DataObject) -> str | None:
            if not self.letters:
                return None
            return data.draw(st.sampled_from(sorted(self.letters)))

        def _delivery_move(self, message_id: str, call: str) -> bool:
            """Run one move; when paused, check it was refused and nothing changed."""
            before = self._state(message_id)
            status = {
                "claim": lambda: world.facilitator.post_json(f"/api/messages/{message_id}/claim"),
                "open": lambda: world.harmed.post_json(f"/api/inbox/{message_id}/open"),
                "resume": lambda: world.facilitator.post_json(f"/api/messages/{message_id}/resume"),
            }[call]().status_code
            if self.paused:
                assert self._state(message_id) is before, call
                # Refused, except re-claiming a letter one already reviews: a no-op.
                no_op = call == "claim" and before is S.IN_REVIEW
                assert status in {404, 409} or (status == 200 and no_op), (call, status)
            return status == 200

        @rule()
        def write(self) -> None:
            if self.paused:
                assert world.responsible.post_json("/api/letters/objects").status_code == 409
                return
            self.letters[world.write_letter(world.responsible, "Words.")] = Expect()

        @rule(data=st.data())
        def claim(self, data: st.DataObject) -> None:
            if (message_id := self._pick(data)) is not None:
                self._delivery_move(message_id, "claim")

        @rule(data=st.data(), decision=st.sampled_from(["approve", "return", "withhold"]))
        def decide(self, data: st.DataObject, decision: str) -> None:
            message_id = self._pick(data)
            if message_id is None or self._state(message_id) is not S.IN_REVIEW or self.paused:
                return
            if decision == "approve":
                assert world.approve(message_id).status_code == 200
                self.letters[message_id].approved = True
            elif decision == "return":
                assert world.return_with_feedback(message_id, "Try again.").status_code == 200
            else:
                assert world.withhold(message_id, "No.").status_code == 200
                self.letters[message_id].stopped = True

        @rule(data=st.data())
        def revise(self, data: st.DataObject) -> None:
            message_id = self._pick(data)
            if message_id is None or self._state(message_id) is not S.RETURNED or self.paused:
                return
            world.revise_letter(world.responsible, message_id, "Better words.")
            self.letters[message_id].approved = False

        @rule(data=st.data())
        def withdraw(self, data: st.DataObject) -> None:
            if (message_id := self._pick(data)) is None:
                return
            response = world.responsible.post_json(f"/api/letters/{message_id}/withdraw")
            if response.status_code == 200:
                self.letters[message_id].stopped = True

        @rule(data=st.data())
        def recipient_opens(self, data: st.DataObject) -> None:
            if (message_id := self._pick(data)) is None:
                return
            if self._delivery_move(message_id, "open"):
                self.letters[message_id].chose_to_open = True

        @rule(data=st.data(), choice=st.sampled_from(["hold", "decline", "not-yet"]))
        def recipient_other_choice(self, data: st.DataObject, choice: str) -> None:
            if (message_id := self._pick(data)) is not None:
                world.harmed.post_json(f"/api/inbox/{message_id}/{choice}")

        @rule(data=st.data())
        def facilitator_resumes_held(self, data: st.DataObject) -> None:
            if (message_id := self._pick(data)) is not None:
                self._delivery_move(message_id, "resume")

        @rule(pause=st.booleans())
        def case_status(self, pause: bool) -> None:
            status = "paused" if pause else "open"
            response = world.facilitator.post_json(
                f"/api/cases/{world.case_id}/status", {"status": status}
            )
            assert response.status_code == 200
            self.paused = pause

        @invariant()
        def readable_only_if_approved_and_chosen(self) -> None:
            for message_id, expect in self.letters.items():
                if self._state(message_id) is S.OPENED:
                    assert expect.approved, message_id
                    assert expect.chose_to_open, message_id

        @invariant()
        def stopped_letters_never_reach_the_recipient(self) -> None:
            for message_id, expect in self.letters.items():
                if expect.stopped:
                    assert self._state(message_id) is not S.OPENED
                    response = world.harmed.get(f"/api/inbox/{message_id}/note")
                    assert response.status_code == 404

    run_state_machine_as_test(
        Delivery,
        settings=settings(
            max_examples=12,
            stateful_step_count=16,
            deadline=None,
            suppress_health_check=[HealthCheck.too_slow],
        ),
    )


@pytest.mark.usefixtures("client")
def test_delivery_invariants_hold_over_random_sequences(portal: Portal) -> None:
    _run(portal)
