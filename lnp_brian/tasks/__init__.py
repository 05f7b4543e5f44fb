"""What a reservoir is for: datasets (generated, never downloaded), readouts, metrics, the
series and image task runners, the echo-state baseline and task-agnostic reservoir quality.
"""
