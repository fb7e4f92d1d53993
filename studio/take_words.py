"""A take described to a person: its timing line and warnings; whether an error was the caller's mistake."""

from __future__ import annotations

from inference.contract.errors import InvalidAudio, InvalidRequest
from inference.contract.result import SynthesisResult


def timing_line(result: SynthesisResult) -> str:
    t = result.timings
    rtf = f"{t.real_time_factor:.2f}" if t.audio_s else "n/a"
    return (f"**{t.audio_s:.2f} s** of audio in **{t.total_s:.2f} s** (generation {t.generate_s:.2f} s, "
            f"decoding {t.decode_s:.2f} s) · real-time factor **{rtf}** · seed **{result.seed}**")


def take_info(result: SynthesisResult) -> str:
    """The timing line and the take's warnings (the test model's noise notice is shown on the page already)."""
    notes = [w for w in result.warnings if "random weights" not in w]
    return timing_line(result) + "".join(f"\n\n⚠️ {w}" for w in notes)


def is_user_error(err: Exception) -> bool:
    return isinstance(err, (InvalidRequest, InvalidAudio))
