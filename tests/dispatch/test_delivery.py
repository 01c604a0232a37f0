"""The delivery state machine: legal transitions, and what follows each attempt."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from dispatch.backoff import BackoffPolicy
from dispatch.delivery import (
    ALLOWED,
    TERMINAL,
    AttemptOutcome,
    DeliveryState,
    OutcomeKind,
    Transition,
    after_attempt,
    check_transition,
)
from dispatch.errors import DispatchError, InvalidTransition, PolicyError
from gateways.base import (
    CannotCarryError,
    GatewayError,
    PermanentGatewayError,
    Receipt,
    ReceiptStatus,
    TransientGatewayError,
)

S = DeliveryState
NOW = datetime(2024, 5, 1, 10, 0, tzinfo=UTC)
POLICY = BackoffPolicy(timedelta(seconds=10), timedelta(minutes=10), jitter=0.0)


def attempt(
    outcome: AttemptOutcome, attempts: int = 1, max_attempts: int = 5, seed: int = 0
) -> Transition:
    return after_attempt(
        S.IN_FLIGHT,
        attempts,
        outcome,
        max_attempts=max_attempts,
        now=NOW,
        backoff=POLICY,
        rng=random.Random(seed),
    )


def test_terminal_states_go_nowhere_and_sent_is_not_terminal() -> None:
    assert {S.CONFIRMED, S.FAILED, S.SUPERSEDED, S.WITHDRAWN} == TERMINAL
    for state in TERMINAL:
        assert ALLOWED[state] == frozenset()
    assert S.SENT not in TERMINAL
    assert S.CONFIRMED in ALLOWED[S.SENT]


def test_every_state_has_its_transitions_listed() -> None:
    assert set(ALLOWED) == set(DeliveryState)


@pytest.mark.parametrize(
    ("current", "new"),
    [
        (S.PENDING, S.IN_FLIGHT),
        (S.PENDING, S.SUPERSEDED),
        (S.PENDING, S.WITHDRAWN),
        (S.PENDING, S.FAILED),  # expired before it could go out
        (S.IN_FLIGHT, S.SENT),
        (S.IN_FLIGHT, S.CONFIRMED),
        (S.IN_FLIGHT, S.PENDING),  # retry, or recovery after a crash mid-attempt
        (S.IN_FLIGHT, S.FAILED),
        (S.SENT, S.CONFIRMED),  # a delivery report came in
        (S.SENT, S.FAILED),
    ],
)
def test_legal_transitions_pass(current: DeliveryState, new: DeliveryState) -> None:
    check_transition(current, new)


@pytest.mark.parametrize(
    ("current", "new", "why"),
    [
        (S.CONFIRMED, S.PENDING, "'confirmed' is final"),
        (S.FAILED, S.IN_FLIGHT, "'failed' is final"),
        (S.WITHDRAWN, S.PENDING, "'withdrawn' is final"),
        (S.PENDING, S.SENT, "can only go to: failed, in_flight, superseded, withdrawn"),
        (S.PENDING, S.CONFIRMED, "can only go to"),
        (S.SENT, S.PENDING, "can only go to: confirmed, failed"),
        (S.IN_FLIGHT, S.IN_FLIGHT, "already 'in_flight'"),
    ],
)
def test_illegal_transitions_say_where_the_delivery_can_go(
    current: DeliveryState, new: DeliveryState, why: str
) -> None:
    with pytest.raises(InvalidTransition) as info:
        check_transition(current, new, subject="delivery 12 (alert 5 on sms)")
    message = str(info.value)
    assert message.startswith(f"delivery 12 (alert 5 on sms) cannot go from '{current}' to '{new}'")
    assert why in message
    assert isinstance(info.value, DispatchError)


@given(st.sampled_from(DeliveryState), st.sampled_from(DeliveryState))
def test_check_transition_agrees_with_the_table(current: DeliveryState, new: DeliveryState) -> None:
    if new in ALLOWED[current]:
        check_transition(current, new)
    else:
        with pytest.raises(InvalidTransition):
            check_transition(current, new)


def test_every_state_can_reach_a_terminal_state() -> None:
    for start in DeliveryState:
        seen, frontier = {start}, [start]
        while frontier:
            for nxt in ALLOWED[frontier.pop()]:
                if nxt not in seen:
                    seen.add(nxt)
                    frontier.append(nxt)
        assert seen & TERMINAL, start


def test_a_sent_receipt_leaves_room_for_confirmation() -> None:
    t = attempt(AttemptOutcome.success(ReceiptStatus.SENT))
    assert t.new_state is S.SENT
    assert t.next_attempt_at is None


def test_a_confirmed_receipt_confirms() -> None:
    t = attempt(AttemptOutcome.from_receipt(Receipt(ReceiptStatus.CONFIRMED, "mid-7", "fsynced")))
    assert t.new_state is S.CONFIRMED
    assert "fsynced" in t.reason


def test_a_retryable_failure_goes_back_to_pending_after_the_backoff() -> None:
    t = attempt(AttemptOutcome.retryable("broker unreachable"), attempts=3, max_attempts=5)
    assert t.new_state is S.PENDING
    assert t.next_attempt_at == NOW + timedelta(seconds=40)  # 10s doubled twice
    assert "attempt 3 of 5 failed: broker unreachable" in t.reason


def test_the_retry_time_follows_the_jittered_policy_and_the_rng() -> None:
    policy = BackoffPolicy(timedelta(seconds=10), timedelta(minutes=10))
    outcome = AttemptOutcome.retryable("busy")

    def next_at(seed: int) -> datetime | None:
        return after_attempt(
            S.IN_FLIGHT,
            1,
            outcome,
            max_attempts=3,
            now=NOW,
            backoff=policy,
            rng=random.Random(seed),
        ).next_attempt_at

    assert next_at(1) == NOW + policy.delay(1, random.Random(1))
    assert next_at(1) == next_at(1)


def test_giving_up_after_the_last_attempt_names_the_last_reason() -> None:
    t = attempt(AttemptOutcome.retryable("modem not answering"), attempts=5, max_attempts=5)
    assert t == Transition(S.FAILED, None, "gave up after 5 attempts: modem not answering")


def test_a_single_allowed_attempt_gives_up_at_once() -> None:
    t = attempt(AttemptOutcome.retryable("timeout"), attempts=1, max_attempts=1)
    assert t.new_state is S.FAILED
    assert t.reason == "gave up after 1 attempt: timeout"


def test_a_permanent_failure_is_not_retried() -> None:
    t = attempt(AttemptOutcome.permanent("recipient rejected"), attempts=1, max_attempts=5)
    assert t.new_state is S.FAILED
    assert t.next_attempt_at is None
    assert "not retried" in t.reason
    assert "recipient rejected" in t.reason


@pytest.mark.parametrize(
    ("error", "kind"),
    [
        (TransientGatewayError("broker down"), OutcomeKind.RETRYABLE),
        (PermanentGatewayError("payload rejected"), OutcomeKind.PERMANENT),
        (CannotCarryError("no SAME code"), OutcomeKind.PERMANENT),
    ],
)
def test_gateway_errors_map_to_outcomes(error: GatewayError, kind: OutcomeKind) -> None:
    outcome = AttemptOutcome.from_error(error)
    assert outcome.kind is kind
    assert outcome.reason == str(error)


def test_an_attempt_outcome_only_applies_to_an_in_flight_delivery() -> None:
    with pytest.raises(InvalidTransition, match="in_flight"):
        after_attempt(
            S.PENDING,
            1,
            AttemptOutcome.permanent("x"),
            max_attempts=3,
            now=NOW,
            backoff=POLICY,
            rng=random.Random(0),
        )


def test_bad_arguments_are_refused() -> None:
    outcome = AttemptOutcome.retryable("x")
    with pytest.raises(PolicyError, match="max_attempts"):
        attempt(outcome, max_attempts=0)
    with pytest.raises(ValueError, match="attempts"):
        attempt(outcome, attempts=0)
    with pytest.raises(ValueError, match="timezone-aware"):
        after_attempt(
            S.IN_FLIGHT,
            1,
            outcome,
            max_attempts=2,
            now=datetime(2024, 5, 1),
            backoff=POLICY,
            rng=random.Random(0),
        )
    with pytest.raises(ValueError, match="reason"):
        AttemptOutcome.retryable("  ")
    with pytest.raises(ValueError, match="receipt status"):
        AttemptOutcome(OutcomeKind.SUCCESS)


outcomes = st.one_of(
    st.sampled_from(ReceiptStatus).map(AttemptOutcome.success),
    st.text(min_size=1).filter(str.strip).map(AttemptOutcome.retryable),
    st.text(min_size=1).filter(str.strip).map(AttemptOutcome.permanent),
)


@given(
    outcomes,
    st.integers(min_value=1, max_value=50),
    st.integers(min_value=1, max_value=50),
    st.integers(min_value=0, max_value=2**32),
)
def test_after_attempt_always_yields_a_legal_consistent_transition(
    outcome: AttemptOutcome, attempts: int, max_attempts: int, seed: int
) -> None:
    t = attempt(outcome, attempts, max_attempts, seed)
    check_transition(S.IN_FLIGHT, t.new_state)
    assert (t.next_attempt_at is not None) == (t.new_state is S.PENDING)
    if t.next_attempt_at is not None:
        assert NOW < t.next_attempt_at <= NOW + POLICY.maximum
        assert attempts < max_attempts
    if outcome.kind is not OutcomeKind.SUCCESS:
        assert outcome.reason in t.reason
