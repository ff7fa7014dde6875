"""Shared pytest hooks: tests that measure something report it at the end of the run."""

from __future__ import annotations

from typing import Any


def pytest_terminal_summary(terminalreporter: Any) -> None:
    """Print the ``summary`` property tests record with ``record_property("summary", text)``
    (e.g. the counts of the Python SDK's own suite), so CI logs show them on success too."""
    reports = [
        report
        for outcome in ("passed", "failed")
        for report in terminalreporter.stats.get(outcome, [])
        if getattr(report, "when", None) == "call"
    ]
    for report in reports:
        for name, value in report.user_properties:
            if name == "summary":
                terminalreporter.section(report.nodeid, sep="-")
                terminalreporter.write_line(str(value))
