"""Finding and loading the model: Hub id, local path or `tiny-random`; device and dtype choice."""

from __future__ import annotations

import importlib.util
import logging
from pathlib import Path

import torch

from inference.contract.engine import TINY_MODEL_ID
from inference.contract.errors import ModelLoadError
from inference.model.tiny_model import ensure_tiny_checkpoint

log = logging.getLogger(__name__)

DEFAULT_MODEL_ID = "bosonai/higgs-audio-v2-generation-3B-base"
DTYPES = {"float32": torch.float32, "bfloat16": torch.bfloat16, "float16": torch.float16}


def pick_device(requested: str = "auto") -> torch.device:
    """cuda > mps > cpu, or exactly what was asked for (with a clear error when it is not there)."""
    if requested == "auto":
        if torch.cuda.is_available():
            return torch.device("cuda")
        if getattr(torch.backends, "mps", None) and torch.backends.mps.is_available():
            return torch.device("mps")
        if torch.version.cuda:  # a CUDA build with no usable GPU: say so, the CPU is far slower
            log.warning(cuda_missing(lead="--device auto found no usable CUDA GPU and runs on the CPU"))
        return torch.device("cpu")
    try:
        device = torch.device(requested)
    except RuntimeError as err:
        raise ModelLoadError(f"Unknown device {requested!r}: use auto, cpu, cuda, cuda:N or mps.") from err
    if device.type == "cuda" and not torch.cuda.is_available():
        raise ModelLoadError(cuda_missing())
    if device.type == "mps" and not torch.backends.mps.is_available():
        raise ModelLoadError("Device 'mps' was requested but Apple's MPS backend is not available.")
    return device


# The oldest driver each CUDA major version runs on (NVIDIA's minor-version compatibility).
MIN_DRIVER = {"11": "450", "12": "525", "13": "580"}


def cuda_missing(cuda: str | None = None, lead: str = "Device 'cuda' was requested but no CUDA GPU is available"
                 ) -> str:
    """Why 'cuda' cannot be used, naming what the host needs: a GPU and a driver for this torch's CUDA."""
    cuda = cuda if cuda is not None else torch.version.cuda
    if not cuda:
        return (f"{lead}: this torch is a CPU-only build. "
                "Install torch with CUDA (see requirements.txt), or use --device cpu (HVS_DEVICE=cpu).")
    driver = MIN_DRIVER.get(cuda.split(".")[0])
    needs = f" (version {driver} or newer)" if driver else ""
    return (f"{lead}: this torch build uses CUDA {cuda} and "
            f"needs an NVIDIA GPU and an NVIDIA driver that supports CUDA {cuda}{needs}. Check `nvidia-smi` on "
            "the host (it shows the driver and the highest CUDA version it supports) and that the container "
            "sees the GPU (docker run --gpus all); or use --device cpu (HVS_DEVICE=cpu).")


def pick_dtype(requested: str, device: torch.device) -> torch.dtype:
    """bf16 on GPUs, fp16 on Apple MPS, fp32 on CPU (bf16 matmuls are slow on most CPUs)."""
    if requested != "auto":
        if requested not in DTYPES:
            raise ModelLoadError(f"Unknown dtype {requested!r}: use auto, {', '.join(DTYPES)}.")
        return DTYPES[requested]
    return {"cuda": torch.bfloat16, "mps": torch.float16}.get(device.type, torch.float32)


def resolve_checkpoint(model_id: str) -> Path:
    """A local directory holding the checkpoint, downloading it from the Hub (with progress) if needed."""
    if model_id == TINY_MODEL_ID:
        return ensure_tiny_checkpoint()
    local = Path(model_id).expanduser()
    if local.is_dir():
        return local
    if local.exists() or model_id.startswith((".", "/", "~")) or model_id.count("/") != 1:
        raise ModelLoadError(_load_hint(model_id, "no checkpoint directory at that path"))
    from huggingface_hub import snapshot_download

    try:
        log.info("fetching %s from the Hugging Face Hub (cached under HF_HOME)", model_id)
        return Path(snapshot_download(model_id))
    except Exception as err:  # network down, repo missing, gated, disk full: all end the same way
        raise ModelLoadError(_load_hint(model_id, _first_line(err))) from err


QUANTIZE = ("8bit", "4bit")


def check_quantize(quantize: str | None, device: torch.device) -> str | None:
    """8-bit / 4-bit loading needs bitsandbytes and a CUDA GPU: say so before anything is loaded."""
    if not quantize:
        return None
    if quantize not in QUANTIZE:
        raise ModelLoadError(f"Unknown quantization {quantize!r}: use 8bit or 4bit (or leave it unset).")
    if device.type != "cuda":
        raise ModelLoadError(f"--quantize {quantize} needs a CUDA GPU (bitsandbytes); this device is {device}.")
    if importlib.util.find_spec("bitsandbytes") is None:
        raise ModelLoadError(f"--quantize {quantize} needs bitsandbytes: pip install bitsandbytes")
    return quantize


def attention_implementation(device: torch.device) -> str:
    """flash-attention 2 on a CUDA GPU where it is installed, else PyTorch's SDPA kernels."""
    if device.type == "cuda" and importlib.util.find_spec("flash_attn") is not None:
        return "flash_attention_2"
    return "sdpa"


def load_model(checkpoint: Path, device: torch.device, dtype: torch.dtype, quantize: str | None = None):
    """Processor (tokenizer + audio tokenizer) and LM, through transformers' own classes."""
    from transformers import AutoProcessor, BitsAndBytesConfig, HiggsAudioV2ForConditionalGeneration

    options = {"dtype": dtype, "attn_implementation": attention_implementation(device)}
    if quantize:
        # the audio head and audio embeddings stay in bf16: they are small and decide every code
        skip = ["audio_lm_head", "embed_audio_tokens"]
        options["quantization_config"] = BitsAndBytesConfig(load_in_8bit=True, llm_int8_skip_modules=skip) \
            if quantize == "8bit" else BitsAndBytesConfig(load_in_4bit=True, bnb_4bit_quant_type="nf4",
                                                          bnb_4bit_compute_dtype=dtype, llm_int8_skip_modules=skip)
        options["device_map"] = {"": device}
    try:
        processor = AutoProcessor.from_pretrained(checkpoint)
        model = HiggsAudioV2ForConditionalGeneration.from_pretrained(checkpoint, **options)
    except Exception as err:
        raise ModelLoadError(_load_hint(str(checkpoint), _first_line(err))) from err
    if not quantize:
        model.to(device)
    model.eval()
    processor.audio_tokenizer.to(device).eval()
    return processor, model


def _first_line(err: Exception) -> str:
    text = str(err).strip().splitlines()
    return text[0][:300].rstrip(".") if text else type(err).__name__


def _load_hint(model_id: str, reason: str) -> str:
    return (
        f"Could not load model {model_id!r}: {reason}. Pass a Hub id (default {DEFAULT_MODEL_ID}), "
        f"a local checkpoint directory (--model /path/to/checkpoint), or --model {TINY_MODEL_ID} "
        "for the offline random-weight test model."
    )
