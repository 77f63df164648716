"""The course's training script: a small Keras classifier for 8x8 handwritten digits.

It follows the SageMaker contract and nothing else: hyperparameters arrive as command-line
arguments; each channel's data is read in the input mode inputdataconfig.json names (File:
the files in SM_CHANNEL_<NAME>; Pipe: the FIFOs, through PipeModeDataset); the model goes to
SM_MODEL_DIR and metrics to SM_OUTPUT_DATA_DIR. The same file runs on AWS.
"""
import argparse
import glob
import json
import os

import warnings

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")     # keep the job's log to what we print
os.environ.setdefault("TF_ENABLE_ONEDNN_OPTS", "0")    # (and TensorFlow's start-up notices out)
warnings.filterwarnings("ignore", message="Your input ran out of data")  # unknown-length data
import tensorflow as tf  # noqa: E402


def parse_args():
    parser = argparse.ArgumentParser()
    parser.add_argument("--epochs", type=int, default=5)
    parser.add_argument("--batch-size", type=int, default=64)
    parser.add_argument("--learning-rate", type=float, default=0.01)
    parser.add_argument("--hidden-units", type=int, default=64)
    # To deploy: TensorFlow Serving (the endpoint's container) serves a SavedModel in a numeric
    # version folder; e.g. hyperparameters={"export-version": 1} also writes model/1/.
    parser.add_argument("--export-version", type=int, default=None)
    # The TensorFlow estimator also passes --model_dir (an S3 URI); we save to SM_MODEL_DIR.
    parser.add_argument("--model_dir", default=None)
    parser.add_argument("--sm-model-dir", default=os.environ.get("SM_MODEL_DIR"))
    parser.add_argument("--train", default=os.environ.get("SM_CHANNEL_TRAIN"))
    parser.add_argument("--validation", default=os.environ.get("SM_CHANNEL_VALIDATION"))
    parser.add_argument("--output-data-dir", default=os.environ.get("SM_OUTPUT_DATA_DIR"))
    # Checkpoints have no SM_ variable: AWS uses /opt/ml/checkpoints (SAGEMAKER_BASE_DIR
    # moves /opt/ml, as the course's simulation does).
    parser.add_argument("--checkpoint-dir", default=os.path.join(
        os.environ.get("SAGEMAKER_BASE_DIR", "/opt/ml"), "checkpoints"))
    # A tuning job adds --_tuning_objective_metric to every trial's argv (lesson 10):
    # parse_known_args() lets such extra arguments through instead of exiting with code 2.
    args, _unknown = parser.parse_known_args()
    return args


FEATURES = {"image": tf.io.FixedLenFeature([64], tf.int64),
            "label": tf.io.FixedLenFeature([1], tf.int64)}


def parse(record):
    example = tf.io.parse_single_example(record, FEATURES)
    return tf.cast(example["image"], tf.float32) / 16.0, example["label"][0]


def input_mode(channel):
    with open(os.path.join(os.environ["SM_INPUT_CONFIG_DIR"], "inputdataconfig.json")) as f:
        return json.load(f)[channel]["TrainingInputMode"]


def records(channel, folder):
    """The channel's TFRecords, whichever way SageMaker delivers them."""
    if input_mode(channel) == "Pipe":
        try:
            from sagemaker_tensorflow import PipeModeDataset  # AWS's, in its TF <= 2.14 images
        except ImportError:
            from sm_tutorial import PipeModeDataset  # the same reader for current TensorFlow
        return PipeModeDataset(channel=channel, record_format="TFRecord")
    files = sorted(glob.glob(os.path.join(folder, "*.tfrecord")))
    if not files:
        raise FileNotFoundError(f"no .tfrecord files in {folder}")
    return tf.data.TFRecordDataset(files)


def dataset(channel, folder, batch_size, shuffle):
    data = records(channel, folder).map(parse)
    if shuffle:
        data = data.shuffle(2048, seed=0)
    return data.batch(batch_size)


def main():
    args = parse_args()
    tf.keras.utils.set_random_seed(0)
    train = dataset("train", args.train, args.batch_size, shuffle=True)
    validation = (dataset("validation", args.validation, args.batch_size, shuffle=False)
                  if args.validation else None)
    model = tf.keras.Sequential([
        tf.keras.Input(shape=(64,)),
        tf.keras.layers.Dense(args.hidden_units, activation="relu"),
        tf.keras.layers.Dense(10, activation="softmax"),
    ])
    model.compile(optimizer=tf.keras.optimizers.Adam(args.learning_rate),
                  loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    checkpoint = tf.keras.callbacks.ModelCheckpoint(
        os.path.join(args.checkpoint_dir, "epoch-{epoch:02d}.weights.h5"), save_weights_only=True)
    history = model.fit(train, validation_data=validation, epochs=args.epochs, verbose=2,
                        shuffle=False,  # the tf.data pipeline already shuffles
                        callbacks=[checkpoint])
    model.save(os.path.join(args.sm_model_dir, "digits.keras"))
    if args.export_version is not None:
        model.export(os.path.join(args.sm_model_dir, str(args.export_version)), verbose=False)
    metrics = {k: [round(float(v), 4) for v in values] for k, values in history.history.items()}
    with open(os.path.join(args.output_data_dir, "metrics.json"), "w") as f:
        json.dump(metrics, f)
    print("final " + " ".join(f"{k}={v[-1]:.3f}" for k, v in metrics.items()))


if __name__ == "__main__":
    main()
