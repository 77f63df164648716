"""A job's log lines, read back from CloudWatch Logs the way the SDK reads them."""
from __future__ import annotations

from ..platform.cloudwatch import LOG_GROUP


def job_logs(session, job_name: str) -> str:
    """Every line the job wrote (script output and platform lines), oldest first."""
    logs = session.boto_session.client("logs")
    streams = logs.describe_log_streams(logGroupName=LOG_GROUP, logStreamNamePrefix=job_name + "/")
    lines = []
    for stream in streams["logStreams"]:
        kwargs = {"logGroupName": LOG_GROUP, "logStreamName": stream["logStreamName"],
                  "startFromHead": True}
        while True:
            page = logs.get_log_events(**kwargs)
            lines += [event["message"] for event in page["events"]]
            if not page["events"] or page.get("nextForwardToken") == kwargs.get("nextToken"):
                break
            kwargs["nextToken"] = page["nextForwardToken"]
    return "\n".join(lines)
