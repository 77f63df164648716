"""Lesson 1 exercises: an Estimator defines a job; fit() launches it."""
from pathlib import Path

from ..exercises import Exercise, finished_job, require
from ...settings import REPO_ROOT

COURSE_SCRIPT = REPO_ROOT / "notebooks" / "scripts" / "digits" / "train.py"


def _defined(estimator):
    require(estimator is not None and hasattr(estimator, "instance_type"),
            "pass the Estimator object you built (not a job name).")
    require(estimator.instance_type == "ml.c5.xlarge",
            f"instance_type is {estimator.instance_type!r}; the job should ask for 'ml.c5.xlarge'.")
    require(estimator.max_run == 600, f"max_run is {estimator.max_run}; cap the job at 600 seconds.")
    require(estimator.base_job_name == "digits-c5",
            f"base_job_name is {estimator.base_job_name!r}; use 'digits-c5' so jobs are easy to find.")
    script = Path(str(estimator.source_dir or ".")) / str(estimator.entry_point or "")
    require(script.is_file() and script.read_bytes() == COURSE_SCRIPT.read_bytes(),
            f"the code is {estimator.entry_point!r} in {estimator.source_dir!r}; use the same script "
            "as above: entry_point='train.py', source_dir=SOURCE_DIR.")
    image = estimator.training_image_uri()
    require("tensorflow-training:2.16" in image,
            f"the image is {image.rsplit('/', 1)[-1]}; keep TensorFlow 2.16 (framework_version).")
    require(getattr(estimator, "latest_training_job", None) is None,
            "this one should only be defined, not launched: build a fresh Estimator without fit().")
    return "nothing has run yet: an Estimator is a job definition, fit() is what launches it."


def _reattached(session, job_name, estimator):
    d = finished_job(session, job_name)
    require(d["TrainingJobStatus"] == "Completed", f"job {job_name} ended {d['TrainingJobStatus']}: "
            f"{d.get('FailureReason', '')}")
    require(estimator is not None and getattr(estimator, "latest_training_job", None) is not None
            and estimator.latest_training_job.name == job_name,
            "pass the Estimator returned by Estimator.attach(job_name).")
    source_dir = getattr(estimator, "source_dir", None)
    require(not source_dir or str(source_dir).startswith("s3://"),
            "this is the estimator that launched the job (its source_dir is your local folder); "
            "build a new one from the job's record: Estimator.attach(job_name, sagemaker_session=sess).")
    require(estimator.model_data.endswith(f"/{job_name}/output/model.tar.gz"),
            "the attached estimator does not point at this job's model.tar.gz.")
    return f"reattached to {job_name}; its model is at estimator.model_data."


q1 = Exercise("define a job", _defined,
              "Estimator(..., instance_type=..., max_run=..., base_job_name=...) and no .fit().",
              'TensorFlow(entry_point="train.py", source_dir=SOURCE_DIR, framework_version="2.16",\n'
              '           py_version="py310", role=role, instance_type="ml.c5.xlarge",\n'
              '           instance_count=1, max_run=600, base_job_name="digits-c5",\n'
              '           sagemaker_session=sess)')
q2 = Exercise("launch, let go, reattach", _reattached,
              "fit(wait=False) returns at once; Estimator.attach(name, sagemaker_session=sess) waits "
              "for the job and gives you an estimator for it.",
              "quick.fit(inputs, wait=False)\nname = quick.latest_training_job.name\n"
              "attached = Estimator.attach(name, sagemaker_session=sess)\nq2.check(sess, name, attached)")
