"""Readers and writers of LearnHub's file formats: GIFT, Moodle XML, lesson Markdown, module.toml.

This package sits at the bottom of the code base: it imports nothing of the domain (no models,
no database, no Flask app), only the standard library and text libraries. Content sync, the
question-bank import and the question editor all read and write files through it. Parsed
questions are the plain dataclasses of `learnhub.formats.question`, one neutral representation for
every question type the quiz supports.
"""
