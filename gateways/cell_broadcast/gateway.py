"""The ``cbs`` gateway: an alert as 3GPP cell broadcast messages, to a BSC over CBSP or to a
Cell Broadcast Centre over osmo-cbc's REST API.

``prepare`` maps each info block to a message identifier (the channel's country profile),
takes its serial number from the allocator (the same alert always gets the same serial, so a
retry or a restart repeats it; an Update bumps the update number of its chain's message code),
builds the pages and picks the cells that cover the area. ``deliver`` sends WRITE-REPLACE (with
the old serial for an Update, so phones replace the earlier message) and records which cells
took it. Withdrawing (a Cancel, or expiry) KILLs every message of the alert's chain and frees
its serials; the kill results are the receipts.
"""

from __future__ import annotations

import gc
import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from gateways.base import (
    AlertEnvelope,
    CannotCarryError,
    ChannelMessage,
    GatewayConfigError,
    MessagePurpose,
    PermanentGatewayError,
    Receipt,
    ReceiptStatus,
)
from gateways.cell_broadcast.cbsp import (
    Category,
    CbsContent,
    CellList,
    Cgi,
    Page,
    WriteReplace,
)
from gateways.cell_broadcast.cbsp_transport import CbspClient, CbspServer, CbspTransport
from gateways.cell_broadcast.cells import CellTable
from gateways.cell_broadcast.ecbe import CategoryName, EcbeClient, EcbeMessage, EncodedPayload
from gateways.cell_broadcast.mapping import CbsProfile, load_profile, map_alert
from gateways.cell_broadcast.pages import build_pages as _build_pages
from gateways.cell_broadcast.pages import plan_pages, text_octets
from gateways.cell_broadcast.serial import SerialAllocator, SerialNumber

_KNOWN = (
    "profile",
    "cells_file",
    "bleed_m",
    "cbsp",
    "ecbe",
    "cbe_name",
    "serials_file",
    "repetition_period",
    "broadcasts",
    "category",
)
_ECBE_CATEGORY: dict[Category, CategoryName] = {
    Category.HIGH_PRIORITY: "high_priority",
    Category.NORMAL: "normal",
    Category.BACKGROUND: "background",
}
_CATEGORIES = {
    "high": Category.HIGH_PRIORITY,
    "normal": Category.NORMAL,
    "background": Category.BACKGROUND,
}
REPETITION_UNIT_S = 1.883  # TS 48.049 8.2.8: the repetition period counts 1.883 s slots


def repetition_units(seconds: float) -> int:
    """The repetition period in CBSP's 1.883 s units (1 to 4095), rounded to the nearest."""
    return max(1, min(4095, round(seconds / REPETITION_UNIT_S)))


class CellBroadcastGateway:
    kind = "cbs"
    can_withdraw = True  # KILL

    def __init__(self, channel: str, options: Mapping[str, Any]) -> None:
        where = f"channel {channel!r} (cbs gateway)"
        unknown = sorted(set(options) - set(_KNOWN))
        if unknown:
            raise GatewayConfigError(
                f"{where}: unknown option(s) {', '.join(unknown)}; known: {', '.join(_KNOWN)}"
            )
        self.channel = channel
        self.profile: CbsProfile = load_profile(str(options.get("profile", "eu-alert")))
        self.bleed_m = float(options.get("bleed_m", 0.0))
        self.repetition = repetition_units(float(options.get("repetition_period", 60)))
        self.broadcasts = int(options.get("broadcasts", 0))
        category = str(options.get("category", "high"))
        if category not in _CATEGORIES:
            raise GatewayConfigError(f"{where}: 'category' is one of {', '.join(_CATEGORIES)}")
        self.category = _CATEGORIES[category]
        self.cells: CellTable | None = None
        if "cells_file" in options:
            self.cells = CellTable.read_csv(Path(str(options["cells_file"])))
            gc.freeze()  # the table's objects are long-lived: keep collections from walking them
        serials = options.get("serials_file")
        if not isinstance(serials, str) or not serials:
            raise GatewayConfigError(
                f"{where}: 'serials_file' names the SQLite file that keeps serial numbers "
                'across restarts, e.g. serials_file = "cbs-serials.db"'
            )
        self.serials = SerialAllocator(Path(serials))
        self.cbsp: CbspTransport | None = None
        self.ecbe: EcbeClient | None = None
        self.cbe_name = str(options.get("cbe_name", "tocsin"))
        if "cbsp" in options:
            kind, _, address = str(options["cbsp"]).partition(":")
            host, _, port = address.rpartition(":")
            if kind not in ("tcp", "listen") or not host or not port.isdigit():
                raise GatewayConfigError(
                    f"{where}: 'cbsp' is \"tcp:HOST:PORT\" (connect to a BSC listening for its "
                    'CBC, e.g. osmo-bsc\'s cbc server) or "listen:HOST:PORT" (wait for the BSC)'
                )
            self.cbsp = (CbspClient if kind == "tcp" else CbspServer)(host, int(port))
        elif "ecbe" in options:
            self.ecbe = EcbeClient(str(options["ecbe"]))
        else:
            raise GatewayConfigError(
                f'{where}: say where messages go: cbsp = "tcp:HOST:48049" (a BSC) or '
                'ecbe = "http://HOST:12345" (osmo-cbc\'s REST API)'
            )

    # --- prepare --------------------------------------------------------------------------

    def prepare(self, envelope: AlertEnvelope, purpose: MessagePurpose) -> list[ChannelMessage]:
        alert = envelope.alert
        if purpose is MessagePurpose.WITHDRAW:
            active = self.serials.active(alert)
            kills = [{"message_id": m.message_id, "serial": m.serial.encode()} for m in active]
            body = json.dumps({"kill": kills}).encode()
            return [ChannelMessage(self.channel, "cbs-kill", purpose, body, "application/json")]
        plans = map_alert(alert, self.profile)
        if not plans:
            raise CannotCarryError(
                "nothing to broadcast: a Cancel takes messages back (KILL), it is not one itself"
            )
        messages: list[ChannelMessage] = []
        for plan in plans:
            info = alert.infos[plan.info_index]
            cells: list[list[object]] | None = None
            if self.cells is not None:
                selection = self.cells.cells_for(info.areas, bleed_m=self.bleed_m)
                if not selection.cells:
                    raise CannotCarryError(
                        f"info {plan.info_index + 1}: no cell of the cell table covers its area "
                        f"({'; '.join(a.area_desc for a in info.areas) or 'no area'}); widen "
                        "bleed_m or check the table"
                    )
                cells = [[c.mcc, c.mnc, c.lac, c.ci] for c in selection.cgis()]
            allocation = self.serials.allocate(
                alert, plan.message_id, slot=plan.slot, geo_scope=plan.geo_scope
            )
            page_plan = plan_pages(
                plan.text.text, language=plan.language, language_prefix=plan.language_prefix
            )
            pages = _build_pages(
                plan.text.text,
                language=plan.language,
                message_id=plan.message_id,
                serial=allocation.serial,
                language_prefix=plan.language_prefix,
            )
            payload = {
                "message_id": plan.message_id,
                "serial": allocation.serial.encode(),
                "old_serial": allocation.previous.encode() if allocation.previous else None,
                "dcs": pages[0].dcs,
                "pages": [p.content.hex() for p in pages],
                "lengths": [text_octets(chunk, page_plan.coding) for chunk in page_plan.pages],
                "cells": cells,
                "language": plan.language,
                "text": plan.text.text,
            }
            messages.append(
                ChannelMessage(
                    self.channel,
                    f"cbs/{plan.message_id}/{plan.slot}",
                    purpose,
                    json.dumps(payload, ensure_ascii=False).encode(),
                    "application/json",
                    {"message_id": str(plan.message_id), "pages": str(len(pages))},
                )
            )
        return messages

    # --- deliver --------------------------------------------------------------------------

    def deliver(self, message: ChannelMessage) -> Receipt:
        payload = json.loads(message.payload)
        if "kill" in payload:
            return self._kill(payload["kill"])
        pages = [bytes.fromhex(p) for p in payload["pages"]]
        serial = int(payload["serial"])
        old = payload["old_serial"]
        reference = f"{payload['message_id']}/{SerialNumber.decode(serial)}"
        if self.ecbe is not None:
            ecbe_message = EcbeMessage(
                message_id=int(payload["message_id"]),
                serial=serial,
                payload=EncodedPayload(int(payload["dcs"]), tuple(pages)),
                repetition_period=self.repetition,
                num_of_bcast=self.broadcasts,
                category=_ECBE_CATEGORY[self.category],
                cbe_name=self.cbe_name,
            )
            (self.ecbe.replace if old is not None else self.ecbe.create)(ecbe_message)
            return Receipt(ReceiptStatus.SENT, reference, "handed to the CBC (whole network)")
        assert self.cbsp is not None
        cells = (
            CellList.of(
                [Cgi(str(m), str(n), int(lac), int(ci)) for m, n, lac, ci in payload["cells"]]
            )
            if payload["cells"] is not None
            else CellList.all_in_bss()
        )
        request = WriteReplace(
            message_id=int(payload["message_id"]),
            new_serial=serial,
            cells=cells,
            content=CbsContent(
                pages=tuple(
                    Page(page, length)
                    for page, length in zip(pages, payload["lengths"], strict=True)
                ),
                dcs=int(payload["dcs"]),
                repetition_period=self.repetition,
                broadcasts_requested=self.broadcasts,
                category=self.category,
            ),
            old_serial=int(old) if old is not None else None,
        )
        result = self._started().write_replace(request)
        taken = len(result.cells) + len(result.already_on_air)
        if result.failures and not taken:
            causes = ", ".join(str(f) for f in result.failures[:5])
            raise PermanentGatewayError(
                f"message {reference}: every cell refused it ({causes}); check the cell table "
                "against the BSC's configuration"
            )
        detail = ""
        if result.failures:
            causes = ", ".join(str(f) for f in result.failures[:5])
            detail = f"{len(result.failures)} cell(s) refused it: {causes}"
        return Receipt(ReceiptStatus.CONFIRMED, f"{reference} on {taken} cell(s)", detail)

    def _kill(self, kills: list[dict[str, int]]) -> Receipt:
        if not kills:
            return Receipt(ReceiptStatus.CONFIRMED, "nothing on air to kill")
        done: list[str] = []
        for kill in kills:
            message_id, serial = int(kill["message_id"]), int(kill["serial"])
            if self.ecbe is not None:
                self.ecbe.delete(message_id)
            else:
                result = self._started().kill(message_id, serial)
                if result.failures:
                    causes = ", ".join(str(f) for f in result.failures[:5])
                    raise PermanentGatewayError(
                        f"KILL {message_id}/{SerialNumber.decode(serial)} refused: {causes}"
                    )
            self.serials.release_message(message_id, SerialNumber.decode(serial))
            done.append(f"{message_id}/{SerialNumber.decode(serial)}")
        return Receipt(ReceiptStatus.CONFIRMED, "killed " + ", ".join(done))

    def _started(self) -> CbspTransport:
        assert self.cbsp is not None
        if not self.cbsp.is_up:
            self.cbsp.start()
            self.cbsp.wait_until_up()
        return self.cbsp

    def close(self) -> None:
        if self.cbsp is not None:
            self.cbsp.close()
