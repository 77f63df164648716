"""The platform: a local stand-in for the SageMaker training service behind a real endpoint.

``endpoint`` serves the AWS wire protocol on 127.0.0.1 (moto for S3, CloudWatch Logs, IAM, STS;
``api`` for the training-job actions), ``service`` keeps the jobs, ``validation`` rejects what
AWS rejects, ``runner`` carries one job through its lifecycle, using ``storage`` (S3),
``channels`` (input modes), ``artifacts`` (tarballs) and ``cloudwatch`` (logs); ``disk`` words
a full or read-only workspace, ``orphans`` ends the jobs of a dead endpoint. What the script
sees inside the job is ``sm_tutorial.container``.
"""
