# The action server: rasa-sdk's image, the version actions/requirements.txt pins, actions/, the
# content it answers with (content/) and the masking of its logs (privacy/).
# Built from the project's root: docker compose -f deploy/docker-compose.yml build
FROM rasa/rasa-sdk:3.6.2
WORKDIR /app
COPY actions/requirements.txt /app/actions/requirements.txt
USER root
RUN pip install --no-cache-dir -r /app/actions/requirements.txt
USER 1001
COPY --chown=1001 content/ /app/content/
COPY --chown=1001 privacy/ /app/privacy/
COPY --chown=1001 actions/ /app/actions/
EXPOSE 5055
# The image's entrypoint runs `python -m rasa_sdk` with these arguments.
CMD ["start", "--actions", "actions", "--port", "5055"]
