"""Organisational units: the tree of agencies, communes and wards, with history."""
