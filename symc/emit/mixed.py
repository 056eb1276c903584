"""Constructor expressions for mixed trivial/regular layers and position channels of image models."""
from __future__ import annotations

from ..groups import has_hue
from ..ir.fields import planar_kind


def mixed_expression(writer, data) -> list[str] | None:
    """The expression of an IR node that holds trivial fields or position channels; None for any other node."""
    op = data["op"]
    if op == "position":
        writer.used.add("ImagePositions2d")
        if data["kind"] == "coordinates":
            return ['ImagePositions2d("coordinates")']
        kind, n = planar_kind(writer.plan.symmetry.group)
        return [f'ImagePositions2d("{kind}", {n})']
    if op == "lift" and has_hue(writer.plan.symmetry.group) and ("in_trivial" in data or data["in_channels"] > 3):
        # RGB turned by hue, position channels left alone, trivial outputs blind to hue: see symc.nn.huemixed
        writer.used.add("HueMixedLift2d")
        channels = data["in_trivial"] if "in_trivial" in data else data["in_channels"]
        trivial, fields = data.get("out_trivial", 0), data["out_fields"]
        return [f"HueMixedLift2d({channels}, {trivial}, {fields}, {data['kernel']}, GROUP_SPATIAL, GROUP_HUE"
                f"{writer.conv_options(data)})"]
    if op in ("lift", "group_conv") and "in_trivial" in data:
        writer.used.add("MixedConv2d")
        bias = ", bias=True" if data.get("bias") else ""
        return [f"MixedConv2d({data['in_trivial']}, {data['in_fields']}, {data['out_trivial']}, "
                f"{data['out_fields']}, {data['kernel']}, GROUP_SPATIAL, GROUP_TABLE{bias}"
                f"{writer.conv_options(data)})"]
    if "trivial" in data and op == "norm":
        writer.used.add("MixedFieldNorm2d")
        return [f'MixedFieldNorm2d({data["trivial"]}, {data["fields"]}, GROUP_ORDER, "{data["kind"]}")']
    if "trivial" in data and op == "group_pool":
        writer.used.add("MixedGroupPool")
        return [f'MixedGroupPool({data["trivial"]}, {data["fields"]}, GROUP_ORDER, "{data["mode"]}")']
    if "in_trivial" in data and op == "field_linear":
        writer.used.add("MixedFieldLinear")
        return [f"MixedFieldLinear({data['in_trivial']}, {data['in_fields']}, {data['out_fields']}, GROUP_ORDER)"]
    return None
