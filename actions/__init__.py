"""The action server's package. Its logs, like the Rasa server's, hold no personal data in clear."""

from privacy import logs

logs.install()
