"""The studio's dialogue doors on a launched server: /dialogue through gradio_client, and the Dialogue tab
in Chromium (speakers appear as the script is typed, a take plays turn by turn, subtitles to download)."""

from __future__ import annotations

import json
import re
import time
from pathlib import Path

import pytest
import soundfile as sf
from gradio_client import Client, handle_file

from tests.studio_server import healthz, run_studio
from tests.test_ui_browser import _set_slider, _studio_page, browser, mic_wav  # noqa: F401 (fixtures)

SCRIPT = "Alice: Hello Bob, how are you?\nBob: Fine, thanks [laugh].\n"


@pytest.fixture(scope="module")
def studio(tmp_path_factory):
    log = tmp_path_factory.mktemp("dialogue-studio") / "server.log"
    with run_studio(log) as url:
        yield url, Client(url, verbose=False)
    assert "Traceback" not in log.read_text(), f"the server logged a traceback: {log}"


def test_dialogue_api_with_two_clips_returns_the_take_and_subtitles(studio, speech_wav):
    _, client = studio
    speakers = {"Alice": {"clip": 0, "reference_text": "Hello, this is my voice."}, "Bob": {"clip": 1}}
    audio, vtt, srt = client.predict(script=SCRIPT, speakers=json.dumps(speakers),
                                     clips=[handle_file(str(speech_wav)), handle_file(str(speech_wav))],
                                     pause_s=0.5, seed=4, max_new_tokens=20, api_name="/dialogue")
    data, rate = sf.read(audio)
    assert rate == 24_000 and len(data) == 2 * 12 * 960 + 12_000
    assert Path(vtt).read_text() == ("WEBVTT\n\n00:00:00.000 --> 00:00:00.480\n<v Alice>Hello Bob, how are you?\n\n"
                                "00:00:00.980 --> 00:00:01.460\n<v Bob>Fine, thanks [laugh].\n")
    assert Path(srt).read_text().startswith("1\n00:00:00,000 --> 00:00:00,480\nAlice: Hello Bob, how are you?\n")
    # a preset and a described voice by name, as /synthesize's `voice`
    again, _, _ = client.predict(script=SCRIPT, speakers=json.dumps({"Alice": "robot_en", "Bob": "calm, low voice"}),
                                 pause_s=0, max_new_tokens=20, api_name="/dialogue")
    assert len(sf.read(again)[0]) == 2 * 12 * 960


@pytest.mark.parametrize(("fields", "message"), [
    ({"script": "A: 1.\nB: 2.\nC: 3.\nD: 4.\nE: 5."}, "The script has 5 speakers (A, B, C, D, E); at most 4"),
    ({"script": SCRIPT, "speakers": "{not json"}, "speakers is not valid JSON"),
    ({"script": SCRIPT, "speakers": json.dumps({"Alice": {"clip": 2}})}, "speakers.Alice.clip is 2, but 0 clip(s)"),
    ({"script": "Laugh: ha."}, "is also a sound-effect tag ([laugh])"),
    ({"script": ""}, "There is no script to speak"),
    ({"script": SCRIPT, "pause_s": True}, "pause_s must be a number, not true"),
])
def test_dialogue_api_errors_are_readable_and_the_server_keeps_serving(studio, fields, message):
    _, client = studio
    with pytest.raises(Exception) as caught:
        client.predict(api_name="/dialogue", **{"max_new_tokens": 20, **fields})
    assert message in str(caught.value)


def test_dialogue_tab_lists_speakers_while_typing_and_plays_a_take(studio, browser, output_dir):  # noqa: F811
    url, _ = studio
    with _studio_page(browser, url, output_dir) as page:
        page.get_by_role("tab", name="Dialogue").click()
        found = page.locator("#hvs-dlg-found")
        box = page.locator("#hvs-dlg-script textarea")
        box.press_sequentially("Alice: Hello Bob, how are you?\n", delay=5)
        found.get_by_text("Alice (SPEAKER0)").wait_for(timeout=30_000)
        assert "Bob" not in found.inner_text()
        box.press_sequentially("Bob: Fine, thanks [laugh].", delay=5)
        found.get_by_text("Bob (SPEAKER1)").wait_for(timeout=30_000)
        page.get_by_label("Voice of Bob").wait_for(timeout=10_000)
        # Alice speaks with a preset voice, Bob keeps the smart voice
        page.locator("#hvs-dlg-voice-0 input").click()
        page.get_by_role("option", name="Preset: Robot, US").click()
        page.get_by_text("Dialogue options").click()
        _set_slider(page, "number input for Max length per turn", 20)
        # every text the progress line shows while generating, in order
        page.evaluate("""() => { window.seen = []; const el = document.querySelector('#hvs-dlg-progress');
            new MutationObserver(() => { const t = el.innerText.trim();
                if (t && window.seen.at(-1) !== t) window.seen.push(t); })
                .observe(el, {subtree: true, childList: true, characterData: true}); }""")
        page.locator("#hvs-dlg-generate").click()
        progress = page.locator("#hvs-dlg-progress")
        progress.get_by_text("real-time factor").wait_for(timeout=120_000)
        assert "2 turns" in progress.inner_text()
        seen = page.evaluate("() => window.seen")  # "▶ Turn 1 of 2 · 0.5 s of audio", ...
        turns = [int(m[1]) for t in seen if (m := re.search(r"▶ Turn (\d) of 2 · [\d.]+ s of audio", t))]
        assert sorted(set(turns)) == [1, 2] and turns == sorted(turns), seen
        href = page.locator("#hvs-dlg-output a[download]").first.get_attribute("href", timeout=10_000)
        duration = page.evaluate(
            """async (href) => {
                const bytes = await (await fetch(href)).arrayBuffer();
                return (await new OfflineAudioContext(1, 1, 24000).decodeAudioData(bytes)).duration;
            }""", href)
        assert duration == pytest.approx(2 * 0.48 + 0.3, abs=0.01)
        live = page.evaluate("() => { const a = document.querySelector('#hvs-dlg-live audio'); return a && a.src; }")
        assert live, "the live player got no stream"
        # one player on screen: once the live one is done, the whole take in its place
        page.locator("#hvs-dlg-output").wait_for(state="visible", timeout=30_000)
        assert page.locator("#hvs-dlg-live").is_hidden()
        # each turn plays on its own; the subtitles are there to download
        assert page.locator("#hvs-dlg-turn a[download]").first.get_attribute("href", timeout=10_000).endswith(".wav")
        links = [a.get_attribute("href") or "" for a in page.locator("#hvs-dlg-subtitles a[download]").all()]
        assert sorted(link.rsplit(".", 1)[-1] for link in links) == ["srt", "vtt"], links
        subtitles = page.evaluate("async (href) => await (await fetch(href)).text()",
                                  next(link for link in links if link.endswith(".vtt")))
        assert subtitles.startswith("WEBVTT\n\n00:00:00.000 --> 00:00:00.480\n<v Alice>Hello Bob, how are you?")
        page.screenshot(path=str(output_dir / "dialogue.png"), full_page=True)


def test_dialogue_tab_is_busy_while_generating_and_stop_ends_it(studio, browser, output_dir):  # noqa: F811
    """The tab had no busy state and no Stop: a long dialogue ran to its end, with no way out but a reload."""
    url, _ = studio
    with _studio_page(browser, url, output_dir) as page:
        page.get_by_role("tab", name="Dialogue").click()
        page.locator("#hvs-dlg-script textarea").fill(SCRIPT)
        page.locator("#hvs-dlg-found").get_by_text("Bob (SPEAKER1)").wait_for(timeout=30_000)
        page.get_by_text("Dialogue options").click()
        _set_slider(page, "number input for Max length per turn", 4000)  # 160 s a turn: minutes if it ran on
        generate, stop = page.locator("#hvs-dlg-generate"), page.locator("#hvs-dlg-stop")
        generate.click()
        progress = page.locator("#hvs-dlg-progress")
        progress.get_by_text("s of audio").wait_for(timeout=60_000)  # "▶ Turn 1 of 2 · 1.5 s of audio"
        assert "Turn 1 of 2" in progress.inner_text(), progress.inner_text()
        assert generate.is_disabled() and generate.inner_text().strip() == "Generating…" and stop.is_visible()
        # the live player gets the turns as they stream in, and is the one player on screen
        page.wait_for_function("() => document.querySelector('#hvs-dlg-live audio')?.src", timeout=30_000)
        assert page.locator("#hvs-dlg-output").is_hidden()
        page.screenshot(path=str(output_dir / "dialogue-busy.png"), full_page=True)
        stop.click()
        started = time.monotonic()
        progress.get_by_text("Stopped in turn 1 of 2").wait_for(timeout=10_000)
        page.wait_for_function("() => !document.querySelector('#hvs-dlg-generate').disabled", timeout=10_000)
        assert time.monotonic() - started < 10
        assert generate.inner_text().strip() == "Generate the dialogue" and stop.is_hidden()
        assert healthz(url)["busy"] is False  # the model is free for the next take
        # the part made so far is kept as the take (before: thrown away)
        href = page.locator("#hvs-dlg-output a[download]").first.get_attribute("href", timeout=10_000)
        assert href and href.endswith(".wav") and "made so far are kept" in progress.inner_text()
