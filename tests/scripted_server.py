"""A real HTTP server on a loopback port whose answers a test scripts one by one.

Used to test the CDA client's retry and error behaviour over real sockets: 429 with
Retry-After, 5xx, slow answers, dropped connections and malformed bodies.
"""

from __future__ import annotations

import json
import threading
import time
from collections import deque
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


@dataclass
class Answer:
    status: int = 200
    body: object = None  # dict/list → JSON; bytes/str sent as is
    headers: dict[str, str] = field(default_factory=dict)
    delay: float = 0.0
    drop: bool = False  # close the connection without answering


@dataclass
class Seen:
    path: str
    headers: dict[str, str]


class ScriptedServer:
    def __init__(self) -> None:
        self.script: deque[Answer] = deque()
        self.default = Answer(404, {"error_message": "nothing scripted", "error_code": 0})
        self.seen: list[Seen] = []
        self.lock = threading.Lock()
        self.url = ""
        self.in_flight = 0
        self.max_in_flight = 0
        self.stop: Callable[[], None] = lambda: None  # stop listening (connections refused)

    def then(self, *answers: Answer) -> ScriptedServer:
        self.script.extend(answers)
        return self

    def next_answer(self, path: str, headers: dict[str, str]) -> Answer:
        with self.lock:
            self.seen.append(Seen(path, headers))
            return self.script.popleft() if self.script else self.default


@contextmanager
def scripted_server() -> Iterator[ScriptedServer]:
    state = ScriptedServer()

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, *args: object) -> None:
            pass

        def do_GET(self) -> None:
            with state.lock:
                state.in_flight += 1
                state.max_in_flight = max(state.max_in_flight, state.in_flight)
            try:
                self._answer()
            finally:
                with state.lock:
                    state.in_flight -= 1

        def _answer(self) -> None:
            answer = state.next_answer(self.path, {k.lower(): v for k, v in self.headers.items()})
            if answer.delay:
                time.sleep(answer.delay)
            if answer.drop:
                self.close_connection = True
                self.connection.close()
                return
            body = answer.body
            if isinstance(body, (dict, list)):
                payload = json.dumps(body).encode()
            elif isinstance(body, str):
                payload = body.encode()
            else:
                payload = body or b""
            try:
                self.send_response(answer.status)
                self.send_header("content-type", "application/json")
                self.send_header("content-length", str(len(payload)))
                for k, v in answer.headers.items():
                    self.send_header(k, v)
                self.end_headers()
                self.wfile.write(payload)
            except OSError:
                pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    thread = threading.Thread(
        target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
    )
    thread.start()
    state.url = f"http://127.0.0.1:{server.server_address[1]}"

    def stop() -> None:
        server.shutdown()
        server.server_close()

    state.stop = stop
    try:
        yield state
    finally:
        server.shutdown()
        server.server_close()
