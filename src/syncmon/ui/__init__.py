"""The Textual dashboard (SPEC §8). Imported only by `syncmon tui` / `syncmon demo`."""
