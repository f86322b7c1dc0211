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
#: A module was created (from files or the browser), with its first version: sender=module.
#: Its quiz is made in the same transaction.
module_created = _signals.signal("module-created")
#: A module is about to be published: sender=module, version=ModuleVersion. A receiver returns
#: a message saying what is missing (the publication is refused), or None.
module_publishing = _signals.signal("module-publishing")
