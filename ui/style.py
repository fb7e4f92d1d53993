"""The page's look: its CSS (layout at phone and desktop widths, contrast, focus rings, tap targets).
Layout only: nothing here changes what a control does."""

from __future__ import annotations

# Colours meet WCAG AA: 4.5:1 for text, 3:1 for controls (white on orange-700 is 5.2:1; the theme's
# orange-500 was 2.8:1, its grey helper text #bbbbc2 1.9:1).
CONTRAST = """
.gradio-container {
  --button-primary-background-fill: #c2410c; --button-primary-background-fill-hover: #9a3412;
  --button-primary-text-color: #ffffff; --button-primary-text-color-hover: #ffffff;
  --button-primary-border-color: #c2410c; --button-primary-border-color-hover: #9a3412;
  --color-accent: #c2410c; --checkbox-background-color-selected: #c2410c; --checkbox-border-color-selected: #c2410c;
  --body-text-color-subdued: #52525b; --block-info-text-color: #52525b;
  --hvs-focus: #1d4ed8;
}
.dark .gradio-container {
  --button-primary-background-fill: #c2410c; --button-primary-background-fill-hover: #9a3412;
  --button-primary-border-color: #c2410c; --color-accent: #fb923c;
  --body-text-color-subdued: #a1a1aa; --block-info-text-color: #a1a1aa;
  --hvs-focus: #93c5fd;
}
footer, .show-api, .show-api * { color: var(--body-text-color-subdued) !important; opacity: 1 !important; }
/* a visible focus ring on the small controls the theme leaves without one */
.gradio-container input[type=checkbox]:focus-visible, .gradio-container input[type=radio]:focus-visible,
.gradio-container button:focus-visible, .gradio-container [role=tab]:focus-visible {
  outline: 3px solid var(--hvs-focus) !important; outline-offset: 2px;
}
.hvs-attention { outline: 3px solid #d33 !important; outline-offset: 3px; border-radius: 6px; }
#hvs-consent-note, #hvs-dlg-consent-note { color: #b91c1c; font-weight: 600; }
.dark #hvs-consent-note, .dark #hvs-dlg-consent-note { color: #fca5a5; }
#hvs-consent-note:empty, #hvs-dlg-consent-note:empty { display: none; }
"""

# Tap targets of at least 24 px (WCAG 2.5.8); labels that wrap instead of running under the buttons beside them.
TARGETS = """
.hvs-tags > button { min-height: 28px !important; }
.gradio-container button.label-wrap, .show-api { min-height: 24px !important; }
.gradio-container button[aria-label="Reset to default value"],
.gradio-container .icon-button-wrapper button, .gradio-container .controls button,
.gradio-container [data-testid^=waveform] button, .gradio-container .file-preview button {
  min-width: 24px !important; min-height: 24px !important;
}
.gradio-container label:has(> input[type=checkbox]) { min-height: 24px; align-items: center; }
/* the label of an audio box sits in the flow above the player, not under its Download button */
.hvs-audio [data-testid=block-label], .hvs-history [data-testid=block-label] {
  position: static !important; max-width: calc(100% - 64px); white-space: normal !important;
  overflow-wrap: anywhere; height: auto !important; line-height: 1.3; border: none !important;
}
/* a dropdown's chosen text stops before its arrow (Gradio lets it run under it: "Play one turn", the voice pickers) */
.gradio-container .wrap-inner input { padding-right: 2.2em !important; text-overflow: ellipsis; }
/* subtitle files and the edit panel's downloads: the whole name, wrapped (Gradio cut it to "dialogue-…"), and a
   24 px download link */
#hvs-dlg-subtitles .file-preview td.filename, #hvs-dlg-subtitles .file-preview .stem,
.hvs-edit-files .file-preview td.filename, .hvs-edit-files .file-preview .stem {
  white-space: normal !important; overflow-wrap: anywhere; word-break: break-all; max-width: none !important;
  overflow: visible !important; text-overflow: clip !important;
}
#hvs-dlg-subtitles .file-preview td.filename, .hvs-edit-files .file-preview td.filename {
  display: table-cell !important;  /* the name's end stays with it */
}
.gradio-container .file-preview a.download-link { display: inline-block; min-height: 24px; line-height: 24px; }
@media (max-width: 640px) {  /* on a phone the name takes the row's whole width, the size and buttons go under it */
  #hvs-dlg-subtitles .file-preview tr.file, .hvs-edit-files .file-preview tr.file {
    display: flex; flex-wrap: wrap; align-items: center;
  }
  #hvs-dlg-subtitles .file-preview td.filename, .hvs-edit-files .file-preview td.filename { flex: 1 0 100%; }
}
"""

LAYOUT = """
#hvs-notice { font-size: .9em; }
#hvs-notice p, #hvs-intro p { margin: 0; }
/* the theme loads Source Sans Pro at 400 and 600 only: bold text at 700 would fall back to another font */
.gradio-container strong { font-weight: 600; }
#hvs-counter { text-align: right; font-size: .9em; }
#hvs-counter .over { color: #b91c1c; font-weight: 600; }
/* sound-effect tags: chips after the text; on a phone one row, scrolled sideways */
.hvs-tags { flex-wrap: wrap !important; gap: 6px !important; padding: 2px 0 4px; }
.hvs-tags > button { flex: 0 0 auto !important; width: auto !important; white-space: nowrap; padding: 2px 10px; }
#hvs-status, #hvs-voice-note { min-height: 1.5em; }
.hvs-off { display: none !important; }  /* the take's live player or its result, whichever is not in use */
@media (max-width: 640px) {
  .gradio-container h1 { font-size: 1.4em; margin: 0 0 .2em; }
  #hvs-intro p, #hvs-noise p, #hvs-notice p { font-size: 13px !important; line-height: 1.35; }
  #hvs-intro h1 { font-size: 22px !important; margin-bottom: 2px !important; }
  .hvs-tags { flex-wrap: nowrap !important; overflow-x: auto; }
  /* on a phone Generate (and Stop) stay at the bottom of the screen while the text is in view */
  #hvs-actions { position: sticky; bottom: 0; z-index: 20; background: var(--background-fill-primary);
                 padding: 6px 0; box-shadow: 0 -4px 8px rgba(0, 0, 0, .08); }
}
"""

CSS = LAYOUT + CONTRAST + TARGETS
