"""SMS through GSM modems: GSM 03.38 and UCS-2 text, SMS-SUBMIT PDUs, the AT dialogue."""
