"""Channel gateways: cell broadcast, SMS modems, SAME/APRS radio, MQTT (the gateway issues)."""
