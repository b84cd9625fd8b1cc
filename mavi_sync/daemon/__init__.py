"""`mavi-sync run`: the service: wiring the parts, signals, reload, systemd's protocol."""
