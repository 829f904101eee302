"""The architecture zoo: one file per architecture under `zoo/`, each registering itself by name."""
