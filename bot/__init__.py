"""Health FAQ assistant library: condition store, ingestion, answers and safety.

Nothing here knows about Rasa except the package :mod:`bot.rasa` (one module per Rasa extension point).
"""
