"""Health FAQ assistant library: condition store, ingestion, answers and safety.

Nothing here knows about Rasa except :mod:`bot.rasa_adapters`.
"""
