"""A job's log stream in CloudWatch Logs, where the SDK's ``fit(logs=True)`` tails it."""
from __future__ import annotations

import threading
from pathlib import Path
import time

LOG_GROUP = "/aws/sagemaker/TrainingJobs"
MAX_PENDING = 50_000  # events kept for a retry while PutLogEvents fails


class LogStream:
    """Buffers lines and sends them with PutLogEvents at most every ``interval`` seconds."""

    def __init__(self, logs_client, job_name: str, copy_to: Path | None = None,
                 host: str = "algo-1", interval: float = 0.2):
        self.client, self.interval = logs_client, interval
        self.name = f"{job_name}/{host}-{int(time.time())}"
        self._pending: list[dict] = []
        self._lock = threading.Lock()
        self._last_flush = 0.0
        try:
            self.client.create_log_group(logGroupName=LOG_GROUP)
        except self.client.exceptions.ResourceAlreadyExistsException:
            pass
        self.client.create_log_stream(logGroupName=LOG_GROUP, logStreamName=self.name)
        self._copy = copy_to.open("a", encoding="utf-8") if copy_to else None
        self.copy_error: OSError | None = None  # the disk refused the copy: CloudWatch goes on
        self.send_error: Exception | None = None  # the first PutLogEvents that failed

    def write(self, line: str) -> None:
        if not line.strip():
            return  # CloudWatch refuses empty events
        with self._lock:
            self._pending.append({"timestamp": int(time.time() * 1000), "message": line.rstrip("\n")})
            if self._copy:  # a copy on disk outlives the in-memory CloudWatch of the endpoint
                try:
                    self._copy.write(line.rstrip("\n") + "\n")
                    self._copy.flush()
                except OSError as error:  # full disk: never let it stop the script's output
                    self.copy_error, copy, self._copy = error, self._copy, None
                    try:
                        copy.close()
                    except OSError:
                        pass
        self.flush(force=False)

    def flush(self, force: bool = True) -> None:
        with self._lock:
            if not self._pending or (not force and time.time() - self._last_flush < self.interval):
                return
            events, self._pending = self._pending, []
            self._last_flush = time.time()
            sent = 0
            try:
                for sent in range(0, len(events), 5000):
                    self.client.put_log_events(logGroupName=LOG_GROUP, logStreamName=self.name,
                                               logEvents=events[sent:sent + 5000])
                sent = len(events)
            except Exception as error:  # CloudWatch refused or is gone: never stop the output
                self.send_error = self.send_error or error
                # retried at the next flush; past the cap the oldest are dropped (the copy on
                # disk keeps every line)
                self._pending = (events[sent:] + self._pending)[-MAX_PENDING:]

    def close(self) -> None:
        try:
            self.flush()
        finally:
            if self._copy:
                copy, self._copy = self._copy, None
                try:
                    copy.close()
                except OSError as error:
                    self.copy_error = self.copy_error or error
