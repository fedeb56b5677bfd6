"""New versions of accepted pages. A canonical URI has one current accepted record per domain; a delivery of it with
another text is a **version** and is accepted only when the validator's own re-fetch confirms it (the live page has
the new text); the commit that inserts it supersedes the current row (validator/store/accepted.py). Several texts
of one URI delivered in one step are **rivals**: each is re-fetched when the budget allows, and at most one of them
becomes the page's row.

Contested records are re-fetched beyond the random sample, within what it left of the kind's budget
(validator/sampling.py `plan_forced`); those checks decide the record only and never enter the miner's evidence (the
miner, not the seed, chose them). A version whose re-fetch found other text or nothing to check is rejected
(`unconfirmed_version`): a spin of an accepted page under its own URI can never be accepted. A version the budget did
not reach, or whose re-fetch was the validator's own trouble, makes the miner's batch wait (cursors kept, the same
records come again, as a batch with too little evidence waits) for at most VERSION_MAX_WAITS steps in a row, so an
honest re-crawl is not lost to the validator's trouble while a miner with more versions than the budget still moves
on; a re-fetch that found a version's exact text while its batch waited is remembered (in memory) for the next
attempts. A rewritten page's text the live page is only similar to waits a step and is fetched again, and texts of
one page that tie as copies are represented by the closest to the live page: a near copy delivered a step ahead of
the honest re-crawl (a copier pulled after the crawl) never becomes the page's row."""

from __future__ import annotations

import hashlib
import logging
from collections import Counter, defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Literal

from scoring import NoveltyVerdict, similarity
from validator import constants as K
from validator import reasons as R
from validator.delivery import DeliveryKey
from validator.ladder import Candidate
from validator.outcome import RESOLVED
from validator.precedence import new_clusters
from validator.pull import MinerPull
from validator.verification import Check

log = logging.getLogger(__name__)

Page = tuple[str, str]  # (domain, canonical uri)
VERSION = "version"  # the page has a current accepted row with another text
RIVAL = "rival"      # another text of the page came in the same step (and none is accepted yet)
State = Literal["confirmed", "refuted", "undecided"]


@dataclass(frozen=True)
class Contest:
    page: Page
    kind: str  # VERSION or RIVAL


def page_of(c: Candidate) -> Page:
    return c.record.domain, c.record.uri


def contested(pulls: Sequence[MinerPull], current: Mapping[Page, tuple[int, str]]) -> dict[str, Contest]:
    """key -> its contest, for every novel record of the step whose URI has a current row with another text
    (a version) or came with another text in the step (a rival)."""
    texts: dict[Page, set[str]] = defaultdict(set)
    for p in pulls:
        for c in p.novel:
            texts[page_of(c)].add(c.record.content_hash)
    found: dict[str, Contest] = {}
    for p in pulls:
        for c in p.novel:
            page, held = page_of(c), current.get(page_of(c))
            if held is not None and held[1] != c.record.content_hash:
                found[c.key] = Contest(page, VERSION)
            elif held is None and len(texts[page]) > 1:
                found[c.key] = Contest(page, RIVAL)
    return found


def state_of(check: Check | None) -> State:
    """A re-fetch that agrees confirms the text; one that found other text or nothing checkable refutes it; none,
    or the validator's own trouble, leaves it undecided."""
    if check is None or check.outcome == "unknown":
        return "undecided"
    return "confirmed" if check.outcome == "pass" else "refuted"


class VersionBook:
    """The decisions on contested records across steps: confirmations kept while a batch waits, and how many steps
    in a row each miner waited for its versions (in memory: a restart only means re-fetching them again)."""

    def __init__(self) -> None:
        # (domain, uri, content_hash) -> (step, the check that confirmed it): a confirmation holds for its page only
        self.confirmed: dict[tuple[str, str, str], tuple[int, Check]] = {}
        self.waits: dict[int, int] = {}  # uid -> steps in a row its batch waited for a version
        self.checks: dict[str, Check] = {}  # key -> the check that decides it, this step
        self.edits: dict[str, float] = {}  # key -> similarity of an edit to its page's current row, this step
        # (domain, uri, content_hash) -> the step a re-fetch first found the live page similar to it, not identical
        self.similar: dict[tuple[str, str, str], int] = {}

    def remembers(self, c: Candidate) -> bool:
        return _memo(c) in self.confirmed

    def settle(self, p: MinerPull, contests: Mapping[str, Contest], checks: Mapping[str, Check], step: int) -> bool:
        """Decide the pull's contested records (`p.refused`, `p.versions`); True when its batch waits for a version."""
        undecided = []
        for c in p.novel:
            contest = contests.get(c.key)
            if contest is None:
                continue
            fetched = checks.get(c.key)
            check = fetched or self._remembered(c)
            state = self._state(c.key, check)
            if check is not None:
                self.checks[c.key] = check
            if state == "confirmed" and contest.kind == VERSION and self._first_similar(c, check, step):
                state = "undecided"
            if state == "refuted":
                p.refused[c.key] = R.UNCONFIRMED_VERSION
            elif state == "confirmed":
                if fetched is not None and fetched.reason == "same_hash":  # remembered from the step it was
                    self.confirmed[_memo(c)] = (step, fetched)  # fetched in, not refreshed by waiting
                if contest.kind == VERSION:
                    p.versions.add(c.key)
            elif contest.kind == VERSION and c.key in self.edits:
                # an edit the budget did not reach never holds the batch (its new pages would wait behind a small
                # change, and copiers tie with waiting batches): the page's current row stays
                p.refused[c.key] = R.UNCONFIRMED_VERSION
            elif contest.kind == VERSION:
                undecided.append(c)
        if undecided and self.waits.get(p.uid, 0) < K.VERSION_MAX_WAITS:
            self.waits[p.uid] = self.waits.get(p.uid, 0) + 1
            log.info("batch waits for versions uid=%d versions=%d waited=%d", p.uid, len(undecided),
                     self.waits[p.uid])
            return True
        self.waits.pop(p.uid, None)
        for c in undecided:  # out of waits: the page's current row stays
            p.refused[c.key] = R.UNCONFIRMED_VERSION
        return False

    def _state(self, key: str, check: Check | None) -> State:
        """`state_of`, except that an edit whose re-fetch found the live page no closer to it than the page's current
        row is refuted: a page spun under its own URI (the live page still has the old text) is not its new version."""
        state = state_of(check)
        if state == "confirmed" and check is not None and check.reason != "same_hash" and key in self.edits:
            return "confirmed" if (check.similarity or 0.0) > self.edits[key] else "refuted"
        return state

    def _first_similar(self, c: Candidate, check: Check | None, step: int) -> bool:
        """True when this step's re-fetch is the first to find the live page similar to a rewritten page's new text
        but not identical: it waits a step and is fetched again. The page's exact text, an honest re-crawl that came
        a step later than a near copy of it (a copier pulled after the crawl), is then judged beside it and wins the
        page; an edit (a near copy of the page's own row) has its own rule (`_state`)."""
        if check is None or check.reason == "same_hash" or c.key in self.edits:
            return False
        return self.similar.setdefault(_memo(c), step) == step

    def _remembered(self, c: Candidate) -> Check | None:
        found = self.confirmed.get(_memo(c))
        return found[1] if found else None

    def forget(self, step: int) -> None:
        """Drop confirmations older than VERSION_CONFIRMED_STEPS and the step's checks."""
        self.confirmed = {h: v for h, v in self.confirmed.items() if step - v[0] < K.VERSION_CONFIRMED_STEPS}
        self.similar = {h: first for h, first in self.similar.items() if step - first < K.VERSION_CONFIRMED_STEPS}
        self.checks = {}
        self.edits = {}


def _memo(c: Candidate) -> tuple[str, str, str]:
    return c.record.domain, c.record.uri, c.record.content_hash


def settle_held(p: MinerPull, contests: Mapping[str, Contest]) -> None:
    """Decide the contested records of a held batch as it resolves: confirmed by a re-fetch now (its sample's or its
    own, `p.forced`), or rejected (the batch waited already; a page's current row stays until a version is
    confirmed). A rewritten page's text the live page is only similar to is rejected too: it cannot wait a step as
    in a step (`VersionBook._first_similar`), and a held batch's near copy of a page was a copier's that got ahead
    of the honest re-crawl, which waited for it (validator/step.py `_tied_with_held`) and is the row a step later."""
    checks = {**p.forced, **{p.novel[i].key: check for i, check in zip(p.sample, p.checks, strict=True)}}
    for c in p.novel:
        contest = contests.get(c.key)
        if contest is None:
            continue
        check = checks.get(c.key)
        if state_of(check) != "confirmed" or (contest.kind == VERSION and check.reason != "same_hash"):
            p.refused[c.key] = R.UNCONFIRMED_VERSION
        elif contest.kind == VERSION:
            p.versions.add(c.key)


def one_per_page(pulls: Sequence[MinerPull], contests: Mapping[str, Contest],
                 verdicts: Mapping[str, NoveltyVerdict], checks: Mapping[str, Check], seed: str) -> None:
    """At most one row per page out of the step: among the contested records that would become rows (kept by
    novelty, not refused, their batch resolved and not waiting), a confirmed one before an unconfirmed one, then the
    one closest to the live page, then a draw seeded by the step's seed; the others are refused `duplicate_uri`."""
    entrants: dict[Page, list[tuple[MinerPull, str]]] = defaultdict(list)
    for p in pulls:
        if p.waits or p.outcome not in RESOLVED:  # a failed batch gives no row; a held one is judged when it resolves
            continue
        for c in p.novel:
            verdict = verdicts.get(c.key)
            if c.key in contests and c.key not in p.refused and verdict is not None and verdict.keep:
                entrants[contests[c.key].page].append((p, c.key))
    for members in entrants.values():
        if len(members) < 2:
            continue
        best = max(members, key=lambda m: _rank(m[1], checks.get(m[1]), seed))
        for p, key in members:
            if key != best[1]:
                p.refused[key] = R.DUPLICATE_URI


def closest_represents(verdicts: Mapping[str, NoveltyVerdict], contests: Mapping[str, Contest],
                       checks: Mapping[str, Check]) -> dict[str, NoveltyVerdict]:
    """The verdicts with each cluster of texts of one contested page (exact or near copies delivered in the step by
    several miners) represented by the text its re-fetch found closest to the live page; the credit split stays.
    Otherwise the tie's order picks the text kept, and a one-word copy of a rewritten page became its row beside the
    honest re-crawl of its exact text."""
    out = dict(verdicts)
    for leader, members in new_clusters(verdicts).items():
        if len(members) < 2 or leader not in contests:
            continue
        page = contests[leader].page

        def closeness(key: str, page: Page = page, leader: str = leader) -> tuple[bool, float, bool]:
            check = checks.get(key)
            confirmed = key in contests and contests[key].page == page and state_of(check) == "confirmed"
            return confirmed, (check.similarity or 0.0) if confirmed else 0.0, key == leader

        best = max(members, key=closeness)
        if best == leader:
            continue
        kind = verdicts[best].kind or "near"
        out[best] = replace(verdicts[best], keep=True, duplicate_of=None, kind=None)
        for key in members:
            if key != best:
                out[key] = replace(verdicts[key], keep=False, duplicate_of=best, kind=verdicts[key].kind or kind)
    return out


def _rank(key: str, check: Check | None, seed: str) -> tuple[bool, float, bytes]:
    confirmed = state_of(check) == "confirmed"
    return confirmed, (check.similarity or 0.0) if confirmed else 0.0, hashlib.sha256(f"{seed}|{key}".encode()).digest()


def edits_of_own_page(candidates: Sequence[Candidate], verdicts: Mapping[str, NoveltyVerdict],
                      current: Mapping[Page, tuple[int, str]], texts: Mapping[str, str],
                      ) -> tuple[dict[str, NoveltyVerdict], dict[str, float]]:
    """Verdicts with each near duplicate of its own page's current row turned into an edit of that page: novel by
    the share of its text that is new (1 − word-shingle similarity to the accepted text, at least
    K.EDIT_MIN_NOVELTY), so it goes on as a version (re-fetched, superseding the row when the live page confirms it)
    instead of being rejected as a copy and leaving the dataset with the page's old text. `current`: (domain, uri) ->
    (accepted_id, content_hash) of the current rows; `texts`: accepted id (as text) -> its text. Also returns each
    edit's similarity to the current row: its re-fetch must find the live page closer to the edit than that."""
    out, similar = dict(verdicts), {}
    per_miner: Counter[int] = Counter()
    for c in candidates:
        verdict = verdicts.get(c.key)
        held = current.get(page_of(c))
        if verdict is None or held is None or verdict.kind != "near" or verdict.duplicate_of != str(held[0]):
            continue
        uid = DeliveryKey.parse(c.key).uid
        if per_miner[uid] >= K.EDITS_PER_MINER_STEP:  # each edit costs a re-fetch: the rest stay near duplicates
            continue
        per_miner[uid] += 1
        old = texts.get(verdict.duplicate_of)
        similar[c.key] = similarity(old, c.record.text) if old is not None else 1.0
        out[c.key] = replace(verdict, novelty=max(K.EDIT_MIN_NOVELTY, 1.0 - similar[c.key]), keep=True,
                             duplicate_of=None, kind=None)
    return out, similar


def near_own_pages(candidates: Sequence[Candidate], verdicts: Mapping[str, NoveltyVerdict]) -> list[Page]:
    """Pages of the candidates that are near duplicates of an accepted row (which may be their own page's)."""
    return sorted({page_of(c) for c in candidates
                   if (v := verdicts.get(c.key)) is not None and v.kind == "near" and v.duplicate_of
                   and v.duplicate_of.isdigit()})
