#!/usr/bin/env bash
# Installs the Debian packages Strata needs to build and test, when any is missing.
# Idempotent and quiet when everything is present; needs root (or sudo) to install.
set -euo pipefail
PKGS=(build-essential pkg-config clang libclang-rt-14-dev
      libmicrohttpd-dev libssl-dev libexpat1-dev libjansson-dev liblmdb-dev
      libisal-dev libzstd-dev libcurl4-openssl-dev
      python3 python3-boto3 python3-pytest awscli
      s3cmd rclone s3fs fuse3)   # the everyday clients of tests/integration/test_client_*.py
# `deps.sh bench`: only what `make bench` needs on top (nginx as the static-file reference;
# the build itself needs nothing new). `make test` never asks for these.
if [ "${1:-}" = bench ]; then PKGS=(nginx); fi
# Node.js and npm run the AWS SDK for JavaScript v3 (test_client_jssdk.py; the SDK itself comes
# from the npm registry, pinned by tests/clients/js/package-lock.json). A machine that has them
# from elsewhere (e.g. NodeSource's nodejs, which bundles npm) keeps its own.
if [ "${1:-}" != bench ]; then
    command -v node >/dev/null 2>&1 || PKGS+=(nodejs)
    command -v npm >/dev/null 2>&1 || PKGS+=(npm)
fi
missing=()
for p in "${PKGS[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0
echo "deps: installing ${missing[*]}" >&2
SUDO=""
if [ "$(id -u)" -ne 0 ]; then
    if command -v sudo >/dev/null; then SUDO=sudo; else
        echo "deps: missing packages (${missing[*]}) and not root; install them with apt-get" >&2; exit 1
    fi
fi
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -q >/dev/null
$SUDO apt-get install -y -q --no-install-recommends "${missing[@]}" >/dev/null
