"""The launched studio through gradio_client: /synthesize returns a 24 kHz wav, bad inputs become readable
errors, the server keeps serving, only the documented endpoint is exposed, /healthz answers."""

from __future__ import annotations

import subprocess

import numpy as np
import pytest
import soundfile as sf
from gradio_client import Client, handle_file

from tests.processes import wait_until
from tests.studio_server import healthz, run_studio


@pytest.fixture(scope="module")
def studio(tmp_path_factory):
    folder = tmp_path_factory.mktemp("studio")
    # Takes kept in a folder outside the server's temp dir and working dir, as on a pod's volume.
    env = {"TMPDIR": str(folder / "tmp"), "HVS_TAKES_DIR": str(folder / "volume" / "takes")}
    (folder / "tmp").mkdir()
    with run_studio(folder / "server.log", "--queue-size", "4", env=env) as url:
        yield url, Client(url, verbose=False), folder / "volume" / "takes"


@pytest.fixture(scope="module")
def silent_wav(tmp_path_factory):
    path = tmp_path_factory.mktemp("silent") / "silent.wav"
    sf.write(path, np.zeros(24_000 * 3, np.float32), 24_000)
    return path


def _speak(client: Client, **fields) -> str:
    return client.predict(api_name="/synthesize", **{"max_new_tokens": 40, **fields})


def test_healthz_reports_the_engine(studio):
    url, _, _ = studio
    health = healthz(url)
    assert health["status"] == "ok" and health["watermark"] is True
    assert health["model"] == "tiny-random" and health["device"] == "cpu" and health["dtype"] == "float32"
    assert health["loaded"] is True and health["warmed"] is True
    assert health["queue_depth"] == 0 and health["queue_size"] == 4
    assert health["max_batch"] == 4 and health["generating"] == 0  # CPU default batch
    assert health["batch_invariant"] is True  # uncompiled: a batched take equals its solo take


def test_only_the_documented_endpoints_are_exposed(studio):
    _, client, _ = studio
    api = client.view_api(print_info=False, return_format="dict")
    assert sorted(api["named_endpoints"]) == ["/detect", "/dialogue", "/dialogue_recipe", "/revise", "/synthesize",
                                              "/synthesize_checked", "/synthesize_recipe", "/synthesize_stream"]
    assert not api["unnamed_endpoints"]
    for name in ("/synthesize", "/synthesize_stream", "/synthesize_checked", "/synthesize_recipe"):  # one list
        names = [p["parameter_name"] for p in api["named_endpoints"][name]["parameters"]]
        assert names == ["text", "reference_audio", "reference_text", "scene", "temperature", "top_p", "top_k",
                         "seed", "max_new_tokens", "tone", "setting", "voice", "ras_win_len", "ras_max_repeats",
                         "candidates", "parts"]
    assert [p["parameter_name"] for p in api["named_endpoints"]["/detect"]["parameters"]] == ["audio"]


def test_synthesize_returns_a_24khz_wav_and_the_seed_reproduces_it(studio):
    _, client, takes = studio
    first = _speak(client, text="Hello there.", seed=7, tone="friendly", setting="quiet room")
    assert len(list(takes.glob("api-*.wav"))) == 1  # served from HVS_TAKES_DIR
    info = sf.info(first)
    assert info.samplerate == 24_000 and info.channels == 1 and info.format == "WAV" and info.duration > 0
    again = _speak(client, text="Hello there.", seed=7, tone="friendly", setting="quiet room")
    assert np.array_equal(sf.read(first)[0], sf.read(again)[0])


def test_synthesize_clones_an_uploaded_voice_and_a_preset(studio, speech_wav):
    _, client, _ = studio
    cloned = _speak(client, text="Cloned.", reference_audio=handle_file(str(speech_wav)),
                    reference_text="Hello, this is my voice.", seed=1)
    assert sf.info(cloned).samplerate == 24_000
    preset = _speak(client, text="Preset.", voice="robot_en", seed=1)
    described = _speak(client, text="Described.", voice="warm-british-male", seed=1)
    assert sf.info(preset).duration > 0 and sf.info(described).duration > 0


def test_repetition_options_reach_the_model(studio):
    _, client, _ = studio
    default = sf.read(_speak(client, text="Again and again.", seed=5, max_new_tokens=60))[0]
    strict = sf.read(_speak(client, text="Again and again.", seed=5, max_new_tokens=60, ras_max_repeats=1))[0]
    assert len(default) == len(strict) and not np.array_equal(default, strict)


@pytest.mark.parametrize(("fields", "words"), [
    ({"text": ""}, "no text to speak"),
    ({"text": "   "}, "no text to speak"),
    ({"text": "x" * 2001}, "limit is 2000"),
    ({"text": "Hi.", "temperature": 5.0}, "temperature must be at most 2.0"),
    ({"text": "Hi.", "top_p": 0.0}, "top_p must be more than 0"),
    ({"text": "Hi.", "top_k": -1}, "top_k must be at least 0"),
    ({"text": "Hi.", "max_new_tokens": 100_000}, "max_new_tokens must be at most"),
    ({"text": "Hi.", "seed": -3}, "seed must be at least 0"),
    ({"text": "Hi.", "tone": "furious"}, "Unknown tone 'furious'"),
    ({"text": "Hi.", "top_k": 2.5}, "top_k must be a whole number"),
    ({"text": "Hi.", "top_k": True}, "top_k must be a number, not true"),
    ({"text": "Hi.", "seed": False}, "seed must be a number, not false"),
    ({"text": "Hi.", "ras_win_len": 100}, "ras_win_len must be at most 64"),
    ({"text": "Hi.", "ras_max_repeats": 0}, "ras_max_repeats must be at least 1"),
    ({"text": "Hi <|eot_id|> there."}, "control token"),
    ({"text": 123}, "text has the wrong type"),  # refused like the worker does, never spoken as "123"
    ({"text": ["a", "b"]}, "text has the wrong type"),
    ({"text": "Hi.", "voice": ["robot_en"]}, "voice has the wrong type"),
    ({"text": "Hi.", "scene": 5}, "scene has the wrong type"),
    ({"text": "Hi.", "seed": [1]}, "seed has the wrong type"),  # was "Something went wrong (TypeError)"
    ({"text": "Hi.", "top_k": {"a": 1}}, "top_k has the wrong type"),
])
def test_bad_options_are_readable_errors(studio, fields, words):
    _, client, _ = studio
    with pytest.raises(Exception, match=words.replace("(", r"\(")):
        client.predict(api_name="/synthesize", **fields)


@pytest.mark.parametrize(("fields", "words"), [
    # each was spoken as its Python spelling ("123", "['a', 'b']") or crashed with AttributeError
    ({"scene": 123}, "scene has the wrong type"),
    ({"scene": ["a", "b"]}, "scene has the wrong type"),
    ({"tone": {"calm": 1}}, "tone has the wrong type"),
    ({"setting": 5}, "setting has the wrong type"),
    ({"voice_layout": 5}, "voice_layout has the wrong type"),
    ({"script": 123}, "script has the wrong type"),
    ({"speakers": {"Alice": "robot_en"}}, "speakers has the wrong type"),
    ({"speakers": '{"Alice": {"clip": 0, "reference_text": 5}}'}, "speakers.Alice.reference_text has the wrong type"),
    ({"speakers": "[" * 100_000 + "]" * 100_000}, "speakers is nested too deeply"),  # was RecursionError, a 500
])
def test_dialogue_refuses_wrong_types_in_words(studio, speech_wav, fields, words):
    url, client, takes = studio
    fields = {"script": "Alice: Hi there.", "max_new_tokens": 20, **fields}
    with pytest.raises(Exception, match=words.replace("(", r"\(")):
        client.predict(api_name="/dialogue", clips=[handle_file(str(speech_wav))], **fields)
    assert "AttributeError" not in (takes.parent.parent / "server.log").read_text()


@pytest.mark.parametrize("chunked", [False, True])
def test_an_oversized_event_body_is_refused_before_it_is_read(studio, chunked):
    """Gradio's event routes took a 150 MB JSON body into memory."""
    import httpx

    url, client, _ = studio
    body = b'{"data": ["' + b"x" * (21 * 2**20) + b'"]}'
    content = (body[i:i + 2**20] for i in range(0, len(body), 2**20)) if chunked else body
    answer = httpx.post(f"{url}/gradio_api/call/synthesize", content=content, timeout=60,
                        headers={"content-type": "application/json"})
    assert answer.status_code == 413
    assert "larger than 20 MB" in answer.json()["detail"]
    assert sf.info(_speak(client, text="Still here.", seed=2)).samplerate == 24_000


def test_bad_reference_files_are_readable_errors_and_the_server_keeps_serving(studio, silent_wav, tmp_path):
    url, client, _ = studio
    not_audio = tmp_path / "notes.txt"
    not_audio.write_text("this is not audio")
    with pytest.raises(Exception, match="no audio track|could not be read|not.*audio"):
        _speak(client, text="Hi.", reference_audio=handle_file(str(not_audio)))
    with pytest.raises(Exception, match="silent"):
        _speak(client, text="Hi.", reference_audio=handle_file(str(silent_wav)))
    short = tmp_path / "short.wav"
    subprocess.run(["sox", "-n", "-r", "24000", "-c", "1", str(short), "synth", "0.3", "sine", "440"], check=True)
    with pytest.raises(Exception, match="speech"):
        _speak(client, text="Hi.", reference_audio=handle_file(str(short)))
    # A URL Gradio will not fetch (a loopback address): was "The upstream Gradio app has raised an exception"
    with pytest.raises(Exception, match="given by URL could not be fetched"):
        _speak(client, text="Hi.", reference_audio=handle_file(f"{url}/gradio_api/file=/nonexistent.wav"))
    # Still serving, and healthy.
    assert sf.info(_speak(client, text="Still here.", seed=2)).samplerate == 24_000
    assert healthz(url)["status"] == "ok"


def test_a_path_on_the_server_is_refused_without_naming_server_folders(studio):
    import os
    import tempfile

    import requests

    url, _, _ = studio
    for path, sent in [(p, {"path": p, "meta": {"_type": "gradio.FileData"}})
                       for p in ("/etc/hostname", os.path.join(os.getcwd(), "README.md"))] + [("/etc/hostname",
                                                                                               "/etc/hostname")]:
        # Raw HTTP: gradio_client would upload a local path instead of sending it. (A bare string used to be
        # answered with {"error": null} and a pydantic traceback in the log.)
        data = ["Hi.", sent] + [None] * 14  # every parameter of /synthesize
        event = requests.post(f"{url}/gradio_api/call/synthesize", json={"data": data}, timeout=10).json()["event_id"]
        message = requests.get(f"{url}/gradio_api/call/synthesize/{event}", timeout=60).text
        assert "event: error" in message and "not uploaded with it" in message, message
        assert path not in message and os.getcwd() not in message and tempfile.gettempdir() not in message


def test_an_upload_over_the_engine_limit_is_refused(studio):
    import requests

    from inference.audio.codec import MAX_UPLOAD_BYTES

    url, _, _ = studio
    big = requests.post(f"{url}/gradio_api/upload", files={"files": ("big.wav", b"\0" * (MAX_UPLOAD_BYTES + 1024))},
                        timeout=60)
    assert big.status_code == 413, big.text[:200]
    small = requests.post(f"{url}/gradio_api/upload", files={"files": ("small.wav", b"RIFF" + b"\0" * 64)}, timeout=60)
    assert small.status_code == 200


@pytest.fixture(scope="module")
def guarded(tmp_path_factory):
    """A second studio: password from the environment, one take at a time and a queue of one."""
    log = tmp_path_factory.mktemp("guarded") / "server.log"
    with run_studio(log, "--queue-size", "1", "--max-batch", "1", env={"HVS_AUTH": "ann:s3cret-pw", "HVS_ASR_MODEL": "none"}) as url:
        yield url, Client(url, auth=("ann", "s3cret-pw"), verbose=False), log


def test_auth_from_the_environment_guards_the_page_not_healthz(guarded):
    import urllib.error
    import urllib.request

    url, client, log = guarded
    assert healthz(url)["status"] == "ok"  # load balancers need no password
    with pytest.raises(urllib.error.HTTPError) as refused:
        urllib.request.urlopen(f"{url}/config", timeout=10)
    assert refused.value.code == 401
    assert sf.info(_speak(client, text="Let me in.", seed=4)).samplerate == 24_000
    assert "s3cret-pw" not in log.read_text()


def test_a_full_queue_is_refused_with_a_message_and_the_server_recovers(guarded):
    url, client, _ = guarded
    jobs = [client.submit(api_name="/synthesize", text="A long sentence to keep the server busy for a while.",
                          max_new_tokens=300, seed=seed) for seed in range(4)]
    outcomes = []
    for job in jobs:
        try:
            outcomes.append(sf.info(job.result(timeout=120)).samplerate)
        except Exception as err:  # noqa: BLE001
            outcomes.append(str(err))
    refused = [o for o in outcomes if isinstance(o, str)]
    assert refused and all("Queue is full" in o for o in refused), outcomes
    assert 24_000 in outcomes
    assert sf.info(_speak(client, text="Back to normal.", seed=5)).samplerate == 24_000
    assert healthz(url)["queue_depth"] == 0


def test_two_visitors_at_once_are_batched_and_each_gets_their_own_take(studio):
    """Two gradio_client visitors at the same moment reach the batcher together (the queue's concurrency
    follows the batch size), and each take equals the same request made alone."""
    url, _, _ = studio
    asks = [{"text": "The first visitor speaks.", "seed": 41}, {"text": "A second visitor, longer.", "seed": 42}]
    visitors = [Client(url, verbose=False) for _ in asks]
    alone = [sf.read(_speak(visitors[0], max_new_tokens=300, **ask))[0] for ask in asks]
    jobs = [visitor.submit(api_name="/synthesize", max_new_tokens=300, **ask)
            for visitor, ask in zip(visitors, asks, strict=True)]
    together = [sf.read(job.result(timeout=300))[0] for job in jobs]
    assert healthz(url)["peak_batch"] >= 2
    for a, b in zip(alone, together, strict=True):
        assert np.array_equal(a, b)


def test_the_studio_login_guards_the_openai_api_too(guarded):
    import base64

    import httpx

    url, _, log = guarded
    body = {"input": "Let me in.", "voice": "smart", "response_format": "wav", "max_new_tokens": 20}
    refused = httpx.post(f"{url}/v1/audio/speech", json=body, timeout=60)
    assert refused.status_code == 401 and refused.json()["error"]["code"] == "invalid_api_key"
    said = refused.json()["error"]["message"]  # a login and no key: it asks for the login, not HVS_API_KEY
    assert "Basic" in said and "log in" in said and "HVS_API_KEY" not in said, said
    assert refused.headers["www-authenticate"].startswith("Basic")
    for wrong in ("Bearer ann:wrong", "Digest ann:s3cret-pw"):  # only Bearer and Basic carry the login
        assert httpx.post(f"{url}/v1/audio/speech", json=body, timeout=60,
                          headers={"Authorization": wrong}).status_code == 401, wrong
    basic = "Basic " + base64.b64encode(b"ann:s3cret-pw").decode()
    for credentials in (basic, "Bearer ann:s3cret-pw"):
        answer = httpx.post(f"{url}/v1/audio/speech", json=body, timeout=60, headers={"Authorization": credentials})
        assert answer.status_code == 200 and answer.content.startswith(b"RIFF")
    assert "s3cret-pw" not in log.read_text()


def test_openai_api_is_503_until_the_model_is_loaded():
    """The routes on an app of their own, in process, with an engine that has not loaded its model yet."""
    from fastapi import FastAPI
    from fastapi.testclient import TestClient

    from inference import Engine
    from openai_api import speech_routes
    from ui import Studio

    app = FastAPI(routes=speech_routes(Studio(Engine("tiny-random"))))
    reply = TestClient(app).post("/v1/audio/speech", json={"input": "Too early."})
    assert reply.status_code == 503 and reply.json()["error"]["code"] == "model_not_ready"


def _idle(url: str) -> bool:
    health = healthz(url)
    return not health["busy"] and health["queue_depth"] == 0


def test_a_cancelled_api_take_stops_and_frees_the_model(studio):
    """job.cancel() used to leave the take generating to its end (here 4096 steps: minutes)."""
    url, client, _ = studio
    job = client.submit(api_name="/synthesize", text="A take nobody waits for.", max_new_tokens=4096, seed=1)
    assert wait_until(lambda: healthz(url)["busy"], 120)
    assert job.cancel()
    assert wait_until(lambda: _idle(url), 30), healthz(url)


def test_a_cancelled_dialogue_stops_and_frees_the_model(studio):
    """/dialogue ran every turn to its end after its caller cancelled (or went away)."""
    url, client, takes = studio
    job = client.submit(api_name="/dialogue", script="Alice: Hello there.\nBob: Hi Alice.\nAlice: Bye now.",
                        max_new_tokens=4096, seed=1)
    assert wait_until(lambda: healthz(url)["busy"], 120)
    assert job.cancel()
    assert wait_until(lambda: _idle(url), 30), healthz(url)
    assert "never retrieved" not in (takes.parent.parent / "server.log").read_text()  # (asyncio's task error)


def test_an_api_caller_that_disconnects_stops_its_take(studio):
    import sys

    url, _, _ = studio
    # The caller reports once the server told it (over its open event stream) that the take is running.
    caller = subprocess.Popen([sys.executable, "-c", (
        "import time; from gradio_client import Client; from gradio_client.utils import Status\n"
        f"job = Client({url!r}, verbose=False).submit(api_name='/synthesize', text='Gone soon.', max_new_tokens=4096)\n"
        "while job.status().code != Status.PROCESSING: time.sleep(0.1)\n"
        "print('running', flush=True); time.sleep(600)")], stdout=subprocess.PIPE, text=True)
    try:
        assert caller.stdout.readline().strip() == "running"
        assert wait_until(lambda: healthz(url)["busy"], 60)
    finally:
        caller.kill()
        caller.wait()
    assert wait_until(lambda: _idle(url), 45), healthz(url)  # Gradio notices a dropped connection within ~10 s
    assert sf.info(_speak(Client(url, verbose=False), text="Next caller.", seed=3)).samplerate == 24_000


def test_the_start_up_log_names_our_share_flag_not_gradios_argument(guarded):
    """Gradio's launch() printed "set `share=True` in `launch()`", where the docs say --share."""
    *_, log = guarded
    text = log.read_text()
    assert "* Running on local URL:  http://127.0.0.1:" in text
    assert "* To create a public link, start with --share (or HVS_SHARE=1)." in text
    assert "share=True" not in text and "launch()" not in text


def test_a_take_comes_with_its_recipe_and_revise_edits_one_part(studio, speech_wav):
    """/synthesize_recipe gives the take and its recipe; /revise makes part 1 anew (the clip sent again), then
    choosing variant 0 gives the first take back, sample for sample; bad recipes are sentences."""
    import json
    from pathlib import Path

    _, client, _ = studio
    text = " ".join(["The river runs past the old mill and into the quiet valley below."] * 9)  # 117 words: 2 parts
    first, recipe = client.predict(text=text, reference_audio=handle_file(str(speech_wav)), max_new_tokens=14,
                                   seed=3, api_name="/synthesize_recipe")
    assert recipe["model"] == "tiny-random" and len(recipe["parts"]) == 2
    audio, vtt, srt, revised = client.predict(recipe=recipe, part=1, seed=8, clips=[handle_file(str(speech_wav))],
                                              api_name="/revise")
    assert [v["seed"] for v in revised["parts"][1]["variants"]] == [4, 8] and revised["parts"][1]["chosen"] == 1
    assert Path(vtt).read_text().count(" --> ") == 2 and Path(srt).read_text().startswith("1\n")
    back = client.predict(recipe=json.dumps(revised), part=1, action="choose", variant=0, api_name="/revise")
    assert np.array_equal(sf.read(back[0])[0], sf.read(first)[0])
    with pytest.raises(Exception, match="send the same clip again"):
        client.predict(recipe=recipe, part=0, api_name="/revise")
    future, other = {**recipe, "version": 9}, {**recipe, "model": "someone/else"}
    for bad, words in (("{broken", "not valid JSON"), (future, "newer studio"), (other, "made with the model"),
                       ({**recipe, "parts": recipe["parts"] * 40}, "at most 64"), (recipe, "no part 7")):
        with pytest.raises(Exception, match=words):
            client.predict(recipe=bad, part=7 if bad is recipe else 0, action="delete", api_name="/revise")
    audio, vtt, srt, again = client.predict(recipe=recipe, action="render", api_name="/revise")
    assert np.array_equal(sf.read(audio)[0], sf.read(first)[0]) and again["parts"] == recipe["parts"]
    # One part per sentence: a 3-sentence text becomes 3 parts, each to revise alone.
    _, by_sentence = client.predict(text="One. Two more. And three!", parts="sentence", max_new_tokens=10, seed=3,
                                    api_name="/synthesize_recipe")
    assert [p["variants"][0]["text"] for p in by_sentence["parts"]] == ["One.", "Two more.", "And three!"]
    with pytest.raises(Exception, match="'length' or 'sentence'"):
        client.predict(text="One. Two.", parts="words", api_name="/synthesize_recipe")
