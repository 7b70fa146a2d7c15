"""Paging over a simulated, changing listing (pure: the fetch function is an in-memory fake API)."""

from __future__ import annotations

import pytest

from airflow_provider_nexmo_numbers.client import NexmoNumbersError, NumberPage, OwnedNumber
from airflow_provider_nexmo_numbers.client.paging import iter_numbers


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
