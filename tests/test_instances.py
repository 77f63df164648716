"""Every training instance type of AWS's service model is accepted (issue 12 part 2), with the
hardware counts of a maintained table (moto's EC2 data, the SDK's for retired types)."""
import json

import botocore.session
import pytest

from sm_tutorial.platform import instances



def test_every_type_of_the_model_has_hardware():
    enum = botocore.session.get_session().get_service_model("sagemaker") \
        .shape_for("TrainingInstanceType").enum
    assert instances.names() == tuple(enum) and len(enum) > 100 and "ml.p2.xlarge" in enum
    for name in enum:
        spec = instances.lookup(name)
        assert spec.vcpus >= 1 and spec.gpus >= 0, name


@pytest.mark.parametrize("name,vcpus,gpus", [
    ("ml.m5.xlarge", 4, 0), ("ml.c5.xlarge", 4, 0), ("ml.p2.xlarge", 4, 1),
    ("ml.p3.2xlarge", 8, 1), ("ml.g5.12xlarge", 48, 4), ("ml.p4d.24xlarge", 96, 8)])
def test_published_counts(name, vcpus, gpus):
    spec = instances.lookup(name)
    assert (spec.vcpus, spec.gpus) == (vcpus, gpus)


def test_p2_xlarge_job_runs_on_cpu_and_sees_one_gpu(sess, source):
    script = """
        import json, os
        out = {k: os.environ[k] for k in ("SM_NUM_GPUS", "SM_NUM_CPUS", "SM_CURRENT_INSTANCE_TYPE")}
        json.dump(out, open(os.path.join(os.environ["SM_MODEL_DIR"], "env.json"), "w"))
        print("ran on", os.cpu_count(), "local CPUs")
        """
    from sagemaker.tensorflow import TensorFlow
    import sm_tutorial
    est = TensorFlow(entry_point="train.py", source_dir=source(script), role=sm_tutorial.role(),
                     instance_type="ml.p2.xlarge", instance_count=1, framework_version="2.1.0",
                     py_version="py3", sagemaker_session=sess, disable_profiler=True)
    est.fit(logs=False)
    assert est.latest_training_job.describe()["TrainingJobStatus"] == "Completed"
    from conftest import s3_tar
    seen = json.loads(s3_tar(sess, est.model_data)["env.json"])
    assert seen == {"SM_NUM_GPUS": "1", "SM_NUM_CPUS": "4", "SM_CURRENT_INSTANCE_TYPE": "ml.p2.xlarge"}
