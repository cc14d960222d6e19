"""coordatt-bench --profile's attention section: what an attention network adds over the same
network without it, operator by operator, as a share of its profiled time."""

import json

from coordatt.bench.profile import (
    PROFILE_SCHEMA,
    render_attention_cost,
    render_profiles,
    write_profiles,
)


def _profile(model, operators, runtime="executorch-xnnpack", threads=1, size=(224, 224)):
    total = sum(ms for _, _, ms in operators)
    return {"model": model, "runtime": runtime, "threads": threads, "width_mult": 1.0,
            "input_size": list(size),
            "operators": [{"op": op, "calls": calls, "ms": ms,
                           "share": ms / total if total else 0.0}
                          for op, calls, ms in operators]}


PLAIN = _profile("mobilenetv2", [("GEMM", 35, 5.6), ("DWConv", 17, 1.3), ("Add", 10, 0.1)])
CA = _profile("mobilenetv2_ca", [("GEMM", 83, 5.7), ("DWConv", 17, 1.3), ("Multiply", 32, 0.4),
                                 ("Average Pooling", 32, 0.2), ("Add", 10, 0.1)])


def _row(text, op):
    (line,) = [ln for ln in text.splitlines() if ln.strip().startswith(op)]
    return line.split()


def test_the_attention_section_subtracts_the_baseline_operator_by_operator():
    text = render_attention_cost(CA, PLAIN)
    assert text.splitlines()[0].startswith("mobilenetv2_ca minus mobilenetv2 / executorch")
    assert _row(text, "Multiply")[-3:] == ["+32", "+0.400", "+5.2%"]  # 0.4 of 7.7 ms
    assert _row(text, "GEMM")[-3:] == ["+48", "+0.100", "+1.3%"]
    assert _row(text, "Average")[-3:] == ["+32", "+0.200", "+2.6%"]
    assert _row(text, "DWConv")[-3:] == ["+0", "+0.000", "+0.0%"]
    total = _row(text, "all operators")
    assert total[2:4] == ["+0.700", "+9.1%"]  # 7.7 - 7.0 ms = 9.1% of the CA network's 7.7
    # the largest additions first
    assert [ln.split()[0] for ln in text.splitlines()[2:5]] == ["Multiply", "Average", "GEMM"]


def test_render_profiles_pairs_only_the_same_runtime_threads_and_size():
    other_threads = _profile("mobilenetv2", [("GEMM", 35, 3.0)], threads=2)
    other_size = _profile("mobilenetv2", [("GEMM", 35, 1.0)], size=(112, 112))
    text = render_profiles({"a": CA, "b": other_threads, "c": other_size})
    assert "what the attention adds" not in text  # no baseline at 1 thread, 224x224
    text = render_profiles({"a": CA, "b": other_threads, "c": PLAIN})
    assert text.count("what the attention adds") == 1 and "+9.1%" in text
    assert render_profiles({"p": PLAIN}).count("what the attention adds") == 0


def test_profile_json_keeps_every_row(tmp_path):
    path = write_profiles({"x / executorch-xnnpack / 1 thread(s)": CA}, tmp_path / "profile.json",
                          {"isa": ["avx2"]})
    doc = json.loads(path.read_text())
    assert doc["schema"] == PROFILE_SCHEMA and doc["machine"] == {"isa": ["avx2"]}
    (p,) = doc["profiles"]
    assert p["label"].startswith("x /") and p["operators"] == CA["operators"]
    assert [f.name for f in tmp_path.iterdir()] == ["profile.json"]  # no temporary left


def test_an_empty_profile_has_no_share():
    empty = _profile("mobilenetv2_ca", [("GEMM", 1, 0.0)])
    text = render_attention_cost(empty, PLAIN)
    assert _row(text, "all operators")[2:4] == ["-7.000", "+0.0%"]
