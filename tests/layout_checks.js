() => {
  // shown to a person: laid out, more than a hairline (Gradio keeps a 1 px copy of the tab bar to measure it)
  const shown = (e) => { const r = e.getBoundingClientRect(); return e.offsetParent !== null && r.width > 2
    && r.height > 2 && getComputedStyle(e).visibility !== 'hidden'; };
  const name = (e) => ((e.getAttribute('aria-label') || e.innerText || e.value || '').trim().slice(0, 30) || e.tagName)
    + (e.closest('[id]') ? ' in #' + e.closest('[id]').id : '');
  const clipped = [], small = [];
  for (const e of document.querySelectorAll('.gradio-container *')) {
    if (!shown(e) || ['TEXTAREA', 'svg', 'path', 'CODE', 'PRE'].includes(e.tagName) || e.closest('.cm-editor, pre')) continue;
    const own = [...e.childNodes].some((n) => n.nodeType === 3 && n.textContent.trim());
    const style = getComputedStyle(e);
    const clips = ['hidden', 'clip'].includes(style.overflowX) || style.textOverflow === 'ellipsis';
    if (own && clips && e.scrollWidth > e.clientWidth + 1) clipped.push(`${name(e)} ${e.scrollWidth}>${e.clientWidth}`);
  }
  // a dropdown's chosen text stops before its arrow
  for (const input of document.querySelectorAll('.gradio-container .wrap-inner input')) {
    const arrow = input.closest('.wrap-inner').querySelector('.icon-wrap');
    if (!shown(input) || !arrow || !shown(arrow)) continue;
    const end = input.getBoundingClientRect().right - parseFloat(getComputedStyle(input).paddingRight);
    if (end > arrow.getBoundingClientRect().left + 1) clipped.push(`${name(input)}: its text runs under the arrow`);
  }
  const targets = document.querySelectorAll('.gradio-container button, .gradio-container a[href], '
    + '.gradio-container [role=tab], .gradio-container input[type=checkbox], .gradio-container input[type=radio]');
  for (const t of targets) {
    if (t.matches('a') && t.closest('p, li')) continue;  // a link inside a sentence (WCAG 2.5.8's inline exception)
    const box = t.matches('input') ? (t.closest('label') || t) : t;
    if (!shown(box)) continue;
    const r = box.getBoundingClientRect();
    if (r.width < 24 || r.height < 24) small.push(`${name(box)} ${Math.round(r.width)}x${Math.round(r.height)}`);
  }
  return {clipped, small};
}
