FROM docker-registry.wikimedia.org/nodejs20-devel AS prep
USER 0
ENV HOME="/root"
ENV DEBIAN_FRONTEND="noninteractive"
RUN apt-get update && apt-get install -y "git" "build-essential" "python3-pkg-resources" && rm -rf /var/lib/apt/lists/*
ARG LIVES_AS="somebody"
ARG LIVES_UID=65533
ARG LIVES_GID=65533
RUN (getent group "$LIVES_GID" || groupadd -o -g "$LIVES_GID" -r "$LIVES_AS") && (getent passwd "$LIVES_UID" || useradd -l -o -m -d "/home/$LIVES_AS" -r -g "$LIVES_GID" -u "$LIVES_UID" "$LIVES_AS") && mkdir -p "/srv/service" && chown "$LIVES_UID":"$LIVES_GID" "/srv/service" && mkdir -p "/opt/lib" && chown "$LIVES_UID":"$LIVES_GID" "/opt/lib"
ARG RUNS_AS="runuser"
ARG RUNS_UID=900
ARG RUNS_GID=900
RUN (getent group "$RUNS_GID" || groupadd -o -g "$RUNS_GID" -r "$RUNS_AS") && (getent passwd "$RUNS_UID" || useradd -l -o -m -d "/home/$RUNS_AS" -r -g "$RUNS_GID" -u "$RUNS_UID" "$RUNS_AS")
USER $LIVES_UID
ENV HOME="/home/somebody"
WORKDIR "/srv/service"
ENV APP_BASE_PATH="/srv/service" LINK="g++"
COPY --chown=$LIVES_UID:$LIVES_GID ["package.json", "package-lock.json", "./"]
RUN npm install --only=production && npm dedupe
USER $RUNS_UID
ENV HOME="/home/$RUNS_AS"
ENV NODE_ENV="production"

FROM docker-registry.wikimedia.org/nodejs20-slim AS production
USER 0
ENV HOME="/root"
ARG LIVES_AS="somebody"
ARG LIVES_UID=65533
ARG LIVES_GID=65533
RUN (getent group "$LIVES_GID" || groupadd -o -g "$LIVES_GID" -r "$LIVES_AS") && (getent passwd "$LIVES_UID" || useradd -l -o -m -d "/home/$LIVES_AS" -r -g "$LIVES_GID" -u "$LIVES_UID" "$LIVES_AS") && mkdir -p "/srv/service" && chown "$LIVES_UID":"$LIVES_GID" "/srv/service" && mkdir -p "/opt/lib" && chown "$LIVES_UID":"$LIVES_GID" "/opt/lib"
ARG RUNS_AS="runuser"
ARG RUNS_UID=900
ARG RUNS_GID=900
RUN (getent group "$RUNS_GID" || groupadd -o -g "$RUNS_GID" -r "$RUNS_AS") && (getent passwd "$RUNS_UID" || useradd -l -o -m -d "/home/$RUNS_AS" -r -g "$RUNS_GID" -u "$RUNS_UID" "$RUNS_AS")
USER $LIVES_UID
ENV HOME="/home/somebody"
WORKDIR "/srv/service"
ENV APP_BASE_PATH="/srv/service"
COPY --chown=$LIVES_UID:$LIVES_GID --from=prep ["/srv/service/node_modules", "node_modules"]
COPY --chown=$LIVES_UID:$LIVES_GID ["package-lock.json", "package.json", "server.js", "./"]
COPY --chown=$LIVES_UID:$LIVES_GID ["lib/", "lib/"]
USER $RUNS_UID
ENV HOME="/home/$RUNS_AS"
ENV NODE_ENV="production"
ENTRYPOINT ["node", "server.js"]

LABEL blubber.variant="production" blubber.version="test"
