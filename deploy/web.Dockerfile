# The web page with the chat widget: the widget exactly as web/package-lock.json pins it (npm ci,
# no install scripts), served by nginx. The page talks to the chat's nginx on port 5005 of its host.
# Built from the project's root: docker compose -f deploy/docker-compose.yml build
FROM node:20-bookworm-slim AS widget
WORKDIR /web
COPY web/package.json web/package-lock.json ./
RUN npm ci --ignore-scripts --no-audit --no-fund --loglevel=error

FROM nginx:1.26
COPY web/index.html web/chat.js web/site.css /usr/share/nginx/html/
COPY --from=widget /web/node_modules/rasa-webchat/lib/index.js /usr/share/nginx/html/node_modules/rasa-webchat/lib/index.js
