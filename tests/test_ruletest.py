"""`dlp-gateway test-rules`: the shipped cases pass; a wrong expectation fails with a clear diff."""

from __future__ import annotations

from pathlib import Path

from tests.helpers import RULES
from tests.processes import cli


def test_shipped_cases_pass_for_the_example_rules() -> None:
    proc = cli("test-rules", "--config", str(RULES), str(RULES / "cases" / "example-rules.yaml"))
    assert "0 failed" in proc.stdout
    assert proc.stdout.count("PASS") >= 10


def test_a_failing_case_is_listed_and_exits_non_zero(tmp_path: Path) -> None:
    cases = tmp_path / "cases.yaml"
    cases.write_text(
        """
cases:
  - name: wrong on purpose
    headers: {From: honbu@mirai-hoken.example.jp, To: tanaka@sompo-japan.co.jp, Subject: x}
    body: "証券番号：8100000001 契約者名：山田 太郎 様 引受：東京海上日動"
    envelope: {from: honbu@mirai-hoken.example.jp, to: [tanaka@sompo-japan.co.jp, shiten-a@mirai-hoken.example.jp]}
    expect:
      verdict: deliver
      rules: []
      recipients: {tanaka@sompo-japan.co.jp: deliver}
""",
        encoding="utf-8",
    )
    proc = cli("test-rules", "--config", str(RULES), str(cases), check=False)
    assert proc.returncode == 1
    assert "FAIL  wrong on purpose" in proc.stdout
    assert "verdict: expected deliver, got strip" in proc.stdout
    assert "rules: expected [], got ['cross-insurer']" in proc.stdout
    assert "tanaka@sompo-japan.co.jp: expected deliver, got strip" in proc.stdout
    assert "0 passed, 1 failed" in proc.stdout


def test_an_invalid_cases_file_names_the_problem(tmp_path: Path) -> None:
    cases = tmp_path / "cases.yaml"
    cases.write_text("cases:\n  - name: x\n    message: nope.eml\n    expect: {verdict: explode}\n", encoding="utf-8")
    proc = cli("test-rules", "--config", str(RULES), str(cases), check=False)
    assert proc.returncode == 2
    assert f"{cases}: cases[0].message: no such file" in proc.stderr
