"""The command line, ``sm-tutorial``: ``main`` (its commands), ``doctor`` (the machine
check), ``lab`` (JupyterLab set up for the course)."""
