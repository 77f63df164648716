"""The exercises of each lesson: ``from sm_tutorial.course.lessons import lesson1 as ex``."""
