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


PAGE = Access(api_key=KEY).page_cookie()[1]  # the page's session cookie of a studio with a key and no login


@pytest.mark.parametrize(("access", "caller", "allowed"), [
    (Access(), Caller(), True),  # nothing configured: open
    (Access(api_key=KEY), Caller(), False),  # a key guards every programmatic door (the page shell is public)
    (Access(api_key=KEY), Caller(f"Bearer {KEY}"), True),
    (Access(api_key=KEY), Caller(f"bearer {KEY}"), True),  # the scheme in any case
    (Access(api_key=KEY), Caller("Bearer wrong"), False),
    (Access(api_key=KEY), Caller(f"Token {KEY}"), False),  # only Bearer carries the key
    (Access(api_key=KEY), Caller("Bearer ann:pw"), False),  # a login without --auth means nothing
    (Access(api_key=KEY), Caller(page_mark=PAGE), True),  # the open page's own traffic
    (Access(api_key=KEY), Caller(page_mark="forged"), False),
    (Access("other-key"), Caller(page_mark=PAGE), False),  # another key, another cookie
    (Access(KEY, LOGINS, TOKENS), Caller(page_mark=PAGE), False),  # behind a login, the page needs the login
    (Access(KEY, LOGINS, TOKENS), Caller(), False),
    (Access(KEY, LOGINS, TOKENS), Caller(login_token="tok-1"), True),  # the page's login cookie
    (Access(KEY, LOGINS, TOKENS), Caller(login_token="forged"), False),
    (Access(KEY, LOGINS, TOKENS), Caller(f"Bearer {KEY}"), True),  # either the key...
    (Access(KEY, LOGINS, TOKENS), Caller(_basic("ann", "pw")), True),  # ...or the login
    (Access("", LOGINS, TOKENS), Caller(_basic("ann", "pw")), True),
    (Access("", LOGINS, TOKENS), Caller(_basic("ann", "nope")), False),
    (Access("", LOGINS, TOKENS), Caller("Bearer ann:pw"), True),  # the openai client's api_key
    (Access("", LOGINS, TOKENS), Caller("Basic !!!"), False),
    (Access("", LOGINS, TOKENS), Caller("Basic ann:pw"), False),  # Basic is base64, as specified
    (Access("", LOGINS, TOKENS), Caller("Digest ann:pw"), False),  # any other scheme: refused
    (Access("", LOGINS, TOKENS), Caller("ann:pw"), False),
    (Access("", LOGINS, TOKENS), Caller(" ann:pw"), False),
    (Access("", lambda user, password: user == "bo", TOKENS), Caller(_basic("bo", "x")), True),
])
def test_who_may_call(access, caller, allowed):
    assert access.allows(caller) == allowed


def test_a_refusal_says_what_this_studio_takes():
    login, key, both = Access("", LOGINS).refusal(), Access(KEY).refusal(), Access(KEY, LOGINS).refusal()
    assert "Basic" in login and "log in" in login and "HVS_API_KEY" not in login and "Bearer" not in login
    assert "Bearer" in key and "HVS_API_KEY" in key and "Basic" not in key and "log in" not in key
    assert all(word in both for word in ("Bearer", "HVS_API_KEY", "Basic", "log in"))
    assert Access("", LOGINS).challenge().startswith("Basic") and Access(KEY).challenge() == "Bearer"
    assert Access(KEY).admit(Caller()).message == key


def test_wrong_passwords_lock_out_their_address_only_and_for_the_window():
    from studio.throttle import Throttle

    now = [0.0]
    throttle = Throttle(attempts=3, window_s=30, clock=lambda: now[0])
    access = Access("", LOGINS)
    guess, right = Caller(_basic("ann", "guess"), address="10.0.0.9"), Caller(_basic("ann", "pw"), address="10.0.0.9")
    assert [access.admit(guess, throttle).status for _ in range(4)] == [401, 401, 401, 429]
    locked = access.admit(right, throttle)
    assert locked.status == 429 and locked.retry_after_s == 30  # even the right password, while locked
    assert access.admit(Caller(_basic("ann", "pw"), address="10.0.0.10"), throttle).allowed  # another client
    now[0] = 31.0
    assert access.admit(right, throttle).allowed  # after the window
    # IPv6 counts per /64 (one host's addresses); memory stays bounded
    throttle = Throttle(attempts=1, window_s=30, clients=2, clock=lambda: now[0])
    throttle.failed("2001:db8::1")
    assert throttle.wait_s("2001:db8::ffff") == 30 and throttle.wait_s("2001:db8:0:1::1") == 0
    for n in range(5):
        throttle.failed(f"10.0.0.{n}")
    assert len(throttle._records) == 2 and throttle.wait_s("10.0.0.4") == 30


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
