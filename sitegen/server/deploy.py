"""Deploying a built site from ``sitegen hook serve``: a command, or a host's build hook.

``[hook] deploy_command`` runs through the shell in the site folder, with its output in the
hook server's log; ``[hook] build_hook_url`` gets a POST with a short summary of the build (the
URL is a secret: it is never shown). Either answers with a :class:`DeployOutcome`.
"""

from __future__ import annotations

import os
import signal
import subprocess
import threading
import time
from collections.abc import Callable
from contextlib import suppress
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from sitegen.build import BuildResult
    from sitegen.config import SiteConfig

SECRET_ENV = "SITEGEN_HOOK_SECRET"  # the webhook's credentials: never passed to a deploy
AUTH_ENV = "SITEGEN_HOOK_AUTH"
DEPLOY_TIMEOUT = 3600.0  # seconds before a deploy command is stopped
BUILD_HOOK_TIMEOUT = 30.0
MAX_LINE = 2000  # characters of one line of deploy output kept in the log


@dataclass(frozen=True)
class DeployOutcome:
    ok: bool
    message: str


Deployer = Callable[["BuildResult"], DeployOutcome]
Log = Callable[[dict[str, Any]], None]


def default_deployer(config: SiteConfig, log: Log) -> tuple[Deployer | None, str]:
    """The deploy runner that ``[hook]`` asks for, and its kind for ``/status``."""
    if config.hook.deploy_command:
        report = config.report_file
        return CommandDeployer(config.hook.deploy_command, config.root, report, log), "command"
    if config.hook.build_hook_url:
        return BuildHookDeployer(config.hook.build_hook_url), "build hook"
    return None, "none"


class CommandDeployer:
    """Runs the deploy command through the shell in the site folder, its output to the log.

    The command gets ``SITEGEN_LAST_BUILD`` (the path of ``last-build.json``) and the server's
    environment minus the webhook secrets, which a deploy never needs.
    """

    def __init__(
        self,
        command: str,
        cwd: Path,
        report: Path,
        log: Log,
        *,
        timeout: float = DEPLOY_TIMEOUT,
    ):
        self.command = command
        self.cwd = cwd
        self.report = report
        self.log = log
        self.timeout = timeout

    def __call__(self, result: BuildResult) -> DeployOutcome:
        env = {k: v for k, v in os.environ.items() if k not in (SECRET_ENV, AUTH_ENV)}
        env["SITEGEN_LAST_BUILD"] = str(self.report)
        t0 = time.monotonic()
        try:
            proc = subprocess.Popen(
                self.command,
                shell=True,
                cwd=self.cwd,
                env=env,
                stdin=subprocess.DEVNULL,
                stdout=subprocess.PIPE,
                stderr=subprocess.STDOUT,
                text=True,
                errors="replace",
                start_new_session=True,  # a timeout stops the command and its children
            )
        except OSError as err:
            return DeployOutcome(False, f"the deploy command could not start: {err}")
        timed_out = threading.Event()

        def stop() -> None:
            timed_out.set()
            with suppress(ProcessLookupError, PermissionError):
                os.killpg(proc.pid, signal.SIGTERM)

        timer = threading.Timer(self.timeout, stop)
        timer.daemon = True
        timer.start()
        try:
            assert proc.stdout is not None
            for line in proc.stdout:
                line = line.rstrip("\r\n")
                if len(line) > MAX_LINE:
                    line = line[:MAX_LINE] + "…"
                self.log({"event": "deploy_output", "line": line})
            code = proc.wait()
        finally:
            timer.cancel()
        seconds = time.monotonic() - t0
        if timed_out.is_set():
            return DeployOutcome(False, f"the deploy command was stopped after {self.timeout:g} s")
        if code != 0:
            return DeployOutcome(False, f"the deploy command exited with status {code}")
        return DeployOutcome(True, f"the deploy command succeeded in {seconds:.2f} s")


class BuildHookDeployer:
    """POSTs a short summary of the build to the build hook URL (a secret: never shown)."""

    def __init__(self, url: str, *, timeout: float = BUILD_HOOK_TIMEOUT):
        self._url = url
        self.timeout = timeout

    def __repr__(self) -> str:
        return "BuildHookDeployer(url=***)"

    def __call__(self, result: BuildResult) -> DeployOutcome:
        import httpx

        summary = {
            "source": "sitegen hook serve",
            "kind": result.kind,
            "added": len(result.added),
            "changed": len(result.changed),
            "removed": len(result.removed),
            "triggers": list(result.triggers),
        }
        try:
            response = httpx.post(self._url, json=summary, timeout=self.timeout)
        except httpx.HTTPError as err:
            # the exception text may quote the URL: name only its kind
            return DeployOutcome(
                False, f"the build hook could not be reached ({type(err).__name__})"
            )
        if not 200 <= response.status_code < 300:
            return DeployOutcome(False, f"the build hook answered HTTP {response.status_code}")
        return DeployOutcome(True, f"the build hook answered HTTP {response.status_code}")
