"""The client: what runs in the learner's kernel and talks to SageMaker, as the SDK does.

``sdk`` sets up the real SageMaker SDK v2 (``session()``, ``role()``, the simulated mode's
endpoint), ``local_settings`` keeps the environment variables simulated mode sets and undoes
them, ``aws_mode`` is the same SDK on a real account with guardrails (``prices`` for its cost
estimate), ``trainer`` the session the SDK's ``ModelTrainer`` takes (``trainer_session()``); ``results`` (downloads, safe extraction), ``logs`` (a job's log read back from
CloudWatch Logs) and ``local_jobs`` (the job folders of the simulated service) read a job's
results back. The service they talk to is ``sm_tutorial.platform``.
"""
