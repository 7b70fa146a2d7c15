"""Paging over a simulated, changing listing (pure: the fetch function is an in-memory fake API)."""

from __future__ import annotations

import pytest

from airflow_provider_nexmo_numbers.client import NexmoNumbersError, NumberPage, OwnedNumber
from airflow_provider_nexmo_numbers.client.paging import (
    MAX_REREADS,
    ListingChangedError,
    PagingStats,
    iter_numbers,
    plan_page,
    planned_requests,
)


def _number(n: int) -> OwnedNumber:
    return OwnedNumber(country="NL", msisdn=str(3197000000000 + n), type="mobile-lvn", features=["SMS"])


class FakeListing:
    """Sorted numbers, 1-based pages, `{}` (an empty page with count 0) past the end, like the API."""

    def __init__(self, total: int):
        self.numbers = [_number(n) for n in range(total)]
        self.calls: list[tuple[int, int]] = []
        self.before_page: dict[int, object] = {}

    def __call__(self, index: int, size: int) -> NumberPage[OwnedNumber]:
        if index in self.before_page:
            self.before_page.pop(index)(self)
        self.calls.append((index, size))
        chunk = self.numbers[(index - 1) * size : index * size]
        if not chunk:
            return NumberPage[OwnedNumber](count=0, numbers=[], index=index, size=size)
        return NumberPage[OwnedNumber](count=len(self.numbers), numbers=chunk, index=index, size=size)


def _msisdns(numbers) -> list[str]:
    return [n.msisdn for n in numbers]


def test_every_page_once_and_stops_at_count():
    api = FakeListing(250)
    result = list(iter_numbers(api, page_size=100))
    assert _msisdns(result) == _msisdns(api.numbers)
    assert api.calls == [(1, 100), (2, 100), (3, 100)]  # no extra request past the count


def test_exact_multiple_needs_no_empty_page():
    api = FakeListing(200)
    assert len(list(iter_numbers(api, page_size=100))) == 200
    assert api.calls == [(1, 100), (2, 100)]


def test_empty_listing():
    api = FakeListing(0)
    assert list(iter_numbers(api)) == []
    assert api.calls == [(1, 100)]


def test_limit_stops_early():
    api = FakeListing(1000)
    assert len(list(iter_numbers(api, page_size=100, limit=150))) == 150
    assert api.calls == [(1, 100), (2, 100)]
    assert list(iter_numbers(api, limit=0)) == []


def test_lazy_and_constant_memory():
    api = FakeListing(10_000)
    iterator = iter_numbers(api, page_size=100)
    assert api.calls == []
    next(iterator)
    assert api.calls == [(1, 100)]


def test_insertions_while_paging_give_no_duplicates():
    api = FakeListing(300)

    def insert_at_front(listing):
        listing.numbers[0:0] = [_number(-n) for n in range(1, 6)]  # shifts everything right by 5

    api.before_page[2] = insert_at_front
    original = set(_msisdns(api.numbers))
    result = _msisdns(iter_numbers(api, page_size=100))
    assert len(result) == len(set(result))  # no duplicates
    assert original <= set(result)  # and nothing that existed throughout was missed


def test_deletions_while_paging_miss_nothing():
    api = FakeListing(300)

    def delete_at_front(listing):
        del listing.numbers[0:7]  # shifts everything left by 7: page 2 starts 7 later

    api.before_page[2] = delete_at_front
    survivors = set(_msisdns(api.numbers[7:]))
    result = _msisdns(iter_numbers(api, page_size=100))
    assert len(result) == len(set(result))
    assert survivors <= set(result)


def test_count_growing_keeps_paging():
    api = FakeListing(150)

    def append(listing):
        listing.numbers.extend(_number(1000 + n) for n in range(100))

    api.before_page[2] = append
    assert len(list(iter_numbers(api, page_size=100))) == 250


def test_server_ignoring_index_is_detected():
    def stuck(index, size):
        return NumberPage[OwnedNumber](
            count=500, numbers=[_number(n) for n in range(size)], index=index, size=size
        )

    with pytest.raises(NexmoNumbersError, match="did not advance"):
        list(iter_numbers(stuck, page_size=10))


def test_bad_page_size():
    with pytest.raises(ValueError, match="page_size"):
        list(iter_numbers(FakeListing(1), page_size=101))


# -- a listing that moves under the read (issue 11, Data) ----------------------------------------------------


class CountlessListing(FakeListing):
    """The same listing, but every page lacks `count` (as the client builds it: count = what the page
    holds, `count_given=False`)."""

    def __call__(self, index: int, size: int) -> NumberPage[OwnedNumber]:
        page = super().__call__(index, size)
        return NumberPage[OwnedNumber](
            count=len(page.numbers), numbers=page.numbers, index=index, size=size, count_given=False
        )


def _release_before_buy_after(listing) -> None:
    """One number released before the read position, one bought after it: count unchanged."""
    del listing.numbers[5]
    listing.numbers.append(_number(900_000))


@pytest.mark.parametrize("consistent", [False, True])
def test_pages_without_count_are_read_to_the_end(consistent):
    api = CountlessListing(250)
    assert _msisdns(iter_numbers(api, consistent=consistent)) == _msisdns(api.numbers)


def test_a_full_page_without_count_is_not_the_end():
    api = CountlessListing(200)
    assert len(list(iter_numbers(api))) == 200
    assert api.calls[-1] == (3, 100)  # the empty page past the end says it is over


def test_count_unchanged_shift_is_caught_by_the_overlap():
    api = FakeListing(250)
    owned_throughout = set(_msisdns(api.numbers)) - {_number(5).msisdn}
    api.before_page[2] = _release_before_buy_after
    stats = PagingStats()
    result = _msisdns(iter_numbers(api, consistent=True, stats=stats))
    assert len(result) == len(set(result))
    assert owned_throughout <= set(result)
    assert stats.rereads >= 1
    assert stats.count_changes == 0


def test_lenient_mode_still_misses_a_count_unchanged_shift():
    """The documented limit of the default mode (why exports read consistently)."""
    api = FakeListing(250)
    api.before_page[2] = _release_before_buy_after
    assert _number(100).msisdn not in _msisdns(iter_numbers(api))


def test_consistent_insertions_before_the_position_give_no_duplicates():
    api = FakeListing(300)
    original = set(_msisdns(api.numbers))

    def insert_at_front(listing):
        listing.numbers[0:0] = [_number(-n) for n in range(1, 31)]

    api.before_page[3] = insert_at_front
    result = _msisdns(iter_numbers(api, consistent=True))
    assert len(result) == len(set(result))
    assert original <= set(result)


def test_consistent_requests_match_the_plan_when_nothing_moves():
    for total in (0, 1, 100, 101, 250, 1000, 2345):
        api = FakeListing(total)
        stats = PagingStats()
        assert _msisdns(iter_numbers(api, consistent=True, stats=stats)) == _msisdns(api.numbers)
        assert stats.requests == len(api.calls) == planned_requests(total)
        assert all(size <= 100 for _, size in api.calls)
    assert planned_requests(10_000) <= 115  # the price of the overlap: at most 15% over 100 per request


def test_every_planned_page_overlaps_the_previous_one():
    end = 0
    for _ in range(500):
        offset, size = plan_page(end)
        assert offset % size == 0
        assert offset <= max(end - 1, 0) < offset + size
        assert size <= 100
        assert offset + size > end
        end = offset + size


def test_a_listing_emptied_under_the_read_fails_loudly():
    api = FakeListing(500)

    def release_most(listing):
        del listing.numbers[:450]

    api.before_page[2] = release_most
    with pytest.raises(ListingChangedError, match="kept changing"):
        list(iter_numbers(api, consistent=True))


def test_a_short_page_before_the_end_is_reread_then_refused():
    api = FakeListing(300)

    def truncated(index, size):
        page = api(index, size)
        if index > 1:  # a gateway that cuts pages short while count says more exist
            return NumberPage[OwnedNumber](
                count=page.count, numbers=page.numbers[:10], index=index, size=size
            )
        return page

    with pytest.raises(ListingChangedError, match="short page"):
        list(iter_numbers(truncated, consistent=True))
    assert len(api.calls) == 2 + 2 * MAX_REREADS  # each re-read steps back one page, then tries again


def test_consistent_server_ignoring_index_is_detected():
    def stuck(index, size):
        return NumberPage[OwnedNumber](
            count=500, numbers=[_number(n) for n in range(size)], index=index, size=size
        )

    with pytest.raises(NexmoNumbersError, match="did not advance"):
        list(iter_numbers(stuck, consistent=True))


def test_consistent_limit():
    api = FakeListing(1000)
    assert len(list(iter_numbers(api, consistent=True, limit=150))) == 150
    assert len(api.calls) == 2


def _release_front(released: int):
    def release(listing):
        del listing.numbers[:released]

    return release


@pytest.mark.parametrize(("released", "rereads"), [(1, 0), (49, 1), (99, 2), (150, 3)])
def test_consistent_releases_before_the_position_are_reread_without_duplicates(released, rereads):
    api = FakeListing(1000)
    api.before_page[3] = _release_front(released)  # page 3 starts at offset 196: 198 numbers read so far
    survivors = set(_msisdns(api.numbers[released:]))
    stats = PagingStats()
    result = _msisdns(iter_numbers(api, consistent=True, stats=stats))
    assert len(result) == len(set(result))
    assert survivors <= set(result)
    assert stats.rereads == rereads  # a shift of 1 is inside the overlap; more is re-read further back


def test_consistent_read_whose_previous_page_was_released_entirely_fails():
    """Every number of the page before is gone: continuity cannot be proven, so no partial listing."""
    api = FakeListing(1000)
    api.before_page[3] = _release_front(230)
    with pytest.raises(ListingChangedError, match="kept changing"):
        list(iter_numbers(api, consistent=True))
