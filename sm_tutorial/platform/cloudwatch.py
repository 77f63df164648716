"""A job's log stream in CloudWatch Logs, where the SDK's ``fit(logs=True)`` tails it."""
from __future__ import annotations

import threading
from pathlib import Path
import time

LOG_GROUP = "/aws/sagemaker/TrainingJobs"
MAX_PENDING = 50_000  # events kept for a retry while PutLogEvents fails


class LogStream:
    """Buffers lines; its own thread sends them with PutLogEvents at most every ``interval``
    seconds. ``write`` only appends under the lock and never waits on the network: a
    CloudWatch that is slow or failing (botocore's retries, a timeout) must not stall the pump
    that drains the script's pipe, or the script blocks on a full pipe."""

    def __init__(self, logs_client, job_name: str, copy_to: Path | None = None,
                 host: str = "algo-1", interval: float = 0.2, close_timeout: float = 10.0,
                 group: str = LOG_GROUP):
        self.client, self.interval, self.close_timeout = logs_client, interval, close_timeout
        self.group = group  # an endpoint's: /aws/sagemaker/Endpoints/<name>
        self.name = f"{job_name}/{host}-{int(time.time())}"
        self._pending: list[dict] = []
        self._lock = threading.Lock()  # _pending and the copy; never held while sending
        self._wake, self._closing = threading.Event(), False
        try:
            self.client.create_log_group(logGroupName=group)
        except self.client.exceptions.ResourceAlreadyExistsException:
            pass
        self.client.create_log_stream(logGroupName=group, logStreamName=self.name)
        self._copy = copy_to.open("a", encoding="utf-8") if copy_to else None
        self.copy_error: OSError | None = None  # the disk refused the copy: CloudWatch goes on
        self._sender = threading.Thread(target=self._send_loop, name=f"logs-{job_name}",
                                        daemon=True)
        self._sender.start()

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

    def flush(self, force: bool = True) -> None:
        """Ask the sender to send now (``force``); returns at once either way."""
        if force:
            self._wake.set()

    def _send_loop(self) -> None:
        while True:
            self._wake.wait(self.interval)
            self._wake.clear()
            closing = self._closing
            self._send_pending()
            if closing:
                return

    def _send_pending(self) -> None:
        with self._lock:
            events, self._pending = self._pending, []
        if not events:
            return
        sent = 0
        try:  # outside the lock: write() goes on meanwhile
            for sent in range(0, len(events), 5000):
                self.client.put_log_events(logGroupName=self.group, logStreamName=self.name,
                                           logEvents=events[sent:sent + 5000])
            sent = len(events)
        except Exception:  # CloudWatch refused or is gone: never stop the output
            # retried at the next send; past the cap the oldest are dropped (the copy on disk
            # keeps every line)
            with self._lock:
                self._pending = (events[sent:] + self._pending)[-MAX_PENDING:]

    def close(self) -> None:
        """Send what is left (waiting at most ``close_timeout`` for CloudWatch), close the copy."""
        try:
            self._closing = True
            self._wake.set()
            self._sender.join(self.close_timeout)
        finally:
            with self._lock:
                copy, self._copy = self._copy, None
            if copy:
                try:
                    copy.close()
                except OSError as error:
                    self.copy_error = self.copy_error or error
