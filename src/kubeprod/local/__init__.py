"""The embedded local cloud (moto) and its lifecycle."""
