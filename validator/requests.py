"""What a validator does with dataset requests (DESIGN §11): takes them in (checked, within the caps), adopts by its
configured policy or its operator's word, declines, expires them at their deadline and marks them done when the
target is reached. The listener (validator/listener.py) and `glean validator adopt|decline` both come here.

Policy (`ValidatorConfig.request_policy`): a request is adopted on arrival, with the policy's weight, when its
requester is one of `adopt_hotkeys` or has at least `min_stake` on the subnet, while fewer than
`max_active_requests` are adopted; every other request waits for the operator.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Collection
from datetime import datetime

from schemas.config import RequestPolicy
from schemas.errors import RequestError
from schemas.record import utcnow
from schemas.request import DatasetRequest, RequestState, SubmitAnswer
from validator.constants import MAX_PENDING_PER_REQUESTER, MAX_PENDING_REQUESTS, MIN_ID_PREFIX
from validator.request_checks import check_request
from validator.store import StoredRequest, ValidatorStore

log = logging.getLogger(__name__)

StakeOf = Callable[[str], float | None]  # a hotkey's stake on the subnet (None: not registered or not known)


class RequestsFull(RequestError):
    """The validator holds as many waiting requests as it takes (in all, or from this requester)."""


class UnknownRequest(RequestError):
    """No request with this id is here."""


class RequestDesk:
    """Requests of one validator: intake, decisions, expiry. Synchronous (the listener calls it in a thread)."""

    def __init__(self, store: ValidatorStore, policy: RequestPolicy, *, local: bool,
                 builtin: Collection[str] = (), stake_of: StakeOf = lambda _hotkey: None) -> None:
        self.store, self.policy, self.local = store, policy, local
        self.builtin = frozenset(builtin)
        self.stake_of = stake_of

    def receive(self, request: DatasetRequest, now: datetime | None = None) -> SubmitAnswer:
        """Check and keep a request, and adopt it when the policy says so; RequestError when it is refused."""
        now = now or utcnow()
        known = self.store.get_request(request.request_id)
        if known is not None:
            return SubmitAnswer(request_id=known.request_id, status=known.status, created=False)
        check_request(request, local=self.local, taken=self._taken(), now=now)
        self._check_room(request.requester)
        self.store.add_request(request, now)
        status = "pending"
        if self._policy_adopts(request.requester):
            self.store.set_request_status(request.request_id, "adopted", decided_by="policy",
                                          weight=self.policy.weight, reason=self._policy_reason(request.requester))
            status = "adopted"
        log.info("request received id=%s requester=%s domain=%s status=%s", request.request_id[:12],
                 request.requester, request.spec["id"], status)
        return SubmitAnswer(request_id=request.request_id, status=status, created=True)

    def _taken(self) -> set[str]:
        """Domain ids a new request may not use: the built-in ones and those of adopted requests."""
        return set(self.builtin) | {r.domain for r in self.store.list_requests("adopted")}

    def _check_room(self, requester: str) -> None:
        waiting, mine, _adopted = self.store.request_counts(requester)
        if waiting >= MAX_PENDING_REQUESTS:
            raise RequestsFull(f"this validator already holds {waiting} requests waiting for a decision",
                               hint="try again later, or send the request to another validator")
        if mine >= MAX_PENDING_PER_REQUESTER:
            raise RequestsFull(f"requester {requester} already has {mine} requests waiting here",
                               hint="wait until some are decided (glean request status ID)")

    def _policy_adopts(self, requester: str) -> bool:
        if self.store.request_counts(requester)[2] >= self.policy.max_active_requests:
            return False
        if requester in self.policy.adopt_hotkeys:
            return True
        stake = self.stake_of(requester) if self.policy.min_stake is not None else None
        return stake is not None and stake >= float(self.policy.min_stake or 0.0)

    def _policy_reason(self, requester: str) -> str:
        if requester in self.policy.adopt_hotkeys:
            return "policy: listed requester"
        return f"policy: requester stake >= {self.policy.min_stake:g}"

    def adopt(self, request_id: str, weight: float, *, by: str = "operator") -> StoredRequest:
        """Adopt a request (any status but done) with `weight`; the operator may go beyond the policy's cap."""
        if not 0 < weight <= 10:
            raise RequestError(f"weight {weight:g} is out of range", hint="give a weight in (0, 10]")
        stored = self._get(request_id)
        if stored.status == "done":
            raise RequestError(f"request {request_id} is done (its target was reached)",
                               hint="submit a new request to collect more")
        self.store.set_request_status(stored.request_id, "adopted", decided_by=by, weight=weight,
                                      reason=f"adopted by {by}")
        return self._get(stored.request_id)

    def decline(self, request_id: str, reason: str = "", *, by: str = "operator") -> StoredRequest:
        """Decline a request: this validator drops its vote for the domain (others may still adopt it)."""
        stored = self._get(request_id)
        self.store.set_request_status(stored.request_id, "declined", decided_by=by, reason=reason or None)
        return self._get(stored.request_id)

    def sweep(self, now: datetime | None = None) -> tuple[list[str], list[str]]:
        """Expire requests past their deadline and mark adopted ones whose target is reached done; returns the ids
        (expired, done)."""
        expired = self.store.expire_requests(now or utcnow())
        done = []
        for stored in self.store.list_requests("adopted"):
            if _reached(stored, *self.store.accepted_for(stored.domain)):
                self.store.set_request_status(stored.request_id, "done", decided_by="target",
                                              reason="the target was reached")
                done.append(stored.request_id)
        if expired or done:
            log.info("requests swept expired=%d done=%d", len(expired), len(done))
        return expired, done

    def state(self, request_id: str) -> RequestState:
        """What this validator did with a request and what it accepted for it so far."""
        stored = self._get(request_id)
        records, words = self.store.accepted_for(stored.domain)
        last = self.store.get_state("last_release") or {}
        release = last.get("location") if stored.domain in (last.get("rows_by_domain") or {}) else None
        return RequestState(request_id=stored.request_id, domain=stored.domain, status=stored.status,
                            weight=stored.weight, received_at=stored.received_at, decided_at=stored.decided_at,
                            decided_by=stored.decided_by, reason=stored.reason, deadline=stored.request.deadline,
                            accepted_records=records, accepted_words=words, release=release)

    def _get(self, request_id: str) -> StoredRequest:
        """The request of an id, or of a unique prefix of at least 8 characters (as tables show them)."""
        stored = self.store.get_request(request_id)
        if stored is None and MIN_ID_PREFIX <= len(request_id) < 64:
            found = [r for r in self.store.list_requests() if r.request_id.startswith(request_id)]
            stored = found[0] if len(found) == 1 else None
        if stored is None:
            raise UnknownRequest(f"no request {request_id} at this validator",
                                 hint="list them with `glean validator requests`")
        return stored


def _reached(stored: StoredRequest, records: int, words: int) -> bool:
    target = stored.request.target
    return (target.records is not None and records >= target.records) or (
        target.words is not None and words >= target.words)
