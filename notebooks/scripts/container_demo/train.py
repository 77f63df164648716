"""Lesson 3's job: reads a channel, imports a package from requirements.txt, writes a model
and an extra output file: every part of /opt/ml gets used."""
import os

import tinyutils  # installed from requirements.txt inside the job, not in your notebook

files = os.listdir(os.environ["SM_CHANNEL_TRAIN"])
print("train channel:", tinyutils.describe(len(files)))
with open(os.path.join(os.environ["SM_MODEL_DIR"], "model.txt"), "w") as f:
    f.write("a very small model")
with open(os.path.join(os.environ["SM_OUTPUT_DATA_DIR"], "notes.txt"), "w") as f:
    f.write("anything else worth keeping")
