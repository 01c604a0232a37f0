"""Cell broadcast: CAP to 3GPP TS 23.041 messages and pages, CBSP to a BSC, REST to a CBC.

Re-exported lazily: Shapely and numpy load only when used.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

_EXPORTS = {
    "CellBroadcastGateway": "gateways.cell_broadcast.gateway",
    "CbsProfile": "gateways.cell_broadcast.mapping",
    "map_alert": "gateways.cell_broadcast.mapping",
    "load_profile": "gateways.cell_broadcast.mapping",
    "SerialNumber": "gateways.cell_broadcast.serial",
    "SerialAllocator": "gateways.cell_broadcast.serial",
    "encode_pages": "gateways.cell_broadcast.pages",
    "decode_page": "gateways.cell_broadcast.pages",
    "CellTable": "gateways.cell_broadcast.cells",
    "encode": "gateways.cell_broadcast.cbsp",
    "decode": "gateways.cell_broadcast.cbsp",
    "CbspDecoder": "gateways.cell_broadcast.cbsp",
    "WriteReplace": "gateways.cell_broadcast.cbsp",
    "Kill": "gateways.cell_broadcast.cbsp",
    "CbspLink": "gateways.cell_broadcast.cbsp_link",
    "CbspClient": "gateways.cell_broadcast.cbsp_transport",
    "CbspServer": "gateways.cell_broadcast.cbsp_transport",
    "EcbeClient": "gateways.cell_broadcast.ecbe",
}

__all__ = [
    "CbsProfile",
    "CbspClient",
    "CbspDecoder",
    "CbspLink",
    "CbspServer",
    "CellBroadcastGateway",
    "CellTable",
    "EcbeClient",
    "Kill",
    "SerialAllocator",
    "SerialNumber",
    "WriteReplace",
    "decode",
    "decode_page",
    "encode",
    "encode_pages",
    "load_profile",
    "map_alert",
]

if TYPE_CHECKING:
    from gateways.cell_broadcast.cbsp import CbspDecoder, Kill, WriteReplace, decode, encode
    from gateways.cell_broadcast.cbsp_link import CbspLink
    from gateways.cell_broadcast.cbsp_transport import CbspClient, CbspServer
    from gateways.cell_broadcast.cells import CellTable
    from gateways.cell_broadcast.ecbe import EcbeClient
    from gateways.cell_broadcast.gateway import CellBroadcastGateway
    from gateways.cell_broadcast.mapping import CbsProfile, load_profile, map_alert
    from gateways.cell_broadcast.pages import decode_page, encode_pages
    from gateways.cell_broadcast.serial import SerialAllocator, SerialNumber


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'gateways.cell_broadcast' has no attribute {name!r}")
    return getattr(importlib.import_module(module), name)
