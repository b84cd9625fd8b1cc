"""The ledger's state machine."""

from __future__ import annotations

import itertools

import pytest

from mavi_sync.errors import IllegalTransition
from mavi_sync.ledger.states import FINAL, PENDING, State, allowed, check_transition


def test_happy_paths() -> None:
    for path in ([State.DISCOVERED, State.READY, State.UPLOADING, State.UPLOADED, State.CONFIRMED],
                 [State.DISCOVERED, State.READY, State.UPLOADING, State.CONFIRMED],
                 [State.DISCOVERED, State.REJECTED],
                 [State.READY, State.UPLOADING, State.READY, State.UPLOADING, State.FAILED, State.READY]):
        for src, dst in zip(path, path[1:]):
            check_transition(src, dst)


@pytest.mark.parametrize("src,dst", [(State.CONFIRMED, State.UPLOADING), (State.DISCOVERED, State.CONFIRMED),
                                     (State.UPLOADED, State.READY), (State.DISCOVERED, State.UPLOADING)])
def test_illegal_moves_raise(src: State, dst: State) -> None:
    with pytest.raises(IllegalTransition, match=f"{src.value} → {dst.value}"):
        check_transition(src, dst)


def test_confirmed_is_final_but_for_a_check_that_found_the_server_lost_it() -> None:
    assert {s for s in State if allowed(State.CONFIRMED, s)} == {State.READY}
    assert FINAL | PENDING == set(State) and not FINAL & PENDING


def test_every_non_final_state_can_reach_confirmed() -> None:
    reachable = {State.CONFIRMED}
    for _ in range(len(State)):
        reachable |= {s for s, t in itertools.product(State, State) if allowed(s, t) and t in reachable}
    assert reachable == set(State)
