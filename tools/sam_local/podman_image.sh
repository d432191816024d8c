#!/usr/bin/env bash
# The container engine for `sam local` where no Docker engine runs (these machines): Debian's podman with
# runc, the Lambda python3.12 base image built offline, and the Docker-compatible API on a socket.
#
#   bash tools/sam_local/podman_image.sh install      # apt-get podman, runc, debootstrap (idempotent)
#   bash tools/sam_local/podman_image.sh image PYTHON # build + tag the base image once (cached)
#
# No image can be pulled here, so the image `sam local` wants (public.ecr.aws/lambda/python:3.12-x86_64) is
# made from Debian packages: debootstrap --variant=minbase bookworm, the host's Python 3.12 copied to
# /var/lang (with an ld.so.conf entry for its libpython), awslambdaric and boto3 (the Lambda runtime ships
# boto3) in /var/runtime, and /var/runtime/bootstrap running `python3.12 -m awslambdaric "$_HANDLER"`.
# SAM adds its own emulator (aws-lambda-rie, from its wheel) and the layers on top at each invoke.
set -euo pipefail

IMAGE=${SAM_LOCAL_IMAGE:-public.ecr.aws/lambda/python:3.12-x86_64}
SUDO=$([ "$(id -u)" = 0 ] || echo sudo)

die() { echo "sam-local: $*" >&2; exit 1; }

install() {
  local missing=()
  command -v podman >/dev/null || missing+=(podman)
  command -v runc >/dev/null || missing+=(runc)
  command -v debootstrap >/dev/null || [ -x /usr/sbin/debootstrap ] || missing+=(debootstrap)
  command -v newuidmap >/dev/null || missing+=(uidmap)
  command -v slirp4netns >/dev/null || missing+=(slirp4netns)
  command -v fuse-overlayfs >/dev/null || missing+=(fuse-overlayfs)
  [ -d /usr/lib/cni ] || [ -d /usr/lib/podman ] && command -v iptables >/dev/null || missing+=(containernetworking-plugins iptables)
  if [ ${#missing[@]} -gt 0 ]; then
    echo "sam-local: installing ${missing[*]} (apt-get)" >&2
    $SUDO apt-get update -qq || die "apt-get update failed"
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends \
      podman runc debootstrap uidmap slirp4netns fuse-overlayfs containernetworking-plugins iptables \
      >/dev/null || die "apt-get install ${missing[*]} failed"
  fi
  # The sandbox's rlimits and hybrid cgroups break podman's defaults ("setrlimit RLIMIT_NOFILE: Operation
  # not permitted", "cgroups in hybrid mode not supported" from crun): lower ulimits and runc.
  local conf=/etc/containers/containers.conf
  if ! grep -qs '^runtime *= *"runc"' "$conf" || ! grep -qs '^default_ulimits' "$conf"; then
    echo "sam-local: writing $conf (runtime runc, default_ulimits)" >&2
    $SUDO mkdir -p /etc/containers
    $SUDO tee "$conf" >/dev/null <<'CONF'
# Written by tools/sam_local/podman_image.sh: the sandbox's rlimits and hybrid cgroups break the defaults.
[containers]
default_ulimits = ["nofile=20000:20000", "nproc=32768:32768"]

[engine]
runtime = "runc"
CONF
  fi
}

image() {
  local python=${1:?the Python 3.12 to copy into the image}
  if podman image exists "$IMAGE"; then
    echo "sam-local: $IMAGE exists (cached; podman rmi it to rebuild)" >&2
    return 0
  fi
  python=$(command -v "$python") || die "no Python $1"
  local prefix version
  prefix=$("$python" -c 'import sys; print(sys.base_prefix)')
  version=$("$python" -c 'import sys; print(f"{sys.version_info[0]}.{sys.version_info[1]}")')
  [ "$version" = 3.12 ] || die "$python is Python $version; the image needs 3.12 (the template's runtime)"
  [ -x "$prefix/bin/python3.12" ] || die "no $prefix/bin/python3.12"
  case $prefix in
    /usr | /usr/local | /) die "$python is installed in $prefix with the system's files: use a self-contained build (pyenv) with SAM_LOCAL_PYTHON" ;;
  esac
  local work
  work=$(mktemp -d /var/tmp/sam-local-rootfs.XXXXXX)
  # shellcheck disable=SC2064
  trap "rm -rf '$work'" RETURN
  local root=$work/rootfs
  echo "sam-local: debootstrap --variant=minbase bookworm (about 2 min, once)" >&2
  $SUDO debootstrap --variant=minbase \
    --include=ca-certificates,libssl3,libffi8,libsqlite3-0,libbz2-1.0,liblzma5,zlib1g,libuuid1,libexpat1,libreadline8,libncursesw6,libgomp1,libstdc++6 \
    bookworm "$root" "${DEBIAN_MIRROR:-http://deb.debian.org/debian}" >"$work/debootstrap.log" 2>&1 \
    || { tail -20 "$work/debootstrap.log" >&2; die "debootstrap failed (log above)"; }
  echo "sam-local: copying Python $version from $prefix to /var/lang" >&2
  $SUDO mkdir -p "$root/var/lang" "$root/var/runtime" "$root/var/task" "$root/opt"
  $SUDO cp -a "$prefix/." "$root/var/lang/"
  # Not what a function needs: the test suite, caches, the interpreter's own pip and site-packages.
  $SUDO rm -rf "$root/var/lang/lib/python3.12/test" "$root/var/lang/lib/python3.12/site-packages"/*
  $SUDO find "$root/var/lang" -name __pycache__ -prune -exec rm -rf {} +
  echo /var/lang/lib | $SUDO tee "$root/etc/ld.so.conf.d/var-lang.conf" >/dev/null
  $SUDO chroot "$root" /sbin/ldconfig
  $SUDO ln -sf /var/lang/bin/python3.12 "$root/usr/local/bin/python3.12"
  $SUDO ln -sf /var/lang/bin/python3.12 "$root/usr/local/bin/python3"
  echo "sam-local: pip install awslambdaric boto3 into /var/runtime" >&2
  "$python" -m pip install --quiet --disable-pip-version-check --no-compile --target "$work/runtime" \
    "awslambdaric==${AWSLAMBDARIC_VERSION:-4.2.2}" boto3 || die "pip install awslambdaric boto3 failed"
  $SUDO cp -a "$work/runtime/." "$root/var/runtime/"
  $SUDO tee "$root/var/runtime/bootstrap" >/dev/null <<'BOOT'
#!/bin/sh
# The Lambda Python runtime's bootstrap, as aws-lambda-rie starts it: the handler from /var/task, the
# layers' packages from /opt/python, the runtime's (awslambdaric, boto3) from /var/runtime.
export PYTHONPATH="/var/task:/opt/python/lib/python3.12/site-packages:/opt/python:/var/runtime${PYTHONPATH:+:$PYTHONPATH}"
cd "${LAMBDA_TASK_ROOT:-/var/task}"
exec /var/lang/bin/python3.12 -m awslambdaric "$_HANDLER"
BOOT
  $SUDO chmod 755 "$root/var/runtime/bootstrap"
  $SUDO chroot "$root" /var/lang/bin/python3.12 -c 'import ssl, sqlite3, ctypes, lzma, bz2, zlib, uuid' \
    || die "the copied Python lacks a shared library in the image"
  echo "sam-local: podman import as $IMAGE" >&2
  $SUDO tar -C "$root" -c . | podman import \
    --change 'ENV LANG=C.UTF-8' \
    --change 'ENV TZ=:/etc/localtime' \
    --change 'ENV PATH=/var/lang/bin:/usr/local/bin:/usr/bin:/bin:/opt/bin' \
    --change 'ENV LD_LIBRARY_PATH=/var/lang/lib:/lib64:/usr/lib64:/var/runtime:/var/runtime/lib:/var/task:/var/task/lib:/opt/lib' \
    --change 'ENV LAMBDA_TASK_ROOT=/var/task' \
    --change 'ENV LAMBDA_RUNTIME_DIR=/var/runtime' \
    --change 'WORKDIR /var/task' \
    --change 'ENTRYPOINT ["/var/runtime/bootstrap"]' \
    - "$IMAGE" >/dev/null || die "podman import failed"
  echo "sam-local: $IMAGE built" >&2
}

case ${1:-} in
  install) install ;;
  image) image "${2:?the Python 3.12 to copy}" ;;
  *) die "usage: $0 install | image PYTHON" ;;
esac
