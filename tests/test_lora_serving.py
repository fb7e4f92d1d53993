"""Trained voices served by the engine: a LoRA adapter per row. An adapter changes the take; the same adapter read
again gives the same take; rows with different adapters and rows with none share decode steps, each bit-identical
to its solo take (as tests/test_batching.py checks for plain takes)."""

import json
from pathlib import Path

import numpy as np
import pytest

from inference import InvalidRequest, SynthesisRequest
from inference.model.adapters import AdapterError, Adapters, load_adapter
from tests.lora_support import TINY_SHAPES, linear_shapes, write_trained_voice
from tests.test_batching import run_together, staggered_logits


@pytest.fixture(scope="module")
def trained(engine, tmp_path_factory):
    """The shared engine, serving two trained voices from a folder of their own for this module."""
    root = tmp_path_factory.mktemp("trained")
    for slug, seed in (("ada", 1), ("bo", 2)):
        write_trained_voice(root, slug, linear_shapes(engine.model), seed)
    kept, engine.adapters = engine.adapters, Adapters(root, cap=8)
    yield root
    engine.adapters = kept


def take(engine, adapter=None, seed=5, text="A trained voice speaks.", **fields):
    return engine.synthesize(SynthesisRequest.parse(text=text, seed=seed, max_new_tokens=30, adapter=adapter,
                                                    **fields))


def test_an_adapter_changes_the_take_and_reading_it_again_gives_the_same_take(engine, trained):
    base = take(engine).waveform
    first = take(engine, "ada").waveform
    assert not np.array_equal(base, first), "the adapter did not change the take"
    assert not np.array_equal(first, take(engine, "bo").waveform), "two adapters gave the same take"
    engine.adapters = Adapters(trained, cap=8)  # read from disk again
    assert np.array_equal(take(engine, "ada").waveform, first)
    assert np.array_equal(take(engine).waveform, base), "the base take changed after serving adapters"


def test_the_tiny_shapes_are_the_tiny_models(engine):
    assert linear_shapes(engine.model) == TINY_SHAPES  # the doors' trained voice (lora_support.py) fits


def test_a_mixed_batch_gives_every_row_its_solo_take(engine, trained):
    """Two different adapters, the same adapter twice and two rows without: one batch, each row as alone."""
    requests = [SynthesisRequest.parse(text=f"Row {i} speaks here.", seed=10 + i, max_new_tokens=40, adapter=name)
                for i, name in enumerate(["ada", None, "bo", "ada", None])]
    solo = [engine.synthesize(r).waveform for r in requests]
    engine.batcher.peak = 0
    together = run_together(engine, requests)
    assert engine.batcher.peak >= 3, "the takes never generated together"
    for index, (alone, batched) in enumerate(zip(solo, together, strict=True)):
        assert not isinstance(batched, Exception), batched
        assert np.array_equal(alone, batched.waveform), f"row {index} ({requests[index].adapter}) differs from solo"


def test_every_row_gets_bit_identical_logits_at_every_step(engine, trained):
    """As tests/test_batching.py checks for plain rows: six rows (two adapters, and none) join a batch one every
    four steps; at every step each row's logits are bit for bit those it gets decoded alone. (With each adapter's
    rows in one plain matrix product instead, 27 of 40 steps of row 0 differed, while whole takes still matched.)"""
    import torch

    from inference.generation.decoding import Job

    names = ["ada", None, "bo", "ada", None, "bo"]
    requests = [SynthesisRequest.parse(text=f"Row {i}, {'and more words ' * i}.", seed=i, max_new_tokens=40)
                for i in range(len(names))]
    prompts = [engine.render_prompt(r).inputs for r in requests]
    adapters = [engine.adapters.get(n, engine.model, "tiny-random") if n else None for n in names]

    jobs = [lambda i=i: Job(prompts[i], requests[i].sampling, 100 + i, adapter=adapters[i])
            for i in range(len(names))]

    def decode(indices, stagger):
        return staggered_logits(engine, jobs, indices, stagger)

    batched = decode(range(len(names)), stagger=4)
    for i in range(len(names)):
        alone = decode([i], stagger=1)[i]
        assert len(alone) == len(batched[i]) == 40
        differing = sum(not torch.equal(a, b) for a, b in zip(alone, batched[i], strict=True))
        assert differing == 0, f"row {i} ({names[i]}): {differing} of 40 steps had other logits in the batch"


def test_a_clone_with_an_adapter_is_its_own_take(engine, trained, speech_wav):
    clone = dict(reference_audio=speech_wav, reference_text="Hello, this is my voice.")
    assert not np.array_equal(take(engine, **clone).waveform, take(engine, "ada", **clone).waveform)


def test_the_cap_keeps_the_most_recently_used_adapters(engine, trained):
    adapters = Adapters(trained, cap=1)
    first = adapters.get("ada", engine.model, "tiny-random")
    assert adapters.get("ada", engine.model, "tiny-random") is first and adapters.loads == 1  # picked: not read
    adapters.get("bo", engine.model, "tiny-random")
    assert adapters.loaded == ["bo"]
    assert adapters.get("ada", engine.model, "tiny-random") is not first and adapters.loads == 3


def test_unknown_and_unfit_adapters_get_a_sentence(engine, trained, tmp_path):
    with pytest.raises(InvalidRequest, match="no trained voice named 'nobody'"):
        take(engine, "nobody")
    with pytest.raises(InvalidRequest, match="not a trained voice's name"):
        SynthesisRequest.parse(text="hi", adapter="../etc")
    with pytest.raises(InvalidRequest, match="not a trained voice's name"):  # `$` let a final line break through
        engine.adapters.get("ada\n", engine.model, "tiny-random")
    other = write_trained_voice(tmp_path, "other", TINY_SHAPES, 3, base_model="bosonai/higgs-audio-v2-generation-3B-base")
    with pytest.raises(AdapterError, match="was trained on 'bosonai/.*', but this studio runs 'tiny-random'"):
        load_adapter(other, engine.model, "tiny-random")
    config = json.loads((other / "adapter_config.json").read_text())
    (other / "adapter_config.json").write_text(json.dumps(dict(config, r=8, base_model_name_or_path="tiny-random")))
    with pytest.raises(AdapterError, match=r"does not fit model.layers.0.audio_mlp.down_proj: A is \(4, 128\)"):
        load_adapter(other, engine.model, "tiny-random")
    (other / "adapter_model.safetensors").unlink()
    with pytest.raises(AdapterError, match="adapter_model.safetensors is missing"):
        load_adapter(other, engine.model, "tiny-random")


def test_the_resolver_names_trained_voices_and_sees_new_ones(tmp_path, speech_wav):
    from studio.voices import VoiceResolver, VoiceSpec

    resolver = VoiceResolver(trained=tmp_path)
    assert "ada" not in resolver.names()
    (tmp_path / "half-done").mkdir()  # a training run under way: no adapter files yet
    write_trained_voice(tmp_path, "ada", TINY_SHAPES, 1, name="Ada Lovelace")
    voice = resolver.resolve("ada lovelace")  # the card's name; the folder changed, so it is read again
    assert voice.adapter == "ada" and voice.reference_audio is None and voice.label == "trained: Ada Lovelace"
    assert [e.name for e in resolver.trained] == ["ada"] and "half-done" not in resolver.names()
    clone = resolver.resolve(VoiceSpec(name="ada", clip=speech_wav, clip_text="Hello, this is my voice."))
    assert (clone.adapter, clone.reference_audio) == ("ada", speech_wav)  # clone + adapter
    assert resolver.resolve("robot_en").adapter is None


def test_where_trained_voices_live():
    from settings import Settings

    assert Settings.from_env({"HVS_TRAINED_DIR": "/t", "HVS_VOICES_DIR": "/v"}).trained_root == Path("/t")
    assert Settings.from_env({"HVS_VOICES_DIR": "/v"}).trained_root == Path("/v/trained")
    cache = Settings.from_env({"HVS_CACHE": "/c"})
    assert cache.trained_root == cache.studio_cache / "trained" and cache.max_adapters == 8


def test_an_adapter_saved_by_peft_is_served_as_peft_computes_it(tmp_path):
    """The training side writes adapters with PEFT: one made by `get_peft_model(...).save_pretrained` loads here,
    and the engine's delta on a target linear is PEFT's own (to float rounding)."""
    peft = pytest.importorskip("peft")
    import torch
    from transformers import HiggsAudioV2ForConditionalGeneration

    from inference.model.tiny_model import ensure_tiny_checkpoint

    model = HiggsAudioV2ForConditionalGeneration.from_pretrained(ensure_tiny_checkpoint()).eval()
    wrapped = peft.get_peft_model(model, peft.LoraConfig(r=4, lora_alpha=8, target_modules=["q_proj", "down_proj"]))
    with torch.no_grad():  # PEFT starts B at zero: give it weights that show
        for name, param in wrapped.named_parameters():
            if "lora_B" in name:
                param.copy_(torch.randn_like(param))
    wrapped.save_pretrained(tmp_path / "peft-voice")
    config_path = tmp_path / "peft-voice" / "adapter_config.json"
    config_path.write_text(json.dumps(dict(json.loads(config_path.read_text()), base_model_name_or_path="tiny-random")))
    wrapped.eval()
    base = HiggsAudioV2ForConditionalGeneration.from_pretrained(ensure_tiny_checkpoint()).eval()
    adapter = load_adapter(tmp_path / "peft-voice", base, "tiny-random")
    assert "model.layers.1.self_attn.q_proj" in adapter.layers and "model.layers.0.audio_mlp.down_proj" in adapter.layers
    path = "model.layers.1.self_attn.q_proj"
    x = torch.randn(3, 64)
    a, b = adapter.layers[path]
    ours = dict(base.named_modules())[path](x) + (x @ a.t()) @ b.t()
    theirs = dict(wrapped.base_model.model.named_modules())[path](x)
    assert torch.allclose(ours, theirs, atol=1e-5) and not torch.allclose(ours, dict(base.named_modules())[path](x))


def test_a_trained_voices_recipe_names_its_adapter_and_a_part_made_again_uses_it(engine, trained):
    from inference.contract.recipe import load_recipe
    from studio.revise import recipe_request

    request = SynthesisRequest.parse(text="A trained voice speaks.", seed=5, max_new_tokens=20, adapter="ada")
    result = engine.synthesize(request)
    recipe = load_recipe(result.recipe.to_json())  # through JSON, as a caller keeps it
    assert recipe.voice.adapter == "ada" and recipe.voice.clip_sha256 is None
    again = recipe_request(recipe, {})
    assert again.adapter == "ada"
    part = recipe.parts[0]
    assert engine.revise_part(again, recipe, 0, None, part.take.seed).codes == part.take.codes
    without = again.model_copy(update={"adapter": None})
    assert engine.revise_part(without, recipe, 0, None, part.take.seed).codes != part.take.codes


def test_a_dialogue_speaker_can_be_a_trained_voice(engine, trained):
    """Bob is "ada": his turns carry the adapter, Alice's do not (her turn is the one she speaks without any
    trained voice in the dialogue); the recipe names Bob's adapter, and his turn made again is the same. (Alice is
    described: with every speaker smart the prompt asks the model to pick the voices, and a trained one is not.)"""
    from studio.revise import recipe_request

    script = "Alice: Hello there, Bob.\nBob: Hello Alice, how are you?"

    def dialogue(bob: dict):
        request = SynthesisRequest.parse(text=script, speakers={"Alice": {"description": "a calm voice"}, "Bob": bob}, seed=3, max_new_tokens=14)
        return request, engine.synthesize(request).recipe

    _, plain = dialogue({})
    request, trained_take = dialogue({"adapter": "ada"})
    assert trained_take.parts[0].take.codes == plain.parts[0].take.codes  # Alice: untouched
    assert trained_take.parts[1].take.codes != plain.parts[1].take.codes  # Bob: the adapter speaks
    assert trained_take.speakers["Bob"].adapter == "ada" and trained_take.speakers["Alice"].adapter is None
    again = recipe_request(trained_take, {})
    assert again.speakers["Bob"].adapter == "ada"
    bob = trained_take.parts[1]
    assert engine.revise_part(again, trained_take, 1, None, bob.take.seed).codes == bob.take.codes


def test_the_page_picker_lists_a_voice_trained_while_the_studio_runs(tmp_path, engine):
    """The Voice tab's preset picker is refreshed from the folder (ui/voice_panel.py): a voice trained after the
    page was built joins it without a restart."""
    from studio.service import Studio
    from studio.voices import VoiceResolver
    from ui.voice_panel import preset_choices

    studio = Studio(engine, resolver=VoiceResolver(trained=tmp_path))
    before = preset_choices(studio)
    assert before and not any("(trained)" in label for label, _ in before)
    write_trained_voice(tmp_path, "bo", TINY_SHAPES, 3, name="Bo Diddley")
    assert preset_choices(studio) == [*before, ("Bo Diddley (trained)", "bo")]


def test_a_trained_voices_recipe_loaded_in_the_page_picks_that_voice(engine, trained):
    # The Voice tab's "Load a recipe" picked "Describe a voice" with no words for a trained voice's take.
    from studio.service import Studio
    from studio.voices import PRESET, VoiceResolver
    from ui.edit_restore import voice_choice

    studio = Studio(engine, resolver=VoiceResolver(trained=trained))
    recipe = take(engine, "ada").recipe
    assert voice_choice(studio, recipe, None) == ({"mode": PRESET, "preset": "ada", "clip": None},
                                                   "Its trained voice is picked.")
    elsewhere = recipe.model_copy(update={"voice": recipe.voice.model_copy(update={"adapter": "zed"})})
    picked, note = voice_choice(studio, elsewhere, None)
    assert picked == {} and "trained voice 'zed' is not on this studio" in note
