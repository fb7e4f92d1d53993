"""SIGTERM during a worker job: the job is finished and answered, then the worker exits."""

from __future__ import annotations

import signal
import threading
import time

from tests.worker_support import LOGS, post, runsync, worker_process


def test_sigterm_lets_the_running_job_finish(voices_dir):
    with worker_process({"HVS_VOICES_DIR": str(voices_dir), "HVS_WARMUP": "0", "HVS_DRAIN_S": "120"},
                        "drain") as (url, process):
        (health,) = runsync(url, {"health": True})  # the first job also installs the drain handler
        assert health["status"] == "ok"
        replies: list[dict] = []
        job = threading.Thread(target=lambda: replies.append(
            post(url, "runsync", {"input": {"text": "Finish me first.", "max_new_tokens": 40, "seed": 1}},
                 timeout=300)))
        job.start()
        time.sleep(3)  # the job is running (the local API serves one request at a time)
        process.send_signal(signal.SIGTERM)
        job.join(timeout=300)
        assert replies and replies[0]["status"] == "COMPLETED", replies
        (result,) = replies[0]["output"]
        assert result["type"] == "result" and result["duration_s"] > 0
        # then it exits: the local API server (uvicorn) re-raises SIGTERM once its graceful shutdown is done
        assert process.wait(timeout=60) in (0, -signal.SIGTERM)
    assert "SIGTERM: draining" in (LOGS / "drain.log").read_text()

