"""Fast, in-process tests of the studio's pure parts: flags, scene composition, voices, library, takes,
the transcriber's offline message, and that the UI layer never imports torch."""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import time

import numpy as np
import pytest
import soundfile as sf

import app
from inference.contract.errors import InvalidRequest, ModelLoadError
from inference.contract.request import MAX_SCENE_CHARS
from inference.scoring.transcribe import Transcriber
from studio.scene import ScenePresets, compose_scene
from studio.takes import Take, TakeStore, add_take
from studio.voice_library import VoiceLibrary
from studio.voices import CLONE, DESCRIBED, PRESET, SMART, VoiceResolver
from tests.conftest import ROOT
from ui import library
from ui.voice_panel import pick_voice


# ---- app flags -------------------------------------------------------------------------------------
def test_flags_have_defaults_and_environment_variables():
    args = app.parse_args([], env={})
    assert (args.port, args.host, args.share, args.auth, args.backend) == (7860, "127.0.0.1", False, None, "local")
    assert (args.queue_size, args.max_batch, args.asr_model) == (16, None, "openai/whisper-base")
    env = {"PORT": "9000", "HVS_SHARE": "1", "HVS_AUTH": "ann:secret", "HVS_MODEL": "tiny-random",
           "HVS_ROOT_PATH": "/studio", "HVS_QUEUE_SIZE": "3", "HVS_MAX_BATCH": "2", "HVS_BACKEND": "runpod:abc"}
    args = app.parse_args([], env=env)
    assert (args.port, args.share, args.auth, args.model, args.root_path) == (9000, True, "ann:secret", "tiny-random",
                                                                            "/studio")
    assert (args.queue_size, args.max_batch, args.backend) == (3, 2, "runpod:abc")
    args = app.parse_args(["--share", "--port", "7000", "--auth", "bo:pw", "--host", "0.0.0.0"], env=env)
    assert (args.share, args.port, args.auth, args.host) == (True, 7000, "bo:pw", "0.0.0.0")
    assert not args.mcp and app.parse_args([], env={"HVS_MCP": "1"}).mcp and app.parse_args(["--mcp"], env={}).mcp


@pytest.mark.parametrize("var", ["PORT", "HVS_QUEUE_SIZE", "HVS_MAX_BATCH", "HVS_BATCH_WINDOW_MS"])
def test_a_number_variable_that_is_no_number_is_a_usage_error(capsys, var):
    """The variable was converted before argparse saw it: a ValueError traceback instead of a usage line."""
    with pytest.raises(SystemExit):
        app.parse_args([], env={var: "lots"})
    err = capsys.readouterr().err
    assert "invalid" in err and "'lots'" in err


@pytest.mark.parametrize("size", ["0", "-1"])
def test_queue_size_must_leave_room_for_a_take(capsys, size):
    """Gradio's queue refuses a call once `max_size` calls wait: with 0 every take was refused as 'queue full'."""
    with pytest.raises(SystemExit):
        app.parse_args(["--queue-size", size], env={})
    assert "--queue-size must be at least 1" in capsys.readouterr().err


def test_auth_must_be_user_colon_password(capsys):
    with pytest.raises(SystemExit):
        app.parse_args(["--auth", "nocolon"], env={})
    assert "user:password" in capsys.readouterr().err


def test_auth_is_never_in_the_help(monkeypatch, capsys):
    monkeypatch.setenv("HVS_AUTH", "ann:topsecret")
    with pytest.raises(SystemExit):
        app.parse_args(["--help"])
    assert "topsecret" not in capsys.readouterr().out


@pytest.mark.slow
def test_studio_that_cannot_load_its_model_says_so_in_one_line(tmp_path):
    run = subprocess.run([sys.executable, str(ROOT / "app.py"), "--model", str(tmp_path / "no-such-checkpoint"),
                          "--port", "1"], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert run.returncode == 3, run.stderr
    assert "Traceback" not in run.stderr
    errors = [line for line in run.stderr.splitlines() if line.startswith("error:")]
    assert len(errors) == 1 and "Could not load model" in errors[0], run.stderr


# ---- scene -----------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def presets() -> ScenePresets:
    return ScenePresets.load()


def test_shipped_presets(presets):
    assert {"professional", "friendly", "storytelling", "educational", "energetic"} <= set(presets.tones)
    assert {"quiet room", "outdoor"} <= set(presets.settings)
    assert len(presets.voices) >= 3


def test_compose_scene_orders_setting_voice_tone_and_free_text(presets):
    scene = compose_scene(presets, tone="storytelling", setting="quiet room",
                          voice_description="a warm, low male voice.", extra="  Slightly amused. ")
    lines = scene.split("\n")
    assert lines == [presets.settings["quiet room"], "The speaker's voice: a warm, low male voice.",
                     presets.tones["storytelling"], "Slightly amused."]
    assert compose_scene(presets) is None
    assert compose_scene(presets, tone="none", setting="", extra="   ") is None
    assert compose_scene(presets, tone="Professional") == presets.tones["professional"]
    assert len(compose_scene(presets, tone="storytelling", setting="outdoor", extra="x")) < MAX_SCENE_CHARS


def test_instructions_too_long_with_the_voice_description_name_the_callers_words(presets):
    """950 characters of instructions fit alone; with a voice's description the composed scene did not, and
    the error named 'scene', a field the API caller never sent."""
    assert compose_scene(presets, extra="x" * 950)
    with pytest.raises(InvalidRequest, match=r"scene instructions are too long: 950 characters.*at most 9\d\d fit"):
        compose_scene(presets, voice_description="A warm, low male voice with a British accent", extra="x" * 950)


def test_unknown_preset_names_the_valid_ones(presets):
    with pytest.raises(InvalidRequest, match="Unknown tone 'angry'.*professional"):
        compose_scene(presets, tone="angry")
    with pytest.raises(InvalidRequest, match="Unknown setting 'moon'.*quiet room"):
        compose_scene(presets, setting="moon")


def test_voice_description_by_name_label_or_own_words(presets):
    voice = next(iter(presets.voices.values()))
    assert presets.voice_description(voice.name) == voice.description
    assert presets.voice_description(voice.label) == voice.description
    assert presets.voice_description("a squeaky voice") == "a squeaky voice"
    assert presets.voice_description("  ") is None


# ---- voices ----------------------------------------------------------------------------------------
def test_preset_voices_ship_small_and_labelled_synthetic():
    voices = VoiceLibrary().all()
    assert voices, "no preset voices in assets/voices"
    for voice in voices:
        info = sf.info(voice.audio_path)
        assert (info.samplerate, info.channels, info.subtype) == (24_000, 1, "PCM_16")
        assert voice.audio_path.stat().st_size < 300_000
        assert "synthetic" in voice.label.lower() and voice.transcript


def test_pick_voice(presets, speech_wav):
    voices = VoiceResolver(VoiceLibrary(), presets)
    assert pick_voice(voices, SMART).reference_audio is None
    described = pick_voice(voices, DESCRIBED, description="calm-narrator")
    assert described.description == presets.voices["calm-narrator"].description
    assert pick_voice(voices, DESCRIBED, description="husky").description == "husky"  # the box takes any words
    preset = pick_voice(voices, PRESET, preset="robot_en")
    assert preset.reference_audio.is_file() and preset.reference_text
    # A clip present means cloning it, whatever voice is picked for the no-clip case.
    for mode in (SMART, PRESET, None):
        clone = pick_voice(voices, mode, preset="robot_en", clip=str(speech_wav), clip_text=" hi ")
        assert clone.is_own_clip and clone.reference_text == "hi" and clone.reference_audio == speech_wav
        assert clone.label == "your clip"
    named = pick_voice(voices, SMART, clip=str(speech_wav), clip_name=" Anna ")
    assert named.label == "Anna" and named.is_own_clip
    assert not preset.is_own_clip and not described.is_own_clip
    for mode, kwargs, words in [(CLONE, {}, "Record or upload"), (PRESET, {}, "Pick a preset"),
                                (DESCRIBED, {"description": ""}, "Describe the voice"),
                                (PRESET, {"preset": "nobody"}, "Unknown voice 'nobody'")]:
        with pytest.raises(InvalidRequest, match=words):
            pick_voice(voices, mode, **kwargs)


def test_browser_secret_is_made_once_under_the_cache_and_kept(tmp_path, caplog):
    settings = app.parse_args([], env={"HVS_CACHE": str(tmp_path)})
    first = app.browser_secret(settings)
    assert (tmp_path / "higgs-voice-studio" / "browser-secret").read_text() == first and len(first) == 64
    assert "HVS_BROWSER_SECRET is not set: made a new key" in caplog.text
    caplog.clear()
    assert app.browser_secret(settings) == first and not caplog.records  # the same key after a restart, no warning
    settings = app.parse_args([], env={"HVS_CACHE": str(tmp_path), "HVS_BROWSER_SECRET": "from-the-environment"})
    assert app.browser_secret(settings) == "from-the-environment"


# ---- browser voice library -------------------------------------------------------------------------
def test_library_save_rename_delete_and_reuse(speech_wav, tmp_path):
    entry = library.make_entry(speech_wav, "  My   voice ", "Hello.")
    assert entry["name"] == "My voice" and entry["transcript"] == "Hello."
    entries = library.save([], entry)
    entries = library.save(entries, {**entry, "name": "Other"})
    assert library.names(entries) == ["Other", "My voice"]
    entries = library.save(entries, {**entry, "transcript": "Replaced."})  # same name replaces
    assert library.names(entries) == ["My voice", "Other"] and entries[0]["transcript"] == "Replaced."
    entries = library.rename(entries, "Other", "Second")
    with pytest.raises(InvalidRequest, match="already have"):
        library.rename(entries, "Second", "My voice")
    path = library.to_file(library.find(entries, "Second"), tmp_path)
    wave, rate = sf.read(path)
    assert rate == 24_000 and len(wave) > 24_000
    assert library.to_file(library.find(entries, "Second"), tmp_path) == path  # same content, same file
    assert library.names(library.delete(entries, "Second")) == ["My voice"]
    with pytest.raises(InvalidRequest, match="Pick one"):
        library.delete(entries, "nobody")


def test_library_is_bounded(speech_wav):
    entry = library.make_entry(speech_wav, "v", "")
    entries = []
    for i in range(library.MAX_VOICES):
        entries = library.save(entries, {**entry, "name": f"v{i}"})
    with pytest.raises(InvalidRequest, match="full"):
        library.save(entries, {**entry, "name": "one more"})
    with pytest.raises(InvalidRequest, match="name"):
        library.make_entry(speech_wav, "   ", "")


def test_a_full_library_fits_in_a_browser_and_more_is_refused_with_a_reason(speech_wav, tmp_path, monkeypatch):
    speech = sf.read(speech_wav, dtype="float32")[0]
    clip = tmp_path / "long-speech.wav"
    sf.write(clip, np.tile(speech, int(library.MAX_SAVED_S * 24_000 / len(speech)) + 1), 24_000)
    entry = library.make_entry(clip, "v", "A transcript. " * 70)  # the longest transcript the engine takes
    entries = []
    for i in range(library.MAX_VOICES):
        entries = library.save(entries, {**entry, "name": f"v{i}"})
    # 8 voices of the longest clip fit well inside what localStorage keeps (~5 M characters per site)
    assert library.stored_chars(entries) < 0.6 * library.STORED_BUDGET_CHARS
    monkeypatch.setattr(library, "STORED_BUDGET_CHARS", library.stored_chars(entries[:3]) + 10)
    with pytest.raises(InvalidRequest, match="no room for this voice"):
        library.save(entries[:3], {**entry, "name": "one more"})


def test_library_caps_clip_length(tmp_path):
    long = tmp_path / "long.wav"
    sf.write(long, 0.3 * np.sin(np.arange(24_000 * 40) / 10).astype(np.float32), 24_000)
    entry = library.make_entry(long, "long", "")
    wave, _ = sf.read(library.to_file(entry, tmp_path))
    assert len(wave) == int(library.MAX_SAVED_S * 24_000)


# ---- takes -----------------------------------------------------------------------------------------
def test_take_store_and_history_are_bounded(tmp_path):
    store = TakeStore(tmp_path, max_files=3)
    paths = []
    for _ in range(5):
        paths.append(store.save(np.zeros(2400, np.float32), 24_000))
        time.sleep(0.01)
    assert sorted(tmp_path.glob("*.wav")) == sorted(paths[-3:])
    history = []
    for i, path in enumerate(paths[-3:] * 3):
        history = add_take(history, Take(str(path), f"take {i}", i, "Smart voice", 0.1), size=5)
    assert len(history) == 5 and history[0]["text"] == "take 8"
    paths[-1].unlink()
    assert all(t["path"] != str(paths[-1]) for t in add_take(history, Take(str(paths[-2]), "n", 0, "v", 0.1)))


def test_only_a_takes_folder_outside_temp_and_cwd_is_opened_to_the_web(tmp_path, monkeypatch, caplog):
    assert TakeStore(tmp_path / "takes").served_paths() == []  # under the temp dir: Gradio copies from it
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path / "elsewhere"))
    (tmp_path / "elsewhere").mkdir()
    volume = tmp_path / "volume"
    store = TakeStore(volume)
    assert store.served_paths() == [str(volume.resolve())] and not caplog.records
    assert len(store.save(np.zeros(240, np.float32), 24_000).stem.split("-")[-1]) == 32  # 128 random bits
    (volume / ".cache").mkdir()
    assert store.served_paths() == [str(volume.resolve())]
    assert "holds other files (.cache)" in caplog.text


# ---- transcriber -----------------------------------------------------------------------------------
def test_transcriber_offline_gives_one_clear_sentence(speech_wav):
    transcriber = Transcriber("openai/whisper-base")
    assert transcriber.enabled and not transcriber.loaded
    with pytest.raises(ModelLoadError, match="could not be loaded: it is not in the local cache") as err:
        transcriber.transcribe(speech_wav)
    assert "\n" not in str(err.value) and "--asr-model" in str(err.value)
    # Decided from the cache and HF_HUB_OFFLINE, before the hub client's retries (~30 s without a network).
    assert "the studio runs offline (HF_HUB_OFFLINE)" in str(err.value)
    started = time.monotonic()
    with pytest.raises(ModelLoadError):  # remembered: no second wait on the network
        transcriber.transcribe(speech_wav)
    assert time.monotonic() - started < 2


def test_transcriber_can_be_turned_off(speech_wav):
    with pytest.raises(ModelLoadError, match="turned off"):
        Transcriber("none").transcribe(speech_wav)


# ---- layering --------------------------------------------------------------------------------------
def test_ui_layer_does_not_import_torch():
    code = "import sys, ui, inference.scoring.transcribe, studio.scene; print('torch' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True,
                         env={**os.environ, "PYTHONPATH": str(ROOT)})
    assert out.stdout.strip() == "False"


def test_transcriber_runs_the_real_pipeline_on_a_tiny_whisper(speech_wav, tmp_path_factory):
    from tests.conftest import OUTPUT
    from tests.tiny_whisper import build_tiny_whisper

    checkpoint = build_tiny_whisper(OUTPUT / "cache" / "tiny-whisper-v1")
    transcriber = Transcriber(str(checkpoint))
    words = transcriber.transcribe(speech_wav)  # random weights: gibberish, but a string from the real pipeline
    assert isinstance(words, str) and transcriber.loaded
    assert transcriber.transcribe(speech_wav.read_bytes()) == words  # bytes work too, and it is deterministic
    with pytest.raises(InvalidRequest, match="silent"):
        silent = tmp_path_factory.mktemp("s") / "silent.wav"
        sf.write(silent, np.zeros(16_000, np.float32), 16_000)
        transcriber.transcribe(silent)


def test_transcriber_names_a_missing_path():
    with pytest.raises(ModelLoadError, match="no model at that path"):
        Transcriber("/nowhere/whisper").load()


@pytest.mark.parametrize("env", [{"HVS_MAX_BATCH": "0"}, {"HVS_CPU_THREADS": "many"}])
@pytest.mark.slow
def test_a_setting_out_of_range_is_a_usage_error_not_a_model_failure(tmp_path, env):
    """Exit code 2 and one line: the model is fine, the setting is not (3 is for a model that cannot load)."""
    run = subprocess.run([sys.executable, str(ROOT / "app.py"), "--model", "tiny-random", "--port", "0"],
                         capture_output=True, text=True, timeout=300, cwd=tmp_path,
                         env={**os.environ, "HVS_ASR_MODEL": "none", **env})
    assert run.returncode == 2, run.stderr
    assert run.stderr.strip().splitlines()[-1].startswith("error: ") and "Traceback" not in run.stderr
