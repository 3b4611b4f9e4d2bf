"""听风 tingfeng: the shell that wires collectors, nlp, alerts, dashboard and storage."""

__version__ = "0.1.0"
