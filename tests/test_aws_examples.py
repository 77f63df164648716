"""Code written for AWS by someone else, unchanged (issue 12's "done when"): scripts in the
style of amazon-sagemaker-examples' scikit_learn_iris (SKLearn estimator, SM_* defaults in
argparse), mnist-2 (TensorFlow 2.1.0 on ml.p2.xlarge, Keras 2's h5 save) and
scikit_bring_your_own's `train` (literal /opt/ml paths, no toolkit). Each completes, and its log
names the framework asked for and the one that ran. They need the job's own /opt/ml."""
import os
import pickle

import pytest

import sm_tutorial
from conftest import s3_tar

IRIS_SCRIPT = """
import argparse, os
import joblib
import pandas as pd
from sklearn import tree

if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--max_leaf_nodes", type=int, default=-1)
    parser.add_argument("--output-data-dir", type=str, default=os.environ["SM_OUTPUT_DATA_DIR"])
    parser.add_argument("--model-dir", type=str, default=os.environ["SM_MODEL_DIR"])
    parser.add_argument("--train", type=str, default=os.environ["SM_CHANNEL_TRAIN"])
    args = parser.parse_args()
    files = [os.path.join(args.train, f) for f in os.listdir(args.train)]
    data = pd.concat([pd.read_csv(f, header=None) for f in files])
    y, X = data.iloc[:, 0], data.iloc[:, 1:]
    clf = tree.DecisionTreeClassifier(max_leaf_nodes=args.max_leaf_nodes).fit(X, y)
    joblib.dump(clf, os.path.join(args.model_dir, "model.joblib"))
    print("trained on", len(data), "rows")
"""

MNIST2_SCRIPT = """
import argparse, json, os
import numpy as np
import tensorflow as tf

def parse():
    parser = argparse.ArgumentParser()
    parser.add_argument("--model_dir", type=str)
    parser.add_argument("--sm-model-dir", type=str, default=os.environ.get("SM_MODEL_DIR"))
    parser.add_argument("--train", type=str, default=os.environ.get("SM_CHANNEL_TRAINING"))
    parser.add_argument("--hosts", type=list, default=json.loads(os.environ.get("SM_HOSTS")))
    parser.add_argument("--current-host", type=str, default=os.environ.get("SM_CURRENT_HOST"))
    return parser.parse_known_args()

if __name__ == "__main__":
    args, _ = parse()
    x = np.load(os.path.join(args.train, "train_data.npy"))
    y = np.load(os.path.join(args.train, "train_labels.npy"))
    model = tf.keras.models.Sequential([tf.keras.layers.Flatten(), tf.keras.layers.Dense(10, activation="softmax")])
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    model.fit(x, y, epochs=1, verbose=0)
    print("GPUs asked for:", os.environ["SM_NUM_GPUS"])
    if args.current_host == args.hosts[0]:
        model.save(os.path.join(args.sm_model_dir, "000000001"), "my_model.h5")
"""

BYO_TRAIN = """#!/usr/bin/env python3
import json, os, pickle, sys, traceback
import pandas as pd
from sklearn import tree

prefix = "/opt/ml/"
input_path = prefix + "input/data"
output_path = os.path.join(prefix, "output")
model_path = os.path.join(prefix, "model")
param_path = os.path.join(prefix, "input/config/hyperparameters.json")
training_path = os.path.join(input_path, "training")

def train():
    try:
        params = json.load(open(param_path))
        files = [os.path.join(training_path, f) for f in os.listdir(training_path)]
        data = pd.concat([pd.read_csv(f, header=None) for f in files])
        y, X = data.iloc[:, 0], data.iloc[:, 1:]
        leaves = int(params["max_leaf_nodes"]) if "max_leaf_nodes" in params else None
        clf = tree.DecisionTreeClassifier(max_leaf_nodes=leaves).fit(X, y)
        with open(os.path.join(model_path, "decision-tree-model.pkl"), "wb") as out:
            pickle.dump(clf, out)
        print("Training complete.")
    except Exception as e:
        with open(os.path.join(output_path, "failure"), "w") as s:
            s.write("Exception during training: " + str(e) + "\\n" + traceback.format_exc())
        sys.exit(255)

if __name__ == "__main__":
    train()
    sys.exit(0)
"""


@pytest.fixture(scope="module")
def iris_csv(sess):
    from sklearn.datasets import load_iris
    iris = load_iris()
    rows = "\n".join(",".join([str(t)] + [str(v) for v in row]) for row, t in zip(iris.data, iris.target))
    s3 = sess.boto_session.client("s3")
    s3.put_object(Bucket=sess.default_bucket(), Key="aws-examples/iris/iris.csv", Body=rows.encode())
    return f"s3://{sess.default_bucket()}/aws-examples/iris"


def log_of(name):
    return (sm_tutorial.job_root(name).parent.parent / "algo-1.log").read_text()


def test_scikit_learn_iris(sess, source, iris_csv, namespaced):
    from sagemaker.sklearn.estimator import SKLearn
    est = SKLearn(entry_point="train.py", source_dir=source(IRIS_SCRIPT), framework_version="1.2-1",
                  py_version="py3", instance_type="ml.c4.xlarge", instance_count=1,
                  role=sm_tutorial.role(), sagemaker_session=sess, hyperparameters={"max_leaf_nodes": 30})
    est.fit({"train": iris_csv}, logs=False)
    name = est.latest_training_job.name
    assert est.latest_training_job.describe()["TrainingJobStatus"] == "Completed"
    log = log_of(name)
    assert "Framework asked for: scikit-learn 1.2" in log and "Runs here with: local scikit-learn" in log
    assert "trained on 150 rows" in log
    assert "model.joblib" in s3_tar(sess, est.model_data)


def test_mnist2_tensorflow_2_1_on_a_p2(sess, source, namespaced):
    import numpy as np
    from sagemaker.tensorflow import TensorFlow
    from sm_tutorial.platform import frameworks
    if not frameworks.tf_keras_installed():
        pytest.skip("Keras 2 (tf-keras) is not installed for old TensorFlow jobs: make setup")
    folder = source(MNIST2_SCRIPT)
    data = os.path.join(folder, "..", "data")
    os.makedirs(data)
    np.save(os.path.join(data, "train_data.npy"), np.random.RandomState(0).rand(32, 28, 28).astype("float32"))
    np.save(os.path.join(data, "train_labels.npy"), np.arange(32) % 10)
    training = sess.upload_data(data, key_prefix="aws-examples/mnist")
    est = TensorFlow(entry_point="train.py", source_dir=folder, role=sm_tutorial.role(),
                     instance_count=1, instance_type="ml.p2.xlarge", framework_version="2.1.0",
                     py_version="py3", sagemaker_session=sess)
    est.fit({"training": training}, logs=False)
    d = est.latest_training_job.describe()
    assert d["TrainingJobStatus"] == "Completed", d.get("FailureReason")
    log = log_of(d["TrainingJobName"])
    assert "Framework asked for: TensorFlow 2.1.0, Python py3" in log and "Runs here with: local TensorFlow" in log
    assert "GPUs asked for: 1" in log
    assert any(n.startswith("000000001/") for n in s3_tar(sess, est.model_data))


def test_session_account_id_is_the_simulated_account(sess):
    """AWS's bring-your-own notebooks build the ECR URI from sess.account_id(), which asks STS
    at its regional address (not AWS_ENDPOINT_URL): it must answer from the local endpoint."""
    assert sess.account_id() == "123456789012"
    assert sess.boto_session.client("sts", endpoint_url="https://sts.us-east-1.amazonaws.com") \
        .get_caller_identity()["Account"] == "123456789012"


def test_scikit_bring_your_own_train_with_literal_paths(sess, endpoint, iris_csv, tmp_path, capsys, namespaced):
    from sagemaker.estimator import Estimator
    from sm_tutorial.cli.main import main
    folder = tmp_path / "decision-trees"
    folder.mkdir()
    (folder / "train").write_text(BYO_TRAIN)
    (folder / "train").chmod(0o755)
    assert main(["image", "add", "sagemaker-decision-trees", str(folder)]) == 0
    uri = capsys.readouterr().out.strip()
    try:
        est = Estimator(image_uri=uri, role=sm_tutorial.role(), instance_count=1,
                        instance_type="ml.c4.2xlarge", sagemaker_session=sess,
                        hyperparameters={"max_leaf_nodes": 5})
        est.fit({"training": iris_csv}, logs=False)
        d = est.latest_training_job.describe()
        assert d["TrainingJobStatus"] == "Completed", d.get("FailureReason")
        assert "Training complete." in log_of(d["TrainingJobName"])
        model = s3_tar(sess, est.model_data)["decision-tree-model.pkl"]
        assert pickle.loads(model).get_n_leaves() <= 5
    finally:
        main(["image", "remove", "sagemaker-decision-trees"])
