"""The near-duplicate index: NumPy arrays that grow, search by popcount, skip and drop by stamp."""

from __future__ import annotations

from classifiers.signatures import SignatureIndex, to_signed


def test_search_finds_close_signatures_closest_first_after_many_adds() -> None:
    index = SignatureIndex()
    base = 0x0F0F_0F0F_0F0F_0F0F
    for key in range(1, 1001):  # past several doublings
        index.add(key, to_signed(base ^ ((1 << 40) - 1)))  # 40 bits away: never near
    index.add(5001, to_signed(base ^ 0b111))
    index.add(5000, to_signed(base ^ 0b1))
    index.add(5002, to_signed(base))
    assert len(index) == 1003
    assert index.within(to_signed(base), 3) == [(5002, 0), (5000, 1), (5001, 3)]
    index.add(5003, to_signed(base ^ 0b11))  # an add after a search is found by the next one
    assert index.within(to_signed(base), 2) == [(5002, 0), (5000, 1), (5003, 2)]


def test_stamps_limit_a_search_and_forgetting_keeps_the_rest() -> None:
    index = SignatureIndex()
    index.add(1, 42, stamp=100.0)
    index.add(2, 42, stamp=200.0)
    index.add(3, 42)  # not stamped: never skipped, never dropped
    index.add(4, 43, stamp=300.0)
    assert index.within(42, 1, since=150.0) == [(2, 0), (3, 0), (4, 1)]
    assert index.forget_before(250.0) == 2
    assert len(index) == 2 and index.within(42, 1) == [(3, 0), (4, 1)]
    assert index.forget_before(250.0) == 0
    index.add(5, 42, stamp=400.0)
    assert index.within(42, 0) == [(3, 0), (5, 0)]
