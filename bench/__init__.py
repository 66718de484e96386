"""`make bench`: accuracy and speed of the assistant against Rasa's default pipeline and a BM25 search box."""
