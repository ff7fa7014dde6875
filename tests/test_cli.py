"""The command line: exit codes, one-line errors without tracebacks, the build summary."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from click.testing import CliRunner

from sitegen.cli import cli
from tests.sites import make_site, write_json


def run(*args: str, env: dict[str, str] | None = None):
    result = CliRunner().invoke(cli, list(args), env=env)
    # user errors end through sys.exit, never as an unhandled exception
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
    assert "Traceback" not in result.output
    return result


def test_build_prints_a_summary(tmp_path: Path):
    site = make_site(tmp_path / "site")
    result = run("build", str(site))
    assert result.exit_code == 0, result.output
    assert "Full build: 8 pages rendered" in result.output
    assert "Site: 8 pages (en-us 4, fr-fr 4)" in result.output
    assert "CDA requests" in result.output
    assert (site / "public/index.html").is_file()


def test_missing_config_is_one_line(tmp_path: Path):
    result = run("build", str(tmp_path))
    assert result.exit_code == 1
    lines = result.output.strip().splitlines()
    assert len(lines) == 1 and "no sitegen.toml in" in lines[0]


def test_unknown_key(tmp_path: Path):
    site = make_site(tmp_path)
    (site / "sitegen.toml").write_text((site / "sitegen.toml").read_text() + "\n[site.nope]\n")
    result = run("build", str(site))
    assert result.exit_code == 1 and "site.nope is not a known setting" in result.output


def test_missing_credentials(tmp_path: Path):
    site = make_site(tmp_path, stack_toml='environment = "production"\n')
    result = run(
        "build", str(site), env={"CONTENTSTACK_API_KEY": "", "CONTENTSTACK_DELIVERY_TOKEN": ""}
    )
    assert result.exit_code == 1 and "stack.api_key is missing" in result.output


def test_unreachable_host(tmp_path: Path):
    site = make_site(
        tmp_path,
        stack_toml='host = "http://127.0.0.1:9"\napi_key = "k"\ndelivery_token = "t"\n'
        'environment = "production"\nmax_tries = 2\n',
    )
    result = run("build", str(site))
    assert result.exit_code == 1
    assert "cannot reach the stack at http://127.0.0.1:9: connection refused" in result.output
    assert "tries" not in result.output  # refused before any answer: not retried


def test_invalid_local_stack_file_is_named(tmp_path: Path):
    site = make_site(tmp_path)
    (site / "stack/entries/post/post1.en-us.json").write_text('{"title": "x",')
    result = run("build", str(site))
    assert result.exit_code == 1
    assert "post1.en-us.json" in result.output


def test_template_error_exit_code_and_message(tmp_path: Path):
    site = make_site(tmp_path)
    (site / "templates/page.html").write_text("{% for %}")
    result = run("build", str(site))
    assert result.exit_code == 1
    assert "templates/page.html:1: template syntax error" in result.output


def test_warning_for_missing_template_is_shown(tmp_path: Path):
    site = make_site(tmp_path)
    write_json(
        site / "stack/content_types/landing.json",
        {
            "uid": "landing",
            "title": "Landing",
            "schema": [{"uid": "title", "data_type": "text"}, {"uid": "url", "data_type": "text"}],
        },
    )
    write_json(
        site / "stack/entries/landing/spring.en-us.json", {"title": "Spring", "url": "/spring/"}
    )
    result = run("build", str(site))
    assert result.exit_code == 0
    assert "warning:" in result.output and "'landing'" in result.output


def test_console_script_help_runs_as_a_subprocess(tmp_path: Path):
    proc = subprocess.run(
        [sys.executable, "-m", "sitegen", "--help"], capture_output=True, text=True, check=False
    )
    assert proc.returncode == 0
    assert "build" in proc.stdout and "stack" in proc.stdout


def test_no_traceback_from_a_real_process(tmp_path: Path):
    site = make_site(tmp_path)
    data = json.loads((site / "stack/entries/post/post0.en-us.json").read_text())
    data["url"] = "/../outside/"
    write_json(site / "stack/entries/post/post0.en-us.json", data)
    proc = subprocess.run(
        [sys.executable, "-m", "sitegen", "build", str(site)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert proc.returncode == 1
    assert "Traceback" not in proc.stderr
    assert "entry 'post0' of content type 'post'" in proc.stderr


def test_stack_serve_answers_the_cda_on_a_port(tmp_path: Path):
    import socket
    import time

    import httpx

    from tests.sites import API_KEY, TOKEN, make_stack

    stack = make_stack(tmp_path)
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    proc = subprocess.Popen(
        [sys.executable, "-m", "sitegen", "stack", "serve", str(stack), "--port", str(port)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        headers = {"api_key": API_KEY, "access_token": TOKEN}
        deadline = time.monotonic() + 20
        while True:
            try:
                response = httpx.get(
                    f"http://127.0.0.1:{port}/v3/content_types",
                    params={"environment": "production"},
                    headers=headers,
                )
                break
            except httpx.ConnectError:
                assert proc.poll() is None, proc.stderr.read()
                assert time.monotonic() < deadline, "stack serve did not start"
                time.sleep(0.1)
        assert response.status_code == 200
        assert {ct["uid"] for ct in response.json()["content_types"]} == {
            "page",
            "post",
            "author",
            "team",
        }
        refused = httpx.get(
            f"http://127.0.0.1:{port}/v3/content_types",
            params={"environment": "production"},
            headers={"api_key": "wrong", "access_token": TOKEN},
        )
        assert refused.status_code == 412 and refused.json()["error_code"]
    finally:
        proc.terminate()
        _, err = proc.communicate(timeout=20)
    assert TOKEN not in err and API_KEY not in err


def test_stack_serve_refuses_a_broken_folder(tmp_path: Path):
    from tests.sites import make_stack

    stack = make_stack(tmp_path)
    (stack / "stack.json").write_text("{")
    result = run("stack", "serve", str(stack))
    assert result.exit_code == 1 and "stack.json" in result.output


def test_stack_serve_refuses_a_broken_entry_before_listening(tmp_path: Path):
    from tests.sites import make_stack

    stack = make_stack(tmp_path)
    (stack / "entries/post/post0.en-us.json").write_text("[1,")
    result = run("stack", "serve", str(stack), "--port", "0")
    assert result.exit_code == 1 and "post0.en-us.json" in result.output


def test_a_netlify_build_hook_says_which_entry_triggered_it(tmp_path: Path):
    site = make_site(tmp_path)
    body = {
        "module": "entry",
        "event": "publish",
        "api_key": "blt_fixture_key_7f3a",
        "triggered_at": "2026-11-22T10:00:00.000Z",
        "data": {
            "entry": {"uid": "post1", "title": "Post 1", "locale": "en-us"},
            "content_type": {"uid": "post", "title": "Post"},
            "environment": {"name": "production"},
            "locale": "en-us",
        },
    }
    result = run(
        "build",
        str(site),
        env={"INCOMING_HOOK_BODY": json.dumps(body), "INCOMING_HOOK_TITLE": "contentstack"},
    )
    assert result.exit_code == 0, result.output
    assert "Triggered by a Contentstack webhook" in result.output
    assert "post1" in result.output and "Post 1" in result.output


def test_build_usage_days_on_a_local_stack(tmp_path: Path):
    site = make_site(tmp_path)
    result = run("build", str(site), "--usage-days", "3")
    assert result.exit_code == 0, result.output
    line = next(x for x in result.output.splitlines() if x.startswith("CDN usage, last 3 days"))
    requests = int(line.split(": ")[1].split(" requests")[0].replace(",", ""))
    assert requests >= 11  # at least this build's own CDA requests were counted


def test_build_usage_days_says_why_not_without_a_token(tmp_path: Path):
    from tests.test_build import served

    site = make_site(tmp_path / "a")
    with served(site / "stack") as url:
        remote = make_site(
            tmp_path / "b",
            stack_toml=f'host = "{url}"\napi_key = "blt_fixture_key_7f3a"\n'
            'delivery_token = "cs_fixture_token_91bd"\nenvironment = "production"\n',
        )
        result = run("build", str(remote), "--usage-days", "7", env={"CONTENTSTACK_AUTHTOKEN": ""})
    assert result.exit_code == 0, result.output
    assert "CDN usage not shown: no authtoken: set CONTENTSTACK_AUTHTOKEN" in result.output


def test_warnings_print_brackets_and_server_text_as_they_are(capsys):
    """Warnings quote settings and servers: "[content_types.author]" or a message holding
    "[/x]" print as text, never read as rich markup (which dropped or crashed on them)."""
    from sitegen.cli.progress import TerminalProgress

    message = "set [content_types.author] template; the server said: [/x] [bold]no[/bold]"
    with TerminalProgress() as progress:
        progress.start("Pulling [content]", 3)
        progress.warn(message)
    err = capsys.readouterr().err
    assert f"warning: {message}" in err and "Pulling [content]… (3)" in err
