# mtproto2json in a container: the single executable on a small glibc base, as a non-root user.
#   docker build -t mtproto2json .
#   docker run --env-file mtproto2json.env -p 127.0.0.1:1543:1543 -v mtproto2json:/data mtproto2json
# A compose example and an environment file example are in docs/deploy/.

# Build: deno compile in Deno's own image (the Deno version this repository pins).
FROM denoland/deno:2.9.6 AS build
WORKDIR /src
COPY . .
RUN deno compile --allow-read --allow-write --allow-env --allow-net \
      --output /out/mtproto2json main.ts \
 && mkdir -p /out/data

# Run: distroless (glibc, no shell, no package manager), user nonroot (65532).
FROM gcr.io/distroless/cc-debian12:nonroot
COPY --from=build /out/mtproto2json /usr/local/bin/mtproto2json
COPY --from=build --chown=65532:65532 /out/data /data
USER nonroot
# Listening beyond loopback needs a token: give MTPROTO2JSON_TOKEN in the environment.
ENV MTPROTO2JSON_HOST=0.0.0.0 \
    MTPROTO2JSON_PORT=1543 \
    MTPROTO2JSON_STATE=/data
VOLUME /data
EXPOSE 1543
STOPSIGNAL SIGTERM
# A health request of the JSON protocol ({"health": {}}), with the same token.
HEALTHCHECK --interval=30s --timeout=5s --start-period=10s --retries=3 \
  CMD ["mtproto2json", "health", "--host", "127.0.0.1"]
ENTRYPOINT ["mtproto2json"]
CMD ["serve"]
