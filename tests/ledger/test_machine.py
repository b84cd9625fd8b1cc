"""The ledger's state machine, driven by hypothesis through any sequence of moves against
a real SQLite file, and against the fleet's ledger in a real PostgreSQL: a refused move changes nothing, an allowed one is stored, and a row
never reaches a state the machine forbids, whatever the order (claims included)."""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
from hypothesis import settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, rule

from mavi_sync.errors import ClaimLost, IllegalTransition
from mavi_sync.ledger.store import Ledger
from mavi_sync.ledger.states import State, allowed
from tests.pg import unavailable

if TYPE_CHECKING:
    from tests.pg import PostgresServer


class LedgerMachine(RuleBasedStateMachine):
    @initialize()
    def open(self) -> None:
        self.dir = tempfile.TemporaryDirectory()
        self.ledger = Ledger(Path(self.dir.name) / "l.sqlite3")
        self.model: dict[int, State] = {}
        for i in range(3):
            self.model[self.ledger.add(f"{i:064x}", "video", "default", i).id] = State.DISCOVERED

    def teardown(self) -> None:
        self.ledger.close()
        self.dir.cleanup()

    @rule(pick=st.integers(0, 2), to=st.sampled_from(list(State)))
    def move(self, pick: int, to: State) -> None:
        file_id = sorted(self.model)[pick]
        before = self.model[file_id]
        try:
            self.ledger.transition(file_id, to)
        except IllegalTransition:
            assert not allowed(before, to)
            return
        assert allowed(before, to)
        self.model[file_id] = to

    @rule(pick=st.integers(0, 2), stale=st.booleans())
    def claim(self, pick: int, stale: bool) -> None:
        file_id = sorted(self.model)[pick]
        row = self.ledger.get_by_id(file_id)
        assert row is not None
        expect = (row.state, row.attempts + (1 if stale else 0))  # a stale read must lose
        try:
            self.ledger.transition(file_id, State.UPLOADING, expect=expect, attempts=row.attempts + 1)
        except ClaimLost:
            assert stale or file_id in self.ledger._in_flight
            return
        except IllegalTransition:
            assert not allowed(row.state, State.UPLOADING)
            return
        assert not stale
        self.model[file_id] = State.UPLOADING

    @rule(pick=st.integers(0, 2), stale=st.booleans())
    def claim_for_upload(self, pick: int, stale: bool) -> None:
        """Ledger.claim: counts the attempt, keeps `ready`/`uploading`, brings a rejected,
        failed or vanished row back to `ready`; a stale read or a held row loses."""
        file_id = sorted(self.model)[pick]
        row = self.ledger.get_by_id(file_id)
        assert row is not None
        held = file_id in self.ledger._in_flight
        try:
            claimed = self.ledger.claim(file_id, (row.state, row.attempts + (1 if stale else 0)))
        except ClaimLost:
            assert stale or held
            return
        except IllegalTransition:
            assert row.state in (State.UPLOADED, State.CONFIRMED) and not stale and not held
            return
        assert not stale and not held and claimed.attempts == row.attempts + 1
        assert claimed.state is (row.state if row.state is State.UPLOADING else State.READY)
        assert file_id in self.ledger._in_flight
        self.model[file_id] = claimed.state

    @rule(pick=st.integers(0, 2))
    def request_starts(self, pick: int) -> None:
        """Ledger.started: the body leaves; the row says `uploading` and a lookup is due."""
        file_id = sorted(self.model)[pick]
        before = self.model[file_id]
        try:
            self.ledger.started(file_id)
        except IllegalTransition:
            assert not allowed(before, State.UPLOADING)
            return
        row = self.ledger.get_by_id(file_id)
        assert row is not None and row.state is State.UPLOADING and row.lookup_due and row.maybe_sent
        self.model[file_id] = State.UPLOADING

    @invariant()
    def stored_states_match(self) -> None:
        if hasattr(self, "ledger"):
            for file_id, state in self.model.items():
                row = self.ledger.get_by_id(file_id)
                assert row is not None and row.state is state


LedgerMachine.TestCase.settings = settings(max_examples=40, stateful_step_count=30, deadline=None)
test_ledger_state_machine = LedgerMachine.TestCase


class PostgresLedgerMachine(LedgerMachine):
    """The same machine on the fleet's ledger in PostgreSQL: a fresh database per run."""

    @initialize()
    def open(self) -> None:
        from mavi_sync.config.secrets import Secret
        from mavi_sync.fleet.ledger import PostgresLedger
        from tests.pg import PASSWORD
        self.dir = tempfile.TemporaryDirectory()
        self.ledger = PostgresLedger(_server().database(), Secret(PASSWORD, "test"), "node-a",
                                     Path(self.dir.name) / "l.sqlite3")
        self.model = {}
        for i in range(3):
            self.model[self.ledger.add(f"{i:064x}", "video", "default", i).id] = State.DISCOVERED


_SERVER: list["PostgresServer"] = []


def _server() -> "PostgresServer":
    """One cluster for this module's runs (hypothesis' test case cannot take a fixture)."""
    if not _SERVER:
        import atexit
        from tests.pg import PostgresServer
        _SERVER.append(PostgresServer().start())
        atexit.register(_SERVER[0].stop)
    return _SERVER[0]


PostgresLedgerMachine.TestCase.settings = settings(max_examples=20, stateful_step_count=30, deadline=None)
test_postgres_ledger_state_machine = pytest.mark.skipif(unavailable() is not None, reason=str(unavailable()))(
    PostgresLedgerMachine.TestCase)
