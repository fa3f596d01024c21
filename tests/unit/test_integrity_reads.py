"""How a verification unit reads ahead of what it judges (vigil.aws.integrity._read_ahead): results
in order, reads asked a bounded number of items ahead, and the reads not started cancelled when the
unit stops part way (its error)."""

from __future__ import annotations

from concurrent.futures import Future

from vigil.aws.integrity import _read_ahead


def test_results_come_in_order_with_reads_asked_a_bounded_number_of_items_ahead():
    asked: list[int] = []

    def read(item: int) -> Future[str] | None:
        asked.append(item)
        if item % 3 == 0:
            return None  # an item without a read (a digest among its log files)
        future: Future[str] = Future()
        future.set_result(f"read {item}")
        return future

    seen = []
    for item, result in _read_ahead(range(10), read, ahead=4):
        assert len(asked) == min(item + 4 + 1, 10)
        seen.append((item, result))
    assert seen == [(n, None if n % 3 == 0 else f"read {n}") for n in range(10)]


def test_reads_not_started_are_cancelled_when_the_unit_stops():
    futures: list[Future[str]] = []

    def read(item: int) -> Future[str]:
        future: Future[str] = Future()
        if item == 0:
            future.set_result("first")
        futures.append(future)
        return future

    reads = _read_ahead(range(10), read, ahead=3)
    assert next(reads) == (0, "first")
    reads.close()  # the unit failed while judging item 0
    assert len(futures) == 4 and all(f.cancelled() for f in futures[1:])
