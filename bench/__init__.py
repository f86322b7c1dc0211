"""LearnHub benchmarks (`make bench`): each workload against a baseline measured in the same run."""
