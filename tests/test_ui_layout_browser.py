"""The page's layout and accessibility in a real browser (issue 20): no Share button on any reference clip,
a phone-first Voice tab, the consent reminder beside its box, no clipped label, 24 px tap targets, every style
rule matching the page, the keyboard path, focus during a take, and an axe-core scan of every tab. The layout
checks run at phone and desktop width (one page resized), in light and dark mode (`?__theme=dark`)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from tests.test_ui_browser import _set_slider, _studio_page, browser, mic_wav, studio  # noqa: F401 - fixtures
from ui.style import CSS

pytestmark = pytest.mark.browser

PHONE, DESKTOP = (390, 844), (1400, 1000)
TABS = ("Voice", "Dialogue", "Check a clip")
THEMES = ("light", "dark")


def _themed(url: str, theme: str) -> str:
    return url + ("/?__theme=dark" if theme == "dark" else "/")


def _open(page, size: tuple[int, int]) -> None:
    page.set_viewport_size({"width": size[0], "height": size[1]})


def _top(page, selector: str) -> float:
    """The element's top in page coordinates."""
    return page.evaluate(f"() => {{ const r = document.querySelector({selector!r}).getBoundingClientRect();"
                         " return r.top + window.scrollY; }")


def _upload(page, box: str, wav: Path) -> None:
    if page.locator(f"{box} input[type=file]").count() == 0:  # a box that starts on the microphone
        page.locator(f"{box} button[aria-label*='pload']").first.click()
    page.locator(f"{box} input[type=file]").set_input_files(str(wav))
    page.locator(f"{box} audio, {box} [data-testid^='waveform-'] button[aria-label='Play']").first.wait_for(
        state="attached", timeout=30_000)


def _pick_dialogue_clip(page) -> None:
    """Dialogue: a one-speaker script, then 'Clone a clip' in that speaker's voice picker."""
    page.get_by_role("tab", name="Dialogue").click()
    page.locator("#hvs-dlg-script textarea").fill("Alice: Hello there.")
    picker = page.locator("#hvs-dlg-voice-0 input")
    picker.wait_for(state="visible", timeout=15_000)
    picker.click()
    page.get_by_role("option", name="Clone a clip (record or upload it below)").click()
    page.locator("#hvs-dlg-clip-0").wait_for(state="visible", timeout=15_000)


@pytest.mark.parametrize("theme", THEMES)
def test_no_share_button_on_any_clip_box(studio, browser, output_dir, mic_wav, theme):  # noqa: F811
    """Every input clip (Voice, a Dialogue speaker, Check a clip) gets Download only: Share would publish it."""
    url, _ = studio
    with _studio_page(browser, _themed(url, theme), output_dir, width=DESKTOP[0]) as page:
        _upload(page, "#hvs-clip", mic_wav)
        _pick_dialogue_clip(page)
        _upload(page, "#hvs-dlg-clip-0", mic_wav)
        page.get_by_role("tab", name="Check a clip").click()
        _upload(page, "#hvs-check-clip", mic_wav)
        for size in (DESKTOP, PHONE):
            _open(page, size)
            for tab, box in zip(TABS, ("#hvs-clip", "#hvs-dlg-clip-0", "#hvs-check-clip"), strict=True):
                page.get_by_role("tab", name=tab).click()
                page.wait_for_timeout(300)
                assert page.locator(f"{box} [aria-label='Download']:visible").count() == 1, (size, tab)
                assert page.locator("button[aria-label='Share']:visible, [title='Share']:visible").count() == 0, tab
        # the old Share buttons would sit in the DOM of hidden tabs too
        assert page.locator("button[aria-label='Share'], [title='Share']").count() == 0


@pytest.mark.parametrize("theme", THEMES)
def test_phone_first_voice_tab(studio, browser, output_dir, theme):  # noqa: F811
    """At 390x844 the clip, consent and text start within 1.5 screens and Generate sits on the screen (a sticky
    bar) once the text is in view; at 1400x1000 all four are above the fold. Tags come after the text, in one
    row; tone is folded away; every chip and clip-box button is a 24 px target at least."""
    url, _ = studio
    with _studio_page(browser, _themed(url, theme), output_dir, width=PHONE[0]) as page:
        assert page.evaluate("() => document.body.classList.contains('dark')") == (theme == "dark")
        for part in ("#hvs-clip", "#hvs-consent", "#hvs-text"):
            assert _top(page, part) < 1.5 * PHONE[1], (part, _top(page, part))
        page.locator("#hvs-text textarea").scroll_into_view_if_needed()
        box = page.locator("#hvs-generate").bounding_box()
        assert box and box["y"] + box["height"] <= PHONE[1], box
        assert _top(page, "#hvs-tags") > _top(page, "#hvs-text")
        chips = page.locator("#hvs-tags button")
        tops = {round(chips.nth(i).bounding_box()["y"]) for i in range(chips.count())}
        assert len(tops) == 1, f"the chips wrap onto {len(tops)} lines"
        assert page.locator("#hvs-tone").get_by_label("storytelling").is_hidden()  # folded until opened
        small = page.evaluate("""() => [...document.querySelectorAll('#hvs-tags button, #hvs-clip button')]
          .filter(e => e.offsetParent !== null)
          .map(e => [e.getAttribute('aria-label') || e.innerText, e.getBoundingClientRect()])
          .filter(([, r]) => r.width < 24 || r.height < 24).map(([n, r]) => `${n} ${r.width}x${r.height}`)""")
        assert not small, f"tap targets under 24 px: {small}"
        page.screenshot(path=str(output_dir / f"phone-{theme}.png"))
        _open(page, DESKTOP)
        page.evaluate("() => window.scrollTo(0, 0)")
        for part in ("#hvs-clip", "#hvs-consent", "#hvs-text", "#hvs-generate"):
            bottom = page.evaluate(f"() => document.querySelector({part!r}).getBoundingClientRect().bottom")
            assert bottom <= DESKTOP[1], (part, bottom)


def test_keyboard_path_and_focus_during_a_take(studio, browser, output_dir, mic_wav):  # noqa: F811
    """A radio group is one Tab stop walked with arrows; the text comes before the tag chips; during a take focus
    stays on Stop, then moves to the result; the status line is announced (aria-live)."""
    url, _ = studio
    with _studio_page(browser, url, output_dir, width=PHONE[0]) as page:
        page.wait_for_function("() => document.querySelector('#hvs-status').getAttribute('aria-live') === 'polite'",
                               timeout=10_000)
        # one Tab stop for the three voice modes; the arrow key moves the choice
        page.locator("#hvs-mode input").first.focus()
        page.keyboard.press("ArrowRight")
        page.locator("#hvs-voice-note").get_by_text("The voice you describe").wait_for(timeout=10_000)
        page.wait_for_timeout(300)
        page.keyboard.press("Tab")
        active = page.evaluate("() => document.activeElement.outerHTML.slice(0, 120)")
        assert page.evaluate("() => !document.activeElement.closest('#hvs-mode')"), f"each radio is a Tab stop: {active}"
        page.locator("#hvs-mode input").first.check()
        # text first, then the chips: Tab from the text box lands on the first chip
        page.locator("#hvs-text textarea").focus()
        page.keyboard.press("Tab")
        assert page.evaluate("() => document.activeElement.innerText") == "[laugh]"
        # the whole Voice tab: Generate within a bounded number of Tab presses from the page's start
        page.evaluate("() => document.activeElement.blur()")
        presses = 0
        while presses < 40 and not page.evaluate("() => document.activeElement.id === 'hvs-generate'"):  # bounded
            page.keyboard.press("Tab")
            presses += 1
        assert presses <= 24, f"Generate takes {presses} Tab presses"

        _upload(page, "#hvs-clip", mic_wav)
        page.locator("#hvs-text textarea").fill("Focus on Stop.")
        page.locator("#hvs-consent input").check()
        page.locator("#hvs-generate").click()
        page.wait_for_function("() => document.activeElement?.id === 'hvs-stop'", timeout=30_000)
        page.locator("#hvs-info").get_by_text("real-time factor").wait_for(timeout=120_000)
        # (on the live player while it plays the take on, then on the finished take that replaces it)
        page.wait_for_function("() => !!document.activeElement?.closest('#hvs-output')", timeout=30_000)


@pytest.mark.parametrize("theme", THEMES)
@pytest.mark.parametrize("size", [PHONE, DESKTOP], ids=["390", "1400"])
def test_consent_reminder_beside_the_box(studio, browser, output_dir, mic_wav, theme, size):  # noqa: F811
    """The consent refusal shows right under the box, highlighted and on screen (it was 1,422 px away)."""
    url, _ = studio
    with _studio_page(browser, _themed(url, theme), output_dir, width=size[0]) as page:
        _open(page, size)
        _upload(page, "#hvs-clip", mic_wav)
        page.locator("#hvs-text textarea").fill("Consent first.")
        page.evaluate("() => window.scrollTo(0, document.body.scrollHeight)")
        page.locator("#hvs-generate").click()
        note = page.locator("#hvs-consent-note")
        note.get_by_text("right to use").wait_for(timeout=30_000)
        page.wait_for_timeout(800)  # the smooth scroll
        gap = _top(page, "#hvs-consent-note") - _top(page, "#hvs-consent")
        assert 0 < gap < 150, gap
        assert "hvs-attention" in page.locator("#hvs-consent").get_attribute("class")
        consent = page.locator("#hvs-consent").bounding_box()
        assert consent["y"] >= 0 and consent["y"] + consent["height"] <= size[1], consent
        # the reminder is readable in either theme: its colour is not the page's background
        colours = page.evaluate("""() => { const n = getComputedStyle(document.querySelector('#hvs-consent-note'));
          return [n.color, getComputedStyle(document.body).backgroundColor]; }""")
        assert colours[0] != colours[1], colours
        page.locator("#hvs-consent input").check()
        page.wait_for_function("() => !document.querySelector('#hvs-consent-note').innerText.trim()", timeout=5_000)


# Every visible text that its box cuts off (overflow hidden or an ellipsis), every dropdown whose text runs under its
# arrow, and every tap target (button, link outside a sentence, tab, a checkbox's or radio's label) under 24 px.
_CLIPPED_AND_SMALL_JS = (Path(__file__).parent / "layout_checks.js").read_text()


def _takes_for_every_player(page) -> None:
    """Two short takes (one moves down to the earlier takes) and a two-turn dialogue with its subtitles."""
    page.get_by_text("Advanced").click()
    _set_slider(page, "number input for Max length", 40)
    for before, text in enumerate(("A first take, moved down by the next.",
                                   "A second take, its text long enough to wrap its label.")):
        page.locator("#hvs-text textarea").fill(text)
        page.locator("#hvs-generate").click()
        page.wait_for_function(  # the take before has moved down (and its timing line gone) once this one begins
            f"() => document.querySelectorAll('.hvs-history:not(.hidden)').length >= {before}", timeout=30_000)
        page.locator("#hvs-info").get_by_text("real-time factor").wait_for(timeout=120_000)
    page.get_by_role("tab", name="Dialogue").click()
    page.locator("#hvs-dlg-script textarea").fill(
        "Alice: Hello there, this first turn is long enough to fill the turn picker and more.\nBob: Hi Alice.")
    page.locator("#hvs-dlg-found").get_by_text("Bob (SPEAKER1)").wait_for(timeout=30_000)
    page.get_by_text("Dialogue options").click()
    _set_slider(page, "number input for Max length per turn", 20)
    page.locator("#hvs-dlg-generate").click()
    page.locator("#hvs-dlg-progress").get_by_text("real-time factor").wait_for(timeout=120_000)
    page.locator("#hvs-dlg-subtitles a[download]").first.wait_for(timeout=10_000)


def _style_selectors() -> list[str]:
    """Each selector of ui/style.py's rules (inside @media too), one by one."""
    css = re.sub(r"/\*.*?\*/", "", CSS, flags=re.S)
    css = re.sub(r"@media[^{]*\{", "", css)
    return [sel.strip() for rule in re.findall(r"([^{}]+)\{[^{}]*\}", css) for sel in rule.split(",") if sel.strip()]


# Rules for a passing state, each brought about where it is tested: the consent reminder's highlight
# (test_consent_reminder_beside_the_box asserts the class) and the counter over the limit (typed below).
_STATES = {".hvs-attention"}


@pytest.mark.parametrize("theme", THEMES)
def test_no_clipped_label_no_small_target_and_every_style_rule_used(studio, browser, output_dir, theme):  # noqa: F811
    """At 390 and 1400 px, on every tab, with a take, an earlier take and a dialogue on the page: no label cut off
    (history labels, "Play one turn", subtitle names), no target under 24 px; and each selector in ui/style.py
    matches something on the page (they were written without checking Gradio 6.31's real DOM)."""
    url, _ = studio
    with _studio_page(browser, _themed(url, theme), output_dir, width=DESKTOP[0]) as page:
        _takes_for_every_player(page)
        found = []
        for size in (PHONE, DESKTOP):
            _open(page, size)
            for tab in TABS:
                page.get_by_role("tab", name=tab).click()
                page.wait_for_timeout(300)
                result = page.evaluate(_CLIPPED_AND_SMALL_JS)
                found += [f"{size[0]}px {tab}: clipped {item}" for item in result["clipped"]]
                found += [f"{size[0]}px {tab}: small target {item}" for item in result["small"]]
            page.get_by_role("tab", name="Voice").click()
            page.screenshot(path=str(output_dir / f"{theme}-{size[0]}.png"), full_page=True)
        assert not found, "\n".join(found)

        page.locator("#hvs-text textarea").fill("x" * 2001)  # the counter's over-the-limit state
        page.locator("#hvs-counter .over").wait_for(timeout=10_000)
        unused = [sel for sel in _style_selectors() if sel not in _STATES and page.evaluate(
            "(sel) => document.querySelectorAll(sel).length", _as_query(sel, theme)) == 0]
        assert not unused, f"style rules that match nothing on the page: {unused}"


def _as_query(selector: str, theme: str) -> str:
    """A selector as querySelectorAll takes it: without the pseudo-classes of a moment (focus, empty), and in
    light mode without the dark theme's `.dark` (it is then checked in the dark run)."""
    query = re.sub(r":(focus-visible|empty|hover)", "", selector)
    return re.sub(r"^\.dark ", "", query) if theme == "light" else query


# Gradio 6.31's empty audio player and file box render <div class="empty ..." aria-label="Empty value"> without a
# role; no CSS reaches it and it says nothing to a screen reader either way: only that rule on that node is left out.
def _gradio_own(rule: str, html: str) -> bool:
    return rule == "aria-prohibited-attr" and html.startswith("<div ") and 'class="empty ' in html \
        and 'aria-label="Empty value"' in html


def _axe_script() -> str:
    axe = pytest.importorskip("axe_playwright_python")
    return (Path(axe.__file__).parent / "axe.min.js").read_text()  # shipped in the wheel: nothing downloaded


@pytest.mark.parametrize("theme", ["light", "dark"])
def test_axe_finds_nothing_serious_on_any_tab(studio, browser, output_dir, theme):  # noqa: F811
    url, _ = studio
    script = _axe_script()
    found = []
    with _studio_page(browser, url + ("/?__theme=dark" if theme == "dark" else "/"), output_dir,
                      width=PHONE[0]) as page:
        page.evaluate(script)
        for size in (PHONE, DESKTOP):
            _open(page, size)
            for tab in TABS:
                page.get_by_role("tab", name=tab).click()
                page.wait_for_timeout(300)
                violations = page.evaluate(
                    "async () => (await axe.run(document, {resultTypes: ['violations']})).violations"
                    ".filter(v => ['serious', 'critical'].includes(v.impact))"
                    ".map(v => ({id: v.id, nodes: v.nodes.map(n => [n.target.join(' '), n.html])}))")
                found += [f"{size[0]}px {tab}: {v['id']} on {target} {html[:80]}" for v in violations
                          for target, html in v["nodes"] if not _gradio_own(v["id"], html)]
            page.screenshot(path=str(output_dir / f"{theme}-{size[0]}.png"), full_page=True)
    assert not found, "\n".join(found)
