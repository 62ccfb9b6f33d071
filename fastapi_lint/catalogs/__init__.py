"""Data, not logic: the APIs rules know about. Adding a library is a line here."""
