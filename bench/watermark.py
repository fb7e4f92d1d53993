"""Watermark benchmark: does the mark survive everyday processing, and is unmarked speech left alone?

`python bench/watermark.py [--clips 60]` makes espeak-ng speech clips (varied voices, speeds, pitches and
texts, 24 kHz like a take), marks each one the way the engine marks a take, then runs the detector on the
marked and the unmarked clips after each attack: nothing, MP3 128 kbit/s, resampling to 16 kHz and back,
white noise at 20 dB SNR, and a random 3 s excerpt. Prints detection and false-positive rates, the SNR of
marked vs unmarked audio, and the seconds marking and detecting take per second of audio (CPU).
A few minutes on 2 cores; not part of the test suite.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from inference.audio.codec import decode_audio, encode_mp3, encode_wav  # noqa: E402
from inference.audio.watermark import THRESHOLD, Watermarker, detect  # noqa: E402
from inference.contract.request import SAMPLE_RATE  # noqa: E402

VOICES = ["en", "en-us", "en-gb-scotland", "en-029", "en-gb-x-rp", "en-us+f2", "en-us+f4", "en+m3", "en+m7",
          "en-gb+f3", "en+klatt", "en-us+whisper", "de", "fr", "es"]
SENTENCES = [
    "The quick brown fox jumps over the lazy dog while the farmer watches from the porch.",
    "Please remember to bring your umbrella tomorrow, because the forecast calls for heavy rain.",
    "Our quarterly results exceeded expectations, and the board approved the new research budget.",
    "Once upon a time, in a village by the sea, there lived an old clockmaker and his cat.",
    "Turn left at the second traffic light, then continue straight for about three hundred meters.",
    "Scientists have discovered a new species of frog in the rainforests of South America.",
    "Thank you for calling. All of our agents are busy right now, so please stay on the line.",
    "The concert starts at eight o'clock, but the doors open an hour earlier for early guests.",
    "Mix the flour and the sugar, add two eggs, and stir gently until the batter is smooth.",
    "In the morning light, the mountains looked closer than they had ever looked before.",
    "Welcome aboard flight two hundred and twelve with service to Chicago and beyond.",
    "He paused, looked at the letter once more, and finally decided to open the envelope.",
]
ATTACKS = ("none", "mp3 128k", "resample 16k", "noise 20 dB", "3 s excerpt")


def espeak_clip(index: int) -> np.ndarray:
    rng = np.random.default_rng(index)
    voice = VOICES[index % len(VOICES)]
    text = str(rng.choice(SENTENCES))
    wav = subprocess.run(["espeak-ng", "-v", voice, "-s", str(rng.integers(130, 190)), "-p",
                          str(rng.integers(25, 75)), "--stdout", text], check=True, capture_output=True).stdout
    return decode_audio(wav)


def attack(name: str, wave: np.ndarray, rng: np.random.Generator) -> np.ndarray | bytes:
    if name == "mp3 128k":
        return encode_mp3(wave, SAMPLE_RATE, 128_000)  # the detector decodes the file, like an upload
    if name == "resample 16k":
        down = decode_audio(encode_wav(wave), 16_000)
        return decode_audio(encode_wav(down, 16_000), SAMPLE_RATE)
    if name == "noise 20 dB":
        power = float(np.mean(wave ** 2))
        return (wave + rng.normal(0, np.sqrt(power / 10 ** (20 / 10)), len(wave))).astype(np.float32)
    if name == "3 s excerpt":
        start = int(rng.integers(0, max(len(wave) - 3 * SAMPLE_RATE, 1)))
        return wave[start:start + 3 * SAMPLE_RATE]
    return wave


def confidence(audio: np.ndarray | bytes) -> float:
    return detect(audio, None if isinstance(audio, bytes) else SAMPLE_RATE)["confidence"]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clips", type=int, default=60)
    parser.add_argument("--first", type=int, default=0, help="index of the first clip (another set of clips)")
    parser.add_argument("--alt-threshold", type=float, default=0.25, help="also report rates at this threshold")
    args = parser.parse_args()
    marker = Watermarker(True)
    marker.mark(espeak_clip(10_000), SAMPLE_RATE)  # first call pays for lazy initialisation
    clips = [espeak_clip(i) for i in range(args.first, args.first + args.clips)]
    audio_s = sum(len(c) for c in clips) / SAMPLE_RATE
    started = time.perf_counter()
    marked = [marker.mark(c, SAMPLE_RATE) for c in clips]
    mark_s = time.perf_counter() - started
    snr = [10 * np.log10(np.sum(c ** 2) / max(np.sum((m - c) ** 2), 1e-20)) for c, m in zip(clips, marked, strict=True)]
    print(f"{args.clips} espeak-ng clips, {audio_s:.0f} s of speech ({audio_s / args.clips:.1f} s each), "
          f"{len(VOICES)} voices, threshold {THRESHOLD}")
    print(f"SNR marked vs unmarked: median {np.median(snr):.1f} dB (min {min(snr):.1f}, max {max(snr):.1f})")
    print(f"marking: {mark_s / audio_s * 1000:.0f} ms per second of audio (CPU)")
    print("\n| attack | detected on marked | false positives on unmarked | confidence on marked: lowest / median "
          f"| on unmarked: median / highest | detected / false positives at {args.alt_threshold} |"
          "\n| --- | --- | --- | --- | --- | --- |")
    detect_s = detect_audio_s = 0.0
    for name in ATTACKS:
        rng = np.random.default_rng(len(name))
        started = time.perf_counter()
        on_marked = np.array([confidence(attack(name, m, rng)) for m in marked])
        if name == "none":
            detect_s, detect_audio_s = time.perf_counter() - started, audio_s
        on_plain = np.array([confidence(attack(name, c, rng)) for c in clips])
        hits, false, n = int(np.sum(on_marked >= THRESHOLD)), int(np.sum(on_plain >= THRESHOLD)), args.clips
        print(f"| {name} | {hits}/{n} ({hits / n:.0%}) | {false}/{n} ({false / n:.0%}) | {on_marked.min():.2f} / "
              f"{np.median(on_marked):.2f} | {np.median(on_plain):.2f} / {on_plain.max():.2f} | "
              f"{np.mean(on_marked >= args.alt_threshold):.0%} / {np.mean(on_plain >= args.alt_threshold):.0%} |",
              flush=True)
    print(f"\ndetection: {detect_s / detect_audio_s * 1000:.0f} ms per second of audio (CPU)")


if __name__ == "__main__":
    main()
