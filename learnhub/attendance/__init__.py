"""Attendance: one record per learner and session, however it was taken, every change audited."""
