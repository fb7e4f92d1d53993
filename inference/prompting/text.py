"""Text normalization before generation, following Boson AI's official generation script."""

from __future__ import annotations

import re

# Full-width CJK punctuation the model was not trained on, mapped to ASCII.
_FULL_WIDTH = str.maketrans({
    "，": ",", "。": ".", "：": ":", "；": ";", "？": "?", "！": "!",
    "（": " ", "）": " ", "【": "[", "】": "]", "《": '"', "》": '"', "“": '"', "”": '"',
    "‘": "'", "’": "'", "、": ",", "—": "-", "…": "...", "·": ".", "「": '"', "」": '"', "『": '"', "』": '"',
})

# Sound-effect tags a person types, and what the model was trained on.
EVENT_TAGS = {
    "[laugh]": "<SE>[Laughter]</SE>",
    "[music]": "<SE>[Music]</SE>",
    "[applause]": "<SE>[Applause]</SE>",
    "[cheering]": "<SE>[Cheering]</SE>",
    "[cough]": "<SE>[Cough]</SE>",
}
SPAN_TAGS = {
    f"[{name} {edge}]": f"<SE_{edge[0]}>[{name.capitalize()}]</SE_{edge[0]}>"
    for name in ("humming", "music", "sing")
    for edge in ("start", "end")
}
ALL_TAGS = {**EVENT_TAGS, **SPAN_TAGS}

_ENDINGS = (".", "!", "?", ",", ";", '"', "'", "</SE>", "</SE_e>")


def normalize_text(text: str) -> str:
    """Apply the official normalization: punctuation, units, sound-effect tags, whitespace, final stop."""
    text = text.translate(_FULL_WIDTH)
    text = text.replace("(", " ").replace(")", " ")
    text = text.replace("°F", " degrees Fahrenheit").replace("°C", " degrees Celsius")
    for tag, replacement in ALL_TAGS.items():
        text = re.sub(re.escape(tag), replacement, text, flags=re.IGNORECASE)
    lines = [" ".join(line.split()) for line in text.splitlines()]
    text = "\n".join(line for line in lines if line)
    if text and not text.endswith(_ENDINGS):
        text += "."
    return text
