"""Loading the official mbv2_ca.pth layout, our own state_dicts and safetensors; bad files."""

import copy
import pickle

import pytest
import torch
from official_mbv2_ca import OfficialMobileNetV2, randomize_bn
from safetensors.torch import save_file

import coordatt
from coordatt import CheckpointError
from coordatt.checkpoints import to_official_state_dict


def _official(width=1.0, ca=True, classifier_seq=True, seed=0):
    torch.manual_seed(seed)
    return randomize_bn(OfficialMobileNetV2(width_mult=width, ca=ca,
                                            classifier_seq=classifier_seq)).eval()


@pytest.fixture(scope="module")
def official_full(tmp_path_factory):
    """The reference network at 1.0x saved like the published mbv2_ca.pth."""
    ref = _official()
    path = tmp_path_factory.mktemp("ckpt") / "mbv2_ca.pth"
    torch.save(ref.state_dict(), path)
    return ref, path


def test_official_layout_key_names(official_full):
    ref, path = official_full
    keys = set(torch.load(path, weights_only=True))
    assert len(keys) == 490
    assert {"features.0.0.weight", "features.1.conv.3.weight", "features.17.conv.6.conv1.weight",
            "features.2.conv.6.bn1.running_var", "features.2.conv.6.conv3.bias",
            "features.17.conv.8.weight", "conv.0.weight", "conv.1.bias",
            "classifier.1.weight"} <= keys
    ours = coordatt.create_model("mobilenetv2_ca")
    assert set(to_official_state_dict(ours)) == keys


@pytest.mark.parametrize("size", [(224, 224), (256, 192)])
def test_official_checkpoint_gives_equal_logits(official_full, size):
    ref, path = official_full
    model = coordatt.create_model("mobilenetv2_ca", weights=path)
    assert not model.training
    x = torch.randn(2, 3, *size)
    with torch.no_grad():
        expected, got = ref(x), model(x)
        assert expected.std(0).mean() > 1e-2  # the logits depend on the input
        assert_same_logits(got, expected)
        # in float64 the rounding differences of the two formulations vanish: the mapping is exact
        ref64, model64 = copy.deepcopy(ref).double(), copy.deepcopy(model).double()
        diff64 = (ref64(x.double()) - model64(x.double())).abs().max().item()
    assert diff64 <= 1e-10


def assert_same_logits(got, expected):
    """Equal up to float32 rounding: max abs diff <= 1e-5 of the logits' scale (at least 1)."""
    scale = max(1.0, expected.abs().max().item())
    diff = (got - expected).abs().max().item()
    assert diff <= 1e-5 * scale, f"max abs diff {diff:.3g} at logit scale {scale:.3g}"


@pytest.mark.parametrize("variant", ["wrapped", "module_prefix", "flat_classifier",
                                     "safetensors", "own_keys", "plain_mobilenetv2"])
def test_checkpoint_variants(tmp_path, variant):
    ca = variant != "plain_mobilenetv2"
    ref = _official(width=0.5, ca=ca, classifier_seq=variant != "flat_classifier")
    state = ref.state_dict()
    path = tmp_path / "ckpt.pth"
    if variant == "wrapped":
        torch.save({"state_dict": state, "epoch": torch.tensor(150)}, path)
    elif variant == "module_prefix":
        torch.save({f"module.{k}": v for k, v in state.items()}, path)
    elif variant == "safetensors":
        path = tmp_path / "ckpt.safetensors"
        save_file({k: v.contiguous() for k, v in state.items()}, str(path))
    elif variant == "own_keys":
        own = coordatt.create_model("mobilenetv2_ca", width_mult=0.5, weights=None)
        coordatt.load_checkpoint(own, _save(tmp_path / "off.pth", state))
        torch.save(own.state_dict(), path)
    else:
        torch.save(state, path)
    name = "mobilenetv2_ca" if ca else "mobilenetv2"
    model = coordatt.create_model(name, width_mult=0.5, weights=path)
    x = torch.randn(2, 3, 96, 128)
    with torch.no_grad():
        assert_same_logits(model(x), ref(x))


def _save(path, obj):
    torch.save(obj, path)
    return path


def test_other_width_is_a_clear_error(tmp_path):
    path = _save(tmp_path / "w075.pth", _official(width=0.75).state_dict())
    with pytest.raises(CheckpointError, match=r"wrong shape, first stem\.conv\.weight .*"
                       r"stem has 24 channels, the model 32: it is for another width_mult"):
        coordatt.create_model("mobilenetv2_ca", width_mult=1.0, weights=path)


def test_ca_checkpoint_into_plain_model(tmp_path):
    path = _save(tmp_path / "ca.pth", _official(width=0.5).state_dict())
    with pytest.raises(CheckpointError, match="unexpected .*use mobilenetv2_ca"):
        coordatt.create_model("mobilenetv2", width_mult=0.5, weights=path)


def test_missing_keys_name_the_first(tmp_path):
    state = _official(width=0.5).state_dict()
    del state["features.3.conv.6.conv2.weight"]
    path = _save(tmp_path / "partial.pth", state)
    model = coordatt.create_model("mobilenetv2_ca", width_mult=0.5)
    before = {k: v.clone() for k, v in model.state_dict().items()}
    with pytest.raises(CheckpointError, match=r"missing 1 keys: blocks\.2\.attn\.conv_h\.weight"):
        coordatt.load_checkpoint(model, path)
    # all or nothing: the model was not touched
    assert all(torch.equal(v, model.state_dict()[k]) for k, v in before.items())


def test_other_class_count(tmp_path):
    ref = _official(width=0.5)
    ref.classifier[1] = torch.nn.Linear(1280, 10)
    path = _save(tmp_path / "c10.pth", ref.state_dict())
    with pytest.raises(CheckpointError, match="pass num_classes=10"):
        coordatt.create_model("mobilenetv2_ca", width_mult=0.5, weights=path)
    coordatt.create_model("mobilenetv2_ca", width_mult=0.5, num_classes=10, weights=path)


class _Evil:
    def __reduce__(self):
        return (print, ("this must never run",))


@pytest.mark.parametrize("content", ["truncated", "garbage", "empty", "pickle_object", "raw_pickle",
                                     "not_a_state_dict"])
def test_unreadable_files_are_one_line_errors(tmp_path, official_full, content, capsys):
    path = tmp_path / "bad.pth"
    if content == "truncated":
        path.write_bytes(official_full[1].read_bytes()[:100_000])
    elif content == "garbage":
        path.write_bytes(b"\x00garbage" * 100)
    elif content == "empty":
        path.write_bytes(b"")
    elif content == "pickle_object":
        torch.save({"x": _Evil()}, path)  # a checkpoint that would run code when unpickled
    elif content == "raw_pickle":
        path.write_bytes(pickle.dumps({"x": _Evil()}))
    else:
        torch.save({"weights": [1, 2, 3]}, path)
    with pytest.raises(CheckpointError) as e:
        coordatt.create_model("mobilenetv2_ca", width_mult=0.5, weights=path)
    assert "\n" not in str(e.value) and str(path) in str(e.value)
    assert "this must never run" not in capsys.readouterr().out
    if content == "pickle_object":
        assert "holds Python objects (print), not only tensors: refused" in str(e.value)


def test_missing_file(tmp_path):
    with pytest.raises(CheckpointError, match="checkpoint not found"):
        coordatt.create_model("mobilenetv2_ca", weights=tmp_path / "nope.pth")


def test_garbage_safetensors(tmp_path):
    path = tmp_path / "bad.safetensors"
    path.write_bytes(b"\xff" * 64)
    with pytest.raises(CheckpointError, match="not a readable checkpoint"):
        coordatt.create_model("mobilenetv2_ca", weights=path)
