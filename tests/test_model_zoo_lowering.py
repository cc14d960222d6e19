"""Every registered network lowers to one XNNPACK delegate with no portable operator, fp32 and
int8 (ExecuTorch's own XNNPACK model tests assert the same).

Lowering time grows with the number of operators, not with width or input size, so the default
suite lowers each network with a shallow block table that still holds every kind of block and
operator the full network has (MobileNetV2: the t=1 block, a strided and a residual expanding
block; MobileNeXt: the t=2 block, a keep-3x3 block, a block without its first depthwise conv and
a residual one, hence attention both present and absent). The full-depth networks are lowered
under the ``full_zoo`` marker (``make test-full``): measured on this 2-core machine, 10-30 s
each fp32 and 20-60 s int8, too long for every submission.
"""

import pytest
import torch

import coordatt

SHALLOW = {
    "mobilenetv2": ((1, 16, 1, 1), (6, 24, 2, 2)),  # t, c, n, s
    "mobilenext": ((2, 96, 1, 2), (6, 144, 1, 1), (6, 192, 2, 2)),
}
NAMES = coordatt.list_models()


def _network(name: str, shallow: bool):
    torch.manual_seed(0)
    settings = SHALLOW[name.split("_")[0]] if shallow else None
    kwargs = {"settings": settings} if settings else {}
    return coordatt.create_model(name, width_mult=0.35, **kwargs).eval(), torch.randn(1, 3, 64, 64)


def _lower(name: str, shallow: bool, int8: bool) -> dict:
    pytest.importorskip("executorch")
    from coordatt.export.pte import lower_to_pte
    from coordatt.export.quantize import quantize_int8

    model, x = _network(name, shallow)
    program = quantize_int8(model, x, [torch.randn(1, 3, 64, 64) for _ in range(2)]) if int8 \
        else torch.export.export(model, (x,), strict=True)
    return lower_to_pte(program, x)[1]


def test_shallow_tables_keep_every_block_kind():
    from coordatt.mobilenext import _block_specs

    kinds = {(first, last) for *_, first, last in _block_specs(SHALLOW["mobilenext"], 0.35)}
    assert kinds == {(True, True), (False, True)}  # with and without the first depthwise conv
    mnv2 = coordatt.create_model("mobilenetv2_ca", settings=SHALLOW["mobilenetv2"])
    assert [b.use_residual for b in mnv2.blocks] == [False, False, True]


@pytest.mark.parametrize("int8", [False, True], ids=["fp32", "int8"])
@pytest.mark.parametrize("name", NAMES)
def test_lowers_to_one_xnnpack_delegate(name, int8):
    report = _lower(name, shallow=True, int8=int8)
    assert (report["delegates"], report["non_delegated_ops"]) == (1, 0), report


@pytest.mark.full_zoo
@pytest.mark.parametrize("int8", [False, True], ids=["fp32", "int8"])
@pytest.mark.parametrize("name", NAMES)
def test_full_depth_lowers_to_one_xnnpack_delegate(name, int8):
    report = _lower(name, shallow=False, int8=int8)
    assert (report["delegates"], report["non_delegated_ops"]) == (1, 0), report
