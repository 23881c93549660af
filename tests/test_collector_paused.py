"""Pipeline scans hold the cyclic collector off during detection and correlation only
(pipeline.collector_paused): it is on again after a scan, after one that fails, and stays off
when the caller had turned it off."""

from __future__ import annotations

import gc

import pytest

from dlp_gateway.errors import ScanTimeoutError
from dlp_gateway.model import Envelope
from dlp_gateway.pipeline import Pipeline, collector_paused
from tests.helpers import HEAD_OFFICE, SOMPO, example_config, make_message


def test_off_inside_on_after() -> None:
    assert gc.isenabled()
    with collector_paused():
        assert not gc.isenabled()
        with collector_paused():  # (two scans on two threads overlap the same way)
            assert not gc.isenabled()
        assert not gc.isenabled()
    assert gc.isenabled()


def test_a_caller_that_turned_it_off_keeps_it_off() -> None:
    gc.disable()
    try:
        with collector_paused():
            pass
        assert not gc.isenabled()
    finally:
        gc.enable()


def test_on_again_after_a_scan_and_after_a_scan_that_fails() -> None:
    pipeline = Pipeline(example_config())
    raw = make_message("証券番号：8100000001 契約者名：山田 太郎 様", to=(SOMPO,))
    seen: list[bool] = []
    detect = pipeline.detectors.lines

    def watched(*args: object, **kwargs: object) -> object:
        seen.append(gc.isenabled())
        return detect(*args, **kwargs)  # type: ignore[call-overload]

    pipeline.detectors.lines = watched  # type: ignore[method-assign,assignment]
    report = pipeline.scan(raw, Envelope(HEAD_OFFICE, (SOMPO,)))
    assert [r.policy_number for r in report.records] == ["8100000001"]
    assert seen == [False] and gc.isenabled()

    def late(*args: object, **kwargs: object) -> object:
        seen.append(gc.isenabled())
        raise ScanTimeoutError("the scan ran past its deadline")

    pipeline.detectors.lines = late  # type: ignore[method-assign,assignment]
    with pytest.raises(ScanTimeoutError):
        pipeline.scan(raw, Envelope(HEAD_OFFICE, (SOMPO,)))
    assert seen == [False, False] and gc.isenabled()
