"""CAP profiles: the extra rules of US IPAWS v1.0, Canada's CAP-CP, Australia's CAP-AU and
MeteoAlarm, checked on top of CAP itself."""

from cap.profiles.base import Profile
from cap.profiles.registry import PROFILES, get_profile

__all__ = ["PROFILES", "Profile", "get_profile"]
