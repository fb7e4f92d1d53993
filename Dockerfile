# syntax=docker/dockerfile:1
# Higgs Voice Studio on a CUDA GPU. Two targets:
#   docker build -t higgs-voice-studio .                                    # the web studio (RunPod pod), port 7860
#   docker build --target serverless -t higgs-voice-studio-worker .         # the RunPod serverless worker
# Bake the weights into the image (no download at start / cold start):
#   docker build --build-arg PRELOAD_MODEL=bosonai/higgs-audio-v2-generation-3B-base ...
# torch 2.11's PyPI wheels bring their own CUDA 13 libraries: the host needs an NVIDIA driver >= 580.

ARG BASE_IMAGE=nvidia/cuda:13.0.0-runtime-ubuntu24.04

FROM ${BASE_IMAGE} AS base
ENV DEBIAN_FRONTEND=noninteractive \
    PYTHONUNBUFFERED=1 \
    PYTHONDONTWRITEBYTECODE=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    VIRTUAL_ENV=/opt/venv \
    PATH=/opt/venv/bin:$PATH
# hadolint ignore=DL3008
RUN apt-get update \
    && apt-get install -y --no-install-recommends python3 python3-venv ca-certificates curl \
    && rm -rf /var/lib/apt/lists/* \
    && python3 -m venv "$VIRTUAL_ENV" \
    && useradd --create-home --uid 1000 --shell /bin/sh studio \
    && mkdir -p /workspace /opt/hf /app \
    && chown studio:studio /workspace /opt/hf /app

# /app is the studio user's: the runpod SDK writes its job state (.runpod_jobs.pkl) to the working directory.
WORKDIR /app
# Requirements first: this layer (torch, CUDA wheels) is rebuilt only when requirements.txt changes.
COPY requirements.txt .
RUN pip install -r requirements.txt

COPY --chown=studio:studio inference/ inference/
COPY --chown=studio:studio studio/ studio/
COPY --chown=studio:studio cli/ cli/
COPY --chown=studio:studio backends/ backends/
COPY --chown=studio:studio serverless/ serverless/
COPY --chown=studio:studio ui/ ui/
COPY --chown=studio:studio openai_api/ openai_api/
COPY --chown=studio:studio assets/ assets/
COPY --chown=studio:studio app.py settings.py docker/entrypoint.sh ./

USER 1000:1000
ARG PRELOAD_MODEL=""
ARG PRELOAD_EXTRA=""
RUN if [ -n "$PRELOAD_MODEL" ]; then \
        HF_HOME=/opt/hf python -m serverless.preload "$PRELOAD_MODEL" $PRELOAD_EXTRA && touch /opt/hf/.preloaded; \
    fi
# Fail fast on a host whose GPU is not usable (an old driver, no --gpus): the 3B model on CPU is of no use.
ENV HF_HOME=/workspace/hf \
    HVS_CACHE=/workspace/cache \
    HVS_DEVICE=cuda \
    GRADIO_ANALYTICS_ENABLED=False
ENTRYPOINT ["/app/entrypoint.sh"]

# ---- RunPod serverless worker: `python -m serverless.handler` --------------------------------------------------
FROM base AS serverless
# Serverless workers have no /workspace; a network volume, if attached, is mounted at /runpod-volume.
ENV HF_HOME=/runpod-volume/hf \
    HVS_CACHE=/tmp/hvs-cache \
    RUNPOD_LOG_LEVEL=INFO
CMD ["python", "-m", "serverless.handler"]

# ---- Web studio on a RunPod pod (default target) ----------------------------------------------------------------
FROM base AS pod
ENV PORT=7860
EXPOSE 7860
HEALTHCHECK --interval=30s --timeout=5s --start-period=600s --retries=3 \
    CMD ["sh", "-c", "curl -fsS \"http://127.0.0.1:${PORT}/healthz\" || exit 1"]
CMD ["python", "app.py", "--host", "0.0.0.0"]
