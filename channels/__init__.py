"""Input channels of this assistant: Rasa's own, with the project's settings applied."""
