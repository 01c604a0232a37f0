"""The SAME code lists an IPAWS alert draws on: ORG, event (EEE) and state (SS) codes.

From 47 CFR 11.31 (2010 edition, sections (d), (e), (f)) plus the three event codes of FCC
16-80 (2016). Later FCC additions are kept apart as unconfirmed: an event code outside both
sets is reported as a warning only, because the list may have grown since.
"""

from __future__ import annotations

from typing import Final

ORIGINATORS: Final = frozenset({"EAS", "CIV", "WXR", "PEP"})

# National codes, 11.31(e).
NATIONAL_EVENTS: Final = frozenset({"EAN", "EAT", "NIC", "NPT", "RMT", "RWT"})

# State and local codes, 11.31(e), and the 2016 additions (FCC 16-80: EWW, SSA, SSW).
LOCAL_EVENTS: Final = frozenset(
    {
        "ADR", "AVW", "AVA", "BZW", "CAE", "CDW", "CEM", "CFW", "CFA", "DSW", "EQW", "EVI",
        "FRW", "FFW", "FFA", "FFS", "FLW", "FLA", "FLS", "HMW", "HWW", "HWA", "HUW", "HUA",
        "HLS", "LEW", "LAE", "NMN", "TOE", "NUW", "DMO", "RHW", "SVR", "SVA", "SVS", "SPW",
        "SMW", "SPS", "TOR", "TOA", "TRW", "TRA", "TSW", "TSA", "VOW", "WSW", "WSA",
        "EWW", "SSA", "SSW",
    }
)  # fmt: skip

# Seen in later practice but not confirmed against the current eCFR here.
UNCONFIRMED_EVENTS: Final = frozenset({"BLU", "MEP", "SQW"})

KNOWN_EVENTS: Final = NATIONAL_EVENTS | LOCAL_EVENTS | UNCONFIRMED_EVENTS

# Tests that still go on air and so still need status Actual (ECIG guide 3.9).
TEST_EVENTS: Final = frozenset({"RMT", "RWT", "NPT", "DMO", "NMN"})

# SS: states, territories (11.31(f)) and marine areas.
STATES: Final = frozenset(
    {
        "01", "02", "04", "05", "06", "08", "09", "10", "11", "12", "13", "15", "16", "17",
        "18", "19", "20", "21", "22", "23", "24", "25", "26", "27", "28", "29", "30", "31",
        "32", "33", "34", "35", "36", "37", "38", "39", "40", "41", "42", "44", "45", "46",
        "47", "48", "49", "50", "51", "53", "54", "55", "56",
    }
)  # fmt: skip
TERRITORIES: Final = frozenset({"60", "64", "66", "68", "70", "72", "74", "78"})
MARINE_AREAS: Final = frozenset(
    {"57", "58", "59", "61", "65", "73", "75", "77", "91", "92", "93", "94", "96", "97", "98"}
)
KNOWN_STATE_CODES: Final = STATES | TERRITORIES | MARINE_AREAS

# SAME location 000000 stands for all of the United States and its territories.
WHOLE_COUNTRY: Final = "000000"
# At most 31 location codes fit in one SAME header (11.31(c)).
MAX_LOCATIONS: Final = 31
