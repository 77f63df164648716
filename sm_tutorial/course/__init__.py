"""The course: what the lessons use on top of the client.

``lessons`` (each lesson's exercises), ``exercises`` (checks, hints, the learner's blank
``____``), ``widgets`` (job timeline, container tree, hyperparameter explorer),
``measure`` (File/FastFile/Pipe mode measured), ``course_data`` (the digits data set),
``learner`` (learner copies of the lessons and the workspace that keeps them).
"""
