"""`sitegen analytics`: the Analytics API client, its output formats and the local stand-in."""

from __future__ import annotations

import asyncio
import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest
from click.testing import CliRunner

import sitegen.cli.commands.analytics as analytics_cmd
from sitegen.analytics.client import RateLimiter, report_params, usage_params
from sitegen.analytics.report import as_csv, as_json, as_table, human_bytes
from sitegen.cli import cli
from sitegen.config import load_config
from sitegen.errors import ConfigError
from sitegen.stack.analytics import UsageLog
from tests.scripted_server import Answer, scripted_server
from tests.sites import make_site

TOKEN = "cs_authtoken_secret_5e1f"
ORG = "blt_org_42"
ACTIVE = Answer(200, {"message": "Job active"})


class FakeTime:
    """A clock that moves only when the code under test sleeps."""

    def __init__(self) -> None:
        self.now = 0.0
        self.sleeps: list[float] = []

    def clock(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds


@pytest.fixture
def fake_time(monkeypatch: pytest.MonkeyPatch) -> FakeTime:
    t = FakeTime()
    monkeypatch.setattr(
        analytics_cmd, "CLIENT_OPTIONS", {"sleep": t.sleep, "clock": t.clock, "backoff": 0.01}
    )
    return t


def today() -> str:
    return datetime.now(UTC).date().isoformat()


def run(*args: str, token: str | None = TOKEN):
    env = {"CONTENTSTACK_AUTHTOKEN": token} if token else {"CONTENTSTACK_AUTHTOKEN": ""}
    return CliRunner().invoke(cli, ["analytics", *args], env=env)


def remote_site(tmp_path: Path, url: str, extra: str = "") -> Path:
    site = make_site(tmp_path)
    with (site / "sitegen.toml").open("a", encoding="utf-8") as f:
        f.write(f'\n[analytics]\norg_uid = "{ORG}"\nhost = "{url}"\n{extra}')
    return site


def query(path: str) -> dict[str, list[str]]:
    return parse_qs(urlsplit(path).query)


def no_secret(result) -> None:
    assert TOKEN not in result.output
    assert TOKEN not in (result.stderr or "")


def data(rows, page=None, paginated=None, meta=None):
    body = {"data": rows, "meta": meta or {"orgUid": ORG}, "uid": "u1"}
    if paginated is not None:
        body["paginated"] = paginated
    return Answer(200, body)


ROWS = [
    {
        "date": "2024-05-01",
        "total_cdn_count": 1234,
        "total_cdn_bandwidth": 1536,
        "total_api_count": 7,
        "total_api_bandwidth": 900,
    },
    {
        "date": "2024-05-02",
        "total_cdn_count": 20,
        "total_cdn_bandwidth": 3 * 1024**3,
        "total_api_count": 0,
        "total_api_bandwidth": 0,
    },
]

TABLE = (
    "date        total_cdn_count  total_cdn_bandwidth  total_api_count  total_api_bandwidth\n"
    "----------  ---------------  -------------------  ---------------  -------------------\n"
    "2024-05-01            1,234              1.5 KiB                7                900 B\n"
    "2024-05-02               20              3.0 GiB                0                  0 B\n"
    "----------  ---------------  -------------------  ---------------  -------------------\n"
    "total                 1,254              3.0 GiB                7                900 B\n"
)
CSV = (
    "date,total_cdn_count,total_cdn_bandwidth,total_api_count,total_api_bandwidth\n"
    "2024-05-01,1234,1536,7,900\n"
    "2024-05-02,20,3221225472,0,0\n"
)


# -- formats ---------------------------------------------------------------------------------


def test_formats_exactly():
    assert as_table(ROWS) == TABLE
    assert as_csv(ROWS) == CSV
    assert json.loads(as_json(ROWS, {"from": "2024-05-01"})) == {
        "rows": ROWS,
        "meta": {"from": "2024-05-01"},
    }
    assert as_table([]) == "(no rows)\n"
    assert [human_bytes(n) for n in (0, 1023, 1024, 5 * 1024**2)] == [
        "0 B",
        "1023 B",
        "1.0 KiB",
        "5.0 MiB",
    ]


# -- validation ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--from", "2024-02-30", "--to", "2024-03-01"], "is not a date"),
        (["--from", "2024-5-1", "--to", "2024-05-02"], "is not a date"),
        (["--from", "2024-05-02", "--to", "2024-05-01"], "is after --to"),
        (["--from", "2024-01-01", "--to", "2024-04-01"], "at most 90"),
        (["--from", "2024-01-01", "--to", "2024-01-02", "--services", "cdn,ftp"], "'ftp'"),
    ],
)
def test_usage_validates_before_calling(tmp_path: Path, fake_time, args, message):
    with scripted_server() as server:
        site = remote_site(tmp_path, server.url)
        result = run("usage", *args, "--site", str(site))
        assert result.exit_code == 1
        assert message in result.stderr
        assert server.seen == []


def test_unknown_report_and_bad_params(tmp_path: Path, fake_time):
    with scripted_server() as server:
        site = remote_site(tmp_path, server.url)
        result = run("report", "visitors", "--site", str(site))
        assert result.exit_code == 1 and "not a known report" in result.stderr
        result = run("report", "url", "--param", "from", "--site", str(site))
        assert result.exit_code == 1 and "KEY=VALUE" in result.stderr
        assert server.seen == []
    assert report_params(["services=cdn,cma", "from=2024-01-01"]) == [
        ("services", '["cdn","cma"]'),
        ("from", "2024-01-01"),
    ]
    assert usage_params("2024-01-01", "2024-03-31") == [
        ("from", "2024-01-01"),
        ("to", "2024-03-31"),
    ]


def test_config_analytics_table(tmp_path: Path):
    site = remote_site(tmp_path, "http://127.0.0.1:9000/", "timeout = 12\n")
    config = load_config(site)
    assert config.analytics.org_uid == ORG
    assert config.analytics.host == "http://127.0.0.1:9000"
    assert config.analytics.timeout == 12.0
    site2 = remote_site(tmp_path / "b", "ftp://nope")
    with pytest.raises(ConfigError, match=r"analytics\.host"):
        load_config(site2)
    site3 = remote_site(tmp_path / "c", "http://x", "colour = 1\n")
    with pytest.raises(ConfigError, match=r"analytics\.colour"):
        load_config(site3)


def test_remote_needs_token_and_org(tmp_path: Path, fake_time):
    with scripted_server() as server:
        site = remote_site(tmp_path, server.url)
        result = run(
            "usage", "--from", "2024-01-01", "--to", "2024-01-02", "--site", str(site), token=None
        )
        assert result.exit_code == 1 and "CONTENTSTACK_AUTHTOKEN" in result.stderr
        assert server.seen == []


# -- against a scripted server ---------------------------------------------------------------


def test_job_active_then_pages_are_merged(tmp_path: Path, fake_time):
    with scripted_server() as server:
        server.then(
            Answer(200, {"jobId": "job_abc", "paginated": True}),
            ACTIVE,
            Answer(200, "Job active"),
            ACTIVE,
            data(ROWS[:1], paginated=True, meta={"from": "2024-05-01", "to": "2024-05-02"}),
            data(ROWS[1:], paginated=True),
            data([], paginated=False),
        )
        site = remote_site(tmp_path, server.url)
        result = run(
            "usage",
            "--from",
            "2024-05-01",
            "--to",
            "2024-05-02",
            "--services",
            "cdn,cma",
            "--duration",
            "day",
            "--site",
            str(site),
        )
        assert result.exit_code == 0, result.output
        assert result.stdout == TABLE
        assert "still running" in result.stderr
        no_secret(result)
        paths = [s.path for s in server.seen]
        assert urlsplit(paths[0]).path == "/analytics/v2/usage"
        assert query(paths[0]) == {
            "orgUid": [ORG],
            "from": ["2024-05-01"],
            "to": ["2024-05-02"],
            "duration": ["day"],
            "services": ['["cdn","cma"]'],
        }
        assert [query(p)["page"] for p in paths[1:]] == [["0"]] * 4 + [["1"], ["2"]]
        assert all(urlsplit(p).path == "/analytics/v2/job/job_abc/data" for p in paths[1:])
        assert all(s.headers["authtoken"] == TOKEN for s in server.seen)
        # Polls back off: each wait is longer than the one before.
        assert [s for s in fake_time.sleeps if s >= 1] == [1.0, 1.5, 2.25]


def test_paginated_job_without_per_page_flag_stops_at_invalid_page(tmp_path: Path, fake_time):
    with scripted_server() as server:
        server.then(
            Answer(200, {"jobId": "job_p", "paginated": True}),
            data(ROWS[:1]),
            data(ROWS[1:]),
            Answer(422, {"error_message": "Invalid page number", "error_code": 422}),
        )
        site = remote_site(tmp_path, server.url)
        result = run(
            "report",
            "usage",
            "--param",
            "from=2024-05-01",
            "--param",
            "to=2024-05-02",
            "--format",
            "csv",
            "--site",
            str(site),
        )
        assert result.exit_code == 0, result.output
        assert result.stdout == CSV


def test_json_output_and_out_file(tmp_path: Path, fake_time):
    with scripted_server() as server:
        meta = {"from": "2024-05-01", "to": "2024-05-02", "orgUid": ORG}
        server.then(Answer(200, {"jobId": "job_j", "paginated": False}), data(ROWS, meta=meta))
        site = remote_site(tmp_path, server.url)
        out = tmp_path / "usage.json"
        result = run(
            "usage", "--from", "2024-05-01", "--to", "2024-05-02", "--format", "json",
            "--out", str(out), "--site", str(site),
        )  # fmt: skip
        assert result.exit_code == 0, result.output
        assert out.read_text() == json.dumps({"rows": ROWS, "meta": meta}, indent=2) + "\n"
        assert "wrote 2 rows" in result.stderr


def test_429_and_5xx_are_retried(tmp_path: Path, fake_time):
    with scripted_server() as server:
        server.then(
            Answer(429, {"error_message": "Too many requests"}, headers={"retry-after": "2"}),
            Answer(503, "unavailable"),
            Answer(200, {"jobId": "job_r", "paginated": False}),
            Answer(502, ""),
            data(ROWS),
        )
        site = remote_site(tmp_path, server.url)
        before = len(fake_time.sleeps)
        result = run("usage", "--from", "2024-05-01", "--to", "2024-05-02", "--format", "csv",
                     "--site", str(site))  # fmt: skip
        assert result.exit_code == 0, result.output
        assert result.stdout == CSV
        assert len(server.seen) == 5
        assert 2.0 in fake_time.sleeps[before:]  # Retry-After honoured


@pytest.mark.parametrize(
    ("status", "words"),
    [
        (401, "authtoken was refused"),
        (403, "owner or admin"),
        (412, "not enabled"),
        (422, "parameter was refused"),
    ],
)
def test_refusals_are_one_line(tmp_path: Path, fake_time, status, words):
    with scripted_server() as server:
        server.then(Answer(status, {"error_message": f"No ({TOKEN})", "error_code": status}))
        site = remote_site(tmp_path, server.url)
        result = run("usage", "--from", "2024-05-01", "--to", "2024-05-02", "--site", str(site))
        assert result.exit_code == 1
        assert words in result.stderr
        assert f"HTTP {status}" in result.stderr
        assert len(result.stderr.strip().splitlines()) == 1
        assert len(server.seen) == 1
        no_secret(result)


def test_failed_job(tmp_path: Path, fake_time):
    with scripted_server() as server:
        server.then(
            Answer(200, {"jobId": "job_f", "paginated": False}),
            ACTIVE,
            Answer(200, {"status": "failed", "message": "Range exceeds 90 days"}),
        )
        site = remote_site(tmp_path, server.url)
        result = run("usage", "--from", "2024-05-01", "--to", "2024-05-02", "--site", str(site))
        assert result.exit_code == 1
        assert "job job_f failed: Range exceeds 90 days" in result.stderr


def test_job_that_never_finishes_times_out_with_resume_hint(tmp_path: Path, fake_time):
    with scripted_server() as server:
        server.then(Answer(200, {"jobId": "job_slow", "paginated": False}))
        server.default = ACTIVE
        site = remote_site(tmp_path, server.url)
        result = run(
            "usage", "--from", "2024-05-01", "--to", "2024-05-02", "--timeout", "5",
            "--site", str(site),
        )  # fmt: skip
        assert result.exit_code == analytics_cmd.TIMEOUT_EXIT
        assert "job_slow" in result.stderr
        assert "sitegen analytics job job_slow" in result.stderr
        assert fake_time.now <= 5
        no_secret(result)
        # Resuming fetches the same job's data.
        server.default = data(ROWS)
        result = run("job", "job_slow", "--format", "csv", "--site", str(site))
        assert result.exit_code == 0, result.output
        assert result.stdout == CSV
        assert urlsplit(server.seen[-1].path).path == "/analytics/v2/job/job_slow/data"


def test_rate_limiter_spaces_requests():
    t = FakeTime()
    limiter = RateLimiter(10, t.clock, t.sleep)

    async def go() -> None:
        for _ in range(25):
            await limiter.wait()

    asyncio.run(go())
    assert t.now == pytest.approx(2.4)


# -- against the local stack -------------------------------------------------------------------


def test_local_stack_reports_the_requests_it_served(tmp_path: Path, fake_time):
    site = make_site(tmp_path)
    built = CliRunner().invoke(cli, ["build", str(site), "-q"])
    assert built.exit_code == 0, built.output
    day = today()
    result = run("usage", "--from", day, "--to", day, "--format", "json", "--site", str(site))
    assert result.exit_code == 0, result.output
    body = json.loads(result.stdout)
    assert [r["date"] for r in body["rows"]] == [day]
    assert body["rows"][0]["total_cdn_count"] > 0
    assert body["rows"][0]["total_cdn_bandwidth"] > 0
    assert body["meta"]["from"] == day
    assert "still running" in result.stderr  # the local job answers "Job active" first

    table = run("usage", "--from", day, "--to", day, "--site", str(site), token=None)
    assert table.exit_code == 0, table.output
    count = body["rows"][0]["total_cdn_count"]
    assert f"{day}  {count:>15,}" in table.stdout

    # Forty-one days are two pages of rows.
    start = (datetime.now(UTC).date() - timedelta(days=40)).isoformat()
    result = run("usage", "--from", start, "--to", day, "--format", "csv", "--site", str(site))
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert len(lines) == 42 and lines[1].startswith(start) and lines[-1].startswith(day)
    assert "page 1" in result.stderr

    statuses = run("report", "http-statuses", "--param", f"from={day}", "--param", f"to={day}",
                   "--format", "csv", "--site", str(site))  # fmt: skip
    assert statuses.exit_code == 0, statuses.output
    assert statuses.stdout.startswith("status,count\n200,")


def test_usage_log_survives_reopening(tmp_path: Path):
    path = tmp_path / "h.sqlite"
    log = UsageLog(path)
    when = datetime(2024, 5, 1, 12, tzinfo=UTC)
    log.record("cdn", 200, 100, when=when)
    log.record("cdn", 200, 50, when=when)
    log.close()
    log = UsageLog(path)
    d = when.date()
    assert log.rows(d, d) == [("2024-05-01", "cdn", 200, 2, 150)]
    log.close()
