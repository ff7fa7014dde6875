"""The CDA client over real sockets: retries, backoff, Retry-After, errors, pagination."""

from __future__ import annotations

import asyncio
from collections.abc import Callable

import pytest

from sitegen.config import StackConfig
from sitegen.errors import APIError
from sitegen.source.cda import CDAClient, StackUnavailable, _retry_after
from tests.scripted_server import Answer, scripted_server

API_KEY = "blt_test_api_key_123"
TOKEN = "cs_test_delivery_token_456"


def make_stack(url: str, **overrides: object) -> StackConfig:
    values = dict(
        environment="production",
        base_url=url,
        include_depth=2,
        api_key=API_KEY,
        delivery_token=TOKEN,
        timeout=2.0,
        max_tries=4,
    )
    values.update(overrides)
    return StackConfig(**values)  # type: ignore[arg-type]


def run_get(stack: StackConfig, path: str = "/content_types", **client_args: object):
    async def go():
        async with CDAClient(stack, backoff=0.01, **client_args) as cda:
            return await cda.get(path), cda.stats

    return asyncio.run(go())


def test_credentials_travel_in_headers_never_in_the_url():
    with scripted_server() as server:
        server.then(Answer(200, {"content_types": []}))
        run_get(make_stack(server.url))
    seen = server.seen[0]
    assert seen.headers["api_key"] == API_KEY
    assert seen.headers["access_token"] == TOKEN
    assert API_KEY not in seen.path and TOKEN not in seen.path
    assert "environment=production" in seen.path


def test_retries_429_honouring_retry_after_then_succeeds():
    with scripted_server() as server:
        server.then(
            Answer(429, {"error_message": "rate"}, headers={"retry-after": "0.3"}),
            Answer(200, {"ok": True}),
        )
        waits: list[float] = []

        async def record(seconds: float) -> None:
            waits.append(seconds)

        body, stats = run_get(make_stack(server.url), sleep=record)
    assert body == {"ok": True}
    assert stats.requests == 2 and stats.retries == 1
    assert waits == [0.3]  # waited as told, not the client's own backoff


@pytest.mark.parametrize("status", [408, 500, 502, 503, 504])
def test_retries_transient_statuses(status: int):
    with scripted_server() as server:
        server.then(Answer(status, {"error_message": "busy"}), Answer(200, {"ok": status}))
        body, stats = run_get(make_stack(server.url))
    assert body == {"ok": status}
    assert stats.retries == 1


def test_retries_a_dropped_connection():
    with scripted_server() as server:
        server.then(Answer(drop=True), Answer(200, {"ok": 1}))
        body, stats = run_get(make_stack(server.url))
    assert body == {"ok": 1} and stats.retries == 1


def test_retries_a_slow_answer_after_the_timeout():
    with scripted_server() as server:
        server.then(Answer(200, {"late": 1}, delay=1.5), Answer(200, {"ok": 1}))
        body, stats = run_get(make_stack(server.url, timeout=0.5))
    assert body == {"ok": 1} and stats.retries == 1


def test_gives_up_after_max_tries_naming_path_and_status_not_tokens():
    with scripted_server() as server:
        server.default = Answer(503, {"error_message": f"down {TOKEN}"})
        with pytest.raises(APIError) as caught:
            run_get(make_stack(server.url, max_tries=3), "/content_types/blog/entries")
        assert len(server.seen) == 3
    message = str(caught.value)
    assert "/v3/content_types/blog/entries" in message and "503" in message and "3 tries" in message
    assert TOKEN not in message and API_KEY not in message


@pytest.mark.parametrize(
    ("status", "code", "hint"),
    [(401, 109, "delivery token"), (412, 109, "API key"), (422, 118, "content type or entry uid")],
)
def test_refusals_are_not_retried_and_explain_what_to_check(status: int, code: int, hint: str):
    body = {"error_message": "Nope.", "error_code": code, "errors": {"api_key": ["is not valid."]}}
    with scripted_server() as server:
        server.then(Answer(status, body))
        with pytest.raises(APIError) as caught:
            run_get(make_stack(server.url))
        assert len(server.seen) == 1
    err = caught.value
    assert err.status == status and err.error_code == code
    assert f"HTTP {status}" in str(err) and hint in str(err) and "/v3/content_types" in str(err)


def test_malformed_json_is_a_clear_error():
    with scripted_server() as server:
        server.then(Answer(200, "<html>not json</html>"))
        with pytest.raises(APIError, match="not JSON"):
            run_get(make_stack(server.url))


def test_unreachable_host_is_a_clear_error_without_retries():
    with scripted_server() as server:
        url = server.url
    tries: list[float] = []

    async def record(seconds: float) -> None:
        tries.append(seconds)

    with pytest.raises(StackUnavailable, match="cannot reach the stack at") as caught:
        run_get(make_stack(url, max_tries=4), sleep=record)
    assert tries == []  # refused before the host ever answered: not worth a retry
    assert url in str(caught.value) and "check [stack] host" in str(caught.value)


def test_a_connection_refused_after_an_answer_is_retried():
    """Once the host has answered, a refused connection is a server restarting: retried."""

    async def go(url: str, server_gone: Callable[[], None]) -> tuple[Exception, int]:
        async with CDAClient(make_stack(url, max_tries=3), backoff=0.01) as cda:
            assert await cda.get("/content_types") == {"content_types": []}
            server_gone()
            with pytest.raises(APIError) as caught:
                await cda.get("/content_types")
            return caught.value, cda.stats.retries

    with scripted_server() as server:
        server.then(Answer(200, {"content_types": []}, headers={"connection": "close"}))
        err, retries = asyncio.run(go(server.url, server.stop))
    assert isinstance(err, StackUnavailable)
    assert "failed after 3 tries: cannot connect" in str(err) and retries == 2


def test_pagination_asks_for_the_count_then_fetches_remaining_pages():
    def page(skip: int, n: int) -> dict:
        return {"entries": [{"uid": f"e{skip + i}"} for i in range(n)], "count": 250}

    with scripted_server() as server:
        server.then(
            Answer(200, page(0, 100)), Answer(200, page(100, 100)), Answer(200, page(200, 50))
        )

        async def go():
            async with CDAClient(make_stack(server.url), backoff=0.01) as cda:
                return [p async for p in cda.entry_pages("blog", "fr-fr")]

        pages = asyncio.run(go())
    # the last two pages are asked for at once, and the script answers in arrival order
    assert len(pages[0]) == 100 and sorted(len(p) for p in pages) == [50, 100, 100]
    first, *rest = [s.path for s in server.seen]
    assert "include_count=true" in first and "skip=0" in first
    for param in (
        "locale=fr-fr",
        "include_fallback=true",
        "include_all=true",
        "include_all_depth=2",
        "include_embedded_items%5B%5D=BASE",
    ):
        assert param in first, param
    assert sorted("skip=100" in p for p in rest) == [False, True]
    assert all("limit=100" in p for p in [first, *rest])


def test_concurrency_is_bounded():
    with scripted_server() as server:
        server.default = Answer(200, {"ok": 1}, delay=0.1)

        async def go():
            async with CDAClient(make_stack(server.url, concurrency=3), backoff=0.01) as cda:
                await asyncio.gather(*(cda.get("/content_types") for _ in range(12)))

        asyncio.run(go())
    assert len(server.seen) == 12
    assert server.max_in_flight == 3


def test_retry_after_accepts_seconds_and_http_dates():
    assert _retry_after("2") == 2.0
    assert _retry_after(None) is None
    assert _retry_after("garbage") is None
    assert _retry_after("Wed, 21 Oct 2015 07:28:00 GMT") == 0.0


def test_a_redirect_to_another_host_does_not_carry_the_credentials():
    with scripted_server() as elsewhere, scripted_server() as home:
        elsewhere.then(Answer(200, {"content_types": []}))
        home.then(Answer(302, {}, headers={"location": f"{elsewhere.url}/v3/content_types"}))
        run_get(make_stack(home.url))
    assert home.seen[0].headers["api_key"] == API_KEY  # the stack's own host gets them
    followed = elsewhere.seen[0].headers
    assert "api_key" not in followed and "access_token" not in followed
    assert API_KEY not in str(followed) and TOKEN not in str(followed)
