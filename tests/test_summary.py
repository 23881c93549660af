"""The masked summary kept with a held message: bounded for month-end lists, every record counted."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st

from dlp_gateway.config.schema import Quarantine, Upstream
from dlp_gateway.held import GateInfo, HeldMessage, HeldSummary
from dlp_gateway.model import Action, Decision, Envelope, Party, RecipientDecision, Record, Report, Violation
from dlp_gateway.pipeline import Pipeline
from dlp_gateway.quarantine.incident import incident_report
from dlp_gateway.quarantine.sqlite import SqliteStore
from dlp_gateway.quarantine.store import list_messages
from dlp_gateway.report import kept_records, report_json, summary_of
from dlp_gateway.smtp.relay import SmtpRelay
from dlp_gateway.smtp.server import Gateway
from tests.helpers import BRANCH_A, HEAD_OFFICE, MSI, SOMPO, Sink, example_config, make_message, submit


def rows(insurer: str, numbers: range) -> list[str]:
    return [f"証券番号：81{i:08d}　契約者名：山田 太郎{i % 7} 様　引受：{insurer}" for i in numbers]


# 40 of Sompo's own customers first, then 20 of Tokio Marine's: only those cross to Sompo.
MIXED = "\n".join(rows("損保ジャパン", range(40)) + rows("東京海上日動", range(40, 60)))


def scan(body: str) -> Report:
    return Pipeline(example_config()).scan(
        make_message(body, to=(BRANCH_A, SOMPO)), Envelope(HEAD_OFFICE, (BRANCH_A, SOMPO))
    )


def test_a_long_list_keeps_the_violating_records_first_and_counts_them_all() -> None:
    report = scan(MIXED)
    assert len(report.records) == 60
    doc = summary_of(report, "r1", 10).to_json()
    full = report_json(report, "r1", masked=True)
    assert [r["index"] for r in doc["records"]] == list(range(40, 50))  # Tokio's, not the first ten
    for kept in doc["records"]:  # each kept record is the full summary's, masked, with its place
        assert {k: v for k, v in kept.items() if k != "index"} == full["records"][kept["index"]]
    [sompo] = [r for r in doc["recipients"] if r["address"] == SOMPO]
    [cross] = [v for v in sompo["violations"] if v["kind"] == "cross_insurer"]
    assert cross["count"] == 20 and cross["records"] == list(range(40, 50))
    assert doc["records_total"] == HeldSummary.read(doc).records_total == 60
    assert doc["records_by_underwriter"] == {"sompo": 40, "tokio": 20}
    assert "8100000041" not in json.dumps(doc, ensure_ascii=False)  # masked
    assert len(json.dumps(doc)) < len(json.dumps(full)) / 3


def test_few_violating_records_are_followed_by_the_others_in_message_order() -> None:
    report = scan(MIXED)
    doc = summary_of(report, "r1", 25).to_json()
    assert [r["index"] for r in doc["records"]] == [*range(5), *range(40, 60)]
    assert summary_of(report, "r1", 60).to_json()["records"] == [
        {"index": i, **r} for i, r in enumerate(report_json(report, "r1", masked=True)["records"])
    ]  # a list within the limit is kept whole


def test_a_summary_from_before_the_limit_still_counts_its_records() -> None:
    assert HeldSummary.read({"records": [{}, {}, {}]}).records_total == 3
    assert HeldSummary.read({}).records_total == 0


async def test_the_gateway_keeps_a_bounded_summary_and_the_whole_message(tmp_path: Path, sink: Sink) -> None:
    assert sink.server is not None
    upstream = Upstream("127.0.0.1", sink.server.sockets[0].getsockname()[1], timeout=5)
    base = example_config(upstream=upstream, quarantine=Quarantine(path=tmp_path / "q.db"), notices=None)
    config = dataclasses.replace(base, limits=dataclasses.replace(base.limits, summary_records=5))
    # Tokio Marine's customers first and Sompo's after them, to Mitsui Sumitomo: the five kept are
    # Tokio's, and the insurer filter and the incident report must still see Sompo's.
    body = "\n".join(rows("東京海上日動", range(30)) + rows("損保ジャパン", range(30, 33)))
    msg = make_message(body, to=(BRANCH_A,), cc=(MSI,))
    store = SqliteStore(config.quarantine.path)
    gw = Gateway(config, Pipeline(config), SmtpRelay(upstream), store)
    await gw.start(port=0)
    try:
        code, reply = await submit(gw.port, HEAD_OFFICE, [BRANCH_A, MSI], msg)
    finally:
        await gw.stop()
    assert code == 250 and "Held for compliance review" in reply
    [held] = await list_messages(store)
    item: HeldMessage = await store.get(held.ref)
    assert item.raw == msg  # the whole message is held: `scan` lists every record
    assert len(item.summary.records) == 5 and item.summary.records_total == 33
    assert item.summary.records_by_underwriter == {"tokio": 30, "sompo": 3}
    assert {r.underwriter for r in item.summary.records} == {"tokio"}
    assert item.insurers == ("msi", "sompo", "tokio")
    report = incident_report([item], "test", "2026-11-30T00:00:00+00:00")
    assert report["本人の数 people"] == 33 and report["messages"][0]["records"] == 33


def reference_kept(report: Report, limit: int) -> list[int]:
    named = sorted({i for r in report.decision.recipients for v in r.violations for i in v.records})[:limit]
    rest = [i for i in range(len(report.records)) if i not in set(named)]
    return sorted(named + rest[: limit - len(named)])


@settings(max_examples=300, deadline=None)
@given(
    n=st.integers(0, 60),
    picks=st.lists(st.lists(st.integers(0, 59), max_size=40), max_size=5),
    limit=st.integers(1, 70),
)
def test_kept_records_match_their_definition(n: int, picks: list[list[int]], limit: int) -> None:
    """However the violations of several recipients overlap: the first `limit` violating records,
    then the others, in message order; and each violation names exactly the kept ones it holds."""
    records = tuple(Record(f"81{i:08d}", None, None, "tokio", "pattern", 0.6, "body") for i in range(n))
    recipients = tuple(
        RecipientDecision(
            f"r{k}@ms-ins.com",
            Party("insurer", "msi"),
            Action.QUARANTINE,
            (Violation("cross_insurer", tuple(sorted({i for i in pick if i < n}))),),
            ("rule",),
        )
        for k, pick in enumerate(picks)
    )
    report = Report(
        Envelope(HEAD_OFFICE, tuple(r.address for r in recipients)),
        Party("internal"),
        Decision(Action.QUARANTINE, recipients, ()),
        records,
        (),
    )
    kept = kept_records(report, limit)
    assert kept == reference_kept(report, limit)
    doc = summary_of(report, "r1", limit).to_json()
    assert [r["index"] for r in doc["records"]] == kept
    for shown, r in zip(doc["recipients"], recipients, strict=True):
        [v] = r.violations
        assert shown["violations"][0]["records"] == [i for i in v.records if i in set(kept)]
        assert shown["violations"][0]["count"] == len(v.records)


def test_the_stored_summary_reads_back_as_it_was_written() -> None:
    summary = summary_of(scan(MIXED), "r1", 10)
    assert HeldSummary.read(json.loads(json.dumps(summary.to_json()))) == summary
    gated = summary.with_gate(GateInfo("hold", "ab" * 32, due="2026-06-15T03:10:00+00:00")).with_note("n")
    assert HeldSummary.read(json.loads(json.dumps(gated.to_json()))) == gated


def test_a_summary_stored_before_versions_reads_its_gate_and_its_failure() -> None:
    v1 = {"verdict": "strip", "gate": {"kind": "hold", "token_sha256": "ab", "due": "2026-06-15T03:10:00+00:00"}}
    old = HeldSummary.read(v1)
    assert old.gate == GateInfo("hold", "ab", due="2026-06-15T03:10:00+00:00") and old.gate_action == "hold"
    assert old.inspected and old.to_json()["version"] == 2  # read, it is the current version
    failed = HeldSummary.read({"reference": "r", "error": "scan failed: timeout", "verdict": "error"})
    assert not failed.inspected and failed.scan_error == "scan failed: timeout"
