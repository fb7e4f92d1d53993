"""Scripts that run in the visitor's browser: tag chips, the character counter, and the page script run
once at load (accessibility attributes, one Tab stop per radio group, the consent reminder beside its box,
focus kept on Stop during a take and then moved to the result, one player per take on screen). Client side
only: no callback changes."""

from __future__ import annotations

import json

from inference.contract.request import MAX_TEXT_CHARS


def insert_tag_js(tag: str) -> str:
    """Insert a tag at the text box's cursor (client side only), then put the cursor after it."""
    return f"""(text) => {{
      const tag = {json.dumps(tag)};
      const ta = document.querySelector('#hvs-text textarea');
      const value = text || '';
      const s = ta ? ta.selectionStart : value.length, e = ta ? ta.selectionEnd : value.length;
      const before = value.slice(0, s), after = value.slice(e);
      const left = before && !/\\s$/.test(before) ? ' ' : '';
      const right = after && !/^\\s/.test(after) ? ' ' : '';
      const pos = (before + left + tag + right).length;
      if (ta) setTimeout(() => {{ ta.focus(); ta.setSelectionRange(pos, pos); }}, 60);
      return before + left + tag + right + after;
    }}"""


COUNTER_JS = f"""(text) => {{
  const n = [...(text || '')].length, limit = {MAX_TEXT_CHARS};  // characters as Python counts them, not UTF-16 units
  return n > limit ? `<span class="over">${{n}} / ${{limit}} characters: too long</span>` : `${{n}} / ${{limit}} characters`;
}}"""

# Each tab's status line, its consent box (and the note under it), its Stop button, its live player and its result.
_TABS = [
    {"status": "#hvs-status", "consent": "#hvs-consent", "stop": "#hvs-stop", "live": "#hvs-live",
     "result": "#hvs-output"},
    {"status": "#hvs-dlg-progress", "consent": "#hvs-dlg-consent", "stop": "#hvs-dlg-stop", "live": "#hvs-dlg-live",
     "result": "#hvs-dlg-output"},
    {"status": "#hvs-check-result"},
]

PAGE_JS = """() => {
  const tabs = __TABS__;
  const $ = (s) => document.querySelector(s);
  const shown = (e) => !!e && e.offsetParent !== null;
  const dropped = () => !document.activeElement || document.activeElement === document.body;
  const stopWasShown = {};
  const tick = () => {
    // Gradio names every radio input apart, so each one is a Tab stop: one name per group makes a group one
    // stop, walked with the arrow keys.
    document.querySelectorAll('.gradio-container .block').forEach((block, i) => {
      const radios = block.querySelectorAll(':scope input[type=radio]');
      if (radios.length && !block.querySelector(':scope .block input[type=radio]'))
        radios.forEach((r) => { if (r.name !== 'hvs-group-' + i) r.name = 'hvs-group-' + i; });
    });
    for (const t of tabs) {
      const status = $(t.status);
      if (t.live && $(t.live) && $(t.result)) {
        // one player per take on screen: the live one while the take streams and is heard (the stream's own
        // end, a pause or Stop), then the finished take in its place, labelled, with its download
        const live = $(t.live), result = $(t.result);
        const heard = [...live.querySelectorAll('audio')].some((a) => !a.paused && !a.ended && !a.muted);
        const done = !!result.querySelector('a[download]');
        const swap = done && !heard && !live.classList.contains('hvs-off');
        live.classList.toggle('hvs-off', done && !heard);
        result.classList.toggle('hvs-off', !done || heard);
        if (swap && live.contains(document.activeElement)) { result.setAttribute('tabindex', '-1'); result.focus(); }
      }
      if (status && !status.hasAttribute('aria-live')) { status.setAttribute('role', 'status'); status.setAttribute('aria-live', 'polite'); }
      if (t.consent) {
        // the consent refusal, wherever the server says it, is shown beside the box, which is scrolled into view
        const box = $(t.consent), note = $(t.consent + '-note .prose') || $(t.consent + '-note');
        const said = status && /right to use/i.test(status.innerText) ? status.innerText.trim() : '';
        const ticked = box && box.querySelector('input') && box.querySelector('input').checked;
        if (box && note && said && !ticked && note.dataset.said !== said) {
          note.dataset.said = said; note.textContent = said; note.setAttribute('role', 'alert');
          box.classList.add('hvs-attention');
          box.scrollIntoView({block: 'center', behavior: 'smooth'});
          box.querySelector('input') && box.querySelector('input').focus({preventScroll: true});
        } else if (note && note.dataset.said && (ticked || !said)) {
          note.dataset.said = ''; note.textContent = ''; box && box.classList.remove('hvs-attention');
        }
      }
      if (t.stop) {
        // focus stays on Stop while a take runs, then moves to the result (or the status line after a problem)
        const stop = $(t.stop), now = shown(stop);
        if (now && !stopWasShown[t.stop] && (dropped() || document.activeElement.closest('button'))) stop.focus();
        if (!now && stopWasShown[t.stop] && (dropped() || document.activeElement === stop)) {
          const target = [$(t.result), $(t.live)].find((p) => shown(p) && p.querySelector('audio')) || status;
          if (target) { target.setAttribute('tabindex', '-1'); target.focus(); }
        }
        stopWasShown[t.stop] = now;
      }
    }
  };
  setInterval(tick, 200);
  // One edit at a time in a take's Edit panel (ui/edit_take.py): two edits started together would both begin from
  // the same recipe, and the later one would drop the earlier one's change. An edit's button (or a variant picked)
  // holds the panel's other edits, greyed out, until its status line says the edit is done (✓) or why not (⚠️);
  // rows drawn anew after an edit come enabled.
  const EDITS = '.hvs-edit-do, .hvs-edit-variants input';
  const release = (panel) => {
    panel.querySelectorAll(EDITS).forEach((c) => { c.disabled = false; });
    panel.removeAttribute('aria-busy');
  };
  document.addEventListener('click', (e) => {
    const hit = e.target.closest && e.target.closest('.hvs-edit-do, .hvs-edit-variants label');
    const panel = hit && hit.closest('.hvs-edit');
    if (!panel || panel.getAttribute('aria-busy') === 'true') return;
    const status = panel.querySelector('.hvs-edit-status');
    setTimeout(() => {  // after Gradio's own handler has sent the edit
      panel.querySelectorAll(EDITS).forEach((c) => { c.disabled = true; });
      panel.setAttribute('aria-busy', 'true');
      const watch = new MutationObserver(() => {
        if (/^\\s*[✓⚠]/.test(status.innerText)) { watch.disconnect(); release(panel); }
      });
      watch.observe(status, {childList: true, subtree: true, characterData: true});
      setTimeout(() => { watch.disconnect(); release(panel); }, 180000);  // never held for good
    }, 0);
  }, true);
  // A clip box takes any file: Gradio's audio box refuses a file whose type is not on its list of 14 with its own
  // toast listing them, and the file never reaches the studio, whose check says in a plain sentence what is wrong
  // (ui/clip_events.py; the server reads every clip itself, whatever the page sends). Relabelled as audio here,
  // before Gradio's own listeners, a picked or dropped file goes up and is checked there.
  const CLIP_BOXES = '#hvs-clip, #hvs-check-clip, [id^=hvs-dlg-clip-]';
  const asAudio = (files) => {
    const list = new DataTransfer();
    for (const f of files) list.items.add(f.type.startsWith('audio/') ? f : new File([f], f.name, {type: 'audio/x-unchecked'}));
    return list.files;
  };
  const foreign = (files) => [...(files || [])].some((f) => !f.type.startsWith('audio/'));
  document.addEventListener('change', (e) => {
    const input = e.target;
    if (input.type === 'file' && input.closest(CLIP_BOXES) && foreign(input.files)) input.files = asAudio(input.files);
  }, true);
  document.addEventListener('drop', (e) => {
    const box = e.target.closest && e.target.closest(CLIP_BOXES);
    const input = box && box.querySelector('input[type=file]');
    if (!input || !foreign(e.dataTransfer && e.dataTransfer.files)) return;
    e.preventDefault(); e.stopPropagation();
    input.files = asAudio(e.dataTransfer.files);
    input.dispatchEvent(new Event('change', {bubbles: true}));
  }, true);
}""".replace("__TABS__", json.dumps(_TABS))
