"""The one cancel bridge (studio/cancel.py), the one login check (studio/access.py) and the one drain
(studio/drain.py) that the studio's doors and the worker share, on plain values and threads."""

from __future__ import annotations

import asyncio
import base64
import contextlib
import os
import signal
import threading
import time

import pytest

from studio.access import Access, Caller, login_cookie
from studio.cancel import run_cancellable, stream_cancellable
from studio.drain import Drain


# ---- cancel bridge -------------------------------------------------------------------------------
def _until_cancelled(cancel: threading.Event) -> str:
    return "stopped" if cancel.wait(10) else "ran on"


def test_run_cancellable_returns_the_work_and_stops_it_when_the_task_is_cancelled():
    async def scenario():
        assert await run_cancellable(lambda cancel: 42) == 42
        seen = []
        task = asyncio.ensure_future(run_cancellable(lambda cancel: seen.append(_until_cancelled(cancel))))
        await asyncio.sleep(0.1)
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
        for _ in range(100):  # bounded: 1 s
            if seen:
                break
            await asyncio.sleep(0.01)
        return seen

    assert asyncio.run(scenario()) == ["stopped"]


def test_run_cancellable_stops_the_work_once_the_caller_is_gone():
    gone = threading.Event()
    threading.Timer(0.3, gone.set).start()
    started = time.monotonic()
    assert asyncio.run(run_cancellable(_until_cancelled, is_gone=gone.is_set)) == "stopped"
    assert time.monotonic() - started < 2


def test_a_stream_hands_over_its_items_and_raises_the_works_error():
    def items(cancel):
        yield 1
        yield 2
        raise ValueError("broken")

    async def scenario():
        got = []
        with pytest.raises(ValueError, match="broken"):
            async with contextlib.aclosing(stream_cancellable(items)) as stream:
                async for item in stream:
                    got.append(item)
        return got

    assert asyncio.run(scenario()) == [1, 2]


def test_a_reader_that_stops_stops_the_work_and_its_cleanup_runs():
    cleaned = threading.Event()

    def items(cancel):
        try:
            for n in range(10_000):
                if cancel.is_set():
                    return
                yield n
                time.sleep(0.01)
        finally:
            cleaned.set()

    async def scenario():
        async with contextlib.aclosing(stream_cancellable(items)) as stream:
            async for item in stream:
                if item == 3:
                    break

    asyncio.run(scenario())
    assert cleaned.wait(2), "the work ran on after its reader stopped"


# ---- login check ---------------------------------------------------------------------------------
def _basic(user: str, password: str) -> str:
    return "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()


KEY, LOGINS, TOKENS = "sk-test", {"ann": "pw"}, {"tok-1": "ann"}


@pytest.mark.parametrize(("access", "caller", "page", "api"), [
    (Access(), Caller(), True, True),  # nothing configured: open
    (Access(api_key=KEY), Caller(), True, False),  # a key guards the API only
    (Access(api_key=KEY), Caller(f"Bearer {KEY}"), True, True),
    (Access(api_key=KEY), Caller("Bearer wrong"), True, False),
    (Access(api_key=KEY), Caller("Bearer ann:pw"), True, False),  # a login without --auth means nothing
    (Access(KEY, LOGINS, TOKENS), Caller(), False, False),
    (Access(KEY, LOGINS, TOKENS), Caller(login_token="tok-1"), True, True),  # the page's login cookie
    (Access(KEY, LOGINS, TOKENS), Caller(login_token="forged"), False, False),
    (Access(KEY, LOGINS, TOKENS), Caller(f"Bearer {KEY}"), False, True),  # the key is not a page login
    (Access("", LOGINS, TOKENS), Caller(_basic("ann", "pw")), False, True),
    (Access("", LOGINS, TOKENS), Caller(_basic("ann", "nope")), False, False),
    (Access("", LOGINS, TOKENS), Caller("Bearer ann:pw"), False, True),
    (Access("", LOGINS, TOKENS), Caller("Basic !!!"), False, False),
    (Access("", lambda user, password: user == "bo", TOKENS), Caller(_basic("bo", "x")), False, True),
])
def test_who_may_call(access, caller, page, api):
    assert (access.page_allows(caller), access.api_allows(caller)) == (page, api)


def test_the_login_cookie_is_read_under_either_name():
    assert login_cookie({"access-token-abc": "t1"}, "abc") == "t1"
    assert login_cookie({"access-token-unsecure-abc": "t2"}, "abc") == "t2"
    assert login_cookie({"access-token-xyz": "t3"}, "abc") is None


# ---- drain ---------------------------------------------------------------------------------------
def test_a_background_drain_refuses_new_work_and_hands_the_signal_on():
    """The worker's form: the signal is handed on to the handler installed before (the RunPod SDK's),
    and a watchdog thread waits for the running work."""
    handed_on, draining, busy = [], threading.Event(), threading.Event()
    busy.set()
    before = signal.signal(signal.SIGTERM, lambda signum, frame: handed_on.append(signum))
    try:
        drain = Drain(draining, busy=busy.is_set, grace_s=30, work="job")
        drain.install(background=True)
        os.kill(os.getpid(), signal.SIGTERM)
        for _ in range(100):  # bounded: 1 s, until the handler has run
            if handed_on:
                break
            time.sleep(0.01)
        assert draining.is_set() and handed_on == [signal.SIGTERM]
        watchdog = next(t for t in threading.enumerate() if t.name == "drain-watchdog")
        assert watchdog.is_alive()  # waiting for the busy work
        busy.clear()
        watchdog.join(2)
        assert not watchdog.is_alive()  # the work ended in time: no exit forced
        os.kill(os.getpid(), signal.SIGTERM)  # a second signal is only handed on
        time.sleep(0.1)
        assert handed_on == [signal.SIGTERM, signal.SIGTERM]
    finally:
        signal.signal(signal.SIGTERM, before)
