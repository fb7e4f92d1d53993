"""What travels between a studio and a remote server, as pydantic models both ends import.

    runpod_job.py     a RunPod job's input: a take, a dialogue, a health or a detect job (backends/runpod_input.py
                      sends it, serverless/job.py reads it)
    runpod_output.py  what the worker answers: chunks, the result, a prompt, its health, an error
    openai_speech.py  the body of POST /v1/audio/speech and the studio's extensions to it (openai_api/ reads
                      it, backends/openai_compatible.py sends it)
    fetch.py          a clip that arrives as base64 or as a URL, fetched with guards (private addresses, size, time)
    objects.py        what the models share: a dialogue's speakers read with errors naming speaker and field

No torch, Gradio or HTTP framework here: only the engine's contract, pydantic and the standard library.
"""
