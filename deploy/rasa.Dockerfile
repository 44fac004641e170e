# The Rasa server: Rasa's own image, this project's channels (channels/, whose fallback answer comes
# from content/), the NLU components and policy the model names (components/, with the language
# identifier they use, at the version constraints.txt pins), the tracker store that masks personal
# data (privacy/, with its detectors, pinned the same way) and the trained model. A new model is a
# new image: docs/deploy.md rolls it out.
# Built from the project's root: docker compose -f deploy/docker-compose.yml build
FROM rasa/rasa:3.6.21
WORKDIR /app
COPY --chown=1001 constraints.txt /app/constraints.txt
RUN pip install --no-cache-dir -c /app/constraints.txt py3langid phonenumbers python-stdnum pyap
COPY --chown=1001 components/ /app/components/
COPY --chown=1001 privacy/ /app/privacy/
COPY --chown=1001 channels/ /app/channels/
COPY --chown=1001 content/ /app/content/
COPY --chown=1001 credentials.yml /app/credentials.yml
COPY --chown=1001 deploy/endpoints.yml /app/endpoints.yml
COPY --chown=1001 models/cops.tar.gz /app/models/cops.tar.gz
ENV RASA_TELEMETRY_ENABLED=false
EXPOSE 5005
