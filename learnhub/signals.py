"""Signals between domains: a lower domain announces, a higher one listens (no upward imports)."""

from blinker import Namespace

_signals = Namespace()

#: A learner read a lesson: sender=user, module=Module.
lesson_read = _signals.signal("lesson-read")
#: An attempt got its final score: sender=attempt.
attempt_graded = _signals.signal("attempt-graded")
#: A learner's attendance changed: sender=user, training_class=TrainingClass.
attendance_changed = _signals.signal("attendance-changed")
#: A user signed in through the sign-in form: sender=user (within the request).
signed_in = _signals.signal("signed-in")
#: A learner completed a class (the Completion row was just added): sender=completion.
completion_recorded = _signals.signal("completion-recorded")
