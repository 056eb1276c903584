"""Constructor expressions for the scale layers of image models (symc.nn.scale). Pure text, no torch."""
from __future__ import annotations


def scale_expression(used: set[str], data) -> list[str]:
    """The layer for a scale IR node; adds the runtime definitions it needs to `used`."""
    op = data["op"]
    if op == "scale_lift" and data.get("hue"):
        used.add("HueScaleLift2d")
        return [f"HueScaleLift2d({data['in_channels']}, {data['out_fields']}, {data['kernel']}, GROUP_SPATIAL, "
                f"GROUP_HUE, {data['scales']})"]
    if op == "scale_lift":
        used.add("ScaleLift2d")
        return [f"ScaleLift2d({data['in_channels']}, {data['out_fields']}, {data['kernel']}, GROUP_SPATIAL, "
                f"{data['scales']})"]
    if op == "scale_conv":
        used.add("ScaleGroupConv2d")
        return [f"ScaleGroupConv2d({data['in_fields']}, {data['out_fields']}, {data['kernel']}, GROUP_SPATIAL, "
                f"GROUP_TABLE, {data['scales']}, {data['window']})"]
    used.add("ScalePool")
    return [f'ScalePool({data["scales"]}, "{data["mode"]}")']
