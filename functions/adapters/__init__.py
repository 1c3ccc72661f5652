"""The only code that talks to AWS or the outside world."""
