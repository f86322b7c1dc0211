"""Classes (lớp bồi dưỡng): a run of a module with its roster and its sessions (buổi học)."""
