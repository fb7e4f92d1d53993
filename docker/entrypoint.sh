#!/bin/sh
# Picks where model weights and the studio's cache live, then runs the container's command.
#  - weights baked into the image (build arg PRELOAD_MODEL) are used from /opt/hf;
#  - otherwise HF_HOME (default /workspace/hf, the RunPod volume) so downloads survive restarts;
#  - a mounted volume this user cannot write falls back to the container disk, with a warning saying how to fix
#    it; with no volume there at all (a serverless worker without a network volume) the fallback is silent.
set -e

writable() { mkdir -p "$1" 2>/dev/null && [ -w "$1" ]; }
# The volume a folder would live on: its parent (/workspace for /workspace/hf, /runpod-volume for /runpod-volume/hf).
volume_there() { [ -d "${1%/*}" ]; }

if [ -f /opt/hf/.preloaded ] && [ "${HVS_USE_PRELOADED:-1}" = "1" ]; then
    export HF_HOME=/opt/hf
elif ! writable "$HF_HOME"; then
    if volume_there "$HF_HOME"; then
        echo "WARNING: HF_HOME=$HF_HOME is not writable by uid $(id -u): weights go to the container disk and will" \
             "be downloaded again after a restart. Fix: make the volume writable for uid $(id -u)" \
             "(chown -R $(id -u):$(id -g) ${HF_HOME%/*}), set HF_HOME to a" \
             "writable folder, or bake the weights into the image (build arg PRELOAD_MODEL)." >&2
    fi
    export HF_HOME="$HOME/.cache/huggingface"
fi
if ! writable "$HVS_CACHE"; then
    if volume_there "$HVS_CACHE"; then
        echo "WARNING: HVS_CACHE=$HVS_CACHE is not writable by uid $(id -u): the studio's cache goes to the" \
             "container disk, so without HVS_BROWSER_SECRET the key of visitors' saved voices changes at every" \
             "restart. Fix: make the volume writable for uid $(id -u) (chown -R $(id -u):$(id -g)" \
             "${HVS_CACHE%/*}) and set HVS_BROWSER_SECRET." >&2
    fi
    export HVS_CACHE="$HOME/.cache"
fi
exec "$@"
