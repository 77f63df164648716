"""The container contract: what a training script finds when SageMaker starts it.

One module per piece, after AWS's ``sagemaker-training`` toolkit:
``layout`` (the /opt/ml tree and its config files), ``arguments`` (hyperparameters to
command-line arguments), ``environment`` (the ``SM_*`` variables), ``guard`` (catches
literal /opt/ml paths), ``process`` (requirements.txt, then ``python train.py ARGS``),
``launcher`` (the container's first process: ends everything the script started, with it);
and the script-side libraries ``pipe_mode`` (``PipeModeDataset``) and ``fastfile``.
The platform (``sm_tutorial.platform``) decides *when* these run; this package says *what* the
script sees.
"""
