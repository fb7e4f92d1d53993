"""Model id `tiny-random`: a tiny random-weight Higgs Audio V2 checkpoint built offline.

It uses the very transformers classes of the real model (processor, audio tokenizer, LM), is saved
with `save_pretrained`, and is then loaded through the same code path as the real checkpoint. Its
output is noise: it exists so tests, CI and demos run without the 12 GB weights or a network.
"""

from __future__ import annotations

import logging
import os
import shutil
import tempfile
import time
from pathlib import Path

from inference.contract.engine import NOISE_WARNING
from inference.model.paths import cache_root
from inference.prompting import prompt

log = logging.getLogger(__name__)

_VERSION = "v2"  # bump when the recipe below changes, so stale caches are rebuilt

# Special tokens of the official chat template, plus the audio placeholders the processor expects.
SPECIAL_TOKENS = [
    "<|begin_of_text|>", "<|end_of_text|>", "<|start_header_id|>", "<|end_header_id|>", "<|eot_id|>",
    "<|scene_desc_start|>", "<|scene_desc_end|>", "<|audio_bos|>", "<|audio_eos|>", "<|audio_out_bos|>",
    "<|AUDIO|>", "<|AUDIO_OUT|>", "<|reserved_special_token_6|>",
    "<SE>", "</SE>", "<SE_s>", "</SE_s>", "<SE_e>", "</SE_e>",
]
_CORPUS = [
    "Generate audio following instruction. Audio is recorded from a quiet room.",
    "The quick brown fox jumps over the lazy dog. Hello there, how are you today?",
    "A warm, friendly voice tells a story about the sea, the wind and the stars.",
    "Numbers 0 1 2 3 4 5 6 7 8 9 and punctuation . , ; : ! ? ' \" ( ) - [ ]",
]


def cache_dir() -> Path:
    return cache_root() / f"tiny-random-{_VERSION}"


def ensure_tiny_checkpoint() -> Path:
    """Return the path of the tiny checkpoint, building it once (atomically) if needed."""
    target = cache_dir()
    _remove_stale_builds(target.parent)
    if (target / "config.json").is_file():
        return target
    log.warning("building the tiny random-weight checkpoint at %s (%s)", target, NOISE_WARNING)
    target.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".building-{os.getpid()}-", dir=target.parent))
    try:
        build_random_checkpoint(staging, final_dir=target)
        try:
            staging.rename(target)
        except OSError:  # another process finished first: theirs is as good as ours
            shutil.rmtree(staging, ignore_errors=True)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    return target


def _remove_stale_builds(folder: Path) -> None:
    """A build killed midway (SIGKILL, a pod evicted) leaves its staging folder behind: remove those whose
    process is gone, and, when the process cannot be told (another machine sharing the volume), an hour on."""
    for staging in folder.glob(".building-*"):
        pid = staging.name.split("-")[1]
        old = time.time() - staging.stat().st_mtime > 3600
        if old or (pid.isdecimal() and not _is_running(int(pid))):
            shutil.rmtree(staging, ignore_errors=True)
            log.info("removed %s, left by a build that did not finish", staging)


def _is_running(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # someone else's process
        return True
    return True


def build_random_checkpoint(out: Path, final_dir: Path, full_size: bool = False) -> None:
    """Write the checkpoint into `out`, which will be renamed to `final_dir`.

    `full_size` keeps the same recipe but gives the LM and the audio tokenizer the real model's
    dimensions (~5.8B parameters): random weights whose step time and memory are the real ones,
    for GPU benchmarks (bench/gpu.py, run on a GPU by bench/gpu.sh; also `bench/engine_bench.py --full-size`)."""
    import torch
    from transformers import DacFeatureExtractor, HiggsAudioV2Processor

    torch.manual_seed(0)  # the parts below draw their random weights in this order
    tokenizer = _text_tokenizer()
    audio_tokenizer = _audio_tokenizer(full_size)
    audio_tokenizer.save_pretrained(out / "audio_tokenizer")
    feature_extractor = DacFeatureExtractor(sampling_rate=24_000, hop_length=960)
    processor = HiggsAudioV2Processor(
        feature_extractor=feature_extractor, tokenizer=tokenizer, audio_tokenizer=audio_tokenizer,
        chat_template=prompt.CHAT_TEMPLATE,
    )
    processor.save_pretrained(out)
    _point_processor_at(out, final_dir / "audio_tokenizer")
    _language_model(tokenizer, full_size).save_pretrained(out)


def _text_tokenizer():
    """Byte-level BPE trained in-process, with the chat template's special tokens."""
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers
    from transformers import PreTrainedTokenizerFast

    bpe = Tokenizer(models.BPE())
    bpe.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    bpe.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(vocab_size=400, special_tokens=SPECIAL_TOKENS,
                                  initial_alphabet=pre_tokenizers.ByteLevel.alphabet())
    bpe.train_from_iterator(_CORPUS, trainer=trainer)
    return PreTrainedTokenizerFast(
        tokenizer_object=bpe, bos_token="<|begin_of_text|>", eos_token="<|eot_id|>", pad_token="<|end_of_text|>",
    )


def _audio_tokenizer(full_size: bool):
    """The real frame layout (24 kHz, hop 960 = 25 frames/s, 8 codebooks of 1024), with tiny channel counts.
    The DAC decoder halves its width at each of its 5 upsampling stages."""
    import torch
    from transformers import HiggsAudioV2TokenizerConfig, HiggsAudioV2TokenizerModel

    ratios = [8, 5, 4, 2, 3]
    if full_size:  # transformers' defaults are the released tokenizer's sizes (HuBERT-base semantic model)
        acoustic = {"downsampling_ratios": ratios, "upsampling_ratios": ratios}
        semantic, codebook_dim = {}, 64
    else:
        acoustic = {"encoder_hidden_size": 4, "downsampling_ratios": ratios, "upsampling_ratios": ratios,
                    "decoder_hidden_size": 64, "hidden_size": 16}
        semantic = {"hidden_size": 16, "num_hidden_layers": 1, "num_attention_heads": 2, "intermediate_size": 32,
                    "conv_dim": [8] * 7, "num_conv_pos_embeddings": 16, "num_conv_pos_embedding_groups": 2}
        codebook_dim = 8
    audio_config = HiggsAudioV2TokenizerConfig(
        target_bandwidths=[0.5, 1, 1.5, 2], codebook_size=1024, codebook_dim=codebook_dim,
        acoustic_model_config=acoustic, semantic_model_config=semantic,
    )
    audio_tokenizer = HiggsAudioV2TokenizerModel(audio_config).eval()
    with torch.no_grad():  # random codebooks: spread them so that encoding yields varied codes
        for layer in audio_tokenizer.quantizer.quantizers:
            layer.codebook.embed.normal_()
    return audio_tokenizer


def _language_model(tokenizer, full_size: bool):
    """Full size: transformers' defaults are the released 3B model's (Llama-3.2-3B backbone + DualFFN)."""
    import torch
    from transformers import HiggsAudioV2Config, HiggsAudioV2ForConditionalGeneration

    ids = {tok: tokenizer.convert_tokens_to_ids(tok) for tok in SPECIAL_TOKENS}
    sizes = {} if full_size else dict(vocab_size=len(tokenizer), hidden_size=64, intermediate_size=128,
                                      num_hidden_layers=2, num_attention_heads=4, num_key_value_heads=2, head_dim=16)
    config = HiggsAudioV2Config(
        **sizes, max_position_embeddings=8192, num_codebooks=8, codebook_size=1024 + 2,
        pad_token_id=ids["<|end_of_text|>"], bos_token_id=ids["<|begin_of_text|>"], eos_token_id=ids["<|eot_id|>"],
        audio_token_id=ids["<|AUDIO_OUT|>"], audio_bos_token_id=ids["<|audio_out_bos|>"],
        audio_delay_token_id=ids["<|reserved_special_token_6|>"],
    )
    model = HiggsAudioV2ForConditionalGeneration(config).eval()
    if full_size:
        model.to(torch.bfloat16)
    with torch.no_grad():
        # Random weights would end a take after a few frames at random. Make the stream-EOS code
        # (and stream-BOS) score 0 while real codes score with a large spread, so takes run to
        # max_new_tokens and tests control length exactly.
        head = model.audio_lm_head.weight.view(config.num_codebooks, config.codebook_size, -1)
        head.mul_(20.0)
        head[:, 1024:, :] = 0.0
    model.generation_config.update(
        do_sample=True, temperature=0.7, top_p=0.95, top_k=50, max_new_tokens=2048,
        ras_win_len=7, ras_win_max_num_repeat=2,
    )
    return model


def _point_processor_at(out: Path, audio_dir: Path) -> None:
    """The saved processor config names its audio tokenizer; make it the tiny one beside it."""
    import json

    path = out / "processor_config.json"
    data = json.loads(path.read_text())
    data["audio_tokenizer"] = {"audio_tokenizer_class": "HiggsAudioV2TokenizerModel",
                               "audio_tokenizer_name_or_path": str(audio_dir)}
    path.write_text(json.dumps(data, indent=2))
