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


def _failure(session, job_name):
    d = finished_job(session, job_name)
    require(d["TrainingJobStatus"] == "Failed",
            f"job {job_name} ended {d['TrainingJobStatus']}; the script should exit non-zero.")
    reason = d.get("FailureReason", "")
    require(reason.startswith("Bad data:"), f"FailureReason is {reason[:80]!r}; write a line "
            "starting 'Bad data:' to the failure file (os.environ['SM_OUTPUT_DIR'] + '/failure').")
    return "your own words became the job's FailureReason, the first thing anyone sees."


q1 = Exercise("where the channel modes live", _config_path,
              "Three JSON files sit in /opt/ml/input/config/; one describes the data channels.",
              "'/opt/ml/input/config/inputdataconfig.json'")
q2 = Exercise("your own failure reason", _failure,
              "Write the message to os.path.join(os.environ['SM_OUTPUT_DIR'], 'failure'), then "
              "sys.exit(1).",
              "import os, sys\nwith open(os.path.join(os.environ['SM_OUTPUT_DIR'], 'failure'), 'w') as f:\n"
              "    f.write('Bad data: no rows in the train channel')\nsys.exit(1)")
