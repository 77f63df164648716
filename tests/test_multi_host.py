"""Issue 13: multi-instance jobs. N hosts algo-1 ... algo-N, each its own container (own /opt/ml,
launcher, network namespace); per-host config and SM_* as AWS's toolkit computes them; data per
host (FullyReplicated, ShardedByS3Key; File, FastFile, Pipe); hosts reach each other by name;
a failing host fails the job; stop and MaxRuntime stop all; one log stream per host; merged
artifacts; distribution= as TF_CONFIG; bad input refused before anything runs."""
from __future__ import annotations

import copy
import json
import time

import boto3
import pytest
from botocore.exceptions import ClientError

from conftest import estimator, s3_tar, output_tar_uri

pytestmark = pytest.mark.usefixtures("multi_host")


@pytest.fixture
def multi_host():
    from sm_tutorial.platform import cluster
    problem = cluster.unavailable()
    if problem:
        pytest.skip(f"no multi-instance jobs here: {problem}")


def hosts_estimator(sess, source_dir, count, hyperparameters=None, **kwargs):
    est = estimator(sess, source_dir, hyperparameters, **kwargs)
    est.instance_count = count
    return est


def put_objects(sess, prefix, count):
    import sm_tutorial
    s3 = boto3.client("s3", endpoint_url=sm_tutorial.endpoint_url())
    bucket = sess.default_bucket()
    for i in range(count):
        s3.put_object(Bucket=bucket, Key=f"{prefix}/part-{i:02d}.txt", Body=f"object {i}".encode())
    return f"s3://{bucket}/{prefix}/"


def host_log(job_name, host):
    from sm_tutorial.settings import workspace
    path = workspace() / "jobs" / job_name / f"{host}.log"
    return path.read_text() if path.exists() else ""


def lines_with(text, tag):
    return [line.split(tag, 1)[1].strip() for line in text.splitlines() if tag in line]


PROBE = '''
import json, os, socket, time
host = os.environ["SM_CURRENT_HOST"]
print("ENV", json.dumps({k: v for k, v in os.environ.items() if k.startswith("SM_") or k in ("TF_CONFIG", "CURRENT_HOST")}))
print("HOSTNAME", socket.gethostname())
print("SHARDED", json.dumps(sorted(os.listdir(os.environ["SM_CHANNEL_SHARDED"]))))
print("REPLICATED", json.dumps(sorted(os.listdir(os.environ["SM_CHANNEL_REPLICATED"]))))
print("CONFIG", open("/opt/ml/input/config/resourceconfig.json").read())
if host == "algo-1":
    server = socket.socket()
    server.bind(("0.0.0.0", 8890))  # every host binds the same port, as TF's gRPC server does
    server.listen(1)
    conn, (address, _) = server.accept()
    print("RECEIVED", conn.recv(100).decode(), "from", address)
else:
    mine = socket.socket()
    mine.bind(("0.0.0.0", 8890))
    for _ in range(200):
        try:
            conn = socket.create_connection(("algo-1", 8890), timeout=5)
            break
        except OSError:
            time.sleep(0.05)
    conn.sendall(("hello from " + host).encode())
import boto3
print("S3", len(boto3.client("s3").list_buckets()["Buckets"]))  # the endpoint, through the relay
model = os.environ["SM_MODEL_DIR"]
open(os.path.join(model, host + ".txt"), "w").write(host)
open(os.path.join(model, "shared.txt"), "w").write(host)
open(os.path.join(os.environ["SM_OUTPUT_DATA_DIR"], host + ".json"), "w").write("{}")
'''


def test_two_host_probe_job(sess, source, capsys):
    from sagemaker.inputs import TrainingInput
    sharded, replicated = put_objects(sess, "mh-probe/sharded", 5), put_objects(sess, "mh-probe/replicated", 3)
    est = hosts_estimator(sess, source(PROBE), 2,
                          distribution={"multi_worker_mirrored_strategy": {"enabled": True}})
    est.fit({"sharded": TrainingInput(sharded, distribution="ShardedByS3Key"),
             "replicated": TrainingInput(replicated)}, logs=True)
    job = est.latest_training_job.name
    shown = capsys.readouterr().out
    assert sess.describe_training_job(job)["TrainingJobStatus"] == "Completed"
    hosts = ["algo-1", "algo-2"]
    shards = {}
    for index, host in enumerate(hosts):
        log = host_log(job, host)
        env = json.loads(lines_with(log, "ENV ")[0])
        assert lines_with(log, "HOSTNAME ") == [host]
        assert env["SM_CURRENT_HOST"] == env["CURRENT_HOST"] == host
        assert json.loads(env["SM_HOSTS"]) == hosts
        assert json.loads(env["SM_CURRENT_INSTANCE_GROUP_HOSTS"]) == hosts
        training_env = json.loads(env["SM_TRAINING_ENV"])
        assert training_env["master_hostname"] == "algo-1"
        assert training_env["is_master"] is (host == "algo-1")
        assert training_env["distribution_hosts"] == hosts
        assert training_env["distribution_instance_groups"] == ["homogeneousCluster"]
        assert json.loads(lines_with(log, "CONFIG ")[0]) == {
            "current_host": host, "current_instance_type": "ml.m5.xlarge",
            "current_group_name": "homogeneousCluster", "hosts": hosts,
            "instance_groups": [{"instance_group_name": "homogeneousCluster",
                                 "instance_type": "ml.m5.xlarge", "hosts": hosts}],
            "network_interface_name": "eth0"}
        assert json.loads(env["TF_CONFIG"]) == {
            "cluster": {"worker": ["algo-1:8890", "algo-2:8890"]}, "environment": "cloud",
            "task": {"index": index, "type": "worker"}}
        assert json.loads(lines_with(log, "REPLICATED ")[0]) == ["part-00.txt", "part-01.txt", "part-02.txt"]
        shards[host] = json.loads(lines_with(log, "SHARDED ")[0])
        assert int(lines_with(log, "S3 ")[-1]) >= 1  # the endpoint reached from the host
    # sorted keys dealt in turn: the i-th object to algo-(i mod N + 1)
    assert shards == {"algo-1": ["part-00.txt", "part-02.txt", "part-04.txt"],
                      "algo-2": ["part-01.txt", "part-03.txt"]}
    assert lines_with(host_log(job, "algo-1"), "RECEIVED ") == ["hello from algo-2 from 10.213.0.2"]
    # one stream per host, <job>/algo-N-<epoch>, and fit(logs=True) showed both
    logs = boto3.client("logs", endpoint_url=__import__("sm_tutorial").endpoint_url())
    streams = [s["logStreamName"] for s in logs.describe_log_streams(
        logGroupName="/aws/sagemaker/TrainingJobs", logStreamNamePrefix=job + "/")["logStreams"]]
    assert sorted(s.rsplit("-", 1)[0] for s in streams) == [f"{job}/algo-1", f"{job}/algo-2"]
    assert "HOSTNAME algo-1" in shown and "HOSTNAME algo-2" in shown
    # every host's model/ and output/data/ in one archive; on a clash the later host wins
    description = sess.describe_training_job(job)
    model = s3_tar(sess, description["ModelArtifacts"]["S3ModelArtifacts"])
    assert model["algo-1.txt"] == b"algo-1" and model["algo-2.txt"] == b"algo-2"
    assert model["shared.txt"] == b"algo-2"
    assert "more than one host wrote shared.txt" in host_log(job, "algo-1")
    output = s3_tar(sess, output_tar_uri(description))
    assert {"algo-1.json", "algo-2.json"} <= set(output)


def test_host_folders_and_job_root(sess, source):
    import sm_tutorial
    est = hosts_estimator(sess, source("import os\nprint(os.environ['SM_CURRENT_HOST'])\n"), 3)
    est.fit(logs=False)
    job = est.latest_training_job.name
    roots = [sm_tutorial.job_root(job, host=f"algo-{n}") for n in (1, 2, 3)]
    assert roots[0] == sm_tutorial.job_root(job)
    assert roots[0].parent.parent.name == job and roots[2].parent.parent.name == "algo-3"
    for n, root in enumerate(roots, 1):
        config = json.loads((root / "input/config/resourceconfig.json").read_text())
        assert config["current_host"] == f"algo-{n}"
        assert config["hosts"] == ["algo-1", "algo-2", "algo-3"]
        assert (root / "output/success").exists()
        assert f"algo-{n}" in host_log(job, f"algo-{n}")
    with pytest.raises(FileNotFoundError):
        sm_tutorial.job_root(job, host="algo-4")


SHARE = '''
import json, os
files = sorted(os.listdir(os.environ["SM_CHANNEL_DATA"]))
print("SHARE", os.environ["SM_CURRENT_HOST"], json.dumps(files))
'''


def test_sharded_by_s3_key_four_hosts_and_an_empty_channel(sess, source):
    from sagemaker.inputs import TrainingInput
    uri = put_objects(sess, "mh-shard/three", 3)
    est = hosts_estimator(sess, source(SHARE), 4)
    est.fit({"data": TrainingInput(uri, distribution="ShardedByS3Key")}, logs=False)
    job = est.latest_training_job.name
    shares = {f"algo-{n}": json.loads(lines_with(host_log(job, f"algo-{n}"), f"SHARE algo-{n}")[0])
              for n in range(1, 5)}
    assert shares == {"algo-1": ["part-00.txt"], "algo-2": ["part-01.txt"],
                      "algo-3": ["part-02.txt"], "algo-4": []}  # an empty channel, as on AWS


def test_sharded_manifest_file_channel(sess, source):
    """ShardedByS3Key applies to the objects a ManifestFile lists, as to a prefix's."""
    from sagemaker.inputs import TrainingInput
    uri = put_objects(sess, "mh-manifest/data", 5)
    bucket = sess.default_bucket()
    manifest = [{"prefix": uri}, "part-04.txt", "part-00.txt", "part-03.txt", "part-01.txt"]
    boto3.client("s3", endpoint_url=__import__("sm_tutorial").endpoint_url()).put_object(
        Bucket=bucket, Key="mh-manifest/train.manifest", Body=json.dumps(manifest).encode())
    est = hosts_estimator(sess, source(SHARE), 2)
    est.fit({"data": TrainingInput(f"s3://{bucket}/mh-manifest/train.manifest",
                                   s3_data_type="ManifestFile", distribution="ShardedByS3Key")},
            logs=False)
    job = est.latest_training_job.name
    shares = {h: json.loads(lines_with(host_log(job, h), f"SHARE {h}")[0]) for h in ("algo-1", "algo-2")}
    assert shares == {"algo-1": ["part-00.txt", "part-03.txt"], "algo-2": ["part-01.txt", "part-04.txt"]}


STREAMED = '''
import json, os
host = os.environ["SM_CURRENT_HOST"]
with open("/opt/ml/input/data/piped_0", "rb") as fifo:
    piped = fifo.read().decode()
folder = os.environ["SM_CHANNEL_FAST"]
fast = {name: open(os.path.join(folder, name)).read() for name in sorted(os.listdir(folder))}
print("STREAMED", host, json.dumps({"piped": piped, "fast": fast}))
'''


def test_pipe_and_fastfile_per_host(sess, source):
    from sagemaker.inputs import TrainingInput
    uri = put_objects(sess, "mh-streamed/four", 4)
    est = hosts_estimator(sess, source(STREAMED), 2)
    est.fit({"piped": TrainingInput(uri, distribution="ShardedByS3Key", input_mode="Pipe"),
             "fast": TrainingInput(uri, input_mode="FastFile")}, logs=False)
    job = est.latest_training_job.name
    assert sess.describe_training_job(job)["TrainingJobStatus"] == "Completed"
    for n, mine in ((1, (0, 2)), (2, (1, 3))):
        seen = json.loads(lines_with(host_log(job, f"algo-{n}"), f"STREAMED algo-{n}")[0])
        assert seen["piped"] == "".join(f"object {i}" for i in mine)  # its shard, in key order
        assert seen["fast"] == {f"part-{i:02d}.txt": f"object {i}" for i in range(4)}


def wait_for(predicate, timeout=60.0):
    give_up = time.time() + timeout
    while time.time() < give_up:
        if predicate():
            return True
        time.sleep(0.1)
    return False


def test_a_failing_host_fails_the_job_and_stops_the_others(sess, source):
    script = '''
import os, sys, time
if os.environ["SM_CURRENT_HOST"] == "algo-2":
    time.sleep(0.5)
    raise SystemExit("algo-2 gives up: bad shard")
print("algo-1 waits", flush=True)
time.sleep(300)
'''
    est = hosts_estimator(sess, source(script), 2)
    started = time.time()
    with pytest.raises(Exception):
        est.fit(logs=False)
    assert time.time() - started < 60
    description = sess.describe_training_job(est.latest_training_job.name)
    assert description["TrainingJobStatus"] == "Failed"
    assert description["FailureReason"].startswith("algo-2: AlgorithmError: ExecuteUserScriptError")
    assert "algo-2 gives up: bad shard" in description["FailureReason"]
    assert "/work/" not in description["FailureReason"] and "jobs/" not in description["FailureReason"]


def test_a_hosts_own_failure_file_is_the_reason(sess, source):
    script = '''
import os
if os.environ["SM_CURRENT_HOST"] == "algo-2":
    open("/opt/ml/output/failure", "w").write("shard 2 is corrupt")
    raise SystemExit(3)
'''
    est = hosts_estimator(sess, source(script), 2)
    with pytest.raises(Exception):
        est.fit(logs=False)
    description = sess.describe_training_job(est.latest_training_job.name)
    assert description["FailureReason"] == "algo-2: shard 2 is corrupt"


def running_scripts(job):
    """PIDs of this job's scripts still running (their command line names the job's model_dir)."""
    import os
    found = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                cmdline = open(f"/proc/{entry}/cmdline", "rb").read()
            except OSError:
                continue
            args = cmdline.split(b"\0")
            if args[1:2] == [b"train.py"] and job.encode() in cmdline:  # not its launcher
                found.append(int(entry))
    return found


SLEEPER = 'import os, time\nprint("up", os.environ["SM_CURRENT_HOST"], flush=True)\ntime.sleep(300)\n'


def test_stop_training_job_stops_every_host(sess, source):
    est = hosts_estimator(sess, source(SLEEPER), 2)
    est.fit(logs=False, wait=False)
    job = est.latest_training_job.name
    assert wait_for(lambda: all(f"up {h}" in host_log(job, h) for h in ("algo-1", "algo-2")))
    assert len(running_scripts(job)) == 2
    sess.sagemaker_client.stop_training_job(TrainingJobName=job)
    assert wait_for(lambda: sess.describe_training_job(job)["TrainingJobStatus"] == "Stopped")
    assert wait_for(lambda: not running_scripts(job), 15)


def test_max_runtime_stops_every_host(sess, source):
    est = hosts_estimator(sess, source(SLEEPER), 2, max_run=3)
    est.fit(logs=False, wait=False)
    job = est.latest_training_job.name
    assert wait_for(lambda: sess.describe_training_job(job)["TrainingJobStatus"] == "Stopped", 60)
    assert sess.describe_training_job(job)["SecondaryStatus"] == "MaxRuntimeExceeded"
    assert wait_for(lambda: not running_scripts(job), 15)


MWMS = '''
import os
import numpy as np
import tensorflow as tf
strategy = tf.distribute.MultiWorkerMirroredStrategy()
host = os.environ["SM_CURRENT_HOST"]
print("REPLICAS", host, strategy.num_replicas_in_sync, flush=True)
rng = np.random.default_rng(int(host[-1]))  # each worker its own data
x = rng.random((64, 4), dtype=np.float32)
y = x.sum(axis=1, keepdims=True)
with strategy.scope():
    w = tf.Variable(tf.zeros((4, 1)))
data = strategy.experimental_distribute_dataset(tf.data.Dataset.from_tensor_slices((x, y)).batch(16))

@tf.function
def step(batch):
    def one(xb, yb):
        with tf.GradientTape() as tape:
            loss = tf.reduce_mean((tf.matmul(xb, w) - yb) ** 2)
        grad = tf.distribute.get_replica_context().all_reduce("mean", tape.gradient(loss, w))
        w.assign_sub(0.1 * grad)
        return loss
    return strategy.reduce("mean", strategy.run(one, args=batch), axis=None)

for batch in data:
    loss = step(batch)
print("WEIGHTS", host, [round(float(v), 6) for v in w.numpy().ravel()], flush=True)
'''


def test_multi_worker_mirrored_strategy_fit_on_two_hosts(sess, source):
    est = hosts_estimator(sess, source(MWMS), 2,
                          distribution={"multi_worker_mirrored_strategy": {"enabled": True}})
    est.fit(logs=False)
    job = est.latest_training_job.name
    assert sess.describe_training_job(job)["TrainingJobStatus"] == "Completed"
    logs = {h: host_log(job, h) for h in ("algo-1", "algo-2")}
    for host, log in logs.items():
        assert lines_with(log, f"REPLICAS {host}") == ["2"]
    # the gradients were all-reduced over the network: both workers end with the same weights
    weights = {h: lines_with(log, f"WEIGHTS {h}") for h, log in logs.items()}
    assert weights["algo-1"] == weights["algo-2"] and weights["algo-1"] != ["[0.0, 0.0, 0.0, 0.0]"]


KERAS2_MWMS = '''
import os
import numpy as np
import tensorflow as tf
strategy = tf.distribute.MultiWorkerMirroredStrategy()
host = os.environ["SM_CURRENT_HOST"]
print("REPLICAS", host, strategy.num_replicas_in_sync, tf.keras.__name__, flush=True)
with strategy.scope():
    model = tf.keras.Sequential([tf.keras.layers.Dense(1, input_shape=(4,))])
    model.compile("sgd", "mse")
x = np.random.default_rng(0).random((64, 4)).astype("float32")
history = model.fit(x, x.sum(1, keepdims=True), batch_size=16, epochs=2, verbose=2)
print("LOSS", host, round(history.history["loss"][-1], 6), flush=True)
'''


def test_keras2_model_fit_with_multi_worker_mirrored_strategy(sess, source):
    """The lesson's way: Keras model.fit under MWMS. Keras 3's fit fails with two workers (also
    outside the simulation: README), so the job asks TensorFlow 2.13 and gets Keras 2."""
    from sm_tutorial.platform import frameworks
    if not frameworks.tf_keras_installed():
        pytest.skip("tf-keras is not installed in <env>/keras2 (make setup installs it)")
    est = hosts_estimator(sess, source(KERAS2_MWMS), 2,
                          distribution={"multi_worker_mirrored_strategy": {"enabled": True}})
    est.framework_version = "2.13"
    est.fit(logs=False)
    job = est.latest_training_job.name
    logs = {h: host_log(job, h) for h in ("algo-1", "algo-2")}
    for host, log in logs.items():
        replicas, keras = lines_with(log, f"REPLICAS {host}")[0].split()
        assert replicas == "2" and keras.startswith("tf_keras")
    losses = {h: lines_with(log, f"LOSS {h}") for h, log in logs.items()}
    assert losses["algo-1"] == losses["algo-2"] != []  # one model, trained by both workers


def test_parameter_server_tf_config(sess, source):
    script = 'import os\nprint("TFC", os.environ["TF_CONFIG"])\n'
    est = hosts_estimator(sess, source(script), 3, distribution={"parameter_server": {"enabled": True}})
    est.fit(logs=False)
    job = est.latest_training_job.name
    configs = {h: json.loads(lines_with(host_log(job, h), "TFC ")[0]) for h in ("algo-1", "algo-2", "algo-3")}
    cluster = {"master": ["algo-1:2222"], "ps": ["algo-1:2223", "algo-2:2223", "algo-3:2223"],
               "worker": ["algo-2:2222", "algo-3:2222"]}
    assert configs == {
        "algo-1": {"cluster": cluster, "environment": "cloud", "task": {"index": 0, "type": "master"}},
        "algo-2": {"cluster": cluster, "environment": "cloud", "task": {"index": 0, "type": "worker"}},
        "algo-3": {"cluster": cluster, "environment": "cloud", "task": {"index": 1, "type": "worker"}}}


def test_no_distribution_no_tf_config_and_toolkit_defaults():
    from sm_tutorial.container import environment, layout
    from sm_tutorial.container.layout import ContainerRoot
    from pathlib import Path
    hosts = layout.host_names(3)
    env = environment.training_environment(
        ContainerRoot(Path("/opt/ml")), job_name="j", hyperparameters={},
        resource_config=layout.resource_config("ml.m5.xlarge", "algo-3", hosts),
        input_data_config={}, num_cpus=4, num_gpus=0, framework_module=None)
    # the toolkit: no distribution flag -> no distribution group or hosts; master = hosts[0]
    assert env["distribution_hosts"] == [] and env["distribution_instance_groups"] == []
    assert env["master_hostname"] == "algo-1" and env["is_master"] is False
    assert env["current_instance_group_hosts"] == hosts
    from sm_tutorial.container import distribution
    assert distribution.tensorflow_variables(env) == {}


def test_shard_rule_is_disjoint_complete_and_deterministic():
    from sm_tutorial.platform.inputs import shard
    from types import SimpleNamespace
    objects = [SimpleNamespace(key=f"k{i:03d}") for i in reversed(range(10))]
    for count in (1, 2, 3, 4, 7, 12):
        shares = [shard(objects, i, count) for i in range(count)]
        keys = [o.key for share in shares for o in share]
        assert sorted(keys) == sorted(o.key for o in objects) and len(set(keys)) == len(keys)
        assert max(map(len, shares)) - min(map(len, shares)) <= 1
        assert [o.key for o in shards_again(objects, count)[0]] == [o.key for o in shares[0]]


def shards_again(objects, count):
    from sm_tutorial.platform.inputs import shard
    return [shard(list(objects), i, count) for i in range(count)]


# -- bad input, refused at CreateTrainingJob --------------------------------------------------
def create(sess, count, **changes):
    from test_validation import GOOD
    request = copy.deepcopy(GOOD)
    request["TrainingJobName"] = f"mh-refused-{count}-{int(time.time() * 1000) % 100000}"
    request["ResourceConfig"]["InstanceCount"] = count
    request.update(changes)
    with pytest.raises(ClientError) as raised:
        sess.sagemaker_client.create_training_job(**request)
    return raised.value.response["Error"], request["TrainingJobName"]


def test_instance_count_zero_is_refused(sess):
    error, name = create(sess, 0)
    assert error["Code"] == "ValidationException"
    assert "resourceConfig.instanceCount" in error["Message"]
    assert "greater than or equal to 1" in error["Message"]


def test_more_hosts_than_the_machine_runs_is_refused(sess):
    from sm_tutorial.platform import cluster
    limit = cluster.max_hosts()
    error, name = create(sess, limit + 1)
    assert error["Code"] == "ValidationException"
    assert f"at most {limit} hosts" in error["Message"]
    assert f"between 1 and {limit}" in error["Message"]
    with pytest.raises(ClientError):
        sess.sagemaker_client.describe_training_job(TrainingJobName=name)  # nothing was created


def test_without_namespaces_more_than_one_host_is_refused(sess, monkeypatch):
    monkeypatch.setenv("SM_TUTORIAL_NAMESPACES", "off")
    error, name = create(sess, 2)
    assert error["Code"] == "ValidationException"
    assert "network namespace" in error["Message"] and "SM_TUTORIAL_NAMESPACES=off" in error["Message"]
    assert "instance_count=1" in error["Message"]


def test_the_cluster_probe_says_why(monkeypatch):
    from sm_tutorial.platform import cluster
    monkeypatch.setattr(cluster, "_probed", [])
    monkeypatch.setattr(cluster, "NETNS", cluster.NETNS.with_name("no-such-netns.py"))
    monkeypatch.setattr(cluster.mounts, "unavailable", lambda: None)
    assert cluster.unavailable()  # a reason, not None


def test_one_host_job_is_unchanged(sess, source):
    import sm_tutorial
    est = estimator(sess, source("import socket\nprint('HOSTNAME', socket.gethostname())\n"))
    est.fit(logs=False)
    job = est.latest_training_job.name
    root = sm_tutorial.job_root(job)
    assert not (root.parent.parent / "algo-2").exists()
    assert not (root.parent.parent / "cluster.json").exists()
    assert json.loads((root / "input/config/resourceconfig.json").read_text())["hosts"] == ["algo-1"]
    import socket
    assert lines_with(host_log(job, "algo-1"), "HOSTNAME ") == [socket.gethostname()]


def test_a_killed_kernel_leaves_no_host_running(tmp_path):
    """The kernel dies mid-job: every host's script is orphaned (and the job's network process
    ends with the kernel's pipe); the next session() stops algo-2's as well as algo-1's."""
    import re
    import textwrap
    from test_faults import alive, run_python
    from test_faults import wait_for as wait_until
    workspace, src = tmp_path / "ws", tmp_path / "src"
    src.mkdir()
    (src / "train.py").write_text("import os, time\nprint('pid', os.getpid(), flush=True)\ntime.sleep(120)\n")
    kernel = run_python(textwrap.dedent(f"""
        import sm_tutorial, time
        from conftest import estimator
        sess = sm_tutorial.session()
        est = estimator(sess, {str(src)!r})
        est.instance_count = 2
        est.fit(wait=False)
        print("job", est.latest_training_job.name, flush=True)
        time.sleep(300)
    """), workspace, cwd=str(__import__("pathlib").Path(__file__).parent))
    name = wait_until(lambda: (lambda l: l.split()[1] if l.startswith("job ") else None)(
        kernel.stdout.readline()), timeout=120)
    logs = [workspace / "jobs" / name / f"algo-{n}.log" for n in (1, 2)]
    pids = [wait_until(lambda log=log: log.exists() and (lambda m: int(m.group(1)) if m else None)(
        re.search(r"^pid (\d+)$", log.read_text(), re.M))) for log in logs]
    kernel.kill()
    kernel.wait()
    assert all(alive(pid) for pid in pids)
    after = run_python(f"""
        import sm_tutorial
        sess = sm_tutorial.session()
        print(sess.describe_training_job({name!r})["TrainingJobStatus"])
    """, workspace)
    out, _ = after.communicate(timeout=120)
    assert out.strip().splitlines()[-1] == "Failed"
    assert wait_for(lambda: not any(alive(pid) for pid in pids), 10)


def test_cli_logs_shows_every_host_or_one(sess, source, capsys):
    from sm_tutorial.cli.main import main
    est = hosts_estimator(sess, source("import os\nprint('I am', os.environ['SM_CURRENT_HOST'])\n"), 2)
    est.fit(logs=False)
    job = est.latest_training_job.name
    capsys.readouterr()
    assert main(["logs", job]) == 0
    both = capsys.readouterr().out
    assert "==> algo-1 <==" in both and "I am algo-1" in both and "I am algo-2" in both
    assert main(["logs", job, "--host", "algo-2"]) == 0
    one = capsys.readouterr().out
    assert "I am algo-2" in one and "I am algo-1" not in one


def test_doctor_says_whether_multi_instance_jobs_run():
    from sm_tutorial.cli.doctor import check_all
    from sm_tutorial.platform import cluster
    runs = {c.name: c for c in check_all(multi_instance=lambda: None)}["multi-instance"]
    assert runs.ok and f"instance_count 2 to {cluster.max_hosts()}" in runs.detail
    refused = {c.name: c for c in check_all(multi_instance=lambda: "no bridge here")}["multi-instance"]
    assert "instance_count=1 only" in refused.detail and "no bridge here" in refused.detail


FAKE_TORCHRUN = '''
import json, os, sys
# stands in for torch.distributed.run: records what torchrun would be given
out = os.path.join(os.environ["SM_OUTPUT_DATA_DIR"], os.environ["SM_CURRENT_HOST"] + ".json")
json.dump({"argv": sys.argv[1:]}, open(out, "w"))
'''


def test_torch_distributed_runs_the_script_under_torchrun_as_the_pytorch_toolkit(sess, source, namespaced):
    """distribution={"torch_distributed": ...}: each host runs `torchrun --nnodes N
    --nproc_per_node GPUs --master_addr algo-1 --master_port 7777 --node_rank R entry ARGS`.
    PyTorch is optional: a stand-in torch.distributed.run records its argv; without any, the
    job fails naming `pip install torch`."""
    import importlib.util
    from pathlib import Path
    from sagemaker.exceptions import UnexpectedStatusException
    from sagemaker.pytorch import PyTorch
    import sm_tutorial
    folder = source("print('never imported by the stand-in')\n")

    def job():
        return PyTorch(entry_point="train.py", source_dir=folder, role=sm_tutorial.role(),
                       instance_type="ml.p4d.24xlarge", instance_count=2, framework_version="2.3.0",
                       py_version="py311", sagemaker_session=sess, hyperparameters={"epochs": 2},
                       distribution={"torch_distributed": {"enabled": True}})
    if importlib.util.find_spec("torch") is None:
        est = job()
        with pytest.raises(UnexpectedStatusException):
            est.fit(logs=False)
        assert "pip install torch" in est.latest_training_job.describe()["FailureReason"]
    fake = Path(folder) / "torch"  # in source_dir: `python -m` finds it in /opt/ml/code
    (fake / "distributed").mkdir(parents=True)
    (fake / "__init__.py").write_text("")
    (fake / "distributed" / "__init__.py").write_text("")
    (fake / "distributed" / "run.py").write_text(FAKE_TORCHRUN)
    est = job()
    est.fit(logs=False)
    members = s3_tar(sess, est.latest_training_job.describe()["ModelArtifacts"]["S3ModelArtifacts"]
                     .replace("model.tar.gz", "output.tar.gz"))
    for rank, host in enumerate(("algo-1", "algo-2")):
        argv = json.loads(members[f"{host}.json"])["argv"]
        assert argv == ["--nnodes", "2", "--nproc_per_node", "8", "--master_addr", "algo-1",
                        "--master_port", "7777", "--node_rank", str(rank), "train.py", "--epochs", "2"]


@pytest.mark.parametrize("framework,distribution", [
    ("generic", {"torch_distributed": {"enabled": True}}),  # the TF estimator drops it silently
    ("pytorch", {"multi_worker_mirrored_strategy": {"enabled": True}}),
    ("tensorflow", {"multi_worker_mirrored_strategy": {"enabled": True},
                    "parameter_server": {"enabled": True}}),
])
def test_distribution_the_framework_does_not_take_is_refused_before_anything_runs(
        sess, source, framework, distribution):
    """A distribution= key the framework does not support, or two at once: refused before
    anything runs (by the SDK, or at CreateTrainingJob where the SDK passes it on), naming the
    fix; nothing is created."""
    from botocore.exceptions import ClientError
    import sm_tutorial
    from sagemaker.pytorch import PyTorch
    from sagemaker.tensorflow import TensorFlow
    before = sess.sagemaker_client.list_training_jobs(MaxResults=100)["TrainingJobSummaries"]
    common = dict(entry_point="train.py", source_dir=source("print(1)\n"), role=sm_tutorial.role(),
                  instance_count=2, sagemaker_session=sess, distribution=distribution)
    with pytest.raises((ValueError, ClientError)) as caught:
        if framework == "generic":  # the flag as a request carries it, on a TensorFlow image
            from sagemaker import image_uris
            from sagemaker.estimator import Estimator
            image = image_uris.retrieve("tensorflow", "us-east-1", version="2.16", py_version="py310",
                                        instance_type="ml.p4d.24xlarge", image_scope="training")
            Estimator(image_uri=image, instance_type="ml.p4d.24xlarge",
                      hyperparameters={"sagemaker_torch_distributed_enabled": True},
                      **{k: v for k, v in common.items() if k != "distribution"}).fit(logs=False)
        elif framework == "tensorflow":
            TensorFlow(instance_type="ml.p4d.24xlarge", framework_version="2.16", py_version="py310",
                       **common).fit(logs=False)
        else:
            PyTorch(instance_type="ml.p4d.24xlarge", framework_version="2.3.0", py_version="py311",
                    **common).fit(logs=False)
    assert sess.sagemaker_client.list_training_jobs(MaxResults=100)["TrainingJobSummaries"] == before
    if isinstance(caught.value, ClientError):
        assert caught.value.response["Error"]["Code"] == "ValidationException"
        assert "drop the key" in str(caught.value) or "keep one key" in str(caught.value)
