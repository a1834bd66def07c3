"""The network as an ONNX model (deploy/export.py): ONNX Runtime gives PyTorch's output at any size from one model,
the check catches a model that is not the network, the axes are named, and a network of many styles keeps its mix
as a second input. No training: networks with their random initial weights. Tiny sizes throughout."""

from __future__ import annotations

import pytest
import torch
from realtime_support import conditional, tiny_network

from tutorial_style.cli import main
from tutorial_style.deploy import ExportError
from tutorial_style.deploy.export import check_onnx, onnx_session, run_onnx
from tutorial_style.realtime.checkpoint import load_network
from tutorial_style.realtime.network import StyleNetwork

# --- a network of many styles: the mix as an input --------------------------------------------------------------------


@pytest.fixture(scope="module")
def exported_styles(tmp_path_factory):
    pytest.importorskip("onnxscript")
    pytest.importorskip("onnxruntime")
    from tutorial_style.deploy.export import export_onnx

    net = conditional(styles=["mosaic", "swirls", "wave"])
    return net, export_onnx(net, tmp_path_factory.mktemp("onnx") / "many.onnx")


def test_onnx_export_keeps_the_mix_as_an_input(exported_styles):
    from tutorial_style.deploy.export import INPUT, MIX, OUTPUT, check_onnx, onnx_session, run_onnx

    net, path = exported_styles
    session = onnx_session(path)
    inputs = [(i.name, i.shape) for i in session.get_inputs()]
    assert inputs == [(INPUT, ["batch", 3, "height", "width"]), (MIX, ["batch", 3])]
    assert [o.name for o in session.get_outputs()] == [OUTPUT]
    images = torch.rand(2, 3, 41, 30, generator=torch.Generator().manual_seed(9))
    results = []
    for mix in (torch.tensor([0.7, 0.3, 0.0]), torch.tensor([[0.0, 0.0, 1.0], [0.2, 0.5, 0.3]])):
        with torch.no_grad():
            expected = net(images, mix)
        got = run_onnx(session, images, mix)
        torch.testing.assert_close(got, expected, atol=1e-4, rtol=0)
        results.append(got)
    assert (results[0] - results[1]).abs().max() > 0.01  # the mix changes the picture in the model too
    assert check_onnx(path, net, mix=torch.tensor([0.1, 0.1, 0.8])) < 1e-4
    with pytest.raises(ValueError, match="this model holds 3 styles"):
        run_onnx(session, images)


def test_the_onnx_check_compares_mixes_too(exported_styles):
    from tutorial_style.deploy.export import ExportError, check_onnx

    net, path = exported_styles
    assert check_onnx(path, net) < 1e-4
    other = StyleNetwork(**net.config)
    other.load_state_dict(net.state_dict())
    with torch.no_grad():
        other.down[0][1].bias[2] += 0.5  # only "wave" differs
    assert check_onnx(path, other, mix=torch.tensor([0.5, 0.5, 0.0])) < 1e-4
    with pytest.raises(ExportError, match="differs from the network on images of shape .* and mix"):
        check_onnx(path, other)


# --- one network at several sizes, and the check ----------------------------------------------------------------------


@pytest.fixture(scope="module")
def exported(checkpoint, tmp_path_factory):
    """The checkpoint exported once through the command line (the export itself takes a few seconds)."""
    pytest.importorskip("onnxruntime")
    path = tmp_path_factory.mktemp("onnx") / "net.onnx"
    assert main(["export", str(checkpoint), "--onnx", str(path)]) == 0
    return path


def test_onnx_runtime_gives_pytorchs_output_at_several_sizes_from_one_exported_model(exported, checkpoint):
    import onnx

    model = onnx.load(str(exported))
    dims = [d.dim_param or d.dim_value for d in model.graph.input[0].type.tensor_type.shape.dim]
    assert dims[1] == 3 and all(isinstance(d, str) and d for d in (dims[0], dims[2], dims[3]))  # batch, height, width
    session = onnx_session(exported)
    net = load_network(checkpoint)
    for shape in [(1, 3, 33, 47), (3, 3, 16, 24), (1, 3, 6, 2)]:  # odd sizes, a multiple of 4, smaller than the kernel
        images = torch.rand(shape)
        with torch.inference_mode():
            expected = net(images)
        got = run_onnx(session, images)
        assert got.shape == expected.shape
        torch.testing.assert_close(got, expected, atol=1e-4, rtol=0)
    assert sorted(p.name for p in exported.parent.iterdir()) == ["net.onnx"]  # written atomically: no temporary left


def test_the_export_check_catches_a_model_that_is_not_the_network(exported, checkpoint, tmp_path):
    copy = tmp_path / "other.onnx"
    copy.write_bytes(exported.read_bytes())
    assert check_onnx(copy, load_network(checkpoint)) < 1e-4
    with pytest.raises(ExportError, match="differs from the network"):
        check_onnx(copy, tiny_network(seed=1))


# --- the axes' names (issue 21) ---------------------------------------------------------------------------------------


def test_the_onnx_models_output_axes_are_named_as_the_inputs(tmp_path):
    """Found in issue 21's review (a new user's first hour)."""
    pytest.importorskip("onnxscript")
    onnx = pytest.importorskip("onnx")
    from tutorial_style.deploy.export import export_onnx

    path = export_onnx(StyleNetwork(width=0.25, blocks=1), tmp_path / "net.onnx", check=False)
    model = onnx.load(str(path))
    shape = lambda value: [d.dim_param or d.dim_value for d in value.type.tensor_type.shape.dim]  # noqa: E731
    assert shape(model.graph.input[0]) == shape(model.graph.output[0]) == ["batch", 3, "height", "width"]
