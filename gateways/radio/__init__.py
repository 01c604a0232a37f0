"""Radio gateways: SAME/EAS audio for broadcasters and weather radios, APRS for amateur nets."""
