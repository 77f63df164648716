"""`sm-tutorial train`, `jobs` and `logs`: debug a SageMaker script locally, from a shell."""
import os
import subprocess
import sys


def run(args, workspace, timeout=300):
    env = dict(os.environ, SM_TUTORIAL_WORKSPACE=str(workspace))
    env.pop("AWS_ENDPOINT_URL", None)
    env.pop("SM_TUTORIAL_ENDPOINT", None)
    return subprocess.run([sys.executable, "-m", "sm_tutorial", *args], env=env,
                          capture_output=True, text=True, timeout=timeout)


def test_train_jobs_and_logs(tmp_path):
    src = tmp_path / "script"
    src.mkdir()
    (src / "train.py").write_text(
        "import argparse, os\np = argparse.ArgumentParser()\np.add_argument('--epochs', type=int)\n"
        "a = p.parse_args()\nprint('epochs is', a.epochs)\n"
        "print('files', sorted(os.listdir(os.environ['SM_CHANNEL_TRAIN'])))\n"
        "open(os.path.join(os.environ['SM_MODEL_DIR'], 'm.txt'), 'w').write('m')\n")
    data = tmp_path / "data"
    data.mkdir()
    (data / "a.csv").write_text("1,2\n")
    done = run(["train", str(src), "-p", "epochs=4", "-c", f"train={data}"], tmp_path / "ws")
    assert done.returncode == 0, done.stdout + done.stderr
    assert "epochs is 4" in done.stdout and "files ['a.csv']" in done.stdout
    assert "Model artifacts: s3://" in done.stdout

    listed = run(["jobs"], tmp_path / "ws")
    assert listed.returncode == 0, listed.stderr
    name = listed.stdout.split()[0]
    assert name.startswith("tensorflow-training-") and "Completed" in listed.stdout

    logs = run(["logs", name], tmp_path / "ws")
    assert logs.returncode == 0 and "epochs is 4" in logs.stdout


def test_train_failure_exits_nonzero_with_the_reason(tmp_path):
    src = tmp_path / "script"
    src.mkdir()
    (src / "train.py").write_text("import os\nprint(os.environ['SM_CHANNEL_TRAINING'])\n")
    done = run(["train", str(src)], tmp_path / "ws")
    assert done.returncode == 1
    assert "KeyError: 'SM_CHANNEL_TRAINING'" in done.stderr


def test_serve_is_shared_by_other_processes(tmp_path):
    import re
    env = dict(os.environ, SM_TUTORIAL_WORKSPACE=str(tmp_path / "ws"))
    env.pop("AWS_ENDPOINT_URL", None)
    server = subprocess.Popen([sys.executable, "-m", "sm_tutorial", "serve", "--port", "0"], env=env,
                              stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        first = server.stdout.readline()
        url = re.search(r"http://127\.0\.0\.1:\d+", first).group(0)
        src = tmp_path / "script"
        src.mkdir()
        (src / "train.py").write_text("print('served job')\n")
        attached = dict(env, SM_TUTORIAL_ENDPOINT=url)
        done = subprocess.run([sys.executable, "-m", "sm_tutorial", "train", str(src)], env=attached,
                              capture_output=True, text=True, timeout=300)
        assert done.returncode == 0, done.stdout + done.stderr
        listed = subprocess.run([sys.executable, "-m", "sm_tutorial", "jobs"], env=attached,
                                capture_output=True, text=True, timeout=120)
        assert "Completed" in listed.stdout  # a second process sees the first one's job
        logs = subprocess.run([sys.executable, "-m", "sm_tutorial", "logs", listed.stdout.split()[0]],
                              env=attached, capture_output=True, text=True, timeout=120)
        assert "served job" in logs.stdout  # read from CloudWatch Logs on the shared endpoint
    finally:
        server.terminate()
        assert server.wait(timeout=30) == 0
