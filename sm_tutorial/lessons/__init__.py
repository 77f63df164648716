"""The exercises of each lesson: ``from sm_tutorial.lessons import lesson1 as ex``."""
