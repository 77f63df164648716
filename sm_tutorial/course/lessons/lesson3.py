"""Lesson 3 exercises: the /opt/ml tree and the failure file."""
from ..exercises import Exercise, finished_job, require


def _config_path(answer):
    require(isinstance(answer, str), "answer with a path string such as '/opt/ml/...'.")
    path = answer.strip().rstrip("/")
    require(path.startswith("/opt/ml/"), "give the path as the script sees it on AWS, from /opt/ml/.")
    require(path.endswith(".json") and "/input/config/" in path,
            "the per-channel settings are one of the three JSON files in input/config/.")
    require(path == "/opt/ml/input/config/inputdataconfig.json",
            f"{path.rsplit('/', 1)[-1]} is not the one with each channel's TrainingInputMode.")
    return "inputdataconfig.json: one entry per channel, with its TrainingInputMode."


def _channel_uri(description):
    return [c["DataSource"]["S3DataSource"]["S3Uri"] for c in description.get("InputDataConfig", [])
            if c["ChannelName"] == "train"]


def _failure(session, job_without_rows, job_with_rows):
    empty = finished_job(session, job_without_rows)
    full = finished_job(session, job_with_rows)
    require(job_without_rows != job_with_rows and _channel_uri(empty) != _channel_uri(full),
            "pass two jobs of the same script: one on the empty CSV, one on data['csv'].")
    require(empty["TrainingJobStatus"] == "Failed",
            f"the job without rows ended {empty['TrainingJobStatus']}: after writing the failure "
            "file, sys.exit(1); a script that exits 0 has succeeded, whatever it wrote.")
    reason = empty.get("FailureReason", "")
    require(reason.startswith("Bad data:"), f"FailureReason is {reason[:80]!r}; write a line "
            "starting 'Bad data:' to the failure file (os.environ['SM_OUTPUT_DIR'] + '/failure').")
    require(full["TrainingJobStatus"] == "Completed",
            f"the job with rows ended {full['TrainingJobStatus']} "
            f"({full.get('FailureReason', '')[:60]!r}): fail only when there are no rows.")
    return "your own words became the job's FailureReason, and only when the data was missing."


q1 = Exercise("where the channel modes live", _config_path,
              "Three JSON files sit in /opt/ml/input/config/; one describes the data channels.",
              "'/opt/ml/input/config/inputdataconfig.json'")
q2 = Exercise("your own failure reason", _failure,
              "When rows == 0: write the message to os.path.join(os.environ['SM_OUTPUT_DIR'], "
              "'failure'), then sys.exit(1).",
              "if rows == 0:\n"
              "    with open(os.path.join(os.environ['SM_OUTPUT_DIR'], 'failure'), 'w') as f:\n"
              "        f.write('Bad data: no rows in the train channel')\n"
              "    sys.exit(1)")
