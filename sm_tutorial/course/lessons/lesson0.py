"""Lesson 0 exercises: where things run."""
from ..exercises import Exercise, require

WHERE = {"estimator.fit()": "kernel", "model.fit() inside train.py": "job",
         "pip install -r requirements.txt": "job", "sagemaker.Session()": "kernel",
         "reading SM_CHANNEL_TRAIN": "job"}


def _where(answer):
    require(isinstance(answer, dict), "give a dict such as {'estimator.fit()': 'kernel', ...}.")
    missing = sorted(set(WHERE) - set(answer))
    require(not missing, f"say 'kernel' or 'job' for: {', '.join(missing)}.")
    wrong = sorted(k for k, v in WHERE.items() if str(answer[k]).lower() != v)
    require(not wrong, f"look again at: {', '.join(wrong)} (what runs your training script?).")
    return "the kernel only defines and launches; the job runs the script and its installs."


def _cpus(session, job_name, answer):
    from ..exercises import finished_job
    from ...client.logs import job_logs
    d = finished_job(session, job_name)
    instance = d["ResourceConfig"]["InstanceType"]
    require(instance == "ml.c5.4xlarge", f"job {job_name} ran on an {instance}; launch the welcome "
            "script on an ml.c5.4xlarge and pass that job's name.")
    text = job_logs(session, job_name)
    require("CPUs:" in text, "this job's log has no 'CPUs:' line: run the welcome script.")
    seen = int(text.split("CPUs:")[1].split()[0])
    require(isinstance(answer, int) and answer == seen,
            f"{answer!r} is not what this job printed; read its log.")
    return f"{seen} vCPUs, the count an {instance} reports; your laptop's own count does not matter."


q1 = Exercise("kernel or job?", _where,
              "The notebook kernel builds requests; everything inside train.py, and what prepares "
              "its container, runs in the job.",
              "{'estimator.fit()': 'kernel', 'model.fit() inside train.py': 'job',\n"
              " 'pip install -r requirements.txt': 'job', 'sagemaker.Session()': 'kernel',\n"
              " 'reading SM_CHANNEL_TRAIN': 'job'}")
q2 = Exercise("CPUs in the job", _cpus,
              "Look for 'CPUs:' in the log of the job that ran on the ml.c5.4xlarge.",
              "cpus = 16  # the job's log says: host: algo-1 | CPUs: 16")
