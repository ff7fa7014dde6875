"""Issue 18, "the first hour": what a newcomer meets first, through the real CLI.

Finding 2: a stack that cannot be reached fails fast, in one line. Finding 4: sitegen.toml
mistakes are named with a suggestion, in plain English, with paths as the user typed them.
Finding 5: the progress and the summary count the same pages, in singular and plural.
"""

from __future__ import annotations

import json
import re
import shutil
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import httpx
import pytest
from click.testing import CliRunner

from sitegen.build import BuildResult, build_site
from sitegen.cli import cli
from sitegen.config import load_config
from sitegen.stack.app import create_app
from sitegen.stack.snapshot import PullSummary
from tests.sites import API_KEY, TOKEN, make_site, rte_doc, serve_app, write_json


def run(*args: str):
    result = CliRunner().invoke(cli, list(args))
    # user errors end through sys.exit, never as an unhandled exception
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
    assert "Traceback" not in result.output
    return result


def remote_toml(host: str) -> str:
    return (
        f'host = "{host}"\napi_key = "{API_KEY}"\ndelivery_token = "{TOKEN}"\n'
        'environment = "production"\n'
    )


def closed_port() -> int:
    """A loopback port nothing listens on (it was free a moment ago)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


# -- finding 2: an unreachable host -----------------------------------------------------------


def error_lines(stderr: str) -> list[str]:
    return [line for line in stderr.splitlines() if line.startswith("error:")]


def test_an_unreachable_host_fails_in_one_line_within_a_second(tmp_path: Path):
    host = f"http://127.0.0.1:{closed_port()}"
    site = make_site(tmp_path / "site", stack_toml=remote_toml(host))
    started = time.monotonic()
    done = subprocess.run(
        [sys.executable, "-m", "sitegen", "build", str(site)],
        capture_output=True,
        text=True,
        stdin=subprocess.DEVNULL,
        timeout=60,
    )
    seconds = time.monotonic() - started
    assert done.returncode == 1, done.stderr
    errors = error_lines(done.stderr)
    assert len(errors) == 1, done.stderr
    assert host in errors[0] and "connection refused" in errors[0], errors[0]
    assert "check [stack] host or region" in errors[0] and "network" in errors[0], errors[0]
    assert "Sync API" not in done.stderr and "warning" not in done.stderr, done.stderr
    assert "Traceback" not in done.stderr + done.stdout
    assert seconds < 3, f"{seconds:.1f} s to say the host cannot be reached"
    assert not (site / "public").exists()  # no partial site


def test_an_environment_the_stack_does_not_have_is_one_error_that_names_it(tmp_path: Path):
    """Contentstack answers 422 with ``errors: {"environment": [...]}``: the message says to
    check the environment (not "the content type or entry uid"), once, with no warning first."""
    site = make_site(tmp_path / "site", stack_toml=remote_toml("http://127.0.0.1:1"))
    toml = site / "sitegen.toml"
    text = toml.read_text()
    assert 'environment = "production"' in text
    with serve_app(create_app(site / "stack")) as url:
        toml.write_text(
            text.replace("http://127.0.0.1:1", url).replace('"production"', '"staging"')
        )
        result = run("build", str(site))
    assert result.exit_code == 1, result.output
    errors = error_lines(result.output)
    assert len(errors) == 1, result.output
    assert "check the environment ('staging'" in errors[0], errors[0]
    assert "entry uid" not in result.output and "warning" not in result.output, result.output
    assert not (site / "public").exists()


def test_a_stack_gone_since_the_last_build_fails_fast_and_keeps_the_site(tmp_path: Path):
    """An incremental build's first request is another one (content types): the same."""
    site = make_site(tmp_path / "site", stack_toml=remote_toml("http://127.0.0.1:1"))
    toml = site / "sitegen.toml"
    with serve_app(create_app(site / "stack")) as url:
        toml.write_text(toml.read_text().replace("http://127.0.0.1:1", url))
        assert run("build", "-q", str(site)).exit_code == 0
    before = sorted(p.relative_to(site) for p in (site / "public").rglob("*"))
    started = time.monotonic()
    result = run("build", "-q", str(site))  # the server is gone: its port refuses
    seconds = time.monotonic() - started
    assert result.exit_code == 1
    errors = error_lines(result.stderr)
    assert len(errors) == 1 and f"cannot reach the stack at {url}" in errors[0], result.stderr
    assert "GET /v3/content_types" in errors[0]
    assert seconds < 3, f"{seconds:.1f} s"
    assert sorted(p.relative_to(site) for p in (site / "public").rglob("*")) == before


class _Proxy(BaseHTTPRequestHandler):
    """Forwards a GET to the stack; every answer closes its connection, so each request
    connects anew and meets whatever the listening socket does."""

    protocol_version = "HTTP/1.1"
    upstream = ""
    answered: threading.Event

    def log_message(self, *args: object) -> None:
        pass

    def do_GET(self) -> None:
        headers = {k: v for k, v in self.headers.items() if k.lower() != "host"}
        answer = httpx.get(self.upstream + self.path, headers=headers, timeout=30)
        self.send_response(answer.status_code)
        for name in ("content-type", "content-length"):
            if name in answer.headers:
                self.send_header(name, answer.headers[name])
        self.send_header("connection", "close")
        self.end_headers()
        self.wfile.write(answer.content)
        self.wfile.flush()
        self.close_connection = True
        self.answered.set()


@contextmanager
def refusing_after_first_answer(upstream: str, outage: float) -> Iterator[str]:
    """A proxy to ``upstream`` that, once it has answered one request, stops listening for
    ``outage`` seconds (connections are refused) and then listens again on the same port."""
    answered = threading.Event()
    handler = type("Handler", (_Proxy,), {"upstream": upstream, "answered": answered})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    server.daemon_threads = True
    port = server.server_address[1]
    servers = [server]
    stop = threading.Event()

    def control() -> None:
        threading.Thread(target=server.serve_forever, args=(0.02,), daemon=True).start()
        while not answered.wait(0.05):
            if stop.is_set():
                return
        server.shutdown()
        server.server_close()  # refused from here
        time.sleep(outage)
        again = ThreadingHTTPServer(("127.0.0.1", port), handler)
        again.daemon_threads = True
        servers.append(again)
        again.serve_forever(0.02)

    thread = threading.Thread(target=control, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        stop.set()
        servers[-1].shutdown()
        servers[-1].server_close()
        thread.join(timeout=10)


def test_a_connection_refused_mid_build_is_still_retried(tmp_path: Path):
    """Once the stack has answered, a refused connection is a stack restarting: retried."""
    site = make_site(tmp_path / "site", stack_toml=remote_toml("http://127.0.0.1:1"))
    toml = site / "sitegen.toml"
    with (
        serve_app(create_app(site / "stack")) as upstream,
        refusing_after_first_answer(upstream, outage=0.2) as url,
    ):
        toml.write_text(toml.read_text().replace("http://127.0.0.1:1", url))
        result = run("build", "-q", str(site))
    assert result.exit_code == 0, result.output
    assert re.search(r"CDA requests \(\d+ retried\)", result.output), result.output
    assert (site / "public/index.html").is_file()


# -- finding 4: sitegen.toml messages -----------------------------------------------------------

BASE = '[stack]\nlocal = "stack"\nenvironment = "production"\n'


@pytest.fixture
def here(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A site in ./site of the current folder."""
    site = make_site(tmp_path / "site")
    monkeypatch.chdir(tmp_path)
    return site


def config_error(site: Path, toml: str, *args: str) -> str:
    (site / "sitegen.toml").write_text(toml, encoding="utf-8")
    result = run("build", *args)
    assert result.exit_code == 1, result.output
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), result.stderr
    return lines[0].removeprefix("error: ")


@pytest.mark.parametrize(
    ("toml", "said"),
    [
        (BASE + '[sitee]\ntitle = "x"\n', "unknown table [sitee]; did you mean [site]?"),
        # before its settings are found missing ("stack.environment is missing")
        ('[stak]\nlocal = "stack"\n', "unknown table [stak]; did you mean [stack]?"),
        (
            BASE + '[[page]]\npath = "/"\ntemplate = "page.html"\n',
            "unknown table [[page]]; did you mean [[pages]]?",
        ),
        (BASE + "[personalise]\n", "unknown table [personalise]; did you mean [personalize]?"),
        (BASE + "[themes]\n", "unknown table [themes]; the tables are [analytics], [assets]"),
    ],
)
def test_a_misspelt_table_is_named_with_a_suggestion(here: Path, toml: str, said: str):
    assert config_error(here, toml, "site").startswith(f"site/sitegen.toml: {said}")


@pytest.mark.parametrize(
    ("toml", "said"),
    [
        (
            BASE + '[site]\ntitel = "x"\n',
            "site.titel is not a known setting; did you mean site.title?",
        ),
        (
            '[stack]\nlocal = "stack"\nenviroment = "production"\n',
            "stack.enviroment is not a known setting; did you mean stack.environment?",
        ),
        (
            BASE + '[site]\nlocales = ["en-us", "fr-fr"]\n[locales.fr-fr]\nprefx = "/fr"\n',
            "locales.fr-fr.prefx is not a known setting; did you mean locales.fr-fr.prefix?",
        ),
        (
            BASE + '[[pages]]\npath = "/a/"\ntemplte = "page.html"\n',
            "pages[0].templte is not a known setting; did you mean pages[0].template?",
        ),
        (
            BASE + "[assets]\ndowload = true\n",
            "assets.dowload is not a known setting; did you mean assets.download?",
        ),
        (
            BASE + "[rte]\nHTML = 'trusted'\n",
            "rte.HTML is not a known setting; did you mean rte.html?",
        ),
        (
            BASE + '[site]\nzzz = "x"\n',
            "site.zzz is not a known setting (known here: base_url, locales, output",
        ),
    ],
)
def test_an_unknown_key_gets_a_did_you_mean(here: Path, toml: str, said: str):
    assert config_error(here, toml, "site").startswith(f"site/sitegen.toml: {said}")


def test_a_setting_above_every_table_is_told_where_settings_go(here: Path):
    message = config_error(here, 'title = "x"\n' + BASE, "site")
    assert message.startswith("site/sitegen.toml: title is not a known setting at the top")
    assert "settings go in tables such as [site]" in message


@pytest.mark.parametrize(
    ("toml", "said"),
    [
        (BASE + "concurrency = '8'\n", "stack.concurrency must be an integer, got '8'"),
        (BASE + "[site]\nlocales = 'en-us'\n", "site.locales must be an array, got 'en-us'"),
        (BASE + "[sitemap]\nenabled = 'yes'\n", "sitemap.enabled must be a boolean, got 'yes'"),
        (BASE + "[site]\ntitle = 3\n", "site.title must be a string, got 3"),
        (BASE + "timeout = 'long'\n", "stack.timeout must be an integer or number, got 'long'"),
        (BASE + "[site]\nbase_url = {}\n", "site.base_url must be a string, got {}"),
        (BASE + "[hook]\nrate = 'x'\n", "hook.rate must be an integer or number, got 'x'"),
        ("stack = 3\n", "stack must be a table, got 3"),
    ],
)
def test_type_messages_take_a_or_an(here: Path, toml: str, said: str):
    message = config_error(here, toml, "site")
    assert message.startswith(f"site/sitegen.toml: {said}"), message
    assert not re.search(r"\ba [aeiou]", message), message


def test_a_missing_sitegen_toml_says_how_to_start(tmp_path: Path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "mysite").mkdir()
    result = run("build", "mysite")
    assert result.exit_code == 1
    assert result.stderr.strip() == (
        "error: no sitegen.toml in mysite: create a site with `sitegen init mysite`, or pass "
        "the folder that holds sitegen.toml"
    )
    result = run("build", "elsewhere")  # no such folder
    assert result.exit_code == 1
    assert result.stderr.strip() == (
        "error: elsewhere: no such folder; create a site there with `sitegen init elsewhere`, "
        "or pass the folder that holds sitegen.toml"
    )
    # the advice works as written
    assert run("init", "mysite").exit_code == 0
    assert run("build", "-q", "mysite").exit_code == 0
    # from a folder with files but no sitegen.toml: a new folder, and the site found below
    (tmp_path / "notes.txt").write_text("x")
    result = run("build")
    assert result.exit_code == 1
    assert result.stderr.strip() == (
        "error: no sitegen.toml in the current folder: create a site with `sitegen init "
        "my-site`, or pass the folder that holds sitegen.toml, such as mysite"
    )


def test_paths_in_messages_are_relative_to_the_current_folder_when_under_it(
    here: Path, monkeypatch: pytest.MonkeyPatch
):
    """Config errors and the build summary show the paths the same way."""
    toml = (here / "sitegen.toml").read_text()
    bad = toml.replace('title = "Fixture"', 'title = "Fixture"\ntemplates = "tmpl"')
    assert config_error(here, bad, "site") == (
        "site/sitegen.toml: site.templates names site/tmpl, which is not a folder; create it"
    )
    assert config_error(here, toml + "[stack.x]\n", "site").startswith(
        "site/sitegen.toml: stack.x is not a known setting"
    )
    (here / "sitegen.toml").write_text(toml)
    result = run("build", "site")
    assert result.exit_code == 0, result.output
    assert result.stdout.rstrip().endswith(" in site/public/"), result.stdout
    monkeypatch.chdir(here)  # inside the site
    assert config_error(here, bad).startswith("sitegen.toml: site.templates names tmpl,")
    monkeypatch.chdir(here / "templates")  # the site is not under the current folder: absolute
    message = config_error(here, bad, str(here))
    assert message.startswith(f"{here / 'sitegen.toml'}: site.templates names {here / 'tmpl'},")
    (here / "sitegen.toml").write_text(toml)
    result = run("build", str(here))
    assert result.stdout.rstrip().endswith(f" in {here / 'public'}/"), result.stdout


def test_a_local_stack_file_at_fault_is_named_relative_to_the_current_folder(here: Path):
    entries = here / "stack" / "entries" / "post"
    broken = next(entries.glob("*.json"))
    broken.write_text("{ not json", encoding="utf-8")
    result = run("build", "site")
    assert result.exit_code == 1, result.output
    relative = broken.relative_to(here.parent).as_posix()
    assert error_lines(result.output)[0].startswith(f"error: {relative}"), result.output


# -- finding 5: the same counts in the progress and the summary ---------------------------------


def progress_total(stderr: str) -> int:
    found = re.findall(r"^Rendering pages… \((\d+)\)$", stderr, re.MULTILINE)
    assert len(found) == 1, stderr
    return int(found[0])


def test_progress_and_summary_count_the_same_pages(tmp_path: Path):
    site = make_site(tmp_path / "site")
    (site / "sitegen.toml").write_text(  # a feed: one more file a locale, not a page
        (site / "sitegen.toml").read_text()
        + '[[feeds]]\npath = "/feed.xml"\ncontent_type = "post"\n'
    )
    result = run("build", str(site))  # CliRunner: no TTY, one line a phase
    assert result.exit_code == 0, result.output
    head = re.search(r"^Full build: (\d+) pages rendered in ", result.stdout, re.MULTILINE)
    site_line = re.search(r"^Site: (\d+) pages \(", result.stdout, re.MULTILINE)
    assert head and site_line, result.stdout
    assert progress_total(result.stderr) == int(head[1]) == int(site_line[1]) == 8

    post = site / "stack/entries/post/post1.en-us.json"  # in both locales (fr-fr falls back)
    write_json(post, {**json.loads(post.read_text()), "title": "Post 1, edited"})
    result = run("build", str(site))
    assert result.exit_code == 0, result.output
    again = re.search(r"→ (\d+) pages? re-rendered", result.stdout)
    assert again, result.stdout
    assert progress_total(result.stderr) == int(again[1]), result.output


class Recorder:
    """A progress sink: the totals it was given and what it was advanced by."""

    def __init__(self) -> None:
        self.totals: dict[str, int | None] = {}
        self.advanced: dict[str, int] = {}
        self.phase = ""

    def start(self, phase: str, total: int | None = None) -> None:
        self.phase = phase
        self.totals[phase] = total
        self.advanced[phase] = 0

    def advance(self, n: int = 1) -> None:
        self.advanced[self.phase] += n

    def warn(self, message: str) -> None:
        pass


@pytest.mark.parametrize("jobs", [1, 2], ids=["here", "in-processes"])
def test_the_progress_bar_ends_at_its_total(tmp_path: Path, jobs: int):
    """On a terminal the bar advances page by page to the total the summary reports."""
    site = make_site(tmp_path / "site", posts=110)  # 222 pages: enough for processes
    progress = Recorder()
    result = build_site(load_config(site, env={}), progress=progress, jobs=jobs)
    assert progress.totals["Rendering pages"] == progress.advanced["Rendering pages"]
    assert progress.totals["Rendering pages"] == result.pages == result.pages_rendered == 222


def test_one_is_singular(tmp_path: Path):
    site = make_site(tmp_path / "site", posts=0)  # a home page in two locales
    assert run("build", "-q", str(site)).exit_code == 0
    write_json(
        site / "stack/entries/page/home.fr-fr.json",
        {"title": "Accueil !", "url": "/", "body": rte_doc("Bienvenue !")},
    )
    result = run("build", "-q", str(site))
    assert "Incremental build: 1 entry changed → 1 page re-rendered (" in result.stdout
    shutil.rmtree(site / "public")  # a full build again, with one warning saying why
    result = run("build", "-q", str(site))
    assert result.exit_code == 0, result.output
    assert "the output folder" in result.stderr
    assert re.search(r"CDA requests, 1 warning\.$", result.stdout, re.MULTILINE), result.stdout
    assert "(s)" not in result.output


def test_summaries_word_counts_in_singular_and_plural(tmp_path: Path):
    one = BuildResult(
        kind="full",
        output=tmp_path / "public",
        pages_by_locale={"en-us": 1},
        entries=1,
        requests=1,
        retries=0,
        seconds=0.5,
        rendered=1,
        warnings=["w"],
        assets_downloaded=1,
        pages_rendered=1,
    ).summary()
    assert "Full build: 1 page rendered" in one
    assert "1 CDA request, 1 asset file downloaded, 1 warning." in one
    assert "Site: 1 page (en-us 1) from 1 entry in " in one
    pull = PullSummary(
        out_dir=tmp_path / "stack",
        content_types=1,
        entries_by_locale={"en-us": 1},
        assets=1,
        asset_files=0,
        requests=1,
        retries=0,
        downloads=1,
        seconds=0.1,
        warnings=["w", "v"],
        variant_files=1,
    ).describe()
    assert pull.startswith("Pulled 1 content type, 1 entry (en-us 1) and 1 asset, 1 entry variant")
    assert pull.endswith("1 CDA request and 1 asset download, 2 warnings.")
    assert "(s)" not in one + pull
