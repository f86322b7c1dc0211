"""Quizzes: the question bank, quiz settings, attempts that never lose an answer, grading."""
