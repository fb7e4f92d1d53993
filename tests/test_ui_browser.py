"""A real browser: Debian's Chromium under Playwright records the fake microphone, generates, plays back."""

from __future__ import annotations

import contextlib
import json
import subprocess
import tempfile
from pathlib import Path

import pytest

from tests.studio_server import run_studio

pytestmark = pytest.mark.browser

CHROMIUM = Path("/usr/bin/chromium")


@pytest.fixture(scope="module")
def mic_wav(tmp_path_factory) -> Path:
    """Speech at 48 kHz mono 16-bit, the format Chromium's fake capture device reads."""
    raw = tmp_path_factory.mktemp("mic") / "raw.wav"
    subprocess.run(["espeak-ng", "-s", "150", "-w", str(raw),
                    "Hello, this is my own voice. I am recording a short sentence for the studio."], check=True)
    wav = raw.with_name("mic.wav")
    subprocess.run(["ffmpeg", "-y", "-loglevel", "error", "-i", str(raw), "-ar", "48000", "-ac", "1",
                    "-sample_fmt", "s16", str(wav)], check=True)
    return wav


def _browser(playwright, mic: Path):
    if not CHROMIUM.exists():
        pytest.skip("Debian's chromium is not installed")
    return playwright.chromium.launch_persistent_context(
        tempfile.mkdtemp(prefix="hvs-chromium-"), executable_path=str(CHROMIUM), headless=True,
        viewport={"width": 1400, "height": 1100}, permissions=["microphone"],
        args=["--no-sandbox", "--disable-background-networking", "--disable-component-update", "--no-first-run",
              "--use-fake-ui-for-media-stream", "--use-fake-device-for-media-stream",
              f"--use-file-for-fake-audio-capture={mic}"],
    )


def _set_slider(page, label: str, value: int) -> None:
    """Type into a slider's number box, then wait until the slider itself shows the value: clicking on
    before the page has taken it (a busy machine) would send the old value. Typed milliseconds after the
    accordion holding it was opened, the value was at once replaced by the slider's initial one (3 of 12
    fresh pages; a person cannot type that fast): then it is typed again."""
    from playwright.sync_api import expect

    box = page.get_by_label(label, exact=False).first
    slider = page.get_by_label(label.replace("number input for", "range slider for"), exact=False).first
    for attempt in range(5):  # bounded
        box.fill(str(value))
        box.press("Enter")
        box.blur()
        try:
            expect(slider).to_have_value(str(value), timeout=3_000 if attempt < 4 else 10_000)
            return
        except AssertionError:
            if attempt == 4:
                raise


@pytest.fixture(scope="module")
def studio(tmp_path_factory):
    log = tmp_path_factory.mktemp("browser-studio") / "server.log"
    with run_studio(log) as url:
        yield url, log
    assert "Traceback" not in log.read_text(), f"the server logged a traceback: {log}"


@pytest.fixture(scope="module")
def browser(mic_wav):
    playwright_api = pytest.importorskip("playwright.sync_api")
    with playwright_api.sync_playwright() as p:
        context = _browser(p, mic_wav)
        yield context
        context.close()


@contextlib.contextmanager
def _studio_page(browser, url: str, output_dir: Path, width: int | None = None):
    """A fresh tab on the loaded studio; a failure leaves failure.png in the test's output folder."""
    failure = output_dir / "failure.png"
    failure.unlink(missing_ok=True)
    page = browser.new_page()
    if width is not None:
        page.set_viewport_size({"width": width, "height": 844})
    try:
        page.goto(url)
        page.evaluate("() => localStorage.removeItem('hvs-last-text')")  # no text kept from an earlier test
        page.reload()
        page.wait_for_selector("#hvs-generate", timeout=60_000)
        yield page
    except Exception:
        page.screenshot(path=str(failure), full_page=True)
        raise
    finally:
        page.close()


def _short_takes(page) -> None:
    page.get_by_text("Advanced").click()
    _set_slider(page, "number input for Max length", 60)
    page.get_by_label("New random seed each take").uncheck()


def _status(page) -> str:
    return page.locator("#hvs-status").inner_text()


def _visible_error_badges(page) -> int:
    """Gradio's red "Error" pill, left on a component after a failed event."""
    return page.locator("[data-testid='status-tracker'] .error:visible").count()


def _take_label(page) -> str:
    """The label of the one take player (the take just made)."""
    return page.locator("#hvs-output [data-testid='block-label']").inner_text()


def _earlier_labels(page) -> list[str]:
    return page.locator(".hvs-history:visible [data-testid='block-label']").all_inner_texts()


def _generate(page, takes_before: int) -> None:
    """Generate; the take before moves down to the earlier takes at once, and the new one fills the player."""
    page.locator("#hvs-generate").click()
    page.wait_for_function(
        "() => [...document.querySelectorAll('.hvs-history')].filter(e => e.offsetParent !== null).length"
        f" >= {takes_before}", timeout=120_000)
    page.locator("#hvs-info").get_by_text("real-time factor").wait_for(timeout=120_000)


# Opens "Save or manage my voices" and types into its name box the moment the box appears (before Gradio's page
# settles); returns what the box holds a second later.
_TYPE_AS_IT_OPENS_JS = """(typed) => new Promise(done => {
  const typeIn = () => {
    const box = document.querySelector('#hvs-voice-name input');
    if (!box || box.dataset.typed) return;
    box.dataset.typed = '1'; box.value = typed; box.dispatchEvent(new Event('input', {bubbles: true}));
  };
  const watch = new MutationObserver(typeIn);
  watch.observe(document.body, {childList: true, subtree: true});
  document.querySelector('#hvs-manage button').click();
  typeIn();
  setTimeout(() => { watch.disconnect(); done(document.querySelector('#hvs-voice-name input')?.value); }, 1000);
})"""


def test_record_type_generate_and_play(studio, browser, output_dir):
    url, _ = studio
    with _studio_page(browser, url, output_dir) as page:
        # Record a few seconds from the fake microphone (the clip box offers upload and microphone).
        clip = page.locator("#hvs-clip")
        clip.get_by_role("button", name="Record audio").click()
        clip.get_by_role("button", name="Record", exact=True).click()
        page.wait_for_timeout(4_000)
        clip.locator("button.stop-button").click()
        # The recording shows as a playable clip (waveform player) once the server has it.
        clip.locator("audio, [data-testid^='waveform-'] button[aria-label='Play']").first.wait_for(
            state="attached", timeout=30_000)
        page.wait_for_timeout(1_500)
        assert "Cloning your clip" in page.locator("#hvs-voice-note").inner_text()

        # Text with a tag inserted by its button, short takes, fixed seed.
        page.locator("#hvs-text textarea").fill("Hello from the browser test.")
        page.get_by_role("button", name="[laugh]").click()
        assert "[laugh]" in page.locator("#hvs-text textarea").input_value()
        page.get_by_text("Tone and scene").click()
        page.get_by_label("storytelling").check()
        _short_takes(page)

        # Cloning needs the responsible-use checkbox: without it, a readable refusal in the status line.
        page.locator("#hvs-generate").click()
        page.locator("#hvs-status").get_by_text("right to use this voice").wait_for(timeout=30_000)
        page.locator("#hvs-consent input").check()
        page.locator("#hvs-generate").click()

        info = page.locator("#hvs-info")
        info.get_by_text("real-time factor").wait_for(timeout=120_000)
        assert "right to use" not in _status(page)  # the refusal went away with the next action
        # The player's file decodes in the browser as real audio of the take's length.
        href = page.locator("#hvs-output a[download]").first.get_attribute("href", timeout=10_000)
        assert href and href.endswith(".wav"), f"no downloadable take: {href}"
        decoded = page.evaluate(
            """async (href) => {
                const bytes = await (await fetch(href)).arrayBuffer();
                const audio = await new OfflineAudioContext(1, 1, 24000).decodeAudioData(bytes);
                return {duration: audio.duration, rate: audio.sampleRate};
            }""", href)
        assert decoded["duration"] > 0.1, decoded
        # The waveform player loaded it too: it shows the take's length.
        if decoded["duration"] >= 1:
            page.wait_for_function(
                "() => /0:0[1-9]|[1-9]:\\d\\d/.test(document.querySelector('#hvs-output').innerText)",
                timeout=15_000)
        assert "real-time factor" in info.inner_text() and "seed" in info.inner_text()
        # Streaming: the live player received the take while it was generated.
        live = page.evaluate("() => { const a = document.querySelector('#hvs-live audio'); return a && a.src; }")
        assert live, "the live player got no stream"
        # One player per take on screen: once the live one is done, the finished take, labelled, in its place;
        # nothing repeats it (no earlier take yet).
        page.locator("#hvs-output").wait_for(state="visible", timeout=30_000)
        assert page.locator("#hvs-live").is_hidden() and _earlier_labels(page) == []
        assert "Hello from the browser" in _take_label(page) and "seed" in _take_label(page)
        # "What the model is given": the rendered prompt with the tone's scene and the tagged text.
        page.get_by_text("What the model is given").click()
        page.get_by_role("button", name="Show full prompt").click()
        prompt = page.locator("#hvs-prompt")
        prompt.get_by_text("<|scene_desc_start|>").first.wait_for(timeout=30_000)
        assert "telling a story" in prompt.inner_text() and "<SE>[Laughter]</SE>" in prompt.inner_text()
        page.screenshot(path=str(output_dir / "studio.png"), full_page=True)

        # My voices: save the clip (consent is saved with it) in this browser, reload, and it is one click away.
        page.get_by_text("Save or manage my voices").click()
        page.locator("#hvs-voice-name input").fill("Test voice")
        page.get_by_role("button", name="Save this clip").click()
        page.locator("#hvs-library-note").get_by_text("Saved Test voice in this browser").wait_for(timeout=30_000)
        page.wait_for_timeout(1_000)  # BrowserState writes localStorage after the event
        page.reload()
        page.wait_for_selector("#hvs-generate", timeout=60_000)
        page.locator("#hvs-text textarea").fill("The saved voice again.")
        _short_takes(page)
        # Two actions from a reloaded page: pick the voice, Generate (consent comes back with it).
        page.locator("#hvs-my-voices").get_by_label("Test voice").check()
        page.wait_for_function("() => document.querySelector('#hvs-consent input').checked", timeout=30_000)
        page.locator("#hvs-generate").click()
        page.locator("#hvs-info").get_by_text("real-time factor").wait_for(timeout=120_000)
        assert "Test voice" in _take_label(page), _take_label(page)
        page.screenshot(path=str(output_dir / "library.png"), full_page=True)

        # Rename and delete say what they did; delete can be undone and clears the name box.
        # What the visitor types into the name box stays, even typed the instant the panel opens: picking the voice
        # above no longer writes the box (a value sent to it while its accordion was closed was applied once the
        # page settled after opening, over what had been typed; before, this read "Test voice").
        assert page.evaluate(_TYPE_AS_IT_OPENS_JS, "Calm voice") == "Calm voice"
        name = page.locator("#hvs-voice-name input")
        assert name.input_value() == "Calm voice"
        page.get_by_role("button", name="Rename").click()
        page.locator("#hvs-library-note").get_by_text("Renamed Test voice to Calm voice").wait_for(timeout=30_000)
        page.get_by_role("button", name="Delete").click()
        page.locator("#hvs-library-note").get_by_text("Deleted Calm voice").wait_for(timeout=30_000)
        assert name.input_value() == "" and page.locator("#hvs-my-voices").is_hidden()
        page.get_by_role("button", name="Undo delete").click()
        page.locator("#hvs-library-note").get_by_text("Restored Calm voice").wait_for(timeout=30_000)
        assert page.locator("#hvs-my-voices").get_by_label("Calm voice").is_checked()


@pytest.mark.parametrize("width", [390, 1280])
def test_clone_from_an_uploaded_clip_in_four_actions(studio, browser, output_dir, mic_wav, width):
    """Landing -> a cloned take in four actions on a phone and a desktop; no Share button anywhere."""
    url, _ = studio
    with _studio_page(browser, url, output_dir, width=width) as page:
        page.locator("#hvs-clip input[type=file]").set_input_files(str(mic_wav))  # 1. upload
        page.locator("#hvs-consent input").check()  # 2. consent
        page.locator("#hvs-text textarea").fill("A cloned take in four actions.")  # 3. text
        page.locator("#hvs-generate").click()  # 4. generate (tiny-random starts with short takes)
        page.locator("#hvs-info").get_by_text("real-time factor").wait_for(timeout=120_000)
        assert "your clip" in _take_label(page) and _earlier_labels(page) == []
        # The reference keeps download only: Share would publish the visitor's voice.
        assert page.locator("#hvs-clip [aria-label='Download']").count() == 1
        assert page.locator("button[aria-label='Share'], [title='Share']").count() == 0
        # The offline transcription model was given up on quickly, and said once.
        assert page.locator("#hvs-info").inner_text().count("transcription model") == 1
        page.screenshot(path=str(output_dir / f"cloned-{width}.png"), full_page=True)


def test_stop_silences_the_player_keeps_the_part_and_frees_the_model(studio, browser, output_dir):
    """Stop: the live player goes quiet at once (it played on for 3 s of its buffer before), the part made so
    far is kept as the take in the one take player, labelled "stopped at", and the next take starts."""
    url, _ = studio
    from tests.studio_server import healthz

    with _studio_page(browser, url, output_dir) as page:
        page.locator("#hvs-text textarea").fill("A long take that will be stopped.")
        page.get_by_text("Advanced").click()
        _set_slider(page, "number input for Max length", 2000)  # ~80 s of audio: far longer than the test
        page.locator("#hvs-generate").click()
        generate, stop = page.locator("#hvs-generate"), page.locator("#hvs-stop")
        page.locator("#hvs-status").get_by_text("s of audio so far").wait_for(timeout=60_000)
        assert generate.is_disabled() and "Generating" in generate.inner_text() and stop.is_visible()
        # the live player is playing what streamed in; it is the one take player on screen
        page.wait_for_function("() => { const a = document.querySelector('#hvs-live audio');"
                               " return a && !a.paused && a.currentTime > 0.3; }", timeout=60_000)
        assert page.locator("#hvs-output").is_hidden()
        page.screenshot(path=str(output_dir / "busy.png"), full_page=True)
        stop.click()
        page.wait_for_timeout(300)
        before = page.evaluate(_PLAYER_JS)
        page.wait_for_timeout(1_500)
        after = page.evaluate(_PLAYER_JS)
        assert all(a["silent"] for a in before + after), (before, after)
        assert all(a["time"] - b["time"] < 0.2 for a, b in zip(after, before, strict=False)), (before, after)
        status = page.locator("#hvs-status")
        status.get_by_text("Stopped at").wait_for(timeout=30_000)
        page.wait_for_function("() => !document.querySelector('#hvs-generate').disabled", timeout=10_000)
        assert healthz(url)["busy"] is False and stop.is_hidden()
        # the part is kept: in the take player, in place of the silenced live one, labelled with where it stopped
        assert "kept" in _status(page)
        page.locator("#hvs-output").wait_for(state="visible", timeout=10_000)
        assert page.locator("#hvs-live").is_hidden()
        href = page.locator("#hvs-output a[download]").first.get_attribute("href", timeout=10_000)
        assert href and href.endswith(".wav"), href
        assert "stopped at" in _take_label(page) and _earlier_labels(page) == []
        _set_slider(page, "number input for Max length", 40)
        page.locator("#hvs-generate").click()
        page.locator("#hvs-info").get_by_text("real-time factor").wait_for(timeout=60_000)
        assert "Stopped" not in _status(page) and "stopped at" not in _take_label(page)
        labels = _earlier_labels(page)  # the part moved down to the earlier takes
        assert len(labels) == 1 and "stopped at" in labels[0], labels
        # the next take's live player is not left muted
        assert page.evaluate("() => !document.querySelector('#hvs-live audio')?.muted")


_PLAYER_JS = """() => [...document.querySelectorAll('#hvs-live audio')].map(a => ({
  silent: a.paused || a.muted || a.volume === 0, time: a.currentTime}))"""


def test_errors_are_plain_and_clear_on_the_next_action(studio, browser, output_dir, mic_wav):
    url, _ = studio
    with _studio_page(browser, url, output_dir) as page:
        page.locator("#hvs-generate").click()  # no text
        status = page.locator("#hvs-status")
        status.get_by_text("⚠️").wait_for(timeout=30_000)
        assert "text" in _status(page).lower() and "Invalid request" not in _status(page), _status(page)
        assert _visible_error_badges(page) == 0
        # Transcribe without a clip: the message is in the status line, the transcript box stays usable.
        page.get_by_role("button", name="Transcribe").click()
        status.get_by_text("Record or upload a clip first").wait_for(timeout=30_000)
        assert _visible_error_badges(page) == 0
        page.locator("#hvs-clip-text textarea").fill("typed by hand")
        # The next action clears the message.
        page.locator("#hvs-text textarea").fill("Now it works.")
        _short_takes(page)
        page.locator("#hvs-generate").click()
        page.locator("#hvs-info").get_by_text("real-time factor").wait_for(timeout=120_000)
        assert "⚠️" not in _status(page) and _visible_error_badges(page) == 0


_OVERLAPS_JS = """() => {
  const shown = [...document.querySelectorAll('button, input, textarea, select')].filter(e => {
    const r = e.getBoundingClientRect();
    return e.offsetParent !== null && r.width > 1 && r.height > 1 && getComputedStyle(e).visibility !== 'hidden';
  });
  const name = e => (e.getAttribute('aria-label') || e.innerText || e.value || e.type || e.tagName).slice(0, 30);
  const found = [];
  for (let i = 0; i < shown.length; i++) for (let j = i + 1; j < shown.length; j++) {
    const a = shown[i], b = shown[j];
    if (a.contains(b) || b.contains(a)) continue;
    const p = a.getBoundingClientRect(), q = b.getBoundingClientRect();
    const w = Math.min(p.right, q.right) - Math.max(p.left, q.left);
    const h = Math.min(p.bottom, q.bottom) - Math.max(p.top, q.top);
    if (w > 2 && h > 2) found.push(`${name(a)} / ${name(b)}`);
  }
  return {found, overflow: document.documentElement.scrollWidth - window.innerWidth};
}"""


def _assert_no_overlaps(page, where: str) -> None:
    result = page.evaluate(_OVERLAPS_JS)
    assert not result["found"], f"{where}: overlapping controls {result['found'][:10]}"
    assert result["overflow"] <= 1, f"{where}: the page is {result['overflow']} px wider than the screen"


def test_every_section_fits_a_phone(studio, browser, output_dir):
    """390 px wide: no control overlaps another, nothing runs off the side. Screenshots for a person to check."""
    url, _ = studio
    with _studio_page(browser, url, output_dir, width=390) as page:
        _assert_no_overlaps(page, "landing")
        tags = page.locator(".hvs-tags button")
        assert tags.count() == 11
        page.screenshot(path=str(output_dir / "phone-landing.png"), full_page=True)
        for section in ("Save or manage my voices", "Advanced", "What the model is given"):
            page.get_by_text(section).click()
        page.get_by_label("Describe a voice").check()
        page.locator("#hvs-voice-note").get_by_text("The voice you describe speaks").wait_for(timeout=10_000)
        _assert_no_overlaps(page, "sections open, described voice")
        page.screenshot(path=str(output_dir / "phone-open.png"), full_page=True)
        page.get_by_label("Preset voice").first.check()
        page.locator("#hvs-voice-note").get_by_text("A preset voice speaks").wait_for(timeout=10_000)
        _assert_no_overlaps(page, "preset voice")
        page.screenshot(path=str(output_dir / "phone-preset.png"), full_page=True)
        # At desktop width every tag stays on one line.
        page.set_viewport_size({"width": 1280, "height": 900})
        heights = [box["height"] for box in (tags.nth(i).bounding_box() for i in range(tags.count()))]
        assert max(heights) < 1.5 * min(heights), heights
        _assert_no_overlaps(page, "desktop")
        page.screenshot(path=str(output_dir / "desktop-open.png"), full_page=True)


def test_preset_described_and_smart_voices_fill_the_history(studio, browser, output_dir):
    url, _ = studio
    with _studio_page(browser, url, output_dir) as page:
        page.locator("#hvs-text textarea").fill("Three voices, one sentence.")
        _short_takes(page)
        page.get_by_label("Preset voice").first.check()  # a shipped voice: no consent needed
        _generate(page, 0)
        page.get_by_label("Describe a voice").check()
        page.get_by_text("Tone and scene").click()
        page.get_by_label("outdoor").check()
        _generate(page, 1)
        page.get_by_label("Smart voice").check()
        _generate(page, 2)
        labels = _earlier_labels(page)  # the latest take is in the take player; the two before it below
        assert "Smart voice" in _take_label(page), _take_label(page)
        assert len(labels) == 2 and "described" in labels[0] and "synthetic" in labels[1].lower(), labels
        page.get_by_text("What the model is given").click()
        prompt = page.locator("#hvs-prompt").inner_text()
        assert "outdoors" in prompt and "The speaker's voice" not in prompt  # smart voice: setting, no description
        page.screenshot(path=str(output_dir / "history.png"), full_page=True)


# ---- Edit this take (ui/edit_take.py): the page door of a take's recipe -------------------------------------
PARTS_TEXT = "The first sentence. The second one, a little longer! And the third?"  # one part per sentence


def _take_files(page, where: str = "#hvs-edit-files") -> dict[str, bytes]:
    """The panel's downloads by suffix (.wav, .vtt, .srt, .json), fetched as the visitor's browser would."""
    links = page.locator(f"{where} a[href]")
    files = {}
    for href in links.evaluate_all("links => links.map(a => a.href)"):
        suffix = href.rsplit(".", 1)[-1]
        files[suffix] = page.request.get(href).body()
    return files


def _samples(wav: bytes):
    import io

    import soundfile
    return soundfile.read(io.BytesIO(wav), dtype="int16")[0].tobytes()


def _edited(page, words: str) -> None:
    page.locator("#hvs-edit-status").get_by_text(words).wait_for(timeout=120_000)


@pytest.mark.parametrize("width", [390, 1400])
def test_edit_a_take_part_by_part_and_from_its_recipe(studio, browser, output_dir, tmp_path, width):
    """A 3-part take: part 2 made again, variant 1 chosen back gives the first take's samples exactly; its
    recipe downloaded, the page reloaded, the recipe loaded back renders the same take and edits on. Each
    row's buttons are whole and tappable at the width."""
    url, _ = studio
    with _studio_page(browser, url, output_dir, width=width) as page:
        _short_takes(page)
        _set_slider(page, "number input for Max length", 12)  # ~0.5 s a part
        page.locator("#hvs-text textarea").fill(PARTS_TEXT)
        page.locator("#hvs-by-sentence input").check()
        page.locator("#hvs-generate").click()
        page.locator("#hvs-edit-part-2").wait_for(timeout=180_000)
        page.locator("#hvs-edit-files a[href$='.json']").wait_for()
        first = _take_files(page)
        assert {"wav", "vtt", "srt", "json"} <= set(first), first.keys()
        parts = json.loads(first["json"])["parts"]
        assert [p["variants"][0]["text"] for p in parts] == [
            "The first sentence.", "The second one, a little longer!", "And the third?"]
        for button in page.locator("#hvs-edit-part-1 .hvs-edit-actions button:visible").all():
            box = button.bounding_box()
            assert box["height"] >= 24 and box["width"] >= 24, box
            assert button.evaluate("b => b.scrollWidth <= b.clientWidth + 1"), button.inner_text()
        # One edit at a time: Try again on part 2 holds part 1's edits (greyed out) until it is done; the rows
        # drawn anew after it come enabled.
        held = page.evaluate("""() => new Promise((done) => {
            const again = (n) => document.querySelector(`#hvs-edit-part-${n} .hvs-edit-again`);
            again(1).click();
            setTimeout(() => done(again(0).disabled), 0);
        })""")
        assert held, "another part's Try again stayed open while an edit ran"
        _edited(page, "Part 2: a new variant")
        from playwright.sync_api import expect
        expect(page.locator("#hvs-edit-part-0 .hvs-edit-again")).to_be_enabled()
        again = _take_files(page)
        assert _samples(again["wav"]) != _samples(first["wav"])
        assert len(json.loads(again["json"])["parts"][1]["variants"]) == 2
        page.locator("#hvs-edit-part-1").get_by_label("1", exact=True).check()
        _edited(page, "variant 1 kept")
        back = _take_files(page)
        assert _samples(back["wav"]) == _samples(first["wav"])
        page.locator("#hvs-edit").screenshot(path=str(output_dir / f"edit-{width}.png"))

        recipe = tmp_path / f"take-{width}.json"
        recipe.write_bytes(back["json"])
        page.reload()
        page.wait_for_selector("#hvs-generate", timeout=60_000)
        with page.expect_file_chooser() as chooser:
            page.locator("#hvs-edit-load").click()
        chooser.value.set_files(str(recipe))
        _edited(page, "Recipe loaded: 3 parts")
        assert _samples(_take_files(page)["wav"]) == _samples(first["wav"])
        page.locator("#hvs-edit-part-0").get_by_role("button", name="Try again").click()
        _edited(page, "Part 1: a new variant")
        assert _samples(_take_files(page)["wav"]) != _samples(first["wav"])
        _edit_a_dialogue(page)


def _edit_a_dialogue(page) -> None:
    """The Dialogue tab's panel: a turn made again, a pause set, a turn removed, a turn added."""
    page.get_by_role("tab", name="Dialogue").click()
    page.locator("#hvs-dlg-script textarea").fill("Alice: Hello there Bob.\nBob: Hi Alice.\nAlice: Fine, thanks.")
    page.get_by_text("Dialogue options").click()
    _set_slider(page, "number input for Max length per turn", 12)
    page.locator("#hvs-dlg-generate").click()
    row = "#hvs-dlg-edit-part-{}".format
    page.locator(row(2)).wait_for(timeout=180_000)
    _dialogue_edit(page, lambda: page.locator(row(1)).get_by_role("button", name="Try again").click(),
                   "Part 2: a new variant")
    page.locator(row(1)).get_by_text("More: pause, remove, add").click()
    page.locator(row(1)).get_by_label("Pause before it (s)").fill("1.5")
    _dialogue_edit(page, lambda: page.locator(row(1)).get_by_role("button", name="Set the pause").click(),
                   "The pause before part 2 is now 1.5 s")
    assert json.loads(_take_files(page, "#hvs-dlg-edit-files")["json"])["parts"][1]["pause_before_s"] == 1.5
    page.locator(row(2)).get_by_text("More: pause, remove, add").click()
    _dialogue_edit(page, lambda: page.locator(row(2)).get_by_role("button", name="Remove this part").click(),
                   "Part 3 removed")
    assert page.locator(row(2)).count() == 0
    page.locator(row(0)).get_by_text("More: pause, remove, add").click()
    page.locator(row(0)).get_by_label("A new part after this one: its words").fill("Wait, what?")
    _dialogue_edit(page, lambda: page.locator(row(0)).get_by_role("button", name="Add the part").click(),
                   "A new part after part 1")
    assert page.locator(row(1)).locator(".hvs-edit-words textarea").input_value() == "Wait, what?"


def _dialogue_edit(page, act, words: str) -> None:
    """One edit, done when its sentence shows and the rows show the new recipe: each part's times and its
    variants (the rows are drawn again after the sentence comes)."""
    from playwright.sync_api import expect

    act()
    page.locator("#hvs-dlg-edit-status").get_by_text(words).wait_for(timeout=120_000)
    parts = json.loads(_take_files(page, "#hvs-dlg-edit-files")["json"])["parts"]
    for index, part in enumerate(parts):
        row = page.locator(f"#hvs-dlg-edit-part-{index}")
        expect(row).to_contain_text(f"Part {index + 1} · {part['speaker']} · {part['start_s']:.1f}-{part['end_s']:.1f} s")
        expect(row.locator(".hvs-edit-variants")).to_have_count(1 if len(part["variants"]) > 1 else 0)
    expect(page.locator(f"#hvs-dlg-edit-part-{len(parts)}")).to_have_count(0)
