FROM docker-registry.wikimedia.org/bookworm:20240901 AS test
USER 0
ENV HOME="/root"
ENV DEBIAN_FRONTEND="noninteractive"
RUN apt-get update && apt-get install -y "python3" "python3-venv" "python3-dev" "build-essential" && rm -rf /var/lib/apt/lists/*
ARG LIVES_AS="somebody"
ARG LIVES_UID=65533
ARG LIVES_GID=65533
RUN (getent group "$LIVES_GID" || groupadd -o -g "$LIVES_GID" -r "$LIVES_AS") && (getent passwd "$LIVES_UID" || useradd -l -o -m -d "/home/$LIVES_AS" -r -g "$LIVES_GID" -u "$LIVES_UID" "$LIVES_AS") && mkdir -p "/srv/app" && chown "$LIVES_UID":"$LIVES_GID" "/srv/app" && mkdir -p "/opt/lib" && chown "$LIVES_UID":"$LIVES_GID" "/opt/lib"
ARG RUNS_AS="runuser"
ARG RUNS_UID=900
ARG RUNS_GID=900
RUN (getent group "$RUNS_GID" || groupadd -o -g "$RUNS_GID" -r "$RUNS_AS") && (getent passwd "$RUNS_UID" || useradd -l -o -m -d "/home/$RUNS_AS" -r -g "$RUNS_GID" -u "$RUNS_UID" "$RUNS_AS")
USER $LIVES_UID
ENV HOME="/home/somebody"
WORKDIR "/srv/app"
COPY --chown=$LIVES_UID:$LIVES_GID ["requirements.txt", "test-requirements.txt", "./"]
RUN python3 -m venv "/opt/lib/venv"
ENV PATH="/opt/lib/venv/bin:$PATH" VIRTUAL_ENV="/opt/lib/venv"
RUN python3 -m pip install -U "setuptools!=60.9.0" && python3 -m pip install -U "wheel" "tox" "pip"
RUN python3 -m pip install -r "requirements.txt" -r "test-requirements.txt"
COPY --chown=$LIVES_UID:$LIVES_GID [".", "."]
USER $RUNS_UID
ENV HOME="/home/$RUNS_AS"
ENTRYPOINT ["tox", "-e", "py3"]

LABEL blubber.variant="test" blubber.version="test"
