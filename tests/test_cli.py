"""The command line, run as a person would: a subprocess, its files, its exit code and stderr."""

import logging
import subprocess
import sys
from pathlib import Path
from types import SimpleNamespace

import pytest
import soundfile as sf

from inference.contract.errors import InvalidRequest
from studio.lengths import NOISE_MAX_TOKENS
from tests.conftest import ROOT


def cli(*args, stdin=None):
    return subprocess.run([sys.executable, "-m", "inference", *args], cwd=ROOT, capture_output=True, text=True,
                          input=stdin, timeout=300)


def test_writes_a_readable_24k_wav(tmp_path):
    out = tmp_path / "x.wav"
    run = cli("Hello there.", "--model", "tiny-random", "--out", str(out), "--max-new-tokens", "40", "--seed", "3")
    assert run.returncode == 0, run.stderr
    data, rate = sf.read(out)
    assert rate == 24_000 and data.ndim == 1 and len(data) == 32 * 960
    assert "seed 3" in run.stderr and "noise" in run.stderr


def test_clones_from_a_reference_into_mp3_with_every_sampling_option(tmp_path, speech_wav):
    out = tmp_path / "take.mp3"
    run = cli("Read this in my voice.", "--model", "tiny-random", "--reference", str(speech_wav),
              "--reference-text", "Hello, this is my voice.", "--scene", "Quiet room.", "--out", str(out),
              "--temperature", "0.9", "--top-p", "0.8", "--top-k", "20", "--max-new-tokens", "30",
              "--ras-win-len", "5", "--ras-max-repeats", "3", "--device", "cpu", "--dtype", "float32")
    assert run.returncode == 0, run.stderr
    data, rate = sf.read(out)
    assert rate == 24_000 and 0.8 < len(data) / rate < 1.2


def test_show_prompt_prints_the_official_layout_without_generating(tmp_path, speech_wav):
    out = tmp_path / "never.wav"
    run = cli("Hi (there) [laugh]", "--model", "tiny-random", "--scene", "Quiet room.", "--reference",
              str(speech_wav), "--reference-text", "This is me", "--show-prompt", "--out", str(out))
    assert run.returncode == 0, run.stderr
    assert not out.exists()
    assert run.stdout.startswith("<|begin_of_text|><|start_header_id|>system<|end_header_id|>\n\n"
                                 "Generate audio following instruction.\n\n<|scene_desc_start|>\nQuiet room.")
    assert ("user<|end_header_id|>\n\nThis is me.<|eot_id|><|start_header_id|>assistant<|end_header_id|>\n\n"
            "<|audio_out_bos|><|AUDIO_OUT|><|audio_eos|><|eot_id|>") in run.stdout
    assert "Hi there <SE>[Laughter]</SE><|eot_id|>" in run.stdout
    assert run.stdout.rstrip().endswith("<|start_header_id|>assistant<|end_header_id|>\n\n<|audio_out_bos|>")
    assert "frames" in run.stderr


def test_text_from_stdin_and_the_short_default_on_the_noise_model(tmp_path):
    out = tmp_path / "stdin.wav"
    run = cli("-", "--model", "tiny-random", "--out", str(out), "--quiet", stdin="From a pipe.")
    assert run.returncode == 0, run.stderr
    assert out.exists() and run.stderr == "" and run.stdout == ""  # --quiet: nothing but errors
    # no --max-new-tokens: the studio's rule gives tiny-random the page's 100 steps (was 2048: 82 s of noise)
    assert len(sf.read(out)[0]) == (NOISE_MAX_TOKENS - 8) * 960


def one_line_error(run, code, words):
    assert run.returncode == code
    lines = [line for line in run.stderr.splitlines() if line.startswith("error:")]
    assert len(lines) == 1 and words in lines[0], run.stderr
    assert "Traceback" not in run.stderr


def in_process(capsys, *args):
    """The CLI's main() as `python -m inference` calls it (sys.exit(main())), without a new process: its exit
    code and what it wrote to stderr. An exception escaping main() fails the test, as a traceback would."""
    from cli.main import main

    capsys.readouterr()
    try:
        code = main(list(args))
    except SystemExit as exit:  # argparse's own exits
        code = exit.code
    return SimpleNamespace(returncode=code, stderr=capsys.readouterr().err)


def test_user_mistakes_are_one_line_without_traceback(tmp_path, capsys, caplog):
    """Each mistake in a process of its own took 102 s on 2 busy cores. Two run as a person would (a
    process: its exit code, its whole stderr); the rest through main() in this process, the same code path
    behind `python -m inference`."""
    mistyped = cli("hi", "--seed", "abc")
    one_line_error(mistyped, 2, "--seed: invalid int value: 'abc'")
    assert mistyped.stderr.count("\n") == 1  # not argparse's whole usage text
    one_line_error(cli("hi", "--model", "tiny-random", "--device", "cuda"), 3, "no CUDA GPU")

    def mistake(*args):
        return in_process(capsys, *args)

    caplog.set_level(logging.INFO)
    one_line_error(mistake("   ", "--model", "tiny-random"), 2, "no text to speak")
    one_line_error(mistake("hi", "--temperature", "9", "--model", "tiny-random"), 2, "temperature must be at most 2.0")
    one_line_error(mistake("hi", "--reference", "/nope.wav", "--model", "tiny-random"), 2, "no reference audio file")
    notes = tmp_path / "notes.wav"
    notes.write_text("not audio")
    one_line_error(mistake("hi", "--reference", str(notes), "--model", "tiny-random"), 2,
                   "not a supported audio format")
    one_line_error(mistake("hi", "--out", str(tmp_path / "x.ogg"), "--model", "tiny-random"), 2, ".wav or .mp3")
    one_line_error(mistake("hi", "--out", str(notes / "take.wav"), "--model", "tiny-random"), 2,
                   "cannot create the folder for --out")
    (tmp_path / "takes.wav").mkdir()
    one_line_error(mistake("hi", "--out", str(tmp_path / "takes.wav"), "--model", "tiny-random"), 2, "is a folder")
    one_line_error(mistake("hi", "--out", f"{tmp_path / 'new-folder'}/", "--model", "tiny-random"), 2, "is a folder")
    one_line_error(mistake("hi", "--out", str(tmp_path), "--model", "tiny-random"), 2, "is a folder")
    # Checked by opening the file itself, before any generation: /proc takes no new files, even from root.
    caplog.clear()
    proc = mistake("hi", "--out", "/proc/hvs-take.wav", "--model", "tiny-random", "--max-new-tokens", "4096")
    one_line_error(proc, 2, "cannot write --out /proc/hvs-take.wav")
    assert "loaded" not in proc.stderr + caplog.text  # refused before the model was even loaded
    one_line_error(mistake("hi <|eot_id|>", "--model", "tiny-random"), 2, "control token <|eot_id|>")
    one_line_error(mistake("hi", "--model", "tiny-random", "--candidates", "2", "--asr-model", "none",
                           "--speaker-model", "none"), 2, "--candidates needs the take check")  # was exit 1
    one_line_error(mistake("hi", "--model", "someone/missing-model"), 3, "--model tiny-random")


def test_a_recipe_file_is_read_no_further_than_a_recipe_may_be():
    from cli.recipe import read_recipe  # /dev/zero has no size: read whole, it filled the memory

    with pytest.raises(InvalidRequest, match="a recipe may be at most 8 MB"):
        read_recipe(Path("/dev/zero"))
    with pytest.raises(InvalidRequest, match="could not read the recipe"):
        read_recipe(Path("/"))


def test_a_take_its_recipe_a_revised_part_and_bad_recipes(tmp_path):
    """--recipe beside a take; the recipe alone renders the same file; --revise makes a part anew and writes the
    new recipe back; choosing the first variant gives the first take back; a bad recipe is one sentence."""
    import json

    first, recipe = tmp_path / "take.wav", tmp_path / "take.json"
    run = cli("--script", "-", "--model", "tiny-random", "--out", str(first), "--recipe", str(recipe),
              "--max-new-tokens", "14", "--seed", "4", stdin="Alice: Hello there.\nBob: Hi Alice.\n")
    assert run.returncode == 0, run.stderr
    assert "take's recipe: 2 parts" in run.stderr
    again = tmp_path / "again.wav"
    assert cli("--recipe", str(recipe), "--out", str(again)).returncode == 0  # the recipe's own model
    assert again.read_bytes() == first.read_bytes()
    revised = tmp_path / "revised.wav"
    run = cli("--recipe", str(recipe), "--revise", "1", "--seed", "9", "--out", str(revised))
    assert run.returncode == 0, run.stderr
    kept = json.loads(recipe.read_text())
    assert [v["seed"] for v in kept["parts"][1]["variants"]] == [5, 9] and kept["parts"][1]["chosen"] == 1
    assert revised.read_bytes() != first.read_bytes()
    back = tmp_path / "back.wav"
    run = cli("--recipe", str(recipe), "--revise", "1", "--action", "choose", "--variant", "0", "--out", str(back))
    assert run.returncode == 0, run.stderr
    assert sf.read(back)[0].tolist() == sf.read(first)[0].tolist()
    for bad, words in ((kept | {"version": 7}, "made by a newer studio"), (kept | {"model": "x/y"}, "made with the "
                       "model 'x/y'"), (kept, "no part 5 in this take")):
        recipe.write_text(json.dumps(bad))
        run = cli("--recipe", str(recipe), "--revise", "5", "--model", "tiny-random", "--out", str(back))
        assert run.returncode == 2 and words in run.stderr and "Traceback" not in run.stderr, run.stderr
