"""Limits found by a break-test: each is checked before the work it bounds (a request that is refused late
still costs the whole server its time, as every route waits on the same event loop and GIL)."""

from __future__ import annotations

import pytest

from inference.contract.errors import InvalidRequest
from inference.prompting.script import MAX_SPEAKERS
from ui.dialogue import api_speakers
from wire.openai_speech import SpeechBody
from wire.runpod_job import TakeInput

SCRIPT = "Alice: Hello.\nBob: Hi."
TOO_MANY = {f"Speaker{i}": {"voice": "robot_en"} for i in range(MAX_SPEAKERS + 1)}


def test_too_many_speakers_are_counted_before_each_is_read_at_the_openai_door():
    # 400,000 speakers were each read into a voice object first: /healthz stalled 21 s
    with pytest.raises(InvalidRequest, match=f"at most {MAX_SPEAKERS} speakers"):
        SpeechBody.read({"input": SCRIPT, "speakers": TOO_MANY})


def test_too_many_speakers_are_counted_before_each_is_read_in_a_worker_job():
    with pytest.raises(InvalidRequest, match=f"at most {MAX_SPEAKERS} speakers"):
        TakeInput.model_validate({"script": SCRIPT, "speakers": TOO_MANY})


def test_too_many_speakers_are_counted_before_any_voice_is_resolved_at_the_gradio_door():
    # each speaker was resolved to a voice first (a clip index checked, a name looked up): 9 MB froze 10 s.
    # The first speaker's clip is missing: counting first is what names the real problem.
    speakers = {f"Speaker{i}": {"clip": 0} for i in range(MAX_SPEAKERS + 1)}
    with pytest.raises(InvalidRequest, match=f"at most {MAX_SPEAKERS} speakers"):
        api_speakers(speakers, None)


def test_a_saved_voice_library_from_the_browser_is_read_only_as_far_as_the_studio_writes_one():
    # The library comes back from the visitor's browser (client-controlled): 300,000 names (17 MB) took 20 s
    # to list in the picker and held every route 3 s; a non-object entry was an AttributeError.
    from ui import library

    sent = [{"name": f"v{i}", "transcript": "", "audio": ""} for i in range(library.MAX_VOICES + 5)]
    assert library.names(sent) == [f"v{i}" for i in range(library.MAX_VOICES)]
    with pytest.raises(InvalidRequest):
        library.find(sent, f"v{library.MAX_VOICES + 1}")
    for odd in ([5, "x", None], {"name": "x"}, "x"):
        assert library.names(odd) == []
        with pytest.raises(InvalidRequest):
            library.find(odd, "x")


def test_a_training_recording_may_be_as_long_as_its_documented_limit(tmp_path):
    # Recordings for training may run 30 minutes (RECORDING), but the decoder's own 10-minute cap for callers
    # without a limit refused a 12-minute one: "The audio is longer than 10 minutes."
    import numpy as np
    import soundfile as sf

    from inference.audio.incoming import read_clip
    from inference.training.data import RECORDING

    rate, seconds = 8_000, 12 * 60
    path = tmp_path / "talk.flac"
    sf.write(path, (0.3 * np.sin(np.arange(rate * seconds) * 0.2)).astype(np.float32), rate)
    assert len(read_clip(path, RECORDING, sample_rate=rate)) == rate * seconds


def test_our_own_takes_decode_however_long_a_take_may_be():
    # A take may hold 20 minutes (a recipe's limit; a worker returns up to ~12.5 min): decoding one without a
    # limit of its own (a remote worker's answer, the take check) was refused past 10 minutes.
    import numpy as np

    from inference.audio.codec import decode_audio, encode_wav

    rate, seconds = 8_000, 12 * 60
    wave = (0.3 * np.sin(np.arange(rate * seconds) * 0.2)).astype(np.float32)
    assert len(decode_audio(encode_wav(wave, rate), rate)) == rate * seconds


def test_a_long_list_of_files_is_refused_before_gradio_walks_it():
    # Gradio preprocesses an event's inputs on the server's event loop, item by item: a `clips` list of
    # 2,000,000 nulls (12 MB, under the body cap) held every route, /healthz included, for 9 s.
    import asyncio

    import gradio as gr

    from ui.input_limits import MOST_ITEMS, check_inputs

    with gr.Blocks() as demo:
        files, out = gr.File(file_count="multiple"), gr.Textbox()
        files.change(lambda given: str(len(given or [])), files, out, api_name="count")
    check_inputs(demo)
    block_fn = demo.fns[0]
    with pytest.raises(gr.Error, match=f"at most {MOST_ITEMS:,}"):
        asyncio.run(demo.preprocess_data(block_fn, [[None] * (MOST_ITEMS + 1)], None))
    assert asyncio.run(demo.preprocess_data(block_fn, [[]], None)) == [[]]


def test_too_few_values_for_an_endpoint_get_a_sentence():
    # A raw HTTP caller that sent fewer values than the endpoint takes got `{"error": null}` (Gradio's own
    # message is hidden, as show_error is off).
    import asyncio

    import gradio as gr

    from ui.input_limits import check_inputs

    with gr.Blocks() as demo:
        text, seed, out = gr.Textbox(), gr.Number(), gr.Textbox()
        text.submit(lambda given, number: given, [text, seed], out, api_name="echo")
    check_inputs(demo)
    with pytest.raises(gr.Error, match="takes 2 values in `data`.*got 1"):
        asyncio.run(demo.preprocess_data(demo.fns[0], ["hi"], None))


def test_the_cli_reads_a_script_no_longer_than_a_take_could_hold():
    # `--script /dev/zero` (or an endless pipe on stdin) was read whole: 3 GB, then a MemoryError traceback.
    from cli.main import build_parser
    from cli.take import take_request
    from studio.voices import VoiceResolver

    args = build_parser().parse_args(["--script", "/dev/zero"])
    with pytest.raises(InvalidRequest, match=r"the script /dev/zero is longer than 8000 characters"):
        take_request(args, VoiceResolver())
