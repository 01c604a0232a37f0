"""Channel gateways: cell broadcast, SMS modems, SAME/APRS radio, MQTT (built by the gateway issues)."""
