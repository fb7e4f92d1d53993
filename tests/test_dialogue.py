"""Dialogues through the engine (tiny-random): the official prompt layout, turn-by-turn takes with pauses
and click-free seams, subtitles whose timings add up, partial takes when a part fails."""

import itertools

import numpy as np
import pytest

from inference import InvalidRequest, SynthesisRequest
from inference.audio.subtitles import to_srt, to_vtt
from inference.audio.watermark import _grid_end
from inference.contract.request import MAX_TEXT_CHARS, SAMPLE_RATE
from inference.prompting.dialogue import MULTISPEAKER_SYSTEM_PROMPT
from inference.prompting.prompt import SYSTEM_PROMPT

SCRIPT = "Alice: Hello there, Bob [laugh].\nBob: Hi Alice!\nHow are you?\nAlice: Fine, thanks."
AUDIO = "<|audio_out_bos|><|AUDIO_OUT|><|audio_eos|>"
HEAD = "<|begin_of_text|><|start_header_id|>system<|end_header_id|>\n\n"


def dialogue(**fields):
    fields.setdefault("text", SCRIPT)
    fields.setdefault("speakers", {})
    fields.setdefault("max_new_tokens", 20)
    fields.setdefault("seed", 3)
    return SynthesisRequest.parse(**fields)


def user(text):
    return f"<|start_header_id|>user<|end_header_id|>\n\n{text}<|eot_id|>"


GENERATE = "<|start_header_id|>assistant<|end_header_id|>\n\n<|audio_out_bos|>"


def test_prompt_with_two_clips_is_the_official_scene_layout(engine, speech_wav):
    voice = {"reference_audio": speech_wav, "reference_text": "Hello, this is my voice."}
    prompt = engine.render_prompt(dialogue(speakers={"Alice": voice, "bob": voice}, scene="A busy cafe."))
    assert prompt.rendered == (
        f"{HEAD}{SYSTEM_PROMPT}\n\n<|scene_desc_start|>\nA busy cafe.\n\nSPEAKER0: {AUDIO}\nSPEAKER1: {AUDIO}"
        f"\n<|scene_desc_end|><|eot_id|>{user('[SPEAKER0] Hello there, Bob <SE>[Laughter]</SE>.')}{GENERATE}")
    # both references were tokenized into the prompt: about 3.5 s each at 25 frames/s, plus BOS/EOS and delay
    assert prompt.audio_frames > 2 * 3 * 25


def test_prompt_with_descriptions_and_with_smart_voices(engine):
    described = engine.render_prompt(dialogue(speakers={"Alice": {"description": "bright young voice"},
                                                        "Bob": {"description": "warm, low male voice"}}))
    assert described.rendered == (
        f"{HEAD}{SYSTEM_PROMPT}\n\n<|scene_desc_start|>\nAudio is recorded from a quiet room.\n\n"
        "SPEAKER0: bright young voice\nSPEAKER1: warm, low male voice\n<|scene_desc_end|><|eot_id|>"
        f"{user('[SPEAKER0] Hello there, Bob <SE>[Laughter]</SE>.')}{GENERATE}")
    assert described.audio_frames == 0
    smart = engine.render_prompt(dialogue(text="[SPEAKER0] Hi.\n[SPEAKER1] Hello.", speakers=None))
    assert smart.rendered == (
        f"{HEAD}{MULTISPEAKER_SYSTEM_PROMPT}\n\n<|scene_desc_start|>\nAudio is recorded from a quiet room.\n\n"
        f"SPEAKER0: feminine\nSPEAKER1: masculine\n<|scene_desc_end|><|eot_id|>{user('[SPEAKER0] Hi.')}{GENERATE}")


def test_later_turns_keep_the_references_and_the_last_turns_as_context(engine, speech_wav):
    request = dialogue(speakers={"Alice": {"reference_audio": speech_wav}, "Bob": {"description": "calm"}})
    plan = engine.plan(request)
    wave = np.full(960 * 5, 0.1, np.float32)
    spoken = [(0, wave), (1, wave)]
    conversation, audio = plan.conversation(plan.parts, 2, spoken)
    roles = [m["role"] for m in conversation]
    assert roles == ["system", "scene", "user", "assistant", "user", "assistant", "user"]
    assert conversation[-1]["content"][0]["text"] == "[SPEAKER0] Fine, thanks."
    assert conversation[4]["content"][0]["text"] == "[SPEAKER1] Hi Alice!\nHow are you?"
    assert len(audio) == 3  # Alice's clip in the scene, then the two turns spoken
    # the 'separate' layout: only the speaking voice, cloned with its transcript; only its own turns as context
    separate = engine.plan(dialogue(speakers={"Alice": {"reference_audio": speech_wav, "reference_text": "Hello."},
                                              "Bob": {"description": "calm"}}, voice_layout="separate"))
    conversation, audio = separate.conversation(separate.parts, 2, spoken)
    texts = [m["content"][0].get("text") for m in conversation]
    assert texts[1:] == ["Audio is recorded from a quiet room.", "[SPEAKER0] Hello.", None,
                         "[SPEAKER0] Hello there, Bob <SE>[Laughter]</SE>.", None, "[SPEAKER0] Fine, thanks."]
    assert len(audio) == 2
    bob = separate.conversation(separate.parts, 1, spoken[:1])[0]
    assert [item["text"] for item in bob[1]["content"]] == ["Audio is recorded from a quiet room.", "SPEAKER1: calm"]
    assert len(bob) == 3  # Alice's clip and turn are not in Bob's prompt


def test_two_speaker_take_with_pauses_subtitles_and_clean_seams(engine, speech_wav):
    result = engine.synthesize(dialogue(speakers={"Alice": {"reference_audio": speech_wav,
                                                            "reference_text": "Hello, this is my voice."},
                                                  "Bob": {"reference_audio": speech_wav}}, pause_s=0.5))
    segments = result.segments
    assert [(s.speaker, s.text) for s in segments] == [
        ("Alice", "Hello there, Bob [laugh]."), ("Bob", "Hi Alice!\nHow are you?"), ("Alice", "Fine, thanks.")]
    # 20 steps = 12 frames of 960 samples per turn, 0.5 s pauses between turns
    assert [round(s.end_s - s.start_s, 3) for s in segments] == [0.48] * 3
    assert [round(b.start_s - a.end_s, 3) for a, b in itertools.pairwise(segments)] == [0.5, 0.5]
    assert segments[0].start_s == 0 and segments[-1].end_s == pytest.approx(result.duration_s)
    assert result.duration_s == pytest.approx(3 * 0.48 + 2 * 0.5)
    assert np.all(result.waveform[int(0.48 * SAMPLE_RATE):int(0.98 * SAMPLE_RATE)] == 0)  # the pause is silent
    assert result.chunks == 3
    vtt, srt = to_vtt(segments), to_srt(segments)
    assert vtt.startswith("WEBVTT\n\n00:00:00.000 --> 00:00:00.480\n<v Alice>Hello there, Bob [laugh].")
    assert "00:00:01.960 --> 00:00:02.440\n<v Alice>Fine, thanks." in vtt
    assert srt.startswith("1\n00:00:00,000 --> 00:00:00,480\nAlice: Hello there, Bob [laugh].\n\n2\n")
    assert_no_clicks(result.waveform, segments)


def assert_no_clicks(wave, segments, around=0.05):
    """No sample step at a seam is larger than the largest step of the signal near it."""
    steps = np.abs(np.diff(wave))
    for a, b in itertools.pairwise(segments):
        for seam in (int(round(a.end_s * SAMPLE_RATE)), int(round(b.start_s * SAMPLE_RATE))):
            at_seam = steps[seam - 2:seam + 2].max()
            window = int(around * SAMPLE_RATE)
            nearby = max(steps[seam - window:seam - 300].max(), steps[seam + 300:seam + window].max())
            assert at_seam <= nearby, (seam, at_seam, nearby)


def test_no_pause_still_joins_without_clicks(engine):
    result = engine.synthesize(dialogue(pause_s=0))
    assert result.duration_s == pytest.approx(3 * 0.48)
    assert [s.start_s for s in result.segments] == pytest.approx([0, 0.48, 0.96])
    assert_no_clicks(result.waveform, result.segments)


def test_stream_says_turn_i_of_n_and_adds_up_to_the_take(engine):
    request = dialogue(pause_s=0.2)
    chunks = list(engine.stream(request, first_chunk_frames=4, chunk_frames=4))
    assert [c.part for c in chunks] == sorted(c.part for c in chunks) and {c.parts for c in chunks} == {3}
    assert {c.part for c in chunks} == {1, 2, 3}
    joined = np.concatenate([c.waveform for c in chunks])
    final = chunks[-1].result
    assert len(joined) == len(final.waveform)
    assert np.allclose(joined, final.waveform, atol=1e-4)
    assert np.array_equal(final.waveform, engine.synthesize(request).waveform)


def test_a_failing_part_returns_the_parts_before_it_with_a_warning(engine, monkeypatch):
    build = engine._prompt

    def failing(plan, index, spoken):
        if index == 2:
            raise RuntimeError("CUDA out of memory (injected)")
        return build(plan, index, spoken)

    monkeypatch.setattr(engine, "_prompt", failing)
    result = engine.synthesize(dialogue())
    assert [s.speaker for s in result.segments] == ["Alice", "Bob"]
    assert result.duration_s == pytest.approx(result.segments[-1].end_s)
    assert any(w.startswith("Part 3 of 3 (Alice's turn) could not be generated (RuntimeError: CUDA out of memory")
               and w.endswith("the take holds the 2 parts before it.") for w in result.warnings)
    streamed = list(engine.stream(dialogue()))
    assert streamed[-1].result.duration_s == pytest.approx(result.duration_s)


def test_a_failing_first_part_is_an_error(engine, monkeypatch):
    def failing(plan, index, spoken):
        raise RuntimeError("broken")

    monkeypatch.setattr(engine, "_prompt", failing)
    with pytest.raises(RuntimeError, match="broken"):
        engine.synthesize(dialogue())


def test_long_text_parts_have_segments_clean_seams_and_partial_results(engine, monkeypatch):
    text = " ".join(f"Sentence number {i} is here to fill the page with many words." for i in range(20))
    request = SynthesisRequest.parse(text=text, max_new_tokens=20, seed=1)
    result = engine.synthesize(request)
    assert result.chunks == len(result.segments) >= 3
    assert all(s.speaker is None for s in result.segments)
    assert result.segments[0].text.startswith("Sentence number 0")
    assert result.segments[-1].end_s == pytest.approx(result.duration_s)
    assert [s.start_s for s in result.segments[1:]] == pytest.approx([s.end_s for s in result.segments[:-1]])
    assert_no_clicks(result.waveform, result.segments)
    build = engine._prompt
    monkeypatch.setattr(engine, "_prompt", lambda plan, index, spoken: build(plan, index, spoken) if index < 2
                        else (_ for _ in ()).throw(RuntimeError("boom")))
    partial = engine.synthesize(request)
    kept = _grid_end(0, len(partial.waveform))  # the watermark's last block differs where the take ends early
    assert len(partial.segments) == 2 and np.array_equal(partial.waveform[:kept], result.waveform[:kept])
    assert any(w.startswith(f"Part 3 of {result.chunks} could not be generated") for w in partial.warnings)


def test_voice_warnings(engine):
    plan = engine.plan(dialogue(speakers={"Alice": {"description": "calm"}, "Carol": {"description": "loud"}}))
    assert "A voice was given for 'Carol', who never speaks in the script (its speakers: 'Alice', 'Bob')" \
        in plan.warnings[0]
    assert plan.warnings[1] == "No voice was chosen for 'Bob': the model picks a voice (smart voice)."


def test_a_speakers_transcript_without_a_clip_is_said_to_be_ignored(engine):
    # as a single take's is (plan.py); /v1 and the worker took {"reference_text": ...} alone without a word
    plan = engine.plan(dialogue(speakers={"Alice": {"reference_text": "Words of a clip never sent."}}))
    assert "Alice's voice: a reference transcript was given without reference audio; it was ignored." \
        in plan.warnings


@pytest.mark.parametrize(("fields", "words"), [
    ({"text": "A: 1.\nB: 2.\nC: 3.\nD: 4.\nE: 5."}, "The script has 5 speakers"),
    ({"text": "Alice: [laugh]"}, "Alice's turn on line 1 has only sound tags"),
    ({"text": "Cough: Sorry."}, "is also a sound-effect tag"),
    ({"text": "   "}, "there is no text to speak"),
    ({"text": "A: " + "word " * MAX_TEXT_CHARS}, f"the limit is {MAX_TEXT_CHARS}"),
    ({"reference_text": "hi"}, "takes a voice per speaker (speakers, or the studio's Dialogue tab)"),
    ({"pause_s": 9}, "pause_s must be at most 5"),
    ({"voice_layout": "mixed"}, "voice_layout"),
    ({"speakers": {"Alice": {"clip": "x"}}}, "unknown field 'speakers.Alice.clip' (a speaker's voice takes:"),
    ({"speakers": {"Alice": {"description": "calm"}, " ALICE": {"description": "loud"}}},
     "'Alice' and ' ALICE' name the same speaker"),  # names match without case: one voice was dropped unsaid
    ({"speakers": {"Alice": {"reference_audio": "/nowhere.wav"}}}, "there is no reference audio file named 'nowhere.wav'"),  # no server paths
])
def test_bad_dialogue_requests_are_refused_in_words(fields, words):
    with pytest.raises(InvalidRequest) as caught:
        dialogue(**fields)
    assert words in str(caught.value)


def test_subtitle_text_cannot_break_its_cue():
    """A turn saying "-->" (or "<", "&") made a WebVTT cue that parsers cut short, and an SRT line that
    reads as a timing line."""
    from inference.contract.result import Segment

    segments = [Segment(0.0, 1.0, "hi --> there", "A"), Segment(1.0, 2.0, "00:00:00.000 --> 00:00:09.000 <b>&", "B<x>")]
    vtt, srt = to_vtt(segments), to_srt(segments)
    assert vtt.count("-->") == 2 and srt.count("-->") == 2  # the two timing lines only
    assert "<v A>hi --&gt; there" in vtt and "<v B&lt;x&gt;>00:00:00.000 --&gt; 00:00:09.000 &lt;b&gt;&amp;" in vtt
    assert "A: hi -> there" in srt


def test_a_speaker_name_with_line_breaks_cannot_break_its_cue():
    """A recipe's part names its speaker in any string: a blank line in it ended the cue (SRT, WebVTT)."""
    from inference.contract.result import Segment

    segments = [Segment(0.0, 1.0, "Hi.", "Ann\n\n5\n00:00:09,000 --> 00:00:10,000"), Segment(1.0, 2.0, "Yo.", "Bob")]
    vtt, srt = to_vtt(segments), to_srt(segments)
    assert "<v Ann 5 00:00:09,000 --&gt; 00:00:10,000>Hi." in vtt and "\n\n\n" not in vtt
    assert "Ann 5 00:00:09,000 -> 00:00:10,000: Hi." in srt and srt.count("-->") == 2
