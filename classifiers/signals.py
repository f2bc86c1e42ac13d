"""Signals on an item or event besides its category: emergency, unverified claim, burst, policy, places.

Pure: text, times and the playbook in, :class:`Signal` values out. The pipeline stores
them on the event (``Event.signals``, ``Event.places``, ``Event.is_emergency``); routing
reads them to choose the case profile and its clocks (2015 §三: 重大突发事件、应急事件
第一时间发布; 虚假信息 及时澄清), and the duty alert prints which signal fired and the
words that fired it.

* ``emergency``: a word of one of the playbook's incident classes (爆炸, 火灾, 坍塌 …),
  unless a negation word says it did not happen or was a drill (辟谣, 不实, 演练 …).
  Classes listed as ``supporting`` (deaths and injuries) count only beside another.
* ``unverified``: a claim marked as hearsay (网传, 据传, 有网友称 …), so a claim on a news
  site or a portal is 需核实 even where the rumour model does not judge that kind of source.
* ``burst``: :func:`classifiers.burst.detect_burst` says the event is new-and-hot or rising.
* ``policy``: an important policy by its issuer and document number (2015 §六).
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

from classifiers.burst import BurstKind, BurstPolicy, BurstSignal, BurstTimes, detect_burst
from playbooks.schema import BurstSignals, ImportantPolicy, Issuer, Playbook

EMERGENCY = "emergency"
UNVERIFIED = "unverified"
BURST = "burst"
POLICY = "policy"

LABELS = {EMERGENCY: "突发事件", UNVERIFIED: "网传未证实", BURST: "热度骤升", POLICY: "重要政策"}


@dataclass(frozen=True)
class Signal:
    """One signal and the words (or numbers) that fired it."""

    kind: str
    words: tuple[str, ...] = ()
    detail: str = ""

    def explain(self) -> str:
        label = LABELS.get(self.kind, self.kind)
        said = "、".join(self.words)
        return f"{label}（{said}）" if said else (f"{label}（{self.detail}）" if self.detail else label)

    def to_data(self) -> dict[str, Any]:
        return {"kind": self.kind, "words": list(self.words), "detail": self.detail}

    @classmethod
    def from_data(cls, data: Mapping[str, Any]) -> Signal:
        return cls(str(data["kind"]), tuple(str(w) for w in data.get("words") or ()), str(data.get("detail") or ""))


def _hits(text: str, words: Iterable[str]) -> list[str]:
    return [w for w in words if w and w in text]


def emergency_signal(text: str, playbook: Playbook) -> Signal | None:
    """The emergency signal of *text*, or None (no incident word, only supporting words, or negated)."""
    if playbook.signals is None:
        return None
    rules = playbook.signals.emergency
    if _hits(text, rules.negations):
        return None
    fired = {name: hits for name, words in rules.classes.items() if (hits := _hits(text, words))}
    if not set(fired) - set(rules.supporting):
        return None
    words = tuple(w for hits in fired.values() for w in hits)
    return Signal(EMERGENCY, words, "、".join(fired))


def unverified_signal(text: str, playbook: Playbook) -> Signal | None:
    """Hearsay markers (网传, 据传 …) in *text*, unless it is itself a denial (辟谣 …)."""
    if playbook.signals is None:
        return None
    hits = _hits(text, playbook.signals.unverified)
    if not hits or _hits(text, playbook.signals.emergency.negations):
        return None
    return Signal(UNVERIFIED, tuple(hits))


_BRACKETS = r"[〔\[［（(【]"
_CLOSING = r"[〕\]］）)】]"


@lru_cache(maxsize=64)
def _number_pattern(prefixes: tuple[str, ...]) -> re.Pattern[str]:
    alternatives = "|".join(re.escape(p) for p in sorted(prefixes, key=len, reverse=True))
    # the prefix must not be the tail of a longer issuer code (吉市政办发 is not 吉政办发)
    return re.compile(rf"(?<![\u4e00-\u9fff])({alternatives})\s*{_BRACKETS}\s*(\d{{4}})\s*{_CLOSING}\s*(\d+)\s*号")


def document_issuer(title: str, text: str, issuers: Mapping[str, Issuer]) -> tuple[str, str] | None:
    """(issuer, evidence) when the title or text carries an issuer's 发文字号, or the title reads 「<issuer>关于…」."""
    head = f"{title}\n{text[:2000]}"
    for name, issuer in issuers.items():
        found = _number_pattern(tuple(issuer.document_prefixes)).search(head)
        if found:
            return name, found.group(0)
    stripped = title.strip()
    for name, issuer in issuers.items():
        for spoken in issuer.names:
            if stripped.startswith(f"{spoken}关于"):
                return name, f"{spoken}关于"
    return None


def policy_signal(title: str, text: str, rules: ImportantPolicy) -> Signal | None:
    found = document_issuer(title, text, rules.issuers)
    if found is None:
        return None
    issuer, evidence = found
    return Signal(POLICY, (evidence,), issuer)


def policy_sectors(title: str, rules: ImportantPolicy) -> list[str]:
    """Sectors a policy title names (相关行业): empty for a policy that concerns everyone."""
    return [name for name, sector in rules.sectors.items() if _hits(title, sector.keywords)]


def find_places(text: str, playbook: Playbook) -> list[tuple[str, str]]:
    """(place, department) pairs named in *text*, longest names first, without overlaps.

    Masking each match stops 长春 from matching again inside 长春市.
    """
    found: list[tuple[str, str]] = []
    masked = text
    for place, dept in playbook.place_index().items():
        if place in masked:
            found.append((place, dept))
            masked = masked.replace(place, "\0" * len(place))
    return found


def burst_policy(rules: BurstSignals) -> BurstPolicy:
    return BurstPolicy(window=rules.window, baseline=rules.baseline, alpha=rules.alpha,
                       min_count=rules.min_count, min_ratio=rules.min_ratio, prior_rate=rules.prior_rate)


def burst_signal(times: Sequence[dt.datetime], now: dt.datetime, playbook: Playbook) -> Signal | None:
    """A burst signal when the event's items are new-and-many or rising against its own baseline."""
    if playbook.signals is None or not times:
        return None
    return _burst(detect_burst(times, now, burst_policy(playbook.signals.burst)))


def held_burst_signal(times: BurstTimes, now: dt.datetime, playbook: Playbook) -> Signal | None:
    """:func:`burst_signal` over the times an event's running summary keeps (no pass over every item)."""
    if playbook.signals is None or times.empty:
        return None
    return _burst(times.detect(now, burst_policy(playbook.signals.burst)))


def _burst(verdict: BurstSignal) -> Signal | None:
    return None if verdict.kind is BurstKind.steady else Signal(BURST, (), verdict.explain())


@dataclass(frozen=True)
class TextSignals:
    """The text signals of one item and the places it names."""

    signals: tuple[Signal, ...] = ()
    places: tuple[str, ...] = field(default=())


def text_signals(title: str, text: str, playbook: Playbook) -> TextSignals:
    """Emergency, unverified-claim and policy signals of one item, with the places it names."""
    body = f"{title}\n{text}"
    found = [emergency_signal(body, playbook), unverified_signal(body, playbook)]
    if playbook.important_policy is not None:
        found.append(policy_signal(title, text, playbook.important_policy))
    places = tuple(place for place, _ in find_places(body, playbook))
    return TextSignals(tuple(s for s in found if s is not None), places)


def merge(stored: Iterable[Mapping[str, Any]], new: Iterable[Signal]) -> list[dict[str, Any]]:
    """Stored signals plus new ones, one per kind (the first words seen are kept, a burst is refreshed)."""
    by_kind: dict[str, dict[str, Any]] = {}
    for data in stored:
        if isinstance(data, Mapping) and "kind" in data:
            by_kind[str(data["kind"])] = dict(data)
    for signal in new:
        if signal.kind not in by_kind or signal.kind == BURST:
            by_kind[signal.kind] = signal.to_data()
    return list(by_kind.values())


def kinds(stored: Iterable[Any]) -> tuple[str, ...]:
    """The signal kinds of stored signals (dicts, or plain strings from older rows)."""
    out = []
    for data in stored or ():
        if isinstance(data, Mapping) and "kind" in data:
            out.append(str(data["kind"]))
        elif isinstance(data, str):
            out.append(data)
    return tuple(dict.fromkeys(out))
