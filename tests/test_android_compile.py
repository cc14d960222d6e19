"""Compile check of the Android demo app (android_demo/) without an Android SDK.

Runs with COORDATT_ANDROID_COMPILE=1 (every test skips otherwise, and skips with a reason when a
tool is missing); `make android-check-setup` (scripts/android_check_setup.sh) installs what it
needs.

- javac compiles the app's plain-Java packages (runtime, artifact, bench, classify, check, eval)
  against the real ExecuTorch and ONNX Runtime Java classes, Gson, and nothing Android, so they stay
  free of Android. LiteRT's classes come from no package here: the LiteRT runner compiles against
  signature stubs (tests/android_support/litert_stubs, labelled as such);
- javac compiles the Android-facing classes (activities, bitmap input, device info, phone state)
  against hand-written stubs of the android.* signatures they use (tests/android_support/stubs:
  stubs, not Android) and a BuildConfig generated from gradle/libs.versions.toml, as AGP would;
- the JUnit tests under android_demo/app/src/test run (junit4 jar from Debian's junit4 package);
- tests/test_android_app_logic.py runs the compiled plain-Java classes through AppCheck and
  compares them with Python (the same build, shared: tests/android_support/javac_build.py);
- aapt2 links the resources and manifest against Android's real framework resource table
  (Debian's android-framework-res); the manifest is checked against the compiled classes.

Network: the ExecuTorch and ONNX Runtime classes come from two npm packages, fetched with
`npm pack` into COORDATT_ANDROID_CACHE (default ~/.cache/coordatt/android-compile) once.

Not covered: a Gradle build (AGP, D8, dependency resolution from Maven), Android's Java library
level (javac uses JDK 17's), LiteRT's real classes, and running on a device.
"""

from __future__ import annotations

import os
import re
import sys
import zipfile
from pathlib import Path
from xml.etree import ElementTree

import pytest
from android_support import javac_build
from android_support.javac_build import (
    APP,
    APP_PACKAGE_DIR,
    DEMO,
    FRAMEWORK_RES,
    GSON_JAR,
    JUNIT_JARS,
    NS_ANDROID,
    PLAIN_PACKAGES,
    ROOT,
    TEST_JAVA,
    run,
    sources,
    tool,
)
from android_support.sidecars import (
    imagenet_names,
)

pytestmark = pytest.mark.skipif(
    os.environ.get("COORDATT_ANDROID_COMPILE") != "1",
    reason="Android compile check runs with COORDATT_ANDROID_COMPILE=1 (make android-check-setup "
    "installs javac's inputs: junit4, gson, android-framework-res, aapt2, the npm runtime classes)",
)


@pytest.fixture(scope="module")
def runtime_jars() -> list[str]:
    return javac_build.runtime_jars()


@pytest.fixture(scope="module")
def build(tmp_path_factory) -> dict[str, Path]:
    return javac_build.compiled_app(tmp_path_factory)



def test_plain_packages_import_nothing_from_android() -> None:
    for pkg in PLAIN_PACKAGES:
        for src in (APP_PACKAGE_DIR / pkg).rglob("*.java"):
            assert not re.search(r"^import android", src.read_text(), re.M), src


def test_app_compiles(build) -> None:
    for name in ("MainActivity", "BenchmarkActivity", "BitmapInput", "DeviceInfo", "ModelLibrary",
                 "PhoneState"):
        assert (build["app"] / "org" / "coordatt" / "demo" / f"{name}.class").exists(), name
    for name in ("runtime/ExecuTorchRunner", "runtime/OrtRunner", "runtime/LiteRtRunner",
                 "bench/LatencyStats", "bench/BenchmarkRun", "check/CheckVerdict",
                 "eval/EvalTally"):
        assert (build["plain"] / "org" / "coordatt" / "demo" / f"{name}.class").exists(), name
    # nothing from the stubs may end up beside the app's classes
    assert not list(build["app"].rglob("android/**/*.class"))
    assert not list(build["app"].rglob("org/tensorflow/**/*.class"))


def test_ort_aar_has_the_xnnpack_execution_provider(runtime_jars) -> None:
    # OrtRunner compiled against it; this names the method the onnxruntime-xnnpack rows rely on.
    javap = tool("javap")
    out = run([javap, "-cp", runtime_jars[1], "ai.onnxruntime.OrtSession$SessionOptions"]).stdout
    assert "void addXnnpack(java.util.Map<java.lang.String, java.lang.String>)" in out


def test_junit_tests(build) -> None:
    jars = [j for j in JUNIT_JARS if Path(j).exists()]
    if len(jars) < len(JUNIT_JARS):
        pytest.skip("junit4 jar not found (Debian: apt-get install junit4)")
    out = build["plain"].parent / "unit"
    out.mkdir(exist_ok=True)
    cp = os.pathsep.join([str(build["plain"]), str(GSON_JAR), *jars])
    run([tool("javac"), "--release", "17", "-d", str(out), "-cp", cp, *sources(TEST_JAVA)])
    classes = sorted(
        str(p.relative_to(TEST_JAVA).with_suffix("")).replace(os.sep, ".")
        for p in TEST_JAVA.rglob("*Test.java")
    )
    assert len(classes) >= 5, classes
    java = tool("java")
    result = run([java, "-cp", os.pathsep.join([str(out), cp]), "org.junit.runner.JUnitCore",
                   *classes])
    match = re.search(r"^OK \((\d+) tests\)", result.stdout, re.M)
    assert match and int(match.group(1)) >= 20, result.stdout


def test_resources_link_with_aapt2_against_the_framework(tmp_path) -> None:
    aapt2 = tool("aapt2")
    if not FRAMEWORK_RES.is_file():
        pytest.skip(f"{FRAMEWORK_RES} not found (Debian: apt-get install android-framework-res)")
    res = APP / "src" / "main" / "res"
    run([aapt2, "compile", "--dir", str(res), "-o", str(tmp_path / "res.zip")])
    # AGP writes the package from build.gradle.kts's namespace into the merged manifest.
    manifest = (APP / "src" / "main" / "AndroidManifest.xml").read_text()
    merged = tmp_path / "AndroidManifest.xml"
    merged.write_text(manifest.replace("<manifest ", '<manifest package="org.coordatt.demo" ', 1))
    apk = tmp_path / "resources.apk"
    # Every @string, @android:style and android: attribute must resolve against the real
    # framework resource table (Android 10's, API 29: nothing newer is used in resources).
    run([aapt2, "link", "-I", str(FRAMEWORK_RES), "--manifest", str(merged), "--min-sdk-version",
          "26", "--target-sdk-version", "35", "--version-code", "1", "--version-name", "0.1.0",
          "-o", str(apk), str(tmp_path / "res.zip")])
    with zipfile.ZipFile(apk) as z:
        assert {"AndroidManifest.xml", "resources.arsc"} <= set(z.namelist())
    dump = run([aapt2, "dump", "xmltree", "--file", "AndroidManifest.xml", str(apk)]).stdout
    assert "android.permission.DUMP" in dump and "org.coordatt.demo" in dump


def test_manifest_names_compiled_activities(build) -> None:
    manifest = ElementTree.parse(APP / "src" / "main" / "AndroidManifest.xml").getroot()
    gradle = (APP / "build.gradle.kts").read_text()
    assert (
        'namespace = "org.coordatt.demo"' in gradle
        and 'applicationId = "org.coordatt.demo"' in gradle
    )
    strings_xml = ElementTree.parse(APP / "src" / "main" / "res" / "values" / "strings.xml")
    strings = {e.get("name") for e in strings_xml.getroot()}
    activities = {a.get(NS_ANDROID + "name"): a for a in manifest.iter("activity")}
    assert set(activities) == {".MainActivity", ".BenchmarkActivity"}
    for name, activity in activities.items():
        assert (build["app"] / "org/coordatt/demo" / f"{name[1:]}.class").exists(), name
        assert activity.get(NS_ANDROID + "exported") == "true", name
        changes = set(activity.get(NS_ANDROID + "configChanges").split("|"))
        assert {"smallestScreenSize", "uiMode", "density", "screenSize", "orientation"} <= changes
    # only the shell (which holds DUMP) may start a benchmark run
    assert activities[".BenchmarkActivity"].get(NS_ANDROID + "permission") == (
        "android.permission.DUMP")
    assert activities[".MainActivity"].get(NS_ANDROID + "permission") is None
    launcher = activities[".MainActivity"].find("intent-filter/category")
    assert (
        launcher is not None
        and launcher.get(NS_ANDROID + "name") == "android.intent.category.LAUNCHER"
    )
    for element in manifest.iter():
        for value in element.attrib.values():
            if value.startswith("@string/"):
                assert value[len("@string/") :] in strings, value


def test_versions_are_pinned_and_match_python() -> None:
    import tomllib

    catalog = tomllib.loads((DEMO / "gradle" / "libs.versions.toml").read_text())
    for name, version in catalog["versions"].items():
        assert re.fullmatch(r"\d+(\.\d+)+", version), (
            f"{name} = {version!r} is not a pinned release"
        )
    for path in [*DEMO.rglob("*.kts"), DEMO / "gradle" / "libs.versions.toml"]:
        text = re.sub(r"(#|//)[^\n]*", "", path.read_text())  # code, not comments
        assert "latest.release" not in text and not re.search(r":\+\"|\.\+\"", text), path
    pyproject = (ROOT / "pyproject.toml").read_text()
    python_et = re.search(r'"executorch==([\d.]+)"', pyproject)
    assert python_et, "pyproject.toml pins no executorch"
    assert catalog["versions"]["executorch"].split(".")[:2] == python_et.group(1).split(".")[:2]
    assert tuple(map(int, catalog["versions"]["onnxruntime"].split("."))) >= (1, 14)  # opset 18
    assert catalog["libraries"]["litert"]["module"] == "com.google.ai.edge.litert:litert"
    assert catalog["libraries"]["gson"]["module"] == "com.google.code.gson:gson"
    gradle = (APP / "build.gradle.kts").read_text()
    assert "implementation(libs.litert)" in gradle and "implementation(libs.gson)" in gradle
    wrapper = (DEMO / "gradle" / "wrapper" / "gradle-wrapper.properties").read_text()
    assert re.search(r"gradle-8\.\d+(\.\d+)?-bin\.zip", wrapper)
    assert catalog["versions"]["agp"].startswith("8.")


def test_imagenet_labels_file() -> None:
    # The list that coordatt-export writes inline into ImageNet sidecars; the app has no copy.
    labels = imagenet_names()
    assert len(labels) == 1000 and all(labels)
    assert labels[0].startswith("tench") and labels[281].startswith("tabby")
    # ImageNet itself names two classes alike (the bird and the machine): names need not be unique
    assert labels[134] == labels[517] == "crane"
    assert not list(APP.rglob("imagenet_labels*"))


def test_assets() -> None:
    assets = APP / "src" / "main" / "assets"
    sample = assets / "chelsea.jpg"
    assert sample.stat().st_size < 300_000
    Image = pytest.importorskip("PIL.Image")
    with Image.open(sample) as im:
        assert im.format == "JPEG" and im.mode == "RGB"


if __name__ == "__main__":
    sys.exit(pytest.main([__file__, "-v"]))
